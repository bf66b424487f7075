#!/bin/sh
# netdctl.sh: netdctl against netd on a TAP in a namespace of its own, with
# the Linux kernel on the other side: status, interfaces, routes (and
# routes add/del, refused to an unprivileged user who may still read),
# neighbours after a ping, sockets (the echo service listening, then a
# kernel connection to it), counters, JSON output of every command, a
# pcap capture of 4 frames read back by tshark and by hand, a libnetclient
# program's sockets and a capture limited to its process, the usage and
# connection errors, and netd's sd_notify READY=1 and STOPPING=1 to a
# NOTIFY_SOCKET of the test's own.
. "$(dirname "$0")/lib.sh"
require_root_tools socat python3 tshark setpriv timeout ping

netns_new ctl NS || skip_all "cannot make a namespace"
# The control socket lives in a directory of this test, reachable by the
# unprivileged user too; netdctl is copied where that user may run it.
chmod 0711 "$E2E_TMP"
SOCK=$E2E_TMP/run/netd.sock
NETDCTL=$E2E_TMP/netdctl
cp "${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/netd/netdctl" "$NETDCTL"
chmod 0755 "$NETDCTL"
unset NETD_SOCKET

# bg CMD...: a background job whose PID the cleanup knows; sets BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	E2E_PIDS="$E2E_PIDS $BG_PID"
}

# ctl ARGS...: netdctl on this test's socket, also as a script for setpriv.
printf '#!/bin/sh\nexec "%s" -S "%s" "$@"\n' "$NETDCTL" "$SOCK" >"$E2E_TMP/ctl"
chmod 0755 "$E2E_TMP/ctl"
CTL=$E2E_TMP/ctl
# nobody CMD...: CMD as the unprivileged user nobody.
nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# lines PATTERN CMD...: CMD succeeds and prints a line matching the
# extended regular expression PATTERN (on stdout or stderr).
lines() {
	pattern=$1
	shift
	"$@" >"$E2E_TMP/cmd.out" 2>&1
	rc=$?
	cat "$E2E_TMP/cmd.out"
	[ "$rc" = 0 ] && grep -Eq "$pattern" "$E2E_TMP/cmd.out"
}

# fails STATUS PATTERN CMD...: CMD exits with STATUS and prints PATTERN.
fails() {
	want=$1 pattern=$2
	shift 2
	"$@" >"$E2E_TMP/cmd.out" 2>&1
	rc=$?
	cat "$E2E_TMP/cmd.out"
	echo "exit status $rc, want $want"
	[ "$rc" = "$want" ] && grep -Eq "$pattern" "$E2E_TMP/cmd.out"
}

# pcap_records FILE: the number of whole records in a pcap file.
cat >"$E2E_TMP/pcap.py" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic, major, minor, _, _, snaplen, link = struct.unpack("<IHHiIII", data[:24])
assert (magic, major, minor, link) == (0xa1b23c4d, 2, 4, 1), (hex(magic), major, minor, link)
off, n = 24, 0
while off < len(data):
    _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    assert incl == orig and off + 16 + incl <= len(data)
    off += 16 + incl
    n += 1
print(n)
PY
pcap_records() {
	python3 "$E2E_TMP/pcap.py" "$1"
}

# equals WANT CMD...: CMD prints WANT.
equals() {
	want=$1
	shift
	got=$("$@")
	echo "got '$got', want '$want'"
	[ "$got" = "$want" ]
}

# A receiver for sd_notify: prints each datagram netd sends, one a line.
NOTIFY=$E2E_TMP/notify.sock
cat >"$E2E_TMP/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w", buffering=1) as out:
    for _ in range(2):
        out.write(s.recv(256).decode() + "\n")
PY
bg python3 "$E2E_TMP/notify.py" "$NOTIFY" "$E2E_TMP/notify.out"
wait_for 5 test -S "$NOTIFY"

export NOTIFY_SOCKET="$NOTIFY"
netd_start "$NS" -S "$SOCK" -s echo -i tap:nctl0 -a 10.84.0.2/24 -g 10.84.0.1
unset NOTIFY_SOCKET
check "netd tells systemd READY=1 once it listens" \
	wait_for 5 grep -qx "READY=1" "$E2E_TMP/notify.out"
check "the control socket exists" test -S "$SOCK"
check "the TAP is up" wait_for 5 sh -c "ip -n $NS link show nctl0 | grep -q LOWER_UP"
ip -n "$NS" addr add 10.84.0.1/24 dev nctl0

# ---- reading ----
check "status: one interface" lines '^interfaces +1$' "$CTL" status
check "status: netd's pid" lines "^pid +$NETD_PID\$" "$CTL" status
check "status: NETD_SOCKET names the socket" \
	lines '^interfaces +1$' env NETD_SOCKET="$SOCK" "$NETDCTL" status
check "interfaces: the address given with -a" \
	lines '^0 +nctl0 +([0-9a-f]{2}:){5}[0-9a-f]{2} +1500 +10\.84\.0\.2/24 ' "$CTL" interfaces
check "routes: the connected route" \
	lines '^10\.84\.0\.0/24 +- +nctl0 +connected$' "$CTL" routes
check "routes: the default via -g" \
	lines '^0\.0\.0\.0/0 +10\.84\.0\.1 +nctl0 +static$' "$CTL" routes

# ---- changing routes ----
check "routes add 10.99.0.0/16 10.84.0.7" "$CTL" routes add 10.99.0.0/16 10.84.0.7
check "routes: the added route" \
	lines '^10\.99\.0\.0/16 +10\.84\.0\.7 +nctl0 +admin$' "$CTL" routes
check "routes add of the same prefix: File exists, exit 1" \
	fails 1 '^netdctl: 10\.99\.0\.0/16: File exists$' "$CTL" routes add 10.99.0.0/16 10.84.0.8
check "routes del 10.99.0.0/16" "$CTL" routes del 10.99.0.0/16
check "routes: the route is gone" sh -c "! $CTL routes | grep '^10\.99\.'"
check "routes del of a missing route: No such process, exit 1" \
	fails 1 '^netdctl: 10\.99\.0\.0/16: No such process$' "$CTL" routes del 10.99.0.0/16
check "routes add via a gateway on no connected subnet: exit 1" \
	fails 1 'not on a connected subnet: Network is unreachable' \
	"$CTL" routes add 10.98.0.0/16 10.7.7.7
check "routes add with host bits set: exit 1" \
	fails 1 'invalid destination' "$CTL" routes add 10.98.0.1/16 10.84.0.7
check "an unprivileged user gets EPERM for routes add" \
	fails 1 '^netdctl: Operation not permitted$' nobody "$CTL" routes add 10.97.0.0/16 10.84.0.7
check "an unprivileged user may read status" lines '^interfaces +1$' nobody "$CTL" status
check "an unprivileged user gets EPERM for capture" \
	fails 1 '^netdctl: Operation not permitted$' nobody "$CTL" capture /dev/null -c 1

# ---- neighbours and sockets ----
check "ping from the kernel" ping_ok "$NS" -c 2 -i 0.2 -W 2 10.84.0.2
KMAC=$(ip -n "$NS" -br link show nctl0 | awk '{print $3}')
check "neighbours: the kernel's address and MAC" \
	lines "^10\\.84\\.0\\.1 +$KMAC +(REACHABLE|STALE|DELAY|PROBE) +nctl0\$" "$CTL" neighbours
check "sockets: the echo service listens on TCP port 7" \
	lines '^tcp +LISTEN +0 +[0-9]+ +0\.0\.0\.0:7 +0\.0\.0\.0:\* +netd$' "$CTL" sockets
check "sockets: and on UDP port 7" \
	lines '^udp +UNCONN +0 +0 +0\.0\.0\.0:7 +0\.0\.0\.0:\* +netd$' "$CTL" sockets
bg ip netns exec "$NS" python3 -c 'import socket, time
s = socket.create_connection(("10.84.0.2", 7), source_address=("10.84.0.1", 40007))
time.sleep(30)'
CONN_PID=$BG_PID
ESTAB='^tcp +ESTAB +0 +0 +10\.84\.0\.2:7 +10\.84\.0\.1:40007 +'
check "sockets: an ESTAB connection from the kernel's address" \
	wait_for 5 lines "$ESTAB"'netd$' "$CTL" sockets
check "sockets -i: TCP_INFO of the connection (rto, rtt, rttvar, cwnd, mss, retrans 0)" \
	lines "$ESTAB"'[1-9][0-9]* +[0-9]+ +[0-9]+ +[1-9][0-9]* +[1-9][0-9]* +0 +[0-9]+ +0 +netd$' \
	"$CTL" sockets -i
kill "$CONN_PID" 2>/dev/null
check "counters: a known counter, counted" lines '^IP_IN_RECEIVES +[1-9]' "$CTL" counters
check "counters: drop reasons, zero ones too" lines '^NOMEM +0$' "$CTL" counters

# ---- JSON ----
json_ok() {
	"$CTL" -j "$@" | python3 -c 'import json, sys; json.load(sys.stdin)'
}
for cmd in status interfaces routes neighbours sockets counters; do
	check "-j $cmd parses as JSON" json_ok $cmd
done
check "-j status: the pid, as a number" equals "$NETD_PID" \
	sh -c "$NETDCTL -j -S $SOCK status | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"pid\"])'"
check "-j sockets: the listener on TCP port 7" equals True \
	sh -c "$NETDCTL -j -S $SOCK sockets | python3 -c 'import json, sys; print(any(s[\"state\"] == \"LISTEN\" and s[\"local\"] == \"0.0.0.0:7\" for s in json.load(sys.stdin)[\"sockets\"]))'"
check "-j routes add prints {}" equals '{}' "$NETDCTL" -j -S "$SOCK" routes add 10.96.0.0/16 10.84.0.7

# ---- capture ----
CAP=$E2E_TMP/cap.pcap
bg timeout 20 "$NETDCTL" -S "$SOCK" capture "$CAP" -c 4
CAP_PID=$BG_PID
check "capture: netd writes the pcap header at once" \
	wait_for 5 sh -c "[ \$(stat -c %s $CAP) -ge 24 ]"
ip netns exec "$NS" ping -q -c 4 -i 0.2 -W 1 10.84.0.2 >/dev/null
check "capture -c 4: netdctl ends with status 0 once 4 frames are written" wait "$CAP_PID"
check "capture: the file has 4 whole records" equals 4 pcap_records "$CAP"
check "capture: tshark reads 4 frames" equals 4 sh -c "tshark -r $CAP 2>/dev/null | wc -l"
check "capture: netd's echo replies among them" \
	at_least 1 tshark_count "$CAP" 'icmp.type == 0 && ip.src == 10.84.0.2'

CAP2=$E2E_TMP/cap2.pcap
bg timeout 20 "$NETDCTL" -S "$SOCK" capture "$CAP2" -p 999999
CAP_PID=$BG_PID
wait_for 5 sh -c "[ \$(stat -c %s $CAP2) -ge 24 ]"
ip netns exec "$NS" ping -q -c 2 -i 0.2 -W 1 10.84.0.2 >/dev/null
echo hello | ip netns exec "$NS" socat -t1 - TCP:10.84.0.2:7 >/dev/null
kill -INT "$CAP_PID"
check "capture -p: Ctrl-C ends netdctl with status 0" wait "$CAP_PID"
check "capture -p: no frame of sockets the process does not own" equals 0 pcap_records "$CAP2"
check "netd answers after the captures" lines '^interfaces +1$' "$CTL" status

# ---- a client's sockets (libnetclient's example echo-server) ----
EX=${NETD_TOP_BUILDDIR:-$(dirname "$0")/../..}/examples
if [ -x "$EX/echo-server" ]; then
	bg env NETD_SOCKET="$SOCK" "$EX/echo-server" 7777
	SERVER_PID=$BG_PID
	OWNER='users:\(\("(lt-)?echo-server",pid='$SERVER_PID',uid=0\)\)$'
	check "sockets: a client's listener, with its pid and program" wait_for 5 lines \
		'^tcp +LISTEN +0 +128 +0\.0\.0\.0:7777 +0\.0\.0\.0:\* +'"$OWNER" "$CTL" sockets
	check "status: one client" lines '^clients +1$' "$CTL" status
	CAP3=$E2E_TMP/cap3.pcap
	bg timeout 20 "$NETDCTL" -S "$SOCK" capture "$CAP3" -p "$SERVER_PID" -c 6
	CAP_PID=$BG_PID
	wait_for 5 sh -c "[ \$(stat -c %s $CAP3) -ge 24 ]"
	ip netns exec "$NS" ping -q -c 2 -i 0.2 -W 1 10.84.0.2 >/dev/null
	echo netd | ip netns exec "$NS" socat -t2 - TCP:10.84.0.2:7 >/dev/null
	echo client | ip netns exec "$NS" socat -t2 - TCP:10.84.0.2:7777 >/dev/null
	check "capture -p PID -c 6: ends after 6 frames" wait "$CAP_PID"
	client_frames() {
		echo "$(tshark_count "$CAP3" 'tcp.port == 7777')" \
			"$(tshark_count "$CAP3" 'tcp.flags.syn == 1 && tcp.flags.ack == 1')"
	}
	check "capture -p PID: only the client's frames (port 7777), its SYN-ACK too" \
		equals "6 1" client_frames
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
else
	ok "a client's sockets and capture # SKIP examples/echo-server not built"
fi

# ---- errors ----
check "a wrong socket path: exit 1, cannot connect" \
	fails 1 "^netdctl: cannot connect to $E2E_TMP/nowhere.sock: No such file or directory\$" \
	"$NETDCTL" -S "$E2E_TMP/nowhere.sock" status
check "an unknown command: exit 2" fails 2 "unknown command 'frobnicate'" "$CTL" frobnicate
check "a missing argument: exit 2" fails 2 '^usage: netdctl' "$CTL" routes add 10.0.0.0/8
check "a bad count: exit 2" fails 2 'COUNT must be a whole number' "$CTL" capture x -c many
check "--help prints the usage" \
	lines '^usage: netdctl \[-j\] \[-S socket\] command \[args\]$' "$NETDCTL" --help

check "netd stops cleanly on SIGTERM" netd_stop
check "netd tells systemd STOPPING=1" wait_for 5 grep -qx "STOPPING=1" "$E2E_TMP/notify.out"
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | grep -Ei "route|capture|warn" || true
finish
