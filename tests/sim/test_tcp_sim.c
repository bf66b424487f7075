/*
 * test_tcp_sim.c: two netd stacks in one process, joined by an in-memory
 * wire with the fault injector on both ends, move 100 MB over one TCP
 * connection and compare a checksum of what was sent with what arrived.
 * Clean, lossy (1 % to 10 %), reordering, duplicating and corrupting
 * links; the same seed gives the same run. Both clocks are virtual and
 * move together, a millisecond at a time, only when neither stack has
 * anything left to do. At the end both sides close, TIME_WAIT passes, and
 * no socket or buffer may be left.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netd/tcp.h"
#include "tests/harness.h"
#include "tests/sim/sim.h"

static void sim_case(const struct fault_config *fc, uint64_t bytes, unsigned limit_s)
{
	struct sim s;
	memset(&s, 0, sizeof(s));
	sim_link(&s, fc, fc);
	sim_open(&s, bytes);
	sim_transfer(&s, limit_s);
	ck_assert_msg(s.rx_eof, "only %llu of %llu bytes arrived in %u virtual seconds",
		      (unsigned long long)s.received, (unsigned long long)bytes, limit_s);
	ck_assert_uint_eq(s.received, bytes);
	ck_assert_uint_eq(s.rx_hash, s.tx_hash);
	sim_finish(&s);
}

static struct fault_config faults(double drop, double dup, double reorder, double corrupt,
				  uint64_t seed)
{
	struct fault_config fc = {.drop = drop, .duplicate = dup, .reorder = reorder,
				  .corrupt = corrupt, .seed = seed, .rx = true, .tx = true};
	return fc;
}

#define MB (1024ULL * 1024)

START_TEST(clean_link_100mb)
{
	sim_case(NULL, 100 * MB, 600);
}
END_TEST

START_TEST(loss_1pct_100mb)
{
	struct fault_config fc = faults(0.01, 0, 0, 0, 1);
	sim_case(&fc, 100 * MB, 3600);
}
END_TEST

START_TEST(loss_reorder_dup_5pct_100mb)
{
	struct fault_config fc = faults(0.05, 0.02, 0.05, 0, 2);
	sim_case(&fc, 100 * MB, 3600);
}
END_TEST

START_TEST(loss_10pct_100mb)
{
	struct fault_config fc = faults(0.10, 0, 0, 0, 3);
	sim_case(&fc, 100 * MB, 36000);
}
END_TEST

START_TEST(corruption_1pct_100mb)
{
	struct fault_config fc = faults(0, 0, 0, 0.01, 4);
	sim_case(&fc, 100 * MB, 3600);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_sim");
	TCase *tc = tcase_create("transfer");
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, clean_link_100mb);
	tcase_add_test(tc, loss_1pct_100mb);
	tcase_add_test(tc, loss_reorder_dup_5pct_100mb);
	tcase_add_test(tc, loss_10pct_100mb);
	tcase_add_test(tc, corruption_1pct_100mb);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
