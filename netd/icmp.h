/*
 * icmp.h: ICMP (RFC 792, RFC 1122 3.2.2): echo replies, errors sent about
 * packets we cannot deliver or forward (rate-limited, and never about an
 * ICMP error, a broadcast, or a fragment other than the first), and errors
 * received, handed to the protocol of the packet they quote.
 */
#ifndef NETD_ICMP_H
#define NETD_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "nbuf.h"

struct stack;
struct ipv4_hdr;

#define ICMP_RL_BUCKETS 64

struct icmp_bucket {
	uint32_t dst;
	uint64_t tokens_ns;	/* credit, in nanoseconds of rate */
	uint64_t last;
	bool used;
};

struct icmp_limiter {
	uint64_t global_tokens;	/* messages * NSEC_PER_SEC */
	uint64_t global_last;
	bool global_started;
	struct icmp_bucket per_dst[ICMP_RL_BUCKETS];
};

/* Consumes nb; data at the ICMP header, l3 marked, h its IP header. */
void icmp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h);
/* The errno an ICMP error means for the socket that sent the datagram it
 * quotes (Linux's icmp_err_convert), 0 for none; *hard says whether it
 * ends a connection attempt. */
int icmp_err_to_errno(uint8_t type, uint8_t code, bool *hard);
/* Sends an ICMP error about orig (l3 marked at its IP header). Does not
 * consume orig. */
void icmp_send_error(struct stack *st, struct nbuf *orig, uint8_t type, uint8_t code,
		     uint32_t info);

#endif
