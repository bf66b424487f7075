/*
 * test_frag.c: IPv4 reassembly and fragmentation (netd/frag.c). Each test
 * builds fragments by hand on a stack with a virtual clock, feeds them to
 * ip_reassemble() in some order, and checks what comes out byte by byte,
 * which drop reasons counted what, and that nothing leaked: every test
 * ends by destroying the reassembly table and asserting that the pool has
 * no buffer out. The timeout with an ICMP time exceeded runs on the
 * packet-test harness, so the error is seen leaving the interface.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netd/frag.h"
#include "netd/stack.h"
#include "netd/util.h"
#include "netd/wire/icmp.h"
#include "netd/wire/ipv4.h"
#include "tests/harness.h"

#define SRC IPV4(192, 0, 2, 1)
#define DST IPV4(192, 0, 2, 2)
#define PROTO IPPROTO_UDP_
#define MAX_PAYLOAD (IPV4_MAX_LEN - IPV4_HLEN)

/* Router alert (copied) + record route (not copied) + EOL padding. */
static const uint8_t opts_mixed[12] = { 0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0 };

static uint8_t pattern(unsigned i)
{
	return (uint8_t)(i * 7 + i / 251 + 3);
}

/* ---- stacks ---- */

static struct stack *stack_new(const struct stack_params *p)
{
	int err = 0;
	struct stack *st = stack_create(p, true, &err);
	ck_assert_msg(st != NULL, "stack_create: %d", err);
	return st;
}

static struct stack *stack_small(void)
{
	struct stack_params p;
	stack_params_default(&p);
	p.pool_small = 256;
	p.pool_large = 8;
	p.seed = 1;
	return stack_new(&p);
}

/* Every test ends here: no fragment held, no buffer out. */
static void stack_end(struct stack *st)
{
	reasm_table_destroy(st, &st->reasm);
	ck_assert_uint_eq(st->timers.pending, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);
	stack_destroy(st);
}

/* ---- fragments ---- */

struct fspec {
	uint16_t id;
	unsigned off, len;	/* payload bytes [off, off + len) of the pattern */
	bool mf;
	const uint8_t *opts;	/* NULL, or olen bytes, a multiple of 4 */
	size_t olen;
};

/* A datagram or fragment from SRC to DST carrying pattern bytes. */
static struct nbuf *build(struct stack *st, const struct fspec *s)
{
	unsigned hlen = IPV4_HLEN + (unsigned)s->olen;
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, hlen + s->len);
	ck_assert_ptr_nonnull(nb);
	uint8_t *p = nbuf_put(nb, hlen + s->len);
	struct ipv4_hdr h = {
		.hlen = IPV4_HLEN, .total_len = (uint16_t)(hlen + s->len), .id = s->id,
		.mf = s->mf, .frag_off = (uint16_t)s->off, .ttl = 64, .proto = PROTO,
		.src = SRC, .dst = DST,
	};
	ipv4_emit(p, &h);
	if (s->olen) {
		memcpy(p + IPV4_HLEN, s->opts, s->olen);
		p[0] = (uint8_t)(0x40 | hlen / 4);
		ipv4_set_csum(p, hlen);
	}
	for (unsigned i = 0; i < s->len; i++)
		p[hlen + i] = pattern(s->off + i);
	nbuf_mark_l3(nb);
	return nb;
}

static struct nbuf *frag(struct stack *st, uint16_t id, unsigned off, unsigned len, bool mf)
{
	struct fspec s = { .id = id, .off = off, .len = len, .mf = mf };
	return build(st, &s);
}

static struct ipv4_hdr parse(const struct nbuf *nb)
{
	struct ipv4_hdr h;
	int r = ipv4_parse(nb->data, nbuf_len(nb), &h);
	ck_assert_msg(r == 0, "ipv4_parse: %s", drop_reason_name((enum drop_reason)r));
	return h;
}

/* Parses nb and hands it to ip_reassemble. */
static struct nbuf *feed(struct stack *st, struct nbuf *nb)
{
	struct ipv4_hdr h = parse(nb);
	return ip_reassemble(st, nb, &h);
}

static struct nbuf *feed_frag(struct stack *st, uint16_t id, unsigned off, unsigned len,
			      bool mf)
{
	return feed(st, frag(st, id, off, len, mf));
}

/* Asserts nb is the whole datagram id with plen bytes of pattern, header
 * valid and unfragmented, l3 marked; frees it. */
static void expect_datagram(struct nbuf *nb, uint16_t id, unsigned plen)
{
	ck_assert_ptr_nonnull(nb);
	struct ipv4_hdr h = parse(nb);
	ck_assert_uint_eq(h.total_len, h.hlen + plen);
	ck_assert_uint_eq(nbuf_len(nb), h.total_len);
	ck_assert_uint_eq(h.id, id);
	ck_assert(!h.mf);
	ck_assert_uint_eq(h.frag_off, 0);
	ck_assert_uint_eq(h.src, SRC);
	ck_assert_uint_eq(h.dst, DST);
	ck_assert_ptr_eq(nbuf_l3(nb), nb->data);
	for (unsigned i = 0; i < plen; i++)
		ck_assert_msg(nb->data[h.hlen + i] == pattern(i), "payload byte %u differs", i);
	nbuf_free(nb);
}

/* ---- reassembly ---- */

START_TEST(test_in_order)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 1, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 1, 1480, 1480, true));
	ck_assert_uint_eq(st->reasm.used, 1);
	struct nbuf *nb = feed_frag(st, 1, 2960, 1000, false);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 1);	/* fragments freed */
	expect_datagram(nb, 1, 3960);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_REQDS], 3);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_OKS], 1);
	ck_assert_uint_eq(st->reasm.used, 0);
	ck_assert_uint_eq(st->reasm.mem, 0);
	for (unsigned r = 0; r < DROP_MAX; r++)
		ck_assert_uint_eq(st->drops[r], 0);
	stack_end(st);
}
END_TEST

START_TEST(test_out_of_order)
{
	static const unsigned order[] = { 9, 2, 7, 0, 5, 3, 8, 1, 6, 4 };
	struct stack *st = stack_small();

	/* The last fragment first, then the first, then the middle. */
	ck_assert_ptr_null(feed_frag(st, 2, 2960, 1000, false));
	ck_assert_ptr_null(feed_frag(st, 2, 0, 1480, true));
	expect_datagram(feed_frag(st, 2, 1480, 1480, true), 2, 3960);

	/* Ten 80-byte fragments (the last 44) shuffled, in two interleaved datagrams. */
	for (unsigned i = 0; i < 10; i++) {
		unsigned k = order[i];
		struct nbuf *a = feed_frag(st, 3, k * 80, k == 9 ? 44 : 80, k != 9);
		struct nbuf *b = feed_frag(st, 4, (9 - k) * 80, k == 0 ? 44 : 80, k != 0);
		if (i < 9) {
			ck_assert_ptr_null(a);
			ck_assert_ptr_null(b);
			ck_assert_uint_eq(st->reasm.used, 2);
		} else {
			expect_datagram(a, 3, 764);
			expect_datagram(b, 4, 764);
		}
	}
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_REQDS], 23);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_OKS], 3);
	stack_end(st);
}
END_TEST

START_TEST(test_duplicate)
{
	struct stack *st = stack_small();
	struct fspec span = { .id = 5, .off = 0, .len = 2960, .mf = true };

	ck_assert_ptr_null(feed_frag(st, 5, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 5, 0, 1480, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_DUPLICATE], 1);
	ck_assert_uint_eq(st->reasm.used, 1);	/* the datagram survives */
	ck_assert_ptr_null(feed_frag(st, 5, 1480, 1480, true));
	/* Exactly the bytes of the two held fragments, on their bounds. */
	ck_assert_ptr_null(feed(st, build(st, &span)));
	ck_assert_uint_eq(st->drops[DROP_FRAG_DUPLICATE], 2);
	ck_assert_ptr_null(feed_frag(st, 5, 1480, 1480, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_DUPLICATE], 3);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 2);	/* no duplicate kept */
	expect_datagram(feed_frag(st, 5, 2960, 100, false), 5, 3060);
	ck_assert_uint_eq(st->drops[DROP_FRAG_OVERLAP], 0);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_REQDS], 6);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_OKS], 1);
	stack_end(st);
}
END_TEST

START_TEST(test_duplicate_last)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 7, 1480, 20, false));
	ck_assert_ptr_null(feed_frag(st, 7, 1480, 20, false));	/* same end: a duplicate */
	ck_assert_uint_eq(st->drops[DROP_FRAG_DUPLICATE], 1);
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 0);
	expect_datagram(feed_frag(st, 7, 0, 1480, true), 7, 1500);
	stack_end(st);
}
END_TEST

/* Teardrop: a second fragment starting inside the first. The datagram is
 * discarded; the arriving fragment and the held one count one drop each. */
START_TEST(test_overlap_teardrop)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 8, 0, 48, true));
	ck_assert_ptr_null(feed_frag(st, 8, 24, 8, true));	/* inside, other bounds */
	ck_assert_uint_eq(st->drops[DROP_FRAG_OVERLAP], 2);
	ck_assert_uint_eq(st->reasm.used, 0);
	ck_assert_uint_eq(st->reasm.mem, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);

	/* Straddling the end of a held fragment, arriving before it. */
	ck_assert_ptr_null(feed_frag(st, 9, 40, 16, true));
	ck_assert_ptr_null(feed_frag(st, 9, 56, 16, true));
	ck_assert_ptr_null(feed_frag(st, 9, 0, 48, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_OVERLAP], 5);
	ck_assert_uint_eq(st->reasm.used, 0);

	/* Covering one held fragment and part of the next. */
	ck_assert_ptr_null(feed_frag(st, 6, 0, 800, true));
	ck_assert_ptr_null(feed_frag(st, 6, 800, 800, true));
	ck_assert_ptr_null(feed_frag(st, 6, 0, 1472, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_OVERLAP], 8);
	ck_assert_uint_eq(st->reasm.used, 0);

	/* The rest of a discarded datagram starts a new queue; it never completes. */
	ck_assert_ptr_null(feed_frag(st, 9, 72, 8, false));
	ck_assert_uint_eq(st->reasm.used, 1);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_OKS], 0);
	stack_end(st);
}
END_TEST

/* The original teardrop's second fragment is the last one and ends inside
 * the first: held data beyond the end; and two last fragments that
 * disagree. Both discard the datagram as malformed. */
START_TEST(test_conflicting_end)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 10, 0, 40, true));
	ck_assert_ptr_null(feed_frag(st, 10, 24, 4, false));
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 2);
	ck_assert_uint_eq(st->reasm.used, 0);

	ck_assert_ptr_null(feed_frag(st, 11, 800, 100, false));
	ck_assert_ptr_null(feed_frag(st, 11, 800, 108, false));
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 4);
	ck_assert_uint_eq(st->reasm.used, 0);

	ck_assert_ptr_null(feed_frag(st, 12, 800, 100, false));
	ck_assert_ptr_null(feed_frag(st, 12, 880, 24, true));	/* beyond the end */
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 6);
	ck_assert_uint_eq(st->reasm.used, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);
	stack_end(st);
}
END_TEST

START_TEST(test_ping_of_death)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 13, 0, 1480, true));
	/* Highest offset the header can say, 16 bytes: 65544 > 65515. */
	ck_assert_ptr_null(feed_frag(st, 13, 65528, 16, false));
	ck_assert_uint_eq(st->drops[DROP_FRAG_TOO_BIG], 2);	/* it and the held one */
	ck_assert_uint_eq(st->reasm.used, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);

	/* Alone, it makes no queue. */
	ck_assert_ptr_null(feed_frag(st, 14, 65528, 8, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_TOO_BIG], 3);
	ck_assert_uint_eq(st->reasm.used, 0);

	/* The largest datagram there is still goes through: 65535 bytes. */
	unsigned off;
	struct nbuf *nb = NULL;
	for (off = 0; off + 1480 < MAX_PAYLOAD; off += 1480)
		ck_assert_ptr_null(feed_frag(st, 15, off, 1480, true));
	nb = feed_frag(st, 15, off, MAX_PAYLOAD - off, false);
	ck_assert_uint_eq(nbuf_len(nb), IPV4_MAX_LEN);
	expect_datagram(nb, 15, MAX_PAYLOAD);
	ck_assert_uint_eq(st->drops[DROP_FRAG_TOO_BIG], 3);
	stack_end(st);
}
END_TEST

START_TEST(test_malformed_length)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 16, 0, 100, true));	/* MF, 100 % 8 != 0 */
	ck_assert_ptr_null(feed_frag(st, 16, 800, 0, true));	/* empty */
	ck_assert_ptr_null(feed_frag(st, 16, 800, 0, false));	/* empty last */
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 3);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_REQDS], 3);
	ck_assert_uint_eq(st->reasm.used, 0);

	/* A malformed fragment is dropped alone; its datagram goes on. */
	ck_assert_ptr_null(feed_frag(st, 17, 0, 96, true));
	ck_assert_ptr_null(feed_frag(st, 17, 96, 12, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_MALFORMED], 4);
	expect_datagram(feed_frag(st, 17, 96, 13, false), 17, 109);

	/* Not a fragment at all: handed back untouched. */
	struct nbuf *whole = frag(st, 18, 0, 50, false);
	ck_assert_ptr_eq(feed(st, whole), whole);
	nbuf_free(whole);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_REQDS], 6);
	stack_end(st);
}
END_TEST

START_TEST(test_timeout)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 19, 1480, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 19, 2960, 100, false));
	stack_advance(st, SEC(30) - MSEC(1));
	ck_assert_uint_eq(st->reasm.used, 1);
	ck_assert_uint_eq(st->drops[DROP_FRAG_TIMEOUT], 0);
	stack_advance(st, MSEC(1));
	ck_assert_uint_eq(st->reasm.used, 0);
	ck_assert_uint_eq(st->reasm.mem, 0);
	ck_assert_uint_eq(st->drops[DROP_FRAG_TIMEOUT], 2);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);

	/* A fragment of the old datagram after the timeout starts afresh. */
	ck_assert_ptr_null(feed_frag(st, 19, 0, 1480, true));
	ck_assert_uint_eq(st->reasm.used, 1);
	stack_end(st);
}
END_TEST

/* Through the harness: the timeout sends an ICMP time exceeded (code 1)
 * quoting the first fragment, and only when the first fragment came. */
static struct nbuf *peer_frag(struct harness *hs, uint16_t id, unsigned off, unsigned len,
			      bool mf)
{
	struct nbuf *nb = nbuf_alloc_tx(&hs->st->pool, IPV4_HLEN + len);
	ck_assert_ptr_nonnull(nb);
	struct ipv4_hdr h = {
		.hlen = IPV4_HLEN, .total_len = (uint16_t)(IPV4_HLEN + len), .id = id,
		.mf = mf, .frag_off = (uint16_t)off, .ttl = 64, .proto = PROTO,
		.src = H_PEER_IP, .dst = H_OUR_IP,
	};
	uint8_t *p = nbuf_put(nb, IPV4_HLEN + len);
	ipv4_emit(p, &h);
	for (unsigned i = 0; i < len; i++)
		p[IPV4_HLEN + i] = pattern(off + i);
	nbuf_mark_l3(nb);
	nb->ifindex = (uint16_t)hs->nif->index;
	nb->pkt_type = NBUF_HOST;
	return nb;
}

/* The next IPv4 frame the stack sent, past the ARP probes that 30 s of
 * virtual time bring (the peer's entry is stale by then); NULL if none. */
static const uint8_t *take_ipv4(struct harness *hs, struct frame *f, struct ipv4_hdr *ih)
{
	struct eth_hdr eh;
	while (harness_take(hs, f)) {
		const uint8_t *l4 = frame_ipv4(f, &eh, ih);
		if (l4)
			return l4;
		ck_assert_uint_eq(eh.type, ETHERTYPE_ARP);
	}
	return NULL;
}

START_TEST(test_timeout_icmp)
{
	struct harness hs;
	struct frame f;
	struct ipv4_hdr ih;
	struct icmp_hdr ic;
	uint8_t quote[IPV4_HLEN + 8];
	struct nbuf *first;

	harness_init(&hs);
	harness_learn_peer(&hs);
	ck_assert_ptr_null(feed(hs.st, peer_frag(&hs, 20, 1480, 100, false)));
	first = peer_frag(&hs, 21, 0, 1480, true);
	memcpy(quote, first->data, sizeof(quote));
	ck_assert_ptr_null(feed(hs.st, first));
	ck_assert_ptr_null(feed(hs.st, peer_frag(&hs, 21, 2960, 100, false)));
	harness_advance(&hs, 30000);
	ck_assert_uint_eq(hs.st->drops[DROP_FRAG_TIMEOUT], 3);
	ck_assert_uint_eq(hs.st->reasm.used, 0);

	/* One error: datagram 21 had its first fragment, datagram 20 did not. */
	const uint8_t *icmp = take_ipv4(&hs, &f, &ih);
	ck_assert_ptr_nonnull(icmp);
	ck_assert_uint_eq(ih.proto, IPPROTO_ICMP_);
	ck_assert_uint_eq(ih.src, H_OUR_IP);
	ck_assert_uint_eq(ih.dst, H_PEER_IP);
	size_t ilen = ih.total_len - ih.hlen;
	ck_assert_int_eq(icmp_parse(icmp, ilen, &ic), 0);
	ck_assert_uint_eq(ic.type, ICMP_TIME_EXCEEDED);
	ck_assert_uint_eq(ic.code, ICMP_EXC_FRAGTIME);
	/* It quotes the first fragment of datagram 21: header and 8 bytes. */
	ck_assert_uint_ge(ilen, ICMP_HLEN + sizeof(quote));
	ck_assert_mem_eq(icmp + ICMP_HLEN, quote, sizeof(quote));
	ck_assert_ptr_null(take_ipv4(&hs, &f, &ih));
	ck_assert_uint_eq(hs.st->stats[STAT_ICMP_OUT_ERROR_MSGS], 1);

	reasm_table_destroy(hs.st, &hs.st->reasm);
	ck_assert_uint_eq(nbuf_pool_in_use(&hs.st->pool), 0);
	harness_teardown(&hs);
}
END_TEST

START_TEST(test_memlimit)
{
	struct stack *st = stack_small();
	struct nbuf *probe = frag(st, 0, 0, 8, true);
	size_t truesize = (size_t)(probe->end - probe->head);
	nbuf_free(probe);
	st->reasm.mem_limit = 3 * truesize;

	ck_assert_ptr_null(feed_frag(st, 22, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 22, 1480, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 23, 0, 1480, true));
	ck_assert_uint_eq(st->reasm.mem, 3 * truesize);
	/* Full: a new datagram is refused, and so is more of a held one;
	 * nothing held is evicted. */
	ck_assert_ptr_null(feed_frag(st, 24, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 23, 1480, 100, false));
	ck_assert_uint_eq(st->drops[DROP_FRAG_MEMLIMIT], 2);
	ck_assert_uint_eq(st->reasm.used, 2);
	ck_assert_uint_eq(st->reasm.mem, 3 * truesize);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 3);

	/* Once they time out the memory is back. */
	stack_advance(st, SEC(30));
	ck_assert_uint_eq(st->drops[DROP_FRAG_TIMEOUT], 3);
	ck_assert_uint_eq(st->reasm.mem, 0);
	ck_assert_ptr_null(feed_frag(st, 25, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 25, 1480, 1480, true));
	expect_datagram(feed_frag(st, 25, 2960, 8, false), 25, 2968);
	stack_end(st);
}
END_TEST

START_TEST(test_queue_limit)
{
	struct stack_params p;
	stack_params_default(&p);
	p.pool_small = 64;
	p.pool_large = 2;
	p.reasm_queues = 2;
	struct stack *st = stack_new(&p);

	ck_assert_ptr_null(feed_frag(st, 26, 0, 8, true));
	ck_assert_ptr_null(feed_frag(st, 27, 0, 8, true));
	ck_assert_ptr_null(feed_frag(st, 28, 0, 8, true));
	ck_assert_uint_eq(st->drops[DROP_FRAG_MEMLIMIT], 1);
	ck_assert_uint_eq(st->reasm.used, 2);
	/* The held datagrams still complete, and free their queues. */
	expect_datagram(feed_frag(st, 27, 8, 8, false), 27, 16);
	ck_assert_ptr_null(feed_frag(st, 28, 0, 8, true));
	ck_assert_uint_eq(st->reasm.used, 2);
	expect_datagram(feed_frag(st, 28, 8, 1, false), 28, 9);
	stack_end(st);
}
END_TEST

START_TEST(test_reasm_pool_dry)
{
	struct stack_params p;
	stack_params_default(&p);
	p.pool_small = 8;
	p.pool_medium = 0;
	p.pool_large = 0;	/* nothing can hold the whole datagram */
	struct stack *st = stack_new(&p);

	ck_assert_ptr_null(feed_frag(st, 29, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 29, 1480, 100, false));
	ck_assert_uint_eq(st->drops[DROP_NOMEM], 2);
	ck_assert_uint_eq(st->stats[STAT_IP_REASM_OKS], 0);
	ck_assert_uint_eq(st->reasm.used, 0);
	stack_end(st);
}
END_TEST

START_TEST(test_destroy_held)
{
	struct stack *st = stack_small();
	ck_assert_ptr_null(feed_frag(st, 30, 0, 1480, true));
	ck_assert_ptr_null(feed_frag(st, 31, 1480, 8, false));
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 2);
	ck_assert_uint_eq(st->timers.pending, 2);
	reasm_table_destroy(st, &st->reasm);
	ck_assert_uint_eq(st->timers.pending, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 0);
	for (unsigned r = 0; r < DROP_MAX; r++)
		ck_assert_uint_eq(st->drops[r], 0);	/* teardown is not a drop */
	stack_end(st);	/* a second destroy is harmless */
}
END_TEST

/* ---- fragmentation ---- */

/* What one fragment should be: header length, payload offset and length
 * in the datagram, MF. */
struct fexp {
	unsigned hlen, off, len;
	bool mf;
};

/* Moves the n fragments of out to f. */
static void take_all(struct nbuf_queue *out, struct nbuf **f, unsigned n)
{
	ck_assert_uint_eq(out->len, n);
	for (unsigned i = 0; i < n; i++)
		f[i] = nbuf_queue_pop(out);
	ck_assert_ptr_null(nbuf_queue_pop(out));
}

/* Checks each fragment's header (checksum included) and payload. */
static void expect_frags(struct nbuf **f, const struct fexp *e, unsigned n, uint16_t id,
			 uint16_t ifindex)
{
	for (unsigned i = 0; i < n; i++) {
		struct ipv4_hdr h = parse(f[i]);
		ck_assert_uint_eq(h.hlen, e[i].hlen);
		ck_assert_uint_eq(h.frag_off, e[i].off);
		ck_assert_uint_eq(h.total_len - h.hlen, e[i].len);
		ck_assert_uint_eq(h.mf, e[i].mf);
		ck_assert(!h.df);
		ck_assert_uint_eq(h.id, id);
		ck_assert_uint_eq(h.ttl, 64);
		ck_assert_uint_eq(h.proto, PROTO);
		ck_assert_uint_eq(nbuf_len(f[i]), h.total_len);
		ck_assert_ptr_eq(nbuf_l3(f[i]), f[i]->data);
		ck_assert_uint_eq(f[i]->ifindex, ifindex);
		for (unsigned k = 0; k < e[i].len; k++)
			ck_assert_uint_eq(f[i]->data[h.hlen + k], pattern(e[i].off + k));
	}
}

/* Feeds f[n - 1] down to f[0]; only the last one fed may complete it. */
static struct nbuf *feed_all_reverse(struct stack *st, struct nbuf **f, unsigned n)
{
	struct nbuf *nb = NULL;
	for (unsigned i = n; i-- > 0;) {
		ck_assert_ptr_null(nb);
		nb = feed(st, f[i]);
	}
	return nb;
}

START_TEST(test_fragment_8000)
{
	static const struct fexp e[] = {
		{ 20, 0, 1480, true }, { 20, 1480, 1480, true }, { 20, 2960, 1480, true },
		{ 20, 4440, 1480, true }, { 20, 5920, 1480, true }, { 20, 7400, 580, false },
	};
	struct stack *st = stack_small();
	struct nbuf_queue out = { 0 };
	struct nbuf *nb = frag(st, 32, 0, 7980, false);
	uint8_t orig[8000];
	ck_assert_uint_eq(nbuf_len(nb), sizeof(orig));
	memcpy(orig, nb->data, sizeof(orig));
	nb->ifindex = 3;

	ck_assert_int_eq(ip_fragment(st, nb, 1500, &out), 0);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_OKS], 1);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_CREATES], 6);
	ck_assert_uint_eq(nbuf_pool_in_use(&st->pool), 6);	/* the original is freed */
	struct nbuf *f[6];
	take_all(&out, f, 6);
	expect_frags(f, e, 6, 32, 3);
	nb = feed_all_reverse(st, f, 6);
	ck_assert_ptr_nonnull(nb);
	ck_assert_uint_eq(nbuf_len(nb), sizeof(orig));
	ck_assert_mem_eq(nb->data, orig, sizeof(orig));	/* header included */
	ck_assert_uint_eq(nb->ifindex, 3);
	nbuf_free(nb);

	/* What fits is passed on as it is. */
	nb = frag(st, 33, 0, 1480, false);
	ck_assert_int_eq(ip_fragment(st, nb, 1500, &out), 0);
	ck_assert_uint_eq(out.len, 1);
	ck_assert_ptr_eq(nbuf_queue_pop(&out), nb);
	nbuf_free(nb);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_OKS], 1);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_CREATES], 6);
	stack_end(st);
}
END_TEST

/* A datagram cut in two on a 1500-byte link, each part cut again for a
 * 1000-byte one: offsets stay relative to the datagram, and MF stays set on
 * every piece of the first part. */
START_TEST(test_refragment)
{
	static const struct fexp e[] = {
		{ 20, 0, 976, true }, { 20, 976, 976, true }, { 20, 1952, 976, true },
		{ 20, 2928, 32, true },
		{ 20, 2960, 976, true }, { 20, 3936, 976, true }, { 20, 4912, 48, false },
	};
	struct stack *st = stack_small();
	struct nbuf_queue out = { 0 };
	struct nbuf *f[7], *nb;

	nb = frag(st, 34, 0, 2960, true);
	nb->ifindex = 3;
	ck_assert_int_eq(ip_fragment(st, nb, 1000, &out), 0);
	nb = frag(st, 34, 2960, 2000, false);
	nb->ifindex = 3;
	ck_assert_int_eq(ip_fragment(st, nb, 1000, &out), 0);
	take_all(&out, f, 7);
	expect_frags(f, e, 7, 34, 3);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_OKS], 2);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_CREATES], 7);
	expect_datagram(feed_all_reverse(st, f, 7), 34, 4960);
	stack_end(st);
}
END_TEST

START_TEST(test_fragment_options)
{
	struct stack *st = stack_small();
	struct nbuf_queue out = { 0 };
	struct fspec s = { .id = 35, .len = 3000, .opts = opts_mixed, .olen = 12 };
	struct nbuf *nb = build(st, &s), *f[3];
	uint8_t orig[3032];
	ck_assert_uint_eq(nbuf_len(nb), sizeof(orig));
	memcpy(orig, nb->data, sizeof(orig));

	/* Each piece is the MTU less its own header, rounded down to 8:
	 * (1500 - 32) & ~7 = 1464 behind all the options, then
	 * (1500 - 24) & ~7 = 1472 behind the router alert alone. */
	static const struct fexp e[] = {
		{ 32, 0, 1464, true }, { 24, 1464, 1472, true }, { 24, 2936, 64, false },
	};
	ck_assert_int_eq(ip_fragment(st, nb, 1500, &out), 0);
	take_all(&out, f, 3);
	expect_frags(f, e, 3, 35, 0);
	ck_assert_mem_eq(f[0]->data + IPV4_HLEN, opts_mixed, 12);
	ck_assert_mem_eq(f[1]->data + IPV4_HLEN, opts_mixed, 4);
	ck_assert_mem_eq(f[2]->data + IPV4_HLEN, opts_mixed, 4);

	/* Reassembly takes the first fragment's header: the original again. */
	nb = feed_all_reverse(st, f, 3);
	ck_assert_ptr_nonnull(nb);
	ck_assert_uint_eq(nbuf_len(nb), sizeof(orig));
	ck_assert_mem_eq(nb->data, orig, sizeof(orig));
	nbuf_free(nb);

	/* No option is copied: later fragments have a bare header. */
	static const uint8_t rr_only[8] = { 0x07, 7, 4, 0, 0, 0, 0, 0 };
	struct fspec s2 = { .id = 36, .len = 2000, .opts = rr_only, .olen = 8 };
	ck_assert_int_eq(ip_fragment(st, build(st, &s2), 1500, &out), 0);
	ck_assert_uint_eq(out.len, 2);
	nb = nbuf_queue_pop(&out);
	ck_assert_uint_eq(parse(nb).hlen, 28);
	nbuf_free(nb);
	nb = nbuf_queue_pop(&out);
	ck_assert_uint_eq(parse(nb).hlen, 20);
	nbuf_free(nb);
	stack_end(st);
}
END_TEST

START_TEST(test_fragment_pool_dry)
{
	struct stack_params p;
	stack_params_default(&p);
	p.pool_small = 4;
	p.pool_medium = 0;
	p.pool_large = 2;
	struct stack *st = stack_new(&p);
	struct nbuf_queue out = { 0 };

	/* One large buffer for the datagram, 4 small and 1 large for fragments. */
	struct nbuf *nb = frag(st, 37, 0, 7980, false);
	ck_assert_int_eq(ip_fragment(st, nb, 1500, &out), -ENOBUFS);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_uint_eq(st->drops[DROP_NOMEM], 1);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_OKS], 0);
	ck_assert_uint_eq(st->stats[STAT_IP_FRAG_CREATES], 5);
	nbuf_queue_purge(&out);
	stack_end(st);
}
END_TEST

static Suite *frag_suite(void)
{
	Suite *s = suite_create("frag");
	TCase *r = tcase_create("reassembly");
	tcase_add_test(r, test_in_order);
	tcase_add_test(r, test_out_of_order);
	tcase_add_test(r, test_duplicate);
	tcase_add_test(r, test_duplicate_last);
	tcase_add_test(r, test_overlap_teardrop);
	tcase_add_test(r, test_conflicting_end);
	tcase_add_test(r, test_ping_of_death);
	tcase_add_test(r, test_malformed_length);
	tcase_add_test(r, test_timeout);
	tcase_add_test(r, test_timeout_icmp);
	tcase_add_test(r, test_memlimit);
	tcase_add_test(r, test_queue_limit);
	tcase_add_test(r, test_reasm_pool_dry);
	tcase_add_test(r, test_destroy_held);
	suite_add_tcase(s, r);

	TCase *f = tcase_create("fragmentation");
	tcase_add_test(f, test_fragment_8000);
	tcase_add_test(f, test_refragment);
	tcase_add_test(f, test_fragment_options);
	tcase_add_test(f, test_fragment_pool_dry);
	suite_add_tcase(s, f);
	return s;
}

int main(void)
{
	return run_suite(frag_suite());
}
