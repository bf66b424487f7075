# lib.sh: what the benchmarks share. Two paths measured in one run:
#   netd:   a kernel client in namespace $NS_T reaches netd (10.99.0.2)
#           across the TAP device btap0; netd runs its built-in services.
#   kernel: a kernel client in $NS_A reaches the kernel in $NS_B
#           (10.99.1.2) across a veth pair; netbench serves there.
# Figures are medians over rounds that alternate the two paths, printed
# with the ratio netd/kernel. Everything made here is removed on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build/plain}
NETD_BIN=${NETD_BIN:-$BUILD/netd/netd}
NETBENCH=${NETBENCH:-$BUILD/bench/netbench}
ROUNDS=${ROUNDS:-5}

[ "$(id -u)" = 0 ] || { echo "$0: run as root" >&2; exit 1; }
[ -x "$NETD_BIN" ] || { echo "$0: no netd at $NETD_BIN (tools/test builds it)" >&2; exit 1; }

tag=$$
NS_T="netd-bench-$tag-tap"
NS_A="netd-bench-$tag-a"
NS_B="netd-bench-$tag-b"
NETD_ADDR=10.99.0.2
KERNEL_ADDR=10.99.1.2
tmp=$(mktemp -d /tmp/netd-bench.XXXXXX)
NETD_SOCKET=$tmp/netd.sock	# programs on libnetclient find this netd here
export NETD_SOCKET
pids=""
# Runs on every exit; set -e must not cut it short (wait on a killed
# process is non-zero).
cleanup() {
	set +e
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ns in "$NS_T" "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

bench_setup() {
	for ns in "$NS_T" "$NS_A" "$NS_B"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip netns exec "$NS_T" "$NETD_BIN" -d -s echo,discard,chargen -i tap:btap0 \
		-a $NETD_ADDR/24 -S "$NETD_SOCKET" >"$tmp/netd.log" 2>&1 &
	NETD_PID=$!
	pids="$pids $!"
	for _ in $(seq 50); do grep -qs "running on" "$tmp/netd.log" && break; sleep 0.1; done
	ip -n "$NS_T" addr add 10.99.0.1/24 dev btap0
	ip link add bv-a netns "$NS_A" type veth peer name bv-b netns "$NS_B"
	ip -n "$NS_A" addr add 10.99.1.1/24 dev bv-a
	ip -n "$NS_B" addr add $KERNEL_ADDR/24 dev bv-b
	ip -n "$NS_A" link set bv-a up
	ip -n "$NS_B" link set bv-b up
	if [ -x "$NETBENCH" ]; then
		ip netns exec "$NS_B" "$NETBENCH" serve echo 7 >/dev/null 2>&1 &
		pids="$pids $!"
		ip netns exec "$NS_B" "$NETBENCH" serve discard 9 >/dev/null 2>&1 &
		pids="$pids $!"
	fi
	# warm up both paths (ARP, caches)
	ip netns exec "$NS_T" ping -c 3 -i 0.01 -q $NETD_ADDR >/dev/null
	ip netns exec "$NS_A" ping -c 3 -i 0.01 -q $KERNEL_ADDR >/dev/null
}

# addr_of SIDE: the server address of SIDE (netd|kernel).
addr_of() { if [ "$1" = netd ]; then echo $NETD_ADDR; else echo $KERNEL_ADDR; fi; }

# on SIDE CMD...: runs CMD in the client namespace of SIDE.
on() {
	if [ "$1" = netd ]; then ns=$NS_T; else ns=$NS_A; fi
	shift
	ip netns exec "$ns" "$@"
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# record SIDE METRIC VALUE: one round's figure.
record() { echo "$3" >>"$tmp/$1.$2"; }

# row METRIC LABEL: the medians of both sides and their ratio.
row() {
	a=$(median <"$tmp/netd.$1")
	b=$(median <"$tmp/kernel.$1")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
	printf '%-30s %14s %14s %12s\n' "$2" "$a" "$b" "$ratio"
}

header() {
	printf '\n%s (medians of %s rounds)\n' "$1" "$ROUNDS"
	printf '%-30s %14s %14s %12s\n' "" "netd (TAP)" "kernel (veth)" "netd/kernel"
}
