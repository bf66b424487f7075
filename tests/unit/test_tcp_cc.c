/*
 * test_tcp_cc.c: congestion control without a TCP connection: the generic
 * window rules (initial window, slow start with RFC 3465's L = 2, the
 * split at ssthresh, recovery, timeout, idle restart, the max_cwnd clamp),
 * NewReno's additive increase and halving, and CUBIC's curve (RFC 9438):
 * the reduction to 0.7, fast convergence, concave approach to W_max,
 * plateau near K and convex growth past it, the Reno-friendly region on a
 * short path, and the epoch shift over idle time. ACKs are clocked by hand
 * on a time variable: one ACK per segment, a window's worth per RTT.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "tests/harness.h"

#include "netd/tcp_cc.h"
#include "netd/util.h"

/* One RTT of ACK clocking: one ACK per segment of the window at the start
 * of the round, spread evenly over the RTT. */
static void ack_round(struct tcp_cc *cc, uint64_t *now, uint64_t rtt)
{
	uint32_t n = cc->cwnd;
	uint64_t start = *now;

	for (uint32_t i = 1; i <= n; i++) {
		*now = start + rtt * i / n;
		tcp_cc_on_ack(cc, 1, *now, (uint32_t)(rtt / NSEC_PER_USEC));
	}
}

static uint32_t ack_rounds(struct tcp_cc *cc, uint64_t *now, uint64_t rtt, unsigned rounds)
{
	while (rounds-- > 0)
		ack_round(cc, now, rtt);
	return cc->cwnd;
}

/* A fast retransmit at window w and the full ACK that ends recovery. */
static void loss_at(struct tcp_cc *cc, uint32_t w, uint64_t now)
{
	cc->cwnd = w;
	tcp_cc_enter_recovery(cc, now);
	tcp_cc_exit_recovery(cc);
}

static double secs(uint64_t ns)
{
	return (double)ns / NSEC_PER_SEC;
}

static bool priv_is_zero(const struct tcp_cc *cc)
{
	static const uint64_t zero[ARRAY_SIZE(cc->priv)];

	return memcmp(cc->priv, zero, sizeof(zero)) == 0;
}

START_TEST(init_values)
{
	const struct tcp_cc_ops *all[] = { &tcp_reno_ops, &tcp_cubic_ops };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		struct tcp_cc cc;

		memset(&cc, 0xa5, sizeof(cc));
		tcp_cc_init(&cc, all[i]);
		ck_assert_ptr_eq(cc.ops, all[i]);
		ck_assert_uint_eq(cc.cwnd, 10);
		ck_assert_uint_eq(cc.ssthresh, 0x7fffffff);
		ck_assert_uint_eq(cc.cwnd_cnt, 0);
		ck_assert_uint_eq(cc.max_cwnd, 65535);
		ck_assert(priv_is_zero(&cc));
	}
}
END_TEST

START_TEST(slow_start_doubles_per_rtt)
{
	struct tcp_cc cc;
	uint64_t now = 0;

	tcp_cc_init(&cc, &tcp_reno_ops);
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 1), 20);
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 1), 40);
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 1), 80);
	ck_assert_uint_eq(cc.cwnd_cnt, 0);
}
END_TEST

START_TEST(slow_start_abc_limit)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, &tcp_reno_ops);
	tcp_cc_on_ack(&cc, 5, MSEC(10), 10000);	/* a stretch ACK counts L = 2 */
	ck_assert_uint_eq(cc.cwnd, 12);
	tcp_cc_on_ack(&cc, 2, MSEC(11), 10000);
	ck_assert_uint_eq(cc.cwnd, 14);
	tcp_cc_on_ack(&cc, 1, MSEC(12), 10000);
	ck_assert_uint_eq(cc.cwnd, 15);
	ck_assert_uint_eq(cc.cwnd_cnt, 0);
}
END_TEST

START_TEST(slow_start_crossing_ssthresh_splits)
{
	struct tcp_cc cc;

	tcp_cc_init(&cc, &tcp_reno_ops);
	cc.ssthresh = 11;
	tcp_cc_on_ack(&cc, 2, MSEC(10), 0);	/* 1 to slow start, 1 to CA */
	ck_assert_uint_eq(cc.cwnd, 11);
	ck_assert_uint_eq(cc.cwnd_cnt, 1);

	tcp_cc_init(&cc, &tcp_reno_ops);
	cc.ssthresh = 11;
	tcp_cc_on_ack(&cc, 5, MSEC(10), 0);	/* 1 to slow start, 4 to CA */
	ck_assert_uint_eq(cc.cwnd, 11);
	ck_assert_uint_eq(cc.cwnd_cnt, 4);

	tcp_cc_init(&cc, &tcp_reno_ops);
	cc.ssthresh = 10;			/* at ssthresh: all CA */
	tcp_cc_on_ack(&cc, 3, MSEC(10), 0);
	ck_assert_uint_eq(cc.cwnd, 10);
	ck_assert_uint_eq(cc.cwnd_cnt, 3);
}
END_TEST

START_TEST(reno_ca_one_segment_per_window)
{
	struct tcp_cc cc;
	uint64_t now = 0;

	tcp_cc_init(&cc, &tcp_reno_ops);
	cc.cwnd = 20;
	cc.ssthresh = 20;
	for (int i = 0; i < 19; i++)
		tcp_cc_on_ack(&cc, 1, now, 0);
	ck_assert_uint_eq(cc.cwnd, 20);
	ck_assert_uint_eq(cc.cwnd_cnt, 19);
	tcp_cc_on_ack(&cc, 1, now, 0);
	ck_assert_uint_eq(cc.cwnd, 21);
	ck_assert_uint_eq(cc.cwnd_cnt, 0);

	tcp_cc_on_ack(&cc, 44, now, 0);		/* two windows of 21, 2 over */
	ck_assert_uint_eq(cc.cwnd, 23);
	ck_assert_uint_eq(cc.cwnd_cnt, 2);

	cc.cwnd_cnt = 0;
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 10), 33);
}
END_TEST

START_TEST(reno_ssthresh_half_floored_at_2)
{
	struct tcp_cc cc;
	const uint32_t w[] = { 100, 41, 5, 4, 3, 2, 1 };
	const uint32_t want[] = { 50, 20, 2, 2, 2, 2, 2 };

	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		tcp_cc_init(&cc, &tcp_reno_ops);
		cc.cwnd = w[i];
		tcp_cc_enter_recovery(&cc, 0);
		ck_assert_uint_eq(cc.ssthresh, want[i]);
		ck_assert_uint_eq(cc.cwnd, want[i]);
	}
}
END_TEST

START_TEST(recovery_rto_and_idle_restart)
{
	struct tcp_cc cc;
	uint64_t now = 0;

	tcp_cc_init(&cc, &tcp_reno_ops);
	cc.cwnd = 40;
	cc.ssthresh = 30;
	cc.cwnd_cnt = 7;
	tcp_cc_enter_recovery(&cc, now);
	ck_assert_uint_eq(cc.ssthresh, 20);
	ck_assert_uint_eq(cc.cwnd, 20);
	ck_assert_uint_eq(cc.cwnd_cnt, 0);
	cc.cwnd += 3;				/* the core's recovery inflation */
	tcp_cc_exit_recovery(&cc);
	ck_assert_uint_eq(cc.cwnd, 20);
	ck_assert_uint_eq(cc.ssthresh, 20);

	tcp_cc_on_rto(&cc, now);
	ck_assert_uint_eq(cc.ssthresh, 10);
	ck_assert_uint_eq(cc.cwnd, 1);
	/* Slow start again from one segment: 1, 2, 4, 8, then 10 = ssthresh. */
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 3), 8);
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 1), 10);
	ck_assert_uint_eq(cc.cwnd_cnt, 6);	/* 8 ACKs: 2 in slow start, 6 in CA */

	cc.cwnd = 40;
	tcp_cc_idle_restart(&cc, now + SEC(5));
	ck_assert_uint_eq(cc.cwnd, 10);
	ck_assert_uint_eq(cc.cwnd_cnt, 0);
	cc.cwnd = 6;
	tcp_cc_idle_restart(&cc, now + SEC(10));
	ck_assert_uint_eq(cc.cwnd, 6);
}
END_TEST

START_TEST(cc_find_names)
{
	ck_assert_ptr_eq(tcp_cc_find("reno"), &tcp_reno_ops);
	ck_assert_ptr_eq(tcp_cc_find("cubic"), &tcp_cubic_ops);
	ck_assert_ptr_null(tcp_cc_find("bbr"));
	ck_assert_ptr_null(tcp_cc_find("Cubic"));
	ck_assert_ptr_null(tcp_cc_find("cubic "));
	ck_assert_ptr_null(tcp_cc_find(""));
	ck_assert_ptr_null(tcp_cc_find(NULL));
	ck_assert_ptr_eq(TCP_CC_DEFAULT, &tcp_cubic_ops);
	ck_assert_uint_lt(strlen(tcp_reno_ops.name), TCP_CC_NAME_MAX);
	ck_assert_uint_lt(strlen(tcp_cubic_ops.name), TCP_CC_NAME_MAX);
}
END_TEST

START_TEST(set_ops_keeps_windows)
{
	struct tcp_cc cc;
	uint64_t now = 0;

	tcp_cc_init(&cc, &tcp_cubic_ops);
	loss_at(&cc, 100, now);
	ack_rounds(&cc, &now, MSEC(200), 3);	/* CUBIC state in priv now */
	cc.cwnd = 77;
	ck_assert(!priv_is_zero(&cc));

	tcp_cc_set_ops(&cc, &tcp_reno_ops);
	ck_assert_ptr_eq(cc.ops, &tcp_reno_ops);
	ck_assert_uint_eq(cc.cwnd, 77);
	ck_assert_uint_eq(cc.ssthresh, 70);
	ck_assert(priv_is_zero(&cc));
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(200), 2), 79);

	/* Back to CUBIC with no loss history: the curve starts at cwnd and
	 * grows; a loss then reduces to 0.7. */
	tcp_cc_set_ops(&cc, &tcp_cubic_ops);
	ck_assert_uint_eq(cc.cwnd, 79);
	ck_assert_uint_eq(cc.ssthresh, 70);
	ck_assert_uint_ge(ack_rounds(&cc, &now, MSEC(200), 5), 80);
	loss_at(&cc, 90, now);
	ck_assert_uint_eq(cc.ssthresh, 63);
}
END_TEST

START_TEST(max_cwnd_clamp)
{
	const struct tcp_cc_ops *all[] = { &tcp_reno_ops, &tcp_cubic_ops };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		struct tcp_cc cc;
		uint64_t now = 0;

		tcp_cc_init(&cc, all[i]);
		cc.max_cwnd = 15;
		ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 3), 15);	/* slow start */
		cc.ssthresh = 12;
		ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(10), 50), 15);	/* CA */
		cc.ssthresh = 40;
		tcp_cc_exit_recovery(&cc);
		ck_assert_uint_eq(cc.cwnd, 15);
	}
}
END_TEST

START_TEST(cubic_loss_reduces_to_0_7)
{
	struct tcp_cc cc;
	uint64_t now = 0;

	tcp_cc_init(&cc, &tcp_cubic_ops);
	cc.cwnd = 100;
	tcp_cc_enter_recovery(&cc, now);
	ck_assert_uint_eq(cc.ssthresh, 70);
	ck_assert_uint_eq(cc.cwnd, 70);
	tcp_cc_exit_recovery(&cc);
	ck_assert_uint_eq(cc.cwnd, 70);

	tcp_cc_init(&cc, &tcp_cubic_ops);
	cc.cwnd = 100;
	tcp_cc_on_rto(&cc, now);
	ck_assert_uint_eq(cc.ssthresh, 70);
	ck_assert_uint_eq(cc.cwnd, 1);
	/* Slow start 1, 2, 4 ... 64, then 70 = ssthresh 6 ACKs into the 7th
	 * round; the other 58 start the curve at 70 (target 74.1). */
	ck_assert_uint_eq(ack_rounds(&cc, &now, MSEC(200), 6), 64);
	ack_round(&cc, &now, MSEC(200));
	ck_assert_uint_ge(cc.cwnd, 71);
	ck_assert_uint_le(cc.cwnd, 74);

	tcp_cc_init(&cc, &tcp_cubic_ops);
	cc.cwnd = 2;
	tcp_cc_enter_recovery(&cc, now);
	ck_assert_uint_eq(cc.ssthresh, 2);	/* floor */
}
END_TEST

/*
 * W_max 100 after a loss at 100, on a 200 ms path (long enough that the
 * curve, not the Reno-friendly estimate, sets the pace: on a 10 ms path
 * W_est passes 100 in 0.6 s, see cubic_reno_friendly_short_rtt). K =
 * cbrt(100 * 0.3 / 0.4) = 4.217 s. Expected W_cubic(t + RTT): 89.0 at
 * t = 1 s, 96.7 at 2 s, 99.6 at 3 s, 100.0 at K, 103.1 at 6 s, 110.6 at
 * 7 s, 125.3 at 8 s, 149.5 at 9 s.
 */
START_TEST(cubic_concave_plateau_convex)
{
	const uint64_t rtt = MSEC(200);
	const double k = cbrt(100 * 0.3 / 0.4);
	struct tcp_cc cc;
	uint64_t now = SEC(1000), t0 = now;
	uint32_t at[11] = { 0 };	/* cwnd at whole seconds since the loss */

	ck_assert_double_eq_tol(k, 4.217, 0.001);
	tcp_cc_init(&cc, &tcp_cubic_ops);
	loss_at(&cc, 100, now);
	at[0] = cc.cwnd;
	while (now - t0 < SEC(10)) {
		uint32_t before = cc.cwnd;
		double t;

		ack_round(&cc, &now, rtt);
		t = secs(now - t0);
		ck_assert_uint_ge(cc.cwnd, before);		/* never shrinks */
		if (t <= k - secs(rtt))
			ck_assert_uint_le(cc.cwnd, 100);	/* no overshoot before K */
		if (fabs(t - k) <= 1.0) {			/* the plateau */
			ck_assert_uint_ge(cc.cwnd, 97);
			ck_assert_uint_le(cc.cwnd, 102);
		}
		if ((now - t0) % NSEC_PER_SEC == 0)
			at[(now - t0) / NSEC_PER_SEC] = cc.cwnd;
	}
	ck_assert_uint_eq(at[0], 70);
	ck_assert_uint_ge(at[1], 86);
	ck_assert_uint_le(at[1], 90);
	/* Concave: the increase per second shrinks toward W_max. */
	ck_assert_uint_gt(at[1] - at[0], at[2] - at[1]);
	ck_assert_uint_gt(at[2] - at[1], at[3] - at[2]);
	/* Convex: it grows again past K, faster each second. */
	ck_assert_uint_gt(at[7] - at[6], at[6] - at[5]);
	ck_assert_uint_gt(at[8] - at[7], at[7] - at[6]);
	ck_assert_uint_ge(at[8], 120);
	ck_assert_uint_le(at[8], 127);
	ck_assert_uint_ge(at[9], 140);
}
END_TEST

/*
 * A second loss below the previous W_max: fast convergence (RFC 9438 4.7)
 * sets W_max = cwnd * 0.85 instead of cwnd, so the next plateau is lower.
 */
START_TEST(cubic_fast_convergence)
{
	const uint64_t rtt = MSEC(200);
	struct tcp_cc cc;
	uint64_t now = 0, t1;
	uint32_t w2;
	double w_max, k;

	tcp_cc_init(&cc, &tcp_cubic_ops);
	loss_at(&cc, 100, now);				/* W_max = 100 */
	while (cc.cwnd < 80)
		ack_round(&cc, &now, rtt);
	w2 = cc.cwnd;
	ck_assert_uint_lt(w2, 100);
	loss_at(&cc, w2, now);
	ck_assert_uint_eq(cc.ssthresh, w2 * 7 / 10);
	ck_assert_uint_eq(cc.cwnd, w2 * 7 / 10);

	/* The plateau is at 0.85 * w2 (68 for 80), reached at K; without
	 * fast convergence the curve would be at w2 - 0.1 by then. */
	w_max = w2 * 0.85;
	k = cbrt((w_max - cc.cwnd) / 0.4);	/* eq. 2: from cwnd_epoch, 3.1 s for 80 */
	t1 = now;
	ack_rounds(&cc, &now, rtt, 5);
	/* The curve starts at cwnd_epoch and rises at once: W(1.2 s) = 65.2
	 * for w2 = 80 (RFC 8312's K from W_max * 0.3 would stall it below
	 * 56 for the first 0.6 s and give 61.7). */
	ck_assert_uint_ge(cc.cwnd, (uint32_t)w_max - 5);
	while (secs(now - t1) < k)
		ack_round(&cc, &now, rtt);
	ck_assert_uint_ge(cc.cwnd, (uint32_t)w_max - 2);
	ck_assert_uint_le(cc.cwnd, (uint32_t)w_max + 2);
	ck_assert_uint_lt(cc.cwnd, w2 - 5);

	/* A loss at or above W_max sets W_max = cwnd: the plateau is there. */
	loss_at(&cc, 120, now);
	ck_assert_uint_eq(cc.cwnd, 84);
	k = cbrt((120 - 84) / 0.4);
	t1 = now;
	while (secs(now - t1) < k)
		ack_round(&cc, &now, rtt);
	ck_assert_uint_ge(cc.cwnd, 117);
	ck_assert_uint_le(cc.cwnd, 122);
}
END_TEST

/*
 * On a 10 ms path the same loss at 100 is in the Reno-friendly region
 * (RFC 9438 4.3): W_est grows alpha = 3 * 0.3 / 1.7 = 0.53 segment per RTT
 * from 70, far ahead of the curve (74.3 at 0.2 s), and once it passes
 * cwnd_prior = 100 it grows one segment per RTT, as Reno does.
 */
START_TEST(cubic_reno_friendly_short_rtt)
{
	const uint64_t rtt = MSEC(10);
	struct tcp_cc cc, reno;
	uint64_t now = 0, rnow = 0;
	uint32_t w, rw;

	tcp_cc_init(&cc, &tcp_cubic_ops);
	loss_at(&cc, 100, now);
	ack_rounds(&cc, &now, rtt, 20);
	ck_assert_uint_ge(cc.cwnd, 79);		/* W_est = 70 + 20 * 0.53 = 80.6 */
	ck_assert_uint_le(cc.cwnd, 81);

	ack_rounds(&cc, &now, rtt, 50);		/* W_est past 100 after ~57 rounds */
	ck_assert_uint_ge(cc.cwnd, 100);

	/* Now at least Reno's rate: compare with Reno from the same window. */
	tcp_cc_init(&reno, &tcp_reno_ops);
	reno.cwnd = reno.ssthresh = cc.cwnd;
	w = cc.cwnd;
	rw = reno.cwnd;
	ack_rounds(&cc, &now, rtt, 20);
	ack_rounds(&reno, &rnow, rtt, 20);
	ck_assert_uint_eq(reno.cwnd - rw, 20);
	ck_assert_uint_ge(cc.cwnd - w, reno.cwnd - rw);
	ck_assert_uint_le(cc.cwnd - w, 21);
}
END_TEST

/*
 * Idle restart (RFC 9438 5.8): 30 s of silence one second into the epoch.
 * The window drops to the initial window, slow start brings it back to
 * ssthresh, and the curve resumes where it stopped (about 1.6 s in, below
 * W_max); without the shift t would be 32 s and the target far above.
 */
START_TEST(cubic_idle_restart_shifts_epoch)
{
	const uint64_t rtt = MSEC(200);
	struct tcp_cc cc, nohook;
	uint64_t now = 0, resume;

	tcp_cc_init(&cc, &tcp_cubic_ops);
	loss_at(&cc, 100, now);
	ack_rounds(&cc, &now, rtt, 5);
	ck_assert_uint_ge(cc.cwnd, 86);
	ck_assert_uint_le(cc.cwnd, 90);

	now += SEC(30);
	nohook = cc;
	resume = now;
	tcp_cc_idle_restart(&cc, now);
	ck_assert_uint_eq(cc.cwnd, 10);
	ck_assert_uint_eq(cc.ssthresh, 70);
	/* 10, 20, 40, then 70 = ssthresh 30 ACKs into the third round; the
	 * rest of that round is congestion avoidance on the resumed curve. */
	ck_assert_uint_eq(ack_rounds(&cc, &now, rtt, 2), 40);
	ack_round(&cc, &now, rtt);
	ck_assert_uint_ge(cc.cwnd, 70);
	ck_assert_uint_le(cc.cwnd, 80);
	ack_rounds(&cc, &now, rtt, 5);
	ck_assert_uint_gt(cc.cwnd, 90);
	ck_assert_uint_le(cc.cwnd, 100);

	/* The same without the epoch shift: the window would leap. */
	nohook.cwnd = 10;
	nohook.cwnd_cnt = 0;
	ack_rounds(&nohook, &resume, rtt, 8);
	ck_assert_uint_gt(nohook.cwnd, 150);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_cc");
	TCase *tc = tcase_create("generic");

	tcase_add_test(tc, init_values);
	tcase_add_test(tc, slow_start_doubles_per_rtt);
	tcase_add_test(tc, slow_start_abc_limit);
	tcase_add_test(tc, slow_start_crossing_ssthresh_splits);
	tcase_add_test(tc, recovery_rto_and_idle_restart);
	tcase_add_test(tc, cc_find_names);
	tcase_add_test(tc, set_ops_keeps_windows);
	tcase_add_test(tc, max_cwnd_clamp);
	suite_add_tcase(s, tc);

	tc = tcase_create("reno");
	tcase_add_test(tc, reno_ca_one_segment_per_window);
	tcase_add_test(tc, reno_ssthresh_half_floored_at_2);
	suite_add_tcase(s, tc);

	tc = tcase_create("cubic");
	tcase_add_test(tc, cubic_loss_reduces_to_0_7);
	tcase_add_test(tc, cubic_concave_plateau_convex);
	tcase_add_test(tc, cubic_fast_convergence);
	tcase_add_test(tc, cubic_reno_friendly_short_rtt);
	tcase_add_test(tc, cubic_idle_restart_shifts_epoch);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
