/*
 * ip_output.c: IPv4 send: header, route, the LOCAL_OUT and POST_ROUTING
 * hooks, fragmentation to the MTU and the hand-off to neighbour
 * resolution. Datagrams to our own addresses go through the loopback
 * queue instead of a device, and are delivered on the next loop turn.
 */
#include "config.h"

#include <errno.h>

#include "stack.h"
#include "util.h"
#include "wire/ipv4.h"

uint16_t ip_select_id(struct stack *st, uint32_t dst, uint8_t proto)
{
	uint32_t h = (dst ^ st->ip_id_secret) * 0x9e3779b1u;
	h ^= (uint32_t)proto * 0x85ebca6bu;
	h ^= h >> 15;
	return st->ip_ids[h % IP_IDENTS]++;
}

/* The interface that holds addr (Linux's __ip_dev_find). */
static struct netif *ip_dev_find(const struct stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->nifs; i++)
		if (netif_has_addr(st->ifs[i], addr))
			return st->ifs[i];
	return NULL;
}

const struct route *ip_route_output(struct stack *st, uint32_t src, uint32_t dst,
				    struct route *scratch)
{
	struct netif *nif;
	if (src && (ipv4_is_limited_bcast(dst) || ipv4_is_multicast(dst)) &&
	    (nif = ip_dev_find(st, src))) {
		*scratch = (struct route){.dst = dst, .plen = 32, .nif = nif, .src = src};
		return scratch;
	}
	return route_lookup(&st->routes, dst);
}

static int ip_route_out(struct stack *st, struct nbuf *nb, const struct ip_out *o,
			const struct route **rt, struct route *scratch)
{
	*rt = ip_route_output(st, o->src, o->dst, scratch);
	if (!*rt) {
		nbuf_drop(st, nb, DROP_IP_NO_ROUTE);
		return -ENETUNREACH;
	}
	size_t total = nbuf_len(nb) + IPV4_HLEN;
	if (total > IPV4_MAX_LEN || (o->df && total > (*rt)->nif->mtu)) {
		nbuf_drop(st, nb, DROP_IP_FRAG_NEEDED);
		return -EMSGSIZE;
	}
	return 0;
}

int ip_output(struct stack *st, struct nbuf *nb, const struct ip_out *o)
{
	const struct route *rt;
	struct route scratch;
	int err = ip_route_out(st, nb, o, &rt, &scratch);
	if (err)
		return err;

	struct ipv4_hdr h = {
		.hlen = IPV4_HLEN, .tos = o->tos,
		.total_len = (uint16_t)(nbuf_len(nb) + IPV4_HLEN),
		.id = ip_select_id(st, o->dst, o->proto),
		.df = o->df || (o->df_if_fits && nbuf_len(nb) + IPV4_HLEN <= rt->nif->mtu),
		.ttl = o->ttl ? o->ttl : st->params.default_ttl, .proto = o->proto,
		.src = o->src ? o->src : rt->src ? rt->src : netif_source_for(rt->nif, o->dst),
		.dst = o->dst,
	};
	ipv4_emit(nbuf_push(nb, IPV4_HLEN), &h);
	nbuf_mark_l3(nb);
	nb->pkt_type = NBUF_OUTGOING;
	stat_inc(st, STAT_IP_OUT_REQUESTS);
	if (!filter_accept(&st->filter, HOOK_LOCAL_OUT, nb, &h)) {
		nbuf_drop(st, nb, DROP_FILTER);
		return -EPERM;
	}
	if (stack_is_local(st, h.dst)) {
		nb->pkt_type = NBUF_HOST;
		nbuf_queue_push(&st->loopback, nb);
		return 0;
	}
	return ip_finish_output(st, nb, &h, rt);
}

int ip_finish_output(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *hdr,
		     const struct route *rt)
{
	struct netif *nif = rt->nif;
	const struct ipv4_hdr h = *hdr;
	struct nbuf_queue frags = {0};

	if (!filter_accept(&st->filter, HOOK_POST_ROUTING, nb, &h)) {
		nbuf_drop(st, nb, DROP_FILTER);
		return -EPERM;
	}
	uint32_t nexthop = rt->gw ? rt->gw : h.dst;
	if (nbuf_len(nb) <= nif->mtu) {
		neigh_output(nif, nexthop, nb);
		return 0;
	}
	if (h.df) {
		nbuf_drop(st, nb, DROP_IP_FRAG_NEEDED);
		return -EMSGSIZE;
	}
	int err = ip_fragment(st, nb, nif->mtu, &frags);
	struct nbuf *f;
	while ((f = nbuf_queue_pop(&frags)))
		neigh_output(nif, nexthop, f);
	return err;
}

void ip_loopback_run(struct stack *st)
{
	struct nbuf *nb;
	unsigned budget = st->loopback.len;	/* not what this turn adds */

	while (budget-- && (nb = nbuf_queue_pop(&st->loopback)))
		ip_local_deliver(st, nb);
}
