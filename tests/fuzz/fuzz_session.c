/*
 * fuzz_session.c: the libFuzzer target for a hostile client library
 * session (netd/session.c). The input plays the client: it posts command
 * records, raw or shaped, writes whatever it likes into its shared region
 * (the slot table, the data rings, the command ring, the reply table),
 * sets ring indices and waiting flags to any value, and lets netd run.
 * netd must not crash, must not touch memory outside the region nor
 * write what only the client writes (the command ring and its head, the
 * tx rings), must end the session rather than trust a bad index, and once
 * the session is destroyed every socket, buffer and file descriptor it
 * had must be gone.
 *
 * Every input gets a stack of its own (virtual clock, seed 1, small
 * pools), built before it and destroyed after it, so an input replays
 * alone. The stack has one interface, 10.0.0.2/24, on an in-memory device
 * pair whose far end is the peer, 10.0.0.1, already known through its ARP
 * request. The session is small: 4 slots, rings of 16384 bytes. Its
 * region is placed between two PROT_NONE guard pages when the address
 * space allows it (almost always), so a read or write past either end of
 * netd's mapping faults.
 *
 * An input is a configuration byte (bit 0: the client is uid 0, who may
 * bind ports below 1024; else uid 1000), then records, each an opcode byte
 * whose top three bits give the kind:
 *
 *   000.....  a raw command: the next 64 bytes are the record, posted.
 *   001ooooo  a shaped command, op o (0-31, past NCS_OP_MAX too), then:
 *             s: slot s & 7 (4-7 do not exist), reply s >> 3 (31: none,
 *                30: reply_entries, out of range);
 *             x: a[0] from A0[x & 15], a[1] from A1[x >> 4];
 *             y: a[2] from A2[y & 7], addr from ADDRS[(y >> 3) & 3], port
 *                from PORTS[y >> 5];
 *             v: the option value, (int8_t)v, in data.
 *   010...aa  raw bytes into area a (0: slot table, 1: data rings, 2:
 *             command ring, 3: reply table): a 24-bit offset (modulo the
 *             area), a length byte, then the bytes (cut at the area's end).
 *   011fffss  a ring index or flag of slot s: f 0 rx.tail, 1 tx.head,
 *             2 rx.consumer_waiting, 3 tx.producer_waiting, 4 wake_mask,
 *             5 the command ring's head, 6 its producer_waiting, 7
 *             tx.consumer_waiting. A byte d follows: 0x80 means a 32-bit
 *             value follows and is stored; otherwise (int8_t)(d << 1) / 2
 *             is added to what the field holds.
 *   100ttttt  netd runs: the command ring, then the stack until idle; the
 *             clock moves by t * 10 ms (t < 16) or (t - 15) s.
 *   101pssss  slot s (0-15) gets an eventfd: registered now (p 0), or
 *             queued for the pull hook, which registers it when netd asks
 *             for pending registrations (p 1).
 *   110lllpp  the peer sends a UDP datagram to port UDP_PORTS[pp] of ours,
 *             of (a length byte) * (lll + 1) bytes (at most 1472).
 *   111aaass  the client acts on slot s by the protocol: a 0 a datagram
 *             record (a length byte, an address/port byte as y above) or
 *             1 stream bytes (a length byte, times 16) into the tx ring,
 *             published, with a TX command if netd waits for one; 2 it
 *             reads the whole rx ring (RX if netd waits for room); 3 it
 *             reads one datagram record; 4 a TX command; 5 an RX command;
 *             6 netd prepares to sleep and wakes; 7 CLOSE with a reply.
 *
 * At the end of the input the session is destroyed as on the client's
 * exit and the loop delivers the doorbell watch's last callback, which
 * frees the session (so a wakeup that still reached it would be a
 * use-after-free); then the clock runs until every socket is gone (4
 * hours at most). Then: no socket in use, every buffer out of the pool
 * one the stack legitimately holds, no file descriptor left open.
 * Anything else aborts: a leak is a finding like a crash.
 *
 * LLVMFuzzerTestOneInput() is also what replay_main.c calls to run the
 * corpus (tests/fuzz/corpus_session) in every build. No Check here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "netd/ctl.h"
#include "netd/log.h"
#include "netd/loop.h"
#include "netd/session.h"
#include "netd/stack.h"
#include "netd/util.h"
#include "netd/wire/arp.h"
#include "netd/wire/checksum.h"
#include "netd/wire/eth.h"
#include "netd/wire/ipv4.h"
#include "netd/wire/udp.h"
#include "proto/shm.h"

#define OUR_IP 0x0a000002u	/* 10.0.0.2 */
#define PEER_IP 0x0a000001u	/* 10.0.0.1 */
#define MTU 1500
#define SLOTS 4
#define RING 16384u
#define SETTLE_ROUNDS 10000	/* more means the stack never goes idle */
#define FLUSH_LIMIT_NS SEC(4 * 3600)
#define FD_SPAN 256		/* descriptors checked for leaks */
#define GUARD 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static const int32_t A0[16] = {0, 1, 2, 3, 4, 5, 7, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
			       IPPROTO_TCP, IPPROTO_IP, SIOCINQ, SIOCOUTQ, -1, INT32_MIN};
static const int32_t A1[16] = {0, IPPROTO_UDP, IPPROTO_TCP, SO_REUSEADDR, SO_ERROR, SO_TYPE,
			       SO_LINGER, SO_RCVBUF, SO_SNDBUF, TCP_NODELAY, IP_TTL,
			       SO_KEEPALIVE, TCP_MAXSEG, TCP_INFO, SO_REUSEPORT, 9999};
static const int32_t A2[8] = {4, 0, 1, 8, NCS_CMD_DATA, NCS_CMD_DATA + 1, -1, INT32_MAX};
static const uint32_t ADDRS[4] = {0, OUR_IP, PEER_IP, 0x0a0000ffu};
static const uint16_t PORTS[8] = {0, 80, 5000, 5001, 7000, 9, 4000, 65535};
static const uint16_t UDP_PORTS[4] = {5000, 5001, 7000, 80};

/* The script, read byte by byte; past its end every byte is 0. */
struct script {
	const uint8_t *d;
	size_t n, i;
};

struct fuzz_env {
	struct stack *st;
	struct netif *nif;
	struct netdev *peer;
	struct nbuf_pool peer_pool;
	struct session *s;
	uint8_t *base;			/* the client's mapping */
	uint64_t size;
	struct ncs_header *hdr;
	uint8_t *guard;			/* netd's mapping sits at guard + GUARD */
	uint32_t pending;		/* slots the pull hook registers */
	bool fds_open[FD_SPAN];		/* before the input */
};

static struct loop loop;		/* one io_uring for every input */

static void fuzz_fail(const char *what, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_session: %s (%u, %u)\n", what, a, b);
	abort();
}

static uint8_t get8(struct script *s)
{
	return s->i < s->n ? s->d[s->i++] : 0;
}

static uint32_t get24(struct script *s)
{
	uint32_t v = get8(s);
	v = v << 8 | get8(s);
	return v << 8 | get8(s);
}

static uint32_t get32(struct script *s)
{
	uint32_t v = get24(s);
	return v << 8 | get8(s);
}

/* ---- the stack ---- */

static void fuzz_settle(struct fuzz_env *e)
{
	struct netdev *dev = e->nif->dev;
	unsigned rounds = 0;
	struct nbuf *nb;

	while (e->st->loopback.len || dev->ops->rx_pending(dev) || e->st->socks.ready) {
		if (++rounds > SETTLE_ROUNDS)
			fuzz_fail("the stack never goes idle", e->st->loopback.len, rounds);
		netif_poll(e->nif, 1024);
		ip_loopback_run(e->st);
		sock_run_ready(e->st);
	}
	netif_flush(e->nif);
	while ((nb = mem_take(e->peer)))
		nbuf_free(nb);
}

static void fuzz_advance(struct fuzz_env *e, uint64_t ns)
{
	struct stack *st = e->st;
	uint64_t end = stack_now(st) + ns;

	while (stack_now(st) < end) {
		int64_t next = timer_next(&st->timers, stack_now(st));
		uint64_t step = end - stack_now(st);
		if (next >= 0 && (uint64_t)next < step)
			step = MAX((uint64_t)next, TIMER_TICK_NS);
		clock_set(&st->clock, stack_now(st) + step);
		stack_run_timers(st);
		fuzz_settle(e);
	}
}

static void put_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	struct eth_hdr eh = {.type = type};
	memcpy(eh.dst, dst, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	eth_emit(f, &eh);
}

static void fuzz_learn_peer(struct fuzz_env *e)
{
	uint8_t f[ETH_HLEN + ARP_LEN];
	struct arp_pkt a = {.op = ARP_OP_REQUEST, .spa = PEER_IP, .tpa = OUR_IP};

	put_eth(f, eth_broadcast, ETHERTYPE_ARP);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	arp_emit(f + ETH_HLEN, &a);
	if (mem_inject(e->peer, f, sizeof(f)))
		fuzz_fail("cannot inject the peer's ARP request", 0, 0);
	fuzz_settle(e);
}

/* A UDP datagram from the peer's port 4000. */
static void fuzz_peer_udp(struct fuzz_env *e, uint16_t dport, size_t len)
{
	uint8_t f[ETH_HLEN + IPV4_HLEN + UDP_HLEN + MTU];
	uint8_t *udp = f + ETH_HLEN + IPV4_HLEN;
	struct udp_hdr uh = {.sport = 4000, .dport = dport};
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_UDP_, .src = PEER_IP, .dst = OUR_IP};

	len = MIN(len, (size_t)MTU - IPV4_HLEN - UDP_HLEN);
	for (size_t i = 0; i < len; i++)
		udp[UDP_HLEN + i] = (uint8_t)(i * 13 + len);
	udp_emit(udp, &uh, len, PEER_IP, OUR_IP);
	ih.total_len = (uint16_t)(IPV4_HLEN + UDP_HLEN + len);
	put_eth(f, our_mac, ETHERTYPE_IPV4);
	ipv4_emit(f + ETH_HLEN, &ih);
	(void)mem_inject(e->peer, f, (unsigned)(ETH_HLEN + ih.total_len));	/* pool dry: dropped */
	fuzz_settle(e);
}

static void fuzz_params(struct stack_params *p)
{
	stack_params_default(p);
	p->seed = 1;
	p->pool_small = 256;
	p->pool_medium = 2;
	p->pool_large = 2;
	p->neigh_entries = 8;
	p->reasm_queues = 4;
	p->max_routes = 4;
	p->max_sockets = 32;
}

static void fuzz_stack_create(struct fuzz_env *e)
{
	struct nbuf_pool_config pc = {
		.small_size = 2048, .small_count = 128, .large_size = 2048, .large_count = 1,
	};
	struct netdev_env env_stack, env_peer = {.pool = &e->peer_pool};
	struct stack_params p;
	struct netdev *dev;
	int err;

	fuzz_params(&p);
	e->st = stack_create(&p, true, &err);
	if (!e->st || nbuf_pool_init(&e->peer_pool, &pc))
		fuzz_fail("cannot build the stack", (unsigned)-err, 0);
	stack_dev_env(e->st, &env_stack, NULL);
	if (mem_pair_open(&env_stack, &env_peer, &dev, &e->peer))
		fuzz_fail("cannot open the mem pair", 0, 0);
	e->nif = netif_add(e->st, dev, our_mac, MTU);
	if (!e->nif || netif_add_addr(e->nif, OUR_IP, 24))
		fuzz_fail("cannot add the interface", 0, 0);
	netif_up(e->nif);
	fuzz_settle(e);		/* the gratuitous ARP */
	fuzz_learn_peer(e);
}

/* ---- the session and its region ---- */

static void register_slot(struct fuzz_env *e, uint32_t slot)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		fuzz_fail("eventfd", (unsigned)errno, 0);
	(void)session_register_slot(e->s, slot, efd);	/* a bad slot: closed, -EINVAL */
}

static void hook_pull(void *arg)
{
	struct fuzz_env *e = arg;
	for (uint32_t i = 0; i < 16; i++)
		if (e->pending & (1u << i))
			register_slot(e, i);
	e->pending = 0;
}

static void hook_broken(void *arg, const char *why)
{
	(void)arg;
	(void)why;
}

static uint64_t region_size(void)
{
	struct ncs_layout l = {.max_slots = SLOTS, .cmd_entries = NCS_CMD_ENTRIES,
			       .reply_entries = NCS_REPLY_ENTRIES, .data_ring_size = RING};
	ncs_layout_compute(&l);
	return l.size;
}

/* Leaves a hole the size of the region between two PROT_NONE pages; the
 * region's mapping, the next one made, most likely lands in it. */
static void guard_prepare(struct fuzz_env *e)
{
	uint64_t size = region_size();
	uint8_t *g = mmap(NULL, size + 2 * GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		fuzz_fail("cannot reserve the guard area", (unsigned)errno, 0);
	munmap(g + GUARD, size);
	e->guard = g;
}

/* Keeps the guard pages if netd's mapping is the one between them (a
 * cookie written through the client's mapping shows there); else lets
 * them go. The look goes through process_vm_readv, which fails rather
 * than faults on whatever else may sit there. */
static void guard_check(struct fuzz_env *e)
{
	static const char cookie[8] = "netd-fz";
	char seen[sizeof(cookie)];
	struct iovec local = {seen, sizeof(seen)};
	struct iovec remote = {((struct ncs_header *)(e->guard + GUARD))->pad, sizeof(seen)};

	memcpy(e->hdr->pad, cookie, sizeof(cookie));
	bool same = process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == sizeof(seen) &&
		    memcmp(seen, cookie, sizeof(seen)) == 0;
	memset(e->hdr->pad, 0, sizeof(cookie));
	if (same)
		return;
	munmap(e->guard, GUARD);
	munmap(e->guard + GUARD + e->size, GUARD);
	e->guard = NULL;
}

static void guard_release(struct fuzz_env *e)
{
	if (!e->guard)
		return;
	munmap(e->guard, GUARD);
	munmap(e->guard + GUARD + e->size, GUARD);
}

static void fuzz_session_create(struct fuzz_env *e, uint8_t cfg)
{
	struct ctl_config c;
	uid_t uid = (cfg & 1) ? 0 : 1000;
	struct session_peer peer = {.pid = getpid(), .uid = uid, .gid = uid,
				    .bind_privileged = uid == 0, .program = "fuzz_session"};
	struct session_hooks hooks = {.pull_messages = hook_pull, .broken = hook_broken, .arg = e};
	int err;

	ctl_config_default(&c);
	c.client_max_sockets = SLOTS;
	c.client_ring_size = RING;
	guard_prepare(e);
	e->s = session_create(e->st, &loop, &c, &peer, &hooks, &err);
	if (!e->s)
		fuzz_fail("cannot create the session", (unsigned)-err, 0);
	e->size = session_region_size(e->s);
	if (e->size != region_size())
		fuzz_fail("region size", (unsigned)e->size, (unsigned)region_size());
	e->base = mmap(NULL, e->size, PROT_READ | PROT_WRITE, MAP_SHARED, session_memfd(e->s), 0);
	if (e->base == MAP_FAILED)
		fuzz_fail("cannot map the region", (unsigned)errno, 0);
	e->hdr = (struct ncs_header *)e->base;
	guard_check(e);
}

static struct ncs_slot *slot_shm(struct fuzz_env *e, unsigned i)
{
	return (struct ncs_slot *)(e->base + e->hdr->slot_off) + (i % SLOTS);
}

static uint8_t *rx_area(struct fuzz_env *e, unsigned i)
{
	return e->base + e->hdr->data_off + (uint64_t)(i % SLOTS) * 2 * RING;
}

static uint8_t *tx_area(struct fuzz_env *e, unsigned i)
{
	return rx_area(e, i) + RING;
}

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static bool take_flag(uint32_t *flag)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_exchange_n(flag, 0, __ATOMIC_ACQ_REL) != 0;
}

/* The client's head is what it last published: the input may have set it. */
static void post(struct fuzz_env *e, const struct ncs_cmd *c)
{
	uint32_t head = load(&e->hdr->cmd.head);
	struct ncs_cmd *ring = (struct ncs_cmd *)(e->base + e->hdr->cmd_off);
	memcpy(&ring[head & (NCS_CMD_ENTRIES - 1)], c, sizeof(*c));
	store(&e->hdr->cmd.head, head + 1);
}

static void post_op(struct fuzz_env *e, uint16_t op, uint32_t slot, uint16_t reply)
{
	post(e, &(struct ncs_cmd){.op = op, .reply = reply, .slot = slot});
}

/* What only the client writes: the command ring and its head, the tx
 * rings. netd must leave them as they are. */
static uint8_t client_bytes[NCS_CMD_ENTRIES * sizeof(struct ncs_cmd) + SLOTS * RING];

static void client_bytes_copy(struct fuzz_env *e, uint8_t *out)
{
	memcpy(out, e->base + e->hdr->cmd_off, NCS_CMD_ENTRIES * sizeof(struct ncs_cmd));
	out += NCS_CMD_ENTRIES * sizeof(struct ncs_cmd);
	for (unsigned i = 0; i < SLOTS; i++, out += RING)
		memcpy(out, tx_area(e, i), RING);
}

static void fuzz_run(struct fuzz_env *e, unsigned t)
{
	static uint8_t after[sizeof(client_bytes)];
	uint32_t head = load(&e->hdr->cmd.head);

	client_bytes_copy(e, client_bytes);
	session_run(e->s);
	fuzz_settle(e);
	if (t)
		fuzz_advance(e, t < 16 ? MSEC(t * 10) : SEC(t - 15));
	client_bytes_copy(e, after);
	if (memcmp(after, client_bytes, sizeof(after)) || load(&e->hdr->cmd.head) != head)
		fuzz_fail("netd wrote where only the client writes", head, 0);
}

/* ---- the records ---- */

static void rec_raw_cmd(struct fuzz_env *e, struct script *sc)
{
	uint8_t rec[sizeof(struct ncs_cmd)];
	for (size_t i = 0; i < sizeof(rec); i++)
		rec[i] = get8(sc);
	post(e, (const struct ncs_cmd *)rec);
}

static void addr_port(uint8_t y, uint32_t *addr, uint16_t *port)
{
	*addr = ADDRS[(y >> 3) & 3];
	*port = PORTS[y >> 5];
}

static void rec_shaped_cmd(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	uint8_t s = get8(sc), x = get8(sc), y = get8(sc);
	int32_t v = (int8_t)get8(sc);
	struct ncs_cmd c = {.op = op & 0x1f, .slot = s & 7u,
			    .a = {A0[x & 15], A1[x >> 4], A2[y & 7]}};
	unsigned r = s >> 3;
	c.reply = r == 31 ? NCS_NO_REPLY : r == 30 ? NCS_REPLY_ENTRIES : (uint16_t)r;
	addr_port(y, &c.addr, &c.port);
	memcpy(c.data, &v, sizeof(v));
	if (c.a[1] == SO_LINGER) {	/* a struct linger: on, v seconds */
		int32_t l[2] = {1, v & 0x7f};
		memcpy(c.data, l, sizeof(l));
	}
	post(e, &c);
}

static void rec_write(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	uint64_t start[4] = {e->hdr->slot_off, e->hdr->data_off, e->hdr->cmd_off,
			     e->hdr->reply_off};
	uint64_t len[4] = {(uint64_t)SLOTS * sizeof(struct ncs_slot), (uint64_t)SLOTS * 2 * RING,
			   (uint64_t)NCS_CMD_ENTRIES * sizeof(struct ncs_cmd),
			   (uint64_t)NCS_REPLY_ENTRIES * sizeof(struct ncs_reply)};
	unsigned a = op & 3;
	uint64_t off = get24(sc) % len[a];
	unsigned n = get8(sc);
	for (unsigned i = 0; i < n; i++) {
		uint8_t b = get8(sc);
		if (off + i < len[a])
			e->base[start[a] + off + i] = b;
	}
}

static void rec_index(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	struct ncs_slot *sh = slot_shm(e, op & 3);
	uint32_t *fields[8] = {&sh->rx.tail, &sh->tx.head, &sh->rx.consumer_waiting,
			       &sh->tx.producer_waiting, &sh->wake_mask, &e->hdr->cmd.head,
			       &e->hdr->cmd.producer_waiting, &sh->tx.consumer_waiting};
	uint32_t *f = fields[(op >> 2) & 7];
	uint8_t d = get8(sc);
	if (d == 0x80)
		store(f, get32(sc));
	else
		store(f, load(f) + (uint32_t)((int8_t)(uint8_t)(d << 1) / 2));
}

static void rec_register(struct fuzz_env *e, uint8_t op)
{
	uint32_t slot = op & 15;
	if (op & 0x10)
		e->pending |= 1u << slot;
	else
		register_slot(e, slot);
}

/* The tx ring's free bytes as the client sees them, bounded by the ring. */
static uint32_t tx_space(struct ncs_slot *sh)
{
	uint32_t used = load(&sh->tx.head) - load(&sh->tx.tail);
	return used > RING ? 0 : RING - used;
}

static void tx_publish(struct fuzz_env *e, unsigned slot, uint32_t head)
{
	struct ncs_slot *sh = slot_shm(e, slot);
	store(&sh->tx.head, head);
	if (take_flag(&sh->tx.consumer_waiting))
		post_op(e, NCS_OP_TX, slot, NCS_NO_REPLY);
}

static void act_dgram(struct fuzz_env *e, struct script *sc, unsigned slot)
{
	struct ncs_slot *sh = slot_shm(e, slot);
	uint8_t payload[255];
	uint32_t len = get8(sc), head = load(&sh->tx.head);
	struct ncs_dgram d = {.len = len, .flags = NCS_DGRAM_TO};
	addr_port(get8(sc), &d.addr, &d.port);
	if (ncs_dgram_space(len) > tx_space(sh))
		return;
	for (uint32_t i = 0; i < len; i++)
		payload[i] = (uint8_t)i;
	ncs_ring_copy(tx_area(e, slot), RING, head, &d, sizeof(d), 1);
	ncs_ring_copy(tx_area(e, slot), RING, head + sizeof(d), payload, len, 1);
	tx_publish(e, slot, head + ncs_dgram_space(len));
}

static void act_stream(struct fuzz_env *e, struct script *sc, unsigned slot)
{
	static uint8_t bytes[255 * 16];
	struct ncs_slot *sh = slot_shm(e, slot);
	uint32_t want = (uint32_t)get8(sc) * 16, space = tx_space(sh);
	uint32_t len = MIN(want, space), head = load(&sh->tx.head);
	for (uint32_t i = 0; i < len; i++)
		bytes[i] = (uint8_t)(head + i);
	ncs_ring_copy(tx_area(e, slot), RING, head, bytes, len, 1);
	tx_publish(e, slot, head + len);
}

static void rx_done(struct fuzz_env *e, unsigned slot, uint32_t tail)
{
	struct ncs_slot *sh = slot_shm(e, slot);
	store(&sh->rx.tail, tail);
	if (take_flag(&sh->rx.producer_waiting))
		post_op(e, NCS_OP_RX, slot, NCS_NO_REPLY);
}

/* One record of the rx ring, read as the library reads it: checked. */
static void act_read_dgram(struct fuzz_env *e, unsigned slot)
{
	static uint8_t buf[NCS_DGRAM_MAX];
	struct ncs_slot *sh = slot_shm(e, slot);
	uint32_t tail = load(&sh->rx.tail), used = load(&sh->rx.head) - tail;
	struct ncs_dgram d;
	if (used < sizeof(d) || used > RING)
		return;
	ncs_ring_copy(rx_area(e, slot), RING, tail, &d, sizeof(d), 0);
	if (d.len > NCS_DGRAM_MAX || ncs_dgram_space(d.len) > used)
		return;
	ncs_ring_copy(rx_area(e, slot), RING, tail + sizeof(d), buf, d.len, 0);
	rx_done(e, slot, tail + ncs_dgram_space(d.len));
}

static void rec_act(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	unsigned slot = op & 3;
	switch ((op >> 2) & 7) {
	case 0: act_dgram(e, sc, slot); break;
	case 1: act_stream(e, sc, slot); break;
	case 2: rx_done(e, slot, load(&slot_shm(e, slot)->rx.head)); break;
	case 3: act_read_dgram(e, slot); break;
	case 4: post_op(e, NCS_OP_TX, slot, NCS_NO_REPLY); break;
	case 5: post_op(e, NCS_OP_RX, slot, NCS_NO_REPLY); break;
	case 6:
		(void)session_prepare_sleep(e->s);
		session_woken(e->s);
		break;
	default: post_op(e, NCS_OP_CLOSE, slot, 0); break;
	}
}

static void fuzz_record(struct fuzz_env *e, struct script *sc)
{
	uint8_t op = get8(sc);
	switch (op >> 5) {
	case 0: rec_raw_cmd(e, sc); break;
	case 1: rec_shaped_cmd(e, sc, op); break;
	case 2: rec_write(e, sc, op); break;
	case 3: rec_index(e, sc, op); break;
	case 4: fuzz_run(e, op & 0x1f); break;
	case 5: rec_register(e, op); break;
	case 6: fuzz_peer_udp(e, UDP_PORTS[op & 3], (size_t)get8(sc) * (((op >> 2) & 7) + 1)); break;
	default: rec_act(e, sc, op); break;
	}
}

/* ---- the end of an input ---- */

static void fds_note(bool *open)
{
	for (int fd = 0; fd < FD_SPAN; fd++)
		open[fd] = fcntl(fd, F_GETFD) >= 0;
}

static void fuzz_finish(struct fuzz_env *e)
{
	uint64_t limit = stack_now(e->st) + FLUSH_LIMIT_NS;

	session_destroy(e->s);
	loop_settle(&loop);	/* frees the session: nothing after may reach it */
	if (loop.unwatching)
		fuzz_fail("the session's doorbell watch never ended", loop.unwatching, 0);
	fuzz_settle(e);
	while (e->st->socks.used && stack_now(e->st) < limit)
		fuzz_advance(e, SEC(60));
	if (e->st->socks.used)
		fuzz_fail("sockets outlive the session and every timer", e->st->socks.used, 0);
	unsigned used = nbuf_pool_in_use(&e->st->pool);
	unsigned held = stack_held_buffers(e->st) + mem_rx_queued(e->nif->dev);
	if (used != held)
		fuzz_fail("stack buffers out of the pool vs held", used, held);
	if (nbuf_pool_in_use(&e->peer_pool))
		fuzz_fail("peer buffers not freed", nbuf_pool_in_use(&e->peer_pool), 0);
	munmap(e->base, e->size);
	guard_release(e);
	bool now[FD_SPAN];
	fds_note(now);
	for (int fd = 0; fd < FD_SPAN; fd++)
		if (now[fd] && !e->fds_open[fd])
			fuzz_fail("a file descriptor outlives the session", (unsigned)fd, 0);
}

static void fuzz_destroy(struct fuzz_env *e)
{
	stack_destroy(e->st);	/* also destroys the peer end's partner */
	netdev_destroy(e->peer);
	nbuf_pool_destroy(&e->peer_pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct fuzz_env e;
	struct script sc = {.d = data, .n = size};

	memset(&e, 0, sizeof(e));
	fuzz_stack_create(&e);
	if (!ready) {
		log_init(1, LOG_LVL_ERR);
		if (loop_init(&loop, e.st))
			fuzz_fail("cannot create the loop", 0, 0);
		ready = true;
	}
	loop.st = e.st;
	fds_note(e.fds_open);
	fuzz_session_create(&e, get8(&sc));
	while (sc.i < sc.n)
		fuzz_record(&e, &sc);
	fuzz_finish(&e);
	fuzz_destroy(&e);
	return 0;
}
