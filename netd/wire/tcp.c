/*
 * tcp.c: TCP header parse, validation and emit (RFC 9293 3.1), with the
 * options netd speaks: MSS (RFC 9293 3.2), window scale and timestamps
 * (RFC 7323 2, 3) and SACK-permitted and SACK blocks (RFC 2018 2, 3).
 * Parsing checks the lengths and the checksum over the pseudo-header
 * before it reads a field, and walks the options only inside the header;
 * it reports every option it recognises, on any segment, and leaves to
 * the TCP core what to honour (which options count only on a SYN, and the
 * clamp of the window scale to 14). Emitting lays the options out exactly
 * as Linux's tcp_options_write() does, so netd's segments look like Linux's
 * on the wire and can be compared with captures byte for byte.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include "../stats.h"
#include "../util.h"
#include "checksum.h"
#include "ipv4.h"
#include "tcp.h"

#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_PERBLOCK 8
#define TCP_MAX_OPTLEN (TCP_MAX_HLEN - TCP_HLEN)

/* The checksum over the RFC 9293 3.1 pseudo-header and len bytes of seg:
 * 0 when seg holds a correct checksum. len fits 16 bits: it is bounded by
 * the IPv4 total length. */
static uint16_t tcp_csum(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	return csum_fold(csum_partial(seg, len, csum_pseudo(src, dst, IPPROTO_TCP_,
							       (uint16_t)len)));
}

static void opt_sack_parse(const uint8_t *p, uint8_t olen, struct tcp_opts *o)
{
	unsigned n = (unsigned)(olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;

	if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK ||
	    (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK || n > TCP_MAX_SACK)
		return;
	o->nsack = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = p + TCPOLEN_SACK_BASE + i * TCPOLEN_SACK_PERBLOCK;
		o->sack[i].start = get_be32(b);
		o->sack[i].end = get_be32(b + 4);
	}
}

/* One option of kind p[0] and length olen (at least 2, inside the header).
 * A known option with another length is ignored, as Linux's
 * tcp_parse_options() does; so are unknown kinds. A later copy of an
 * option replaces an earlier one. */
static void opt_parse(const uint8_t *p, uint8_t olen, struct tcp_opts *o)
{
	switch (p[0]) {
	case TCPOPT_MSS:
		if (olen == TCPOLEN_MSS) {
			o->mss_ok = true;
			o->mss = get_be16(p + 2);
		}
		break;
	case TCPOPT_WSCALE:
		if (olen == TCPOLEN_WSCALE) {
			o->ws_ok = true;
			o->wscale = p[2];	/* raw: the TCP core clamps (RFC 7323 2.3) */
		}
		break;
	case TCPOPT_SACK_PERM:
		if (olen == TCPOLEN_SACK_PERM)
			o->sack_ok = true;
		break;
	case TCPOPT_TIMESTAMP:
		if (olen == TCPOLEN_TIMESTAMP) {
			o->ts_ok = true;
			o->tsval = get_be32(p + 2);
			o->tsecr = get_be32(p + 6);
		}
		break;
	case TCPOPT_SACK:
		opt_sack_parse(p, olen, o);
		break;
	default:
		break;
	}
}

/* Walks the n option bytes at p (RFC 9293 3.1 "Options"): EOL ends the
 * list, NOP is one byte, every other kind has a length byte of at least 2
 * that keeps the option inside the header. -1 when one does not. */
static int opts_parse(const uint8_t *p, size_t n, struct tcp_opts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < n) {
		if (p[i] == TCPOPT_EOL)
			break;
		if (p[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || p[i + 1] < 2 || p[i + 1] > n - i)
			return -1;
		opt_parse(p + i, p[i + 1], o);
		i += p[i + 1];
	}
	return 0;
}

int tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, struct tcp_hdr *h)
{
	if (len < TCP_HLEN)
		return DROP_TCP_SHORT;
	size_t doff = (size_t)(seg[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > len)
		return DROP_TCP_HDRLEN;
	if (tcp_csum(seg, len, src, dst) != 0)
		return DROP_TCP_CSUM;
	h->sport = get_be16(seg);
	h->dport = get_be16(seg + 2);
	h->seq = get_be32(seg + 4);
	h->ack = get_be32(seg + 8);
	h->doff = (uint8_t)doff;
	h->flags = seg[13];
	h->win = get_be16(seg + 14);
	h->urg = get_be16(seg + 18);
	if (opts_parse(seg + TCP_HLEN, doff - TCP_HLEN, &h->opts) < 0)
		return DROP_TCP_OPTIONS;
	return 0;
}

/*
 * Emit. MSS and window scale are sent only on a SYN (RFC 9293 3.2,
 * RFC 7323 2.2), and so is SACK-permitted (RFC 2018 2); on other segments
 * their fields in h are ignored. Timestamps and SACK blocks go on any
 * segment that asks for them.
 */
static bool emit_mss(const struct tcp_hdr *h)
{
	return h->opts.mss_ok && (h->flags & TCP_SYN);
}

static bool emit_ws(const struct tcp_hdr *h)
{
	return h->opts.ws_ok && (h->flags & TCP_SYN);
}

static bool emit_sack_perm(const struct tcp_hdr *h)
{
	return h->opts.sack_ok && (h->flags & TCP_SYN);
}

size_t tcp_opts_len(const struct tcp_hdr *h)
{
	size_t n = 0;

	assert(h->opts.nsack <= TCP_MAX_SACK);
	if (emit_mss(h))
		n += 4;
	if (h->opts.ts_ok)
		n += 12;	/* SACK-permitted, if any, rides in its padding */
	else if (emit_sack_perm(h))
		n += 4;
	if (emit_ws(h))
		n += 4;
	if (h->opts.nsack)
		n += 4 + (size_t)h->opts.nsack * TCPOLEN_SACK_PERBLOCK;
	return n;
}

static uint8_t *put_bytes(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* "nop, nop, sack" and the blocks (RFC 2018 3). */
static uint8_t *put_sack(uint8_t *p, const struct tcp_opts *o)
{
	p = put_bytes(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK,
		      (uint8_t)(TCPOLEN_SACK_BASE + o->nsack * TCPOLEN_SACK_PERBLOCK));
	for (unsigned i = 0; i < o->nsack; i++) {
		put_be32(p, o->sack[i].start);
		put_be32(p + 4, o->sack[i].end);
		p += TCPOLEN_SACK_PERBLOCK;
	}
	return p;
}

/* The options of h at p, in the order and with the padding of Linux's
 * tcp_options_write(); returns the end. */
static uint8_t *put_opts(uint8_t *p, const struct tcp_hdr *h)
{
	const struct tcp_opts *o = &h->opts;

	if (emit_mss(h))
		p = put_bytes(p, TCPOPT_MSS, TCPOLEN_MSS, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
	if (o->ts_ok) {
		if (emit_sack_perm(h))
			p = put_bytes(p, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM,
				      TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
		else
			p = put_bytes(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP,
				      TCPOLEN_TIMESTAMP);
		put_be32(p, o->tsval);
		put_be32(p + 4, o->tsecr);
		p += 8;
	} else if (emit_sack_perm(h)) {
		p = put_bytes(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM);
	}
	if (emit_ws(h))
		p = put_bytes(p, TCPOPT_NOP, TCPOPT_WSCALE, TCPOLEN_WSCALE, o->wscale);
	if (o->nsack)
		p = put_sack(p, o);
	return p;
}

size_t tcp_emit(uint8_t *buf, struct tcp_hdr *h, size_t plen, uint32_t src, uint32_t dst)
{
	size_t olen = tcp_opts_len(h);

	assert(olen <= TCP_MAX_OPTLEN);
	assert(TCP_HLEN + olen + plen <= IPV4_MAX_LEN - IPV4_HLEN);
	h->doff = (uint8_t)(TCP_HLEN + olen);
	put_be16(buf, h->sport);
	put_be16(buf + 2, h->dport);
	put_be32(buf + 4, h->seq);
	put_be32(buf + 8, h->ack);
	buf[12] = (uint8_t)(h->doff / 4 << 4);
	buf[13] = h->flags;
	put_be16(buf + 14, h->win);
	put_be16(buf + 16, 0);
	put_be16(buf + 18, h->urg);
	uint8_t *end = put_opts(buf + TCP_HLEN, h);
	assert(end == buf + h->doff);
	(void)end;
	put_be16(buf + 16, tcp_csum(buf, h->doff + plen, src, dst));
	return h->doff;
}
