/*
 * stack.h: the stack context. Everything one netd data plane owns lives in
 * one struct stack and is reached through it: no globals, so tests run
 * several stacks in one process. The loop's clock (clock.now) is the only
 * time protocol code reads.
 */
#ifndef NETD_STACK_H
#define NETD_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "filter.h"
#include "frag.h"
#include "icmp.h"
#include "ip.h"
#include "nbuf.h"
#include "neigh.h"
#include "netif.h"
#include "rng.h"
#include "route.h"
#include "sock.h"
#include "stats.h"
#include "timer.h"

struct stack_params {
	bool forwarding;
	uint8_t default_ttl;
	bool icmp_echo_ignore_broadcasts;
	unsigned icmp_msgs_per_sec;	/* all ICMP errors together */
	unsigned icmp_msgs_burst;
	unsigned icmp_ratelimit_ms;	/* per destination, one error per this */
	unsigned arp_reachable_ms;
	unsigned arp_retrans_ms;
	unsigned arp_delay_ms;		/* DELAY before the first unicast probe */
	unsigned arp_probes;		/* requests before an entry fails */
	unsigned arp_queue_len;		/* packets waiting per unresolved entry */
	unsigned arp_failed_ms;		/* how long a failed entry refuses packets */
	unsigned neigh_entries;
	unsigned reasm_timeout_ms;
	unsigned reasm_queues;
	size_t reasm_mem_limit;
	unsigned max_routes;
	unsigned max_sockets;
	unsigned busy_poll_us;		/* keep polling devices this long after a frame */
	unsigned pool_small, pool_medium, pool_large;	/* buffer counts */
	unsigned max_mtu;		/* sizes the small buffers */
	uint64_t seed;			/* 0: from the kernel's entropy */
};

struct stack {
	struct clock clock;
	struct timer_wheel timers;
	struct nbuf_pool pool;
	struct stack_params params;
	struct netif *ifs[NETIF_MAX];
	unsigned nifs;
	struct route_table routes;
	struct neigh_table neigh;
	struct reasm_table reasm;
	struct icmp_limiter icmp;
	struct filter_table filter;
	struct sock_table socks;
	struct rng rng;
	uint32_t ip_id_secret;
	uint16_t ip_ids[IP_IDENTS];
	struct nbuf_queue loopback;	/* datagrams to our own addresses */
	uint64_t drops[DROP_MAX];
	uint64_t stats[STAT_MAX];
	bool trace;		/* log every drop */
	struct netif_tap *taps;	/* live captures (netif.h); NULL almost always */
};

void stack_params_default(struct stack_params *p);
/* NULL on failure with *err set. A virtual clock starts at 0 and moves only
 * through clock_set(). */
struct stack *stack_create(const struct stack_params *p, bool virtual_clock, int *err);
/* Frees the stack, its interfaces and their devices. */
void stack_destroy(struct stack *st);

static inline uint64_t stack_now(const struct stack *st)
{
	return st->clock.now;
}

static inline void stat_inc(struct stack *st, enum stat_counter s)
{
	st->stats[s]++;
}

/* Drops nb for the given reason: counts it, traces it, frees it. */
void nbuf_drop(struct stack *st, struct nbuf *nb, enum drop_reason why);
/* Fills a device environment that reports drops to st. */
void stack_dev_env(struct stack *st, struct netdev_env *env, struct io_uring *ring);
/* Buffers the stack holds by design: fragments awaiting reassembly,
 * packets awaiting ARP, the loopback queue, unflushed transmit batches.
 * Leak checks compare this with the pool's count. */
unsigned stack_held_buffers(const struct stack *st);
/* Fires the timers due at the clock's now. */
void stack_run_timers(struct stack *st);
/* Moves a virtual clock to now, firing timers tick by tick on the way. */
void stack_advance(struct stack *st, uint64_t ns);
struct netif *stack_netif(struct stack *st, unsigned index);
/* True when addr is one of the stack's own addresses. */
bool stack_is_local(const struct stack *st, uint32_t addr);
/* True when addr is the directed broadcast of one of our subnets. */
bool stack_is_subnet_bcast(const struct stack *st, uint32_t addr);

#endif
