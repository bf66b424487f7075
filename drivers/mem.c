/*
 * mem.c: two devices joined by a wire in memory, for the packet tests and
 * the harness. Sending on one end copies each frame into a buffer from the
 * other end's pool and queues it there, as a NIC would DMA it into the
 * receiver's ring; receiving pops that queue. Each receive queue is bounded
 * like a real ring: a frame arriving at a full queue is dropped and counted
 * in the receiver's rx_dropped. Nothing here blocks and no fd exists, so
 * rx_pending is what tells the loop that frames are waiting.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../netd/nbuf.h"
#include "../netd/stats.h"
#include "../netd/util.h"
#include "netdev.h"

#define MEM_MTU 1500
#define MEM_RXQ_LIMIT 4096
#define FRAME_OVERHEAD (14 + 4)	/* Ethernet header and one VLAN tag */

struct mem_end {
	struct netdev dev;
	struct mem_end *peer;
	struct nbuf_queue rxq;
	unsigned rxq_limit;
};

static struct mem_end *mem_of(struct netdev *dev)
{
	return dev->priv;
}

/*
 * Puts a copy of frame on to's receive queue: 0, -EMSGSIZE when it is
 * longer than to's MTU allows, -ENOSPC when to's queue is full, -ENOBUFS
 * when to's pool is dry (both counted in to's rx_dropped).
 */
static int mem_deliver(struct mem_end *to, const uint8_t *frame, size_t len)
{
	struct netdev *dev = &to->dev;
	size_t room = (size_t)dev->mtu + FRAME_OVERHEAD;

	if (len > room)
		return -EMSGSIZE;
	if (to->rxq.len >= to->rxq_limit) {
		dev->stats.rx_dropped++;
		return -ENOSPC;
	}
	struct nbuf *nb = nbuf_alloc(dev->env.pool, NETDEV_RX_HEADROOM + room);
	if (!nb) {
		dev->stats.rx_dropped++;
		return -ENOBUFS;
	}
	nbuf_reserve(nb, NETDEV_RX_HEADROOM);
	memcpy(nbuf_put(nb, len), frame, len);
	nbuf_queue_push(&to->rxq, nb);
	return 0;
}

static int mem_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	struct mem_end *m = mem_of(dev);
	int n = 0;

	while (n < max && m->rxq.len) {
		struct nbuf *nb = nbuf_queue_pop(&m->rxq);
		dev->stats.rx_packets++;
		dev->stats.rx_bytes += nbuf_len(nb);
		nbs[n++] = nb;
	}
	return n;
}

/* Sends one frame to the peer. Consumes nb. */
static void mem_xmit(struct mem_end *m, struct nbuf *nb)
{
	struct netdev *dev = &m->dev;
	size_t len = nbuf_len(nb);
	int err = m->peer ? mem_deliver(m->peer, nb->data, len) : 0;

	if (err == -EMSGSIZE) {
		dev->stats.tx_errors++;
		netdev_drop(dev, nb, DROP_DEV_TX_ERROR);
		return;
	}
	if (err == -ENOBUFS) {
		/* The receiver's pool is dry: the wire lost it for want of memory. */
		dev->stats.tx_dropped++;
		netdev_drop(dev, nb, DROP_NOMEM);
		return;
	}
	/* Delivered, lost to a full receive queue (the receiver counted it),
	 * or sent down a wire with no other end. */
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	nbuf_free(nb);
}

/* Takes every frame: the wire never pushes back. Consumes nbs[0..n-1]. */
static int mem_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	for (int i = 0; i < n; i++)
		mem_xmit(mem_of(dev), nbs[i]);
	return n;
}

static int mem_rx_fd(struct netdev *dev)
{
	return -1;
}

static bool mem_rx_pending(struct netdev *dev)
{
	return mem_of(dev)->rxq.len != 0;
}

/* Destroying one end leaves the other without a wire: what it sends is lost. */
static void mem_destroy(struct netdev *dev)
{
	struct mem_end *m = mem_of(dev);

	nbuf_queue_purge(&m->rxq);
	if (m->peer)
		m->peer->peer = NULL;
	free(m);
}

static const struct netdev_ops mem_ops = {
	.kind = "mem",
	.rx_burst = mem_rx_burst,
	.tx_burst = mem_tx_burst,
	.rx_fd = mem_rx_fd,
	.rx_pending = mem_rx_pending,
	.destroy = mem_destroy,
};

static struct mem_end *mem_end_new(const struct netdev_env *env, const char *name)
{
	struct mem_end *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->dev.ops = &mem_ops;
	snprintf(m->dev.name, sizeof(m->dev.name), "%s", name);
	m->dev.mtu = MEM_MTU;
	m->dev.env = *env;
	m->dev.priv = m;
	m->rxq_limit = MEM_RXQ_LIMIT;
	return m;
}

int mem_pair_open(const struct netdev_env *env_a, const struct netdev_env *env_b,
		  struct netdev **a, struct netdev **b)
{
	if (!env_a || !env_b || !env_a->pool || !env_b->pool)
		return -EINVAL;
	struct mem_end *ma = mem_end_new(env_a, "mem0");
	struct mem_end *mb = mem_end_new(env_b, "mem1");
	if (!ma || !mb) {
		free(ma);
		free(mb);
		return -ENOMEM;
	}
	ma->peer = mb;
	mb->peer = ma;
	*a = &ma->dev;
	*b = &mb->dev;
	return 0;
}

struct nbuf *mem_take(struct netdev *dev)
{
	struct nbuf *nb;

	return mem_rx_burst(dev, &nb, 1) == 1 ? nb : NULL;
}

unsigned mem_rx_queued(struct netdev *dev)
{
	return mem_of(dev)->rxq.len;
}

int mem_inject(struct netdev *dev, const void *frame, unsigned len)
{
	struct mem_end *m = mem_of(dev);

	if (!m->peer)
		return -ENOTCONN;
	int err = mem_deliver(m->peer, frame, len);
	if (err)
		return err == -ENOSPC ? -ENOBUFS : err;
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	return 0;
}
