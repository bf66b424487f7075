/*
 * sim.c: the two-stack simulation of sim.h.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "netd/tcp.h"
#include "tests/harness.h"
#include "tests/sim/sim.h"

#define SIM_PORT 5001
#define SIM_CHUNK 65536

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0xa, 1};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0xb, 1};

static struct stack *sim_stack(uint64_t seed)
{
	struct stack_params p;
	int err;
	stack_params_default(&p);
	p.seed = seed;
	p.pool_small = 4096;
	p.pool_large = 8;
	p.max_sockets = 16;
	struct stack *st = stack_create(&p, true, &err);
	ck_assert_ptr_nonnull(st);
	return st;
}

static struct netdev *sim_wrap(struct netdev *dev, const struct fault_config *fc)
{
	int err;
	if (!fc)
		return dev;
	struct netdev *w = fault_wrap(dev, fc, &err);
	ck_assert_ptr_nonnull(w);
	return w;
}

void sim_link(struct sim *s, const struct fault_config *fa, const struct fault_config *fb)
{
	struct netdev_env ea, eb;
	struct netdev *da, *db;
	s->a.st = sim_stack(11);
	s->b.st = sim_stack(22);
	stack_dev_env(s->a.st, &ea, NULL);
	stack_dev_env(s->b.st, &eb, NULL);
	ck_assert_int_eq(mem_pair_open(&ea, &eb, &da, &db), 0);
	s->a.nif = netif_add(s->a.st, sim_wrap(da, fa), mac_a, 1500);
	s->b.nif = netif_add(s->b.st, sim_wrap(db, fb), mac_b, 1500);
	ck_assert_int_eq(netif_add_addr(s->a.nif, IPV4(10, 0, 0, 1), 24), 0);
	ck_assert_int_eq(netif_add_addr(s->b.nif, IPV4(10, 0, 0, 2), 24), 0);
}

/* One loop turn of a host; true if it did anything. */
static bool sim_turn(struct sim_host *h)
{
	struct netdev *dev = h->nif->dev;
	unsigned n = netif_poll(h->nif, 256);
	bool busy = n || h->st->loopback.len || h->st->socks.ready ||
		    (dev->ops->rx_pending && dev->ops->rx_pending(dev));
	ip_loopback_run(h->st);
	stack_run_timers(h->st);
	sock_run_ready(h->st);
	busy |= h->nif->ntx > 0;
	netif_flush(h->nif);
	return busy;
}

/* One loop turn of each host; true if either did anything. */
static bool sim_turns(struct sim *s)
{
	bool a = sim_turn(&s->a);
	bool b = sim_turn(&s->b);
	return a || b;
}

/* Both stacks are idle: move both clocks to the next timer of either
 * (at least a millisecond), so idle virtual time costs nothing. */
static void sim_tick(struct sim *s)
{
	int64_t na = timer_next(&s->a.st->timers, s->a.st->clock.now);
	int64_t nb = timer_next(&s->b.st->timers, s->b.st->clock.now);
	uint64_t step = MSEC(1);
	if (na > 0 || nb > 0) {
		int64_t next = na < 0 ? nb : nb < 0 ? na : MIN(na, nb);
		step = MAX((uint64_t)next, (uint64_t)MSEC(1));
	}
	clock_set(&s->a.st->clock, s->a.st->clock.now + step);
	clock_set(&s->b.st->clock, s->b.st->clock.now + step);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Byte off of the stream a sends: a function of its offset. */
static uint8_t stream_byte(uint64_t off)
{
	uint64_t x = ((off >> 3) + 1) * 0x9e3779b97f4a7c15ULL;
	x ^= x >> 29;
	return (uint8_t)(x >> ((off & 7) * 8));
}

/* The sender writes as much as the send buffer takes. */
static void sim_send(struct sim *s)
{
	static uint8_t chunk[SIM_CHUNK];
	while (s->sent < s->total) {
		size_t want = (size_t)MIN((uint64_t)sizeof(chunk), s->total - s->sent);
		for (size_t i = 0; i < want && !s->unchecked; i++)
			chunk[i] = stream_byte(s->sent + i);
		ssize_t n = sock_sendto(s->tx, chunk, want, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			ck_assert_int_eq(n, -EAGAIN);
			return;
		}
		if (!s->unchecked)
			s->tx_hash = fnv(s->tx_hash, chunk, (size_t)n);
		s->sent += (uint64_t)n;
	}
	if (!s->tx_closed) {
		ck_assert_int_eq(sock_shutdown(s->tx, SHUT_WR), 0);
		s->tx_closed = true;
	}
}

static void sim_receive(struct sim *s)
{
	static uint8_t buf[SIM_CHUNK];
	if (!s->rx && sock_accept(s->listener, &s->rx) < 0)
		return;
	ssize_t n;
	while ((n = sock_recvfrom(s->rx, buf, sizeof(buf), MSG_DONTWAIT, NULL)) > 0) {
		if (!s->unchecked)
			s->rx_hash = fnv(s->rx_hash, buf, (size_t)n);
		s->received += (uint64_t)n;
	}
	if (n == 0)
		s->rx_eof = true;
	else
		ck_assert_int_eq(n, -EAGAIN);
}

void sim_open(struct sim *s, uint64_t total)
{
	struct sock_addr any = {.addr = 0, .port = SIM_PORT};
	struct sock_addr to = {.addr = IPV4(10, 0, 0, 2), .port = SIM_PORT};
	s->total = total;
	s->tx_hash = s->rx_hash = 0xcbf29ce484222325ULL;
	ck_assert_int_eq(sock_create(s->b.st, SOCK_STREAM, 0, 0, &s->listener), 0);
	ck_assert_int_eq(sock_bind(s->listener, &any), 0);
	ck_assert_int_eq(sock_listen(s->listener, 8), 0);
	ck_assert_int_eq(sock_create(s->a.st, SOCK_STREAM, 0, 0, &s->tx), 0);
	ck_assert_int_eq(sock_connect(s->tx, &to), -EINPROGRESS);
}

/* Runs until b has everything and the end of the stream, or the virtual
 * time limit passes. */
void sim_transfer(struct sim *s, unsigned limit_s)
{
	uint64_t limit = SEC(limit_s);
	while (!s->rx_eof && s->a.st->clock.now < limit) {
		bool busy = sim_turns(s);
		if (s->tx->tcp->state == TCP_ESTABLISHED || s->tx->tcp->state == TCP_CLOSE_WAIT ||
		    s->tx->tcp->state == TCP_FIN_WAIT1 || s->tx->tcp->state == TCP_FIN_WAIT2)
			sim_send(s);
		sim_receive(s);
		if (!busy)
			sim_tick(s);
	}
}

void sim_finish(struct sim *s)
{
	sock_close(s->rx);
	sock_close(s->tx);
	sock_close(s->listener);
	uint64_t end = s->a.st->clock.now + SEC(130);	/* FIN exchange, TIME_WAIT */
	while (s->a.st->clock.now < end) {
		while (sim_turns(s))
			;
		sim_tick(s);
	}
	ck_assert_uint_eq(s->a.st->socks.used, 0);
	ck_assert_uint_eq(s->b.st->socks.used, 0);
	for (struct sim_host *h = &s->a; h <= &s->b; h++) {
		neigh_table_destroy(h->st, &h->st->neigh);
		reasm_table_destroy(h->st, &h->st->reasm);
		for (unsigned i = 0; i < h->st->nifs; i++) {
			for (unsigned k = 0; k < h->st->ifs[i]->ntx; k++)
				nbuf_free(h->st->ifs[i]->txq[k]);
			h->st->ifs[i]->ntx = 0;
		}
	}
	/* each stack's device holds frames bound for the other: destroy the
	 * pair first, then count */
	netdev_destroy(s->a.nif->dev);
	netdev_destroy(s->b.nif->dev);
	s->a.nif->dev = s->b.nif->dev = NULL;
	ck_assert_uint_eq(nbuf_pool_in_use(&s->a.st->pool), 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&s->b.st->pool), 0);
	stack_destroy(s->a.st);
	stack_destroy(s->b.st);
}
