/*
 * stack_rate.c: the stack-only figure of the benchmarks: two netd stacks
 * in one process (tests/sim) move BYTES over one TCP connection across a
 * clean in-memory wire; the program prints MB/s of payload per core of
 * CPU time. No device, no system call on the data path: what it measures
 * is netd's TCP and IP alone.
 *
 *   stack_rate [megabytes]    (default 1024)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long long mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
	struct sim s;
	memset(&s, 0, sizeof(s));
	sim_link(&s, NULL, NULL);
	sim_open(&s, mb << 20);
	double start = cpu_seconds();
	sim_transfer(&s, 3600);
	double secs = cpu_seconds() - start;
	if (!s.rx_eof || s.rx_hash != s.tx_hash) {
		fprintf(stderr, "stack_rate: transfer incomplete or corrupted\n");
		return 1;
	}
	printf("mb_per_core_s %.1f megabytes %llu cpu_seconds %.3f\n", (double)mb / secs, mb, secs);
	sim_finish(&s);
	return 0;
}
