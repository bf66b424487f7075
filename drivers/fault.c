/*
 * fault.c: a wrapper that makes any device a bad network, for tests and
 * for trying the stack against loss. On the directions chosen, each frame
 * is dropped, duplicated, corrupted (one bit flipped) or held back 1 ms so
 * that later frames overtake it (reordered), each with its own probability,
 * and every frame is delayed by a fixed time.
 *
 * Every surviving frame waits in a per-direction hold queue ordered by the
 * time it is due (then by arrival, so equal times keep their order) until
 * env.clock reaches that time; with no delay a frame is due at once and
 * passes straight through. Received frames come out of rx_burst, and
 * rx_pending says when some are due; sent frames go to the inner device from
 * the next tx_burst or from a timer on env.timers, so none waits forever when
 * traffic stops. The timer is also armed for received frames, only to wake
 * the loop when they fall due. The hold queues are bounded and allocated at
 * start: when one is full the wrapper takes no more (tx) or leaves frames
 * in the inner device (rx).
 *
 * Decisions come from a generator seeded with cfg->seed (one stream per
 * direction), and every frame draws the same four numbers whatever the
 * outcome, so the same seed and the same traffic give the same faults.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../netd/clock.h"
#include "../netd/nbuf.h"
#include "../netd/rng.h"
#include "../netd/stats.h"
#include "../netd/timer.h"
#include "../netd/util.h"
#include "netdev.h"

#define FAULT_HOLD_MAX 4096		/* frames held per direction */
#define FAULT_REORDER_NS NSEC_PER_MSEC	/* how long a reordered frame is held back */
#define FAULT_TX_SEED_SALT 0x7478ULL	/* "tx": the tx stream differs from the rx one */

struct held {
	uint64_t due;
	uint64_t seq;		/* arrival order, to break ties in due */
	struct nbuf *nb;
};

/* A binary min-heap of held frames on (due, seq). */
struct hold_queue {
	struct held *heap;
	unsigned len, cap;
	uint64_t seq;
};

struct fault_dir {
	bool on;
	struct rng rng;
	struct hold_queue q;
	uint64_t dropped;	/* frames the injector dropped */
};

struct fault {
	struct netdev dev;
	struct netdev *inner;
	struct fault_config cfg;
	struct fault_dir rx, tx;
	struct timer timer;	/* earliest due frame of either direction */
};

static struct fault *fault_of(struct netdev *dev)
{
	return dev->priv;
}

/* ---- Hold queue ---- */

static bool held_before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void hq_swap(struct hold_queue *q, unsigned i, unsigned j)
{
	struct held t = q->heap[i];

	q->heap[i] = q->heap[j];
	q->heap[j] = t;
}

static void hq_sift_up(struct hold_queue *q, unsigned i)
{
	while (i > 0 && held_before(&q->heap[i], &q->heap[(i - 1) / 2])) {
		hq_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void hq_sift_down(struct hold_queue *q, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, min = i;
		if (l < q->len && held_before(&q->heap[l], &q->heap[min]))
			min = l;
		if (r < q->len && held_before(&q->heap[r], &q->heap[min]))
			min = r;
		if (min == i)
			return;
		hq_swap(q, i, min);
		i = min;
	}
}

/* Puts e back (or in for the first time); the caller made sure of room. */
static void hq_insert(struct hold_queue *q, struct held e)
{
	q->heap[q->len] = e;
	hq_sift_up(q, q->len++);
}

/* Holds nb until due. Consumes nb. */
static void hq_hold(struct hold_queue *q, uint64_t due, struct nbuf *nb)
{
	hq_insert(q, (struct held){ .due = due, .seq = q->seq++, .nb = nb });
}

static bool hq_due(const struct hold_queue *q, uint64_t now)
{
	return q->len && q->heap[0].due <= now;
}

static struct held hq_pop(struct hold_queue *q)
{
	struct held top = q->heap[0];

	q->heap[0] = q->heap[--q->len];
	hq_sift_down(q, 0);
	return top;
}

static unsigned hq_room(const struct hold_queue *q)
{
	return q->cap - q->len;
}

static void hq_purge(struct hold_queue *q)
{
	while (q->len)
		nbuf_free(hq_pop(q).nb);
	free(q->heap);
	q->heap = NULL;
}

/* ---- Faults ---- */

static uint64_t fault_now(const struct fault *f)
{
	return f->dev.env.clock ? f->dev.env.clock->now : 0;
}

/* Hands a dropped frame to env.drop, or frees it. Consumes nb. */
static void fault_drop(struct fault *f, struct fault_dir *d, struct nbuf *nb)
{
	d->dropped++;
	netdev_drop(&f->dev, nb, DROP_FAULT_INJECTED);
}

/* Flips one random bit of nb, in a private copy if the data is shared.
 * Consumes nb; returns the frame to go on with (nb itself if it could not
 * be copied, uncorrupted). */
static struct nbuf *fault_corrupt(struct fault_dir *d, struct nbuf *nb)
{
	size_t len = nbuf_len(nb);

	if (len == 0)
		return nb;
	if (nbuf_shared(nb)) {
		struct nbuf *c = nbuf_copy(nb);
		if (!c)
			return nb;
		nbuf_free(nb);
		nb = c;
	}
	uint64_t bit = rng_next(&d->rng) % (len * 8);
	nb->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	return nb;
}

/* Runs one frame through the faults and holds what survives; needs room
 * for two frames in d's queue. Consumes nb. */
static void fault_frame(struct fault *f, struct fault_dir *d, struct nbuf *nb, uint64_t now)
{
	const struct fault_config *cfg = &f->cfg;
	double p_drop = rng_double(&d->rng), p_dup = rng_double(&d->rng);
	double p_corrupt = rng_double(&d->rng), p_reorder = rng_double(&d->rng);
	uint64_t due = now + cfg->delay_ns;

	if (p_drop < cfg->drop) {
		fault_drop(f, d, nb);
		return;
	}
	struct nbuf *dup = p_dup < cfg->duplicate ? nbuf_copy(nb) : NULL;
	if (p_corrupt < cfg->corrupt)
		nb = fault_corrupt(d, nb);
	hq_hold(&d->q, p_reorder < cfg->reorder ? due + FAULT_REORDER_NS : due, nb);
	if (dup)
		hq_hold(&d->q, due, dup);
}

/* Arms the timer for the earliest held frame, or cancels it. */
static void fault_arm(struct fault *f)
{
	struct timer_wheel *w = f->dev.env.timers;
	const struct hold_queue *rq = &f->rx.q, *tq = &f->tx.q;

	if (!w)
		return;
	if (!rq->len && !tq->len) {
		timer_cancel(w, &f->timer);
		return;
	}
	uint64_t at = UINT64_MAX;
	if (rq->len)
		at = rq->heap[0].due;
	if (tq->len)
		at = MIN(at, tq->heap[0].due);
	timer_arm(w, &f->timer, at);
}

/* The wrapper's counters: the inner device's, plus the injector's drops. */
static void fault_sync_stats(struct fault *f)
{
	f->dev.stats = f->inner->stats;
	f->dev.stats.rx_dropped += f->rx.dropped;
	f->dev.stats.tx_dropped += f->tx.dropped;
}

/* ---- Receive ---- */

/* Takes what the inner device has, as far as the hold queue has room. */
static int fault_rx_pull(struct fault *f, int max, uint64_t now)
{
	struct nbuf *in[NETDEV_BATCH];
	int want = MIN(MIN(max, NETDEV_BATCH), (int)(hq_room(&f->rx.q) / 2));

	if (want <= 0)
		return 0;
	int n = f->inner->ops->rx_burst(f->inner, in, want);
	for (int i = 0; i < n; i++)
		fault_frame(f, &f->rx, in[i], now);
	return n;
}

static int fault_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	struct fault *f = fault_of(dev);
	struct hold_queue *q = &f->rx.q;
	uint64_t now = fault_now(f);
	int n = 0;

	if (!f->rx.on) {
		n = f->inner->ops->rx_burst(f->inner, nbs, max);
		fault_sync_stats(f);
		return n;
	}
	int err = fault_rx_pull(f, max, now);
	while (n < max && hq_due(q, now))
		nbs[n++] = hq_pop(q).nb;
	fault_arm(f);
	fault_sync_stats(f);
	return n == 0 && err < 0 ? err : n;
}

static bool fault_rx_pending(struct netdev *dev)
{
	struct fault *f = fault_of(dev);

	return hq_due(&f->rx.q, fault_now(f)) || f->inner->ops->rx_pending(f->inner);
}

static int fault_rx_fd(struct netdev *dev)
{
	struct netdev *inner = fault_of(dev)->inner;

	return inner->ops->rx_fd(inner);
}

/* ---- Transmit ---- */

/* Passes due frames to the inner device, oldest first, until it is full. */
static void fault_tx_flush(struct fault *f, uint64_t now)
{
	struct hold_queue *q = &f->tx.q;
	struct held out[NETDEV_BATCH];
	struct nbuf *nbs[NETDEV_BATCH];

	while (hq_due(q, now)) {
		int n = 0, k;
		while (n < NETDEV_BATCH && hq_due(q, now)) {
			out[n] = hq_pop(q);
			nbs[n] = out[n].nb;
			n++;
		}
		k = f->inner->ops->tx_burst(f->inner, nbs, n);
		for (int i = MAX(k, 0); i < n; i++)
			hq_insert(q, out[i]);
		if (k < n)
			return;
	}
}

static int fault_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	struct fault *f = fault_of(dev);
	uint64_t now = fault_now(f);
	int k = 0;

	if (!f->tx.on) {
		k = f->inner->ops->tx_burst(f->inner, nbs, n);
		fault_sync_stats(f);
		return k;
	}
	fault_tx_flush(f, now);
	while (k < n && hq_room(&f->tx.q) >= 2)
		fault_frame(f, &f->tx, nbs[k++], now);
	fault_tx_flush(f, now);
	fault_arm(f);
	fault_sync_stats(f);
	return k;
}

static void fault_timer_fire(struct timer *t, uint64_t now)
{
	struct fault *f = container_of(t, struct fault, timer);

	fault_tx_flush(f, now);
	fault_arm(f);
	fault_sync_stats(f);
}

static void fault_destroy(struct netdev *dev)
{
	struct fault *f = fault_of(dev);

	if (dev->env.timers)
		timer_cancel(dev->env.timers, &f->timer);
	hq_purge(&f->rx.q);
	hq_purge(&f->tx.q);
	netdev_destroy(f->inner);
	free(f);
}

static const struct netdev_ops fault_ops = {
	.kind = "fault",
	.rx_burst = fault_rx_burst,
	.tx_burst = fault_tx_burst,
	.rx_fd = fault_rx_fd,
	.rx_pending = fault_rx_pending,
	.destroy = fault_destroy,
};

/* ---- Setup ---- */

static bool probability(double p)
{
	return p >= 0.0 && p <= 1.0;	/* false for NaN too */
}

static int fault_check(const struct netdev *inner, const struct fault_config *cfg)
{
	if (!inner || !cfg)
		return -EINVAL;
	if (!probability(cfg->drop) || !probability(cfg->duplicate) ||
	    !probability(cfg->reorder) || !probability(cfg->corrupt))
		return -EINVAL;
	/* Holding frames back needs a clock to release them by. */
	if ((cfg->delay_ns || cfg->reorder > 0) && !inner->env.clock)
		return -EINVAL;
	return 0;
}

static int fault_dir_init(struct fault_dir *d, bool on, uint64_t seed)
{
	d->on = on;
	rng_seed(&d->rng, seed);
	if (!on)
		return 0;
	d->q.cap = FAULT_HOLD_MAX;
	d->q.heap = calloc(d->q.cap, sizeof(*d->q.heap));
	return d->q.heap ? 0 : -ENOMEM;
}

/* On failure inner stays the caller's. */
struct netdev *fault_wrap(struct netdev *inner, const struct fault_config *cfg, int *err)
{
	struct fault *f;

	*err = fault_check(inner, cfg);
	if (*err)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = fault_dir_init(&f->rx, cfg->rx, cfg->seed);
	if (!*err)
		*err = fault_dir_init(&f->tx, cfg->tx, cfg->seed ^ FAULT_TX_SEED_SALT);
	if (*err) {
		free(f->rx.q.heap);
		free(f);
		return NULL;
	}
	f->inner = inner;
	f->cfg = *cfg;
	timer_init(&f->timer, fault_timer_fire);
	f->dev.ops = &fault_ops;
	memcpy(f->dev.name, inner->name, sizeof(f->dev.name));
	memcpy(f->dev.mac, inner->mac, sizeof(f->dev.mac));
	f->dev.mtu = inner->mtu;
	f->dev.env = inner->env;
	f->dev.priv = f;
	fault_sync_stats(f);
	return &f->dev;
}
