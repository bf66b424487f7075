#!/bin/sh
# client.sh: programs on libnetclient against the same programs on the
# kernel's sockets, in one run (lib.sh sets up both paths):
#   through:  a netd client -> netd -> TAP -> a kernel server in the TAP's
#             namespace, against a kernel client -> veth -> kernel server;
#   between:  two clients of one netd (through netd's own loopback),
#             against two kernel programs over the kernel's loopback;
#   idle:     memory per idle TCP connection: netd's and its client's
#             proportional set size (PSS) per connection, against the
#             kernel's slab per socket (both ends are the kernel's there).
# BYTES per bulk round, COUNT round trips of SIZE bytes (TCP and UDP), IDLE
# connections.
# Run as root.
. "$(dirname "$0")/lib.sh"
BYTES=${BYTES:-1073741824}
COUNT=${COUNT:-10000}
SIZE=${SIZE:-64}
IDLE=${IDLE:-1000}
NETBENCH_NC=${NETBENCH_NC:-$BUILD/bench/netbench-nc}
for p in "$NETBENCH" "$NETBENCH_NC"; do
	[ -x "$p" ] || { echo "client.sh: no $p (make builds it)" >&2; exit 1; }
done

field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

# bg CMD...: a server for the whole run.
bg() {
	"$@" >/dev/null 2>&1 &
	pids="$pids $!"
}

servers() {
	# the kernel side of "through": in the TAP's namespace
	bg ip netns exec "$NS_T" "$NETBENCH" serve echo 7
	bg ip netns exec "$NS_T" "$NETBENCH" serve discard 9
	bg ip netns exec "$NS_T" "$NETBENCH" serve hold 11
	# "between": netd clients serving, and kernel programs on loopback
	bg "$NETBENCH_NC" serve echo 7007
	bg "$NETBENCH_NC" serve discard 9009
	bg ip netns exec "$NS_A" "$NETBENCH" serve echo 7007
	bg ip netns exec "$NS_A" "$NETBENCH" serve discard 9009
	bg ip netns exec "$NS_B" "$NETBENCH" serve hold 11
	sleep 0.5
}

# measure SIDE KIND PROGRAM HOST ECHO-PORT DISCARD-PORT [NETNS]
measure() {
	side=$1 kind=$2 prog=$3 host=$4 eport=$5 dport=$6
	run="$prog"
	[ -n "${7:-}" ] && run="ip netns exec $7 $prog"
	out=$($run bulk -b "$BYTES" "$host" "$dport")
	record "$side" "${kind}_bulk" "$(echo "$out" | field gbit_s)"
	out=$($run rr -n "$COUNT" -s "$SIZE" "$host" "$eport")
	record "$side" "${kind}_tcp50" "$(echo "$out" | field p50_us)"
	record "$side" "${kind}_tcp99" "$(echo "$out" | field p99_us)"
	out=$($run rr -u -n "$COUNT" -s "$SIZE" "$host" "$eport")
	record "$side" "${kind}_udp50" "$(echo "$out" | field p50_us)"
	record "$side" "${kind}_udp99" "$(echo "$out" | field p99_us)"
}

pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }

# bytes_per_idle SIDE: opens IDLE connections and reports bytes each.
bytes_per_idle() {
	fifo=$tmp/hold.$1
	mkfifo "$fifo"
	if [ "$1" = netd ]; then
		before=$(pss_kb "$NETD_PID") slab0=$(slab_kb)
		"$NETBENCH_NC" hold -n "$IDLE" 10.99.0.1 11 <"$fifo" >"$tmp/held" &
	else
		slab0=$(slab_kb)
		ip netns exec "$NS_A" "$NETBENCH" hold -n "$IDLE" $KERNEL_ADDR 11 <"$fifo" >"$tmp/held" &
	fi
	holder=$!
	exec 8>"$fifo"
	for _ in $(seq 100); do grep -q held "$tmp/held" && break; sleep 0.1; done
	sleep 0.5
	if [ "$1" = netd ]; then
		# netd's and the client's memory for its end; the kernel end (the
		# server) is left out
		kb=$(( $(pss_kb "$NETD_PID") - before + $(pss_kb "$holder") ))
	else
		kb=$(( ($(slab_kb) - slab0) / 2 ))	# two kernel sockets per connection
	fi
	exec 8>&-
	wait "$holder"
	rm -f "$fifo"
	record "$1" idle $(( kb * 1024 / IDLE ))
}

bench_setup
servers
for r in $(seq "$ROUNDS"); do
	measure netd through "$NETBENCH_NC" 10.99.0.1 7 9
	measure kernel through "$NETBENCH" $KERNEL_ADDR 7 9 "$NS_A"
	measure netd between "$NETBENCH_NC" $NETD_ADDR 7007 9009
	measure kernel between "$NETBENCH" 127.0.0.1 7007 9009 "$NS_A"
done
bytes_per_idle netd
bytes_per_idle kernel

header "client -> netd -> TAP -> kernel vs kernel -> veth -> kernel ($BYTES bytes bulk, $COUNT round trips of $SIZE bytes)"
row through_bulk "TCP bulk (Gbit/s)"
row through_tcp50 "TCP RR p50 (us)"
row through_tcp99 "TCP RR p99 (us)"
row through_udp50 "UDP RR p50 (us)"
row through_udp99 "UDP RR p99 (us)"
header "two clients of one netd vs kernel loopback"
row between_bulk "TCP bulk (Gbit/s)"
row between_tcp50 "TCP RR p50 (us)"
row between_tcp99 "TCP RR p99 (us)"
row between_udp50 "UDP RR p50 (us)"
row between_udp99 "UDP RR p99 (us)"
ROUNDS=1 header "memory per idle TCP connection ($IDLE connections)"
row idle "bytes per connection"
