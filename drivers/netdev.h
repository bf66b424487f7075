/*
 * netdev.h: the one ops table behind which every device sits. A device
 * moves whole Ethernet frames in batches: rx_burst fills an array with
 * received frames (non-blocking), tx_burst takes frames to send. Drivers:
 * tap (/dev/net/tun), packet (AF_PACKET, TPACKET_V3 rings), mem (in-memory
 * pair for tests); wrappers that tee to a pcap file or inject faults sit in
 * front of any of them through the same table.
 */
#ifndef NETD_NETDEV_H
#define NETD_NETDEV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "../netd/nbuf.h"

struct nbuf_pool;
struct io_uring;
struct timer_wheel;
struct clock;

#define NETDEV_BATCH 64

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_errors, rx_dropped;
	uint64_t tx_packets, tx_bytes, tx_errors, tx_dropped;
};

/* What a driver may use from the loop that runs it. */
struct netdev_env {
	struct nbuf_pool *pool;		/* receive buffers come from here */
	struct io_uring *ring;		/* NULL: write synchronously */
	struct timer_wheel *timers;	/* for wrappers that hold frames back */
	struct clock *clock;
	/* Where a driver reports a frame it drops (reason: enum drop_reason,
	 * e.g. DROP_FAULT_INJECTED, DROP_DEV_TX_ERROR); the callee frees nb.
	 * NULL: the driver frees nb itself. */
	void (*drop)(void *ctx, struct nbuf *nb, int reason);
	void *drop_ctx;
};

/* Headroom left in front of each received frame. */
#define NETDEV_RX_HEADROOM 64

struct netdev;

struct netdev_ops {
	const char *kind;
	/* Up to max received frames into nbs, data at the Ethernet header;
	 * returns the count (0 when none is waiting) or -errno. */
	int (*rx_burst)(struct netdev *dev, struct nbuf **nbs, int max);
	/* Takes the first k of n frames and returns k; the caller keeps
	 * nbs[k..n-1] (the device is full). A frame taken but not written
	 * is counted in stats.tx_errors and reported through env.drop. With env.ring set, writes
	 * go out as io_uring requests tagged netdev_ud_tx(nb), and the loop
	 * frees each nbuf on completion. */
	int (*tx_burst)(struct netdev *dev, struct nbuf **nbs, int n);
	/* The fd the loop polls for received frames, or -1. */
	int (*rx_fd)(struct netdev *dev);
	/* True while frames are waiting that the fd will not announce. */
	bool (*rx_pending)(struct netdev *dev);
	void (*destroy)(struct netdev *dev);
};

struct netdev {
	const struct netdev_ops *ops;
	char name[IFNAMSIZ];
	uint8_t mac[6];		/* the device's own MAC if it has one, else zero */
	unsigned mtu;
	struct netdev_env env;
	struct netdev_stats stats;
	void *priv;
};

/* Tags in io_uring user_data for completions the loop must route. */
#define NETDEV_UD_TX 1UL		/* low bit set: a transmitted nbuf */
static inline uint64_t netdev_ud_tx(struct nbuf *nb)
{
	return (uint64_t)(uintptr_t)nb | NETDEV_UD_TX;
}

/* Hands a frame the driver will not deliver to env.drop, or frees it.
 * Consumes nb. */
static inline void netdev_drop(struct netdev *dev, struct nbuf *nb, int reason)
{
	if (dev->env.drop)
		dev->env.drop(dev->env.drop_ctx, nb, reason);
	else
		nbuf_free(nb);
}

static inline void netdev_destroy(struct netdev *dev)
{
	if (dev)
		dev->ops->destroy(dev);
}

/* Drivers. Each returns NULL and sets *err (a negative errno) on failure. */
struct tap_config {
	const char *name;	/* created if absent, attached to if present */
	bool bring_up;		/* set IFF_UP on the kernel side */
};
struct netdev *tap_open(const struct tap_config *cfg, const struct netdev_env *env, int *err);

struct packet_config {
	const char *ifname;	/* an existing interface, e.g. a veth end */
	unsigned block_size, block_count, frame_size;	/* 0: defaults */
};
struct netdev *packet_open(const struct packet_config *cfg, const struct netdev_env *env,
			   int *err);

/* Two devices joined by a wire in memory: what one sends the other receives.
 * Frames are copied into the receiver's pool. */
int mem_pair_open(const struct netdev_env *env_a, const struct netdev_env *env_b,
		  struct netdev **a, struct netdev **b);
/* Test helpers on one end of a mem pair: the next frame it received (or
 * NULL), how many it holds, and a frame it sends, copied to the other end's
 * receive queue (0, -ENOBUFS when that end's pool is dry, -EMSGSIZE). */
struct nbuf *mem_take(struct netdev *dev);
unsigned mem_rx_queued(struct netdev *dev);
int mem_inject(struct netdev *dev, const void *frame, unsigned len);

/* Tees every frame in both directions into a pcap file; takes over inner. */
struct netdev *pcap_wrap(struct netdev *inner, const char *path, int *err);
/* The classic pcap format the tee writes (nanosecond timestamps, Ethernet,
 * host byte order): the file's header, and a record's header for a frame
 * of len bytes at ts nanoseconds, which returns how many of the frame's
 * bytes follow it (len cut to the snapshot length). */
#define PCAP_FILE_HDR_LEN 24
#define PCAP_REC_HDR_LEN 16
void pcap_file_header(void *buf);
size_t pcap_record_header(void *buf, size_t len, uint64_t ts);

struct fault_config {
	double drop, duplicate, reorder, corrupt;	/* probabilities, 0..1 */
	uint64_t delay_ns;				/* added to every frame */
	uint64_t seed;
	bool rx, tx;					/* directions affected */
};
/* Injects faults on frames in the chosen directions; takes over inner. */
struct netdev *fault_wrap(struct netdev *inner, const struct fault_config *cfg, int *err);

#endif
