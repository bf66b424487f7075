#!/bin/sh
# ping_packet.sh: netd on one end of a veth pair through AF_PACKET
# (TPACKET_V3 rings), in a namespace of its own; the Linux kernel owns the
# other end in a second namespace and pings netd with 56 and 8000 bytes,
# then talks UDP to netd's echo service (the kernel leaves those checksums
# to offload on a veth: netd must accept them).
. "$(dirname "$0")/lib.sh"
require_root_tools ping arping socat

netns_new kern NS_K || skip_all "cannot make a namespace"
netns_new netd NS_N
ip link add ve-k netns "$NS_K" type veth peer name ve-n netns "$NS_N"
ip netns exec "$NS_N" sysctl -qw net.ipv6.conf.ve-n.disable_ipv6=1
ip -n "$NS_N" link set ve-n up
ip -n "$NS_K" addr add 10.78.0.1/24 dev ve-k
ip -n "$NS_K" link set ve-k up
MAC=$(ip -n "$NS_N" link show ve-n | awk '/link\/ether/ {print $2}')

netd_start "$NS_N" -s echo -i packet:ve-n -a 10.78.0.2/24 -g 10.78.0.1
check "netd runs on the veth end" netd_ready
check "arping gets replies carrying the interface's MAC" \
	sh -c "ip netns exec $NS_K arping -c 3 -w 5 -i ve-k 10.78.0.2 | grep -c '$MAC' | grep -qx 3"
check "ping 56 bytes: no loss" ping_ok "$NS_K" -c 10 -i 0.05 -W 2 10.78.0.2
check "ping 8000 bytes, fragmented both ways: no loss" \
	ping_ok "$NS_K" -c 5 -i 0.1 -W 2 -s 8000 10.78.0.2
check "socat: UDP echo over AF_PACKET returns a line" \
	sh -c "echo 'over veth' | ip netns exec $NS_K socat -T2 - UDP:10.78.0.2:7 | grep -qx 'over veth'"
check "netd stops cleanly on SIGTERM" netd_stop
sed 's/^/# netd: /' "$E2E_TMP/netd.log" | tail -30
finish
