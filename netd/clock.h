/*
 * clock.h: the loop's clock. Protocol code never asks the system for the
 * time: it reads clock.now, which the loop refreshes once per turn from
 * CLOCK_MONOTONIC, or which a test moves by hand (a virtual clock), so a
 * 30-second reassembly timeout is tested in microseconds and the same seed
 * gives the same run.
 */
#ifndef NETD_CLOCK_H
#define NETD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock {
	uint64_t now;		/* nanoseconds */
	bool is_virtual;
};

void clock_init_real(struct clock *c);
void clock_init_virtual(struct clock *c, uint64_t start);
/* Refreshes now from the system clock (no-op for a virtual clock). */
uint64_t clock_update(struct clock *c);
/* Moves a virtual clock forward. */
void clock_set(struct clock *c, uint64_t now);

#endif
