/*
 * tcp_cubic.c: CUBIC's ops ("cubic", RFC 9438), the default algorithm.
 * In congestion avoidance the window follows a cubic function of the time
 * since the epoch began (the first ACK in congestion avoidance after a
 * congestion event): concave up to W_max, the window at the last event,
 * flat around it, then convex beyond (4.2, 4.4, 4.5). Where a Reno flow
 * would do better, it follows the Reno-friendly estimate W_est instead
 * (4.3). A congestion event multiplies the window by beta_cubic = 0.7
 * (4.6) and lowers W_max when the window is shrinking (fast convergence,
 * 4.7). Time spent idle does not count toward the curve (5.8).
 *
 * The state lives in cc->priv. It holds doubles and the curve uses cbrt(),
 * so the library links with -lm.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "tcp_cc.h"
#include "util.h"

#define CUBIC_BETA 0.7		/* beta_cubic, RFC 9438 4.6 */
#define CUBIC_C 0.4		/* C, segments / s^3, RFC 9438 5 */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))	/* eq. 4 */
#define CUBIC_CNT_MAX (1U << 30)	/* acked segments per increase when almost flat */

struct cubic {
	double w_max;		/* segments: the plateau set at the last congestion event */
	double cwnd_prior;	/* segments: cwnd when that event came */
	double w_est;		/* segments: Reno-friendly estimate, RFC 9438 4.3 */
	double k;		/* seconds from the epoch start to the plateau, eq. 2 */
	double origin;		/* segments: the curve's value at t = K */
	uint64_t epoch_start;	/* ns; shifted forward by idle time */
	uint64_t last_ack;	/* ns: the last ACK seen in congestion avoidance */
	uint32_t min_rtt_us;	/* smallest RTT sample; 0 until the first */
	bool in_epoch;
};

_Static_assert(sizeof(struct cubic) <= sizeof(((struct tcp_cc *)0)->priv),
	       "CUBIC's state must fit in tcp_cc.priv");

/* cc->priv is declared as uint64_t; copying in and out keeps the doubles
 * clear of strict aliasing. */
static void cubic_load(const struct tcp_cc *cc, struct cubic *c)
{
	memcpy(c, cc->priv, sizeof(*c));
}

static void cubic_store(struct tcp_cc *cc, const struct cubic *c)
{
	memcpy(cc->priv, c, sizeof(*c));
}

static void cubic_init(struct tcp_cc *cc)
{
	struct cubic c;

	memset(&c, 0, sizeof(c));
	cubic_store(cc, &c);
}

/* W_cubic(t), RFC 9438 eq. 1, t in seconds since the epoch start. */
static double cubic_window(const struct cubic *c, double t)
{
	double d = t - c->k;

	return CUBIC_C * d * d * d + c->origin;
}

/* The first ACK in congestion avoidance after a congestion event: the
 * curve starts at the current window (K from eq. 2, with cwnd_epoch the
 * window now); a window already past W_max starts on the convex side. */
static void cubic_epoch_start(struct cubic *c, uint32_t cwnd, uint64_t now)
{
	c->in_epoch = true;
	c->epoch_start = now;
	c->w_est = cwnd;
	if (cwnd < c->w_max) {
		c->k = cbrt((c->w_max - cwnd) / CUBIC_C);
		c->origin = c->w_max;
	} else {
		c->k = 0;
		c->origin = cwnd;
	}
}

/*
 * Grows cwnd toward target by (target - cwnd) / cwnd per acked segment
 * (RFC 9438 4.4, 4.5): cwnd_cnt counts acked segments and every cnt of
 * them add one segment, never going past the target.
 */
static void cubic_grow(struct tcp_cc *cc, double target, uint32_t acked)
{
	double per_seg = (double)cc->cwnd / (target - cc->cwnd);
	uint32_t cnt = per_seg >= CUBIC_CNT_MAX ? CUBIC_CNT_MAX : (uint32_t)per_seg;
	uint64_t sum;
	uint32_t inc, room;

	cnt = MAX(cnt, 2);	/* at most half a segment per segment acked */
	sum = (uint64_t)cc->cwnd_cnt + acked;
	if (sum < cnt) {
		cc->cwnd_cnt = (uint32_t)sum;
		return;
	}
	room = (uint32_t)MAX(target - cc->cwnd, 1.0);
	inc = (uint32_t)MIN(sum / cnt, room);
	cc->cwnd += inc;
	cc->cwnd_cnt = (uint32_t)(sum % cnt);
}

static void cubic_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint64_t now, uint32_t rtt_us)
{
	struct cubic c;
	double t, rtt, alpha, target;

	cubic_load(cc, &c);
	if (rtt_us != 0 && (c.min_rtt_us == 0 || rtt_us < c.min_rtt_us))
		c.min_rtt_us = rtt_us;
	if (!c.in_epoch)
		cubic_epoch_start(&c, cc->cwnd, now);
	c.last_ack = now;

	t = now > c.epoch_start ? (double)(now - c.epoch_start) / NSEC_PER_SEC : 0;
	rtt = (double)c.min_rtt_us / 1e6;

	/* RFC 9438 4.3: AIMD(alpha, beta) with Reno's rate once past cwnd_prior. */
	alpha = c.w_est >= c.cwnd_prior ? 1.0 : CUBIC_ALPHA;
	c.w_est += alpha * acked / cc->cwnd;

	if (cubic_window(&c, t) < c.w_est)
		target = c.w_est;			/* Reno-friendly region */
	else
		target = cubic_window(&c, t + rtt);	/* concave or convex, 4.2 */
	target = MIN(target, 1.5 * cc->cwnd);
	if (target > cc->cwnd)
		cubic_grow(cc, target, acked);
	cubic_store(cc, &c);
}

/* RFC 9438 4.6: ssthresh = cwnd * beta_cubic, in integer segments. */
static uint32_t cubic_ssthresh(struct tcp_cc *cc)
{
	return MAX((uint32_t)((uint64_t)cc->cwnd * 7 / 10), 2);
}

/* A congestion event: remember the window (4.6), with fast convergence
 * (4.7) when it is below the last W_max; the next epoch starts at the
 * first ACK in congestion avoidance. */
static void cubic_on_loss(struct tcp_cc *cc, uint64_t now)
{
	struct cubic c;

	cubic_load(cc, &c);
	c.cwnd_prior = cc->cwnd;
	if (cc->cwnd < c.w_max)
		c.w_max = cc->cwnd * (1.0 + CUBIC_BETA) / 2;
	else
		c.w_max = cc->cwnd;
	c.in_epoch = false;
	cubic_store(cc, &c);
}

/* RFC 9438 5.8: the idle time does not count in t, so the curve resumes
 * where it stopped instead of jumping ahead. */
static void cubic_on_idle_restart(struct tcp_cc *cc, uint64_t now)
{
	struct cubic c;

	cubic_load(cc, &c);
	if (c.in_epoch && now > c.last_ack) {
		c.epoch_start += now - c.last_ack;
		c.last_ack = now;
	}
	cubic_store(cc, &c);
}

const struct tcp_cc_ops tcp_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.cong_avoid = cubic_cong_avoid,
	.ssthresh = cubic_ssthresh,
	.on_loss = cubic_on_loss,
	.on_idle_restart = cubic_on_idle_restart,
};
