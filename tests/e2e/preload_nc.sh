#!/bin/sh
# preload_nc.sh: an unmodified Debian program, nc (netcat-openbsd), run by
# netd-run with its sockets in netd: 1 MiB to a kernel listener across the
# TAP, 1 MiB from a kernel client to nc listening in netd, both compared
# byte for byte, and netd shows the program's sessions; with netd down
# nc still works through the kernel, and NETD_STRICT=1 makes it fail.
. "$(dirname "$0")/lib.sh"
require_root_tools nc cmp timeout

TOP=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}
RUN="$TOP/libnetclient/netd-run"
export NETD_PRELOAD="$TOP/libnetclient/.libs/libnetd-preload.so"
[ -x "$RUN" ] && [ -f "$NETD_PRELOAD" ] || skip_all "netd-run or the shim not built"
# A sanitizer build of the shim needs its runtimes preloaded before it into
# a program built without them (nc's own leaks are not this test's).
SAN_LIBS=$(ldd "$NETD_PRELOAD" | awk '/lib(asan|ubsan)/ {printf "%s:", $3}')
if [ -n "$SAN_LIBS" ]; then
	NETD_PRELOAD="$SAN_LIBS$NETD_PRELOAD"
	export ASAN_OPTIONS=detect_leaks=0
fi
netns_new pre NS || skip_all "cannot make a namespace"
export NETD_SOCKET="$E2E_TMP/netd.sock"
head -c 1048576 /dev/urandom >"$E2E_TMP/in"

netd_start "$NS" -i tap:prtap0 -a 10.88.0.2/24
check "netd starts" netd_ready
ip -n "$NS" addr replace 10.88.0.1/24 dev prtap0
wait_for 5 sh -c "ip -n $NS link show prtap0 | grep -q LOWER_UP"

ip netns exec "$NS" nc -l 10.88.0.1 9000 >"$E2E_TMP/out1" &
E2E_PIDS="$E2E_PIDS $!"
wait_for 5 sh -c "ip netns exec $NS ss -ltn | grep -q :9000"
check "nc under netd-run sends 1 MiB to a kernel listener" \
	timeout 20 "$RUN" nc -N 10.88.0.1 9000 <"$E2E_TMP/in"
check "... which receives it intact" wait_for 5 cmp -s "$E2E_TMP/in" "$E2E_TMP/out1"
check "... and the connection went through netd" grep -q "(nc) attached" "$E2E_TMP/netd.log"

"$RUN" nc -l 10.88.0.2 9001 >"$E2E_TMP/out2" &
E2E_PIDS="$E2E_PIDS $!"
sleep 0.5
check "a kernel client sends 1 MiB to nc listening in netd" \
	timeout 20 ip netns exec "$NS" nc -N 10.88.0.2 9001 <"$E2E_TMP/in"
check "... which receives it intact" wait_for 5 cmp -s "$E2E_TMP/in" "$E2E_TMP/out2"

check "netd stops cleanly" netd_stop
# no netd: the kernel's sockets (over the namespace's loopback: the TAP
# went with netd), or a clear failure in strict mode
ip netns exec "$NS" nc -l 127.0.0.1 9002 >"$E2E_TMP/out3" &
E2E_PIDS="$E2E_PIDS $!"
wait_for 5 sh -c "ip netns exec $NS ss -ltn | grep -q :9002"
check "with netd down, nc falls back to the kernel's sockets" sh -c \
	"echo fallback | timeout 10 ip netns exec $NS $RUN nc -N 127.0.0.1 9002 && sleep 0.3 && grep -qx fallback $E2E_TMP/out3"
ip netns exec "$NS" nc -l 127.0.0.1 9003 >"$E2E_TMP/out4" &
E2E_PIDS="$E2E_PIDS $!"
wait_for 5 sh -c "ip netns exec $NS ss -ltn | grep -q :9003"
check "... and NETD_STRICT=1 makes it fail instead (a listener waits in vain)" sh -c \
	"! echo strict | NETD_STRICT=1 timeout 10 ip netns exec $NS $RUN nc -N 127.0.0.1 9003 &&
	 sleep 0.3 && [ ! -s $E2E_TMP/out4 ]"
finish
