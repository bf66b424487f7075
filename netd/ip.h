/*
 * ip.h: IPv4 input, local delivery, forwarding and output (RFC 791,
 * RFC 1122 3.2.1, RFC 1812 5.2-5.3 for forwarding).
 */
#ifndef NETD_IP_H
#define NETD_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nbuf.h"

struct netif;
struct stack;
struct ipv4_hdr;
struct route;

#define IP_IDENTS 2048

/* What a locally built datagram needs. src 0: chosen from the route. */
struct ip_out {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	bool df;		/* always set DF */
	bool df_if_fits;	/* set DF when no fragment is needed (IP_PMTUDISC_WANT) */
};

/* The route for a datagram from src (one of our addresses, or 0) to dst;
 * NULL when there is none. As Linux's ip_route_output_key_hash_rcu, from
 * one of our addresses the limited broadcast and multicast leave through
 * that address's interface whatever the table says: then the route is
 * made up in *scratch. */
const struct route *ip_route_output(struct stack *st, uint32_t src, uint32_t dst,
				    struct route *scratch);
/* Consumes nb; data at the IP header. */
void ip_input(struct netif *nif, struct nbuf *nb);
/* Delivers a datagram for us to its protocol. Consumes nb; data at IP header. */
void ip_local_deliver(struct stack *st, struct nbuf *nb);
/* Pushes an IP header in front of nb's data (the payload), routes it and
 * sends it, fragmenting it to the MTU. Consumes nb. 0 or -errno
 * (-ENETUNREACH without a route, -EMSGSIZE when DF forbids fragments). */
int ip_output(struct stack *st, struct nbuf *nb, const struct ip_out *o);
/* Sends a datagram whose header is complete (data at the IP header, h its
 * parsed fields, so nothing parses it twice) on the route rt: POST_ROUTING,
 * fragmentation, neighbour resolution. Consumes nb. */
int ip_finish_output(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h,
		     const struct route *rt);
/* An IP identification for a datagram to dst: per-destination counters
 * hashed with a secret, so ids reveal nothing across destinations. */
uint16_t ip_select_id(struct stack *st, uint32_t dst, uint8_t proto);
/* Hands an ICMP error about one of our datagrams to the protocol that sent
 * it; quoted is the datagram's IP header and what follows of it (len bytes,
 * at least the header and 8 bytes). */
void ip_icmp_error_deliver(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type,
			   uint8_t code, uint32_t info);
/* Delivers the datagrams we sent to ourselves; the loop calls it each turn. */
void ip_loopback_run(struct stack *st);

#endif
