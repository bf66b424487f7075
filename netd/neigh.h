/*
 * neigh.h: the neighbour cache and ARP (RFC 826, RFC 1122 2.3.2). Entries
 * move INCOMPLETE -> REACHABLE -> STALE -> PROBE -> REACHABLE or FAILED, as
 * Linux's do; packets for a next hop still being resolved wait in a short
 * queue on its entry. A reply only updates an entry we asked about, so an
 * unsolicited reply cannot poison the cache.
 */
#ifndef NETD_NEIGH_H
#define NETD_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include "nbuf.h"
#include "timer.h"

struct netif;
struct stack;

enum neigh_state {
	NEIGH_FREE,
	NEIGH_INCOMPLETE,	/* request sent, no answer yet */
	NEIGH_REACHABLE,	/* confirmed within reachable_time */
	NEIGH_STALE,		/* usable, not confirmed lately */
	NEIGH_DELAY,		/* used while stale: probe unless confirmed soon */
	NEIGH_PROBE,		/* used while stale: unicast requests sent */
	NEIGH_FAILED,		/* no answer: packets to it are refused */
};

struct neigh {
	struct neigh *hnext;
	struct netif *nif;
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;
	uint8_t probes;
	uint64_t confirmed;
	uint64_t used;
	struct timer timer;
	struct nbuf_queue pending;
};

#define NEIGH_BUCKETS 256

struct neigh_table {
	struct neigh *entries;
	unsigned size, used;
	struct neigh *buckets[NEIGH_BUCKETS];
};

int neigh_table_init(struct neigh_table *t, unsigned size);
/* Frees every entry and the packets waiting on them. */
void neigh_table_destroy(struct stack *st, struct neigh_table *t);

/* Consumes nb, data at the ARP header. */
void arp_input(struct netif *nif, struct nbuf *nb);
/* Sends nb (data at the IP header) to nexthop on nif, resolving it first
 * if needed. Consumes nb. */
void neigh_output(struct netif *nif, uint32_t nexthop, struct nbuf *nb);
/* Broadcasts a gratuitous ARP request for addr. */
void arp_announce(struct netif *nif, uint32_t addr);
struct neigh *neigh_lookup(struct stack *st, struct netif *nif, uint32_t ip);
const char *neigh_state_name(enum neigh_state s);

#endif
