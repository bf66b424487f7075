/*
 * tcp_input.c: SEGMENT ARRIVES (RFC 9293 3.10.7), with Linux as the
 * reference where the RFC leaves room or Linux knowingly departs from it.
 *
 * tcp_input() parses a segment once into a struct tcp_seg, finds its
 * connection (the 4-tuple table, then the listeners) and hands it to the
 * handler of the connection's state:
 *
 *  LISTEN       a SYN makes a child in SYN-RECEIVED (or, when the SYN
 *               queue is full, a SYN-ACK whose sequence number is a SYN
 *               cookie, RFC 4987, and no state at all); an ACK draws a
 *               RST unless it returns a valid cookie.
 *  SYN-SENT     RFC 9293 3.10.7.3 as written.
 *  the others   the steps of 3.10.7.4, each a function named after its
 *               step: sequence acceptability with PAWS (RFC 7323), RST
 *               and SYN with RFC 5961's challenge ACKs, the ACK (SND.UNA,
 *               the window, RTT, congestion control, fast retransmit and
 *               recovery by RFC 5681, RFC 6582 and RFC 6675, the SACK
 *               scoreboard, the tail loss probe's outcome, RFC 8985 7.4),
 *               the text (the receive ring, the out-of-order
 *               queue, our SACK blocks, Linux's ACK policy) and the FIN.
 *
 * Handlers only set flags and timers; one tcp_output() at the end of
 * tcp_input() sends what they asked for. tcp_err() takes the ICMP errors
 * about our segments: PMTU (RFC 1191) and hard and soft errors.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "util.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define TCP_COOKIE_PERIOD_NS SEC(60)
#define TCP_COOKIE_MAX_AGE 2		/* periods: a cookie lives 2 to 3 minutes, as Linux's */
#define TCP_COOKIE_TS_BITS 0x3fu	/* Linux's layout of the options in our TSval */
#define TCP_COOKIE_NO_WSCALE 0xfu
#define TCP_COOKIE_SACK 0x10u

/* One arriving segment (RFC 9293 3.3.1, "current segment variables").
 * seq, len and the buffer shrink as the steps trim the segment; th stays
 * as it came, for a RST in reply. */
struct tcp_seg {
	struct tcp_hdr th;
	uint32_t seq, ack;
	uint32_t len;			/* SEG.LEN: data, SYN and FIN */
	uint32_t wire_len;		/* SEG.LEN as it arrived */
	uint32_t wnd;			/* the window field, not scaled */
	bool syn, fin;			/* still to be processed */
	struct nbuf *nb;		/* data at the payload; NULL once queued or dropped */
	const struct ipv4_hdr *ip;
	struct tcp_sock *next;		/* SEG_REDIRECT: the socket that takes it */
	bool reply_rst;			/* answer with a RST (RFC 9293 3.10.7.1) */
	bool fin_in_order;		/* a FIN reached RCV.NXT: step eight */
	bool got_data;			/* in-order data reached the receive ring */
	bool hole_filled;		/* ... and it joined queued out-of-order data */
};

/* What a step decided. Positive values are drop reasons. */
enum {
	SEG_NEXT = 0,		/* go on with the next step */
	SEG_DONE = -1,		/* processed: free the buffer, then transmit */
	SEG_GONE = -2,		/* the connection is gone: touch it no more */
	SEG_REDIRECT = -3,	/* seg->next takes the segment */
};

static uint32_t seg_dlen(const struct tcp_seg *seg)
{
	return seg->nb ? (uint32_t)nbuf_len(seg->nb) : 0;
}

/* Drops the segment's buffer for why; the steps may go on. */
static void seg_drop(struct stack *st, struct tcp_seg *seg, enum drop_reason why)
{
	if (seg->nb)
		nbuf_drop(st, seg->nb, why);
	seg->nb = NULL;
}

static void seg_strip_syn(struct tcp_seg *seg)
{
	seg->seq++;
	seg->len--;
	seg->syn = false;
}

/* ---- small helpers ---- */

/* Linux's tcp_oow_rate_limited: at most one challenge or out-of-window
 * ACK per 500 ms on a connection. */
static bool tcp_ack_ratelimited(struct tcp_sock *tp)
{
	uint64_t now = stack_now(tp->st);

	if (tp->oow_ack_time && now + 1 - tp->oow_ack_time < TCP_INVALID_RATELIMIT_NS) {
		stat_inc(tp->st, STAT_TCP_ACKS_RATELIMITED);
		return true;
	}
	tp->oow_ack_time = now + 1;
	return false;
}

/* RFC 5961 3.2, 4.2 and 5.2: the challenge ACK. */
static void tcp_challenge_ack(struct tcp_sock *tp)
{
	if (tcp_ack_ratelimited(tp))
		return;
	stat_inc(tp->st, STAT_TCP_CHALLENGE_ACKS);
	tp->flags |= TCP_F_ACK_NOW;
}

/* The window we advertised, from RCV.NXT. */
static uint32_t tcp_rcv_window(const struct tcp_sock *tp)
{
	return SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
}

/* RFC 2883: our next ACK tells the peer it sent [start, end) twice. */
static void tcp_dsack_set(struct tcp_sock *tp, uint32_t start, uint32_t end)
{
	if (!tp->sack_ok || !SEQ_LT(start, end))
		return;
	tp->dsack.start = start;
	tp->dsack.end = end;
	tp->dsack_pending = true;
}

/* Linux's choice of our window scale: enough for tcp_rmem[2] (7). */
static uint8_t tcp_choose_wscale(const struct tcp_sock *tp)
{
	uint64_t space = MAX((uint64_t)tp->rcv.cap, (uint64_t)TCP_RMEM_MAX);
	uint8_t ws = 0;

	while (space > 65535 && ws < TCP_MAX_WSCALE) {
		space >>= 1;
		ws++;
	}
	return ws;
}

static uint64_t tcp_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* The timestamp offset of a passive connection, from its addresses and the
 * stack's secret (Linux's secure_tcp_ts_off), so that a connection made
 * from a SYN cookie counts on from the cookie's SYN-ACK. */
static uint32_t tcp_passive_ts_offset(const struct stack *st, uint32_t laddr, uint32_t raddr)
{
	return (uint32_t)tcp_mix64(((uint64_t)laddr << 32 | raddr) ^ st->socks.isn_key[1] ^
				   0x74735f6f66667365ULL);
}

/* The options of the peer's SYN (RFC 9293 3.7.1, RFC 7323 1.3 and 2.2,
 * RFC 2018 2): each is on only if both ends sent it; the MSS is the
 * peer's (536 when absent) within ours. */
static void tcp_negotiate(struct tcp_sock *tp, const struct tcp_opts *o)
{
	uint16_t peer = o->mss_ok && o->mss ? o->mss : TCP_DEFAULT_MSS;

	tp->mss = MAX(MIN(peer, tp->advmss), TCP_MIN_SND_MSS);
	tp->ws_ok = o->ws_ok;
	tp->snd_wscale = o->ws_ok ? MIN(o->wscale, TCP_MAX_WSCALE) : 0;
	if (!o->ws_ok)
		tp->rcv_wscale = 0;
	tp->sack_ok = o->sack_ok;
	tp->ts_ok = o->ts_ok;
	if (o->ts_ok) {
		tp->ts_recent = o->tsval;
		tp->ts_recent_stamp = stack_now(tp->st);
	}
}

/* RTT from an ACK of new data: the echoed timestamp (RFC 7323 4.1), else
 * the timed segment, which Karn's rule leaves untimed once retransmitted. */
static uint32_t tcp_ack_rtt(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	const struct tcp_opts *o = &seg->th.opts;
	uint64_t now = stack_now(tp->st);
	uint32_t rtt = 0;

	if (tp->ts_ok && o->ts_ok && o->tsecr) {
		uint32_t ms = tcp_ts_now(tp) - o->tsecr;
		if (ms < 0x7fffffffu / 1000)
			rtt = MAX(ms, 1u) * 1000;
	} else if (tp->rtt_time && SEQ_GT(seg->ack, tp->rtt_seq)) {
		rtt = (uint32_t)MIN((now + 1 - tp->rtt_time) / NSEC_PER_USEC, (uint64_t)UINT32_MAX);
	}
	if (tp->rtt_time && SEQ_GT(seg->ack, tp->rtt_seq))
		tp->rtt_time = 0;
	if (rtt)
		tcp_rtt_sample(tp, rtt);
	return rtt;
}

/* Our SYN is acknowledged: SND.UNA moves past it. */
static void tcp_ack_syn(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	tp->syn_acked = true;
	tp->snd_una = tp->iss + 1;
	tp->bytes_acked = 1;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	tp->recover = tp->high_rxt = tp->snd_sml = tp->snd_una;
	tcp_ack_rtt(tp, seg);
	tp->retransmits = 0;
	tp->last_ack_recv = stack_now(tp->st);
}

/* The handshake is over. As Linux's tcp_init_metrics: without an RTT
 * sample (Karn ruled out a retransmitted SYN's) the RTO is 3 s (RFC 6298
 * 5.7), and a handshake that needed more than one retransmission starts
 * with one segment (RFC 5681 3.1). */
static void tcp_established(struct tcp_sock *tp)
{
	tp->rcv_mss = MIN(tp->advmss, (uint16_t)TCP_DEFAULT_MSS);	/* Linux's first guess */
	tp->backoff = 0;
	if (!tp->srtt_us)
		tp->rto_us = TCP_TIMEOUT_FALLBACK_US;
	tcp_set_state(tp, TCP_ESTABLISHED);
	if (tp->total_retrans > 1)
		tp->cc.cwnd = 1;
	tcp_reset_keepalive(tp);
	tcp_rearm_rto(tp);
}

/* ---- SYN cookies (RFC 4987 3.6; our own layout) ----
 *
 * ISN = count (5 bits, minutes) | MSS index (3 bits) | MAC (24 bits), the
 * MAC a keyed hash of the addresses, the peer's ISN, count and index. The
 * peer's window scale and SACK ride in the low bits of our TSval, as on
 * Linux; without timestamps the connection has neither. */

static const uint16_t tcp_cookie_mss[8] = {64, 256, 536, 1024, 1220, 1300, 1440, 1460};

static uint32_t tcp_cookie_mac(const struct stack *st, const struct tcp_seg *seg,
			       uint32_t peer_isn, uint32_t count, unsigned idx)
{
	const uint64_t *k = st->socks.isn_key;
	uint64_t x = tcp_mix64(((uint64_t)seg->ip->src << 32 | seg->ip->dst) ^ k[0]);
	x = tcp_mix64(x ^ ((uint64_t)seg->th.sport << 16 | seg->th.dport) ^ k[1]);
	x = tcp_mix64(x ^ ((uint64_t)peer_isn << 32 | (uint64_t)count << 3 | idx) ^ k[0] ^
		      0x636f6f6b69657321ULL);
	return (uint32_t)x & 0xffffff;
}

static uint32_t tcp_cookie_count(const struct stack *st)
{
	return (uint32_t)(stack_now(st) / TCP_COOKIE_PERIOD_NS);
}

static unsigned tcp_cookie_mss_index(uint16_t mss)
{
	unsigned i = ARRAY_SIZE(tcp_cookie_mss) - 1;

	while (i > 0 && tcp_cookie_mss[i] > mss)
		i--;
	return i;
}

/* Our TSval with the peer's window scale and SACK in its low bits, never
 * ahead of our clock (Linux's cookie_init_timestamp). */
static uint32_t tcp_cookie_tsval(uint32_t now, const struct tcp_opts *o)
{
	uint32_t bits = (o->ws_ok ? MIN(o->wscale, TCP_MAX_WSCALE) : TCP_COOKIE_NO_WSCALE) |
			(o->sack_ok ? TCP_COOKIE_SACK : 0);
	uint32_t ts = (now & ~TCP_COOKIE_TS_BITS) | bits;

	return SEQ_GT(ts, now) ? ts - (TCP_COOKIE_TS_BITS + 1) : ts;
}

/* A SYN-ACK that keeps no state: its ISN is the cookie. */
static void tcp_send_cookie(struct tcp_sock *l, const struct tcp_seg *seg)
{
	struct stack *st = l->st;
	const struct tcp_opts *o = &seg->th.opts;
	uint16_t adv = tcp_advmss(l, seg->ip->src);
	uint16_t peer = o->mss_ok && o->mss ? o->mss : TCP_DEFAULT_MSS;
	unsigned idx = tcp_cookie_mss_index(MIN(peer, adv));
	uint32_t count = tcp_cookie_count(st);
	struct tcp_hdr th;

	memset(&th, 0, sizeof(th));
	th.sport = seg->th.dport;
	th.dport = seg->th.sport;
	th.seq = (count & 31) << 27 | idx << 24 | tcp_cookie_mac(st, seg, seg->seq, count, idx);
	th.ack = seg->seq + 1;
	th.flags = TCP_SYN | TCP_ACK;
	th.opts.mss_ok = true;
	th.opts.mss = adv;
	if (o->ts_ok) {
		uint32_t now = (uint32_t)(stack_now(st) / NSEC_PER_MSEC) +
			       tcp_passive_ts_offset(st, seg->ip->dst, seg->ip->src);
		th.opts.ts_ok = true;
		th.opts.tsval = tcp_cookie_tsval(now, o);
		th.opts.tsecr = o->tsval;
		th.opts.sack_ok = o->sack_ok;
		th.opts.ws_ok = o->ws_ok;
		th.opts.wscale = tcp_choose_wscale(l);
	}
	uint32_t seg_size = adv - (o->ts_ok ? 12u : 0u), w = MIN((uint32_t)l->sk->opts.rcvbuf, 65535u);
	th.win = (uint16_t)(w > seg_size ? w - w % seg_size : w);
	tcp_xmit_raw(st, &th, seg->ip->dst, seg->ip->src, l->sk->opts.tos);
	l->cookies_sent = true;
	l->synq_overflow = stack_now(st);
	stat_inc(st, STAT_TCP_SYNCOOKIES_SENT);
}

static bool tcp_cookies_recent(const struct tcp_sock *l)
{
	return l->cookies_sent &&
	       stack_now(l->st) - l->synq_overflow < (TCP_COOKIE_MAX_AGE + 1) * TCP_COOKIE_PERIOD_NS;
}

/* Checks the cookie an ACK returns (SEG.ACK - 1, for the peer's ISN
 * SEG.SEQ - 1); gives the MSS index. */
static bool tcp_cookie_check(const struct stack *st, const struct tcp_seg *seg, unsigned *idx)
{
	uint32_t cookie = seg->ack - 1, now = tcp_cookie_count(st);
	uint32_t age = (now - (cookie >> 27)) & 31;

	if (age > TCP_COOKIE_MAX_AGE)
		return false;
	*idx = (cookie >> 24) & 7;
	return (cookie & 0xffffff) == tcp_cookie_mac(st, seg, seg->seq - 1, now - age, *idx);
}

/* The options of the SYN a cookie answered, from the echoed TSval. */
static bool tcp_cookie_opts(const struct tcp_seg *seg, unsigned idx, struct tcp_opts *o)
{
	const struct tcp_opts *in = &seg->th.opts;

	memset(o, 0, sizeof(*o));
	o->mss_ok = true;
	o->mss = tcp_cookie_mss[idx];
	if (!in->ts_ok)
		return true;
	uint32_t bits = in->tsecr & TCP_COOKIE_TS_BITS, ws = bits & TCP_COOKIE_NO_WSCALE;
	if (ws != TCP_COOKIE_NO_WSCALE && ws > TCP_MAX_WSCALE)
		return false;
	o->ts_ok = true;
	o->tsval = in->tsval;
	o->ws_ok = ws != TCP_COOKIE_NO_WSCALE;
	o->wscale = (uint8_t)(o->ws_ok ? ws : 0);
	o->sack_ok = (bits & TCP_COOKIE_SACK) != 0;
	return true;
}

/* A child for a valid cookie: straight past the SYN queue, which may be
 * full (that is why the cookie went out). tcp_child_create admits one
 * more than the backlog; the backlog is lifted for this one call. */
static struct tcp_sock *tcp_cookie_child(struct tcp_sock *l, const struct tcp_seg *seg)
{
	unsigned backlog = l->backlog;
	struct tcp_sock *c;

	l->backlog = l->syn_qlen;
	c = tcp_child_create(l, seg->ip->dst, seg->th.dport, seg->ip->src, seg->th.sport);
	l->backlog = backlog;
	return c;
}

/* An ACK to a listener that overflowed lately may return a cookie: then
 * it makes the child in SYN-RECEIVED as if the SYN-ACK had been sent, and
 * the child itself takes the ACK. */
static int tcp_cookie_ack(struct tcp_sock *l, struct tcp_seg *seg)
{
	struct stack *st = l->st;
	struct tcp_opts o;
	unsigned idx;

	if (!tcp_cookie_check(st, seg, &idx) || !tcp_cookie_opts(seg, idx, &o)) {
		stat_inc(st, STAT_TCP_SYNCOOKIES_FAILED);
		seg->reply_rst = true;
		return DROP_TCP_COOKIE;
	}
	if (l->accept_qlen > l->backlog)
		return DROP_TCP_LISTEN_OVERFLOW;
	struct tcp_sock *c = tcp_cookie_child(l, seg);
	if (!c)
		return DROP_TCP_NO_CHILD;
	stat_inc(st, STAT_TCP_SYNCOOKIES_RECV);
	c->iss = seg->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	tcp_engine_reset(c);
	c->ts_offset = tcp_passive_ts_offset(st, seg->ip->dst, seg->ip->src);
	c->irs = seg->seq - 1;
	c->rcv_nxt = c->rcv_wup = seg->seq;
	c->rcv_wscale = tcp_choose_wscale(c);
	tcp_negotiate(c, &o);
	c->rcv_wnd = MIN(tcp_receive_window(c), 65535u);
	c->rcv_adv = c->rcv_nxt + c->rcv_wnd;
	seg->next = c;
	return SEG_REDIRECT;
}

/* ---- LISTEN (RFC 9293 3.10.7.2) ---- */

static void tcp_child_init(struct tcp_sock *c, const struct tcp_seg *seg)
{
	struct stack *st = c->st;

	c->iss = tcp_isn(st, seg->ip->dst, seg->th.dport, seg->ip->src, seg->th.sport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	tcp_engine_reset(c);
	c->ts_offset = tcp_passive_ts_offset(st, seg->ip->dst, seg->ip->src);
	c->irs = seg->seq;
	c->rcv_nxt = c->rcv_wup = seg->seq + 1;
	c->rcv_wscale = tcp_choose_wscale(c);
	tcp_negotiate(c, &seg->th.opts);
	c->snd_wnd = c->max_window = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
}

/* A SYN for a listener: a child and its SYN-ACK, or a cookie when the SYN
 * queue is full. A full accept queue drops the SYN (Linux). Data on the
 * SYN is not kept: the peer sends it again. */
static int tcp_listen_syn(struct tcp_sock *l, struct tcp_seg *seg)
{
	if (l->accept_qlen > l->backlog)
		return DROP_TCP_LISTEN_OVERFLOW;
	struct tcp_sock *c = tcp_child_create(l, seg->ip->dst, seg->th.dport, seg->ip->src,
					      seg->th.sport);
	if (!c) {
		tcp_send_cookie(l, seg);
		return SEG_DONE;
	}
	tcp_child_init(c, seg);
	tcp_send_synack(c);
	return SEG_DONE;
}

/* RFC 9293 3.10.7.2 with Linux's answers: a RST (for a connection that
 * is gone) is ignored; an ACK draws a RST unless it returns a valid SYN
 * cookie; a SYN with FIN is dropped. */
static int tcp_listen_input(struct tcp_sock *l, struct tcp_seg *seg)
{
	uint8_t f = seg->th.flags;

	if (f & TCP_RST)
		return DROP_TCP_NO_SOCKET;
	if (f & TCP_ACK) {
		if (!(f & TCP_SYN) && tcp_cookies_recent(l))
			return tcp_cookie_ack(l, seg);
		seg->reply_rst = true;
		return DROP_TCP_NO_SOCKET;
	}
	if (!(f & TCP_SYN) || (f & TCP_FIN))
		return DROP_TCP_FLAGS;
	return tcp_listen_syn(l, seg);
}

/* ---- the receive side: text and FIN ---- */

/* A queued out-of-order segment keeps its sequence number and FIN in its
 * own TCP header (rewritten when the segment is trimmed). */
static void ofo_tag(struct nbuf *nb, uint32_t seq, bool fin)
{
	uint8_t *th = nbuf_l4(nb);

	put_be32(th + 4, seq);
	th[13] = (uint8_t)(fin ? th[13] | TCP_FIN : th[13] & ~TCP_FIN);
}

static uint32_t ofo_seq(const struct nbuf *nb)
{
	return get_be32(nbuf_l4(nb) + 4);
}

static bool ofo_fin(const struct nbuf *nb)
{
	return (nbuf_l4(nb)[13] & TCP_FIN) != 0;
}

static uint32_t ofo_end(const struct nbuf *nb)
{
	return ofo_seq(nb) + (uint32_t)nbuf_len(nb) + ofo_fin(nb);
}

static void ofo_link(struct nbuf_queue *q, struct nbuf *prev, struct nbuf *nb, struct nbuf *next)
{
	nb->next = next;
	if (prev)
		prev->next = nb;
	else
		q->first = nb;
	if (!next)
		q->last = nb;
	q->len++;
}

static void ofo_unlink(struct nbuf_queue *q, struct nbuf *prev, struct nbuf *nb)
{
	if (prev)
		prev->next = nb->next;
	else
		q->first = nb->next;
	if (q->last == nb)
		q->last = prev;
	q->len--;
	nb->next = NULL;
}

static void ofo_purge(struct tcp_sock *tp)
{
	nbuf_queue_purge(&tp->ooo);
	tp->ooo_bytes = 0;
	tp->nrcv_sacks = 0;
}

/* The run of contiguous queued data that holds seq, if any. */
static bool ofo_run(const struct tcp_sock *tp, uint32_t seq, struct tcp_sack_block *run)
{
	const struct nbuf *nb = tp->ooo.first;

	while (nb) {
		run->start = ofo_seq(nb);
		run->end = ofo_end(nb);
		for (nb = nb->next; nb && SEQ_LEQ(ofo_seq(nb), run->end); nb = nb->next)
			if (SEQ_GT(ofo_end(nb), run->end))
				run->end = ofo_end(nb);
		if (SEQ_LEQ(run->start, seq) && SEQ_LT(seq, run->end))
			return true;
	}
	return false;
}

/* Our SACK blocks (RFC 2018 4): the first holds the segment that just
 * arrived, the rest the most recently reported first; each is a whole run
 * of queued data, and blocks below RCV.NXT go. */
static void tcp_rcv_sacks_update(struct tcp_sock *tp, bool have_new, uint32_t new_seq)
{
	struct tcp_sack_block out[TCP_MAX_SACK], run;
	unsigned n = 0;

	if (have_new && ofo_run(tp, new_seq, &run))
		out[n++] = run;
	for (unsigned i = 0; i < tp->nrcv_sacks && n < TCP_MAX_SACK; i++) {
		if (!ofo_run(tp, tp->rcv_sacks[i].start, &run))
			continue;
		bool dup = false;
		for (unsigned k = 0; k < n; k++)
			dup |= out[k].start == run.start;
		if (!dup)
			out[n++] = run;
	}
	memcpy(tp->rcv_sacks, out, n * sizeof(out[0]));
	tp->nrcv_sacks = n;
}

/* Inserts nb (tagged) into the sorted out-of-order queue: what is queued
 * already wins, data that nb covers entirely goes. */
static void ofo_insert(struct tcp_sock *tp, struct nbuf *nb)
{
	struct nbuf_queue *q = &tp->ooo;
	struct nbuf *prev = NULL, *cur = q->first;
	uint32_t s = ofo_seq(nb), e = ofo_end(nb);

	while (cur && SEQ_LEQ(ofo_end(cur), s)) {
		prev = cur;
		cur = cur->next;
	}
	if (cur && SEQ_LEQ(ofo_seq(cur), s)) {
		if (SEQ_GEQ(ofo_end(cur), e)) {
			tcp_dsack_set(tp, s, e);
			nbuf_drop(tp->st, nb, DROP_TCP_OFO_DUPLICATE);
			return;
		}
		uint32_t k = MIN(ofo_end(cur) - s, (uint32_t)nbuf_len(nb));
		tcp_dsack_set(tp, s, s + k);
		nbuf_pull(nb, k);
		s += k;
		ofo_tag(nb, s, ofo_fin(nb));
		prev = cur;
		cur = cur->next;
	}
	while (cur && SEQ_LEQ(ofo_end(cur), e)) {
		struct nbuf *next = cur->next;
		tcp_dsack_set(tp, ofo_seq(cur), ofo_end(cur));
		ofo_unlink(q, prev, cur);
		tp->ooo_bytes -= nbuf_len(cur);
		nbuf_drop(tp->st, cur, DROP_TCP_OFO_DUPLICATE);
		cur = next;
	}
	if (cur && SEQ_LT(ofo_seq(cur), e)) {
		nbuf_trim(nb, ofo_seq(cur) - s);
		ofo_tag(nb, s, false);
	}
	ofo_link(q, prev, nb, cur);
	tp->ooo_bytes += nbuf_len(nb);
}

/* Out-of-order text (RFC 9293 3.10.7.4 seventh, RFC 5681 4.2): queued for
 * later and answered at once with a duplicate ACK and SACK blocks. */
static int tcp_data_ofo(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint32_t seq = seg->seq;

	tp->flags |= TCP_F_ACK_NOW;
	if (tp->ooo_bytes + seg_dlen(seg) > TCP_OOO_MAX_BYTES)
		return DROP_TCP_OFO_FULL;
	struct nbuf *nb = nbuf_unshare(seg->nb);
	seg->nb = NULL;
	if (!nb) {
		tp->st->drops[DROP_NOMEM]++;
		return SEG_DONE;
	}
	ofo_tag(nb, seq, seg->fin);
	ofo_insert(tp, nb);
	tcp_rcv_sacks_update(tp, true, seq);
	return SEG_NEXT;
}

/* Queued data that RCV.NXT reached moves to the receive ring; a FIN there
 * is the peer's last word, and anything queued after it is noise. */
static void tcp_ofo_pull(struct tcp_sock *tp, struct tcp_seg *seg)
{
	struct nbuf *nb;

	while ((nb = tp->ooo.first) && SEQ_LEQ(ofo_seq(nb), tp->rcv_nxt)) {
		uint32_t seq = ofo_seq(nb), skip = tp->rcv_nxt - seq, len = (uint32_t)nbuf_len(nb);
		bool fin = ofo_fin(nb) && skip <= len;
		nbuf_queue_pop(&tp->ooo);
		tp->ooo_bytes -= len;
		if (skip < len) {
			size_t n = tcp_ring_write(&tp->rcv, nb->data + skip, len - skip);
			tp->rcv_nxt += (uint32_t)n;
			seg->got_data = true;
			if (n < len - skip) {
				tp->st->drops[DROP_TCP_RCVBUF]++;
				fin = false;
			}
		}
		nbuf_free(nb);
		if (fin && seq + len == tp->rcv_nxt) {
			seg->fin_in_order = true;
			ofo_purge(tp);
			return;
		}
	}
}

/* Linux's tcp_event_data_recv: learn the peer's segment size and refill
 * quick ACKs when data starts, or starts again after a silence longer
 * than the RTO. */
static void tcp_data_event(struct tcp_sock *tp, uint32_t len)
{
	uint64_t now = stack_now(tp->st);

	if (!tp->rcv_mss)
		tp->rcv_mss = MIN(tp->advmss, (uint16_t)TCP_DEFAULT_MSS);
	if (len >= tp->rcv_mss)
		tp->rcv_mss = (uint16_t)MIN(len, (uint32_t)tp->advmss);
	if (!tp->got_data || now - tp->last_recv > (uint64_t)tp->rto_us * NSEC_PER_USEC) {
		uint32_t q = tp->rcv_wnd / (2u * tp->rcv_mss);
		q = q ? MIN(q, (uint32_t)TCP_MAX_QUICKACKS) : 2;
		if (q > tp->quickacks)
			tp->quickacks = (uint8_t)q;
	}
	tp->got_data = true;
	tp->last_recv = now;
}

/* In-order text: into the receive ring, then whatever it made contiguous. */
static int tcp_data_in_order(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint32_t dlen = seg_dlen(seg);

	seg->hole_filled = tp->ooo.len > 0;
	if (dlen) {
		size_t n = tcp_ring_write(&tp->rcv, seg->nb->data, dlen);
		if (n < dlen) {
			tp->st->drops[DROP_TCP_RCVBUF]++;
			seg->fin = false;
		}
		tp->rcv_nxt += (uint32_t)n;
		tcp_data_event(tp, dlen);
		seg->got_data = true;
	}
	if (seg->fin) {
		seg->fin_in_order = true;
		ofo_purge(tp);
	} else if (seg->hole_filled) {
		tcp_ofo_pull(tp, seg);
	}
	tcp_rcv_sacks_update(tp, false, 0);
	return SEG_NEXT;
}

/* Keeps the text inside [RCV.NXT, RCV.NXT + RCV.WND) (RFC 9293 3.10.7.4,
 * "trimmed"). A FIN past the window goes too; a bare FIN at RCV.NXT is
 * taken even with the window closed, as Linux takes it. Nothing left:
 * an ACK says where we are. */
static int tcp_trim_to_window(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint32_t dlen = seg_dlen(seg), wnd = tcp_rcv_window(tp);

	if (SEQ_LT(seg->seq, tp->rcv_nxt)) {
		uint32_t old = tp->rcv_nxt - seg->seq;
		tcp_dsack_set(tp, seg->seq, seg->seq + MIN(old, dlen));
		if (old > dlen) {
			old = dlen;
			seg->fin = false;
		}
		nbuf_pull(seg->nb, old);
		seg->seq += old;
		dlen -= old;
	}
	uint32_t off = seg->seq - tp->rcv_nxt, room = off < wnd ? wnd - off : 0;
	if (dlen > room) {
		nbuf_trim(seg->nb, room);
		dlen = room;
		seg->fin = false;
		tp->flags |= TCP_F_ACK_NOW;
	}
	if (seg->fin && !(off + dlen < wnd || (!dlen && !off)))
		seg->fin = false;
	seg->len = dlen + seg->fin;
	if (seg->len)
		return SEG_NEXT;
	tp->flags |= TCP_F_ACK_NOW;
	return wnd ? DROP_TCP_OUT_OF_WINDOW : DROP_TCP_ZERO_WINDOW;
}

/* Linux resets a connection whose application closed (or shut reading)
 * when new data still comes in FIN-WAIT: nobody will read it. */
static bool tcp_data_after_close(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t dlen = seg_dlen(seg);

	return (tp->state == TCP_FIN_WAIT1 || tp->state == TCP_FIN_WAIT2) &&
	       (tp->sk->shut & SOCK_SHUT_RD) && dlen && SEQ_GT(seg->seq + dlen, tp->rcv_nxt);
}

/* Seventh (RFC 9293 3.10.7.4): the segment text. */
static int tcp_data_queue(struct tcp_sock *tp, struct tcp_seg *seg)
{
	int why;

	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		break;
	default:		/* the peer's FIN came before: ignore the text */
		return seg_dlen(seg) ? DROP_TCP_DATA_AFTER_FIN : SEG_NEXT;
	}
	if (tcp_data_after_close(tp, seg)) {
		stat_inc(tp->st, STAT_TCP_ABORT_ON_DATA);
		seg->reply_rst = true;
		seg_drop(tp->st, seg, DROP_TCP_DATA_AFTER_CLOSE);
		tcp_reset_connection(tp, ECONNRESET);
		return SEG_GONE;
	}
	if ((why = tcp_trim_to_window(tp, seg)))
		return why;
	if (seg->seq == tp->rcv_nxt)
		return tcp_data_in_order(tp, seg);
	return tcp_data_ofo(tp, seg);
}

/* Eighth: the peer's FIN, in order (RFC 9293 3.10.7.4). */
static void tcp_fin(struct tcp_sock *tp)
{
	tp->rcv_nxt++;
	switch (tp->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT);
		tp->pingpong = true;	/* Linux: the ACK waits to ride on our FIN */
		break;
	case TCP_FIN_WAIT1:
		tcp_set_state(tp, TCP_CLOSING);
		tp->flags |= TCP_F_ACK_NOW;
		break;
	case TCP_FIN_WAIT2:
		tp->flags |= TCP_F_ACK_NOW;
		tcp_time_wait(tp);
		break;
	default:
		tp->flags |= TCP_F_ACK_NOW;
		break;
	}
	sock_wake(tp->sk, EPOLLIN | EPOLLRDNORM | EPOLLRDHUP);
}

/* When to ACK what arrived (RFC 1122 4.2.3.2, RFC 5681 4.2, and Linux's
 * __tcp_ack_snd_check): at once for out-of-order data or a filled hole,
 * in quickack mode, or with more than one full segment unacknowledged;
 * otherwise after the delayed-ACK timeout. */
static void tcp_ack_policy(struct tcp_sock *tp, bool now)
{
	if (now || (tp->quickacks && !tp->pingpong) || tp->rcv_nxt - tp->rcv_wup > tp->rcv_mss)
		tp->flags |= TCP_F_ACK_NOW;
	else
		tcp_schedule_delack(tp);
}

/* Sixth (URG: ignored), seventh and eighth. */
static int tcp_text_and_fin(struct tcp_sock *tp, struct tcp_seg *seg)
{
	int why = SEG_NEXT;

	if (seg_dlen(seg) || seg->fin)
		why = tcp_data_queue(tp, seg);
	if (why)
		return why;
	if (seg->fin_in_order)
		tcp_fin(tp);
	if (seg->got_data || seg->fin_in_order)
		tcp_ack_policy(tp, seg->hole_filled);
	if (seg->got_data && tp->rcv.len >= (size_t)MAX(tp->sk->opts.rcvlowat, 1))
		sock_wake(tp->sk, EPOLLIN | EPOLLRDNORM);
	return SEG_DONE;
}

/* ---- the ACK: the sender's side of the connection ---- */

/* Adds [s, e) to the scoreboard, kept sorted and disjoint; when it is
 * full, the highest range gives way. */
static void tcp_scoreboard_add(struct tcp_sock *tp, uint32_t s, uint32_t e)
{
	struct tcp_sack_block *b = tp->sacked;
	unsigned n = tp->nsacked, i = 0, j;

	while (i < n && SEQ_LT(b[i].end, s))
		i++;
	for (j = i; j < n && SEQ_LEQ(b[j].start, e); j++) {
		if (SEQ_LT(b[j].start, s))
			s = b[j].start;
		if (SEQ_GT(b[j].end, e))
			e = b[j].end;
	}
	if (j == i) {
		if (n == TCP_SCOREBOARD) {
			if (i == n)
				return;
			n--;
		}
		memmove(b + i + 1, b + i, (n - i) * sizeof(*b));
		n++;
	} else {
		memmove(b + i + 1, b + j, (n - j) * sizeof(*b));
		n -= j - i - 1;
	}
	b[i].start = s;
	b[i].end = e;
	tp->nsacked = n;
}

/* The peer's SACK blocks (RFC 2018 3, RFC 6675 4): only blocks inside
 * SND.UNA..SND.MAX count; D-SACKs (RFC 2883), below SND.UNA, do not. */
static void tcp_sack_update(struct tcp_sock *tp, const struct tcp_opts *o)
{
	for (unsigned i = 0; i < o->nsack; i++) {
		uint32_t s = o->sack[i].start, e = o->sack[i].end;
		if (SEQ_LT(s, e) && SEQ_GEQ(s, tp->snd_una) && SEQ_LEQ(e, tp->snd_max))
			tcp_scoreboard_add(tp, s, e);
	}
}

/* Ranges SND.UNA passed leave the scoreboard. */
static void tcp_sack_clean(struct tcp_sock *tp)
{
	unsigned i = 0;

	while (i < tp->nsacked && SEQ_LEQ(tp->sacked[i].end, tp->snd_una))
		i++;
	memmove(tp->sacked, tp->sacked + i, (tp->nsacked - i) * sizeof(tp->sacked[0]));
	tp->nsacked -= i;
	if (tp->nsacked && SEQ_LT(tp->sacked[0].start, tp->snd_una))
		tp->sacked[0].start = tp->snd_una;
}

/* RFC 5681 2: a duplicate ACK acknowledges nothing new while data is
 * outstanding, carries no data, SYN or FIN, and leaves the window as it
 * was. */
static bool tcp_is_dupack(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	return tp->snd_una != tp->snd_max && seg->ack == tp->snd_una && !seg_dlen(seg) &&
	       !(seg->th.flags & (TCP_SYN | TCP_FIN)) &&
	       (uint32_t)seg->wnd << tp->snd_wscale == tp->snd_wnd;
}

/* RFC 9293 3.10.7.4 fifth: the window, from the newest segment only
 * (SND.WL1 and SND.WL2), scaled (RFC 7323 2.3). */
static void tcp_update_window(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	if (SEQ_LT(seg->ack, tp->snd_una))
		return;
	if (SEQ_LT(tp->snd_wl1, seg->seq) ||
	    (tp->snd_wl1 == seg->seq && SEQ_LEQ(tp->snd_wl2, seg->ack))) {
		tp->snd_wnd = (uint32_t)seg->wnd << tp->snd_wscale;
		tp->snd_wl1 = seg->seq;
		tp->snd_wl2 = seg->ack;
		tp->max_window = MAX(tp->max_window, tp->snd_wnd);
	}
}

static uint32_t tcp_smss(const struct tcp_sock *tp)
{
	uint32_t ts = tp->ts_ok ? 12u : 0u;

	return tp->mss > ts ? tp->mss - ts : 1;
}

/* Fast retransmit (RFC 5681 3.2; RFC 6675 5 with SACK): ssthresh from the
 * algorithm, cwnd to it (NewReno inflates it by the segments that left,
 * one per duplicate ACK: RFC 6582 3.2 step 2), and the segment at SND.UNA
 * goes now. */
static void tcp_enter_recovery(struct tcp_sock *tp)
{
	tp->in_recovery = true;
	tp->recover = tp->snd_max;
	tp->high_rxt = tp->snd_una;
	tp->tlp_high_seq = 0;	/* this reduction answers the probe's loss too */
	tcp_cc_enter_recovery(&tp->cc, stack_now(tp->st));
	if (!tp->sack_ok)
		tp->cc.cwnd += tp->dupacks;
	tp->flags |= TCP_F_RETRANSMIT;
	stat_inc(tp->st, STAT_TCP_FAST_RETRANS);
	if (tp->sack_ok)
		stat_inc(tp->st, STAT_TCP_SACK_RECOVERY);
}

/* RFC 5827 early retransmit: with fewer than four segments out and no new
 * segment the windows let go, a duplicate ACK for each segment but one is
 * enough (Linux ran this before RACK took its place). */
static uint32_t tcp_dupthresh(const struct tcp_sock *tp)
{
	uint32_t smss = tcp_smss(tp), out = tp->snd_max - tp->snd_una;
	uint32_t oseg = (out + smss - 1) / smss;
	bool can_send = tcp_has_unsent(tp) && out < tp->snd_wnd &&
			(uint64_t)out < (uint64_t)tp->cc.cwnd * smss;

	if (oseg >= 4 || oseg < 2 || can_send)
		return TCP_DUPTHRESH;
	return oseg - 1;
}

/* Linux's lost-retransmission rule (tcp_mark_lost_retrans, RACK's case
 * today): in SACK recovery, data sent after SND.UNA's segment went again
 * has been SACKed, and SND.UNA has not moved: that retransmission was
 * lost too. Send it once more rather than wait for the RTO. */
static void tcp_check_lost_rexmit(struct tcp_sock *tp)
{
	if (!tp->in_recovery || !tp->rexmit_marked || !tp->nsacked)
		return;
	if (SEQ_GT(tp->sacked[tp->nsacked - 1].end, tp->rexmit_mark)) {
		tp->rexmit_marked = false;
		tp->flags |= TCP_F_RETRANSMIT;
		stat_inc(tp->st, STAT_TCP_LOST_RETRANSMITS);
	}
}

/* A duplicate ACK. The third (fewer, RFC 5827, in a small flight), or SACK
 * blocks that make SND.UNA lost, start fast retransmit, but not for data
 * sent before a timeout (RFC 6582 3.2 step 1: SND.UNA must have reached
 * "recover"). In NewReno recovery each one inflates cwnd by a segment
 * (RFC 6582 3.2 step 4). The first two let limited transmit send new
 * data (RFC 3042, in tcp_output). */
static void tcp_dupack(struct tcp_sock *tp)
{
	tp->dupacks++;
	if (tp->in_recovery) {
		if (!tp->sack_ok)
			tp->cc.cwnd++;
		return;
	}
	if (SEQ_LT(tp->snd_una, tp->recover))
		return;
	if (tp->dupacks >= tcp_dupthresh(tp) || (tp->sack_ok && tcp_sack_is_lost(tp, tp->snd_una)))
		tcp_enter_recovery(tp);
}

/* A partial ACK (RFC 6582 3.2 step 5): NewReno sends the next hole at
 * once and deflates cwnd by what was acked, less one segment. With SACK,
 * NextSeg() finds the holes, unless the peer reports none. */
static void tcp_partial_ack(struct tcp_sock *tp, uint32_t acked, uint32_t smss)
{
	if (tp->sack_ok) {
		if (!tp->nsacked)
			tp->flags |= TCP_F_RETRANSMIT;
		return;
	}
	uint32_t dec = acked / smss;
	tp->flags |= TCP_F_RETRANSMIT;
	tp->cc.cwnd = tp->cc.cwnd > dec ? tp->cc.cwnd - dec : 1;
	if (acked >= smss)
		tp->cc.cwnd++;
}

/* Linux's tcp_is_cwnd_limited: cwnd grows only when it held the sender
 * back, or, in slow start, while below twice what was in flight. */
static bool tcp_cwnd_may_grow(const struct tcp_sock *tp, uint32_t in_flight, uint32_t smss)
{
	if (tp->cwnd_limited)
		return true;
	return tp->cc.cwnd < tp->cc.ssthresh &&
	       (uint64_t)tp->cc.cwnd < 2 * (((uint64_t)in_flight + smss - 1) / smss);
}

/* Congestion control on an ACK of new data: the end of recovery at
 * "recover" (RFC 6582 3.2 step 6), a partial ACK, or growth (RFC 5681 3.1). */
static void tcp_cong_ack(struct tcp_sock *tp, uint32_t acked, uint32_t in_flight, uint32_t rtt)
{
	uint32_t smss = tcp_smss(tp);

	tp->dupacks = 0;
	if (tp->in_recovery) {
		if (SEQ_LT(tp->snd_una, tp->recover)) {
			tcp_partial_ack(tp, acked, smss);
			return;
		}
		tp->in_recovery = false;
		tcp_cc_exit_recovery(&tp->cc);
		return;
	}
	if (SEQ_GT(tp->snd_una, tp->recover))
		tp->recover = tp->snd_una;
	if (tcp_cwnd_may_grow(tp, in_flight, smss))
		tcp_cc_on_ack(&tp->cc, (acked + smss - 1) / smss, stack_now(tp->st), rtt);
}

/* SND.UNA advances: the ring lets the acknowledged bytes go, the RTT and
 * congestion control learn, the timer restarts (RFC 6298 5.2, 5.3), and
 * the owner may write again. True when our FIN was acknowledged. */
static bool tcp_ack_new(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t acked = seg->ack - tp->snd_una, in_flight = tp->snd_max - tp->snd_una;
	size_t data = MIN((size_t)acked, tp->snd.len);
	bool fin_acked = tcp_fin_pending(tp) && acked > tp->snd.len;

	tcp_ring_consume(&tp->snd, data);
	tp->snd_una = seg->ack;
	tp->bytes_acked += acked;
	tp->rexmit_marked = false;
	if (SEQ_LT(tp->snd_nxt, tp->snd_una))
		tp->snd_nxt = tp->snd_una;
	if (SEQ_LT(tp->high_rxt, tp->snd_una))
		tp->high_rxt = tp->snd_una;
	tcp_sack_clean(tp);
	uint32_t rtt = tcp_ack_rtt(tp, seg);
	tp->retransmits = 0;
	tp->soft_err = 0;
	tp->rto_stamp = stack_now(tp->st);	/* the new oldest data went out since */
	tcp_cong_ack(tp, acked, in_flight, rtt);
	tcp_rearm_rto(tp);
	if (data && tcp_ring_space(&tp->snd) >= tp->snd.cap / 3)
		sock_wake(tp->sk, EPOLLOUT | EPOLLWRNORM);
	return fin_acked;
}

/* The persist timer's ACK (Linux's tcp_ack_probe): an open window ends
 * probing and its backoff; a closed one restarts the timer. */
static void tcp_ack_probe(struct tcp_sock *tp)
{
	if (!tp->snd_wnd) {
		tcp_rearm_rto(tp);
		return;
	}
	tp->backoff = 0;
	tp->probe_timer = false;
	timer_cancel(&tp->st->timers, &tp->rto_timer);
}

/* RFC 2883 4: the first SACK block is a D-SACK when it lies below the
 * cumulative ACK or inside the second block. */
static bool tcp_has_dsack(const struct tcp_seg *seg)
{
	const struct tcp_opts *o = &seg->th.opts;

	if (!o->nsack)
		return false;
	if (SEQ_LEQ(o->sack[0].end, seg->ack))
		return true;
	return o->nsack > 1 && SEQ_GEQ(o->sack[0].start, o->sack[1].start) &&
	       SEQ_LEQ(o->sack[0].end, o->sack[1].end);
}

/* RFC 8985 7.4 as Linux's tcp_process_tlp_ack: once the ACKs reach the
 * probe, a D-SACK or a pure duplicate ACK says the original and the probe
 * both arrived; an ACK beyond it says the probe repaired a loss, and cwnd
 * comes down once, as in fast recovery (Linux's CWR). */
static void tcp_tlp_ack(struct tcp_sock *tp, const struct tcp_seg *seg, bool advanced, bool pure)
{
	if (!tp->tlp_high_seq || SEQ_LT(seg->ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans || tcp_has_dsack(seg)) {
		tp->tlp_high_seq = 0;
	} else if (SEQ_GT(seg->ack, tp->tlp_high_seq)) {
		tp->tlp_high_seq = 0;
		tcp_cc_enter_recovery(&tp->cc, stack_now(tp->st));
		stat_inc(tp->st, STAT_TCP_LOSS_PROBE_RECOVERY);
	} else if (!advanced && pure) {
		tp->tlp_high_seq = 0;
	}
}

/* Fifth, from ESTABLISHED on. True when our FIN was acknowledged. */
static bool tcp_ack(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	bool dup = tcp_is_dupack(tp, seg), fin_acked = false, advanced = false;
	bool probing = tp->probe_timer && tp->snd_una == tp->snd_max;
	bool pure = seg->ack == tp->snd_una && !seg_dlen(seg) && !seg->th.opts.nsack &&
		    !(seg->th.flags & (TCP_SYN | TCP_FIN)) &&
		    (uint32_t)seg->wnd << tp->snd_wscale == tp->snd_wnd;

	tp->last_ack_recv = stack_now(tp->st);
	tp->zero_window_probes = tp->keep_probes = 0;
	if (tp->sack_ok && seg->th.opts.nsack)
		tcp_sack_update(tp, &seg->th.opts);
	tcp_update_window(tp, seg);
	if (SEQ_GT(seg->ack, tp->snd_una)) {
		fin_acked = tcp_ack_new(tp, seg);
		advanced = true;
	} else if (dup) {
		tcp_dupack(tp);
	}
	tcp_check_lost_rexmit(tp);
	tcp_tlp_ack(tp, seg, advanced, pure);
	if (probing && tp->snd_una == tp->snd_max)
		tcp_ack_probe(tp);
	return fin_acked;
}

/* SYN-RECEIVED: an acceptable ACK completes the handshake; any other
 * draws a RST <SEQ=SEG.ACK>. */
static int tcp_synrecv_ack(struct tcp_sock *tp, struct tcp_seg *seg)
{
	if (SEQ_LEQ(seg->ack, tp->snd_una) || SEQ_GT(seg->ack, tp->snd_max)) {
		seg->reply_rst = true;
		return DROP_TCP_ACK_UNSENT;
	}
	tp->snd_wnd = (uint32_t)seg->wnd << tp->snd_wscale;
	tp->max_window = MAX(tp->max_window, tp->snd_wnd);
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = seg->ack;
	tcp_ack_syn(tp, seg);
	tcp_established(tp);
	if (tp->listener) {
		tcp_child_established(tp);
		stat_inc(tp->st, STAT_TCP_PASSIVE_OPENS);
	}
	return SEG_NEXT;
}

/* Our FIN was acknowledged: FIN-WAIT-1 moves on to FIN-WAIT-2, CLOSING to
 * TIME-WAIT, LAST-ACK to CLOSED. */
static int tcp_our_fin_acked(struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_FIN_WAIT1:
		tcp_set_state(tp, TCP_FIN_WAIT2);
		tcp_reset_keepalive(tp);	/* an orphan gets tcp_fin_timeout */
		return SEG_NEXT;
	case TCP_CLOSING:
		tcp_time_wait(tp);
		return SEG_NEXT;
	case TCP_LAST_ACK:
		tcp_done(tp);
		return SEG_GONE;
	default:
		return SEG_NEXT;
	}
}

/* Fifth step (RFC 9293 3.10.7.4, RFC 5961 5.2): an ACK for what we never
 * sent, or one below SND.UNA by more than the peer's largest window (or
 * than all that was ever acknowledged, as Linux bounds it), is dropped
 * with the segment and answered by a challenge ACK. */
static int tcp_check_ack(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint32_t bound = (uint32_t)MIN((uint64_t)tp->max_window, tp->bytes_acked);
	int why;

	if (!(seg->th.flags & TCP_ACK))
		return DROP_TCP_FLAGS;
	if (tp->state == TCP_SYN_RECV && (why = tcp_synrecv_ack(tp, seg)))
		return why;
	if (SEQ_GT(seg->ack, tp->snd_max)) {
		tcp_challenge_ack(tp);
		return DROP_TCP_ACK_UNSENT;
	}
	if (SEQ_LT(seg->ack, tp->snd_una - bound)) {
		tcp_challenge_ack(tp);
		return DROP_TCP_ACK_TOO_OLD;
	}
	if (tcp_ack(tp, seg))
		return tcp_our_fin_acked(tp);
	return SEG_NEXT;
}

/* ---- the synchronized states (RFC 9293 3.10.7.4) ---- */

/* PAWS (RFC 7323 5.3): a timestamp older than TS.Recent (by more than
 * Linux's window of 1) marks an old duplicate, unless TS.Recent is older
 * than 24 days (5.5). */
static bool tcp_paws_reject(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	const struct tcp_opts *o = &seg->th.opts;

	if (!tp->ts_ok || !o->ts_ok)
		return false;
	if ((int32_t)(tp->ts_recent - o->tsval) <= TCP_PAWS_WINDOW)
		return false;
	return stack_now(tp->st) - tp->ts_recent_stamp <= TCP_PAWS_IDLE_NS;
}

/* RFC 7323 4.3: TS.Recent follows the segments that reach the left edge
 * of the window (SEG.SEQ <= Last.ACK.sent). */
static void tcp_update_ts_recent(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	const struct tcp_opts *o = &seg->th.opts;

	if (!tp->ts_ok || !o->ts_ok || SEQ_GT(seg->seq, tp->rcv_wup))
		return;
	if ((int32_t)(o->tsval - tp->ts_recent) >= 0 ||
	    stack_now(tp->st) - tp->ts_recent_stamp > TCP_PAWS_IDLE_NS) {
		tp->ts_recent = o->tsval;
		tp->ts_recent_stamp = stack_now(tp->st);
	}
}

/* The four cases of RFC 9293 3.10.7.4 first. With our window closed, a
 * segment at RCV.NXT still passes, so that its ACK counts (the "special
 * allowance"); its text is dropped in step seven. */
static bool tcp_seq_acceptable(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	uint32_t wnd = tcp_rcv_window(tp), first = seg->seq - tp->rcv_nxt;

	if (!wnd)
		return seg->seq == tp->rcv_nxt;
	if (!seg->len)
		return first < wnd;
	return first < wnd || seg->seq + seg->len - 1 - tp->rcv_nxt < wnd;
}

/* Answers an unacceptable segment with an ACK; like Linux, at most one per
 * 500 ms for segments without data. */
static void tcp_oow_ack(struct tcp_sock *tp, const struct tcp_seg *seg)
{
	if (!seg->len && tcp_ack_ratelimited(tp))
		return;
	tp->flags |= TCP_F_ACK_NOW;
}

/* First: PAWS, then the sequence number. RSTs are never answered; a SYN
 * outside the window gets the challenge ACK of step four; in TIME-WAIT an
 * ACK restarts the 2 MSL timer, as Linux's time-wait sockets do. */
static int tcp_check_seq(struct tcp_sock *tp, struct tcp_seg *seg)
{
	bool rst = seg->th.flags & TCP_RST;

	if (!rst && tcp_paws_reject(tp, seg)) {
		tcp_oow_ack(tp, seg);
		return DROP_TCP_PAWS;
	}
	if (tcp_seq_acceptable(tp, seg)) {
		tcp_update_ts_recent(tp, seg);
		return SEG_NEXT;
	}
	if (rst)
		return DROP_TCP_OUT_OF_WINDOW;
	if (seg->syn) {
		tcp_challenge_ack(tp);
		return DROP_TCP_CHALLENGE;
	}
	if (seg->len && SEQ_LT(seg->seq, tp->rcv_nxt))	/* an old duplicate: D-SACK it */
		tcp_dsack_set(tp, seg->seq, SEQ_LT(seg->seq + seg->len, tp->rcv_nxt) ?
			      seg->seq + seg->len : tp->rcv_nxt);
	tcp_oow_ack(tp, seg);
	if (tp->state == TCP_TIME_WAIT && (seg->th.flags & TCP_ACK))
		tcp_time_wait(tp);
	return DROP_TCP_OUT_OF_WINDOW;
}

/* The peer reset the connection, with Linux's errors. A child that never
 * finished its handshake goes quietly (RFC 9293: back to LISTEN), as does
 * TIME-WAIT (Linux kills it, RFC 1337 notwithstanding). */
static int tcp_reset_by_peer(struct tcp_sock *tp)
{
	int err = ECONNRESET;

	switch (tp->state) {
	case TCP_SYN_RECV:
		stat_inc(tp->st, STAT_TCP_ATTEMPT_FAILS);
		if (tp->listener) {
			tcp_done(tp);
			return SEG_GONE;
		}
		err = ECONNREFUSED;
		break;
	case TCP_TIME_WAIT:
		tcp_done(tp);
		return SEG_GONE;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		stat_inc(tp->st, STAT_TCP_ESTAB_RESETS);
		break;
	case TCP_ESTABLISHED:
		stat_inc(tp->st, STAT_TCP_ESTAB_RESETS);
		break;
	default:
		break;
	}
	tcp_reset_connection(tp, err);
	return SEG_GONE;
}

/* RST sequence numbers that reset: RCV.NXT (RFC 5961 3.2); Linux also
 * takes RCV.NXT - 1 after the peer's FIN, and the right edge of our
 * highest SACK block. */
static bool tcp_rst_seq_ok(const struct tcp_sock *tp, uint32_t seq)
{
	uint32_t max_sack;

	if (seq == tp->rcv_nxt)
		return true;
	if (seq == tp->rcv_nxt - 1 && (tp->state == TCP_CLOSE_WAIT ||
				       tp->state == TCP_LAST_ACK || tp->state == TCP_CLOSING))
		return true;
	if (!tp->sack_ok || !tp->nrcv_sacks)
		return false;
	max_sack = tp->rcv_sacks[0].end;
	for (unsigned i = 1; i < tp->nrcv_sacks; i++)
		if (SEQ_GT(tp->rcv_sacks[i].end, max_sack))
			max_sack = tp->rcv_sacks[i].end;
	return seq == max_sack;
}

/* Second: the RST bit (RFC 5961 3.2). */
static int tcp_check_rst(struct tcp_sock *tp, struct tcp_seg *seg)
{
	if (!(seg->th.flags & TCP_RST))
		return SEG_NEXT;
	if (!tcp_rst_seq_ok(tp, seg->seq)) {
		tcp_challenge_ack(tp);
		return DROP_TCP_CHALLENGE;
	}
	return tcp_reset_by_peer(tp);
}

/* Fourth: a SYN in a synchronized state draws a challenge ACK (RFC 5961
 * 4.2). A child still in SYN-RECEIVED is dropped with a RST instead, as
 * Linux drops a request. */
static int tcp_check_syn(struct tcp_sock *tp, struct tcp_seg *seg)
{
	if (!seg->syn)
		return SEG_NEXT;
	if (tp->state == TCP_SYN_RECV && tp->listener) {
		stat_inc(tp->st, STAT_TCP_ATTEMPT_FAILS);
		seg->reply_rst = true;
		tcp_done(tp);
		return SEG_GONE;
	}
	tcp_challenge_ack(tp);
	return DROP_TCP_CHALLENGE;
}

/* SYN-RECEIVED sees the peer's SYN again: retransmitted (our SYN-ACK goes
 * again, as Linux's inet_rtx_syn_ack), or, after a simultaneous open, in
 * the peer's SYN-ACK, which Linux lets through to finish the handshake. */
static int tcp_synrecv_resyn(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint8_t f = seg->th.flags;

	if (!seg->syn || (f & TCP_RST) || seg->seq != tp->irs)
		return SEG_NEXT;
	if (!(f & TCP_ACK)) {
		tp->flags |= TCP_F_RETRANSMIT;
		return SEG_DONE;
	}
	if (!tp->listener && seg->ack == tp->snd_max) {
		seg_strip_syn(seg);
		tp->flags |= TCP_F_ACK_NOW;
	}
	return SEG_NEXT;
}

/* RFC 9293 3.10.7.4, SYN-RECEIVED and the synchronized states. Linux
 * drops a segment with none of ACK, RST and SYN before anything else. */
static int tcp_synchronized_input(struct tcp_sock *tp, struct tcp_seg *seg)
{
	int why;

	if (!(seg->th.flags & (TCP_ACK | TCP_RST | TCP_SYN)))
		return DROP_TCP_FLAGS;
	if (tp->state == TCP_SYN_RECV && (why = tcp_synrecv_resyn(tp, seg)))
		return why;
	if ((why = tcp_check_seq(tp, seg)))
		return why;
	if ((why = tcp_check_rst(tp, seg)))
		return why;
	if ((why = tcp_check_syn(tp, seg)))
		return why;
	if ((why = tcp_check_ack(tp, seg)))
		return why;
	return tcp_text_and_fin(tp, seg);
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

/* The SYN-ACK: the handshake is done, and an ACK goes at once. */
static int tcp_synsent_established(struct tcp_sock *tp, struct tcp_seg *seg)
{
	tp->snd_wnd = tp->max_window = seg->wnd;	/* never scaled in a SYN (RFC 7323 2.2) */
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = seg->ack;
	tp->rcv_adv = tp->rcv_nxt + tp->rcv_wnd;
	tcp_ack_syn(tp, seg);
	tcp_established(tp);
	tp->flags |= TCP_F_ACK_NOW;
	seg_strip_syn(seg);
	return tcp_text_and_fin(tp, seg);
}

static int tcp_synsent_input(struct tcp_sock *tp, struct tcp_seg *seg)
{
	uint8_t f = seg->th.flags;

	/* first: the ACK must cover our SYN and nothing beyond */
	if ((f & TCP_ACK) && (SEQ_LEQ(seg->ack, tp->iss) || SEQ_GT(seg->ack, tp->snd_max))) {
		seg->reply_rst = true;
		return DROP_TCP_ACK_UNSENT;
	}
	/* second: a RST counts only with an acceptable ACK (RFC 5961 3.2) */
	if (f & TCP_RST) {
		if (!(f & TCP_ACK))
			return DROP_TCP_FLAGS;
		stat_inc(tp->st, STAT_TCP_ATTEMPT_FAILS);
		tcp_reset_connection(tp, ECONNREFUSED);
		return SEG_GONE;
	}
	/* fifth: neither SYN nor RST */
	if (!(f & TCP_SYN))
		return DROP_TCP_FLAGS;
	/* fourth: the peer's SYN */
	tp->irs = seg->seq;
	tp->rcv_nxt = tp->rcv_wup = seg->seq + 1;
	tcp_negotiate(tp, &seg->th.opts);
	if (f & TCP_ACK)
		return tcp_synsent_established(tp, seg);
	/* a SYN alone: simultaneous open */
	tp->snd_wnd = tp->max_window = seg->wnd;
	tp->snd_wl1 = seg->seq;
	tp->snd_wl2 = tp->iss;
	tcp_set_state(tp, TCP_SYN_RECV);
	tp->flags |= TCP_F_RETRANSMIT;	/* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
	return SEG_DONE;
}

/* ---- dispatch ---- */

/* Linux's TIME-WAIT recycling (RFC 6191): a SYN beyond the old
 * connection (a higher sequence number, or a newer timestamp) ends
 * TIME-WAIT and goes to the listener as a new connection. */
static bool tcp_tw_new_syn(const struct tcp_sock *tp, const struct tcp_seg *seg)
{
	const struct tcp_opts *o = &seg->th.opts;
	bool ts = tp->ts_ok && o->ts_ok;

	if ((seg->th.flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return false;
	if (ts && tcp_paws_reject(tp, seg))
		return false;
	return SEQ_GT(seg->seq, tp->rcv_nxt) || (ts && (int32_t)(o->tsval - tp->ts_recent) > 0);
}

static int tcp_time_wait_input(struct tcp_sock *tp, struct tcp_seg *seg)
{
	struct tcp_sock *l;

	if (tcp_tw_new_syn(tp, seg) &&
	    (l = tcp_lookup_listener(tp->st, seg->ip->dst, seg->th.dport))) {
		tcp_done(tp);
		seg->next = l;
		return SEG_REDIRECT;
	}
	return tcp_synchronized_input(tp, seg);
}

static int tcp_segment_arrives(struct tcp_sock *tp, struct tcp_seg *seg)
{
	switch (tp->state) {
	case TCP_LISTEN:
		return tcp_listen_input(tp, seg);
	case TCP_SYN_SENT:
		return tcp_synsent_input(tp, seg);
	case TCP_CLOSE:
		seg->reply_rst = true;
		return DROP_TCP_NO_SOCKET;
	case TCP_TIME_WAIT:
		return tcp_time_wait_input(tp, seg);
	default:
		return tcp_synchronized_input(tp, seg);
	}
}

static bool tcp_unicast_dst(const struct stack *st, const struct nbuf *nb, uint32_t dst)
{
	return nb->pkt_type == NBUF_HOST && !ipv4_is_multicast(dst) &&
	       !ipv4_is_limited_bcast(dst) && !stack_is_subnet_bcast(st, dst);
}

/* Parses the segment into seg. A bad option list does not drop it: like
 * Linux, the options read before the bad one count. */
static int tcp_seg_init(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h,
			struct tcp_seg *seg)
{
	memset(seg, 0, sizeof(*seg));
	seg->nb = nb;
	seg->ip = h;
	int why = tcp_parse(nb->data, nbuf_len(nb), h->src, h->dst, &seg->th);
	if (why && why != DROP_TCP_OPTIONS) {
		stat_inc(st, STAT_TCP_IN_ERRS);
		return why;
	}
	if (!tcp_unicast_dst(st, nb, h->dst))
		return DROP_TCP_NOT_UNICAST;
	nbuf_pull(nb, seg->th.doff);
	seg->seq = seg->th.seq;
	seg->ack = seg->th.ack;
	seg->wnd = seg->th.win;
	seg->syn = (seg->th.flags & TCP_SYN) != 0;
	seg->fin = (seg->th.flags & TCP_FIN) != 0;
	seg->len = seg->wire_len = (uint32_t)nbuf_len(nb) + seg->syn + seg->fin;
	return 0;
}

void tcp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	struct tcp_seg seg;
	struct tcp_sock *tp;
	int why = tcp_seg_init(st, nb, h, &seg);

	if (why)
		goto drop;
	stat_inc(st, STAT_TCP_IN_SEGS);
	tp = tcp_lookup_established(st, h->dst, seg.th.dport, h->src, seg.th.sport);
	if (!tp)
		tp = tcp_lookup_listener(st, h->dst, seg.th.dport);
	why = DROP_TCP_NO_SOCKET;
	if (!tp)
		goto dropwithreset;
	while ((why = tcp_segment_arrives(tp, &seg)) == SEG_REDIRECT)
		tp = seg.next;
	if (why > 0)
		seg_drop(st, &seg, (enum drop_reason)why);
	nbuf_free(seg.nb);
	if (seg.reply_rst)
		tcp_send_reset_for(st, &seg.th, seg.wire_len, h);
	if (why != SEG_GONE)
		tcp_output(tp);
	return;
dropwithreset:
	tcp_send_reset_for(st, &seg.th, seg.wire_len, h);
drop:
	nbuf_drop(st, nb, (enum drop_reason)why);
}

/* ---- ICMP errors (RFC 1122 4.2.3.9, RFC 1191, RFC 5927) ---- */

/* RFC 1191 and Linux's tcp_v4_mtu_reduced: a smaller path MTU lowers the
 * MSS (not below TCP_MIN_MSS), and what went out too large is sent again
 * from SND.UNA, cwnd untouched (Linux's tcp_simple_retransmit). */
static void tcp_mtu_reduced(struct tcp_sock *tp, uint32_t mtu)
{
	uint32_t mss;

	if (mtu < 68)
		return;
	mss = MAX(mtu - IPV4_HLEN - TCP_HLEN, (uint32_t)TCP_MIN_MSS);
	if (mss >= tp->mss)
		return;
	tp->mss = (uint16_t)mss;
	stat_inc(tp->st, STAT_TCP_PMTU_REDUCED);
	if (!tp->syn_acked || tp->snd_una == tp->snd_max)
		return;
	tp->in_recovery = false;
	tp->dupacks = 0;
	tp->recover = tp->snd_max;
	tp->high_rxt = tp->snd_una;
	tp->snd_nxt = tp->snd_una;
	tp->rtt_time = 0;
	tcp_output(tp);
}

/* Linux drops a child on the errors that say the peer cannot be reached. */
static bool tcp_child_abort_error(uint8_t type, uint8_t code)
{
	return type == ICMP_PARAMETERPROB || type == ICMP_TIME_EXCEEDED ||
	       (type == ICMP_DEST_UNREACH && (code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH));
}

void tcp_err(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code,
	     uint32_t info)
{
	size_t hlen = (quoted[0] & 0xfu) * 4u;
	bool hard;

	if (len < hlen + 8)
		return;
	const uint8_t *th = quoted + hlen;
	struct tcp_sock *tp = tcp_lookup_established(st, get_be32(quoted + 12), get_be16(th),
						     get_be32(quoted + 16), get_be16(th + 2));
	uint32_t seq = get_be32(th + 4);
	if (!tp || tp->state == TCP_TIME_WAIT)
		return;
	if (SEQ_LT(seq, tp->snd_una) || SEQ_GT(seq, tp->snd_max)) {
		stat_inc(st, STAT_TCP_OUT_OF_WINDOW_ICMPS);
		return;
	}
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED) {
		tcp_mtu_reduced(tp, info & 0xffff);
		return;
	}
	int err = icmp_err_to_errno(type, code, &hard);
	if (!err)
		return;
	switch (tp->state) {
	case TCP_SYN_RECV:
		if (tp->listener) {
			if (tcp_child_abort_error(type, code))
				tcp_done(tp);
			return;
		}
		/* fall through */
	case TCP_SYN_SENT:
		/* Linux aborts a connection attempt on any error, soft ones too */
		stat_inc(st, STAT_TCP_ATTEMPT_FAILS);
		tcp_reset_connection(tp, err);
		return;
	default:
		tp->soft_err = err;	/* Linux's sk_err_soft: told on a timeout */
		return;
	}
}
