#!/bin/sh
# icmp_rtt.sh: ICMP echo through netd against the Linux kernel, in one run.
#   netd:   the kernel pings netd across a TAP device (netd on the TAP).
#   kernel: the kernel pings the kernel across a veth pair.
# For each: round-trip time p50 and p99 over ROUNDS x COUNT pings at a
# fixed interval, and the echo rate of `ping -f` for FLOOD echoes. The two
# sides alternate round by round so machine noise hits both alike; the
# figures are medians over rounds, and the ratios netd/kernel are printed.
# Run as root from a build tree (NETD_BIN overrides the daemon's path).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
NETD_BIN=${NETD_BIN:-$here/../build/plain/netd/netd}
ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-400}
FLOOD=${FLOOD:-20000}

[ "$(id -u)" = 0 ] || { echo "icmp_rtt: run as root" >&2; exit 1; }
[ -x "$NETD_BIN" ] || { echo "icmp_rtt: no netd at $NETD_BIN (tools/test builds it)" >&2; exit 1; }

tag=$$
NS_T="netd-bench-$tag-tap"
NS_A="netd-bench-$tag-a"
NS_B="netd-bench-$tag-b"
tmp=$(mktemp -d /tmp/netd-bench.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for ns in "$NS_T" "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

setup() {
	for ns in "$NS_T" "$NS_A" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip netns exec "$NS_T" "$NETD_BIN" -d -i tap:btap0 -a 10.99.0.2/24 >"$tmp/netd.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do grep -q "running on" "$tmp/netd.log" && break; sleep 0.1; done
	ip -n "$NS_T" addr add 10.99.0.1/24 dev btap0
	ip link add bv-a netns "$NS_A" type veth peer name bv-b netns "$NS_B"
	ip -n "$NS_A" addr add 10.99.1.1/24 dev bv-a
	ip -n "$NS_B" addr add 10.99.1.2/24 dev bv-b
	ip -n "$NS_A" link set bv-a up
	ip -n "$NS_B" link set bv-b up
	# warm up both paths (ARP, caches)
	ip netns exec "$NS_T" ping -c 3 -i 0.01 -q 10.99.0.2 >/dev/null
	ip netns exec "$NS_A" ping -c 3 -i 0.01 -q 10.99.1.2 >/dev/null
}

# rtts NS DST: prints one round's per-echo times in microseconds, sorted.
rtts() {
	ip netns exec "$1" ping -c "$COUNT" -i 0.002 -W 1 "$2" |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | awk '{printf "%d\n", $1 * 1000}' | sort -n
}

# pct FILE P: the P-th percentile of a sorted file of numbers.
pct() {
	n=$(wc -l <"$1")
	awk -v p="$2" -v n="$n" 'NR == int((n - 1) * p / 100) + 1 {print; exit}' "$1"
}

# flood_rate NS DST: echoes per second under ping -f.
flood_rate() {
	ip netns exec "$1" ping -f -q -c "$FLOOD" -W 1 "$2" |
		awk -F'[ ,]+' '/packets transmitted/ {for (i = 1; i <= NF; i++) if ($i == "received") r = $(i - 1); \
			for (i = 1; i <= NF; i++) if ($i ~ /ms$/) t = $i} END {sub("ms", "", t); printf "%d\n", r / (t / 1000)}'
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

setup
for r in $(seq "$ROUNDS"); do
	for side in netd kernel; do
		if [ $side = netd ]; then ns=$NS_T dst=10.99.0.2; else ns=$NS_A dst=10.99.1.2; fi
		rtts "$ns" "$dst" >"$tmp/$side.$r"
		pct "$tmp/$side.$r" 50 >>"$tmp/$side.p50"
		pct "$tmp/$side.$r" 99 >>"$tmp/$side.p99"
		flood_rate "$ns" "$dst" >>"$tmp/$side.flood"
	done
done

row() {
	a=$(median <"$tmp/netd.$1")
	b=$(median <"$tmp/kernel.$1")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
	printf '%-28s %12s %12s %8s\n' "$2" "$a" "$b" "$ratio"
}

printf '\nICMP echo, medians of %s rounds (%s pings per round, %s per flood)\n' \
	"$ROUNDS" "$COUNT" "$FLOOD"
printf '%-28s %12s %12s %8s\n' "" "netd (TAP)" "kernel (veth)" "netd/kernel"
row p50 "RTT p50 (us)"
row p99 "RTT p99 (us)"
row flood "ping -f rate (echoes/s)"
grep -E "ICMP_IN_ECHOS|drop" "$tmp/netd.log" | sed 's/^/# /' || true
