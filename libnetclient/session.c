/*
 * session.c: the process's session with netd. The first socket call
 * connects to the control socket ($NETD_SOCKET or /run/netd/netd.sock),
 * says Hello, attaches, and maps the region netd sends back. Commands are
 * records on the region's command ring (one producer: the session lock);
 * a call that needs an answer takes a reply record, spins briefly, then
 * sleeps on the record's futex word, looking every 250 ms whether netd
 * is still there. Slots are the client's to choose; each new one gets an
 * eventfd that is registered with netd over the control socket, without
 * waiting for an answer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libnetclient/include/netclient.h"
#include "libnetclient/nc-internal.h"
#include "proto/netd.pb-c.h"
#include "proto/scm.h"

#define NC_LIVENESS_MS 250

struct nc_session nc__session = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.reply_free = PTHREAD_COND_INITIALIZER,
	.ctl_fd = -1,
	.doorbell = -1,
};

static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void debug(const char *fmt, ...)
{
	const char *v = getenv("NETD_DEBUG");
	if (!v || !*v || strcmp(v, "0") == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "libnetclient: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ---- the control connection ---- */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	int fd = nc__k.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (nc__k.connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = -errno;
		nc__k.close(fd);
		return err;
	}
	return fd;
}

static int ctl_send(int fd, const Netd__Request *req, const int *fds, int nfds)
{
	uint8_t buf[1024];
	size_t len = netd__request__get_packed_size(req);
	union scm_buf u;
	if (len > sizeof(buf) || nfds > SCM_FDS_MAX)
		return -EMSGSIZE;
	netd__request__pack(req, buf);
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	scm_attach(&m, &u, fds, nfds);
	return nc__k.sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receives one Response and up to two fds. */
static Netd__Response *ctl_recv(int fd, int *fds, int *nfds)
{
	uint8_t buf[4096];
	union scm_buf u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	*nfds = 0;
	ssize_t n = nc__k.recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return NULL;
	*nfds = scm_take(&m, fds, 2);
	if (n == 0)
		return NULL;
	return netd__response__unpack(NULL, (size_t)n, buf);
}

static int ctl_hello(int fd)
{
	Netd__Hello h = NETD__HELLO__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	int fds[2], nfds;
	h.version_min = 1;
	h.version_max = 1;
	req.body_case = NETD__REQUEST__BODY_HELLO;
	req.hello = &h;
	int err = ctl_send(fd, &req, NULL, 0);
	if (err)
		return err;
	Netd__Response *r = ctl_recv(fd, fds, &nfds);
	for (int i = 0; i < nfds; i++)	/* a Welcome carries none */
		nc__k.close(fds[i]);
	err = !r ? -ECONNRESET : r->body_case == NETD__RESPONSE__BODY_WELCOME ? 0 : -EPROTO;
	if (r)
		netd__response__free_unpacked(r, NULL);
	return err;
}

/* ---- the region ---- */

static int region_check(struct nc_session *s, const struct ncs_header *h, uint64_t size)
{
	struct ncs_layout l = {.max_slots = h->max_slots, .cmd_entries = h->cmd_entries,
			       .reply_entries = h->reply_entries,
			       .data_ring_size = h->data_ring_size};
	if (h->magic != NCS_MAGIC || h->version != NCS_VERSION)
		return -EPROTO;
	ncs_layout_compute(&l);
	if (l.size != size || h->reply_entries != NCS_REPLY_ENTRIES || !l.cmd_entries ||
	    (l.cmd_entries & (l.cmd_entries - 1)) || (l.data_ring_size & (l.data_ring_size - 1)))
		return -EPROTO;
	s->layout = l;
	return 0;
}

static int region_map(struct nc_session *s, int memfd, uint64_t size)
{
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (base == MAP_FAILED)
		return -errno;
	int err = region_check(s, base, size);
	if (err) {
		munmap(base, size);
		return err;
	}
	s->base = base;
	s->hdr = base;
	s->cmd_head = nc__load_acquire(&s->hdr->cmd.head);
	s->slot_map = calloc((s->layout.max_slots + 63) / 64, sizeof(uint64_t));
	return s->slot_map ? 0 : -ENOMEM;
}

static int ctl_attach(struct nc_session *s)
{
	Netd__Attach a = NETD__ATTACH__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	int fds[2], nfds = 0, err;
	req.body_case = NETD__REQUEST__BODY_ATTACH;
	req.attach = &a;
	if ((err = ctl_send(s->ctl_fd, &req, NULL, 0)))
		return err;
	Netd__Response *r = ctl_recv(s->ctl_fd, fds, &nfds);
	if (!r || r->body_case != NETD__RESPONSE__BODY_ATTACHED || nfds != 2) {
		err = !r ? -ECONNRESET : r->body_case == NETD__RESPONSE__BODY_ERROR ?
		      -r->error->errno_value : -EPROTO;
		if (r && r->body_case == NETD__RESPONSE__BODY_ERROR)
			debug("netd refused the session: %s", r->error->reason);
	} else {
		err = region_map(s, fds[0], r->attached->region_size);
		s->doorbell = fds[1];
		nfds = 1;	/* the doorbell stays open */
	}
	for (int i = 0; i < nfds; i++)
		nc__k.close(fds[i]);
	if (r)
		netd__response__free_unpacked(r, NULL);
	return err;
}

static int session_setup(struct nc_session *s)
{
	const char *path = getenv("NETD_SOCKET");
	if (!path || !*path)
		path = NC_DEFAULT_SOCKET;
	s->ctl_fd = ctl_connect(path);
	if (s->ctl_fd < 0) {
		int err = s->ctl_fd;
		debug("cannot connect to netd at %s: %s", path, strerror(-err));
		return err;
	}
	int err = ctl_hello(s->ctl_fd);
	if (!err)
		err = ctl_attach(s);
	if (err) {
		debug("session with netd at %s failed: %s", path, strerror(-err));
		nc__k.close(s->ctl_fd);
		s->ctl_fd = -1;
		return err == -ECONNRESET ? -ECONNREFUSED : err;
	}
	s->ready = true;
	return 0;
}

/* A child after fork shares the parent's region and control connection;
 * using them from two processes would corrupt both. The child lets go of
 * them (its copies of the sockets' descriptors stay open as plain
 * descriptors) and opens a session of its own on its first socket call. */
static void session_forget_in_child(void)
{
	struct nc_session *s = &nc__session;
	nc__sock_forget_all();
	if (s->base)
		munmap(s->base, s->layout.size);
	if (s->ctl_fd >= 0)
		nc__k.close(s->ctl_fd);
	if (s->doorbell >= 0)
		nc__k.close(s->doorbell);
	free(s->slot_map);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->reply_free, NULL);
	s->ready = s->dead = false;
	s->ctl_fd = s->doorbell = -1;
	s->base = NULL;
	s->hdr = NULL;
	s->slot_map = NULL;
	memset(s->reply_map, 0, sizeof(s->reply_map));
}

static void session_register_atfork(void)
{
	pthread_atfork(NULL, NULL, session_forget_in_child);
}

int nc__session_get(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct nc_session *s = &nc__session;
	pthread_once(&once, session_register_atfork);
	if (__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		return s->dead ? -ENETDOWN : 0;
	pthread_mutex_lock(&s->lock);
	int err = s->ready ? 0 : session_setup(s);
	pthread_mutex_unlock(&s->lock);
	return err;
}

bool nc__netd_gone(void)
{
	struct nc_session *s = &nc__session;
	if (s->dead)
		return true;
	struct pollfd p = {.fd = s->ctl_fd, .events = POLLRDHUP};
	if (nc__k.poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		__atomic_store_n(&s->dead, true, __ATOMIC_RELEASE);
	return s->dead;
}

/* ---- slots ---- */

static int slot_take(struct nc_session *s, uint32_t *slot)
{
	for (uint32_t w = 0; w < (s->layout.max_slots + 63) / 64; w++) {
		uint64_t free_bits = ~s->slot_map[w];
		if (!free_bits)
			continue;
		uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(free_bits);
		if (i >= s->layout.max_slots)
			break;
		s->slot_map[w] |= 1ull << (i % 64);
		*slot = i;
		return 0;
	}
	return -EMFILE;
}

void nc__slot_free(uint32_t slot)
{
	struct nc_session *s = &nc__session;
	pthread_mutex_lock(&s->lock);
	s->slot_map[slot / 64] &= ~(1ull << (slot % 64));
	pthread_mutex_unlock(&s->lock);
}

static int slot_register(struct nc_session *s, uint32_t slot, int efd)
{
	Netd__RegisterSlots rs = NETD__REGISTER_SLOTS__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	rs.n_slots = 1;
	rs.slots = &slot;
	req.body_case = NETD__REQUEST__BODY_REGISTER_SLOTS;
	req.register_slots = &rs;
	return ctl_send(s->ctl_fd, &req, &efd, 1);
}

int nc__slot_open(uint32_t *slot, int efd_flags)
{
	struct nc_session *s = &nc__session;
	int efd = eventfd(0, EFD_NONBLOCK | efd_flags);
	if (efd < 0)
		return errno == EMFILE || errno == ENFILE ? -errno : -ENOBUFS;
	pthread_mutex_lock(&s->lock);
	int err = slot_take(s, slot);
	if (!err && (err = slot_register(s, *slot, efd)) < 0)
		s->slot_map[*slot / 64] &= ~(1ull << (*slot % 64));
	pthread_mutex_unlock(&s->lock);
	if (err) {
		nc__k.close(efd);
		return err == -EPIPE || err == -ECONNRESET ? -ENETDOWN : err;
	}
	return efd;
}

/* ---- commands and replies ---- */

static void doorbell_ring(struct nc_session *s)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->hdr->netd_sleeping, __ATOMIC_RELAXED)) {
		uint64_t one = 1;
		if (nc__k.write(s->doorbell, &one, sizeof(one)) < 0 && errno != EAGAIN)
			s->dead = true;
	}
}

static int futex_wait(uint32_t *word, uint32_t val, int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	return (int)syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

/* Waits until netd has taken commands off a full ring. */
static int cmd_wait_space(struct nc_session *s)
{
	while (s->cmd_head - nc__load_acquire(&s->hdr->cmd.tail) >= s->layout.cmd_entries) {
		uint32_t tail = nc__load_acquire(&s->hdr->cmd.tail);
		__atomic_store_n(&s->hdr->cmd.producer_waiting, 1, __ATOMIC_RELAXED);
		doorbell_ring(s);
		if (s->cmd_head - tail >= s->layout.cmd_entries)
			futex_wait(&s->hdr->cmd.tail, tail, NC_LIVENESS_MS);
		if (nc__netd_gone())
			return -ENETDOWN;
	}
	return 0;
}

static int cmd_post_locked(struct nc_session *s, const struct ncs_cmd *c)
{
	int err = cmd_wait_space(s);
	if (err)
		return err;
	struct ncs_cmd *ring = (struct ncs_cmd *)(s->base + s->layout.cmd_off);
	ring[s->cmd_head & (s->layout.cmd_entries - 1)] = *c;
	nc__store_release(&s->hdr->cmd.head, ++s->cmd_head);
	doorbell_ring(s);
	return 0;
}

void nc__post(const struct ncs_cmd *c)
{
	struct nc_session *s = &nc__session;
	pthread_mutex_lock(&s->lock);
	cmd_post_locked(s, c);
	pthread_mutex_unlock(&s->lock);
}

static uint16_t reply_take(struct nc_session *s)
{
	for (;;) {
		for (unsigned w = 0; w < NCS_REPLY_ENTRIES / 64; w++) {
			uint64_t free_bits = ~s->reply_map[w];
			if (free_bits) {
				unsigned i = (unsigned)__builtin_ctzll(free_bits);
				s->reply_map[w] |= 1ull << i;
				return (uint16_t)(w * 64 + i);
			}
		}
		pthread_cond_wait(&s->reply_free, &s->lock);
	}
}

static void reply_give_back(struct nc_session *s, uint16_t i)
{
	pthread_mutex_lock(&s->lock);
	s->reply_map[i / 64] &= ~(1ull << (i % 64));
	pthread_cond_signal(&s->reply_free);
	pthread_mutex_unlock(&s->lock);
}

/* Spins, then sleeps on the record until netd has answered. */
static int reply_wait(struct nc_session *s, struct ncs_reply *r)
{
	int64_t spin_until = nc__now_ns() + NC_SPIN_NS;
	while (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != NCS_REPLY_DONE) {
		if (nc__now_ns() < spin_until) {
			__builtin_ia32_pause();
			continue;
		}
		__atomic_store_n(&r->waiting, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == NCS_REPLY_DONE)
			break;
		futex_wait(&r->state, NCS_REPLY_PENDING, NC_LIVENESS_MS);
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != NCS_REPLY_DONE &&
		    nc__netd_gone())
			return -ENETDOWN;
	}
	return 0;
}

int nc__call(struct ncs_cmd *c, struct ncs_reply *out)
{
	struct nc_session *s = &nc__session;
	if (s->dead)
		return -ENETDOWN;
	pthread_mutex_lock(&s->lock);
	uint16_t i = reply_take(s);
	struct ncs_reply *r = (struct ncs_reply *)(s->base + s->layout.reply_off) + i;
	r->waiting = 0;
	__atomic_store_n(&r->state, NCS_REPLY_PENDING, __ATOMIC_RELEASE);
	c->reply = i;
	int err = cmd_post_locked(s, c);
	pthread_mutex_unlock(&s->lock);
	if (!err)
		err = reply_wait(s, r);
	if (err)
		return err;	/* netd is gone: the record stays taken */
	*out = *r;
	__atomic_store_n(&r->state, NCS_REPLY_FREE, __ATOMIC_RELAXED);
	reply_give_back(s, i);
	return out->result;
}
