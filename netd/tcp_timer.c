/*
 * tcp_timer.c: TCP's clocks, three timers embedded in each tcp_sock:
 *
 *  rto_timer        retransmission (RFC 6298: the estimator, Karn's rule,
 *                   exponential backoff to 120 s, Linux's 200 ms floor),
 *                   before it the tail loss probe (RFC 8985 7, as Linux
 *                   runs it), the SYN and SYN-ACK resends of the
 *                   handshake, and the persist timer that probes a zero
 *                   window (RFC 9293 3.8.6.1) or pushes what cork held;
 *  delack_timer     the delayed ACK (RFC 1122 4.2.3.2; Linux's 40 ms);
 *  keepalive_timer  keepalive probes (RFC 1122 4.2.3.6), TIME_WAIT (2 MSL,
 *                   60 s on Linux) and the orphan FIN_WAIT2 timeout.
 *
 * Giving up follows Linux: tcp_retries2 (15) timeouts for a connection,
 * tcp_syn_retries (6) for a SYN, tcp_synack_retries (5) for a child's
 * SYN-ACK, or TCP_USER_TIMEOUT since the first retransmission; the error
 * is ETIMEDOUT, or the ICMP error recorded meanwhile.
 */
#include "config.h"

#include <errno.h>

#include "stack.h"
#include "tcp.h"
#include "util.h"

#define TCP_BACKOFF_MAX 16	/* rto << 16 is far past TCP_RTO_MAX */
#define US(x) ((uint64_t)(x) * NSEC_PER_USEC)

/* rto << backoff, capped at TCP_RTO_MAX (RFC 6298 5.5). */
static uint64_t tcp_backed_off_ns(const struct tcp_sock *tp)
{
	uint64_t us = (uint64_t)tp->rto_us << MIN(tp->backoff, TCP_BACKOFF_MAX);
	return US(MIN(us, (uint64_t)TCP_RTO_MAX_US));
}

/* Linux's tcp_clamp_rto_to_user_timeout: the timer never runs past the
 * user timeout, counted from the first retransmission. */
static uint64_t tcp_clamp_user_timeout(const struct tcp_sock *tp, uint64_t t, uint64_t now)
{
	if (!tp->user_timeout_ms || !tp->retransmits)
		return t;
	uint64_t limit = MSEC(tp->user_timeout_ms), used = now - tp->retrans_stamp;
	if (used >= limit)
		return NSEC_PER_MSEC;
	return MIN(t, limit - used);
}

/* RFC 8985 7.2, as Linux schedules loss probes: for SACK connections with
 * data in flight and nothing being recovered (no timeout, no duplicate
 * ACK, nothing SACKed), one probe per episode. */
static bool tcp_tlp_allowed(const struct tcp_sock *tp)
{
	return tp->sack_ok && tp->syn_acked && tp->snd_una != tp->snd_max && !tp->in_recovery &&
	       !tp->retransmits && !tp->dupacks && !tp->nsacked && !tp->tlp_high_seq;
}

/* PTO = 2 * SRTT, plus room for a delayed ACK when one segment is out
 * (Linux adds TCP_RTO_MIN then, else 2 ms). */
static uint64_t tcp_pto_ns(const struct tcp_sock *tp)
{
	uint32_t smss = tp->mss > 12 ? tp->mss - (tp->ts_ok ? 12 : 0) : tp->mss;

	if (!tp->srtt_us)
		return US(TCP_TIMEOUT_INIT_US);
	uint32_t extra = tp->snd_max - tp->snd_una <= smss ? TCP_RTO_MIN_US : TCP_TIMEOUT_MIN_US;
	return US(2 * (uint64_t)tp->srtt_us + extra);
}

/* Arms rto_timer for data in flight: the loss probe if one may run, no
 * later than the RTO (rto_ns from now), else the RTO itself. */
static void tcp_arm_xmit_timer(struct tcp_sock *tp, uint64_t now, uint64_t rto_ns)
{
	tp->probe_timer = false;
	tp->tlp_timer = tcp_tlp_allowed(tp);
	if (tp->tlp_timer)
		rto_ns = MIN(rto_ns, tcp_pto_ns(tp));
	timer_arm(&tp->st->timers, &tp->rto_timer, now + rto_ns);
}

void tcp_rearm_rto(struct tcp_sock *tp)
{
	struct stack *st = tp->st;
	uint64_t now = stack_now(st);

	if (tp->snd_una != tp->snd_max) {
		tcp_arm_xmit_timer(tp, now, tcp_clamp_user_timeout(tp, tcp_backed_off_ns(tp), now));
	} else if (tcp_has_unsent(tp)) {
		tp->probe_timer = true;
		tp->tlp_timer = false;
		timer_arm(&st->timers, &tp->rto_timer,
			  now + MAX(tcp_backed_off_ns(tp), US(TCP_RTO_MIN_US)));
	} else {
		tp->probe_timer = tp->tlp_timer = false;
		timer_cancel(&st->timers, &tp->rto_timer);
	}
}

/* Linux's tcp_schedule_loss_probe after new data: the RTO still counts
 * from the oldest data in flight (rto_stamp). */
void tcp_schedule_loss_probe(struct tcp_sock *tp)
{
	uint64_t now = stack_now(tp->st), due = tp->rto_stamp + tcp_backed_off_ns(tp);

	if (tcp_tlp_allowed(tp))
		tcp_arm_xmit_timer(tp, now, due > now ? due - now : NSEC_PER_MSEC);
}

/* ---- RTT (RFC 6298 2) ---- */

void tcp_rtt_sample(struct tcp_sock *tp, uint32_t rtt_us)
{
	uint64_t r = MAX(rtt_us, 1u);

	if (!tp->srtt_us) {
		tp->srtt_us = (uint32_t)r;		/* 2.2 */
		tp->rttvar_us = (uint32_t)(r / 2);
	} else {				/* 2.3: alpha 1/8, beta 1/4 */
		uint64_t srtt = tp->srtt_us;
		uint64_t delta = r > srtt ? r - srtt : srtt - r;
		tp->rttvar_us = (uint32_t)((3 * (uint64_t)tp->rttvar_us + delta) / 4);
		tp->srtt_us = (uint32_t)MAX((7 * srtt + r) / 8, 1);
	}
	tp->min_rtt_us = tp->min_rtt_us ? MIN(tp->min_rtt_us, (uint32_t)r) : (uint32_t)r;
	/* Linux puts its 200 ms floor under the variance term, so RTO is
	 * SRTT + max(4 * RTTVAR, 200 ms) (G, 1 ms here, is below it). */
	uint64_t rto = tp->srtt_us + MAX(4 * (uint64_t)tp->rttvar_us, (uint64_t)TCP_RTO_MIN_US);
	tp->rto_us = (uint32_t)MIN(rto, (uint64_t)TCP_RTO_MAX_US);
	tp->backoff = 0;	/* Karn: a valid sample ends the backoff */
}

/* ---- retransmission ---- */

/* Linux's tcp_write_timeout: has this loss gone on too long? */
static bool tcp_write_timeout(const struct tcp_sock *tp, uint64_t now)
{
	unsigned limit = tp->syn_acked ? TCP_RETRIES2 : TCP_SYN_RETRIES;

	if (tp->user_timeout_ms)
		return tp->retransmits && now - tp->retrans_stamp >= MSEC(tp->user_timeout_ms);
	return tp->retransmits >= limit;
}

static void tcp_give_up(struct tcp_sock *tp)
{
	stat_inc(tp->st, STAT_TCP_ABORT_ON_TIMEOUT);
	if (!tp->syn_acked)
		stat_inc(tp->st, STAT_TCP_ATTEMPT_FAILS);
	tcp_reset_connection(tp, tp->soft_err ? tp->soft_err : ETIMEDOUT);
}

/* RFC 6298 5.5-5.6 and RFC 5681 3.1: after a timeout, cwnd is one segment,
 * recovery ends, and everything from SND.UNA is sent again. As Linux does,
 * ssthresh is lowered only by the first timeout of a series, and not when
 * fast recovery already lowered it. */
static void tcp_enter_loss(struct tcp_sock *tp, uint64_t now)
{
	tp->rtt_time = 0;
	tp->tlp_high_seq = 0;
	if (!tp->syn_acked)
		return;
	if (!tp->retransmits && !tp->in_recovery)
		tcp_cc_on_rto(&tp->cc, now);
	else
		tp->cc.cwnd = 1;
	tp->in_recovery = false;
	tp->dupacks = 0;
	tp->recover = tp->snd_max;
	tp->high_rxt = tp->snd_una;
	tp->snd_nxt = tp->snd_una;
}

static void tcp_retransmit_timer(struct tcp_sock *tp, uint64_t now)
{
	if (tcp_write_timeout(tp, now)) {
		tcp_give_up(tp);
		return;
	}
	if (!tp->retransmits)
		tp->retrans_stamp = tp->rto_stamp;
	tcp_enter_loss(tp, now);
	tp->retransmits++;
	if (tp->backoff < TCP_BACKOFF_MAX)
		tp->backoff++;
	stat_inc(tp->st, STAT_TCP_TIMEOUTS);
	tp->flags |= TCP_F_RETRANSMIT;
	tcp_output(tp);
	if (!timer_pending(&tp->rto_timer))
		tcp_rearm_rto(tp);
}

/* A child's SYN-ACK is sent again at 1, 3, 7, 15 and 31 s; at 63 s the
 * child is dropped without a word, as Linux drops a request. */
static void tcp_synack_timer(struct tcp_sock *tp)
{
	if (tp->synack_retries >= TCP_SYNACK_RETRIES) {
		stat_inc(tp->st, STAT_TCP_ATTEMPT_FAILS);
		tcp_done(tp);
		return;
	}
	tp->synack_retries++;
	if (tp->backoff < TCP_BACKOFF_MAX)
		tp->backoff++;
	tp->rtt_time = 0;
	tcp_send_synack(tp);
	if (!timer_pending(&tp->rto_timer))
		tcp_rearm_rto(tp);
}

/* The persist timer (RFC 9293 3.8.6.1). A zero window is probed with
 * backoff; like Linux we never give up while the peer answers (an ACK
 * clears the count) and abort after tcp_retries2 unanswered probes. With
 * an open window, the data waited for cork or for a buffer: push it. */
static void tcp_probe_timer(struct tcp_sock *tp)
{
	if (tp->snd_wnd == 0) {
		if (tp->zero_window_probes >= TCP_RETRIES2) {
			tcp_give_up(tp);
			return;
		}
		tp->zero_window_probes++;
		stat_inc(tp->st, STAT_TCP_WINDOW_PROBES);
	}
	tcp_send_probe(tp);
	if (tp->snd_wnd == 0 && tp->backoff < TCP_RETRIES2)
		tp->backoff++;
	if (!timer_pending(&tp->rto_timer) || tp->probe_timer)
		tcp_rearm_rto(tp);
}

/* RFC 8985 7.3: the probe, then the RTO from now. */
static void tcp_loss_probe_timer(struct tcp_sock *tp)
{
	tp->tlp_timer = false;
	if (tp->snd_una != tp->snd_max && tcp_send_loss_probe(tp))
		stat_inc(tp->st, STAT_TCP_LOSS_PROBES);
	if (!timer_pending(&tp->rto_timer))
		tcp_rearm_rto(tp);
}

static void tcp_rto_expired(struct timer *t, uint64_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, rto_timer);

	if (tp->tlp_timer && tp->state != TCP_TIME_WAIT && tp->state != TCP_CLOSE) {
		tcp_loss_probe_timer(tp);
		return;
	}

	switch (tp->state) {
	case TCP_LISTEN:
	case TCP_CLOSE:
	case TCP_TIME_WAIT:
		return;
	case TCP_SYN_RECV:
		if (tp->listener) {
			tcp_synack_timer(tp);
			return;
		}
		break;
	default:
		break;
	}
	if (tp->snd_una != tp->snd_max)
		tcp_retransmit_timer(tp, now);
	else if (tcp_has_unsent(tp))
		tcp_probe_timer(tp);
}

/* ---- delayed ACK ---- */

void tcp_schedule_delack(struct tcp_sock *tp)
{
	tp->flags |= TCP_F_ACK_DELAYED;
	if (!timer_pending(&tp->delack_timer))
		timer_arm(&tp->st->timers, &tp->delack_timer,
			  stack_now(tp->st) + US(TCP_DELACK_MIN_US));
}

static void tcp_delack_expired(struct timer *t, uint64_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, delack_timer);

	(void)now;
	if (!(tp->flags & TCP_F_ACK_DELAYED) || tp->state == TCP_CLOSE)
		return;
	tp->pingpong = false;	/* Linux: a delayed ACK that waited in vain ends pingpong */
	stat_inc(tp->st, STAT_TCP_DELAYED_ACKS);
	tcp_send_ack(tp);
}

/* ---- keepalive, TIME_WAIT, FIN_WAIT2 ---- */

static bool tcp_keepalive_on(const struct tcp_sock *tp)
{
	if (!tp->sk->opts.keepalive)
		return false;
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

void tcp_reset_keepalive(struct tcp_sock *tp)
{
	struct stack *st = tp->st;
	uint64_t now = stack_now(st);

	if (tp->state == TCP_TIME_WAIT)
		return;
	if (tp->state == TCP_FIN_WAIT2 && tp->sk->closed)
		timer_arm(&st->timers, &tp->keepalive_timer, now + TCP_FIN_TIMEOUT_NS);
	else if (tcp_keepalive_on(tp))
		timer_arm(&st->timers, &tp->keepalive_timer, now + SEC(tp->keepidle_s));
	else
		timer_cancel(&st->timers, &tp->keepalive_timer);
}

/* Linux's tcp_keepalive_timer: after keepidle of silence a probe, then
 * one every keepintvl; keepcnt unanswered (or the user timeout) reset
 * the connection. Nothing is probed while data is in flight or waits. */
static void tcp_keepalive_probe(struct tcp_sock *tp, uint64_t now)
{
	struct timer_wheel *w = &tp->st->timers;
	uint64_t idle = SEC(tp->keepidle_s), last = MAX(tp->last_recv, tp->last_ack_recv);
	uint64_t elapsed = now - last;

	if (tp->snd_una != tp->snd_max || tcp_has_unsent(tp)) {
		timer_arm(w, &tp->keepalive_timer, now + idle);
		return;
	}
	if (elapsed < idle) {
		timer_arm(w, &tp->keepalive_timer, now + idle - elapsed);
		return;
	}
	if ((tp->user_timeout_ms && elapsed >= MSEC(tp->user_timeout_ms) && tp->keep_probes) ||
	    (!tp->user_timeout_ms && tp->keep_probes >= tp->keepcnt)) {
		tcp_send_active_reset(tp);
		tcp_give_up(tp);
		return;
	}
	tcp_send_probe(tp);
	tp->keep_probes++;
	stat_inc(tp->st, STAT_TCP_KEEPALIVE_PROBES);
	timer_arm(w, &tp->keepalive_timer, now + SEC(tp->keepintvl_s));
}

static void tcp_keepalive_expired(struct timer *t, uint64_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, keepalive_timer);

	if (tp->state == TCP_TIME_WAIT || (tp->state == TCP_FIN_WAIT2 && tp->sk->closed)) {
		tcp_done(tp);
		return;
	}
	if (tcp_keepalive_on(tp))
		tcp_keepalive_probe(tp, now);
}

void tcp_time_wait(struct tcp_sock *tp)
{
	struct stack *st = tp->st;

	if (tp->state != TCP_TIME_WAIT)
		tcp_set_state(tp, TCP_TIME_WAIT);
	timer_cancel(&st->timers, &tp->rto_timer);
	timer_cancel(&st->timers, &tp->delack_timer);
	tp->probe_timer = tp->tlp_timer = false;
	timer_arm(&st->timers, &tp->keepalive_timer, stack_now(st) + TCP_TIMEWAIT_NS);
}

void tcp_timers_init(struct tcp_sock *tp)
{
	timer_init(&tp->rto_timer, tcp_rto_expired);
	timer_init(&tp->delack_timer, tcp_delack_expired);
	timer_init(&tp->keepalive_timer, tcp_keepalive_expired);
	if (!tp->rto_us)
		tp->rto_us = TCP_TIMEOUT_INIT_US;
}

void tcp_timers_cancel(struct tcp_sock *tp)
{
	struct timer_wheel *w = &tp->st->timers;

	timer_cancel(w, &tp->rto_timer);
	timer_cancel(w, &tp->delack_timer);
	timer_cancel(w, &tp->keepalive_timer);
	tp->probe_timer = tp->tlp_timer = false;
}
