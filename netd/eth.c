/*
 * eth.c: the Ethernet layer. eth_input() accepts frames for our MAC,
 * broadcast and joined multicast groups, and hands them on by ethertype;
 * eth_output() prepends the header and queues the frame for the device.
 */
#include "config.h"

#include <string.h>

#include "stack.h"
#include "wire/eth.h"

static bool eth_accepts(const struct netif *nif, const uint8_t *dst, uint8_t *pkt_type)
{
	if (memcmp(dst, nif->mac, ETH_ALEN) == 0) {
		*pkt_type = NBUF_HOST;
		return true;
	}
	if (eth_is_broadcast(dst)) {
		*pkt_type = NBUF_BROADCAST;
		return true;
	}
	for (unsigned i = 0; i < nif->ngroups; i++) {
		if (memcmp(dst, nif->groups[i], ETH_ALEN) == 0) {
			*pkt_type = NBUF_MULTICAST;
			return true;
		}
	}
	return false;
}

void eth_input(struct netif *nif, struct nbuf *nb)
{
	struct stack *st = nif->st;
	struct eth_hdr eh;
	int why = eth_parse(nb->data, nbuf_len(nb), &eh);

	if (why)
		goto drop;
	why = DROP_ETH_NOT_FOR_US;
	if (!eth_accepts(nif, eh.dst, &nb->pkt_type))
		goto drop;
	why = DROP_ETH_SRC_INVALID;
	if (eth_is_multicast(eh.src))
		goto drop;
	nbuf_pull(nb, ETH_HLEN);
	switch (eh.type) {
	case ETHERTYPE_ARP:
		arp_input(nif, nb);
		return;
	case ETHERTYPE_IPV4:
		ip_input(nif, nb);
		return;
	default:
		why = DROP_ETH_UNKNOWN_TYPE;
		goto drop;
	}
drop:
	nbuf_drop(st, nb, (enum drop_reason)why);
}

void eth_output(struct netif *nif, struct nbuf *nb, const uint8_t *dst, uint16_t type)
{
	struct eth_hdr eh;
	memcpy(eh.dst, dst, ETH_ALEN);
	memcpy(eh.src, nif->mac, ETH_ALEN);
	eh.type = type;
	eth_emit(nbuf_push(nb, ETH_HLEN), &eh);
	dev_queue_xmit(nif, nb);
}
