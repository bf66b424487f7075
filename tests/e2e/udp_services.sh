#!/bin/sh
# udp_services.sh: the kernel's UDP against netd's built-in services on a
# TAP in a namespace of its own: echo (socat, byte for byte, datagrams that
# need fragmenting), discard, chargen, ICMP port unreachable turning into
# ECONNREFUSED on a connected kernel socket, and a capture read back with
# tshark for the checksums netd computes.
. "$(dirname "$0")/lib.sh"
require_root_tools socat python3 tshark sha256sum

netns_new udp NS || skip_all "cannot make a namespace"
netd_start "$NS" -s echo,discard,chargen -i tap:utap0 -a 10.79.0.2/24 -w "$E2E_TMP/cap.pcap"
check "netd starts with its services" netd_ready
ip -n "$NS" addr add 10.79.0.1/24 dev utap0
wait_for 5 sh -c "ip -n $NS link show utap0 | grep -q LOWER_UP"

check "socat: echo returns a line" \
	sh -c "echo 'hello netd' | ip netns exec $NS socat -T2 - UDP:10.79.0.2:7 | grep -qx 'hello netd'"

# 16 datagrams of 4000 bytes (fragmented both ways) in one burst: small
# enough for the kernel socket's default receive buffer.
head -c 64000 /dev/urandom >"$E2E_TMP/in"
check "socat: 16 echoed datagrams of 4000 bytes are byte-exact" \
	sh -c "ip netns exec $NS socat -T2 -b4000 - UDP:10.79.0.2:7 <$E2E_TMP/in >$E2E_TMP/out;
	       [ \"\$(sha256sum <$E2E_TMP/in)\" = \"\$(sha256sum <$E2E_TMP/out)\" ]"

cat >"$E2E_TMP/udp.py" <<'PY'
import errno, socket, sys
host = "10.79.0.2"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
case = sys.argv[1]
if case == "discard":
    s.sendto(b"gone", (host, 9))
    try:
        s.recvfrom(100)
        sys.exit("discard answered")
    except socket.timeout:
        pass
elif case == "chargen":
    for _ in range(5):
        s.sendto(b"", (host, 19))
        data, _ = s.recvfrom(1000)
        assert len(data) <= 512, len(data)
        line = bytes(range(32, 32 + 72))
        assert data[:72] == line[:len(data)], data[:72]
elif case == "refused":
    s.connect((host, 5555))
    s.send(b"anyone?")
    try:
        s.recv(100)
        sys.exit("closed port answered")
    except OSError as e:
        assert e.errno == errno.ECONNREFUSED, e
elif case == "big":
    payload = bytes(i % 251 for i in range(60000))
    s.sendto(payload, (host, 7))
    data, _ = s.recvfrom(65536)
    assert data == payload, len(data)
PY
check "python: discard sends nothing back" ip netns exec "$NS" python3 "$E2E_TMP/udp.py" discard
check "python: chargen answers with the RFC 864 pattern, at most 512 bytes" \
	ip netns exec "$NS" python3 "$E2E_TMP/udp.py" chargen
check "python: a closed port refuses a connected socket (ECONNREFUSED)" \
	ip netns exec "$NS" python3 "$E2E_TMP/udp.py" refused
check "python: a 60000-byte datagram is echoed whole" \
	ip netns exec "$NS" python3 "$E2E_TMP/udp.py" big
check "netd stops cleanly on SIGTERM" netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | grep -E "UDP|drop" || true

CAP="$E2E_TMP/cap.pcap"
check "capture: netd's UDP checksums are all valid" \
	sh -c "[ \$(tshark -r $CAP -o udp.check_checksum:TRUE -Y 'ip.src == 10.79.0.2 && udp && udp.checksum.status != 1' 2>/dev/null | wc -l) -eq 0 ]"
check "capture: netd sent echo replies from port 7" \
	at_least 17 tshark_count "$CAP" "ip.src == 10.79.0.2 && udp.srcport == 7"
check "capture: port unreachable sent for port 5555" \
	at_least 1 tshark_count "$CAP" "icmp.type == 3 && icmp.code == 3 && udp.dstport == 5555"
finish
