#!/bin/sh
# tcp.sh: TCP and UDP through netd against the Linux kernel, in one run:
# bulk throughput of one TCP stream into a discard server (BYTES per
# round), and request/response round trips of SIZE bytes (COUNT per round)
# over TCP and UDP to an echo server: netd's built-in services against
# netbench serving on the kernel; and the stack-only transfer rate of two
# netd stacks in one process (bench/stack_rate, built by make check). See
# lib.sh for the two paths. Run as root.
. "$(dirname "$0")/lib.sh"
BYTES=${BYTES:-1073741824}
COUNT=${COUNT:-10000}
SIZE=${SIZE:-64}
[ -x "$NETBENCH" ] || { echo "tcp.sh: no netbench at $NETBENCH" >&2; exit 1; }

field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

bench_setup
for r in $(seq "$ROUNDS"); do
	for side in netd kernel; do
		dst=$(addr_of $side)
		out=$(on $side "$NETBENCH" bulk -b "$BYTES" "$dst" 9)
		record $side bulk "$(echo "$out" | field gbit_s)"
		out=$(on $side "$NETBENCH" rr -n "$COUNT" -s "$SIZE" "$dst" 7)
		record $side tcp50 "$(echo "$out" | field p50_us)"
		record $side tcp99 "$(echo "$out" | field p99_us)"
		out=$(on $side "$NETBENCH" rr -u -n "$COUNT" -s "$SIZE" "$dst" 7)
		record $side udp50 "$(echo "$out" | field p50_us)"
		record $side udp99 "$(echo "$out" | field p99_us)"
	done
done
header "TCP and UDP ($BYTES bytes bulk, $COUNT round trips of $SIZE bytes)"
row bulk "TCP bulk (Gbit/s)"
row tcp50 "TCP RR p50 (us)"
row tcp99 "TCP RR p99 (us)"
row udp50 "UDP RR p50 (us)"
row udp99 "UDP RR p99 (us)"
STACK_RATE=${STACK_RATE:-$BUILD/bench/stack_rate}
if [ -x "$STACK_RATE" ]; then
	for r in $(seq "$ROUNDS"); do
		"$STACK_RATE" 1024 | field mb_per_core_s >>"$tmp/stack_rate"
	done
	printf '\nStack only: two netd stacks in one process, 1 GiB over TCP in memory\n'
	printf '%-30s %14s\n' "MB/s per core (median)" "$(median <"$tmp/stack_rate")"
fi
grep -E "TCP_|RETRANS|drop" "$tmp/netd.log" | sed 's/^/# /' || true
