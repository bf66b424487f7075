/*
 * timer.c: the hashed timing wheel of timer.h. Each slot holds an unsorted
 * list of timers whose tick maps to it; a timer more than TIMER_SLOTS ticks
 * away sits in its slot through whole turns of the wheel and is fired only
 * when its own tick comes.
 */
#include "config.h"

#include <string.h>

#include "timer.h"
#include "util.h"

static uint64_t tick_of(uint64_t ns)
{
	return (ns + TIMER_TICK_NS - 1) / TIMER_TICK_NS;	/* round up */
}

void timer_wheel_init(struct timer_wheel *w, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->next_tick = now / TIMER_TICK_NS;
}

void timer_init(struct timer *t, timer_fn fn)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
}

static void slot_insert(struct timer_wheel *w, struct timer *t)
{
	struct timer **slot = &w->slots[t->tick % TIMER_SLOTS];
	t->next = *slot;
	if (*slot)
		(*slot)->pprev = &t->next;
	*slot = t;
	t->pprev = slot;
}

static void slot_remove(struct timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t expires)
{
	timer_cancel(w, t);
	t->expires = expires;
	t->tick = MAX(tick_of(expires), w->next_tick);
	slot_insert(w, t);
	w->pending++;
}

void timer_cancel(struct timer_wheel *w, struct timer *t)
{
	if (!timer_pending(t))
		return;
	slot_remove(t);
	w->pending--;
}

/* Fires the timers of one slot that are due by tick `due`. */
static unsigned run_slot(struct timer_wheel *w, unsigned slot, uint64_t due, uint64_t now)
{
	struct timer *list = w->slots[slot], *t;
	unsigned fired = 0;

	w->slots[slot] = NULL;
	if (list)
		list->pprev = &list;
	while ((t = list)) {
		slot_remove(t);
		if (t->tick > due) {
			slot_insert(w, t);
			continue;
		}
		w->pending--;
		t->fn(t, now);
		fired++;
	}
	return fired;
}

unsigned timer_run(struct timer_wheel *w, uint64_t now)
{
	uint64_t now_tick = now / TIMER_TICK_NS;
	unsigned fired = 0;

	if (now_tick < w->next_tick)
		return 0;
	uint64_t first = w->next_tick;
	uint64_t span = MIN(now_tick - first + 1, (uint64_t)TIMER_SLOTS);
	/* Timers armed from callbacks land at next_tick or later. */
	w->next_tick = now_tick + 1;
	for (uint64_t i = 0; i < span && w->pending; i++)
		fired += run_slot(w, (unsigned)((first + i) % TIMER_SLOTS), now_tick, now);
	return fired;
}

int64_t timer_next(const struct timer_wheel *w, uint64_t now)
{
	if (!w->pending)
		return -1;
	for (uint64_t i = 0; i < TIMER_SLOTS; i++) {
		uint64_t tick = w->next_tick + i;
		if (w->slots[tick % TIMER_SLOTS]) {
			uint64_t at = tick * TIMER_TICK_NS;
			return at > now ? (int64_t)(at - now) : 0;
		}
	}
	return (int64_t)(TIMER_SLOTS * TIMER_TICK_NS);
}
