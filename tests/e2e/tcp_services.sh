#!/bin/sh
# tcp_services.sh: the Linux kernel's TCP against netd's built-in TCP
# services on a TAP in a namespace of its own: echo and discard of 100 MB
# (NETD_E2E_MB sets less for slow builds) checked by sha256, chargen's RFC
# 864 pattern, a refused connect, netd's SYN-ACK options read back from a
# capture with tshark, and the same transfer again with netd's fault
# injector losing and reordering frames.
. "$(dirname "$0")/lib.sh"
require_root_tools socat python3 tshark sha256sum timeout

netns_new tcp NS || skip_all "cannot make a namespace"
MB=${NETD_E2E_MB:-100}
head -c $((MB * 1048576)) /dev/urandom >"$E2E_TMP/in"
IN_SUM=$(sha256sum <"$E2E_TMP/in")

# start_netd EXTRA-ARGS...: netd with its services on ttap0.
start_netd() {
	netd_start "$NS" -s echo,discard,chargen -i tap:ttap0 -a 10.80.0.2/24 "$@"
	netd_ready && ip -n "$NS" addr replace 10.80.0.1/24 dev ttap0 &&
		wait_for 5 sh -c "ip -n $NS link show ttap0 | grep -q LOWER_UP"
}

# echo_sha FILE: sends FILE to netd's echo and compares what comes back.
echo_sha() {
	timeout 120 ip netns exec "$NS" socat -t30 -T30 - TCP:10.80.0.2:7 <"$1" >"$E2E_TMP/out" &&
		[ "$(sha256sum <"$E2E_TMP/out")" = "$(sha256sum <"$1")" ]
}

cat >"$E2E_TMP/tcp.py" <<'PY'
import errno, socket, sys
host = "10.80.0.2"
case = sys.argv[1]
if case == "chargen":
    s = socket.create_connection((host, 19), timeout=5)
    want, got = 1 << 20, bytearray()
    while len(got) < want:
        got += s.recv(want - len(got))
    period = bytes((32 + (line + col) % 95) if col < 72 else (13 if col == 72 else 10)
                   for line in range(95) for col in range(74))
    expect = (period * (want // len(period) + 1))[:want]
    assert got == expect, "pattern differs"
elif case == "refused":
    try:
        socket.create_connection((host, 5555), timeout=5)
        sys.exit("connected to a closed port")
    except ConnectionRefusedError:
        pass
PY

# A short capture: the handshake and small exchanges only (a capture of
# the 100 MB transfers would take tshark minutes to read).
check "netd starts with its services (capturing)" start_netd -w "$E2E_TMP/cap.pcap"
check "socat: echo returns a line" \
	sh -c "echo 'hello netd' | ip netns exec $NS socat -t2 - TCP:10.80.0.2:7 | grep -qx 'hello netd'"
check "python: chargen sends the RFC 864 pattern (1 MiB)" \
	ip netns exec "$NS" python3 "$E2E_TMP/tcp.py" chargen
check "python: a closed port refuses the connection (RST)" \
	ip netns exec "$NS" python3 "$E2E_TMP/tcp.py" refused
check "netd stops cleanly on SIGTERM" netd_stop
# SYN-ACK options as Linux lays them out when the SYN offers them all:
# mss 1460, sackOK + TS, nop, wscale 7.
synack_has_linux_options() {
	o=$(tshark -r "$E2E_TMP/cap.pcap" -T fields -e tcp.options \
		-Y "ip.src == 10.80.0.2 && tcp.flags.syn == 1 && tcp.flags.ack == 1" 2>/dev/null |
		head -1 | tr -d ':')
	echo "SYN-ACK options: $o"
	echo "$o" | grep -Eq '^020405b40402080a[0-9a-f]{16}01030307$'
}
check "capture: SYN-ACK options are mss,sackOK,TS,nop,wscale" synack_has_linux_options

check "netd starts again, without a capture" start_netd
check "socat: $MB MB through echo, byte-exact (sha256)" echo_sha "$E2E_TMP/in"
check "socat: $MB MB into discard" \
	timeout 120 ip netns exec "$NS" socat -u - TCP:10.80.0.2:9 <"$E2E_TMP/in"
check "netd stops cleanly on SIGTERM" netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | grep -E "TCP|drop" || true

check "netd starts again, losing 1% and reordering 1% of frames both ways" \
	start_netd -x drop=1%,reorder=1%,seed=5
check "socat: $MB MB through echo over the lossy link, byte-exact" echo_sha "$E2E_TMP/in"
check "netd stops cleanly on SIGTERM" netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | grep -E "FAULT|RETRANS" || true
finish
