/*
 * stack.c: creation and teardown of a stack, its defaults (Linux's where
 * Linux has one), the drop path every module leaves through, and the
 * helpers that answer "is this address ours".
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "stack.h"
#include "util.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

void stack_params_default(struct stack_params *p)
{
	memset(p, 0, sizeof(*p));
	p->forwarding = false;
	p->default_ttl = 64;
	p->icmp_echo_ignore_broadcasts = true;
	p->icmp_msgs_per_sec = 1000;
	p->icmp_msgs_burst = 50;
	p->icmp_ratelimit_ms = 1000;
	p->arp_reachable_ms = 30000;
	p->arp_retrans_ms = 1000;
	p->arp_delay_ms = 5000;
	p->arp_probes = 3;
	p->arp_queue_len = 8;
	p->arp_failed_ms = 3000;
	p->neigh_entries = 1024;
	p->reasm_timeout_ms = 30000;
	p->reasm_queues = 256;
	p->reasm_mem_limit = 4u << 20;
	p->max_routes = 256;
	p->max_sockets = 4096;
	p->busy_poll_us = 50;
	p->pool_small = 8192;
	p->pool_medium = 1024;
	p->pool_large = 96;
	p->max_mtu = 1500;
	p->seed = 0;
}

static struct nbuf_pool_config pool_config(const struct stack_params *p)
{
	struct nbuf_pool_config c = {
		.small_size = ALIGN_UP(NBUF_HEADROOM + ETH_HLEN + 4 + p->max_mtu, 64),
		.small_count = p->pool_small,
		.medium_size = ALIGN_UP(NBUF_HEADROOM + ETH_HLEN + 8192, 64),
		.medium_count = p->pool_medium,
		.large_size = ALIGN_UP(NBUF_HEADROOM + ETH_HLEN + IPV4_MAX_LEN, 64),
		.large_count = p->pool_large,
	};
	return c;
}

static int stack_init_tables(struct stack *st)
{
	const struct stack_params *p = &st->params;
	struct nbuf_pool_config pc = pool_config(p);
	int err = nbuf_pool_init(&st->pool, &pc);
	if (!err)
		err = route_table_init(&st->routes, p->max_routes);
	if (!err)
		err = neigh_table_init(&st->neigh, p->neigh_entries);
	if (!err)
		err = sock_table_init(&st->socks, p->max_sockets);
	if (!err)
		err = reasm_table_init(&st->reasm, p->reasm_queues, p->reasm_mem_limit,
				       MSEC(p->reasm_timeout_ms));
	return err;
}

struct stack *stack_create(const struct stack_params *p, bool virtual_clock, int *err)
{
	struct stack *st = calloc(1, sizeof(*st));
	if (!st) {
		*err = -ENOMEM;
		return NULL;
	}
	st->params = *p;
	if (virtual_clock)
		clock_init_virtual(&st->clock, 0);
	else
		clock_init_real(&st->clock);
	timer_wheel_init(&st->timers, st->clock.now);
	rng_seed(&st->rng, p->seed ? p->seed : rng_entropy_seed());
	st->ip_id_secret = (uint32_t)rng_next(&st->rng);
	for (unsigned i = 0; i < IP_IDENTS; i++)
		st->ip_ids[i] = (uint16_t)rng_next(&st->rng);
	*err = stack_init_tables(st);
	if (*err) {
		stack_destroy(st);
		return NULL;
	}
	return st;
}

void stack_destroy(struct stack *st)
{
	if (!st)
		return;
	sock_table_destroy(&st->socks);
	if (st->neigh.entries)
		neigh_table_destroy(st, &st->neigh);
	if (st->reasm.queues)
		reasm_table_destroy(st, &st->reasm);
	for (unsigned i = 0; i < st->nifs; i++) {
		struct netif *nif = st->ifs[i];
		for (unsigned k = 0; k < nif->ntx; k++)
			nbuf_free(nif->txq[k]);
		netdev_destroy(nif->dev);
		free(nif);
	}
	nbuf_queue_purge(&st->loopback);
	route_table_destroy(&st->routes);
	nbuf_pool_destroy(&st->pool);
	free(st);
}

void nbuf_drop(struct stack *st, struct nbuf *nb, enum drop_reason why)
{
	st->drops[why]++;
	if (st->trace)
		log_msg(LOG_LVL_DEBUG, "drop %s: %zu bytes on if%u (%s)", drop_reason_name(why),
			nbuf_len(nb), nb->ifindex, drop_reason_text(why));
	nbuf_free(nb);
}

static void stack_drop_cb(void *ctx, struct nbuf *nb, int reason)
{
	nbuf_drop(ctx, nb, (enum drop_reason)reason);
}

void stack_dev_env(struct stack *st, struct netdev_env *env, struct io_uring *ring)
{
	env->pool = &st->pool;
	env->ring = ring;
	env->timers = &st->timers;
	env->clock = &st->clock;
	env->drop = stack_drop_cb;
	env->drop_ctx = st;
}

unsigned stack_held_buffers(const struct stack *st)
{
	unsigned n = st->loopback.len;
	for (unsigned i = 0; i < st->nifs; i++)
		n += st->ifs[i]->ntx;
	for (unsigned i = 0; i < st->reasm.nqueues; i++) {
		const struct reasm_queue *q = &st->reasm.queues[i];
		for (const struct nbuf *f = q->in_use ? q->frags : NULL; f; f = f->next)
			n++;
	}
	for (unsigned i = 0; i < st->neigh.size; i++)
		if (st->neigh.entries[i].state != NEIGH_FREE)
			n += st->neigh.entries[i].pending.len;
	return n;
}

void stack_run_timers(struct stack *st)
{
	timer_run(&st->timers, st->clock.now);
}

void stack_advance(struct stack *st, uint64_t ns)
{
	uint64_t end = st->clock.now + ns;
	/* Tick by tick, so timers armed by timers fire when they are due. */
	while (st->clock.now < end) {
		uint64_t step = MIN(end - st->clock.now, TIMER_TICK_NS);
		clock_set(&st->clock, st->clock.now + step);
		stack_run_timers(st);
	}
}

struct netif *stack_netif(struct stack *st, unsigned index)
{
	return index < st->nifs ? st->ifs[index] : NULL;
}

bool stack_is_local(const struct stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->nifs; i++)
		if (netif_has_addr(st->ifs[i], addr))
			return true;
	return false;
}

bool stack_is_subnet_bcast(const struct stack *st, uint32_t addr)
{
	for (unsigned i = 0; i < st->nifs; i++) {
		const struct netif *nif = st->ifs[i];
		for (unsigned k = 0; k < nif->naddrs; k++)
			if (nif->addrs[k].plen < 31 && nif->addrs[k].bcast == addr)
				return true;
	}
	return false;
}
