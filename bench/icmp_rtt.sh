#!/bin/sh
# icmp_rtt.sh: ICMP echo through netd against the Linux kernel, in one run:
# round-trip time p50 and p99 over COUNT pings per round at a fixed
# interval, and the echo rate of `ping -f` for FLOOD echoes. See lib.sh
# for the two paths. Run as root.
. "$(dirname "$0")/lib.sh"
COUNT=${COUNT:-400}
FLOOD=${FLOOD:-20000}

# rtts SIDE: one round's per-echo times in microseconds, sorted.
rtts() {
	on "$1" ping -c "$COUNT" -i 0.002 -W 1 "$(addr_of "$1")" |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | awk '{printf "%d\n", $1 * 1000}' | sort -n
}

# pct FILE P: the P-th percentile of a sorted file of numbers.
pct() {
	n=$(wc -l <"$1")
	awk -v p="$2" -v n="$n" 'NR == int((n - 1) * p / 100) + 1 {print; exit}' "$1"
}

# flood_rate SIDE: echoes per second under ping -f.
flood_rate() {
	on "$1" ping -f -q -c "$FLOOD" -W 1 "$(addr_of "$1")" |
		awk -F'[ ,]+' '/packets transmitted/ {for (i = 1; i <= NF; i++) if ($i == "received") r = $(i - 1); \
			for (i = 1; i <= NF; i++) if ($i ~ /ms$/) t = $i} END {sub("ms", "", t); printf "%d\n", r / (t / 1000)}'
}

bench_setup
for r in $(seq "$ROUNDS"); do
	for side in netd kernel; do
		rtts $side >"$tmp/$side.round"
		record $side p50 "$(pct "$tmp/$side.round" 50)"
		record $side p99 "$(pct "$tmp/$side.round" 99)"
		record $side flood "$(flood_rate $side)"
	done
done
header "ICMP echo ($COUNT pings a round, $FLOOD a flood)"
row p50 "RTT p50 (us)"
row p99 "RTT p99 (us)"
row flood "ping -f rate (echoes/s)"
