#!/bin/sh
# threads.sh: libnetclient used from several threads (nc_threads.c)
# through netd on a TAP, against a kernel echo server in the namespace:
# a call blocked on one socket never holds up another, closing a socket
# under a blocked call is safe and lets the call finish as on Linux, and
# threads sharing one socket each get their own answers.
. "$(dirname "$0")/lib.sh"
require_root_tools python3

TOOLS=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/tests/e2e
netns_new thr NS || skip_all "cannot make a namespace"
export NETD_SOCKET="$E2E_TMP/netd.sock"
netd_start "$NS" -i tap:thtap0 -a 10.86.0.2/24
check "netd starts" netd_ready
ip -n "$NS" addr replace 10.86.0.1/24 dev thtap0
wait_for 5 sh -c "ip -n $NS link show thtap0 | grep -q LOWER_UP"

# a line echo server; "slow" lines are answered after a second
cat >"$E2E_TMP/echo.py" <<'PY'
import socketserver, time
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            if line == b"slow\n":
                time.sleep(1)
            self.wfile.write(line)
            self.wfile.flush()
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server(("10.86.0.1", 9000), Echo).serve_forever()
PY
ip netns exec "$NS" python3 "$E2E_TMP/echo.py" &
E2E_PIDS="$E2E_PIDS $!"
check "the kernel echo server listens" wait_for 5 sh -c "ip netns exec $NS ss -ltn | grep -q :9000"

timeout 60 "$TOOLS/nc_threads" 10.86.0.1 9000 >"$E2E_TMP/threads.out" 2>&1
sed 's/^/# /' "$E2E_TMP/threads.out"
for step in others-proceed close-under-blocked shared-socket; do
	check "$step" grep -qx "ok $step" "$E2E_TMP/threads.out"
done
check "netd stops cleanly" netd_stop
finish
