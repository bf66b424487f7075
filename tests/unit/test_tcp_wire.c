/*
 * test_tcp_wire.c: the TCP wire layer. A SYN laid out by hand as Linux
 * sends it is parsed field by field and emitted back byte for byte; every
 * option layout netd sends is pinned against literal bytes; random headers
 * survive emit and parse; checksums catch every flipped bit; and truncated
 * segments, impossible data offsets and malformed options are refused with
 * their drop reason while odd but legal options are skipped.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <stdlib.h>
#include <string.h>

#include "netd/rng.h"
#include "netd/stats.h"
#include "netd/util.h"
#include "netd/wire/tcp.h"

#define PEER H_PEER_IP
#define US H_OUR_IP
#define SEG_MAX 2048

/* A checksum written here, apart from netd's: 32-bit sum of the
 * pseudo-header and the segment padded with a zero byte, folded and
 * inverted. */
static uint16_t ref_csum(const uint8_t *b, size_t len, uint32_t src, uint32_t dst)
{
	uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
		       (uint32_t)len;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)b[i] << 8 | (i + 1 < len ? b[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void set_csum(uint8_t *b, size_t len)
{
	put_be16(b + 16, 0);
	put_be16(b + 16, ref_csum(b, len, PEER, US));
}

/* A segment from the peer, laid out by hand: an ACK with olen bytes of
 * options (a multiple of 4) and plen bytes of patterned payload. */
static size_t seg_hand(uint8_t *b, const uint8_t *opts, size_t olen, size_t plen)
{
	size_t doff = TCP_HLEN + olen;
	memset(b, 0, TCP_HLEN);
	put_be16(b, 40000);
	put_be16(b + 2, 80);
	put_be32(b + 4, 1000);
	put_be32(b + 8, 2000);
	b[12] = (uint8_t)(doff / 4 << 4);
	b[13] = TCP_ACK;
	put_be16(b + 14, 512);
	if (olen)
		memcpy(b + TCP_HLEN, opts, olen);
	for (size_t i = 0; i < plen; i++)
		b[doff + i] = (uint8_t)(i * 7 + 3);
	set_csum(b, doff + plen);
	return doff + plen;
}

/* Compares what was parsed with what was meant, looking at option values
 * only where the option is present. */
static void assert_hdr_eq(const struct tcp_hdr *got, const struct tcp_hdr *want)
{
	ck_assert_uint_eq(got->sport, want->sport);
	ck_assert_uint_eq(got->dport, want->dport);
	ck_assert_uint_eq(got->seq, want->seq);
	ck_assert_uint_eq(got->ack, want->ack);
	ck_assert_uint_eq(got->doff, want->doff);
	ck_assert_uint_eq(got->flags, want->flags);
	ck_assert_uint_eq(got->win, want->win);
	ck_assert_uint_eq(got->urg, want->urg);
	ck_assert_int_eq(got->opts.mss_ok, want->opts.mss_ok);
	if (want->opts.mss_ok)
		ck_assert_uint_eq(got->opts.mss, want->opts.mss);
	ck_assert_int_eq(got->opts.ws_ok, want->opts.ws_ok);
	if (want->opts.ws_ok)
		ck_assert_uint_eq(got->opts.wscale, want->opts.wscale);
	ck_assert_int_eq(got->opts.sack_ok, want->opts.sack_ok);
	ck_assert_int_eq(got->opts.ts_ok, want->opts.ts_ok);
	if (want->opts.ts_ok) {
		ck_assert_uint_eq(got->opts.tsval, want->opts.tsval);
		ck_assert_uint_eq(got->opts.tsecr, want->opts.tsecr);
	}
	ck_assert_uint_eq(got->opts.nsack, want->opts.nsack);
	for (unsigned i = 0; i < want->opts.nsack; i++) {
		ck_assert_uint_eq(got->opts.sack[i].start, want->opts.sack[i].start);
		ck_assert_uint_eq(got->opts.sack[i].end, want->opts.sack[i].end);
	}
}

/* Emits h with no payload, checks the options are exactly want (and that
 * tcp_opts_len agreed), and that the segment parses back to h. */
static void assert_opts_emit(struct tcp_hdr *h, const uint8_t *want, size_t wlen)
{
	uint8_t b[TCP_MAX_HLEN];
	struct tcp_hdr p;

	ck_assert_uint_eq(tcp_opts_len(h), wlen);
	ck_assert_uint_eq(tcp_emit(b, h, 0, US, PEER), TCP_HLEN + wlen);
	ck_assert_uint_eq(h->doff, TCP_HLEN + wlen);
	ck_assert_uint_eq(b[12] >> 4, (TCP_HLEN + wlen) / 4);
	ck_assert_mem_eq(b + TCP_HLEN, want, wlen);
	ck_assert_int_eq(tcp_parse(b, h->doff, US, PEER, &p), 0);
	assert_hdr_eq(&p, h);
}

/* The SYN Linux sends to open a connection, captured style: 41668 -> 80,
 * mss 1460, sackOK, TS val 0x9a3c1d2e ecr 0, nop, wscale 7; from the peer
 * (10.0.0.1) to us (10.0.0.2). */
static const uint8_t linux_syn[40] = {
	0xa2, 0xc4, 0x00, 0x50,			/* ports */
	0x5e, 0x1f, 0x3a, 0x27,			/* seq */
	0x00, 0x00, 0x00, 0x00,			/* ack */
	0xa0, 0x02, 0xfa, 0xf0,			/* doff 10, SYN, win 64240 */
	0x46, 0x47, 0x00, 0x00,			/* checksum, urg */
	0x02, 0x04, 0x05, 0xb4,			/* mss 1460 */
	0x04, 0x02, 0x08, 0x0a,			/* sackOK, TS */
	0x9a, 0x3c, 0x1d, 0x2e,			/* TS val */
	0x00, 0x00, 0x00, 0x00,			/* TS ecr */
	0x01, 0x03, 0x03, 0x07,			/* nop, wscale 7 */
};

static struct tcp_hdr linux_syn_hdr(void)
{
	struct tcp_hdr h = {
		.sport = 41668, .dport = 80, .seq = 0x5e1f3a27, .ack = 0, .doff = 40,
		.flags = TCP_SYN, .win = 64240, .urg = 0,
		.opts = {.mss_ok = true, .mss = 1460, .ws_ok = true, .wscale = 7,
			 .sack_ok = true, .ts_ok = true, .tsval = 0x9a3c1d2e, .tsecr = 0},
	};
	return h;
}

START_TEST(parse_linux_syn)
{
	struct tcp_hdr h;
	memset(&h, 0xa5, sizeof(h));
	ck_assert_int_eq(tcp_parse(linux_syn, sizeof(linux_syn), PEER, US, &h), 0);
	ck_assert_uint_eq(h.sport, 41668);
	ck_assert_uint_eq(h.dport, 80);
	ck_assert_uint_eq(h.seq, 0x5e1f3a27);
	ck_assert_uint_eq(h.ack, 0);
	ck_assert_uint_eq(h.doff, 40);
	ck_assert_uint_eq(h.flags, TCP_SYN);
	ck_assert_uint_eq(h.win, 64240);
	ck_assert_uint_eq(h.urg, 0);
	ck_assert(h.opts.mss_ok);
	ck_assert_uint_eq(h.opts.mss, 1460);
	ck_assert(h.opts.sack_ok);
	ck_assert(h.opts.ts_ok);
	ck_assert_uint_eq(h.opts.tsval, 0x9a3c1d2e);
	ck_assert_uint_eq(h.opts.tsecr, 0);
	ck_assert(h.opts.ws_ok);
	ck_assert_uint_eq(h.opts.wscale, 7);
	ck_assert_uint_eq(h.opts.nsack, 0);
	/* the same bytes from other addresses fail the pseudo-header */
	ck_assert_int_eq(tcp_parse(linux_syn, sizeof(linux_syn), US, PEER + 1, &h), DROP_TCP_CSUM);
}
END_TEST

START_TEST(emit_linux_syn_exact)
{
	struct tcp_hdr h = linux_syn_hdr();
	uint8_t b[TCP_MAX_HLEN];
	h.doff = 0;
	ck_assert_uint_eq(tcp_opts_len(&h), 20);
	ck_assert_uint_eq(tcp_emit(b, &h, 0, PEER, US), 40);
	ck_assert_uint_eq(h.doff, 40);
	ck_assert_mem_eq(b, linux_syn, sizeof(linux_syn));
}
END_TEST

START_TEST(emit_syn_without_ts)
{
	struct tcp_hdr h = linux_syn_hdr();
	h.opts.ts_ok = false;
	/* mss, nop, nop, sackOK, nop, wscale */
	const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
				0x01, 0x03, 0x03, 0x07};
	assert_opts_emit(&h, want, sizeof(want));
}
END_TEST

START_TEST(emit_synack_subsets)
{
	struct tcp_hdr h = {.sport = 80, .dport = 41668, .seq = 0x0badcafe, .ack = 0x5e1f3a28,
			    .flags = TCP_SYN | TCP_ACK, .win = 65160};

	/* the peer offered only MSS */
	h.opts = (struct tcp_opts){.mss_ok = true, .mss = 1460};
	assert_opts_emit(&h, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4}, 4);

	/* MSS and window scale: mss, nop, wscale */
	h.opts = (struct tcp_opts){.mss_ok = true, .mss = 1460, .ws_ok = true, .wscale = 7};
	assert_opts_emit(&h, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07},
			 8);

	/* MSS and SACK-permitted: mss, nop, nop, sackOK */
	h.opts = (struct tcp_opts){.mss_ok = true, .mss = 1460, .sack_ok = true};
	assert_opts_emit(&h, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02},
			 8);

	/* MSS and timestamps: mss, nop, nop, TS */
	h.opts = (struct tcp_opts){.mss_ok = true, .mss = 1460, .ts_ok = true,
				   .tsval = 0x11223344, .tsecr = 0x9a3c1d2e};
	assert_opts_emit(&h, (const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a,
					       0x11, 0x22, 0x33, 0x44, 0x9a, 0x3c, 0x1d, 0x2e},
			 16);

	/* everything: mss, sackOK, TS, nop, wscale */
	h.opts = (struct tcp_opts){.mss_ok = true, .mss = 1400, .ws_ok = true, .wscale = 9,
				   .sack_ok = true, .ts_ok = true, .tsval = 0x11223344,
				   .tsecr = 0x9a3c1d2e};
	assert_opts_emit(&h, (const uint8_t[]){0x02, 0x04, 0x05, 0x78, 0x04, 0x02, 0x08, 0x0a,
					       0x11, 0x22, 0x33, 0x44, 0x9a, 0x3c, 0x1d, 0x2e,
					       0x01, 0x03, 0x03, 0x09},
			 20);

	/* nothing at all: a bare 20-byte header */
	h.opts = (struct tcp_opts){0};
	assert_opts_emit(&h, (const uint8_t[]){0}, 0);
}
END_TEST

/* An established segment with timestamps and 3 bytes of data, checksum
 * included: us (10.0.0.2) to the peer. */
START_TEST(emit_established_ts_exact)
{
	static const uint8_t want[35] = {
		0x00, 0x50, 0xa2, 0xc4,		/* ports */
		0x0b, 0xad, 0xca, 0xfe,		/* seq */
		0x5e, 0x1f, 0x3a, 0x28,		/* ack */
		0x80, 0x18, 0x01, 0xf6,		/* doff 8, PSH|ACK, win 502 */
		0xaf, 0x9e, 0x00, 0x00,		/* checksum, urg */
		0x01, 0x01, 0x08, 0x0a,		/* nop, nop, TS */
		0x00, 0x01, 0x23, 0x45,		/* TS val */
		0x9a, 0x3c, 0x1d, 0x2e,		/* TS ecr */
		'a', 'b', 'c',
	};
	struct tcp_hdr h = {.sport = 80, .dport = 41668, .seq = 0x0badcafe, .ack = 0x5e1f3a28,
			    .flags = TCP_PSH | TCP_ACK, .win = 502,
			    .opts = {.ts_ok = true, .tsval = 0x12345, .tsecr = 0x9a3c1d2e}};
	uint8_t b[64];

	memcpy(b + 32, "abc", 3);
	ck_assert_uint_eq(tcp_opts_len(&h), 12);
	ck_assert_uint_eq(tcp_emit(b, &h, 3, US, PEER), 32);
	ck_assert_mem_eq(b, want, sizeof(want));
}
END_TEST

START_TEST(emit_ts_and_3_sack_blocks)
{
	struct tcp_hdr h = {.seq = 1, .ack = 1000, .flags = TCP_ACK, .win = 502,
			    .opts = {.ts_ok = true, .tsval = 0x01020304, .tsecr = 0x05060708,
				     .nsack = 3,
				     .sack = {{0x10000000, 0x10000100}, {0x20000000, 0x20000200},
					      {0x30000000, 0x30000300}}}};
	/* nop, nop, TS, nop, nop, sack 3 */
	const uint8_t want[40] = {
		0x01, 0x01, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x01, 0x01, 0x05, 0x1a,
		0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
		0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x02, 0x00,
		0x30, 0x00, 0x00, 0x00, 0x30, 0x00, 0x03, 0x00,
	};
	assert_opts_emit(&h, want, sizeof(want));
	ck_assert_uint_eq(h.doff, TCP_MAX_HLEN);
}
END_TEST

START_TEST(emit_4_sack_blocks_without_ts)
{
	struct tcp_hdr h = {.seq = 1, .ack = 1000, .flags = TCP_ACK, .win = 502,
			    .opts = {.nsack = 4,
				     .sack = {{0xfffffff0, 0x00000010}, {0xa0, 0xb0}, {0xc0, 0xd0},
					      {0xe0, 0xf0}}}};
	/* nop, nop, sack 4 */
	const uint8_t want[36] = {
		0x01, 0x01, 0x05, 0x22,
		0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0xb0,
		0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0xd0,
		0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, 0xf0,
	};
	assert_opts_emit(&h, want, sizeof(want));

	/* one block: nop, nop, sack 1 */
	const uint8_t want1[12] = {0x01, 0x01, 0x05, 0x0a, 0xff, 0xff, 0xff, 0xf0,
				   0x00, 0x00, 0x00, 0x10};
	h.opts.nsack = 1;
	assert_opts_emit(&h, want1, sizeof(want1));
}
END_TEST

/* MSS, window scale and SACK-permitted belong to the SYN alone (RFC 9293
 * 3.2, RFC 7323 2.2, RFC 2018 2): set on any other segment, they are not
 * sent, and timestamps lose the fused SACK-permitted. */
START_TEST(emit_syn_options_only_on_syn)
{
	struct tcp_hdr h = {.seq = 5, .ack = 6, .flags = TCP_ACK, .win = 100,
			    .opts = {.mss_ok = true, .mss = 1460, .ws_ok = true, .wscale = 7,
				     .sack_ok = true}};
	uint8_t b[TCP_MAX_HLEN];
	struct tcp_hdr p, want;

	ck_assert_uint_eq(tcp_opts_len(&h), 0);
	ck_assert_uint_eq(tcp_emit(b, &h, 0, US, PEER), TCP_HLEN);
	ck_assert_uint_eq(b[12], 0x50);
	ck_assert_int_eq(tcp_parse(b, TCP_HLEN, US, PEER, &p), 0);
	want = h;
	want.opts = (struct tcp_opts){0};
	assert_hdr_eq(&p, &want);

	h.opts.ts_ok = true;
	h.opts.tsval = 0xaabbccdd;
	h.opts.tsecr = 0x11223344;
	h.flags = TCP_FIN | TCP_ACK;
	const uint8_t ts[] = {0x01, 0x01, 0x08, 0x0a, 0xaa, 0xbb, 0xcc, 0xdd,
			      0x11, 0x22, 0x33, 0x44};
	ck_assert_uint_eq(tcp_opts_len(&h), sizeof(ts));
	ck_assert_uint_eq(tcp_emit(b, &h, 0, US, PEER), TCP_HLEN + sizeof(ts));
	ck_assert_mem_eq(b + TCP_HLEN, ts, sizeof(ts));

	/* an RST is not a SYN either */
	h.flags = TCP_RST;
	h.opts.ts_ok = false;
	ck_assert_uint_eq(tcp_emit(b, &h, 0, US, PEER), TCP_HLEN);
}
END_TEST

/* A random header: flags, numbers and options; SACK blocks trimmed until
 * the options fit in 40 bytes. */
static void random_hdr(struct rng *r, struct tcp_hdr *h)
{
	uint64_t x = rng_next(r);
	memset(h, 0, sizeof(*h));
	h->sport = (uint16_t)x;
	h->dport = (uint16_t)(x >> 16);
	h->win = (uint16_t)(x >> 32);
	h->urg = (uint16_t)(x >> 48);
	x = rng_next(r);
	h->seq = (uint32_t)x;
	h->ack = (uint32_t)(x >> 32);
	x = rng_next(r);
	h->flags = (uint8_t)x;
	h->opts.mss_ok = x >> 8 & 1;
	h->opts.ws_ok = x >> 9 & 1;
	h->opts.sack_ok = x >> 10 & 1;
	h->opts.ts_ok = x >> 11 & 1;
	h->opts.nsack = (uint8_t)(x >> 12 & 7) % (TCP_MAX_SACK + 1);
	h->opts.mss = (uint16_t)(x >> 16);
	h->opts.wscale = (uint8_t)(x >> 32);
	x = rng_next(r);
	h->opts.tsval = (uint32_t)x;
	h->opts.tsecr = (uint32_t)(x >> 32);
	for (unsigned i = 0; i < TCP_MAX_SACK; i++) {
		x = rng_next(r);
		h->opts.sack[i].start = (uint32_t)x;
		h->opts.sack[i].end = (uint32_t)(x >> 32);
	}
	while (tcp_opts_len(h) > TCP_MAX_HLEN - TCP_HLEN)
		h->opts.nsack--;
}

/* What parsing the emitted h must give: the SYN-only options dropped from
 * other segments. */
static struct tcp_hdr expected(const struct tcp_hdr *h)
{
	struct tcp_hdr w = *h;
	if (!(h->flags & TCP_SYN))
		w.opts.mss_ok = w.opts.ws_ok = w.opts.sack_ok = false;
	return w;
}

START_TEST(roundtrip_random)
{
	struct rng r;
	uint8_t b[SEG_MAX];
	unsigned syn = 0, full = 0;

	rng_seed(&r, 0x7cf);
	for (int i = 0; i < 20000; i++) {
		struct tcp_hdr h, p;
		random_hdr(&r, &h);
		size_t plen = rng_next(&r) % 300;
		size_t olen = tcp_opts_len(&h);
		for (size_t j = 0; j < plen; j++)
			b[TCP_HLEN + olen + j] = (uint8_t)rng_next(&r);
		ck_assert_uint_eq(olen % 4, 0);
		ck_assert_uint_eq(tcp_emit(b, &h, plen, US, PEER), TCP_HLEN + olen);
		ck_assert_uint_eq(h.doff, TCP_HLEN + olen);
		ck_assert_uint_eq(ref_csum(b, h.doff + plen, US, PEER), 0);
		ck_assert_int_eq(tcp_parse(b, h.doff + plen, US, PEER, &p), 0);
		struct tcp_hdr w = expected(&h);
		assert_hdr_eq(&p, &w);
		syn += !!(h.flags & TCP_SYN);
		full += olen == TCP_MAX_HLEN - TCP_HLEN;
	}
	/* the draw reached both kinds of segment and full option space */
	ck_assert_uint_gt(syn, 5000);
	ck_assert_uint_gt(full, 100);
}
END_TEST

START_TEST(checksum_every_flipped_bit)
{
	struct tcp_hdr h = linux_syn_hdr();
	uint8_t b[TCP_MAX_HLEN + 7];
	struct tcp_hdr p;

	h.flags = TCP_SYN | TCP_ACK;
	memcpy(b + 40, "payload", 7);
	size_t len = tcp_emit(b, &h, 7, US, PEER) + 7;
	ck_assert_uint_eq(len, 47);
	ck_assert_int_eq(tcp_parse(b, len, US, PEER, &p), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		b[bit / 8] ^= (uint8_t)(1 << bit % 8);
		int err = tcp_parse(b, len, US, PEER, &p);
		if (bit / 8 == 12 && bit % 8 >= 4)	/* the data offset itself */
			ck_assert(err == DROP_TCP_HDRLEN || err == DROP_TCP_CSUM);
		else
			ck_assert_int_eq(err, DROP_TCP_CSUM);
		b[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	ck_assert_int_eq(tcp_parse(b, len, US, PEER, &p), 0);
	/* the pseudo-header counts: other addresses, or a length that drops
	 * the last byte */
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), 0);	/* the sum commutes */
	ck_assert_int_eq(tcp_parse(b, len, US, PEER ^ 0x100, &p), DROP_TCP_CSUM);
	ck_assert_int_eq(tcp_parse(b, len - 1, US, PEER, &p), DROP_TCP_CSUM);
}
END_TEST

START_TEST(checksum_odd_lengths)
{
	static const size_t plens[] = {1, 3, 5, 7, 9, 63, 1001, 1459};
	uint8_t b[SEG_MAX];
	struct tcp_hdr p;

	for (unsigned i = 0; i < ARRAY_SIZE(plens); i++) {
		struct tcp_hdr h = {.sport = 1, .dport = 2, .seq = 0xfffffffe, .ack = 7,
				    .flags = TCP_ACK | TCP_PSH, .win = 0xffff,
				    .opts = {.ts_ok = true, .tsval = 1, .tsecr = 2}};
		size_t plen = plens[i];
		for (size_t j = 0; j < plen; j++)
			b[32 + j] = (uint8_t)(0xff - j);
		ck_assert_uint_eq(tcp_emit(b, &h, plen, US, PEER), 32);
		uint16_t stored = get_be16(b + 16);
		put_be16(b + 16, 0);
		ck_assert_uint_eq(stored, ref_csum(b, 32 + plen, US, PEER));
		put_be16(b + 16, stored);
		ck_assert_int_eq(tcp_parse(b, 32 + plen, US, PEER, &p), 0);
		/* the last, odd byte is covered */
		b[32 + plen - 1] ^= 0x80;
		ck_assert_int_eq(tcp_parse(b, 32 + plen, US, PEER, &p), DROP_TCP_CSUM);
	}
}
END_TEST

START_TEST(parse_truncated)
{
	uint8_t b[TCP_HLEN];
	struct tcp_hdr p;

	seg_hand(b, NULL, 0, 0);
	for (size_t len = 0; len < TCP_HLEN; len++)
		ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), DROP_TCP_SHORT);
	ck_assert_int_eq(tcp_parse(b, TCP_HLEN, PEER, US, &p), 0);
	ck_assert_uint_eq(p.doff, TCP_HLEN);
}
END_TEST

START_TEST(parse_bad_data_offset)
{
	uint8_t b[TCP_MAX_HLEN + 8];
	struct tcp_hdr p;
	size_t len = seg_hand(b, (const uint8_t[]){1, 1, 1, 1}, 4, 4);	/* doff 24, len 28 */

	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), 0);
	for (unsigned words = 0; words < 5; words++) {
		b[12] = (uint8_t)(words << 4);
		set_csum(b, len);
		ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), DROP_TCP_HDRLEN);
	}
	b[12] = 7 << 4;			/* 28: all of the segment, no payload */
	memset(b + 24, TCPOPT_NOP, 4);	/* what was payload now is options */
	set_csum(b, len);
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), 0);
	ck_assert_uint_eq(p.doff, 28);
	b[12] = 8 << 4;			/* 32: beyond the 28 bytes */
	set_csum(b, len);
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), DROP_TCP_HDRLEN);
	b[12] = 15 << 4;
	set_csum(b, len);
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), DROP_TCP_HDRLEN);
	/* one byte short of the data offset */
	len = seg_hand(b, (const uint8_t[]){1, 1, 1, 1}, 4, 3);	/* doff 24, len 27 */
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), 0);
	b[12] = 7 << 4;
	set_csum(b, len);
	ck_assert_int_eq(tcp_parse(b, len, PEER, US, &p), DROP_TCP_HDRLEN);
}
END_TEST

/* The reserved bits of byte 12 are not the data offset; all 8 bits of
 * byte 13 are flags. */
START_TEST(parse_flags_and_reserved_bits)
{
	uint8_t b[TCP_HLEN];
	struct tcp_hdr p;

	seg_hand(b, NULL, 0, 0);
	b[12] = 0x5f;
	b[13] = 0xff;
	set_csum(b, TCP_HLEN);
	ck_assert_int_eq(tcp_parse(b, TCP_HLEN, PEER, US, &p), 0);
	ck_assert_uint_eq(p.doff, TCP_HLEN);
	ck_assert_uint_eq(p.flags, TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG |
			  TCP_ECE | TCP_CWR);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.ack, 2000);
}
END_TEST

static int parse_opts(const uint8_t *opts, size_t olen, struct tcp_hdr *p)
{
	uint8_t b[TCP_MAX_HLEN + 16];
	size_t len = seg_hand(b, opts, olen, 5);
	return tcp_parse(b, len, PEER, US, p);
}

START_TEST(options_malformed)
{
	struct tcp_hdr p;

	/* length 0 and 1 */
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x1e, 0x00, 0x01, 0x01}, 4, &p),
			 DROP_TCP_OPTIONS);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x02, 0x01, 0x01, 0x01}, 4, &p),
			 DROP_TCP_OPTIONS);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x05, 0x00, 0x00}, 4, &p),
			 DROP_TCP_OPTIONS);
	/* a length running past the header (into the payload that follows) */
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x01, 0x08, 0x0a}, 4, &p),
			 DROP_TCP_OPTIONS);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x1e, 0x05, 0x00, 0x00}, 4, &p),
			 DROP_TCP_OPTIONS);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x03,
						      0x03}, 8, &p), DROP_TCP_OPTIONS);
	/* a lone kind byte at the end */
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x01, 0x01, 0x02}, 4, &p),
			 DROP_TCP_OPTIONS);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x01, 0x01, 0xfe}, 4, &p),
			 DROP_TCP_OPTIONS);
	/* a lone kind as the segment's last byte: the walk reads nothing
	 * beyond it (an exact heap copy, for the sanitizers) */
	uint8_t b[TCP_HLEN + 4];
	size_t len = seg_hand(b, (const uint8_t[]){0x01, 0x01, 0x01, 0x1e}, 4, 0);
	uint8_t *heap = malloc(len);
	ck_assert_ptr_nonnull(heap);
	memcpy(heap, b, len);
	ck_assert_int_eq(tcp_parse(heap, len, PEER, US, &p), DROP_TCP_OPTIONS);
	free(heap);
	/* the same bytes that just fit are fine */
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x1e, 0x04, 0x00, 0x00}, 4, &p), 0);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x01, 0x01, 0x01}, 4, &p), 0);
}
END_TEST

START_TEST(options_wrong_length_ignored)
{
	struct tcp_hdr p;
	const uint8_t o[] = {
		0x02, 0x03, 0x05,				/* mss, length 3 */
		0x08, 0x09, 1, 2, 3, 4, 5, 6, 7,		/* TS, length 9 */
		0x05, 0x09, 1, 2, 3, 4, 5, 6, 7,		/* sack, length 9 */
		0x04, 0x03, 0x00,				/* sackOK, length 3 */
		0x03, 0x04, 0x07, 0x00,				/* wscale, length 4 */
		0x05, 0x02,					/* sack, no blocks */
		0x02, 0x05, 0x05, 0xb4, 0x00,			/* mss, length 5 */
		0x00, 0x00, 0x00, 0x00, 0x00,			/* EOL and padding */
	};
	ck_assert_uint_eq(sizeof(o), 40);
	ck_assert_int_eq(parse_opts(o, sizeof(o), &p), 0);
	ck_assert_uint_eq(p.doff, TCP_MAX_HLEN);
	ck_assert(!p.opts.mss_ok);
	ck_assert(!p.opts.ts_ok);
	ck_assert_uint_eq(p.opts.nsack, 0);
	ck_assert(!p.opts.sack_ok);
	ck_assert(!p.opts.ws_ok);
	ck_assert_uint_eq(p.seq, 1000);
}
END_TEST

START_TEST(options_unknown_skipped)
{
	struct tcp_hdr p;
	const uint8_t o[] = {0x1e, 0x04, 0xaa, 0xbb, 0x02, 0x04, 0x05, 0xb4,
			     0xfd, 0x02, 0x01, 0x01, 0x05, 0x0a, 0x00, 0x00,
			     0x00, 0x64, 0x00, 0x00, 0x00, 0xc8, 0x01, 0x01};
	ck_assert_int_eq(parse_opts(o, sizeof(o), &p), 0);
	ck_assert(p.opts.mss_ok);
	ck_assert_uint_eq(p.opts.mss, 1460);
	ck_assert_uint_eq(p.opts.nsack, 1);
	ck_assert_uint_eq(p.opts.sack[0].start, 100);
	ck_assert_uint_eq(p.opts.sack[0].end, 200);
	ck_assert(!p.opts.ws_ok && !p.opts.ts_ok && !p.opts.sack_ok);
}
END_TEST

START_TEST(options_eol_ends_walk)
{
	struct tcp_hdr p;
	/* after EOL: a zero length, an overrun and a valid MSS, all unread */
	const uint8_t o[] = {0x01, 0x03, 0x03, 0x05, 0x00, 0x1e, 0x00, 0xff,
			     0x08, 0x40, 0x02, 0x04, 0x05, 0xb4, 0x02, 0x04};
	ck_assert_int_eq(parse_opts(o, sizeof(o), &p), 0);
	ck_assert(p.opts.ws_ok);
	ck_assert_uint_eq(p.opts.wscale, 5);
	ck_assert(!p.opts.mss_ok);
	/* EOL first: nothing at all */
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x00, 0x02, 0x04, 0x05}, 4, &p), 0);
	ck_assert(!p.opts.mss_ok);
}
END_TEST

/* Options are reported on any segment; what to honour is the TCP core's
 * call. A window scale above 14 is reported as sent (RFC 7323 2.3: the
 * receiver clamps). */
START_TEST(options_raw_values_on_any_segment)
{
	struct tcp_hdr p;

	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x03, 0x03, 0x0f}, 4, &p), 0);
	ck_assert(p.opts.ws_ok);
	ck_assert_uint_eq(p.opts.wscale, 15);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x01, 0x03, 0x03, 0xff}, 4, &p), 0);
	ck_assert_uint_eq(p.opts.wscale, 255);
	ck_assert_uint_eq(p.flags, TCP_ACK);
	ck_assert_int_eq(parse_opts((const uint8_t[]){0x02, 0x04, 0x00, 0x00, 0x01, 0x01, 0x04,
						      0x02}, 8, &p), 0);
	ck_assert(p.opts.mss_ok);
	ck_assert_uint_eq(p.opts.mss, 0);
	ck_assert(p.opts.sack_ok);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_wire");
	TCase *tc = tcase_create("tcp_wire");
	tcase_add_test(tc, parse_linux_syn);
	tcase_add_test(tc, emit_linux_syn_exact);
	tcase_add_test(tc, emit_syn_without_ts);
	tcase_add_test(tc, emit_synack_subsets);
	tcase_add_test(tc, emit_established_ts_exact);
	tcase_add_test(tc, emit_ts_and_3_sack_blocks);
	tcase_add_test(tc, emit_4_sack_blocks_without_ts);
	tcase_add_test(tc, emit_syn_options_only_on_syn);
	tcase_add_test(tc, roundtrip_random);
	tcase_add_test(tc, checksum_every_flipped_bit);
	tcase_add_test(tc, checksum_odd_lengths);
	tcase_add_test(tc, parse_truncated);
	tcase_add_test(tc, parse_bad_data_offset);
	tcase_add_test(tc, parse_flags_and_reserved_bits);
	tcase_add_test(tc, options_malformed);
	tcase_add_test(tc, options_wrong_length_ignored);
	tcase_add_test(tc, options_unknown_skipped);
	tcase_add_test(tc, options_eol_ends_walk);
	tcase_add_test(tc, options_raw_values_on_any_segment);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
