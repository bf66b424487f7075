/*
 * session.c: client library sessions (session.h). The region's layout is
 * proto/shm.h's; this file is netd's side of its rings.
 *
 * Per slot, netd keeps privately the indices it owns (the rx ring's head,
 * the tx ring's tail) and the events and flags it last published, so it
 * never reads back what it wrote. Indices written by the client are loaded
 * once per use and checked against the ring's size.
 *
 * Data moves when something changes: a TX command (the client filled an
 * empty tx ring), an RX command (the client made room in a full rx ring),
 * or the socket's wakeup (data arrived, the send buffer drained, the state
 * changed). After each, the slot's events are published and the client is
 * woken if it asked to be.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "proto/shm.h"
#include "session.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "util.h"

#define SESSION_CMD_BUDGET 256	/* commands served per turn */

struct session_slot {
	struct session *s;
	uint32_t index;
	struct sock *sk;		/* NULL: free */
	int efd;			/* the client's eventfd, -1 until registered */
	uint32_t rx_head;		/* ours: the rx ring's producer index */
	uint32_t tx_tail;		/* ours: the tx ring's consumer index */
	uint32_t events, flags, state;	/* as last published */
	bool tx_blocked;		/* the socket's send buffer is full */
	struct ncs_slot *shm;
	uint8_t *rx_area, *tx_area;
};

struct session {
	struct stack *st;
	struct loop *loop;
	struct session_peer peer;
	struct session_hooks hooks;
	struct ncs_layout layout;
	int memfd, doorbell;
	struct loop_watch doorbell_watch;
	uint8_t *base;
	struct ncs_header *hdr;
	uint32_t cmd_tail;		/* ours: the command ring's consumer index */
	bool broken;
	unsigned nsockets;
	struct session_slot *slots;
	uint8_t scratch[NCS_DGRAM_MAX];	/* a datagram that wraps in its ring */
};

static void session_sock_wakeup(struct sock *sk, unsigned events);

/* ---- region and shared-memory primitives ---- */

static uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* True once: clears a waiting flag the other side set. */
static bool take_flag(uint32_t *flag)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(flag, __ATOMIC_RELAXED) &&
	       __atomic_exchange_n(flag, 0, __ATOMIC_ACQ_REL);
}

static void kick_eventfd(int fd)
{
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("eventfd write: %s", strerror(errno));
}

static void session_fail(struct session *s, const char *why)
{
	if (s->broken)
		return;
	s->broken = true;
	log_warn("client pid %d (%s): %s; ending its session", (int)s->peer.pid, s->peer.program,
		 why);
	if (s->hooks.broken)
		s->hooks.broken(s->hooks.arg, why);
}

static int session_map_region(struct session *s, const struct ctl_config *cfg)
{
	s->layout = (struct ncs_layout){
		.max_slots = cfg->client_max_sockets,
		.cmd_entries = NCS_CMD_ENTRIES,
		.reply_entries = NCS_REPLY_ENTRIES,
		.data_ring_size = cfg->client_ring_size,
	};
	ncs_layout_compute(&s->layout);
	s->memfd = memfd_create("netd-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->memfd < 0 || ftruncate(s->memfd, (off_t)s->layout.size) < 0)
		return -errno;
	if (fcntl(s->memfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -errno;
	s->base = mmap(NULL, s->layout.size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		return -errno;
	}
	/* pre-fault the control part; data rings fault in as they are used */
	madvise(s->base, s->layout.data_off, MADV_WILLNEED);
	memset(s->base, 0, s->layout.data_off);
	return 0;
}

static void session_init_header(struct session *s)
{
	struct ncs_header *h = s->hdr = (struct ncs_header *)s->base;
	h->magic = NCS_MAGIC;
	h->version = NCS_VERSION;
	h->size = s->layout.size;
	h->max_slots = s->layout.max_slots;
	h->cmd_entries = s->layout.cmd_entries;
	h->reply_entries = s->layout.reply_entries;
	h->data_ring_size = s->layout.data_ring_size;
	h->cmd_off = s->layout.cmd_off;
	h->reply_off = s->layout.reply_off;
	h->slot_off = s->layout.slot_off;
	h->data_off = s->layout.data_off;
	h->netd_state = NCS_NETD_RUNNING;
	for (uint32_t i = 0; i < s->layout.max_slots; i++) {
		struct session_slot *sl = &s->slots[i];
		sl->s = s;
		sl->index = i;
		sl->efd = -1;
		sl->shm = (struct ncs_slot *)(s->base + s->layout.slot_off) + i;
		sl->rx_area = s->base + ncs_rx_off(&s->layout, i);
		sl->tx_area = s->base + ncs_tx_off(&s->layout, i);
	}
}

static void doorbell_ready(struct loop_watch *w, int res)
{
	struct session *s = container_of(w, struct session, doorbell_watch);
	uint64_t v;
	if (res == -ECANCELED) {
		free(s->slots);
		free(s);
		return;
	}
	if (read(s->doorbell, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("doorbell read: %s", strerror(errno));
}

struct session *session_create(struct stack *st, struct loop *l, const struct ctl_config *cfg,
			       const struct session_peer *peer, const struct session_hooks *hooks,
			       int *err)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s || !(s->slots = calloc(cfg->client_max_sockets, sizeof(*s->slots)))) {
		free(s);
		*err = -ENOMEM;
		return NULL;
	}
	s->st = st;
	s->loop = l;
	s->peer = *peer;
	s->hooks = *hooks;
	s->doorbell = -1;
	*err = session_map_region(s, cfg);
	if (*err == 0 && (s->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		*err = -errno;
	if (*err == 0) {
		s->doorbell_watch = (struct loop_watch){.fd = s->doorbell, .fn = doorbell_ready};
		*err = loop_watch(l, &s->doorbell_watch);
	}
	if (*err) {
		if (s->base)
			munmap(s->base, s->layout.size);
		if (s->memfd >= 0)
			close(s->memfd);
		if (s->doorbell >= 0)
			close(s->doorbell);
		free(s->slots);
		free(s);
		return NULL;
	}
	session_init_header(s);
	return s;
}

int session_memfd(const struct session *s)
{
	return s->memfd;
}

int session_doorbell(const struct session *s)
{
	return s->doorbell;
}

uint64_t session_region_size(const struct session *s)
{
	return s->layout.size;
}

unsigned session_max_slots(const struct session *s)
{
	return s->layout.max_slots;
}

unsigned session_socket_count(const struct session *s)
{
	return s->nsockets;
}

int session_register_slot(struct session *s, uint32_t slot, int efd)
{
	if (slot >= s->layout.max_slots || s->slots[slot].sk) {
		close(efd);
		return -EINVAL;
	}
	/* a slot registered but never opened (a failed socket call, a
	 * listener's unused spare) may be registered again */
	if (s->slots[slot].efd >= 0)
		close(s->slots[slot].efd);
	s->slots[slot].efd = efd;
	return 0;
}

const struct session_peer *session_sock_owner(const struct sock *sk)
{
	if (sk->wakeup != session_sock_wakeup || !sk->owner)
		return NULL;
	return &((const struct session_slot *)sk->owner)->s->peer;
}

/* ---- publishing events ---- */

static bool tcp_synchronized_state(const struct sock *sk)
{
	int state = sk->tcp->state;
	return state != TCP_LISTEN && state != TCP_CLOSE && state != TCP_SYN_SENT &&
	       state != TCP_SYN_RECV;
}

/* May the client's bytes go out now (no FIN sent, no error pending)? */
static bool slot_sendable(const struct sock *sk)
{
	if (sk->err || (sk->shut & SOCK_SHUT_WR))
		return false;
	if (!sk->tcp)
		return true;
	return sk->tcp->state == TCP_ESTABLISHED || sk->tcp->state == TCP_CLOSE_WAIT;
}

static int netd_rx_bytes(struct sock *sk)
{
	int v = 0;
	if (sk->tcp && sk->tcp->state == TCP_LISTEN)
		return 0;
	return sock_ioctl(sk, SIOCINQ, &v) == 0 ? v : 0;
}

static uint32_t slot_flags(const struct sock *sk, unsigned ev, int rx_bytes)
{
	uint32_t f = NCS_SLOT_OPEN;
	if (sk->err)
		f |= NCS_SLOT_ERROR;
	if (slot_sendable(sk))
		f |= NCS_SLOT_CONNECTED;
	if (!sk->tcp) {
		if (rx_bytes == 0 && !sk->rxq.first && (sk->shut & SOCK_SHUT_RD))
			f |= NCS_SLOT_RX_EOF;
		return f;
	}
	f |= NCS_SLOT_STREAM;
	if (sk->tcp->state == TCP_LISTEN)
		f |= NCS_SLOT_LISTENING;
	if (sk->tcp->state == TCP_SYN_SENT || sk->tcp->state == TCP_SYN_RECV)
		f |= NCS_SLOT_CONNECTING;
	if (tcp_synchronized_state(sk))
		f |= NCS_SLOT_ESTABLISHED;
	if ((ev & EPOLLRDHUP) && rx_bytes == 0)
		f |= NCS_SLOT_RX_EOF;
	return f;
}

/* Publishes the socket's events and flags; wakes the client if something
 * it waits for changed. */
static void slot_publish(struct session_slot *sl)
{
	struct sock *sk = sl->sk;
	int rx_bytes = netd_rx_bytes(sk);
	int tx_bytes = 0;
	unsigned ev = sock_poll(sk);
	uint32_t flags = slot_flags(sk, ev, rx_bytes);

	if (sk->tcp && sk->tcp->state != TCP_LISTEN)
		sock_ioctl(sk, SIOCOUTQ, &tx_bytes);
	__atomic_store_n(&sl->shm->netd_rx_bytes, (uint32_t)rx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->shm->netd_tx_bytes, (uint32_t)tx_bytes, __ATOMIC_RELAXED);
	uint32_t state = sk->tcp ? (uint32_t)sk->tcp->state : 0;
	if (ev == sl->events && flags == sl->flags && state == sl->state)
		return;
	uint32_t changed = (ev ^ sl->events) |
			   ((flags ^ sl->flags) || state != sl->state ? NCS_WAKE_STATE : 0);
	sl->events = ev;
	sl->flags = flags;
	sl->state = state;
	__atomic_store_n(&sl->shm->tcp_state, state, __ATOMIC_RELEASE);
	__atomic_store_n(&sl->shm->flags, flags, __ATOMIC_RELEASE);
	__atomic_store_n(&sl->shm->events, ev, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (changed & __atomic_load_n(&sl->shm->wake_mask, __ATOMIC_RELAXED))
		kick_eventfd(sl->efd);
}

/* ---- moving data ---- */

/* The client's index of a ring, checked: at most size away from ours. */
static bool ring_used(struct session *s, uint32_t head, uint32_t tail, uint32_t *used)
{
	*used = head - tail;
	if (*used > s->layout.data_ring_size) {
		session_fail(s, "ring index out of range");
		return false;
	}
	return true;
}

static void tx_finish(struct session_slot *sl, uint32_t before)
{
	store_release(&sl->shm->tx.tail, sl->tx_tail);
	if (sl->tx_tail != before && take_flag(&sl->shm->tx.producer_waiting))
		kick_eventfd(sl->efd);
}

/* Bytes of a stream's tx ring into the socket; stops when it is full. */
static void tx_drain_stream(struct session_slot *sl, uint32_t used)
{
	uint32_t size = sl->s->layout.data_ring_size;
	while (used) {
		uint32_t off = sl->tx_tail & (size - 1);
		uint32_t chunk = MIN(used, size - off);
		ssize_t n = sock_sendto(sl->sk, sl->tx_area + off, chunk, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			sl->tx_blocked = n == -EAGAIN;
			return;
		}
		sl->tx_tail += (uint32_t)n;
		used -= (uint32_t)n;
	}
}

/* One datagram of the tx ring, checked, out through the socket. False if
 * it cannot go yet. */
/* Where len bytes at ring position pos lie in one piece, or NULL when they
 * wrap (then they go through the scratch buffer). */
static uint8_t *ring_span(uint8_t *area, uint32_t size, uint32_t pos, uint32_t len)
{
	uint32_t off = pos & (size - 1);
	return off + len <= size ? area + off : NULL;
}

static bool tx_send_datagram(struct session_slot *sl, uint32_t used)
{
	struct session *s = sl->s;
	uint32_t size = s->layout.data_ring_size;
	struct ncs_dgram d;

	if (used < sizeof(d)) {
		session_fail(s, "datagram header cut short");
		return false;
	}
	ncs_ring_copy(sl->tx_area, size, sl->tx_tail, &d, sizeof(d), 0);
	if (d.len > NCS_DGRAM_MAX || ncs_dgram_space(d.len) > used) {
		session_fail(s, "datagram longer than its ring holds");
		return false;
	}
	/* the socket copies the payload once into its buffer: straight from
	 * the ring (what the client does to it meanwhile is its own loss) */
	uint32_t at = sl->tx_tail + (uint32_t)sizeof(d);
	const uint8_t *payload = ring_span(sl->tx_area, size, at, d.len);
	if (!payload) {
		ncs_ring_copy(sl->tx_area, size, at, s->scratch, d.len, 0);
		payload = s->scratch;
	}
	struct sock_addr to = {.addr = d.addr, .port = d.port};
	ssize_t n = sock_sendto(sl->sk, payload, d.len, MSG_DONTWAIT,
				(d.flags & NCS_DGRAM_TO) ? &to : NULL);
	if (n == -EAGAIN || n == -ENOBUFS) {
		sl->tx_blocked = true;
		return false;
	}
	if (n < 0)	/* the library checked what it could; the rest shows as SO_ERROR */
		sock_report_error(sl->sk, (int)-n);
	sl->tx_tail += ncs_dgram_space(d.len);
	return true;
}

static void tx_drain_datagrams(struct session_slot *sl, uint32_t used)
{
	while (used && !sl->s->broken) {
		uint32_t before = sl->tx_tail;
		if (!tx_send_datagram(sl, used))
			return;
		used -= sl->tx_tail - before;
	}
}

/* May the tx ring be drained now? A stream needs a connection that can
 * still send. Datagrams in the ring were accepted by sendto already: a
 * pending error (reported by the next call) does not hold them back. */
static bool slot_drainable(const struct sock *sk)
{
	return sk->tcp ? slot_sendable(sk) : !(sk->shut & SOCK_SHUT_WR);
}

/* Moves what the client queued into the socket. When the ring runs dry,
 * asks for a TX command on the next data (the consumer_waiting flag). */
static void slot_tx(struct session_slot *sl)
{
	uint32_t before = sl->tx_tail, used;
	sl->tx_blocked = false;
	for (;;) {
		if (!slot_drainable(sl->sk))
			break;
		if (!ring_used(sl->s, load_acquire(&sl->shm->tx.head), sl->tx_tail, &used))
			return;
		if (sl->sk->tcp)
			tx_drain_stream(sl, used);
		else
			tx_drain_datagrams(sl, used);
		if (sl->tx_blocked || sl->s->broken)
			break;
		__atomic_store_n(&sl->shm->tx.consumer_waiting, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (load_acquire(&sl->shm->tx.head) == sl->tx_tail)
			break;
		__atomic_store_n(&sl->shm->tx.consumer_waiting, 0, __ATOMIC_RELAXED);
	}
	tx_finish(sl, before);
}

/* Free bytes of the rx ring, given the client's tail (checked). */
static uint32_t rx_space(struct session_slot *sl, uint32_t tail)
{
	uint32_t used;
	if (!ring_used(sl->s, sl->rx_head, tail, &used))
		return 0;
	return sl->s->layout.data_ring_size - used;
}

static void rx_fill_stream(struct session_slot *sl, uint32_t space)
{
	uint32_t size = sl->s->layout.data_ring_size;
	while (space && netd_rx_bytes(sl->sk) > 0) {
		uint32_t off = sl->rx_head & (size - 1);
		uint32_t chunk = MIN(space, size - off);
		ssize_t n = sock_recvfrom(sl->sk, sl->rx_area + off, chunk, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		sl->rx_head += (uint32_t)n;
		space -= (uint32_t)n;
	}
}

static void rx_fill_datagrams(struct session_slot *sl, uint32_t space)
{
	struct session *s = sl->s;
	uint32_t size = s->layout.data_ring_size;
	struct sock_addr from;

	while (sl->sk->rxq.first) {
		uint32_t len = (uint32_t)nbuf_len(sl->sk->rxq.first);
		if (ncs_dgram_space(len) > space)
			return;
		uint32_t at = sl->rx_head + (uint32_t)sizeof(struct ncs_dgram);
		uint8_t *dst = ring_span(sl->rx_area, size, at, len);
		ssize_t n = udp_recv_datagram(sl->sk, dst ? dst : s->scratch, len, 0, &from);
		if (n < 0)
			return;
		struct ncs_dgram d = {.len = (uint32_t)n, .addr = from.addr, .port = from.port};
		ncs_ring_copy(sl->rx_area, size, sl->rx_head, &d, sizeof(d), 1);
		if (!dst)
			ncs_ring_copy(sl->rx_area, size, at, s->scratch, d.len, 1);
		sl->rx_head += ncs_dgram_space(d.len);
		space -= ncs_dgram_space(d.len);
	}
}

static bool netd_has_rx(const struct session_slot *sl)
{
	return sl->sk->tcp ? netd_rx_bytes(sl->sk) > 0 : sl->sk->rxq.first != NULL;
}

/* Moves what the socket received into the rx ring. When the ring is full
 * with more to come, asks for an RX command (the producer_waiting flag). */
static void slot_rx(struct session_slot *sl)
{
	uint32_t before = sl->rx_head;
	for (;;) {
		uint32_t tail = load_acquire(&sl->shm->rx.tail);
		uint32_t space = rx_space(sl, tail);
		if (sl->s->broken)
			return;
		if (sl->sk->tcp)
			rx_fill_stream(sl, space);
		else
			rx_fill_datagrams(sl, space);
		if (!netd_has_rx(sl))
			break;
		__atomic_store_n(&sl->shm->rx.producer_waiting, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (load_acquire(&sl->shm->rx.tail) == tail)
			break;	/* still full: the client's RX command resumes */
		__atomic_store_n(&sl->shm->rx.producer_waiting, 0, __ATOMIC_RELAXED);
	}
	if (sl->rx_head == before)
		return;
	store_release(&sl->shm->rx.head, sl->rx_head);
	if (take_flag(&sl->shm->rx.consumer_waiting))
		kick_eventfd(sl->efd);
}

/* Everything a change of the socket may call for. */
static void slot_update(struct session_slot *sl)
{
	if (sl->tx_blocked && slot_drainable(sl->sk))
		slot_tx(sl);
	if (netd_has_rx(sl))
		slot_rx(sl);
	if (!sl->s->broken)
		slot_publish(sl);
}

static void session_sock_wakeup(struct sock *sk, unsigned events)
{
	(void)events;
	struct session_slot *sl = sk->owner;
	if (sl && !sl->s->broken)
		slot_update(sl);
}

/* ---- opening and closing slots ---- */

static void slot_attach(struct session_slot *sl, struct sock *sk)
{
	struct ncs_slot *shm = sl->shm;
	memset(shm, 0, sizeof(*shm));
	sl->sk = sk;
	sl->rx_head = sl->tx_tail = 0;
	sl->events = sl->flags = sl->state = 0;
	sl->tx_blocked = false;
	shm->tx.consumer_waiting = 1;	/* the first bytes come with a TX command */
	sk->bind_privileged = sl->s->peer.bind_privileged;
	sock_set_owner(sk, session_sock_wakeup, sl);
	sl->s->nsockets++;
	slot_update(sl);
}

/* Before a FIN: everything the client wrote goes into the socket, past
 * its send buffer if need be (write() had already taken it). Datagrams
 * go out as usual. */
static void slot_tx_flush(struct session_slot *sl)
{
	struct session *s = sl->s;
	struct sock *sk = sl->sk;
	uint32_t used = 0, before = sl->tx_tail;

	if (!sk->tcp) {
		slot_tx(sl);
		return;
	}
	if (s->broken || !ring_used(s, load_acquire(&sl->shm->tx.head), sl->tx_tail, &used))
		return;
	for (uint32_t size = s->layout.data_ring_size; used && slot_sendable(sk);) {
		uint32_t off = sl->tx_tail & (size - 1), chunk = MIN(used, size - off);
		if (tcp_send_all(sk, sl->tx_area + off, chunk) < 0)
			break;
		sl->tx_tail += chunk;
		used -= chunk;
	}
	tx_finish(sl, before);
}

/* Closes as Linux closes: what the client wrote goes out (then FIN), but
 * unread received data turns the close into a reset (RFC 2525 2.17). */
static void slot_close(struct session_slot *sl)
{
	struct session *s = sl->s;
	struct sock *sk = sl->sk;
	uint32_t unread;

	slot_tx_flush(sl);
	unread = sl->rx_head - __atomic_load_n(&sl->shm->rx.tail, __ATOMIC_ACQUIRE);
	if (sk->tcp && unread) {
		sk->opts.linger_on = true;
		sk->opts.linger_secs = 0;
	}
	sock_set_owner(sk, NULL, NULL);
	sock_close(sk);
	sl->sk = NULL;
	__atomic_store_n(&sl->shm->flags, 0, __ATOMIC_RELEASE);
	if (sl->efd >= 0)
		close(sl->efd);
	sl->efd = -1;
	s->nsockets--;
}

/* ---- commands ---- */

struct cmd_result {
	int32_t result;
	int32_t value;
	struct sock_addr addr;
	uint32_t len;
	uint8_t data[NCS_REPLY_DATA];
};

/* The slot a command names, open or (want_free) free and registered. */
static struct session_slot *cmd_slot(struct session *s, uint32_t index, bool want_free, int *err)
{
	if (index >= s->layout.max_slots) {
		*err = -EBADF;
		return NULL;
	}
	struct session_slot *sl = &s->slots[index];
	if (want_free && sl->efd < 0 && s->hooks.pull_messages)
		s->hooks.pull_messages(s->hooks.arg);
	if (want_free ? sl->sk != NULL || sl->efd < 0 : sl->sk == NULL) {
		*err = -EBADF;
		return NULL;
	}
	return sl;
}

static int cmd_socket(struct session *s, const struct ncs_cmd *c)
{
	int err;
	struct sock *sk;
	struct session_slot *sl = cmd_slot(s, c->slot, true, &err);
	if (!sl)
		return err;
	if ((err = sock_create(s->st, c->a[0], c->a[1], s->peer.uid, &sk)) < 0)
		return err;
	slot_attach(sl, sk);
	return 0;
}

static int cmd_accept(struct session *s, struct session_slot *sl, const struct ncs_cmd *c,
		      struct cmd_result *r)
{
	int err;
	struct sock *child;
	struct session_slot *csl = cmd_slot(s, (uint32_t)c->a[0], true, &err);
	if (!csl)
		return err;
	if ((err = sock_accept(sl->sk, &child)) < 0)
		return err;
	r->addr = (struct sock_addr){.addr = child->raddr, .port = child->rport};
	slot_attach(csl, child);
	return 0;
}

static int cmd_sockopt(struct sock *sk, const struct ncs_cmd *c, struct cmd_result *r, bool set)
{
	if (c->a[2] < 0)
		return -EINVAL;
	if (set) {
		if (c->a[2] > NCS_CMD_DATA)
			return -EINVAL;
		return sock_setsockopt(sk, c->a[0], c->a[1], c->data, (socklen_t)c->a[2]);
	}
	socklen_t len = (socklen_t)MIN(c->a[2], NCS_REPLY_DATA);
	int err = sock_getsockopt(sk, c->a[0], c->a[1], r->data, &len);
	r->len = len;
	return err;
}

static int cmd_getname(struct sock *sk, const struct ncs_cmd *c, struct cmd_result *r)
{
	return c->a[0] ? sock_getpeername(sk, &r->addr) : sock_getsockname(sk, &r->addr);
}

/* What send would say now, without sending: Linux's checks in order. */
static int cmd_sendcheck(struct sock *sk)
{
	if (sk->tcp)
		return (int)sock_sendto(sk, "", 0, MSG_DONTWAIT, NULL);
	if (sk->err) {
		int err = sk->err;
		sk->err = 0;
		return -err;
	}
	return (sk->shut & SOCK_SHUT_WR) ? -EPIPE : 0;	/* sock_alloc_send_pskb */
}

/* What recv would say with nothing in the rx ring. */
static int cmd_recvcheck(struct sock *sk)
{
	uint8_t byte;
	ssize_t n = sock_recvfrom(sk, &byte, 1, MSG_PEEK | MSG_DONTWAIT, NULL);
	return n > 0 ? -EAGAIN : (int)n;
}

static int cmd_shutdown(struct session_slot *sl, int how)
{
	if (how == SHUT_WR || how == SHUT_RDWR)
		slot_tx_flush(sl);	/* queued bytes go before the FIN */
	return sock_shutdown(sl->sk, how);
}

/* The commands on an open socket. */
static int cmd_on_socket(struct session *s, struct session_slot *sl, const struct ncs_cmd *c,
			 struct cmd_result *r)
{
	struct sock_addr a = {.addr = c->addr, .port = c->port};
	switch (c->op) {
	case NCS_OP_BIND: return sock_bind(sl->sk, &a);
	case NCS_OP_LISTEN: return sock_listen(sl->sk, c->a[0]);
	case NCS_OP_CONNECT: return sock_connect(sl->sk, c->a[0] ? NULL : &a);
	case NCS_OP_ACCEPT: return cmd_accept(s, sl, c, r);
	case NCS_OP_SHUTDOWN: return cmd_shutdown(sl, c->a[0]);
	case NCS_OP_SETSOCKOPT: return cmd_sockopt(sl->sk, c, r, true);
	case NCS_OP_GETSOCKOPT: return cmd_sockopt(sl->sk, c, r, false);
	case NCS_OP_GETNAME: return cmd_getname(sl->sk, c, r);
	case NCS_OP_IOCTL: return sock_ioctl(sl->sk, (unsigned long)(uint32_t)c->a[0], &r->value);
	case NCS_OP_TX: slot_tx(sl); return 0;
	case NCS_OP_RX: slot_rx(sl); return 0;
	case NCS_OP_SENDCHECK: return cmd_sendcheck(sl->sk);
	case NCS_OP_RECVCHECK: return cmd_recvcheck(sl->sk);
	default: return -EINVAL;
	}
}

static int cmd_exec(struct session *s, const struct ncs_cmd *c, struct cmd_result *r)
{
	int err;
	if (c->op == NCS_OP_SOCKET)
		return cmd_socket(s, c);
	struct session_slot *sl = cmd_slot(s, c->slot, false, &err);
	if (!sl)
		return err;
	if (c->op == NCS_OP_CLOSE) {
		slot_close(sl);
		return 0;
	}
	err = cmd_on_socket(s, sl, c, r);
	if (sl->sk && !s->broken)
		slot_update(sl);
	return err;
}

static void cmd_reply(struct session *s, uint16_t index, const struct cmd_result *r)
{
	if (index >= s->layout.reply_entries)
		return;
	struct ncs_reply *rep = (struct ncs_reply *)(s->base + s->layout.reply_off) + index;
	rep->result = r->result;
	rep->value = r->value;
	rep->addr = r->addr.addr;
	rep->port = r->addr.port;
	rep->len = MIN(r->len, (uint32_t)NCS_REPLY_DATA);
	memcpy(rep->data, r->data, rep->len);
	__atomic_store_n(&rep->state, NCS_REPLY_DONE, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&rep->waiting, __ATOMIC_RELAXED))
		syscall(SYS_futex, &rep->state, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

bool session_run(struct session *s)
{
	struct ncs_header *h = s->hdr;
	uint32_t head = load_acquire(&h->cmd.head), n = head - s->cmd_tail;
	if (s->broken || n == 0)
		return false;
	if (n > s->layout.cmd_entries) {
		session_fail(s, "command ring index out of range");
		return false;
	}
	struct ncs_cmd *ring = (struct ncs_cmd *)(s->base + s->layout.cmd_off);
	for (uint32_t i = 0; i < MIN(n, SESSION_CMD_BUDGET) && !s->broken; i++) {
		struct ncs_cmd c;
		struct cmd_result r = {0};
		memcpy(&c, &ring[s->cmd_tail & (s->layout.cmd_entries - 1)], sizeof(c));
		s->cmd_tail++;
		r.result = cmd_exec(s, &c, &r);
		if (c.reply != NCS_NO_REPLY)
			cmd_reply(s, c.reply, &r);
	}
	store_release(&h->cmd.tail, s->cmd_tail);
	if (take_flag(&h->cmd.producer_waiting))
		syscall(SYS_futex, &h->cmd.tail, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return true;
}

bool session_prepare_sleep(struct session *s)
{
	__atomic_store_n(&s->hdr->netd_sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return s->broken || load_acquire(&s->hdr->cmd.head) == s->cmd_tail;
}

void session_woken(struct session *s)
{
	__atomic_store_n(&s->hdr->netd_sleeping, 0, __ATOMIC_RELAXED);
}

void session_destroy(struct session *s)
{
	for (uint32_t i = 0; i < s->layout.max_slots; i++) {
		if (s->slots[i].sk)
			slot_close(&s->slots[i]);
		if (s->slots[i].efd >= 0)
			close(s->slots[i].efd);
	}
	__atomic_store_n(&s->hdr->netd_state, NCS_NETD_STOPPING, __ATOMIC_RELEASE);
	munmap(s->base, s->layout.size);
	close(s->memfd);
	loop_unwatch(s->loop, &s->doorbell_watch);
	close(s->doorbell);
}
