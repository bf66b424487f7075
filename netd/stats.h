/*
 * stats.h: why packets are dropped, and what the stack counted. Every drop
 * in netd names one reason from DROP_REASONS; each reason has a counter
 * (shown by netd on SIGUSR1 and at exit, and read by the tests). The other
 * counters follow the MIB names of RFC 4293 where one exists.
 */
#ifndef NETD_STATS_H
#define NETD_STATS_H

#include <stdint.h>
#include <stdio.h>

#define DROP_REASONS(X) \
	X(NOMEM,		"no packet buffer free") \
	X(ETH_SHORT,		"frame shorter than an Ethernet header") \
	X(ETH_NOT_FOR_US,	"destination MAC is neither ours, broadcast nor a joined group") \
	X(ETH_SRC_INVALID,	"source MAC is broadcast or multicast") \
	X(ETH_UNKNOWN_TYPE,	"ethertype netd does not speak") \
	X(ARP_MALFORMED,	"ARP packet truncated or with impossible lengths") \
	X(ARP_UNSUPPORTED,	"ARP for a hardware or protocol type other than Ethernet/IPv4") \
	X(ARP_BAD_SENDER,	"ARP sender MAC or IP address is not a unicast host") \
	X(ARP_ADDR_CONFLICT,	"ARP sender claims one of our addresses") \
	X(ARP_NOT_FOR_US,	"ARP request for an address that is not ours") \
	X(ARP_UNSOLICITED,	"ARP reply for an address we did not ask about") \
	X(ARP_QUEUE_FULL,	"queue of packets awaiting ARP resolution full") \
	X(ARP_RESOLVE_FAILED,	"next hop did not answer ARP") \
	X(ARP_TABLE_FULL,	"no free neighbour entry") \
	X(IP_SHORT,		"IPv4 packet shorter than its header") \
	X(IP_VERSION,		"IP version is not 4") \
	X(IP_HDRLEN,		"IPv4 header length below 20 or beyond the packet") \
	X(IP_TOTLEN,		"IPv4 total length below the header or beyond the frame") \
	X(IP_CSUM,		"IPv4 header checksum wrong") \
	X(IP_OPTIONS,		"IPv4 options malformed") \
	X(IP_MARTIAN_SRC,	"IPv4 source is multicast, broadcast, loopback or zero") \
	X(IP_NOT_FOR_US,	"IPv4 packet not for us and forwarding is off") \
	X(IP_NO_ROUTE,		"no route to the destination") \
	X(IP_TTL_EXPIRED,	"TTL expired in forwarding") \
	X(IP_FRAG_NEEDED,	"packet larger than the MTU with DF set") \
	X(IP_UNKNOWN_PROTO,	"IP protocol netd does not speak") \
	X(IP_LINK_BCAST,	"unicast IP packet in a link-layer broadcast") \
	X(FRAG_MALFORMED,	"fragment with a bad length or offset") \
	X(FRAG_OVERLAP,		"fragments overlap: the whole datagram is discarded") \
	X(FRAG_DUPLICATE,	"fragment already received") \
	X(FRAG_TOO_BIG,		"fragments reach beyond 65535 bytes") \
	X(FRAG_TIMEOUT,		"datagram not complete before the reassembly timeout") \
	X(FRAG_MEMLIMIT,	"reassembly memory limit reached") \
	X(ICMP_MALFORMED,	"ICMP message truncated") \
	X(ICMP_CSUM,		"ICMP checksum wrong") \
	X(ICMP_BCAST_ECHO,	"echo request to a broadcast or multicast address") \
	X(ICMP_IGNORED,		"ICMP type netd does not act on") \
	X(UDP_SHORT,		"UDP datagram shorter than its header or length field") \
	X(UDP_CSUM,		"UDP checksum wrong") \
	X(UDP_NO_PORT,		"UDP datagram for a port nobody listens on") \
	X(UDP_RCVBUF,		"UDP socket receive buffer full") \
	X(TCP_SHORT,		"TCP segment shorter than its header") \
	X(TCP_HDRLEN,		"TCP data offset below 20 or beyond the segment") \
	X(TCP_CSUM,		"TCP checksum wrong") \
	X(TCP_OPTIONS,		"TCP option length overruns the header") \
	X(TCP_NOT_UNICAST,	"TCP segment to a broadcast or multicast address") \
	X(TCP_NO_SOCKET,	"no connection for the TCP segment") \
	X(TCP_FLAGS,		"TCP flags not valid in the connection's state") \
	X(TCP_OUT_OF_WINDOW,	"TCP segment outside the receive window") \
	X(TCP_PAWS,		"TCP timestamp older than TS.Recent (PAWS, RFC 7323)") \
	X(TCP_CHALLENGE,	"TCP RST or SYN answered with a challenge ACK (RFC 5961)") \
	X(TCP_ACK_UNSENT,	"TCP ACK for data never sent") \
	X(TCP_ACK_TOO_OLD,	"TCP ACK below SND.UNA by more than the peer's window (RFC 5961 5.2)") \
	X(TCP_ZERO_WINDOW,	"TCP data while the receive window was closed") \
	X(TCP_RCVBUF,		"TCP receive buffer full") \
	X(TCP_OFO_DUPLICATE,	"TCP out-of-order data already queued") \
	X(TCP_OFO_FULL,		"TCP out-of-order queue full") \
	X(TCP_DATA_AFTER_FIN,	"TCP data after the peer's FIN") \
	X(TCP_DATA_AFTER_CLOSE,	"TCP data after the application closed: connection reset") \
	X(TCP_LISTEN_OVERFLOW,	"TCP SYN dropped: accept queue full") \
	X(TCP_NO_CHILD,		"TCP SYN or cookie ACK dropped: no socket free") \
	X(TCP_COOKIE,		"TCP ACK to a listener without a valid SYN cookie") \
	X(FILTER,		"refused by a filter hook") \
	X(DEV_TX_FULL,		"device transmit queue full") \
	X(DEV_TX_ERROR,		"device write failed") \
	X(FAULT_INJECTED,	"dropped by the fault injector")

enum drop_reason {
	DROP_NONE = 0,
#define X(name, text) DROP_##name,
	DROP_REASONS(X)
#undef X
	DROP_MAX
};

#define STAT_COUNTERS(X) \
	X(ETH_IN_FRAMES) X(ETH_OUT_FRAMES) \
	X(ARP_IN_REQUESTS) X(ARP_IN_REPLIES) X(ARP_OUT_REQUESTS) X(ARP_OUT_REPLIES) \
	X(IP_IN_RECEIVES) X(IP_IN_DELIVERS) X(IP_OUT_REQUESTS) X(IP_FORW_DATAGRAMS) \
	X(IP_REASM_REQDS) X(IP_REASM_OKS) X(IP_FRAG_OKS) X(IP_FRAG_CREATES) \
	X(ICMP_IN_MSGS) X(ICMP_IN_ECHOS) X(ICMP_IN_ERRORS) \
	X(ICMP_OUT_MSGS) X(ICMP_OUT_ECHO_REPS) X(ICMP_OUT_ERROR_MSGS) X(ICMP_RATELIMITED) \
	X(UDP_IN_DATAGRAMS) X(UDP_OUT_DATAGRAMS) X(UDP_NO_PORTS) X(UDP_IN_ERRORS) \
	X(TCP_ACTIVE_OPENS) X(TCP_PASSIVE_OPENS) X(TCP_ATTEMPT_FAILS) X(TCP_ESTAB_RESETS) \
	X(TCP_IN_SEGS) X(TCP_OUT_SEGS) X(TCP_RETRANS_SEGS) X(TCP_IN_ERRS) X(TCP_OUT_RSTS) \
	X(TCP_TIMEOUTS) X(TCP_FAST_RETRANS) X(TCP_SACK_RECOVERY) X(TCP_DELAYED_ACKS) \
	X(TCP_CHALLENGE_ACKS) X(TCP_ACKS_RATELIMITED) X(TCP_WINDOW_PROBES) \
	X(TCP_KEEPALIVE_PROBES) X(TCP_ABORT_ON_TIMEOUT) X(TCP_ABORT_ON_DATA) \
	X(TCP_SYNCOOKIES_SENT) X(TCP_SYNCOOKIES_RECV) X(TCP_SYNCOOKIES_FAILED) \
	X(TCP_PMTU_REDUCED) X(TCP_OUT_OF_WINDOW_ICMPS) X(TCP_LOSS_PROBES) \
	X(TCP_LOSS_PROBE_RECOVERY) X(TCP_LOST_RETRANSMITS)

enum stat_counter {
#define X(name) STAT_##name,
	STAT_COUNTERS(X)
#undef X
	STAT_MAX
};

const char *drop_reason_name(enum drop_reason r);
const char *drop_reason_text(enum drop_reason r);
const char *stat_name(enum stat_counter s);
/* Prints every non-zero counter and drop reason, one per line. */
void stats_print(FILE *f, const uint64_t *stats, const uint64_t *drops);

#endif
