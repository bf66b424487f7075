/*
 * test_timer.c: the timing wheel: firing at or after expiry, cancel,
 * re-arm from a callback, timers beyond one turn of the wheel, next expiry.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <stdlib.h>

#include "netd/timer.h"
#include "netd/util.h"

static struct timer_wheel w;
static unsigned fired;
static uint64_t fired_at[8];

static void on_fire(struct timer *t, uint64_t now)
{
	(void)t;
	fired_at[fired++ % 8] = now;
}

static struct timer rearmer;
static void on_fire_rearm(struct timer *t, uint64_t now)
{
	fired++;
	if (fired < 3)
		timer_arm(&w, t, now + MSEC(10));
}

START_TEST(fires_at_first_tick_after_expiry)
{
	struct timer t;
	fired = 0;
	timer_wheel_init(&w, 0);
	timer_init(&t, on_fire);
	timer_arm(&w, &t, MSEC(200) + 500);	/* 200.0005 ms */
	ck_assert_uint_eq(timer_run(&w, MSEC(200)), 0);
	ck_assert(timer_pending(&t));
	ck_assert_uint_eq(timer_run(&w, MSEC(201)), 1);
	ck_assert_uint_eq(fired_at[0], MSEC(201));
	ck_assert(!timer_pending(&t));
	ck_assert_uint_eq(w.pending, 0);
}
END_TEST

START_TEST(cancel_prevents_firing)
{
	struct timer a, b;
	fired = 0;
	timer_wheel_init(&w, 0);
	timer_init(&a, on_fire);
	timer_init(&b, on_fire);
	timer_arm(&w, &a, MSEC(5));
	timer_arm(&w, &b, MSEC(5));
	timer_cancel(&w, &a);
	timer_cancel(&w, &a);	/* twice is harmless */
	ck_assert_uint_eq(timer_run(&w, MSEC(10)), 1);
	ck_assert_uint_eq(fired, 1);
}
END_TEST

START_TEST(rearm_from_callback_fires_later_not_now)
{
	fired = 0;
	timer_wheel_init(&w, 0);
	timer_init(&rearmer, on_fire_rearm);
	timer_arm(&w, &rearmer, MSEC(1));
	timer_run(&w, MSEC(1));
	ck_assert_uint_eq(fired, 1);
	timer_run(&w, MSEC(10));
	ck_assert_uint_eq(fired, 1);
	timer_run(&w, MSEC(11));
	ck_assert_uint_eq(fired, 2);
	timer_run(&w, MSEC(100));
	ck_assert_uint_eq(fired, 3);
	ck_assert(!timer_pending(&rearmer));
}
END_TEST

START_TEST(timer_beyond_one_wheel_turn)
{
	struct timer t;
	uint64_t far = MSEC(TIMER_SLOTS * 3 + 17);
	fired = 0;
	timer_wheel_init(&w, 0);
	timer_init(&t, on_fire);
	timer_arm(&w, &t, far);
	for (uint64_t ms = 1000; ms < far / NSEC_PER_MSEC; ms += 1000)
		ck_assert_uint_eq(timer_run(&w, MSEC(ms)), 0);
	ck_assert_uint_eq(timer_run(&w, far - 1), 0);
	ck_assert_uint_eq(timer_run(&w, far), 1);
}
END_TEST

START_TEST(next_expiry)
{
	struct timer t;
	timer_wheel_init(&w, 0);
	ck_assert_int_eq(timer_next(&w, 0), -1);
	timer_init(&t, on_fire);
	timer_arm(&w, &t, MSEC(30));
	ck_assert_int_eq(timer_next(&w, MSEC(10)), (int64_t)MSEC(20));
	timer_cancel(&w, &t);
	ck_assert_int_eq(timer_next(&w, 0), -1);
}
END_TEST

START_TEST(arm_in_the_past_fires_on_next_run)
{
	struct timer t;
	fired = 0;
	timer_wheel_init(&w, MSEC(50));
	timer_run(&w, MSEC(50));
	timer_init(&t, on_fire);
	timer_arm(&w, &t, MSEC(10));
	ck_assert_uint_eq(timer_run(&w, MSEC(51)), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("wheel");
	tcase_add_test(tc, fires_at_first_tick_after_expiry);
	tcase_add_test(tc, cancel_prevents_firing);
	tcase_add_test(tc, rearm_from_callback_fires_later_not_now);
	tcase_add_test(tc, timer_beyond_one_wheel_turn);
	tcase_add_test(tc, next_expiry);
	tcase_add_test(tc, arm_in_the_past_fires_on_next_run);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
