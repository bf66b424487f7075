/*
 * neigh.c: the neighbour cache and ARP (RFC 826; RFC 1122 2.3.2.1 for
 * cache validation; state names after Linux's neighbour code).
 *
 * Learning rules, chosen to keep the cache unpoisonable by unsolicited
 * replies: an entry is created only when we resolve a next hop ourselves,
 * or when a host asks for one of our addresses (RFC 826: it is about to
 * talk to us). A reply updates only an entry we asked about (INCOMPLETE,
 * PROBE), or confirms the MAC of one about to be probed (DELAY); a request may replace the MAC of an entry that is no longer
 * REACHABLE; everything else is counted and ignored.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stack.h"
#include "util.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

static void neigh_timer(struct timer *t, uint64_t now);

static unsigned neigh_bucket(unsigned ifindex, uint32_t ip)
{
	uint32_t h = (ip ^ (ifindex * 0x9e3779b9u)) * 0x85ebca6bu;
	return (h >> 16) % NEIGH_BUCKETS;
}

int neigh_table_init(struct neigh_table *t, unsigned size)
{
	memset(t, 0, sizeof(*t));
	t->entries = calloc(size, sizeof(*t->entries));
	if (!t->entries)
		return -ENOMEM;
	t->size = size;
	for (unsigned i = 0; i < size; i++)
		timer_init(&t->entries[i].timer, neigh_timer);
	return 0;
}

static struct stack *neigh_stack(const struct neigh *n)
{
	return n->nif->st;
}

static void neigh_release(struct neigh *n)
{
	struct stack *st = neigh_stack(n);
	struct neigh **pp = &st->neigh.buckets[neigh_bucket(n->nif->index, n->ip)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	timer_cancel(&st->timers, &n->timer);
	nbuf_queue_purge(&n->pending);
	n->state = NEIGH_FREE;
	n->nif = NULL;
	st->neigh.used--;
}

void neigh_table_destroy(struct stack *st, struct neigh_table *t)
{
	for (unsigned i = 0; i < t->size; i++)
		if (t->entries[i].state != NEIGH_FREE)
			neigh_release(&t->entries[i]);
	free(t->entries);
	t->entries = NULL;
}

struct neigh *neigh_lookup(struct stack *st, struct netif *nif, uint32_t ip)
{
	struct neigh *n = st->neigh.buckets[neigh_bucket(nif->index, ip)];
	while (n && (n->nif != nif || n->ip != ip))
		n = n->hnext;
	return n;
}

/* A free entry, or the stale or failed one unused longest. */
static struct neigh *neigh_slot(struct neigh_table *t)
{
	struct neigh *victim = NULL;
	for (unsigned i = 0; i < t->size; i++) {
		struct neigh *n = &t->entries[i];
		if (n->state == NEIGH_FREE)
			return n;
		if ((n->state == NEIGH_STALE || n->state == NEIGH_FAILED) &&
		    (!victim || n->used < victim->used))
			victim = n;
	}
	if (victim)
		neigh_release(victim);
	return victim;
}

static struct neigh *neigh_create(struct netif *nif, uint32_t ip, enum neigh_state state)
{
	struct stack *st = nif->st;
	struct neigh *n = neigh_slot(&st->neigh);
	if (!n)
		return NULL;
	unsigned b = neigh_bucket(nif->index, ip);
	n->nif = nif;
	n->ip = ip;
	n->state = (uint8_t)state;
	n->probes = 0;
	n->used = n->confirmed = stack_now(st);
	memset(n->mac, 0, ETH_ALEN);
	n->hnext = st->neigh.buckets[b];
	st->neigh.buckets[b] = n;
	st->neigh.used++;
	return n;
}

const char *neigh_state_name(enum neigh_state s)
{
	static const char *const names[] = {
		"FREE", "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED",
	};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

static void arp_send(struct netif *nif, uint16_t op, const uint8_t *eth_dst,
		     const uint8_t *tha, uint32_t tpa, uint32_t spa)
{
	struct stack *st = nif->st;
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, ARP_LEN);
	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return;
	}
	struct arp_pkt a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, nif->mac, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	arp_emit(nbuf_put(nb, ARP_LEN), &a);
	stat_inc(st, op == ARP_OP_REQUEST ? STAT_ARP_OUT_REQUESTS : STAT_ARP_OUT_REPLIES);
	eth_output(nif, nb, eth_dst, ETHERTYPE_ARP);
}

void arp_announce(struct netif *nif, uint32_t addr)
{
	static const uint8_t zero[ETH_ALEN];
	arp_send(nif, ARP_OP_REQUEST, eth_broadcast, zero, addr, addr);
}

/* Asks for n's MAC: broadcast while INCOMPLETE, unicast while PROBE. */
static void neigh_solicit(struct neigh *n)
{
	static const uint8_t zero[ETH_ALEN];
	struct stack *st = neigh_stack(n);
	const uint8_t *dst = n->state == NEIGH_PROBE ? n->mac : eth_broadcast;
	uint32_t spa = netif_source_for(n->nif, n->ip);

	n->probes++;
	arp_send(n->nif, ARP_OP_REQUEST, dst, zero, n->ip, spa);
	timer_arm(&st->timers, &n->timer, stack_now(st) + MSEC(st->params.arp_retrans_ms));
}

static void neigh_set_reachable(struct neigh *n, const uint8_t *mac)
{
	struct stack *st = neigh_stack(n);
	struct nbuf *nb;

	memcpy(n->mac, mac, ETH_ALEN);
	n->state = NEIGH_REACHABLE;
	n->probes = 0;
	n->confirmed = stack_now(st);
	timer_arm(&st->timers, &n->timer, n->confirmed + MSEC(st->params.arp_reachable_ms));
	while ((nb = nbuf_queue_pop(&n->pending)))
		eth_output(n->nif, nb, n->mac, ETHERTYPE_IPV4);
}

/* Resolution failed: tell the senders of the waiting packets. */
static void neigh_fail(struct neigh *n)
{
	struct stack *st = neigh_stack(n);
	struct nbuf *nb;

	n->state = NEIGH_FAILED;
	timer_arm(&st->timers, &n->timer, stack_now(st) + MSEC(st->params.arp_failed_ms));
	while ((nb = nbuf_queue_pop(&n->pending))) {
		icmp_send_error(st, nb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
		nbuf_drop(st, nb, DROP_ARP_RESOLVE_FAILED);
	}
}

static void neigh_timer(struct timer *t, uint64_t now)
{
	struct neigh *n = container_of(t, struct neigh, timer);
	struct stack *st = neigh_stack(n);

	switch (n->state) {
	case NEIGH_INCOMPLETE:
	case NEIGH_PROBE:
		if (n->probes >= st->params.arp_probes)
			neigh_fail(n);
		else
			neigh_solicit(n);
		break;
	case NEIGH_REACHABLE:
		n->state = NEIGH_STALE;
		break;
	case NEIGH_DELAY:
		n->state = NEIGH_PROBE;
		n->probes = 0;
		neigh_solicit(n);
		break;
	case NEIGH_FAILED:
		neigh_release(n);
		break;
	default:
		break;
	}
}

static void neigh_enqueue(struct neigh *n, struct nbuf *nb)
{
	struct stack *st = neigh_stack(n);
	if (n->pending.len >= st->params.arp_queue_len)
		nbuf_drop(st, nbuf_queue_pop(&n->pending), DROP_ARP_QUEUE_FULL);
	nbuf_queue_push(&n->pending, nb);
}

static bool neigh_direct_mac(struct netif *nif, uint32_t ip, uint8_t *mac)
{
	if (ipv4_is_limited_bcast(ip) || stack_is_subnet_bcast(nif->st, ip)) {
		memcpy(mac, eth_broadcast, ETH_ALEN);
		return true;
	}
	if (ipv4_is_multicast(ip)) {
		eth_ipv4_mcast(ip, mac);
		return true;
	}
	return false;
}

void neigh_output(struct netif *nif, uint32_t nexthop, struct nbuf *nb)
{
	struct stack *st = nif->st;
	uint8_t mac[ETH_ALEN];
	struct neigh *n;

	if (neigh_direct_mac(nif, nexthop, mac)) {
		eth_output(nif, nb, mac, ETHERTYPE_IPV4);
		return;
	}
	n = neigh_lookup(st, nif, nexthop);
	if (!n) {
		n = neigh_create(nif, nexthop, NEIGH_INCOMPLETE);
		if (!n) {
			nbuf_drop(st, nb, DROP_ARP_TABLE_FULL);
			return;
		}
		neigh_enqueue(n, nb);
		neigh_solicit(n);
		return;
	}
	n->used = stack_now(st);
	switch (n->state) {
	case NEIGH_INCOMPLETE:
		neigh_enqueue(n, nb);
		return;
	case NEIGH_FAILED:
		nbuf_drop(st, nb, DROP_ARP_RESOLVE_FAILED);
		return;
	case NEIGH_STALE:
		n->state = NEIGH_DELAY;
		timer_arm(&st->timers, &n->timer, stack_now(st) + MSEC(st->params.arp_delay_ms));
		break;
	default:
		break;
	}
	eth_output(nif, nb, n->mac, ETHERTYPE_IPV4);
}

/* The sender of a packet: must be a unicast host, and not claim our address. */
static int arp_check_sender(struct netif *nif, const struct arp_pkt *a)
{
	if (eth_is_multicast(a->sha) || eth_is_zero(a->sha) || ipv4_is_multicast(a->spa) ||
	    ipv4_is_limited_bcast(a->spa) || ipv4_is_loopback(a->spa) ||
	    stack_is_subnet_bcast(nif->st, a->spa))
		return DROP_ARP_BAD_SENDER;
	if (a->spa && stack_is_local(nif->st, a->spa)) {
		char ip[IPV4_ADDR_STRLEN], mac[ETH_MAC_STRLEN];
		log_warn("%s: %s claims our address %s", nif->name, eth_ntoa(a->sha, mac),
			 ipv4_ntoa(a->spa, ip));
		return DROP_ARP_ADDR_CONFLICT;
	}
	return 0;
}

/* RFC 826 merge step, under the rules at the top of this file. 0 or a drop reason. */
static int arp_learn(struct netif *nif, const struct arp_pkt *a, bool for_us)
{
	struct neigh *n = a->spa ? neigh_lookup(nif->st, nif, a->spa) : NULL;
	bool asked = n && (n->state == NEIGH_INCOMPLETE || n->state == NEIGH_PROBE);
	/* In DELAY nothing was asked yet: only the MAC we hold is confirmed. */
	bool confirms = n && n->state == NEIGH_DELAY && memcmp(n->mac, a->sha, ETH_ALEN) == 0;

	if (asked || confirms) {
		neigh_set_reachable(n, a->sha);
		return 0;
	}
	if (a->op == ARP_OP_REPLY)
		return n && memcmp(n->mac, a->sha, ETH_ALEN) == 0 ? 0 : DROP_ARP_UNSOLICITED;
	if (!for_us || !a->spa)
		return 0;
	if (!n) {
		n = neigh_create(nif, a->spa, NEIGH_STALE);
		if (n)
			memcpy(n->mac, a->sha, ETH_ALEN);
	} else if (n->state != NEIGH_REACHABLE && memcmp(n->mac, a->sha, ETH_ALEN) != 0) {
		memcpy(n->mac, a->sha, ETH_ALEN);
		n->state = NEIGH_STALE;
		timer_cancel(&nif->st->timers, &n->timer);
	}
	return 0;
}

void arp_input(struct netif *nif, struct nbuf *nb)
{
	struct stack *st = nif->st;
	struct arp_pkt a;
	int why = arp_parse(nb->data, nbuf_len(nb), &a);

	if (!why)
		why = arp_check_sender(nif, &a);
	if (why)
		goto drop;
	stat_inc(st, a.op == ARP_OP_REQUEST ? STAT_ARP_IN_REQUESTS : STAT_ARP_IN_REPLIES);
	bool for_us = netif_has_addr(nif, a.tpa);
	why = arp_learn(nif, &a, for_us);
	if (why)
		goto drop;
	if (a.op == ARP_OP_REQUEST) {
		why = DROP_ARP_NOT_FOR_US;
		if (!for_us)
			goto drop;
		arp_send(nif, ARP_OP_REPLY, a.sha, a.sha, a.spa, a.tpa);
	}
	nbuf_free(nb);
	return;
drop:
	nbuf_drop(st, nb, (enum drop_reason)why);
}
