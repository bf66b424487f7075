/*
 * icmp.c: ICMP (RFC 792; RFC 1122 3.2.2; RFC 1812 4.3.2 for errors).
 * Echo requests are answered in place. Errors we send quote as much of the
 * offending datagram as fits in 576 bytes, and are never sent about an
 * ICMP error, a broadcast or multicast, a non-first fragment, or a source
 * that is not a host. They are rate-limited twice, as Linux does: a global
 * token bucket and, per destination, one message per icmp_ratelimit_ms
 * with a burst of six.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "stack.h"
#include "util.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define ICMP_ERR_MAX 576	/* RFC 1812 4.3.2.3 */
#define ICMP_RL_BURST 6

static bool icmp_allow_global(struct stack *st, uint64_t now)
{
	struct icmp_limiter *l = &st->icmp;
	uint64_t cap = (uint64_t)st->params.icmp_msgs_burst * NSEC_PER_SEC;

	if (!st->params.icmp_msgs_per_sec)
		return true;
	if (!l->global_started)
		l->global_tokens = cap;
	else
		l->global_tokens += (now - l->global_last) * st->params.icmp_msgs_per_sec;
	l->global_last = now;
	l->global_started = true;
	l->global_tokens = MIN(l->global_tokens, cap);
	if (l->global_tokens < NSEC_PER_SEC)
		return false;
	l->global_tokens -= NSEC_PER_SEC;
	return true;
}

static bool icmp_allow_dst(struct stack *st, uint32_t dst, uint64_t now)
{
	uint64_t period = MSEC(st->params.icmp_ratelimit_ms);
	struct icmp_bucket *b = &st->icmp.per_dst[(dst * 0x9e3779b1u) >> 26];

	if (!period)
		return true;
	if (b->dst != dst || !b->used) {
		b->dst = dst;
		b->used = true;
		b->tokens_ns = ICMP_RL_BURST * period;
	} else {
		b->tokens_ns = MIN(b->tokens_ns + (now - b->last), ICMP_RL_BURST * period);
	}
	b->last = now;
	if (b->tokens_ns < period)
		return false;
	b->tokens_ns -= period;
	return true;
}

/* RFC 1122 3.2.2: the cases in which no error may be sent. */
static bool icmp_error_allowed(struct stack *st, const struct nbuf *orig,
			       const struct ipv4_hdr *oh, const uint8_t *payload, size_t plen)
{
	if (oh->frag_off || orig->pkt_type == NBUF_BROADCAST || orig->pkt_type == NBUF_MULTICAST)
		return false;
	if (ipv4_is_multicast(oh->dst) || ipv4_is_limited_bcast(oh->dst) ||
	    stack_is_subnet_bcast(st, oh->dst))
		return false;
	if (oh->src == 0 || ipv4_is_multicast(oh->src) || ipv4_is_limited_bcast(oh->src) ||
	    ipv4_is_loopback(oh->src) || stack_is_subnet_bcast(st, oh->src))
		return false;
	if (oh->proto == IPPROTO_ICMP_ && (plen < 1 || icmp_is_error(payload[0])))
		return false;
	return true;
}

static uint32_t icmp_error_source(struct stack *st, const struct nbuf *orig,
				  const struct ipv4_hdr *oh)
{
	if (stack_is_local(st, oh->dst))
		return oh->dst;
	struct netif *in = stack_netif(st, orig->ifindex);
	return in ? netif_source_for(in, oh->src) : 0;
}

void icmp_send_error(struct stack *st, struct nbuf *orig, uint8_t type, uint8_t code,
		     uint32_t info)
{
	const uint8_t *iph = nbuf_l3(orig);
	size_t avail = (size_t)(orig->tail - iph);
	struct ipv4_hdr oh;

	int bad = ipv4_parse(iph, avail, &oh);
	if (bad && bad != DROP_IP_OPTIONS)
		return;
	avail = MIN(avail, (size_t)oh.total_len);
	if (!icmp_error_allowed(st, orig, &oh, iph + oh.hlen, avail - oh.hlen))
		return;
	if (stack_is_local(st, oh.src)) {
		ip_icmp_error_deliver(st, iph, avail, type, code, info);
		return;
	}
	if (!icmp_allow_global(st, stack_now(st)) || !icmp_allow_dst(st, oh.src, stack_now(st))) {
		stat_inc(st, STAT_ICMP_RATELIMITED);
		return;
	}
	size_t qlen = MIN(avail, (size_t)(ICMP_ERR_MAX - IPV4_HLEN - ICMP_HLEN));
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, ICMP_HLEN + qlen);
	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return;
	}
	uint8_t *msg = nbuf_put(nb, ICMP_HLEN + qlen);
	memcpy(msg + ICMP_HLEN, iph, qlen);
	struct icmp_hdr ih = {.type = type, .code = code, .rest = info};
	icmp_emit(msg, ICMP_HLEN + qlen, &ih);
	stat_inc(st, STAT_ICMP_OUT_MSGS);
	stat_inc(st, STAT_ICMP_OUT_ERROR_MSGS);
	struct ip_out o = {
		.src = icmp_error_source(st, orig, &oh), .dst = oh.src, .proto = IPPROTO_ICMP_,
		.tos = (uint8_t)((oh.tos & 0x1e) | 0xc0),	/* precedence: internetwork control */
	};
	ip_output(st, nb, &o);
}

/* Answers an echo request in place: same identifier, sequence and data. */
static void icmp_echo(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	bool bcast = nb->pkt_type != NBUF_HOST || !stack_is_local(st, h->dst);

	if (bcast && st->params.icmp_echo_ignore_broadcasts) {
		nbuf_drop(st, nb, DROP_ICMP_BCAST_ECHO);
		return;
	}
	nb = nbuf_unshare(nb);
	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return;
	}
	struct icmp_hdr reply = {.type = ICMP_ECHOREPLY, .code = 0, .rest = get_be32(nb->data + 4)};
	icmp_emit(nb->data, nbuf_len(nb), &reply);
	stat_inc(st, STAT_ICMP_OUT_MSGS);
	stat_inc(st, STAT_ICMP_OUT_ECHO_REPS);
	struct netif *in = stack_netif(st, nb->ifindex);
	struct ip_out o = {
		.src = bcast && in ? netif_source_for(in, h->src) : h->dst,
		.dst = h->src, .proto = IPPROTO_ICMP_, .tos = h->tos,
	};
	ip_output(st, nb, &o);
}

int icmp_err_to_errno(uint8_t type, uint8_t code, bool *hard)
{
	static const struct {
		int err;
		bool hard;
	} unreach[] = {
		{ENETUNREACH, true}, {EHOSTUNREACH, true}, {ENOPROTOOPT, true},
		{ECONNREFUSED, true}, {EMSGSIZE, false}, {EOPNOTSUPP, false},
		{ENETUNREACH, true}, {EHOSTDOWN, true}, {ENONET, true}, {ENETUNREACH, true},
		{EHOSTUNREACH, true}, {ENETUNREACH, true}, {EHOSTUNREACH, true},
		{EHOSTUNREACH, true}, {EHOSTUNREACH, true}, {EHOSTUNREACH, true},
	};
	*hard = false;
	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code >= ARRAY_SIZE(unreach))
			return 0;
		*hard = unreach[code].hard;
		return unreach[code].err;
	case ICMP_TIME_EXCEEDED:
		return EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		*hard = true;
		return EPROTO;
	default:
		return 0;
	}
}

/* An error about a datagram we sent: hand it to that datagram's protocol. */
static void icmp_error_input(struct stack *st, struct nbuf *nb, const struct icmp_hdr *ih)
{
	const uint8_t *quoted = nb->data + ICMP_HLEN;
	size_t len = nbuf_len(nb) - ICMP_HLEN;

	/* The quote is truncated by design: check its header by hand. */
	size_t qhlen = len ? (quoted[0] & 0xf) * 4u : 0;
	if (len < IPV4_HLEN + 8 || quoted[0] >> 4 != 4 || qhlen < IPV4_HLEN || qhlen + 8 > len) {
		nbuf_drop(st, nb, DROP_ICMP_MALFORMED);
		return;
	}
	stat_inc(st, STAT_ICMP_IN_ERRORS);
	ip_icmp_error_deliver(st, quoted, len, ih->type, ih->code, ih->rest);
	nbuf_free(nb);
}

void icmp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	struct icmp_hdr ih;
	int why = icmp_parse(nb->data, nbuf_len(nb), &ih);

	stat_inc(st, STAT_ICMP_IN_MSGS);
	if (why) {
		nbuf_drop(st, nb, (enum drop_reason)why);
		return;
	}
	switch (ih.type) {
	case ICMP_ECHO:
		stat_inc(st, STAT_ICMP_IN_ECHOS);
		icmp_echo(st, nb, h);
		return;
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
	case ICMP_SOURCE_QUENCH:
		icmp_error_input(st, nb, &ih);
		return;
	default:
		nbuf_drop(st, nb, DROP_ICMP_IGNORED);
	}
}
