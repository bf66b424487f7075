/*
 * clock.c: the real and the virtual clock of clock.h.
 */
#include "config.h"

#include <assert.h>
#include <time.h>

#include "clock.h"
#include "util.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void clock_init_real(struct clock *c)
{
	c->is_virtual = false;
	c->now = monotonic_ns();
}

void clock_init_virtual(struct clock *c, uint64_t start)
{
	c->is_virtual = true;
	c->now = start;
}

uint64_t clock_update(struct clock *c)
{
	if (!c->is_virtual)
		c->now = monotonic_ns();
	return c->now;
}

void clock_set(struct clock *c, uint64_t now)
{
	assert(c->is_virtual && now >= c->now);
	c->now = now;
}
