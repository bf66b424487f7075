#!/bin/sh
# ping_tap.sh: netd on a TAP device it creates in a namespace of its own,
# with the Linux kernel on the other side of the TAP as the peer: arping,
# ping of 56 and 8000 bytes (fragmented both ways), the kernel's neighbour
# entry for netd, a clean stop on SIGTERM, and the pcap capture read back
# with tshark.
. "$(dirname "$0")/lib.sh"
require_root_tools ping arping tshark

netns_new tap NS || skip_all "cannot make a namespace"
MAC=02:00:00:4d:00:02
netd_start "$NS" -i tap:ntap0 -a 10.77.0.2/24 -g 10.77.0.1 -m $MAC -w "$E2E_TMP/cap.pcap"
check "netd starts" netd_ready
check "netd creates and brings up the TAP device" \
	wait_for 5 sh -c "ip -n $NS link show ntap0 | grep -q LOWER_UP"
ip -n "$NS" addr add 10.77.0.1/24 dev ntap0

check "arping gets replies from netd's MAC" \
	sh -c "ip netns exec $NS arping -c 3 -w 5 -i ntap0 10.77.0.2 | grep -c '$MAC' | grep -qx 3"
check "ping 56 bytes: no loss" ping_ok "$NS" -c 10 -i 0.05 -W 2 10.77.0.2
check "ping 8000 bytes, fragmented both ways: no loss" \
	ping_ok "$NS" -c 5 -i 0.1 -W 2 -s 8000 10.77.0.2
check "ping 65000 bytes: no loss" ping_ok "$NS" -c 2 -i 0.2 -W 2 -s 65000 10.77.0.2
check "kernel neighbour entry holds netd's MAC" \
	sh -c "ip -n $NS neigh show 10.77.0.2 | grep -q 'lladdr $MAC'"
check "netd stops cleanly on SIGTERM" netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | tail -40

CAP="$E2E_TMP/cap.pcap"
check "capture: gratuitous ARP at start" \
	at_least 1 tshark_count "$CAP" "arp.isgratuitous && arp.src.proto_ipv4 == 10.77.0.2"
check "capture: ARP replies from netd" \
	at_least 3 tshark_count "$CAP" "arp.opcode == 2 && arp.src.hw_mac == $MAC"
check "capture: 17 echo replies, checksums valid" \
	at_least 17 tshark_count "$CAP" "icmp.type == 0 && icmp.checksum.status == 1"
check "capture: netd's replies fragmented (MF set)" \
	at_least 25 tshark_count "$CAP" "ip.src == 10.77.0.2 && ip.flags.mf == 1"
check "capture: no bad IP header checksums from netd" \
	sh -c "[ \$(tshark -r $CAP -o ip.check_checksum:TRUE -Y 'ip.src == 10.77.0.2 && ip.checksum.status == 0' 2>/dev/null | wc -l) -eq 0 ]"
finish
