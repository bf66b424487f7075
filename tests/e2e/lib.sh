# lib.sh: what the end-to-end scripts share. TAP output (plan, ok/not ok),
# network namespaces named after this process so parallel runs never meet,
# netd started in the background and stopped by its own PID, and a trap
# that removes every namespace and process the script made, also on failure.
# Every address used lies inside the namespaces made here.

TAP_N=0
TAP_FAILED=0
E2E_NETNS=""
E2E_PIDS=""
E2E_TMP=$(mktemp -d /tmp/netd-e2e.XXXXXX)
NETD_BIN=${NETD_BIN:-$(dirname "$0")/../../netd/netd}

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}

# check "description" command...: one test point from a command's status.
check() {
	desc=$1
	shift
	if "$@" >"$E2E_TMP/last.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/# /' "$E2E_TMP/last.out"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

require_root_tools() {
	[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
	[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || skip_all "$tool not installed"
	done
}

# netns_new SUFFIX VAR: makes a namespace with loopback up and stores its
# name in VAR (not through $(...): the cleanup list must see it).
netns_new() {
	name="netd-e2e-$$-$1"
	ip netns add "$name" || return 1
	E2E_NETNS="$E2E_NETNS $name"
	ip -n "$name" link set lo up
	eval "$2=\$name"
}

# netd_start NETNS ARGS...: runs netd in the foreground of a background job,
# with its control socket in this script's own directory (ARGS may name
# another), so that tests running side by side never share one.
netd_start() {
	ns=$1
	shift
	ip netns exec "$ns" "$NETD_BIN" -d -S "$E2E_TMP/netd.sock" "$@" >"$E2E_TMP/netd.log" 2>&1 &
	NETD_PID=$!
	E2E_PIDS="$E2E_PIDS $NETD_PID"
}

# netd_ready: netd has opened its devices and entered its loop.
netd_ready() {
	wait_for 5 grep -q "running on" "$E2E_TMP/netd.log"
}

# wait_for SECONDS COMMAND...: polls a condition ten times a second.
wait_for() {
	tries=$(($1 * 10))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

# netd_stop: SIGTERM, then the exit status (124 if it did not stop in 5 s).
netd_stop() {
	kill -TERM "$NETD_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$NETD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$NETD_PID" 2>/dev/null; then
		kill -KILL "$NETD_PID"
		wait "$NETD_PID" 2>/dev/null
		return 124
	fi
	wait "$NETD_PID"
}

e2e_cleanup() {
	for pid in $E2E_PIDS; do
		kill -KILL "$pid" 2>/dev/null
	done
	for ns in $E2E_NETNS; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT INT TERM

# ping_ok NETNS ARGS...: ping with no loss.
ping_ok() {
	ns=$1
	shift
	ip netns exec "$ns" ping -q "$@" | tee "$E2E_TMP/ping.out" | grep -q ' 0% packet loss'
}

# tshark_count FILE FILTER: frames in a capture matching a display filter.
tshark_count() {
	tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# at_least N COMMAND...: the command prints a number >= N.
at_least() {
	want=$1
	shift
	got=$("$@")
	echo "got $got, want at least $want"
	[ "$got" -ge "$want" ]
}

finish() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}
