#!/bin/sh
# client_echo.sh: programs on libnetclient (examples/echo-server and
# examples/echo-client) through netd on a TAP in a namespace of its own,
# with the Linux kernel on the other side: the kernel's socat against
# echo-server, echo-client against a kernel echo server, and the two
# examples against each other through netd; data checked by sha256
# (NETD_E2E_MB MB, 20 by default). Then failure: a client killed with
# SIGKILL mid-transfer (its connection must be reset, netd must carry on),
# a client started while netd is down, and netd killed while a client
# blocks in recv (the call must fail within a second).
. "$(dirname "$0")/lib.sh"
require_root_tools socat sha256sum timeout python3

EX=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/examples
NETDCTL=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/netd/netdctl
netns_new cli NS || skip_all "cannot make a namespace"
MB=${NETD_E2E_MB:-20}
head -c $((MB * 1048576)) /dev/urandom >"$E2E_TMP/in"
SOCK=$E2E_TMP/netd.sock
export NETD_SOCKET="$SOCK"

start_netd() {
	netd_start "$NS" -S "$SOCK" -i tap:ctap0 -a 10.82.0.2/24 &&
		netd_ready && ip -n "$NS" addr replace 10.82.0.1/24 dev ctap0 &&
		wait_for 5 sh -c "ip -n $NS link show ctap0 | grep -q LOWER_UP"
}

# bg CMD...: a background job whose PID the cleanup knows; sets BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	E2E_PIDS="$E2E_PIDS $BG_PID"
}

same_sha() {
	[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]
}

check "netd starts with a control socket" start_netd
check "the control socket exists" test -S "$SOCK"

bg "$EX/echo-server" 7777
SERVER=$BG_PID
check "echo-server listens through netd" \
	wait_for 5 sh -c "echo probe | ip netns exec $NS socat -t2 - TCP:10.82.0.2:7777 | grep -qx probe"
check "kernel socat -> echo-server: a line comes back" \
	sh -c "echo 'hello netd' | ip netns exec $NS socat -t2 - TCP:10.82.0.2:7777 | grep -qx 'hello netd'"
check "kernel socat -> echo-server: $MB MB come back intact" sh -c \
	"timeout 120 ip netns exec $NS socat -t30 - TCP:10.82.0.2:7777 <$E2E_TMP/in >$E2E_TMP/out1 &&
	 [ \"\$(sha256sum <$E2E_TMP/in)\" = \"\$(sha256sum <$E2E_TMP/out1)\" ]"

# The kernel's echo server: threads die with it, so killing it by PID
# leaves nothing behind.
cat >"$E2E_TMP/echo.py" <<'PY'
import socketserver
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server(("10.82.0.1", 9999), Echo).serve_forever()
PY
bg ip netns exec "$NS" python3 "$E2E_TMP/echo.py"
check "a kernel echo server listens" wait_for 5 sh -c "ip netns exec $NS ss -ltn | grep -q :9999"
check "echo-client -> kernel: a line comes back" \
	sh -c "echo 'to the kernel' | timeout 10 $EX/echo-client 10.82.0.1 9999 | grep -qx 'to the kernel'"
check "echo-client -> kernel: $MB MB come back intact" sh -c \
	"timeout 120 $EX/echo-client 10.82.0.1 9999 <$E2E_TMP/in >$E2E_TMP/out2 && \
	 [ \"\$(sha256sum <$E2E_TMP/in)\" = \"\$(sha256sum <$E2E_TMP/out2)\" ]"
check "echo-client -> echo-server, both on netd: $MB MB intact" sh -c \
	"timeout 120 $EX/echo-client 10.82.0.2 7777 <$E2E_TMP/in >$E2E_TMP/out3 && \
	 [ \"\$(sha256sum <$E2E_TMP/in)\" = \"\$(sha256sum <$E2E_TMP/out3)\" ]"
check "a refused connect fails with ECONNREFUSED" sh -c \
	"echo x | timeout 10 $EX/echo-client 10.82.0.1 5555 2>&1 | grep -q 'Connection refused'"

# status_field NAME: a number from netdctl status.
status_field() {
	"$NETDCTL" -j status | python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

clients_are() { [ "$(status_field clients)" = "$1" ]; }
buffers_at_most() { [ "$(status_field buffers_in_use)" -le "$1" ]; }

# no_socket_of PID: netd holds no socket owned by PID any more.
no_socket_of() {
	"$NETDCTL" -j sockets | python3 -c "
import json, sys
owned = [s for s in json.load(sys.stdin).get('sockets', []) if s.get('pid') == $1]
sys.exit(1 if owned else 0)"
}

# SIGKILL mid-transfer, five times: the kernel peer sees its connection
# end (reset: the client had unread data), netd stays up and serves on,
# and nothing of the killed client stays behind.
VICTIMS=""
BUFFERS_BEFORE=$(status_field buffers_in_use)
killed_client() {
	bg sh -c "ip netns exec $NS socat -u - TCP:10.82.0.2:7777 <$E2E_TMP/in >/dev/null 2>&1; echo \$? >$E2E_TMP/peer.rc"
	sleep 0.3
	bg "$EX/echo-client" 10.82.0.1 9999 </dev/zero >/dev/null 2>&1
	victim=$BG_PID
	sleep 0.3
	kill -KILL "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	VICTIMS="$VICTIMS $victim"
}
for i in 1 2 3 4 5; do
	killed_client
done
check "netd survives clients killed mid-transfer" kill -0 "$NETD_PID"
check "the killed clients' sessions are gone (only echo-server is left)" \
	wait_for 5 clients_are 1
for v in $VICTIMS; do
	check "no socket of killed client $v remains" wait_for 5 no_socket_of "$v"
done
kill -KILL "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
check "a kernel sender to a killed echo-server sees its connection end" \
	wait_for 10 test -s "$E2E_TMP/peer.rc"
check "no client left in netd" wait_for 5 clients_are 0
check "no socket of echo-server remains" wait_for 5 no_socket_of "$SERVER"
# buffers: what the connections held comes back (a few may wait in TIME_WAIT
# or for ARP; the five killed transfers held thousands)
check "netd's buffers come back after the kills" wait_for 5 buffers_at_most $((BUFFERS_BEFORE + 64))
check "the server's port is free again after SIGKILL" sh -c \
	"$EX/echo-server 7777 & p=\$!; sleep 0.5; echo again | ip netns exec $NS socat -t2 - TCP:10.82.0.2:7777 | grep -qx again; r=\$?; kill \$p; wait \$p; exit \$r"

# netd killed while a client blocks in recv: the call must fail, fast.
# its input: a fifo held open here, which never has data nor ends
mkfifo "$E2E_TMP/quiet"
exec 7<>"$E2E_TMP/quiet"
bg sh -c "$EX/echo-client 10.82.0.1 9999 <$E2E_TMP/quiet >/dev/null 2>$E2E_TMP/blocked.err; echo \$? >$E2E_TMP/blocked.rc"
sleep 0.5
kill -KILL "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
check "a client blocked in recv returns within a second of netd's death" \
	wait_for 1 test -s "$E2E_TMP/blocked.rc"
check "... with an error" sh -c "[ \"\$(cat $E2E_TMP/blocked.rc)\" != 0 ]"

rm -f "$SOCK"
check "with netd down, nc_socket fails with ENOENT" sh -c \
	"NETD_DEBUG=1 $EX/echo-client 10.82.0.1 9999 </dev/null 2>&1 | grep -q 'No such file or directory'"
check "NETD_DEBUG=1 says why" sh -c \
	"NETD_DEBUG=1 $EX/echo-client 10.82.0.1 9999 </dev/null 2>&1 | grep -q 'cannot connect to netd'"
finish
