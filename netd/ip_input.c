/*
 * ip_input.c: IPv4 receive (RFC 791 3.2, RFC 1122 3.2.1): validation,
 * martian filtering, the route decision (local, broadcast, forward),
 * local delivery with reassembly, and forwarding (RFC 1812 5.2-5.3):
 * TTL, time exceeded, fragmentation needed.
 */
#include "config.h"

#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "util.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* RFC 1812 5.3.7: sources that cannot be a host. 0 or a drop reason. */
static int ip_check_source(const struct stack *st, uint32_t src)
{
	if (src == 0 || ipv4_is_multicast(src) || ipv4_is_limited_bcast(src) ||
	    ipv4_is_loopback(src) || stack_is_subnet_bcast(st, src) || stack_is_local(st, src))
		return DROP_IP_MARTIAN_SRC;
	return 0;
}

static bool ip_dst_is_bcast(const struct stack *st, uint32_t dst)
{
	return ipv4_is_limited_bcast(dst) || ipv4_is_multicast(dst) ||
	       stack_is_subnet_bcast(st, dst);
}

static void ip_forward(struct netif *in, struct nbuf *nb, const struct ipv4_hdr *h);

void ip_input(struct netif *nif, struct nbuf *nb)
{
	struct stack *st = nif->st;
	struct ipv4_hdr h;
	int why;

	stat_inc(st, STAT_IP_IN_RECEIVES);
	why = ipv4_parse(nb->data, nbuf_len(nb), &h);
	nbuf_mark_l3(nb);
	if (why == DROP_IP_OPTIONS && !ip_check_source(st, h.src)) {
		size_t at = ipv4_options_error(nb->data, h.hlen);
		icmp_send_error(st, nb, ICMP_PARAMETERPROB, 0, (uint32_t)at << 24);
	}
	if (why)
		goto drop;
	nbuf_trim(nb, h.total_len);	/* Ethernet padding */
	why = ip_check_source(st, h.src);
	if (why)
		goto drop;
	why = DROP_FILTER;
	if (!filter_accept(&st->filter, HOOK_PRE_ROUTING, nb, &h))
		goto drop;
	if (ip_dst_is_bcast(st, h.dst)) {
		ip_local_deliver(st, nb);
		return;
	}
	why = DROP_IP_LINK_BCAST;	/* RFC 1122 3.3.6 */
	if (nb->pkt_type != NBUF_HOST)
		goto drop;
	if (stack_is_local(st, h.dst)) {
		ip_local_deliver(st, nb);
		return;
	}
	why = DROP_IP_NOT_FOR_US;
	if (!st->params.forwarding)
		goto drop;
	ip_forward(nif, nb, &h);
	return;
drop:
	nbuf_drop(st, nb, (enum drop_reason)why);
}

static void ip_deliver_proto(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	switch (h->proto) {
	case IPPROTO_ICMP_:
		icmp_input(st, nb, h);
		return;
	case IPPROTO_UDP_:
		udp_input(st, nb, h);
		return;
	case IPPROTO_TCP_:
		tcp_input(st, nb, h);
		return;
	default:
		if (!ip_dst_is_bcast(st, h->dst))
			icmp_send_error(st, nb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		nbuf_drop(st, nb, DROP_IP_UNKNOWN_PROTO);
	}
}

void ip_local_deliver(struct stack *st, struct nbuf *nb)
{
	struct ipv4_hdr h;

	nbuf_mark_l3(nb);
	if (ipv4_parse(nb->data, nbuf_len(nb), &h)) {
		nbuf_drop(st, nb, DROP_IP_HDRLEN);	/* cannot happen after ip_input */
		return;
	}
	if (h.mf || h.frag_off) {
		nb = ip_reassemble(st, nb, &h);
		if (!nb)
			return;
		ipv4_parse(nb->data, nbuf_len(nb), &h);
	}
	if (!filter_accept(&st->filter, HOOK_LOCAL_IN, nb, &h)) {
		nbuf_drop(st, nb, DROP_FILTER);
		return;
	}
	stat_inc(st, STAT_IP_IN_DELIVERS);
	nbuf_pull(nb, h.hlen);
	nbuf_mark_l4(nb);
	ip_deliver_proto(st, nb, &h);
}

/* RFC 1812 5.3.1: TTL decrement, with the checksum updated (RFC 1624). */
static void ip_decrease_ttl(uint8_t *iph)
{
	uint16_t old = get_be16(iph + 8);
	iph[8]--;
	put_be16(iph + 10, csum_update16(get_be16(iph + 10), old, get_be16(iph + 8)));
}

/* A datagram with a partial transport checksum (nbuf.csum_verified) gets
 * its full checksum before it leaves: the next hop will check it. */
static void ip_complete_csum(struct nbuf *nb, const struct ipv4_hdr *h)
{
	size_t off = h->proto == IPPROTO_TCP_ ? 16 : h->proto == IPPROTO_UDP_ ? 6 : 0;
	size_t len = h->total_len - h->hlen;
	uint8_t *l4 = nb->data + h->hlen;

	nb->csum_verified = false;
	if (!off || h->mf || h->frag_off || len < off + 2)
		return;
	put_be16(l4 + off, 0);
	uint16_t c = csum_fold(csum_partial(l4, len, csum_pseudo(h->src, h->dst, h->proto,
								  (uint16_t)len)));
	put_be16(l4 + off, h->proto == IPPROTO_UDP_ && c == 0 ? 0xffff : c);
}

static void ip_forward(struct netif *in, struct nbuf *nb, const struct ipv4_hdr *h)
{
	struct stack *st = in->st;
	const struct route *rt = route_lookup(&st->routes, h->dst);
	int why;

	why = DROP_IP_NO_ROUTE;
	if (!rt) {
		icmp_send_error(st, nb, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, 0);
		goto drop;
	}
	why = DROP_IP_TTL_EXPIRED;
	if (h->ttl <= 1) {
		icmp_send_error(st, nb, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
		goto drop;
	}
	why = DROP_IP_FRAG_NEEDED;
	if (h->df && h->total_len > rt->nif->mtu) {
		icmp_send_error(st, nb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, rt->nif->mtu & 0xffff);
		goto drop;
	}
	why = DROP_FILTER;
	if (!filter_accept(&st->filter, HOOK_FORWARD, nb, h))
		goto drop;
	nb = nbuf_unshare(nb);
	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return;
	}
	if (nb->csum_verified)
		ip_complete_csum(nb, h);
	ip_decrease_ttl(nb->data);
	stat_inc(st, STAT_IP_FORW_DATAGRAMS);
	struct ipv4_hdr out = *h;
	out.ttl--;
	ip_finish_output(st, nb, &out, rt);
	return;
drop:
	nbuf_drop(st, nb, (enum drop_reason)why);
}

void ip_icmp_error_deliver(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type,
			   uint8_t code, uint32_t info)
{
	bool hard;
	int err = icmp_err_to_errno(type, code, &hard);

	if (len < IPV4_HLEN)
		return;
	switch (quoted[9]) {
	case IPPROTO_UDP_:
		udp_err(st, quoted, len, err, hard);
		break;
	case IPPROTO_TCP_:
		tcp_err(st, quoted, len, type, code, info);
		break;
	default:
		break;
	}
}
