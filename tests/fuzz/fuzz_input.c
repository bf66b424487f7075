/*
 * fuzz_input.c: the libFuzzer target for everything a peer on the link can
 * send. One stack is built on the first call and kept: a virtual clock,
 * seed 1, small pools and tables, one interface 10.0.0.2/24 on an
 * in-memory device pair whose far end (with its own buffer pool) is the
 * peer, 10.0.0.1, already known through its ARP request and answering the
 * stack's requests for its address. Each input is a script of records,
 * read one after another:
 *
 *   1nnnnnnn           the virtual clock moves n * 100 ms (up to 12.7 s),
 *                      so ARP and reassembly timers run mid-script;
 *   0b...hhh llllllll  the peer sends a frame of hhhllllllll bytes (up to
 *                      2047; fewer if the input ends first), which follow.
 *                      With b (0x40) set the frame waits in the receive
 *                      queue with the next ones, and the stack takes them
 *                      as one burst. The bits marked . are ignored.
 *
 * Length prefixes let the fuzzer build fragment trains, an ARP exchange
 * followed by traffic, or the same frame twice. After each frame the stack
 * runs until it is idle and everything it sent is taken and freed. At the
 * end of each input the clock moves past every timeout, so no reassembly
 * queue or unresolved neighbour outlives the input and inputs replay alone;
 * then every buffer out of the pool must be one the stack legitimately
 * holds, or the target aborts: a leak is a finding like a crash.
 *
 * LLVMFuzzerTestOneInput() is also what replay_main.c calls to run the
 * corpus in every build. No Check here: the target links without it.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/log.h"
#include "netd/stack.h"
#include "netd/util.h"
#include "netd/wire/arp.h"
#include "netd/wire/eth.h"

#define OUR_IP 0x0a000002u	/* 10.0.0.2 */
#define PEER_IP 0x0a000001u	/* 10.0.0.1 */
#define REC_CLOCK 0x80
#define REC_BURST 0x40
#define REC_LEN_HI 0x07
#define CLOCK_STEP_MS 100
#define SETTLE_ROUNDS 10000	/* more means the stack never goes idle */

/* Short timers, so that the end-of-input flush is short too. */
#define REASM_TIMEOUT_MS 2000
#define ARP_REACHABLE_MS 3000
#define ARP_DELAY_MS 500
#define ARP_RETRANS_MS 200
#define ARP_PROBES 3
#define ARP_FAILED_MS 1000
/* Past the reassembly timeout, and past a resolution started by a timer
 * that fires at its end: DELAY, the probes, then FAILED released. */
#define FLUSH_MS (REASM_TIMEOUT_MS + ARP_DELAY_MS + ARP_RETRANS_MS * (ARP_PROBES + 1) + \
		  ARP_FAILED_MS + 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

struct fuzz_env {
	struct stack *st;
	struct netif *nif;
	struct netdev *peer;	/* the far end of the wire */
	struct nbuf_pool peer_pool;
};

static void fuzz_fail(const char *what, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_input: %s (%u, %u)\n", what, a, b);
	abort();
}

/* Runs the stack until no frame waits to be received or looped back, then
 * hands what it queued to the device. */
static void fuzz_settle(struct fuzz_env *e)
{
	struct netdev *dev = e->nif->dev;
	unsigned rounds = 0;

	while (e->st->loopback.len || dev->ops->rx_pending(dev)) {
		if (++rounds > SETTLE_ROUNDS)
			fuzz_fail("the stack never goes idle", e->st->loopback.len, rounds);
		netif_poll(e->nif, 1024);
		ip_loopback_run(e->st);
	}
	netif_flush(e->nif);
}

/* True when nb (a frame the stack sent) asks for the peer's MAC; *a is
 * the request. */
static bool fuzz_asks_for_peer(const struct nbuf *nb, struct arp_pkt *a)
{
	struct eth_hdr eh;

	return eth_parse(nb->data, nbuf_len(nb), &eh) == 0 && eh.type == ETHERTYPE_ARP &&
	       arp_parse(nb->data + ETH_HLEN, nbuf_len(nb) - ETH_HLEN, a) == 0 &&
	       a->op == ARP_OP_REQUEST && a->tpa == PEER_IP;
}

/* The peer answers a request for its address, as a live host would, so
 * that what the stack sends it goes out rather than failing resolution. */
static void fuzz_peer_answer(struct fuzz_env *e, const struct arp_pkt *req)
{
	uint8_t f[ETH_HLEN + ARP_LEN];
	struct eth_hdr eh = {.type = ETHERTYPE_ARP};
	struct arp_pkt a = {.op = ARP_OP_REPLY, .spa = PEER_IP, .tpa = req->spa};

	memcpy(eh.dst, req->sha, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	memcpy(a.tha, req->sha, ETH_ALEN);
	eth_emit(f, &eh);
	arp_emit(f + ETH_HLEN, &a);
	(void)mem_inject(e->peer, f, sizeof(f));	/* refused only when the pool is dry */
}

/* Takes and frees every frame the stack sent, answering ARP on the way. */
static void fuzz_drain(struct fuzz_env *e)
{
	struct arp_pkt req;
	struct nbuf *nb;
	unsigned answers = 0;

	fuzz_settle(e);
	while ((nb = mem_take(e->peer))) {
		bool ask = fuzz_asks_for_peer(nb, &req);
		nbuf_free(nb);
		if (ask) {
			if (++answers > SETTLE_ROUNDS)
				fuzz_fail("the stack asks for the peer forever", answers, 0);
			fuzz_peer_answer(e, &req);
			fuzz_settle(e);
		}
	}
}

/* Moves the virtual clock forward by ms, from one timer's expiry to the
 * next (what stack_advance() does tick by tick, without visiting the idle
 * ticks between), the stack's frames going out and the peer answering
 * after each, as in the daemon's loop. */
static void fuzz_advance(struct fuzz_env *e, unsigned ms)
{
	struct stack *st = e->st;
	uint64_t end = stack_now(st) + MSEC(ms);

	while (stack_now(st) < end) {
		int64_t next = timer_next(&st->timers, stack_now(st));
		uint64_t step = end - stack_now(st);
		if (next >= 0 && (uint64_t)next < step)
			step = MAX((uint64_t)next, TIMER_TICK_NS);
		clock_set(&st->clock, stack_now(st) + step);
		stack_run_timers(st);
		fuzz_drain(e);
	}
}

/* Buffers the stack holds by design: reassembly queues, packets waiting
 * for ARP, the loopback queue, the transmit batch, frames not yet read. */
static unsigned fuzz_held(const struct fuzz_env *e)
{
	return stack_held_buffers(e->st) + mem_rx_queued(e->nif->dev);
}

static void fuzz_check_leaks(const struct fuzz_env *e)
{
	unsigned used = nbuf_pool_in_use(&e->st->pool), held = fuzz_held(e);

	if (used != held)
		fuzz_fail("stack buffers out of the pool vs held", used, held);
	if (nbuf_pool_in_use(&e->peer_pool))
		fuzz_fail("peer buffers not freed", nbuf_pool_in_use(&e->peer_pool), 0);
}

/* The peer asks for our address, as in the packet-test harness. */
static void fuzz_learn_peer(struct fuzz_env *e)
{
	uint8_t f[ETH_HLEN + ARP_LEN];
	struct eth_hdr eh = {.type = ETHERTYPE_ARP};
	struct arp_pkt a = {.op = ARP_OP_REQUEST, .spa = PEER_IP, .tpa = OUR_IP};

	memcpy(eh.dst, eth_broadcast, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	eth_emit(f, &eh);
	arp_emit(f + ETH_HLEN, &a);
	if (mem_inject(e->peer, f, sizeof(f)))
		fuzz_fail("cannot inject the peer's ARP request", 0, 0);
	fuzz_drain(e);
}

static void fuzz_params(struct stack_params *p)
{
	stack_params_default(p);
	p->seed = 1;
	p->pool_small = 256;
	p->pool_large = 4;
	p->neigh_entries = 32;
	p->reasm_queues = 16;
	p->reasm_mem_limit = 192u << 10;
	p->reasm_timeout_ms = REASM_TIMEOUT_MS;
	p->arp_reachable_ms = ARP_REACHABLE_MS;
	p->arp_delay_ms = ARP_DELAY_MS;
	p->arp_retrans_ms = ARP_RETRANS_MS;
	p->arp_probes = ARP_PROBES;
	p->arp_failed_ms = ARP_FAILED_MS;
}

static struct fuzz_env *fuzz_setup(void)
{
	static struct fuzz_env e;
	struct nbuf_pool_config pc = {
		.small_size = 2048, .small_count = 128, .large_size = 2048, .large_count = 1,
	};
	struct netdev_env env_stack, env_peer = {.pool = &e.peer_pool};
	struct stack_params p;
	struct netdev *dev;
	int err;

	log_init(1, LOG_LVL_ERR);
	fuzz_params(&p);
	e.st = stack_create(&p, true, &err);
	if (!e.st || nbuf_pool_init(&e.peer_pool, &pc))
		fuzz_fail("cannot build the stack", (unsigned)-err, 0);
	stack_dev_env(e.st, &env_stack, NULL);
	if (mem_pair_open(&env_stack, &env_peer, &dev, &e.peer))
		fuzz_fail("cannot open the mem pair", 0, 0);
	e.nif = netif_add(e.st, dev, our_mac, 1500);
	if (!e.nif || netif_add_addr(e.nif, OUR_IP, 24))
		fuzz_fail("cannot add the interface", 0, 0);
	netif_up(e.nif);
	fuzz_drain(&e);		/* the gratuitous ARP */
	fuzz_learn_peer(&e);
	return &e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_env *e;
	size_t i = 0;

	if (!e)
		e = fuzz_setup();
	while (i < size) {
		uint8_t c = data[i++];
		if (c & REC_CLOCK) {
			fuzz_advance(e, (c & ~REC_CLOCK) * CLOCK_STEP_MS);
			continue;
		}
		size_t len = (size_t)(c & REC_LEN_HI) << 8;
		if (i < size)
			len |= data[i++];
		len = MIN(len, size - i);
		/* Refused when longer than the device's MTU allows or when the
		 * stack's pool is dry: both are what a NIC would do. */
		(void)mem_inject(e->peer, data + i, (unsigned)len);
		i += len;
		if (!(c & REC_BURST))
			fuzz_drain(e);
	}
	fuzz_advance(e, FLUSH_MS);
	fuzz_check_leaks(e);
	return 0;
}
