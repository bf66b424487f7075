/*
 * stack_rate.c: the stack-only figure of the benchmarks: two netd stacks
 * in one process (tests/sim) move MEGABYTES over one TCP connection across
 * a clean in-memory wire; the program prints MB/s of payload per core of
 * CPU time. No device, no system call on the data path: what it measures
 * is netd's TCP and IP alone. The transfer runs as a one-test Check suite,
 * in this process, because the simulation checks itself with Check.
 *
 *   stack_rate [megabytes]    (default 1024)
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static unsigned long long megabytes = 1024;

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(transfer)
{
	struct sim s;
	memset(&s, 0, sizeof(s));
	sim_link(&s, NULL, NULL);
	s.unchecked = true;	/* the simulation test checks the bytes; this times them */
	sim_open(&s, megabytes << 20);
	double start = cpu_seconds();
	sim_transfer(&s, 3600);
	double secs = cpu_seconds() - start;
	ck_assert(s.rx_eof);
	ck_assert_uint_eq(s.received, megabytes << 20);
	printf("mb_per_core_s %.1f megabytes %llu cpu_seconds %.3f\n", (double)megabytes / secs,
	       megabytes, secs);
	sim_finish(&s);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc > 1)
		megabytes = strtoull(argv[1], NULL, 10);
	Suite *s = suite_create("stack_rate");
	TCase *tc = tcase_create("rate");
	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, transfer);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
