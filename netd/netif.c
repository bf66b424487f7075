/*
 * netif.c: interfaces of the stack. Adding an address adds its connected
 * route; received frames enter through netif_receive(), transmitted ones
 * collect in a batch that netif_flush() hands to the device once per loop
 * turn (or sooner, when the batch is full). Taps (live captures) see
 * frames at both ends.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stack.h"
#include "util.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

struct netif *netif_add(struct stack *st, struct netdev *dev, const uint8_t *mac, unsigned mtu)
{
	if (st->nifs >= NETIF_MAX)
		return NULL;
	struct netif *nif = calloc(1, sizeof(*nif));
	if (!nif)
		return NULL;
	nif->st = st;
	nif->dev = dev;
	nif->index = st->nifs;
	snprintf(nif->name, sizeof(nif->name), "%s", dev->name);
	memcpy(nif->mac, mac, ETH_ALEN);
	nif->mtu = mtu;
	st->ifs[st->nifs++] = nif;
	/* RFC 1112 level 2: every host belongs to 224.0.0.1. */
	uint8_t all_hosts[ETH_ALEN];
	eth_ipv4_mcast(0xe0000001, all_hosts);
	netif_join_mac(nif, all_hosts);
	return nif;
}

int netif_add_addr(struct netif *nif, uint32_t addr, unsigned plen)
{
	if (plen > 32 || addr == 0 || ipv4_is_multicast(addr) || ipv4_is_limited_bcast(addr))
		return -EINVAL;
	if (nif->naddrs >= NETIF_MAX_ADDRS)
		return -ENOSPC;
	if (stack_is_local(nif->st, addr))
		return -EEXIST;
	struct netif_addr *ia = &nif->addrs[nif->naddrs];
	ia->addr = addr;
	ia->plen = (uint8_t)plen;
	ia->mask = ipv4_mask(plen);
	ia->bcast = (addr & ia->mask) | ~ia->mask;
	struct route r = {
		.dst = addr & ia->mask, .plen = (uint8_t)plen, .gw = 0,
		.nif = nif, .src = addr, .origin = ROUTE_CONNECTED,
	};
	int err = route_add(&nif->st->routes, &r);
	if (err && err != -EEXIST)
		return err;
	nif->naddrs++;
	return 0;
}

void netif_up(struct netif *nif)
{
	for (unsigned i = 0; i < nif->naddrs; i++)
		arp_announce(nif, nif->addrs[i].addr);
}

int netif_join_mac(struct netif *nif, const uint8_t *mac)
{
	for (unsigned i = 0; i < nif->ngroups; i++)
		if (memcmp(nif->groups[i], mac, ETH_ALEN) == 0)
			return 0;
	if (nif->ngroups >= NETIF_MAX_GROUPS)
		return -ENOSPC;
	memcpy(nif->groups[nif->ngroups++], mac, ETH_ALEN);
	return 0;
}

bool netif_has_addr(const struct netif *nif, uint32_t addr)
{
	for (unsigned i = 0; i < nif->naddrs; i++)
		if (nif->addrs[i].addr == addr)
			return true;
	return false;
}

uint32_t netif_source_for(const struct netif *nif, uint32_t dst)
{
	for (unsigned i = 0; i < nif->naddrs; i++)
		if ((dst & nif->addrs[i].mask) == (nif->addrs[i].addr & nif->addrs[i].mask))
			return nif->addrs[i].addr;
	return nif->naddrs ? nif->addrs[0].addr : 0;
}

void netif_tap_add(struct stack *st, struct netif_tap *tap)
{
	tap->next = st->taps;
	st->taps = tap;
}

void netif_tap_del(struct stack *st, struct netif_tap *tap)
{
	struct netif_tap **pp = &st->taps;
	while (*pp && *pp != tap)
		pp = &(*pp)->next;
	if (*pp)
		*pp = tap->next;
}

static void netif_run_taps(const struct netif *nif, const struct nbuf *nb, bool out)
{
	for (struct netif_tap *t = nif->st->taps, *next; t; t = next) {
		next = t->next;
		t->fn(t, nif, nb, out);
	}
}

void netif_receive(struct netif *nif, struct nbuf *nb)
{
	nb->ifindex = (uint16_t)nif->index;
	if (unlikely(nif->st->taps))
		netif_run_taps(nif, nb, false);
	stat_inc(nif->st, STAT_ETH_IN_FRAMES);
	eth_input(nif, nb);
}

unsigned netif_poll(struct netif *nif, unsigned budget)
{
	struct nbuf *batch[NETDEV_BATCH];
	unsigned done = 0;

	while (done < budget) {
		int want = (int)MIN(budget - done, (unsigned)NETDEV_BATCH);
		int n = nif->dev->ops->rx_burst(nif->dev, batch, want);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			netif_receive(nif, batch[i]);
		done += (unsigned)n;
		if (n < want)
			break;
	}
	return done;
}

void dev_queue_xmit(struct netif *nif, struct nbuf *nb)
{
	if (nif->ntx == NETDEV_BATCH)
		netif_flush(nif);
	nb->ifindex = (uint16_t)nif->index;
	if (unlikely(nif->st->taps))
		netif_run_taps(nif, nb, true);
	nif->txq[nif->ntx++] = nb;
	stat_inc(nif->st, STAT_ETH_OUT_FRAMES);
}

void netif_flush(struct netif *nif)
{
	if (!nif->ntx)
		return;
	int sent = nif->dev->ops->tx_burst(nif->dev, nif->txq, (int)nif->ntx);
	for (unsigned i = (unsigned)MAX(sent, 0); i < nif->ntx; i++)
		nbuf_drop(nif->st, nif->txq[i], DROP_DEV_TX_FULL);
	nif->ntx = 0;
}
