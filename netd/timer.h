/*
 * timer.h: one-shot timers on a hashed timing wheel with 1 ms ticks.
 * Timers are embedded in the objects that own them (neighbour entries,
 * reassembly queues, connections), so arming and cancelling allocate
 * nothing and cost O(1). A timer fires on the first tick at or after its
 * expiry, from timer_run(), which the loop calls once per turn.
 */
#ifndef NETD_TIMER_H
#define NETD_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_SLOTS 4096
#define TIMER_TICK_NS 1000000ULL

struct timer;
typedef void (*timer_fn)(struct timer *t, uint64_t now);

struct timer {
	struct timer *next, **pprev;
	uint64_t expires;
	uint64_t tick;
	timer_fn fn;
};

struct timer_wheel {
	struct timer *slots[TIMER_SLOTS];
	uint64_t next_tick;	/* first tick not yet processed */
	unsigned pending;
};

void timer_wheel_init(struct timer_wheel *w, uint64_t now);
void timer_init(struct timer *t, timer_fn fn);
/* Arms (or re-arms) t to fire at expires. */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires);
void timer_cancel(struct timer_wheel *w, struct timer *t);

static inline bool timer_pending(const struct timer *t)
{
	return t->pprev != 0;
}

/* Fires every timer due at now; returns how many fired. */
unsigned timer_run(struct timer_wheel *w, uint64_t now);
/* Nanoseconds from now until the next tick that holds a timer; -1 if none. */
int64_t timer_next(const struct timer_wheel *w, uint64_t now);

#endif
