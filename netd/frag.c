/*
 * frag.c: IPv4 fragmentation on output and reassembly on input (RFC 791
 * 2.3 and 3.2; RFC 815 for the bookkeeping). A reassembly queue holds the
 * fragments of one datagram, keyed by (src, dst, id, protocol), in a list
 * sorted by offset that never holds two fragments sharing a byte, so the
 * datagram is complete exactly when the last fragment has come and the
 * bytes held add up to its end: RFC 815's hole list reduces to a sum.
 * Queues come from a fixed array, live at most the reassembly timeout, and
 * share one memory limit counted in buffer room held; when either runs
 * out, new fragments are refused and old queues are kept, so a flood of
 * bogus fragments cannot flush legitimate datagrams.
 *
 * What a fragment meets, as Linux does (ip_fragment.c, inet_fragment.c):
 * a fragment with MF set whose payload is not a multiple of 8, or an empty
 * one, is malformed and dropped alone; one reaching past 65535 bytes (ping
 * of death) is dropped with its whole datagram; so is one that moves the
 * end of the datagram once the last fragment told it, or reaches beyond
 * it. A fragment that covers exactly what is held, starting and ending on
 * the bounds of held fragments, is a duplicate and dropped alone. Any other
 * overlap discards the whole datagram (the teardrop defence; RFC 5722 does
 * the same for IPv6): no byte is ever taken from one of two fragments that
 * disagree about where it lies. Linux is looser on one point: it takes a
 * fragment lying anywhere inside contiguous held data for a duplicate; here
 * that counts as an overlap.
 *
 * Counting: every buffer freed for a reason counts once under that reason.
 * When a datagram is discarded (overlap, ping of death, a conflicting end,
 * timeout, no buffer to assemble into), the arriving fragment and every
 * held fragment each count one drop, so DROP_FRAG_OVERLAP after a teardrop
 * pair is 2. Fragments freed because their datagram was assembled, or at
 * teardown, are not drops.
 *
 * Held fragments keep their data at their IP header (l3 marked, trimmed to
 * the total length), so the first can be quoted in an ICMP time exceeded;
 * their offset and length are read back from that header, which
 * ipv4_parse() validated before the fragment came here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frag.h"
#include "icmp.h"
#include "stack.h"
#include "util.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* ---- held fragments ---- */

static unsigned frag_hlen(const struct nbuf *nb)
{
	return (nb->data[0] & 0x0fu) * 4u;
}

static unsigned frag_start(const struct nbuf *nb)
{
	return (get_be16(nb->data + 6) & IP_OFFMASK) * 8u;
}

static unsigned frag_end(const struct nbuf *nb)
{
	return frag_start(nb) + (unsigned)nbuf_len(nb) - frag_hlen(nb);
}

static size_t frag_truesize(const struct nbuf *nb)
{
	return (size_t)(nb->end - nb->head);
}

/* ---- queues ---- */

static unsigned reasm_hash(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	uint32_t h = src * 0x9e3779b1u;
	h = (h ^ dst) * 0x85ebca6bu;
	h = (h ^ ((uint32_t)id << 8 | proto)) * 0xc2b2ae35u;
	return (h ^ h >> 16) % REASM_BUCKETS;
}

static struct reasm_queue **queue_bucket(struct reasm_table *t, const struct reasm_queue *q)
{
	return &t->buckets[reasm_hash(q->src, q->dst, q->id, q->proto)];
}

static struct reasm_queue *queue_find(struct reasm_table *t, const struct ipv4_hdr *h)
{
	struct reasm_queue *q = t->buckets[reasm_hash(h->src, h->dst, h->id, h->proto)];
	while (q && !(q->src == h->src && q->dst == h->dst && q->id == h->id &&
		      q->proto == h->proto))
		q = q->hnext;
	return q;
}

static void queue_expire(struct timer *tm, uint64_t now);

/* A queue for the datagram of h, hashed and with its timer armed; NULL when
 * every queue is taken. */
static struct reasm_queue *queue_new(struct stack *st, const struct ipv4_hdr *h)
{
	struct reasm_table *t = &st->reasm;
	struct reasm_queue *q = t->free;
	if (!q)
		return NULL;
	t->free = q->hnext;
	memset(q, 0, sizeof(*q));
	q->st = st;
	q->src = h->src;
	q->dst = h->dst;
	q->id = h->id;
	q->proto = h->proto;
	q->in_use = true;
	struct reasm_queue **b = queue_bucket(t, q);
	q->hnext = *b;
	*b = q;
	t->used++;
	timer_init(&q->timer, queue_expire);
	timer_arm(&st->timers, &q->timer, stack_now(st) + t->timeout);
	return q;
}

/* Frees every fragment q holds: dropped for why, or plainly freed when why
 * is DROP_NONE. */
static void queue_free_frags(struct stack *st, struct reasm_queue *q, enum drop_reason why)
{
	struct nbuf *nb, *next;
	for (nb = q->frags; nb; nb = next) {
		next = nb->next;
		nb->next = NULL;
		if (why == DROP_NONE)
			nbuf_free(nb);
		else
			nbuf_drop(st, nb, why);
	}
	q->frags = NULL;
}

/* Frees q's fragments (see queue_free_frags), unhashes q, cancels its timer
 * and returns it to the free list. */
static void queue_release(struct stack *st, struct reasm_queue *q, enum drop_reason why)
{
	struct reasm_table *t = &st->reasm;
	struct reasm_queue **pp = queue_bucket(t, q);

	queue_free_frags(st, q, why);
	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
	timer_cancel(&st->timers, &q->timer);
	t->mem -= q->mem;
	t->used--;
	q->in_use = false;
	q->hnext = t->free;
	t->free = q;
}

/* The reassembly timeout (RFC 791 3.2; RFC 1122 3.3.2): an ICMP time
 * exceeded, code 1, quoting the first fragment if it came, and the
 * datagram is dropped. */
static void queue_expire(struct timer *tm, uint64_t now)
{
	struct reasm_queue *q = container_of(tm, struct reasm_queue, timer);
	struct stack *st = q->st;

	if (q->have_first)
		icmp_send_error(st, q->frags, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
	queue_release(st, q, DROP_FRAG_TIMEOUT);
}

/* ---- table ---- */

int reasm_table_init(struct reasm_table *t, unsigned nqueues, size_t mem_limit,
		     uint64_t timeout)
{
	memset(t, 0, sizeof(*t));
	t->queues = calloc(nqueues ? nqueues : 1, sizeof(*t->queues));
	if (!t->queues)
		return -ENOMEM;
	t->nqueues = nqueues;
	t->mem_limit = mem_limit;
	t->timeout = timeout;
	for (unsigned i = nqueues; i-- > 0;) {
		t->queues[i].hnext = t->free;
		t->free = &t->queues[i];
	}
	return 0;
}

void reasm_table_destroy(struct stack *st, struct reasm_table *t)
{
	for (unsigned i = 0; i < t->nqueues; i++) {
		struct reasm_queue *q = &t->queues[i];
		if (!q->in_use)
			continue;
		queue_free_frags(st, q, DROP_NONE);
		timer_cancel(&st->timers, &q->timer);
	}
	free(t->queues);
	memset(t, 0, sizeof(*t));
}

/* ---- reassembly ---- */

/* What a fragment is worth on its own. */
static enum drop_reason frag_check(const struct nbuf *nb, const struct ipv4_hdr *h)
{
	unsigned len = (unsigned)h->total_len - h->hlen;

	if (h->total_len < h->hlen || nbuf_len(nb) < h->total_len)
		return DROP_FRAG_MALFORMED;
	if (len == 0 || (h->mf && len % 8))
		return DROP_FRAG_MALFORMED;
	if (h->frag_off + len > IPV4_MAX_LEN - (unsigned)h->hlen)
		return DROP_FRAG_TOO_BIG;
	return DROP_NONE;
}

/* Whether [start, end) agrees with the end of the datagram, as told by its
 * last fragment or bounded by the data already held. */
static bool frag_end_agrees(const struct reasm_queue *q, unsigned start, unsigned end, bool mf)
{
	const struct nbuf *f;
	unsigned held_end = 0;

	if (q->have_last)
		return mf ? end <= q->total : end == q->total;
	if (mf)
		return true;
	for (f = q->frags; f; f = f->next)
		held_end = frag_end(f);
	return held_end <= end;
}

enum frag_fit { FIT_OK, FIT_DUPLICATE, FIT_OVERLAP };

/* Where [start, end) goes in q's sorted list (*pos: the link to insert
 * at), and whether it is new, a duplicate of held fragments (the same
 * bytes, starting and ending on their bounds) or an overlap. */
static enum frag_fit frag_locate(struct reasm_queue *q, unsigned start, unsigned end,
				 struct nbuf ***pos)
{
	struct nbuf **link = &q->frags;
	struct nbuf *f;
	unsigned run;

	while (*link && frag_end(*link) <= start)
		link = &(*link)->next;
	*pos = link;
	f = *link;
	if (!f || frag_start(f) >= end)
		return FIT_OK;
	if (frag_start(f) != start)
		return FIT_OVERLAP;
	run = frag_end(f);
	while (run < end && f->next && frag_start(f->next) == run) {
		f = f->next;
		run = frag_end(f);
	}
	return run == end ? FIT_DUPLICATE : FIT_OVERLAP;
}

/* Adds nb to q, or drops it (and, for the reasons that call for it, the
 * whole datagram). Consumes nb. True when nb was added. */
static bool queue_add(struct stack *st, struct reasm_queue *q, struct nbuf *nb,
		      const struct ipv4_hdr *h)
{
	unsigned start = h->frag_off, end = start + h->total_len - h->hlen;
	struct nbuf **pos;

	if (!frag_end_agrees(q, start, end, h->mf)) {
		queue_release(st, q, DROP_FRAG_MALFORMED);
		nbuf_drop(st, nb, DROP_FRAG_MALFORMED);
		return false;
	}
	switch (frag_locate(q, start, end, &pos)) {
	case FIT_DUPLICATE:
		nbuf_drop(st, nb, DROP_FRAG_DUPLICATE);
		return false;
	case FIT_OVERLAP:
		queue_release(st, q, DROP_FRAG_OVERLAP);
		nbuf_drop(st, nb, DROP_FRAG_OVERLAP);
		return false;
	case FIT_OK:
		break;
	}
	if (st->reasm.mem + frag_truesize(nb) > st->reasm.mem_limit) {
		nbuf_drop(st, nb, DROP_FRAG_MEMLIMIT);
		return false;
	}
	nb->next = *pos;
	*pos = nb;
	q->mem += frag_truesize(nb);
	st->reasm.mem += frag_truesize(nb);
	q->received += end - start;
	if (start == 0)
		q->have_first = true;
	if (!h->mf) {
		q->have_last = true;
		q->total = (uint16_t)end;
	}
	return true;
}

/* Builds the datagram of a complete queue: the first fragment's header
 * (options included; its DF kept, MF and offset cleared) and every payload
 * in order, then frees the queue. The datagram, or NULL when it was
 * dropped. */
static struct nbuf *queue_assemble(struct stack *st, struct reasm_queue *q)
{
	const struct nbuf *first = q->frags, *f;
	unsigned hlen = frag_hlen(first);
	size_t len = hlen + (size_t)q->total;
	struct nbuf *nb;
	uint8_t *p;

	if (len > IPV4_MAX_LEN) {
		queue_release(st, q, DROP_FRAG_TOO_BIG);
		return NULL;
	}
	nb = nbuf_alloc_tx(&st->pool, len);
	if (!nb) {
		queue_release(st, q, DROP_NOMEM);
		return NULL;
	}
	p = nbuf_put(nb, len);
	memcpy(p, first->data, hlen);
	for (f = first; f; f = f->next)
		memcpy(p + hlen + frag_start(f), f->data + frag_hlen(f), nbuf_len(f) - frag_hlen(f));
	put_be16(p + 2, (uint16_t)len);
	put_be16(p + 6, get_be16(p + 6) & IP_DF);
	ipv4_set_csum(p, hlen);
	nbuf_mark_l3(nb);
	nb->ifindex = first->ifindex;
	nb->pkt_type = first->pkt_type;
	queue_release(st, q, DROP_NONE);
	stat_inc(st, STAT_IP_REASM_OKS);
	return nb;
}

struct nbuf *ip_reassemble(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	struct reasm_table *t = &st->reasm;
	struct reasm_queue *q;
	enum drop_reason why;

	if (!h->mf && h->frag_off == 0)
		return nb;	/* not a fragment */
	stat_inc(st, STAT_IP_REASM_REQDS);
	q = queue_find(t, h);
	why = frag_check(nb, h);
	if (why != DROP_NONE) {
		if (why == DROP_FRAG_TOO_BIG && q)
			queue_release(st, q, why);
		nbuf_drop(st, nb, why);
		return NULL;
	}
	nbuf_trim(nb, h->total_len);
	nbuf_mark_l3(nb);
	nb->next = NULL;
	if (!q && t->mem + frag_truesize(nb) <= t->mem_limit)
		q = queue_new(st, h);
	if (!q) {
		nbuf_drop(st, nb, DROP_FRAG_MEMLIMIT);
		return NULL;
	}
	if (!queue_add(st, q, nb, h))
		return NULL;
	if (q->have_last && q->received == q->total)
		return queue_assemble(st, q);
	return NULL;
}

/* ---- fragmentation ---- */

/* The datagram being cut, and the header of the fragment being made. */
struct frag_src {
	const uint8_t *orig;	/* the datagram's IP header */
	unsigned orig_hlen;
	unsigned plen;		/* payload bytes */
	unsigned base;		/* offset of that payload in its datagram */
	uint16_t flags;		/* DF and MF of the datagram */
	uint8_t hdr[IPV4_MAX_HLEN];
	unsigned hlen;
};

/* Later fragments carry only the options with the copied flag (RFC 791
 * 3.1). */
static void frag_src_later(struct frag_src *s)
{
	memcpy(s->hdr, s->orig, IPV4_HLEN);
	s->hlen = IPV4_HLEN + (unsigned)ipv4_copied_options(s->orig, s->orig_hlen,
							    s->hdr + IPV4_HLEN);
	s->hdr[0] = (uint8_t)(0x40 | s->hlen / 4);
}

/* One fragment: n payload bytes at off, behind the current header. NULL
 * when the pool is dry. */
static struct nbuf *frag_make(struct stack *st, const struct nbuf *nb, const struct frag_src *s,
			      unsigned off, unsigned n)
{
	bool more = off + n < s->plen || (s->flags & IP_MF);
	struct nbuf *f = nbuf_alloc_tx(&st->pool, s->hlen + n);
	uint8_t *p;

	if (!f)
		return NULL;
	p = nbuf_put(f, s->hlen + n);
	memcpy(p, s->hdr, s->hlen);
	memcpy(p + s->hlen, s->orig + s->orig_hlen + off, n);
	put_be16(p + 2, (uint16_t)(s->hlen + n));
	put_be16(p + 6, (uint16_t)((s->flags & IP_DF) | (more ? IP_MF : 0) |
				   (((s->base + off) / 8) & IP_OFFMASK)));
	ipv4_set_csum(p, s->hlen);
	nbuf_mark_l3(f);
	f->ifindex = nb->ifindex;
	f->pkt_type = nb->pkt_type;
	return f;
}

int ip_fragment(struct stack *st, struct nbuf *nb, unsigned mtu, struct nbuf_queue *out)
{
	struct frag_src s = { .orig = nb->data };
	unsigned total = get_be16(nb->data + 2), off = 0;
	uint16_t frag = get_be16(nb->data + 6);

	if (total <= mtu) {
		nbuf_queue_push(out, nb);
		return 0;
	}
	s.orig_hlen = frag_hlen(nb);
	if (total > nbuf_len(nb) || total < s.orig_hlen || mtu < s.orig_hlen + 8) {
		nbuf_drop(st, nb, DROP_IP_FRAG_NEEDED);
		return -EMSGSIZE;
	}
	s.plen = total - s.orig_hlen;
	s.base = (frag & IP_OFFMASK) * 8u;
	s.flags = frag & (IP_DF | IP_MF);
	memcpy(s.hdr, s.orig, s.orig_hlen);
	s.hlen = s.orig_hlen;
	while (off < s.plen) {
		/* RFC 791 3.2: every fragment but the last carries a multiple of 8. */
		unsigned n = MIN(s.plen - off, (mtu - s.hlen) & ~7u);
		struct nbuf *f = frag_make(st, nb, &s, off, n);
		if (!f) {
			nbuf_drop(st, nb, DROP_NOMEM);
			return -ENOBUFS;
		}
		nbuf_queue_push(out, f);
		stat_inc(st, STAT_IP_FRAG_CREATES);
		if (off == 0)
			frag_src_later(&s);
		off += n;
	}
	stat_inc(st, STAT_IP_FRAG_OKS);
	nbuf_free(nb);
	return 0;
}
