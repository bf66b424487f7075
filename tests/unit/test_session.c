/*
 * test_session.c: netd's side of a client session (netd/session.c), run
 * in-process. The test maps the session's region as the client library
 * does and plays the client: it posts command records, fills the slots'
 * tx rings and drains their rx rings, while netd serves the session on
 * the harness stack (virtual clock, the in-memory peer 10.0.0.1).
 *
 * What it checks: commands through the ring give what the socket calls
 * give; datagrams go between the rings and the peer, bytes between two
 * slots connected over netd's own address (its loopback); the eventfd is
 * written when the client asked for it and only then; a client that
 * breaks the protocol has its session ended (the broken hook) without
 * netd writing outside the region, and a record is read once, so
 * rewriting it afterwards changes nothing; ending a session closes its
 * sockets as a dead process's are closed (FIN, or RST over unread data).
 * Every teardown frees the session through the loop and checks that no
 * buffer leaked.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "netd/ctl.h"
#include "netd/loop.h"
#include "netd/session.h"
#include "netd/tcp.h"
#include "netd/wire/udp.h"
#include "proto/shm.h"
#include "tests/harness.h"

#define MAX_SLOTS 8
#define RING 65536u		/* bytes per direction per slot */
#define DGRAM_RING 131072u	/* holds a whole NCS_DGRAM_MAX record */
#define REPLY 7			/* the reply record call() uses */

/* The client's side of one session. */
struct client {
	struct session *s;
	uint8_t *base;			/* the client's own mapping */
	uint64_t size;
	struct ncs_header *hdr;
	uint32_t cmd_head;		/* the client's: the command ring's producer index */
	uint32_t tx_head[MAX_SLOTS];	/* the client's: each tx ring's producer index */
	uint32_t rx_tail[MAX_SLOTS];	/* the client's: each rx ring's consumer index */
	int efd[MAX_SLOTS];		/* the test's copy of each slot's eventfd */
	int netd_efd[MAX_SLOTS];	/* the descriptor netd took */
	unsigned broken, pulls;
	char why[128];
	void (*on_pull)(struct client *c);	/* what the pull hook does */
};

static struct harness h;
static struct loop loop;
static struct client cl, cl2;

/* ---- the session's hooks ---- */

static void hook_broken(void *arg, const char *why)
{
	struct client *c = arg;
	c->broken++;
	snprintf(c->why, sizeof(c->why), "%s", why);
}

static void hook_pull(void *arg)
{
	struct client *c = arg;
	c->pulls++;
	if (c->on_pull)
		c->on_pull(c);
}

/* ---- the client ---- */

static void client_open(struct client *c, uid_t uid, unsigned ring)
{
	struct ctl_config cfg;
	struct session_peer peer = {.pid = getpid(), .uid = uid, .gid = uid,
				    .bind_privileged = uid == 0};
	struct session_hooks hooks = {.pull_messages = hook_pull, .broken = hook_broken,
				      .arg = c};
	int err = 1;

	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		c->efd[i] = c->netd_efd[i] = -1;
	snprintf(peer.program, sizeof(peer.program), "test_session");
	ctl_config_default(&cfg);
	cfg.client_max_sockets = MAX_SLOTS;
	cfg.client_ring_size = ring;
	c->s = session_create(h.st, &loop, &cfg, &peer, &hooks, &err);
	ck_assert_ptr_nonnull(c->s);
	ck_assert_int_eq(err, 0);
	c->size = session_region_size(c->s);
	c->base = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, session_memfd(c->s), 0);
	ck_assert(c->base != MAP_FAILED);
	c->hdr = (struct ncs_header *)c->base;
	ck_assert_uint_eq(c->hdr->magic, NCS_MAGIC);
	ck_assert_uint_eq(c->hdr->version, NCS_VERSION);
	ck_assert_uint_eq(c->hdr->size, c->size);
	ck_assert_uint_eq(c->hdr->max_slots, MAX_SLOTS);
	ck_assert_uint_eq(c->hdr->data_ring_size, ring);
	ck_assert_uint_eq(c->hdr->netd_state, NCS_NETD_RUNNING);
}

/* Ends the session as a client's exit does, and lets the loop deliver
 * the doorbell watch's last callback, which frees the session: whatever
 * runs after this must not reach it. */
static void client_close(struct client *c)
{
	if (!c->s)
		return;
	session_destroy(c->s);
	c->s = NULL;
	loop_settle(&loop);
	ck_assert_uint_eq(loop.unwatching, 0);
	munmap(c->base, c->size);
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		if (c->efd[i] >= 0)
			close(c->efd[i]);
}

static struct ncs_slot *slot_shm(struct client *c, unsigned i)
{
	return (struct ncs_slot *)(c->base + c->hdr->slot_off) + i;
}

static uint8_t *rx_area(struct client *c, unsigned i)
{
	return c->base + c->hdr->data_off + (uint64_t)i * 2 * c->hdr->data_ring_size;
}

static uint8_t *tx_area(struct client *c, unsigned i)
{
	return rx_area(c, i) + c->hdr->data_ring_size;
}

static struct ncs_reply *reply(struct client *c, unsigned i)
{
	return (struct ncs_reply *)(c->base + c->hdr->reply_off) + i;
}

static struct ncs_cmd *cmd_record(struct client *c, uint32_t pos)
{
	return (struct ncs_cmd *)(c->base + c->hdr->cmd_off) + (pos & (c->hdr->cmd_entries - 1));
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

/* Writes a record at head, then publishes head. */
static void post(struct client *c, const struct ncs_cmd *cmd)
{
	memcpy(cmd_record(c, c->cmd_head), cmd, sizeof(*cmd));
	store(&c->hdr->cmd.head, ++c->cmd_head);
}

/* netd's turn: the command ring, then the stack until it is idle (what
 * the loop does: loopback, owners' wakeups, transmit). */
static bool run(struct client *c)
{
	bool worked = session_run(c->s);
	(void)harness_pending(&h);
	return worked;
}

/* A blocking call: the command with reply record REPLY, served. */
static struct ncs_reply *call(struct client *c, struct ncs_cmd cmd)
{
	struct ncs_reply *r = reply(c, REPLY);
	memset(r, 0, sizeof(*r));
	r->state = NCS_REPLY_PENDING;
	cmd.reply = REPLY;
	post(c, &cmd);
	ck_assert(run(c));
	ck_assert_uint_eq(load(&r->state), NCS_REPLY_DONE);
	ck_assert_uint_eq(load(&c->hdr->cmd.tail), c->cmd_head);
	return r;
}

static int call_result(struct client *c, struct ncs_cmd cmd)
{
	return call(c, cmd)->result;
}

/* Hands netd an eventfd for slot, as the control socket does. */
static void register_slot(struct client *c, unsigned slot)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(efd, 0);
	if (c->efd[slot] >= 0)
		close(c->efd[slot]);
	c->efd[slot] = dup(efd);
	ck_assert_int_ge(c->efd[slot], 0);
	c->netd_efd[slot] = efd;
	ck_assert_int_eq(session_register_slot(c->s, slot, efd), 0);
	c->tx_head[slot] = c->rx_tail[slot] = 0;
}

static void open_slot(struct client *c, unsigned slot, int type)
{
	register_slot(c, slot);
	ck_assert_int_eq(call_result(c, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = slot,
							  .a = {type, 0}}), 0);
	ck_assert_uint_eq(load(&slot_shm(c, slot)->flags) & NCS_SLOT_OPEN, NCS_SLOT_OPEN);
}

static void bind_slot(struct client *c, unsigned slot, uint32_t addr, uint16_t port)
{
	ck_assert_int_eq(call_result(c, (struct ncs_cmd){.op = NCS_OP_BIND, .slot = slot,
							  .addr = addr, .port = port}), 0);
}

/* The eventfd's count (reading resets it); 0 when it was not written. */
static uint64_t eventfd_take(struct client *c, unsigned slot)
{
	uint64_t v = 0;
	if (read(c->efd[slot], &v, sizeof(v)) < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	return v;
}

/* Publishes the tx ring's head; a TX command if netd asked for one. */
static bool tx_publish(struct client *c, unsigned slot)
{
	struct ncs_slot *sh = slot_shm(c, slot);
	store(&sh->tx.head, c->tx_head[slot]);
	if (!take_flag(&sh->tx.consumer_waiting))
		return false;
	post(c, &(struct ncs_cmd){.op = NCS_OP_TX, .reply = NCS_NO_REPLY, .slot = slot});
	return true;
}

/* Queues a datagram record (not published). */
static void dgram_put(struct client *c, unsigned slot, uint32_t addr, uint16_t port,
		      const void *data, uint32_t len)
{
	uint32_t ring = c->hdr->data_ring_size;
	struct ncs_dgram d = {.len = len, .addr = addr, .port = port,
			      .flags = addr ? NCS_DGRAM_TO : 0};
	uint32_t used = c->tx_head[slot] - load(&slot_shm(c, slot)->tx.tail);
	ck_assert_uint_le(used + ncs_dgram_space(len), ring);
	ncs_ring_copy(tx_area(c, slot), ring, c->tx_head[slot], &d, sizeof(d), 1);
	ncs_ring_copy(tx_area(c, slot), ring, c->tx_head[slot] + sizeof(d), (void *)data, len, 1);
	c->tx_head[slot] += ncs_dgram_space(len);
}

/* Takes the next datagram record of the rx ring; false if it is empty. */
static bool dgram_get(struct client *c, unsigned slot, struct ncs_dgram *d, void *buf,
		      uint32_t cap)
{
	struct ncs_slot *sh = slot_shm(c, slot);
	uint32_t ring = c->hdr->data_ring_size, head = load(&sh->rx.head);
	if (head == c->rx_tail[slot])
		return false;
	ck_assert_uint_ge(head - c->rx_tail[slot], sizeof(*d));
	ncs_ring_copy(rx_area(c, slot), ring, c->rx_tail[slot], d, sizeof(*d), 0);
	ck_assert_uint_le(d->len, cap);
	ck_assert_uint_le(ncs_dgram_space(d->len), head - c->rx_tail[slot]);
	ncs_ring_copy(rx_area(c, slot), ring, c->rx_tail[slot] + sizeof(*d), buf, d->len, 0);
	c->rx_tail[slot] += ncs_dgram_space(d->len);
	store(&sh->rx.tail, c->rx_tail[slot]);
	if (take_flag(&sh->rx.producer_waiting))
		post(c, &(struct ncs_cmd){.op = NCS_OP_RX, .reply = NCS_NO_REPLY, .slot = slot});
	return true;
}

/* Bytes into a stream's tx ring, as many as fit; published. */
static uint32_t stream_put(struct client *c, unsigned slot, const uint8_t *buf, uint32_t len)
{
	uint32_t ring = c->hdr->data_ring_size;
	uint32_t used = c->tx_head[slot] - load(&slot_shm(c, slot)->tx.tail);
	uint32_t n = MIN(len, ring - used);
	ncs_ring_copy(tx_area(c, slot), ring, c->tx_head[slot], (void *)buf, n, 1);
	c->tx_head[slot] += n;
	tx_publish(c, slot);
	return n;
}

/* Bytes out of a stream's rx ring; an RX command if netd waits for room. */
static uint32_t stream_get(struct client *c, unsigned slot, uint8_t *buf, uint32_t cap)
{
	struct ncs_slot *sh = slot_shm(c, slot);
	uint32_t ring = c->hdr->data_ring_size, head = load(&sh->rx.head);
	uint32_t n = MIN(head - c->rx_tail[slot], cap);
	ck_assert_uint_le(head - c->rx_tail[slot], ring);
	ncs_ring_copy(rx_area(c, slot), ring, c->rx_tail[slot], buf, n, 0);
	c->rx_tail[slot] += n;
	store(&sh->rx.tail, c->rx_tail[slot]);
	if (n && take_flag(&sh->rx.producer_waiting))
		post(c, &(struct ncs_cmd){.op = NCS_OP_RX, .reply = NCS_NO_REPLY, .slot = slot});
	return n;
}

/* ---- the peer ---- */

/* A UDP datagram from the peer's sport to our dport. */
static void peer_udp(uint16_t sport, uint16_t dport, const void *data, size_t len)
{
	static uint8_t dgram[2048];
	struct frame f;
	struct udp_hdr uh = {.sport = sport, .dport = dport};
	ck_assert_uint_le(len + UDP_HLEN, sizeof(dgram));
	memcpy(dgram + UDP_HLEN, data, len);
	udp_emit(dgram, &uh, len, H_PEER_IP, H_OUR_IP);
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_UDP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	harness_inject(&h, f.b, build_ipv4(&f, h_our_mac, &ih, dgram, UDP_HLEN + len));
}

/* The next frame netd sent, as UDP; returns its payload. */
static const uint8_t *take_udp(struct frame *f, struct udp_hdr *uh, size_t *len)
{
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	ck_assert_uint_gt(harness_take(&h, f), 0);
	const uint8_t *p = frame_ipv4(f, &eh, &ih);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(ih.proto, IPPROTO_UDP_);
	ck_assert_uint_eq(ih.src, H_OUR_IP);
	ck_assert_uint_eq(ih.dst, H_PEER_IP);
	ck_assert_int_eq(udp_parse(p, ih.total_len - ih.hlen, ih.src, ih.dst, uh), 0);
	*len = uh->len - UDP_HLEN;
	return p + UDP_HLEN;
}

/* ---- fixtures ---- */

static void setup(void)
{
	harness_init(&h);
	harness_learn_peer(&h);
	ck_assert_int_eq(loop_init(&loop, h.st), 0);
	memset(&cl, 0, sizeof(cl));
	memset(&cl2, 0, sizeof(cl2));
}

static void teardown(void)
{
	client_close(&cl);
	client_close(&cl2);
	loop_settle(&loop);
	ck_assert_uint_eq(loop.unwatching, 0);	/* every session freed */
	loop_destroy(&loop);
	harness_teardown(&h);
}

/* ---- commands ---- */

/* One step of the same sequence on a ring socket and a netd socket. */
struct step {
	struct ncs_cmd cmd;
	int want;
};

/* What the command does, as the socket call the protocol names. */
static int direct(struct sock *sk, const struct ncs_cmd *c, struct ncs_reply *r)
{
	struct sock_addr a = {.addr = c->addr, .port = c->port}, got = {0};
	socklen_t len = (socklen_t)c->a[2];
	int err;
	memset(r, 0, sizeof(*r));
	switch (c->op) {
	case NCS_OP_BIND: return sock_bind(sk, &a);
	case NCS_OP_LISTEN: return sock_listen(sk, c->a[0]);
	case NCS_OP_CONNECT: return sock_connect(sk, c->a[0] ? NULL : &a);
	case NCS_OP_SHUTDOWN: return sock_shutdown(sk, c->a[0]);
	case NCS_OP_SETSOCKOPT: return sock_setsockopt(sk, c->a[0], c->a[1], c->data, len);
	case NCS_OP_GETSOCKOPT:
		err = sock_getsockopt(sk, c->a[0], c->a[1], r->data, &len);
		r->len = len;
		return err;
	case NCS_OP_GETNAME:
		err = c->a[0] ? sock_getpeername(sk, &got) : sock_getsockname(sk, &got);
		r->addr = got.addr;
		r->port = got.port;
		return err;
	case NCS_OP_IOCTL: return sock_ioctl(sk, (unsigned long)(uint32_t)c->a[0], &r->value);
	default: ck_abort_msg("no direct call for op %u", c->op);
	}
	return 0;
}

static struct ncs_cmd opt_cmd(uint16_t op, int level, int name, int value)
{
	struct ncs_cmd c = {.op = op, .a = {level, name, sizeof(int)}};
	memcpy(c.data, &value, sizeof(value));
	return c;
}

START_TEST(ring_commands_give_socket_call_results)
{
	const uint32_t far = IPV4(192, 0, 2, 1), bcast = IPV4(10, 0, 0, 255);
	const struct step steps[] = {
		{opt_cmd(NCS_OP_SETSOCKOPT, SOL_SOCKET, SO_REUSEADDR, 1), 0},
		{{.op = NCS_OP_BIND, .addr = far, .port = 5000}, -EADDRNOTAVAIL},
		{{.op = NCS_OP_BIND, .port = 80}, -EACCES},
		{{.op = NCS_OP_LISTEN, .a = {4}}, -EOPNOTSUPP},
		{{.op = NCS_OP_GETNAME, .a = {1}}, -ENOTCONN},
		{{.op = NCS_OP_CONNECT, .addr = bcast, .port = 9}, -EACCES},
		{{.op = NCS_OP_CONNECT, .addr = far, .port = 9}, -ENETUNREACH},
		{{.op = NCS_OP_BIND, .addr = H_OUR_IP, .port = 5000}, 0},
		{{.op = NCS_OP_BIND, .port = 5001}, -EINVAL},
		{{.op = NCS_OP_GETNAME}, 0},
		{opt_cmd(NCS_OP_GETSOCKOPT, SOL_SOCKET, SO_TYPE, 0), 0},
		{opt_cmd(NCS_OP_GETSOCKOPT, SOL_SOCKET, 9999, 0), -ENOPROTOOPT},
		{opt_cmd(NCS_OP_SETSOCKOPT, IPPROTO_IP, IP_TTL, 0), -EINVAL},
		{opt_cmd(NCS_OP_SETSOCKOPT, IPPROTO_IP, IP_TTL, 9), 0},
		{opt_cmd(NCS_OP_GETSOCKOPT, IPPROTO_IP, IP_TTL, 0), 0},
		{{.op = NCS_OP_CONNECT, .addr = H_PEER_IP, .port = 9}, 0},
		{{.op = NCS_OP_GETNAME, .a = {1}}, 0},
		{{.op = NCS_OP_IOCTL, .a = {SIOCINQ}}, 0},
		{{.op = NCS_OP_IOCTL, .a = {0x1234}}, -ENOTTY},
		{{.op = NCS_OP_SHUTDOWN, .a = {7}}, -EINVAL},
		{{.op = NCS_OP_SHUTDOWN, .a = {SHUT_WR}}, 0},
		{{.op = NCS_OP_CONNECT, .a = {1}}, 0},
		{{.op = NCS_OP_GETNAME, .a = {1}}, -ENOTCONN},
	};
	struct sock *sk;
	struct ncs_reply want;

	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 1000, &sk), 0);
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ncs_cmd c = steps[i].cmd;
		c.slot = 0;
		int direct_result = direct(sk, &c, &want);
		struct ncs_reply *r = call(&cl, c);
		ck_assert_msg(direct_result == steps[i].want, "step %u: direct %d", i,
			      direct_result);
		ck_assert_msg(r->result == steps[i].want, "step %u: ring %d", i, r->result);
		ck_assert_uint_eq(r->addr, want.addr);
		ck_assert_uint_eq(r->port, want.port);
		ck_assert_int_eq(r->value, want.value);
		ck_assert_uint_eq(r->len, want.len);
		ck_assert_mem_eq(r->data, want.data, want.len);
	}
	ck_assert_uint_eq(cl.broken, 0);
	sock_close(sk);
}
END_TEST

START_TEST(replies_carry_names_and_values)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	ck_assert_uint_eq(slot_shm(&cl, 0)->tcp_state, 0);
	bind_slot(&cl, 0, 0, 5000);
	struct ncs_reply *r = call(&cl, (struct ncs_cmd){.op = NCS_OP_GETNAME, .slot = 0});
	ck_assert_int_eq(r->result, 0);
	ck_assert_uint_eq(r->addr, 0);
	ck_assert_uint_eq(r->port, 5000);
	r = call(&cl, opt_cmd(NCS_OP_GETSOCKOPT, SOL_SOCKET, SO_TYPE, 0));
	ck_assert_int_eq(r->result, 0);
	ck_assert_uint_eq(r->len, sizeof(int));
	int type;
	memcpy(&type, r->data, sizeof(type));
	ck_assert_int_eq(type, SOCK_DGRAM);
	/* a short buffer gets what fits */
	struct ncs_cmd c = opt_cmd(NCS_OP_GETSOCKOPT, SOL_SOCKET, SO_TYPE, 0);
	c.a[2] = 1;
	r = call(&cl, c);
	ck_assert_int_eq(r->result, 0);
	ck_assert_uint_eq(r->len, 1);
	/* the reply goes to the record the client chose, and no other */
	struct ncs_reply *other = reply(&cl, 3);
	other->state = NCS_REPLY_PENDING;
	post(&cl, &(struct ncs_cmd){.op = NCS_OP_GETNAME, .reply = 3, .slot = 0});
	ck_assert(run(&cl));
	ck_assert_uint_eq(other->state, NCS_REPLY_DONE);
	ck_assert_uint_eq(other->port, 5000);
	ck_assert_uint_eq(reply(&cl, 4)->state, NCS_REPLY_FREE);
}
END_TEST

START_TEST(socket_types_and_slots_checked)
{
	client_open(&cl, 1000, RING);
	register_slot(&cl, 0);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 0,
							    .a = {SOCK_SEQPACKET}}),
			 -ESOCKTNOSUPPORT);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 0,
							    .a = {SOCK_DGRAM, IPPROTO_TCP}}),
			 -EPROTONOSUPPORT);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags, 0);
	ck_assert_uint_eq(session_socket_count(cl.s), 0);
	/* a failed SOCKET leaves the registration: the slot opens after all */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 0,
							    .a = {SOCK_DGRAM}}), 0);
	ck_assert_uint_eq(session_socket_count(cl.s), 1);
	/* a second SOCKET on an open slot */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 0,
							    .a = {SOCK_DGRAM}}), -EBADF);
	/* a slot with no eventfd: the hook is asked to pull registrations */
	unsigned pulls = cl.pulls;
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 1,
							    .a = {SOCK_DGRAM}}), -EBADF);
	ck_assert_uint_eq(cl.pulls, pulls + 1);
	ck_assert_uint_eq(slot_shm(&cl, 1)->flags, 0);
	/* slots never opened, or past the table */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_BIND, .slot = 2,
							    .port = 5000}), -EBADF);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_CLOSE, .slot = 2}), -EBADF);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = MAX_SLOTS,
							    .a = {SOCK_DGRAM}}), -EBADF);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_GETNAME,
							    .slot = 0xffffffffu}), -EBADF);
	/* registrations: a bad or busy slot is refused and its fd closed */
	int efd = eventfd(0, EFD_NONBLOCK);
	ck_assert_int_eq(session_register_slot(cl.s, MAX_SLOTS, efd), -EINVAL);
	ck_assert_int_eq(fcntl(efd, F_GETFD), -1);
	efd = eventfd(0, EFD_NONBLOCK);
	ck_assert_int_eq(session_register_slot(cl.s, 0, efd), -EINVAL);
	ck_assert_int_eq(fcntl(efd, F_GETFD), -1);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

START_TEST(privileged_ports_follow_the_peer)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_BIND, .slot = 0,
							    .port = 80}), -EACCES);
	client_open(&cl2, 0, RING);
	open_slot(&cl2, 0, SOCK_DGRAM);
	ck_assert_int_eq(call_result(&cl2, (struct ncs_cmd){.op = NCS_OP_BIND, .slot = 0,
							     .port = 80}), 0);
	/* the same peer, its socket as TCP */
	open_slot(&cl2, 1, SOCK_STREAM);
	ck_assert_int_eq(call_result(&cl2, (struct ncs_cmd){.op = NCS_OP_BIND, .slot = 1,
							     .port = 81}), 0);
}
END_TEST

/* The pull hook of the next test: the pending registration arrives, and
 * the client rewrites the record netd is serving. */
static void pull_and_rewrite(struct client *c)
{
	register_slot(c, 3);
	struct ncs_cmd *rec = cmd_record(c, c->cmd_head - 1);
	rec->op = NCS_OP_SOCKET;
	rec->slot = 5;
	rec->a[0] = SOCK_STREAM;
	rec->reply = 2;
	c->on_pull = NULL;
}

START_TEST(records_are_read_once)
{
	client_open(&cl, 1000, RING);
	register_slot(&cl, 5);
	cl.on_pull = pull_and_rewrite;
	reply(&cl, 1)->state = NCS_REPLY_PENDING;
	post(&cl, &(struct ncs_cmd){.op = NCS_OP_SOCKET, .reply = 1, .slot = 3,
				    .a = {SOCK_DGRAM}});
	ck_assert(run(&cl));
	ck_assert_uint_eq(cl.pulls, 1);
	/* netd did what the record said when it was read */
	ck_assert_uint_eq(reply(&cl, 1)->state, NCS_REPLY_DONE);
	ck_assert_int_eq(reply(&cl, 1)->result, 0);
	ck_assert_uint_eq(reply(&cl, 2)->state, NCS_REPLY_FREE);
	ck_assert_uint_eq(slot_shm(&cl, 3)->flags & (NCS_SLOT_OPEN | NCS_SLOT_STREAM),
			  NCS_SLOT_OPEN);
	ck_assert_uint_eq(slot_shm(&cl, 5)->flags, 0);
	ck_assert_uint_eq(session_socket_count(cl.s), 1);
	ck_assert_uint_eq(load(&cl.hdr->cmd.tail), cl.cmd_head);
}
END_TEST

START_TEST(close_frees_slot_port_and_eventfd)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	int netd_fd = cl.netd_efd[0];
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_CLOSE, .slot = 0}), 0);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags, 0);
	ck_assert_uint_eq(session_socket_count(cl.s), 0);
	ck_assert_int_eq(fcntl(netd_fd, F_GETFD), -1);	/* netd let go of it */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_GETNAME, .slot = 0}),
			 -EBADF);
	/* without a new registration the slot does not open */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SOCKET, .slot = 0,
							    .a = {SOCK_DGRAM}}), -EBADF);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);	/* the port was freed */
	ck_assert_uint_eq(h.st->socks.used, 1);
}
END_TEST

START_TEST(sleep_flag_and_pending_commands)
{
	client_open(&cl, 1000, RING);
	ck_assert_int_ge(session_doorbell(cl.s), 0);
	ck_assert_uint_eq(session_max_slots(cl.s), MAX_SLOTS);
	ck_assert(session_prepare_sleep(cl.s));
	ck_assert_uint_eq(cl.hdr->netd_sleeping, 1);	/* clients ring the doorbell */
	session_woken(cl.s);
	ck_assert_uint_eq(cl.hdr->netd_sleeping, 0);
	ck_assert(!run(&cl));	/* nothing to do */
	/* a command that arrived meanwhile keeps netd awake */
	post(&cl, &(struct ncs_cmd){.op = NCS_OP_NONE, .reply = NCS_NO_REPLY});
	ck_assert(!session_prepare_sleep(cl.s));
	session_woken(cl.s);
	ck_assert(run(&cl));
	ck_assert(session_prepare_sleep(cl.s));
	session_woken(cl.s);
}
END_TEST

/* ---- UDP through the rings ---- */

START_TEST(datagram_from_tx_ring_goes_out)
{
	struct frame f;
	struct udp_hdr uh;
	size_t len;

	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_CONNECTED, NCS_SLOT_CONNECTED);
	dgram_put(&cl, 0, H_PEER_IP, 4000, "hello, peer", 11);
	ck_assert(tx_publish(&cl, 0));	/* netd asked for the first TX at open */
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert(run(&cl));
	const uint8_t *p = take_udp(&f, &uh, &len);
	ck_assert_uint_eq(uh.sport, 5000);
	ck_assert_uint_eq(uh.dport, 4000);
	ck_assert_uint_eq(len, 11);
	ck_assert_mem_eq(p, "hello, peer", 11);
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_uint_eq(load(&slot_shm(&cl, 0)->tx.tail), cl.tx_head[0]);
	/* the ring ran dry: netd asks for the next TX again */
	ck_assert_uint_eq(slot_shm(&cl, 0)->tx.consumer_waiting, 1);
	/* two records, one command: two frames in order, a connected
	 * socket's record without an address goes to the peer */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_CONNECT, .slot = 0,
							    .addr = H_PEER_IP, .port = 4001}), 0);
	dgram_put(&cl, 0, H_PEER_IP, 4000, "one", 3);
	dgram_put(&cl, 0, 0, 0, "two!", 4);
	ck_assert(tx_publish(&cl, 0));
	run(&cl);
	p = take_udp(&f, &uh, &len);
	ck_assert_uint_eq(uh.dport, 4000);
	ck_assert_mem_eq(p, "one", 3);
	p = take_udp(&f, &uh, &len);
	ck_assert_uint_eq(uh.dport, 4001);
	ck_assert_uint_eq(len, 4);
	ck_assert_mem_eq(p, "two!", 4);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

START_TEST(datagram_errors_become_so_error)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	/* no address on an unconnected socket: EDESTADDRREQ, reported later */
	dgram_put(&cl, 0, 0, 0, "lost", 4);
	dgram_put(&cl, 0, H_PEER_IP, 4000, "sent", 4);
	ck_assert(tx_publish(&cl, 0));
	run(&cl);
	ck_assert_uint_eq(load(&slot_shm(&cl, 0)->tx.tail), cl.tx_head[0]);
	ck_assert_uint_eq(harness_pending(&h), 1);	/* the second one went */
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_ERROR, NCS_SLOT_ERROR);
	ck_assert_uint_eq(slot_shm(&cl, 0)->events & EPOLLERR, EPOLLERR);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SENDCHECK, .slot = 0}),
			 -EDESTADDRREQ);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_ERROR, 0);	/* taken */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SENDCHECK, .slot = 0}), 0);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

/* After SHUT_WR a datagram may not be sent (EPIPE, as Linux's
 * sock_alloc_send_pskb), but a pending error is reported first. */
START_TEST(sendcheck_after_shut_wr_is_epipe)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	dgram_put(&cl, 0, 0, 0, "lost", 4);	/* EDESTADDRREQ, pending */
	ck_assert(tx_publish(&cl, 0));
	run(&cl);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SHUTDOWN, .slot = 0,
							    .a = {SHUT_WR}}), -ENOTCONN);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SENDCHECK, .slot = 0}),
			 -EDESTADDRREQ);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SENDCHECK, .slot = 0}),
			 -EPIPE);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

/* Datagrams queued before an ICMP error arrives were accepted by sendto:
 * the pending error (reported by the next call) must not strand them, nor
 * the ones written after the error was read. */
START_TEST(pending_error_does_not_strand_datagrams)
{
	struct frame f, g;
	struct udp_hdr uh;
	size_t len;
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_CONNECT, .slot = 0,
			 .addr = H_PEER_IP, .port = 4000}), 0);
	dgram_put(&cl, 0, 0, 0, "one", 3);
	ck_assert(tx_publish(&cl, 0));
	run(&cl);
	take_udp(&f, &uh, &len);
	dgram_put(&cl, 0, 0, 0, "two", 3);
	ck_assert(tx_publish(&cl, 0));
	/* before netd serves the TX, the peer's port unreachable arrives */
	uint8_t icmp[8 + 20 + 8] = {0};
	struct icmp_hdr ih = {.type = 3, .code = 3};
	memcpy(icmp + 8, f.b + ETH_HLEN, 28);
	icmp_emit(icmp, sizeof(icmp), &ih);
	struct ipv4_hdr ip = {.ttl = 64, .proto = IPPROTO_ICMP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	harness_inject(&h, g.b, build_ipv4(&g, h_our_mac, &ip, icmp, sizeof(icmp)));
	run(&cl);
	ck_assert_uint_ne(slot_shm(&cl, 0)->flags & NCS_SLOT_ERROR, 0);
	const uint8_t *payload = take_udp(&f, &uh, &len);	/* "two" went out all the same */
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(payload, "two", 3);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SENDCHECK, .slot = 0}),
			 -ECONNREFUSED);
	dgram_put(&cl, 0, 0, 0, "three", 5);
	tx_publish(&cl, 0);
	run(&cl);
	take_udp(&f, &uh, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_uint_eq(slot_shm(&cl, 0)->tx.tail, cl.tx_head[0]);
}
END_TEST

START_TEST(tx_ring_wraps)
{
	uint8_t payload[1400], got[1400];
	struct frame f;
	struct udp_hdr uh;
	size_t len;
	unsigned sent = 0, received = 0;

	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	/* 100 records of 1416 bytes: record 92 straddles the ring's end */
	while (sent < 100) {
		for (unsigned k = 0; k < 10; k++, sent++) {
			memset(payload, (int)sent, sizeof(payload));
			payload[0] = (uint8_t)(sent >> 8);
			dgram_put(&cl, 0, H_PEER_IP, 4000, payload, sizeof(payload));
		}
		tx_publish(&cl, 0);
		run(&cl);
		while (harness_take(&h, &f)) {
			struct eth_hdr eh;
			struct ipv4_hdr ih;
			const uint8_t *p = frame_ipv4(&f, &eh, &ih);
			ck_assert_ptr_nonnull(p);
			ck_assert_int_eq(udp_parse(p, ih.total_len - ih.hlen, ih.src, ih.dst, &uh), 0);
			len = uh.len - UDP_HLEN;
			ck_assert_uint_eq(len, sizeof(got));
			memset(got, (int)received, sizeof(got));
			got[0] = (uint8_t)(received >> 8);
			ck_assert_mem_eq(p + UDP_HLEN, got, sizeof(got));
			received++;
		}
	}
	ck_assert_uint_gt(cl.tx_head[0], DGRAM_RING);
	ck_assert_uint_eq(received, 100);
	ck_assert_uint_eq(load(&slot_shm(&cl, 0)->tx.tail), cl.tx_head[0]);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

START_TEST(datagram_from_peer_lands_in_rx_ring)
{
	struct ncs_dgram d;
	char buf[64];

	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	/* the client waits for data: the eventfd is written */
	slot_shm(&cl, 0)->rx.consumer_waiting = 1;
	peer_udp(4000, 5000, "ping", 4);
	ck_assert_uint_gt(eventfd_take(&cl, 0), 0);
	ck_assert_uint_eq(slot_shm(&cl, 0)->rx.consumer_waiting, 0);	/* taken by netd */
	ck_assert(dgram_get(&cl, 0, &d, buf, sizeof(buf)));
	ck_assert_uint_eq(d.len, 4);
	ck_assert_uint_eq(d.addr, H_PEER_IP);
	ck_assert_uint_eq(d.port, 4000);
	ck_assert_mem_eq(buf, "ping", 4);
	ck_assert(!dgram_get(&cl, 0, &d, buf, sizeof(buf)));
	/* it moved whole into the ring: netd holds nothing of it */
	ck_assert_uint_eq(slot_shm(&cl, 0)->netd_rx_bytes, 0);
	ck_assert_uint_eq(slot_shm(&cl, 0)->events & EPOLLIN, 0);
	/* a client that did not ask is not woken */
	peer_udp(4001, 5000, "pong!", 5);
	ck_assert_uint_eq(eventfd_take(&cl, 0), 0);
	ck_assert(dgram_get(&cl, 0, &d, buf, sizeof(buf)));
	ck_assert_uint_eq(d.len, 5);
	ck_assert_uint_eq(d.port, 4001);
	ck_assert_mem_eq(buf, "pong!", 5);
	/* nothing more will come after SHUT_RD (ENOTCONN as on Linux, but
	 * the bits are set): the ring's end is the end */
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_RX_EOF, 0);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SHUTDOWN, .slot = 0,
							    .a = {SHUT_RD}}), -ENOTCONN);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_RX_EOF, NCS_SLOT_RX_EOF);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

START_TEST(full_rx_ring_leaves_datagrams_in_netd)
{
	uint8_t payload[1400], buf[1400];
	struct ncs_dgram d;
	const unsigned fit = DGRAM_RING / ncs_dgram_space(sizeof(payload));

	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	for (unsigned i = 0; i < fit + 2; i++) {
		memset(payload, (int)i, sizeof(payload));
		peer_udp(4000, 5000, payload, sizeof(payload));
	}
	struct ncs_slot *sh = slot_shm(&cl, 0);
	ck_assert_uint_eq(load(&sh->rx.head), fit * ncs_dgram_space(sizeof(payload)));
	ck_assert_uint_eq(sh->events & EPOLLIN, EPOLLIN);
	ck_assert_uint_eq(sh->netd_rx_bytes, sizeof(payload));
	ck_assert_uint_eq(sh->rx.producer_waiting, 1);
	/* a wake_mask with EPOLLIN: the change of events wakes the client */
	sh->wake_mask = EPOLLIN;
	unsigned got = 0;
	while (got < fit + 2) {
		ck_assert(dgram_get(&cl, 0, &d, buf, sizeof(buf)));	/* RX posted when asked */
		ck_assert_uint_eq(d.len, sizeof(buf));
		memset(payload, (int)got, sizeof(payload));
		ck_assert_mem_eq(buf, payload, sizeof(buf));
		got++;
		run(&cl);
	}
	ck_assert(!dgram_get(&cl, 0, &d, buf, sizeof(buf)));
	ck_assert_uint_eq(sh->events & EPOLLIN, 0);
	ck_assert_uint_eq(sh->netd_rx_bytes, 0);
	ck_assert_uint_gt(eventfd_take(&cl, 0), 0);	/* EPOLLIN went away */
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

/* ---- TCP through the rings, over netd's own address ---- */

/* Slot 0 of a listens on port; slot 1 of b connects to it; slot 2 of a
 * takes the connection. */
static void tcp_pair(struct client *a, struct client *b, uint16_t port)
{
	open_slot(a, 0, SOCK_STREAM);
	bind_slot(a, 0, 0, port);
	ck_assert_int_eq(call_result(a, (struct ncs_cmd){.op = NCS_OP_LISTEN, .slot = 0,
							  .a = {4}}), 0);
	ck_assert_uint_eq(slot_shm(a, 0)->flags & NCS_SLOT_LISTENING, NCS_SLOT_LISTENING);
	open_slot(b, 1, SOCK_STREAM);
	ck_assert_int_eq(call_result(b, (struct ncs_cmd){.op = NCS_OP_CONNECT, .slot = 1,
							  .addr = H_OUR_IP, .port = port}),
			 -EINPROGRESS);
	for (int i = 0; i < 10 && !(slot_shm(b, 1)->flags & NCS_SLOT_ESTABLISHED); i++)
		harness_advance(&h, 1);
	ck_assert_uint_eq(slot_shm(b, 1)->flags & (NCS_SLOT_CONNECTED | NCS_SLOT_ESTABLISHED),
			  NCS_SLOT_CONNECTED | NCS_SLOT_ESTABLISHED);
	ck_assert_uint_eq(slot_shm(a, 0)->events & EPOLLIN, EPOLLIN);
	ck_assert_uint_eq(slot_shm(a, 0)->tcp_state, TCP_LISTEN);
	ck_assert_uint_eq(slot_shm(b, 1)->tcp_state, TCP_ESTABLISHED);
	register_slot(a, 2);
	struct ncs_reply *r = call(a, (struct ncs_cmd){.op = NCS_OP_ACCEPT, .slot = 0, .a = {2}});
	ck_assert_int_eq(r->result, 0);
	ck_assert_uint_eq(r->addr, H_OUR_IP);
	uint16_t peer_port = r->port;
	r = call(b, (struct ncs_cmd){.op = NCS_OP_GETNAME, .slot = 1});
	ck_assert_uint_eq(r->port, peer_port);
	ck_assert_uint_eq(slot_shm(a, 2)->flags & (NCS_SLOT_STREAM | NCS_SLOT_CONNECTED),
			  NCS_SLOT_STREAM | NCS_SLOT_CONNECTED);
	ck_assert_uint_eq(slot_shm(a, 0)->events & EPOLLIN, 0);
	ck_assert_int_eq(call_result(a, (struct ncs_cmd){.op = NCS_OP_ACCEPT, .slot = 0,
							  .a = {3}}), -EBADF);	/* 3 unregistered */
}

/* Moves n bytes from (from, fslot) to (to, tslot) through both rings. */
static void stream_transfer(struct client *from, unsigned fslot, struct client *to,
			    unsigned tslot, uint32_t n, uint8_t seed)
{
	uint8_t *src = malloc(n), *dst = malloc(n);
	uint32_t sent = 0, got = 0;
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(dst);
	for (uint32_t i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 31 + seed + (i >> 8));
	for (int rounds = 0; got < n && rounds < 2000; rounds++) {
		sent += stream_put(from, fslot, src + sent, n - sent);
		run(from);
		got += stream_get(to, tslot, dst + got, n - got);
		run(to);
		harness_advance(&h, 5);
	}
	ck_assert_uint_eq(got, n);
	ck_assert_mem_eq(dst, src, n);
	free(src);
	free(dst);
}

START_TEST(tcp_bytes_between_slots)
{
	client_open(&cl, 1000, RING);
	tcp_pair(&cl, &cl, 7000);
	ck_assert(stream_put(&cl, 1, (const uint8_t *)"hello, netd", 11) == 11);
	run(&cl);
	harness_advance(&h, 1);
	uint8_t buf[32];
	ck_assert_uint_eq(stream_get(&cl, 2, buf, sizeof(buf)), 11);
	ck_assert_mem_eq(buf, "hello, netd", 11);
	ck_assert_uint_eq(load(&slot_shm(&cl, 1)->tx.tail), cl.tx_head[1]);
	/* more than a ring's worth each way: the rings wrap, netd waits for
	 * room (RX) and for data (TX) */
	stream_transfer(&cl, 2, &cl, 1, 3 * RING + 1234, 1);
	stream_transfer(&cl, 1, &cl, 2, 2 * RING + 77, 2);
	ck_assert_uint_eq(cl.broken, 0);
	/* SHUT_WR: the other side sees the end after the bytes, and the
	 * change of state wakes a client that asked for NCS_WAKE_STATE */
	ck_assert_uint_eq(slot_shm(&cl, 2)->tcp_state, TCP_ESTABLISHED);
	slot_shm(&cl, 2)->wake_mask = NCS_WAKE_STATE;
	(void)eventfd_take(&cl, 2);
	ck_assert(stream_put(&cl, 1, (const uint8_t *)"bye", 3) == 3);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_SHUTDOWN, .slot = 1,
							    .a = {SHUT_WR}}), 0);
	harness_advance(&h, 1);
	ck_assert_uint_eq(slot_shm(&cl, 1)->flags & NCS_SLOT_CONNECTED, 0);
	ck_assert_uint_eq(stream_get(&cl, 2, buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "bye", 3);
	ck_assert_uint_eq(slot_shm(&cl, 2)->flags & NCS_SLOT_RX_EOF, NCS_SLOT_RX_EOF);
	ck_assert_uint_eq(slot_shm(&cl, 2)->tcp_state, TCP_CLOSE_WAIT);
	harness_advance(&h, 200);	/* the FIN's ACK, delayed */
	ck_assert_uint_eq(slot_shm(&cl, 1)->tcp_state, TCP_FIN_WAIT2);
	ck_assert_uint_gt(eventfd_take(&cl, 2), 0);
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = NCS_OP_RECVCHECK, .slot = 2}), 0);
}
END_TEST

START_TEST(tcp_full_tx_ring_wakes_writer)
{
	static uint8_t bytes[RING];
	client_open(&cl, 1000, RING);
	tcp_pair(&cl, &cl, 7000);
	struct ncs_slot *sh = slot_shm(&cl, 1);
	/* slot 2 does not read: its ring, its socket, then slot 1's send
	 * buffer and tx ring fill */
	for (int i = 0; i < 100 && cl.tx_head[1] - load(&sh->tx.tail) < RING; i++) {
		stream_put(&cl, 1, bytes, sizeof(bytes));
		run(&cl);
		harness_advance(&h, 10);
	}
	ck_assert_uint_eq(cl.tx_head[1] - load(&sh->tx.tail), RING);
	ck_assert_uint_eq(load(&slot_shm(&cl, 2)->rx.head), RING);
	/* the writer waits for room */
	(void)eventfd_take(&cl, 1);
	sh->tx.producer_waiting = 1;
	uint32_t tail = load(&sh->tx.tail);
	harness_advance(&h, 200);
	ck_assert_uint_eq(load(&sh->tx.tail), tail);	/* nothing moves by itself */
	ck_assert_uint_eq(eventfd_take(&cl, 1), 0);
	for (int i = 0; i < 100 && load(&sh->tx.tail) == tail; i++) {
		stream_get(&cl, 2, bytes, sizeof(bytes));
		run(&cl);
		harness_advance(&h, 10);
	}
	ck_assert_uint_gt(load(&sh->tx.tail) - tail, 0);
	ck_assert_uint_gt(eventfd_take(&cl, 1), 0);
	ck_assert_uint_eq(sh->tx.producer_waiting, 0);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

/* ---- a client that breaks the protocol ---- */

START_TEST(region_cannot_be_resized)
{
	client_open(&cl, 1000, RING);
	int fd = session_memfd(cl.s);
	/* a client that shrank the region would fault netd (SIGBUS) */
	ck_assert_int_eq(ftruncate(fd, 4096), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(ftruncate(fd, (off_t)cl.size * 2), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);	/* sealed for good */
	ck_assert_int_eq(errno, EPERM);
	int seals = fcntl(fd, F_GET_SEALS);
	ck_assert_int_eq(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

START_TEST(command_ring_overrun_ends_session)
{
	client_open(&cl, 1000, RING);
	register_slot(&cl, 0);
	/* exactly cmd_entries ahead is a full ring, which is legal */
	struct ncs_cmd nop = {.op = NCS_OP_NONE, .reply = NCS_NO_REPLY, .slot = 0};
	for (unsigned i = 0; i < cl.hdr->cmd_entries; i++)
		post(&cl, &nop);
	cl.hdr->cmd.producer_waiting = 1;
	while (load(&cl.hdr->cmd.tail) != cl.cmd_head)
		ck_assert(run(&cl));
	ck_assert_uint_eq(cl.broken, 0);
	ck_assert_uint_eq(cl.hdr->cmd.producer_waiting, 0);	/* woken and cleared */
	/* one more is not: nothing in it runs */
	uint32_t tail = cl.cmd_head;
	reply(&cl, 1)->state = NCS_REPLY_PENDING;
	for (unsigned i = 0; i <= cl.hdr->cmd_entries; i++)
		post(&cl, &(struct ncs_cmd){.op = NCS_OP_SOCKET, .reply = 1, .slot = 0,
					    .a = {SOCK_DGRAM}});
	ck_assert(!run(&cl));
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "command ring index out of range");
	ck_assert_uint_eq(load(&cl.hdr->cmd.tail), tail);
	ck_assert_uint_eq(reply(&cl, 1)->state, NCS_REPLY_PENDING);
	ck_assert_uint_eq(session_socket_count(cl.s), 0);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags, 0);
	/* a broken session stays broken, whatever the client does next */
	store(&cl.hdr->cmd.head, tail + 1);
	ck_assert(!run(&cl));
	ck_assert(session_prepare_sleep(cl.s));
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_uint_eq(session_socket_count(cl.s), 0);
}
END_TEST

START_TEST(tx_index_out_of_range_ends_session)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	struct ncs_slot *sh = slot_shm(&cl, 0);
	store(&sh->tx.head, DGRAM_RING + 1);
	post(&cl, &(struct ncs_cmd){.op = NCS_OP_TX, .reply = NCS_NO_REPLY, .slot = 0});
	run(&cl);
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "ring index out of range");
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_uint_eq(load(&sh->tx.tail), 0);
	/* later commands are not served */
	reply(&cl, 1)->state = NCS_REPLY_PENDING;
	post(&cl, &(struct ncs_cmd){.op = NCS_OP_GETNAME, .reply = 1, .slot = 0});
	ck_assert(!run(&cl));
	ck_assert_uint_eq(reply(&cl, 1)->state, NCS_REPLY_PENDING);
}
END_TEST

START_TEST(rx_tail_ahead_of_head_ends_session)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	struct ncs_slot *sh = slot_shm(&cl, 0);
	store(&sh->rx.tail, 64);	/* the client claims to have read unwritten bytes */
	peer_udp(4000, 5000, "data", 4);
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "ring index out of range");
	ck_assert_uint_eq(load(&sh->rx.head), 0);
	uint8_t zero[64] = {0};
	ck_assert_mem_eq(rx_area(&cl, 0), zero, sizeof(zero));
}
END_TEST

/* A datagram header, published as it stands, with used bytes in the ring. */
static void bad_dgram(struct client *c, uint32_t len, uint32_t used)
{
	struct ncs_dgram d = {.len = len, .addr = H_PEER_IP, .port = 4000, .flags = NCS_DGRAM_TO};
	memcpy(tx_area(c, 0), &d, sizeof(d) < used ? sizeof(d) : used);
	c->tx_head[0] = used;
	ck_assert(tx_publish(c, 0));
	run(c);
}

START_TEST(datagram_longer_than_max_ends_session)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	/* the ring holds it all, but no UDP datagram is this long */
	bad_dgram(&cl, NCS_DGRAM_MAX + 1, ncs_dgram_space(NCS_DGRAM_MAX + 1));
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "datagram longer than its ring holds");
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_uint_eq(load(&slot_shm(&cl, 0)->tx.tail), 0);
}
END_TEST

START_TEST(datagram_longer_than_ring_data_ends_session)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bad_dgram(&cl, 100, sizeof(struct ncs_dgram) + 50);
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "datagram longer than its ring holds");
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(datagram_header_cut_short_ends_session)
{
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bad_dgram(&cl, 0, 8);
	ck_assert_uint_eq(cl.broken, 1);
	ck_assert_str_eq(cl.why, "datagram header cut short");
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(largest_datagram_is_legal)
{
	static uint8_t big[NCS_DGRAM_MAX];
	client_open(&cl, 1000, DGRAM_RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	memset(big, 0xab, sizeof(big));
	dgram_put(&cl, 0, H_PEER_IP, 4000, big, sizeof(big));
	ck_assert(tx_publish(&cl, 0));
	run(&cl);
	ck_assert_uint_eq(cl.broken, 0);
	ck_assert_uint_eq(load(&slot_shm(&cl, 0)->tx.tail), cl.tx_head[0]);
	ck_assert_uint_gt(harness_pending(&h), 1);	/* fragments */
}
END_TEST

START_TEST(reply_index_out_of_range_writes_nothing)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 5000);
	size_t table = (size_t)cl.hdr->reply_entries * sizeof(struct ncs_reply);
	ck_assert_uint_eq(cl.hdr->reply_off + table, cl.hdr->slot_off);	/* slots follow */
	uint8_t *before = malloc(table + sizeof(struct ncs_slot));
	ck_assert_ptr_nonnull(before);
	memcpy(before, cl.base + cl.hdr->reply_off, table + sizeof(struct ncs_slot));
	const uint16_t bad[] = {(uint16_t)cl.hdr->reply_entries, 0x8000, NCS_NO_REPLY - 1};
	for (unsigned i = 0; i < 3; i++)
		post(&cl, &(struct ncs_cmd){.op = NCS_OP_GETNAME, .reply = bad[i], .slot = 0});
	ck_assert(run(&cl));
	ck_assert_mem_eq(cl.base + cl.hdr->reply_off, before, table + sizeof(struct ncs_slot));
	free(before);
	/* netd carries on */
	ck_assert_uint_eq(cl.broken, 0);
	ck_assert_uint_eq(call(&cl, (struct ncs_cmd){.op = NCS_OP_GETNAME, .slot = 0})->port, 5000);
}
END_TEST

START_TEST(unknown_ops_are_einval)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	const uint16_t ops[] = {NCS_OP_NONE, NCS_OP_MAX, NCS_OP_MAX + 1, 0xffff};
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = ops[i], .slot = 0}), -EINVAL);
	/* on a slot that is not open, the slot is checked first */
	ck_assert_int_eq(call_result(&cl, (struct ncs_cmd){.op = 0xffff, .slot = 1}), -EBADF);
	ck_assert_uint_eq(cl.broken, 0);
	ck_assert_uint_eq(slot_shm(&cl, 0)->flags & NCS_SLOT_OPEN, NCS_SLOT_OPEN);
}
END_TEST

START_TEST(option_lengths_checked)
{
	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	struct ncs_cmd c = opt_cmd(NCS_OP_SETSOCKOPT, IPPROTO_IP, IP_TTL, 9);
	const int32_t bad[] = {-1, INT32_MIN, NCS_CMD_DATA + 1, INT32_MAX};
	for (unsigned i = 0; i < 4; i++) {
		c.a[2] = bad[i];
		ck_assert_int_eq(call_result(&cl, c), -EINVAL);
	}
	c = opt_cmd(NCS_OP_GETSOCKOPT, IPPROTO_IP, IP_TTL, 0);
	c.a[2] = -1;
	ck_assert_int_eq(call_result(&cl, c), -EINVAL);
	/* nothing was set; a huge getsockopt length is cut to the reply's */
	c.a[2] = INT32_MAX;
	struct ncs_reply *r = call(&cl, c);
	ck_assert_int_eq(r->result, 0);
	ck_assert_uint_eq(r->len, sizeof(int));
	int ttl;
	memcpy(&ttl, r->data, sizeof(ttl));
	ck_assert_int_eq(ttl, 64);
	/* the whole inline area is usable: an int option reads its first bytes */
	c = opt_cmd(NCS_OP_SETSOCKOPT, IPPROTO_IP, IP_TTL, 9);
	c.a[2] = NCS_CMD_DATA;
	memset(c.data + sizeof(int), 0xff, sizeof(c.data) - sizeof(int));
	ck_assert_int_eq(call_result(&cl, c), 0);
	r = call(&cl, opt_cmd(NCS_OP_GETSOCKOPT, IPPROTO_IP, IP_TTL, 0));
	memcpy(&ttl, r->data, sizeof(ttl));
	ck_assert_int_eq(ttl, 9);
	ck_assert_uint_eq(cl.broken, 0);
}
END_TEST

/* ---- the end of a session ---- */

START_TEST(destroy_frees_ports)
{
	struct sock *sk;
	struct sock_addr a = {.port = 6000};

	client_open(&cl, 1000, RING);
	open_slot(&cl, 0, SOCK_DGRAM);
	open_slot(&cl, 1, SOCK_DGRAM);
	bind_slot(&cl, 0, 0, 6000);
	ck_assert_uint_eq(session_socket_count(cl.s), 2);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 1000, &sk), 0);
	ck_assert_int_eq(sock_bind(sk, &a), -EADDRINUSE);
	ck_assert_ptr_eq(session_sock_owner(sk), NULL);	/* netd's own */
	unsigned owned = 0;
	for (unsigned i = 0; i < h.st->socks.size; i++) {
		const struct session_peer *p = session_sock_owner(&h.st->socks.socks[i]);
		if (p) {
			ck_assert_uint_eq(p->uid, 1000);
			ck_assert_str_eq(p->program, "test_session");
			owned++;
		}
	}
	ck_assert_uint_eq(owned, 2);
	client_close(&cl);
	ck_assert_uint_eq(h.st->socks.used, 1);
	ck_assert_int_eq(sock_bind(sk, &a), 0);
	sock_close(sk);
}
END_TEST

START_TEST(destroy_resets_over_unread_data)
{
	uint8_t buf[16];

	client_open(&cl, 1000, RING);	/* the listener and its child */
	client_open(&cl2, 1000, RING);	/* the connecting side */
	tcp_pair(&cl, &cl2, 7000);
	ck_assert(stream_put(&cl2, 1, (const uint8_t *)"unread", 6) == 6);
	run(&cl2);
	harness_advance(&h, 1);
	ck_assert_uint_eq(load(&slot_shm(&cl, 2)->rx.head), 6);	/* in the ring, not read */
	uint64_t rsts = h.st->stats[STAT_TCP_OUT_RSTS];
	client_close(&cl);
	harness_advance(&h, 1);
	ck_assert_uint_gt(h.st->stats[STAT_TCP_OUT_RSTS], rsts);
	struct ncs_slot *sh = slot_shm(&cl2, 1);
	ck_assert_uint_eq(sh->flags & NCS_SLOT_ERROR, NCS_SLOT_ERROR);
	ck_assert_uint_eq(sh->flags & NCS_SLOT_CONNECTED, 0);
	struct ncs_cmd c = opt_cmd(NCS_OP_GETSOCKOPT, SOL_SOCKET, SO_ERROR, 0);
	c.slot = 1;
	struct ncs_reply *r = call(&cl2, c);
	ck_assert_int_eq(r->result, 0);
	int err;
	memcpy(&err, r->data, sizeof(err));
	ck_assert_int_eq(err, ECONNRESET);
	ck_assert_uint_eq(sh->flags & NCS_SLOT_ERROR, 0);	/* read and cleared */
	ck_assert_uint_eq(stream_get(&cl2, 1, buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(destroy_sends_fin_when_all_was_read)
{
	uint8_t buf[16];

	client_open(&cl, 1000, RING);
	client_open(&cl2, 1000, RING);
	tcp_pair(&cl, &cl2, 7000);
	ck_assert(stream_put(&cl2, 1, (const uint8_t *)"read", 4) == 4);
	run(&cl2);
	harness_advance(&h, 1);
	ck_assert_uint_eq(stream_get(&cl, 2, buf, sizeof(buf)), 4);
	/* bytes the client wrote before it died still go, before the FIN */
	ck_assert(stream_put(&cl, 2, (const uint8_t *)"last", 4) == 4);
	uint64_t rsts = h.st->stats[STAT_TCP_OUT_RSTS];
	client_close(&cl);
	harness_advance(&h, 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_OUT_RSTS], rsts);
	ck_assert_uint_eq(stream_get(&cl2, 1, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "last", 4);
	struct ncs_slot *sh = slot_shm(&cl2, 1);
	ck_assert_uint_eq(sh->flags & (NCS_SLOT_RX_EOF | NCS_SLOT_ERROR), NCS_SLOT_RX_EOF);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ring_commands_give_socket_call_results);
	tcase_add_test(tc, replies_carry_names_and_values);
	tcase_add_test(tc, socket_types_and_slots_checked);
	tcase_add_test(tc, privileged_ports_follow_the_peer);
	tcase_add_test(tc, records_are_read_once);
	tcase_add_test(tc, close_frees_slot_port_and_eventfd);
	tcase_add_test(tc, sleep_flag_and_pending_commands);
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, datagram_from_tx_ring_goes_out);
	tcase_add_test(tc, datagram_errors_become_so_error);
	tcase_add_test(tc, sendcheck_after_shut_wr_is_epipe);
	tcase_add_test(tc, pending_error_does_not_strand_datagrams);
	tcase_add_test(tc, tx_ring_wraps);
	tcase_add_test(tc, datagram_from_peer_lands_in_rx_ring);
	tcase_add_test(tc, full_rx_ring_leaves_datagrams_in_netd);
	tcase_add_test(tc, tcp_bytes_between_slots);
	tcase_add_test(tc, tcp_full_tx_ring_wakes_writer);
	tcase_add_test(tc, largest_datagram_is_legal);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, region_cannot_be_resized);
	tcase_add_test(tc, command_ring_overrun_ends_session);
	tcase_add_test(tc, tx_index_out_of_range_ends_session);
	tcase_add_test(tc, rx_tail_ahead_of_head_ends_session);
	tcase_add_test(tc, datagram_longer_than_max_ends_session);
	tcase_add_test(tc, datagram_longer_than_ring_data_ends_session);
	tcase_add_test(tc, datagram_header_cut_short_ends_session);
	tcase_add_test(tc, reply_index_out_of_range_writes_nothing);
	tcase_add_test(tc, unknown_ops_are_einval);
	tcase_add_test(tc, option_lengths_checked);
	suite_add_tcase(s, tc);

	tc = tcase_create("end");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, destroy_frees_ports);
	tcase_add_test(tc, destroy_resets_over_unread_data);
	tcase_add_test(tc, destroy_sends_fin_when_all_was_read);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
