/*
 * tcp_output.c: what TCP sends, and when (RFC 9293 3.8 and 3.10, with
 * Linux's choices where the RFCs leave room). tcp_output() looks at the
 * state, the windows and the flags the input handlers and timers set,
 * and sends:
 *
 *  - the SYN or SYN-ACK of the handshake, with Linux's options;
 *  - the segment at SND.UNA once more after fast retransmit, a NewReno
 *    partial ACK or a timeout (RFC 5681 3.2, RFC 6582, RFC 6298 5.4);
 *  - in SACK recovery, what RFC 6675 NextSeg() picks while pipe < cwnd;
 *  - otherwise new data from SND.NXT within min(cwnd, rwnd), cut to the
 *    effective MSS, held back by Nagle's rule (Minshall's variant, as
 *    Linux has it), TCP_CORK and sender-side silly window avoidance
 *    (RFC 9293 3.8.6.2.1), and our FIN after the last byte;
 *  - a bare ACK when one is owed.
 *
 * A timeout rewinds SND.NXT to SND.UNA (go-back-N, skipping what the
 * peer SACKed); SND.MAX keeps the highest sequence sent. Every segment
 * carries the window of tcp_select_window(): the right edge never moves
 * back and moves forward only by a worthwhile amount (RFC 9293
 * 3.8.6.2.2); timestamps when negotiated (RFC 7323) and our SACK blocks
 * (RFC 2018), laid out by wire/tcp.c exactly as Linux lays them out.
 */
#include "config.h"

#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "util.h"
#include "wire/ipv4.h"

#define TCPOLEN_TS_ALIGNED 12u
#define TCP_ATO_MIN_NS (TCP_DELACK_MIN_US * NSEC_PER_USEC)

/* ---- timestamps, windows, options ---- */

uint32_t tcp_ts_now(const struct tcp_sock *tp)
{
	return (uint32_t)(stack_now(tp->st) / NSEC_PER_MSEC) + tp->ts_offset;
}

/* SACK blocks a segment can carry: 4, or 3 beside timestamps; a D-SACK
 * block (RFC 2883) counts among them. */
static unsigned tcp_sack_blocks_out(const struct tcp_sock *tp)
{
	if (!tp->sack_ok)
		return 0;
	return MIN(tp->nrcv_sacks + tp->dsack_pending, tp->ts_ok ? 3u : (unsigned)TCP_MAX_SACK);
}

/* Data bytes per segment: the MSS less the options every segment carries
 * now, as Linux's tcp_current_mss() counts them. */
static uint32_t tcp_send_mss(const struct tcp_sock *tp)
{
	unsigned n = tcp_sack_blocks_out(tp);
	uint32_t opts = (tp->ts_ok ? TCPOLEN_TS_ALIGNED : 0) + (n ? 4u + 8u * n : 0);
	return tp->mss > opts ? tp->mss - opts : 1;
}

/* The window of a SYN or SYN-ACK: never scaled (RFC 7323 2.2), at most
 * 65535, and rounded down to whole segments of seg bytes as Linux does
 * (64240 for an MSS of 1460). */
static uint16_t tcp_syn_window(struct tcp_sock *tp, uint32_t seg)
{
	uint32_t w = MIN(tcp_receive_window(tp), 65535u);

	if (seg && w > seg)
		w -= w % seg;
	tp->rcv_wnd = w;
	return (uint16_t)w;
}

/* RFC 9293 3.8.6.2.2 and RFC 7323 2.4: the window field of a segment. The
 * right edge we advertised never moves back, and moves forward only by at
 * least min(half the buffer, one MSS): the receiver's silly window
 * avoidance. */
static uint16_t tcp_select_window(struct tcp_sock *tp)
{
	uint32_t space = MIN(tcp_receive_window(tp), 65535u << tp->rcv_wscale);
	uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	uint32_t step = MIN((uint32_t)tp->rcv.cap / 2, (uint32_t)tp->advmss);
	uint32_t wnd = cur;

	if (space > cur && space - cur >= step)
		wnd = space;
	uint32_t wire = wnd >> tp->rcv_wscale;
	uint32_t edge = tp->rcv_nxt + (wire << tp->rcv_wscale);
	if (SEQ_GT(edge, tp->rcv_adv))
		tp->rcv_adv = edge;
	tp->rcv_wnd = tp->rcv_adv - tp->rcv_nxt;
	return (uint16_t)MIN(wire, 65535u);
}

/* Timestamps and SACK blocks, on every segment but a SYN (RFC 7323 3.2;
 * RFC 2018 4: the most recent block first, after a D-SACK block, RFC
 * 2883 4). */
static void tcp_fill_opts(const struct tcp_sock *tp, struct tcp_opts *o)
{
	unsigned n = tcp_sack_blocks_out(tp), d = n && tp->dsack_pending;

	if (tp->ts_ok) {
		o->ts_ok = true;
		o->tsval = tcp_ts_now(tp);
		o->tsecr = tp->ts_recent;
	}
	o->nsack = (uint8_t)n;
	if (d)
		o->sack[0] = tp->dsack;
	memcpy(o->sack + d, tp->rcv_sacks, (n - d) * sizeof(o->sack[0]));
}

/* A segment of tp's connection: ports, sequence, flags, the ACK field, the
 * window and the options. */
static void tcp_build(struct tcp_sock *tp, struct tcp_hdr *th, uint32_t seq, uint8_t flags)
{
	memset(th, 0, sizeof(*th));
	th->sport = tp->sk->lport;
	th->dport = tp->sk->rport;
	th->seq = seq;
	th->flags = flags;
	if (flags & TCP_ACK)
		th->ack = tp->rcv_nxt;
	th->win = tcp_select_window(tp);
	tcp_fill_opts(tp, &th->opts);
}

/* ---- putting segments on the wire ---- */

/* An ACK left: none is owed any more (Linux's tcp_event_ack_sent). */
static void tcp_ack_sent(struct tcp_sock *tp)
{
	tp->rcv_wup = tp->rcv_nxt;
	tp->dsack_pending = false;	/* reported once */
	tp->flags &= ~(unsigned)(TCP_F_ACK_NOW | TCP_F_ACK_DELAYED | TCP_F_WINDOW_UPDATE);
	timer_cancel(&tp->st->timers, &tp->delack_timer);
	if (tp->quickacks)
		tp->quickacks--;
}

/* Hands one segment to IP: the header th and len bytes of the send ring
 * from off. False when no buffer was free: the caller stops, and the
 * next event (an ACK, a timer) tries again. */
static bool tcp_transmit(struct tcp_sock *tp, struct tcp_hdr *th, size_t off, size_t len)
{
	struct stack *st = tp->st;
	struct sock *sk = tp->sk;
	size_t hlen = TCP_HLEN + tcp_opts_len(th);
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, hlen + len);

	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return false;
	}
	uint8_t *p = nbuf_put(nb, hlen + len);
	if (len)
		tcp_ring_peek(&tp->snd, off, p + hlen, len);
	tcp_emit(p, th, len, sk->laddr, sk->raddr);
	struct ip_out o = {.src = sk->laddr, .dst = sk->raddr, .proto = IPPROTO_TCP_,
			   .ttl = sk->opts.ttl, .tos = sk->opts.tos, .df = true};
	ip_output(st, nb, &o);
	stat_inc(st, STAT_TCP_OUT_SEGS);
	if (th->flags & TCP_ACK)
		tcp_ack_sent(tp);
	return true;
}

void tcp_xmit_raw(struct stack *st, struct tcp_hdr *th, uint32_t src, uint32_t dst, uint8_t tos)
{
	size_t hlen = TCP_HLEN + tcp_opts_len(th);
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, hlen);

	if (!nb) {
		st->drops[DROP_NOMEM]++;
		return;
	}
	tcp_emit(nbuf_put(nb, hlen), th, 0, src, dst);
	struct ip_out o = {.src = src, .dst = dst, .proto = IPPROTO_TCP_, .tos = tos, .df = true};
	ip_output(st, nb, &o);
	stat_inc(st, STAT_TCP_OUT_SEGS);
}

/* Bookkeeping after sending [seq, seq + n) of sequence space, dlen of it
 * data: SND.NXT and SND.MAX, retransmission counts, Karn's rule for the
 * timed segment (RFC 6298 3), the retransmission timer (RFC 6298 5.1),
 * and Linux's entry into interactive ("pingpong") mode when data answers
 * data within the delayed-ACK time. */
static void tcp_seq_sent(struct tcp_sock *tp, uint32_t seq, uint32_t n, uint32_t dlen)
{
	uint64_t now = stack_now(tp->st);
	uint32_t end = seq + n;
	bool rexmit = SEQ_LT(seq, tp->snd_max);

	if (tp->snd_una == tp->snd_max)
		tp->rto_stamp = now;	/* the oldest data in flight leaves now */
	if (rexmit) {
		stat_inc(tp->st, STAT_TCP_RETRANS_SEGS);
		tp->total_retrans++;
		if (tp->rtt_time && SEQ_GEQ(tp->rtt_seq, seq) && SEQ_LT(tp->rtt_seq, end))
			tp->rtt_time = 0;
	} else if (!tp->ts_ok && !tp->rtt_time) {
		tp->rtt_time = now + 1;	/* 0 means "not timing" */
		tp->rtt_seq = seq;
	}
	if (SEQ_GT(end, tp->snd_max))
		tp->snd_max = end;
	if (SEQ_GT(end, tp->snd_nxt))
		tp->snd_nxt = end;
	if (dlen) {
		if (tp->got_data && now - tp->last_recv < TCP_ATO_MIN_NS)
			tp->pingpong = true;
		tp->last_send = now;
	}
	if (!timer_pending(&tp->rto_timer) || tp->probe_timer)
		tcp_rearm_rto(tp);
	else if (!rexmit)
		tcp_schedule_loss_probe(tp);
}

/* Sends [seq, seq + len) of the send ring, with our FIN after it when
 * fin; PSH on the segment that empties what is queued. */
static bool tcp_send_data(struct tcp_sock *tp, uint32_t seq, uint32_t len, bool fin)
{
	struct tcp_hdr th;
	uint8_t flags = TCP_ACK;

	if (len && seq + len == tcp_snd_data_end(tp))
		flags |= TCP_PSH;
	if (fin)
		flags |= TCP_FIN;
	tcp_build(tp, &th, seq, flags);
	if (!tcp_transmit(tp, &th, seq - tcp_snd_data_seq(tp), len))
		return false;
	if (len && len < tcp_send_mss(tp) && !SEQ_LT(seq, tp->snd_max))
		tp->snd_sml = seq + len;
	tcp_seq_sent(tp, seq, len + fin, len);
	return true;
}

/* ---- the SACK scoreboard as the sender reads it ---- */

/* The start of the next SACKed range at or after seq (below SND.MAX), as
 * a distance; UINT32_MAX when none. */
static uint32_t tcp_sacked_gap(const struct tcp_sock *tp, uint32_t seq)
{
	for (unsigned i = 0; i < tp->nsacked; i++)
		if (SEQ_GT(tp->sacked[i].end, seq))
			return SEQ_GT(tp->sacked[i].start, seq) ? tp->sacked[i].start - seq : 0;
	return UINT32_MAX;
}

/* seq, or the end of the SACKed range it falls in: what go-back-N resends. */
static uint32_t tcp_skip_sacked(const struct tcp_sock *tp, uint32_t seq)
{
	for (unsigned i = 0; i < tp->nsacked; i++)
		if (SEQ_LEQ(tp->sacked[i].start, seq) && SEQ_LT(seq, tp->sacked[i].end))
			seq = tp->sacked[i].end;
	return seq;
}

/* IsLost() for the hole below sacked[i]: DupThresh ranges above it, or
 * more than (DupThresh - 1) * SMSS bytes SACKed above it (RFC 6675 4). */
static bool tcp_hole_lost(const struct tcp_sock *tp, unsigned i)
{
	uint64_t bytes = 0;

	if (tp->nsacked - i >= TCP_DUPTHRESH)
		return true;
	for (unsigned k = i; k < tp->nsacked; k++)
		bytes += tp->sacked[k].end - tp->sacked[k].start;
	return bytes > (uint64_t)(TCP_DUPTHRESH - 1) * tcp_send_mss(tp);
}

bool tcp_sack_is_lost(const struct tcp_sock *tp, uint32_t seq)
{
	unsigned i = 0;

	while (i < tp->nsacked && SEQ_LEQ(tp->sacked[i].start, seq))
		i++;
	return i < tp->nsacked && tcp_hole_lost(tp, i);
}

/* RFC 6675 SetPipe(): the bytes the scoreboard says are in the network. A
 * hole counts unless it is lost, and again for what was retransmitted
 * (below HighRxt). */
static uint32_t tcp_sack_pipe(const struct tcp_sock *tp)
{
	uint32_t pipe = 0, start = tp->snd_una;

	for (unsigned i = 0; i <= tp->nsacked; i++) {
		uint32_t end = i < tp->nsacked ? tp->sacked[i].start : tp->snd_max;
		if (SEQ_LT(start, end)) {
			if (i == tp->nsacked || !tcp_hole_lost(tp, i))
				pipe += end - start;
			if (SEQ_GT(tp->high_rxt, start))
				pipe += (SEQ_LT(tp->high_rxt, end) ? tp->high_rxt : end) - start;
		}
		if (i < tp->nsacked)
			start = tp->sacked[i].end;
	}
	return pipe;
}

/* The first hole below the highest SACKed byte that starts at or after
 * from, lost ones only when lost_only: NextSeg() rules 1 and 3. */
static bool tcp_sack_hole(const struct tcp_sock *tp, uint32_t from, bool lost_only,
			  uint32_t mss, uint32_t *seq, uint32_t *len)
{
	uint32_t start = tp->snd_una, data_end = tcp_snd_data_end(tp);

	for (unsigned i = 0; i < tp->nsacked; start = tp->sacked[i].end, i++) {
		uint32_t s = SEQ_GT(from, start) ? from : start;
		uint32_t e = SEQ_LT(tp->sacked[i].start, data_end) ? tp->sacked[i].start : data_end;
		if (!SEQ_LT(s, e) || (lost_only && !tcp_hole_lost(tp, i)))
			continue;
		*seq = s;
		*len = MIN(e - s, mss);
		return true;
	}
	return false;
}

/* NextSeg() rule 2: new data the peer's window has room for. */
static bool tcp_new_data_seg(const struct tcp_sock *tp, uint32_t mss, uint32_t *seq,
			     uint32_t *len)
{
	uint32_t s = tp->snd_max, end = tcp_snd_data_end(tp);
	uint32_t wnd_end = tp->snd_una + tp->snd_wnd;
	uint32_t room = SEQ_GT(wnd_end, s) ? wnd_end - s : 0;
	uint32_t avail = SEQ_LT(s, end) ? end - s : 0;

	*seq = s;
	*len = MIN(MIN(avail, mss), room);
	return *len > 0 || (tcp_fin_pending(tp) && s == end && room > 0);
}

/* RFC 6675 NextSeg(): a lost hole above HighRxt, else new data, else any
 * hole above HighRxt below the highest SACKed byte. */
static bool tcp_next_seg(const struct tcp_sock *tp, uint32_t mss, uint32_t *seq, uint32_t *len)
{
	uint32_t from = SEQ_GT(tp->high_rxt, tp->snd_una) ? tp->high_rxt : tp->snd_una;

	return tcp_sack_hole(tp, from, true, mss, seq, len) || tcp_new_data_seg(tp, mss, seq, len) ||
	       tcp_sack_hole(tp, from, false, mss, seq, len);
}

/* ---- what to send ---- */

/* RFC 6675 5 (C): in loss recovery with SACK, send while cwnd - pipe is
 * at least one SMSS, each segment chosen by NextSeg(). */
static void tcp_xmit_sack_recovery(struct tcp_sock *tp, uint32_t mss)
{
	uint64_t cwnd = (uint64_t)tp->cc.cwnd * mss;
	uint64_t pipe = tcp_sack_pipe(tp);
	uint32_t seq, len;

	while (pipe + mss <= cwnd && tcp_next_seg(tp, mss, &seq, &len)) {
		bool rexmit = SEQ_LT(seq, tp->snd_max);
		bool fin = tcp_fin_pending(tp) && seq + len == tcp_snd_data_end(tp);
		if (!tcp_send_data(tp, seq, len, fin))
			return;
		if (rexmit && SEQ_GT(seq + len, tp->high_rxt))
			tp->high_rxt = seq + len;
		if (rexmit && seq == tp->snd_una) {
			tp->rexmit_mark = tp->snd_max;
			tp->rexmit_marked = true;
		}
		pipe += MAX(len, 1u);
	}
}

/* The segment at SND.UNA once more, whatever cwnd says: fast retransmit
 * (RFC 5681 3.2), a NewReno partial ACK (RFC 6582 3.2), a timeout
 * (RFC 6298 5.4). After a timeout SND.NXT was rewound and moves past it. */
static void tcp_retransmit_head(struct tcp_sock *tp, uint32_t mss)
{
	uint32_t seq = tp->snd_una, end = tcp_snd_data_end(tp);
	uint32_t len = SEQ_LT(seq, end) ? MIN(end - seq, mss) : 0;

	len = MIN(len, tcp_sacked_gap(tp, seq));
	bool fin = tcp_fin_pending(tp) && seq + len == end && SEQ_GT(tp->snd_max, end);
	if (!len && !fin)
		return;
	if (!tcp_send_data(tp, seq, len, fin) || !tp->in_recovery)
		return;
	if (SEQ_GT(seq + len, tp->high_rxt))
		tp->high_rxt = seq + len;
	tp->rexmit_mark = tp->snd_max;
	tp->rexmit_marked = true;
}

/* Nagle's rule as Linux applies it (Minshall's variant): a small segment
 * waits while an earlier small segment is unacknowledged; TCP_CORK holds
 * every small segment. */
static bool tcp_nagle_holds(const struct tcp_sock *tp)
{
	if (tp->cork)
		return true;
	return !tp->nodelay && SEQ_GT(tp->snd_sml, tp->snd_una) && SEQ_LEQ(tp->snd_sml, tp->snd_max);
}

/* cwnd in bytes, with limited transmit's two extra segments on the first
 * and second duplicate ACK (RFC 3042). */
static uint64_t tcp_cwnd_bytes(const struct tcp_sock *tp, uint32_t mss)
{
	uint64_t cwnd = tp->cc.cwnd;

	if (!tp->in_recovery && tp->dupacks < TCP_DUPTHRESH)
		cwnd += tp->dupacks;
	return cwnd * mss;
}

/* How many bytes the segment at seq may carry: the MSS, the data queued,
 * the gap to the next SACKed range, the peer's window. 0 when it must
 * wait. force (a probe, the cork's timeout) waives cwnd, Nagle and cork. */
static uint32_t tcp_new_seg_len(struct tcp_sock *tp, uint32_t seq, uint32_t mss, bool force,
				bool *fin)
{
	uint32_t end = tcp_snd_data_end(tp), wnd_end = tp->snd_una + tp->snd_wnd;
	uint32_t avail = SEQ_LT(seq, end) ? end - seq : 0;
	uint32_t room = SEQ_GT(wnd_end, seq) ? wnd_end - seq : 0;
	uint32_t len = MIN(MIN(avail, mss), tcp_sacked_gap(tp, seq));
	bool rexmit = SEQ_LT(seq, tp->snd_max);

	/* Like Linux, a bare FIN goes whatever cwnd says. */
	if (!force && avail && (uint64_t)(seq - tp->snd_una) >= tcp_cwnd_bytes(tp, mss)) {
		tp->cwnd_limited = true;
		return 0;
	}
	if (len > room) {
		/* Sender SWS avoidance: a partial segment only when it is at
		 * least half the largest window the peer offered. */
		if (!force && !rexmit && room < tp->max_window / 2)
			return 0;
		len = room;
	}
	*fin = tcp_fin_pending(tp) && seq + len == end && SEQ_LT(seq + len, wnd_end);
	if (!force && !rexmit && len < mss && seq + len == end && !*fin && tcp_nagle_holds(tp))
		return 0;
	return len;
}

/* New data from SND.NXT on (and what a timeout rewound), with our FIN
 * after the last byte. Returns the number of segments sent. */
static unsigned tcp_xmit_new(struct tcp_sock *tp, uint32_t mss, bool force)
{
	uint64_t now = stack_now(tp->st);
	unsigned sent = 0;

	tp->cwnd_limited = false;
	if (tp->snd_una == tp->snd_max && tcp_has_unsent(tp) &&
	    now - tp->last_send > (uint64_t)tp->rto_us * NSEC_PER_USEC)
		tcp_cc_idle_restart(&tp->cc, now);	/* RFC 5681 4.1 */
	for (;;) {
		bool fin = false;
		tp->snd_nxt = tcp_skip_sacked(tp, tp->snd_nxt);
		uint32_t seq = tp->snd_nxt;
		uint32_t len = tcp_new_seg_len(tp, seq, mss, force, &fin);
		if (!len && !fin)
			break;
		if (!tcp_send_data(tp, seq, len, fin))
			break;
		sent++;
		if (force)
			break;
	}
	return sent;
}

static void tcp_write_xmit(struct tcp_sock *tp)
{
	uint32_t mss = tcp_send_mss(tp);

	if (tp->flags & TCP_F_RETRANSMIT) {
		tp->flags &= ~(unsigned)TCP_F_RETRANSMIT;
		tcp_retransmit_head(tp, mss);
	}
	if (tp->in_recovery && tp->sack_ok)
		tcp_xmit_sack_recovery(tp, mss);
	else
		tcp_xmit_new(tp, mss, false);
}

void tcp_engine_reset(struct tcp_sock *tp)
{
	tp->flags = 0;
	tp->syn_acked = tp->got_data = tp->pingpong = tp->probe_timer = tp->tlp_timer = false;
	tp->tlp_high_seq = 0;
	tp->cwnd_limited = tp->in_recovery = false;
	tp->ws_ok = tp->ts_ok = tp->sack_ok = false;
	tp->snd_wscale = 0;
	tp->quickacks = 0;
	tp->rcv_mss = 0;
	tp->soft_err = 0;
	tp->snd_wnd = tp->max_window = 0;
	tp->snd_sml = tp->recover = tp->high_rxt = tp->iss;
	tp->nsacked = tp->nrcv_sacks = 0;
	tp->dsack_pending = tp->rexmit_marked = false;
	tp->bytes_acked = 0;
	tp->dupacks = 0;
	tp->srtt_us = tp->rttvar_us = tp->min_rtt_us = 0;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->rtt_time = 0;
	tp->backoff = 0;
	tp->retransmits = tp->total_retrans = 0;
	tp->retrans_stamp = 0;
	tp->zero_window_probes = tp->keep_probes = 0;
	nbuf_queue_purge(&tp->ooo);
	tp->ooo_bytes = 0;
	tcp_cc_init(&tp->cc, tp->cc.ops ? tp->cc.ops : TCP_CC_DEFAULT);
}

/* Our SYN: "mss, sackOK, TS, nop, wscale", every option offered, as
 * Linux sends it (RFC 9293 3.7.1, RFC 7323, RFC 2018). */
static void tcp_send_syn(struct tcp_sock *tp)
{
	struct tcp_hdr th;

	if (tp->snd_max == tp->iss)
		tcp_engine_reset(tp);
	memset(&th, 0, sizeof(th));
	th.sport = tp->sk->lport;
	th.dport = tp->sk->rport;
	th.seq = tp->iss;
	th.flags = TCP_SYN;
	th.win = tcp_syn_window(tp, tp->advmss);
	th.opts.mss_ok = true;
	th.opts.mss = tp->advmss;
	th.opts.sack_ok = true;
	th.opts.ts_ok = true;
	th.opts.tsval = tcp_ts_now(tp);
	th.opts.ws_ok = true;
	th.opts.wscale = tp->rcv_wscale;
	if (tcp_transmit(tp, &th, 0, 0))
		tcp_seq_sent(tp, tp->iss, 1, 0);
}

/* A SYN-ACK mirrors the options of the peer's SYN (RFC 7323 1.3, 2.2,
 * RFC 2018 2); its window is rounded to segments of the MSS less the
 * timestamps, as Linux does (65160 for 1460). */
void tcp_send_synack(struct tcp_sock *tp)
{
	struct tcp_hdr th;

	memset(&th, 0, sizeof(th));
	th.sport = tp->sk->lport;
	th.dport = tp->sk->rport;
	th.seq = tp->iss;
	th.ack = tp->rcv_nxt;
	th.flags = TCP_SYN | TCP_ACK;
	th.win = tcp_syn_window(tp, tp->advmss - (tp->ts_ok ? TCPOLEN_TS_ALIGNED : 0));
	tp->rcv_adv = tp->rcv_nxt + tp->rcv_wnd;
	th.opts.mss_ok = true;
	th.opts.mss = tp->advmss;
	th.opts.sack_ok = tp->sack_ok;
	if (tp->ts_ok) {
		th.opts.ts_ok = true;
		th.opts.tsval = tcp_ts_now(tp);
		th.opts.tsecr = tp->ts_recent;
	}
	th.opts.ws_ok = tp->ws_ok;
	th.opts.wscale = tp->rcv_wscale;
	if (tcp_transmit(tp, &th, 0, 0))
		tcp_seq_sent(tp, tp->iss, 1, 0);
}

void tcp_send_ack(struct tcp_sock *tp)
{
	struct tcp_hdr th;

	tcp_build(tp, &th, tp->snd_max, TCP_ACK);
	tcp_transmit(tp, &th, 0, 0);
}

void tcp_send_active_reset(struct tcp_sock *tp)
{
	struct tcp_hdr th;

	tcp_build(tp, &th, tp->snd_max, TCP_RST | TCP_ACK);
	if (tcp_transmit(tp, &th, 0, 0))
		stat_inc(tp->st, STAT_TCP_OUT_RSTS);
}

bool tcp_send_loss_probe(struct tcp_sock *tp)
{
	uint32_t mss = tcp_send_mss(tp), data = tcp_snd_data_seq(tp), end = tcp_snd_data_end(tp);

	tp->tlp_high_seq = tp->snd_max;	/* one probe per episode, sent or not */
	tp->tlp_retrans = false;
	if (tcp_has_unsent(tp) && SEQ_LT(tp->snd_nxt, tp->snd_una + tp->snd_wnd) &&
	    tcp_xmit_new(tp, mss, true)) {
		tp->tlp_high_seq = tp->snd_max;
		return true;
	}
	/* the last segment sent: its data, and our FIN if it went */
	bool fin = tcp_fin_pending(tp) && SEQ_GT(tp->snd_max, end);
	uint32_t last = fin ? end : tp->snd_max;
	uint32_t len = MIN(last - data, mss);
	tp->tlp_retrans = true;
	return (len || fin) && tcp_send_data(tp, last - len, len, fin);
}

void tcp_send_probe(struct tcp_sock *tp)
{
	struct tcp_hdr th;

	if (tcp_has_unsent(tp) && SEQ_LT(tp->snd_nxt, tp->snd_una + tp->snd_wnd) &&
	    tcp_xmit_new(tp, tcp_send_mss(tp), true))
		return;
	tcp_build(tp, &th, tp->snd_una - 1, TCP_ACK);
	tcp_transmit(tp, &th, 0, 0);
}

/* RFC 9293 3.10.7.1: never answer a RST; if the segment has an ACK, the
 * RST takes its sequence from it, else it acknowledges the segment. */
void tcp_send_reset_for(struct stack *st, const struct tcp_hdr *th, uint32_t seg_len,
			const struct ipv4_hdr *h)
{
	struct tcp_hdr r;

	if (th->flags & TCP_RST)
		return;
	memset(&r, 0, sizeof(r));
	r.sport = th->dport;
	r.dport = th->sport;
	if (th->flags & TCP_ACK) {
		r.seq = th->ack;
		r.flags = TCP_RST;
	} else {
		r.ack = th->seq + seg_len;
		r.flags = TCP_RST | TCP_ACK;
	}
	tcp_xmit_raw(st, &r, h->dst, h->src, h->tos & ~3u);
	stat_inc(st, STAT_TCP_OUT_RSTS);
}

void tcp_output(struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_LISTEN:
	case TCP_CLOSE:
		tp->flags &= TCP_F_FIN_QUEUED;
		return;
	case TCP_SYN_SENT:
		if (tp->snd_max == tp->iss || (tp->flags & TCP_F_RETRANSMIT))
			tcp_send_syn(tp);
		tp->flags &= ~(unsigned)TCP_F_RETRANSMIT;
		return;
	case TCP_SYN_RECV:
		if (tp->snd_max == tp->iss || (tp->flags & TCP_F_RETRANSMIT))
			tcp_send_synack(tp);
		else if (tp->flags & TCP_F_ACK_NOW)
			tcp_send_ack(tp);
		tp->flags &= ~(unsigned)TCP_F_RETRANSMIT;
		return;
	default:
		break;
	}
	tcp_write_xmit(tp);
	if (tp->flags & (TCP_F_ACK_NOW | TCP_F_WINDOW_UPDATE))
		tcp_send_ack(tp);
	if (!timer_pending(&tp->rto_timer))
		tcp_rearm_rto(tp);
}
