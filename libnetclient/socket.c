/*
 * socket.c: the netd sockets of this process and the calls that manage
 * them (socket, bind, listen, accept, connect, shutdown, close, options,
 * names, fcntl, ioctl). A table indexed by file descriptor finds the
 * struct nc_sock of a netd socket; a descriptor with no entry belongs to
 * the kernel, and each call hands it to the kernel's call of the same
 * name. A call holds its socket (a reference count) from lookup to
 * return, so nc_close in another thread only takes the descriptor out of
 * the table; the socket goes when its last holder lets go.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libnetclient/include/netclient.h"
#include "libnetclient/nc-internal.h"

#define NC_FD_MAX 65536

static struct nc_sock *nc_table[NC_FD_MAX];
static pthread_rwlock_t nc_table_lock = PTHREAD_RWLOCK_INITIALIZER;

static void sock_release(struct nc_sock *s);

struct nc_sock *nc__sock_get(int fd)
{
	if (fd < 0 || fd >= NC_FD_MAX)
		return NULL;
	return __atomic_load_n(&nc_table[fd], __ATOMIC_ACQUIRE);
}

struct nc_sock *nc__sock_hold(int fd)
{
	if (fd < 0 || fd >= NC_FD_MAX || !__atomic_load_n(&nc_table[fd], __ATOMIC_RELAXED))
		return NULL;	/* a kernel descriptor: no lock */
	pthread_rwlock_rdlock(&nc_table_lock);
	struct nc_sock *s = nc_table[fd];
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&nc_table_lock);
	return s;
}

void nc__sock_put(struct nc_sock *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		int saved = errno;
		sock_release(s);
		errno = saved;
	}
}

void nc__sock_forget_all(void)
{
	pthread_rwlock_init(&nc_table_lock, NULL);
	for (int fd = 0; fd < NC_FD_MAX; fd++) {
		struct nc_sock *s = nc_table[fd];
		if (!s)
			continue;
		nc_table[fd] = NULL;
		if (s->child_fd >= 0)
			nc__k.close(s->child_fd);
		free(s);
	}
}

int nc_is_socket(int fd)
{
	return nc__sock_get(fd) != NULL;
}

void nc__sock_bind_rings(struct nc_sock *s)
{
	struct nc_session *ss = &nc__session;
	s->shm = (struct ncs_slot *)(ss->base + ss->layout.slot_off) + s->slot;
	s->rx_area = ss->base + ncs_rx_off(&ss->layout, s->slot);
	s->tx_area = ss->base + ncs_tx_off(&ss->layout, s->slot);
	s->rx_tail = 0;
	s->tx_head = 0;
}

struct nc_sock *nc__sock_attach(int fd, uint32_t slot, int type, bool nonblock)
{
	struct nc_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = fd;
	s->slot = slot;
	s->type = type;
	s->nonblock = nonblock;
	s->child_fd = -1;
	s->linger_secs = -1;
	s->refs = 1;	/* the table's */
	pthread_mutex_init(&s->rx_lock, NULL);
	pthread_mutex_init(&s->tx_lock, NULL);
	nc__sock_bind_rings(s);
	/* netd writes the eventfd on every change of state; data wakeups are
	 * asked for per wait through the rings' flags */
	__atomic_store_n(&s->shm->wake_mask, 0xffffffffu, __ATOMIC_RELEASE);
	__atomic_store_n(&nc_table[fd], s, __ATOMIC_RELEASE);
	return s;
}

int nc__sock_cmd(struct nc_sock *s, uint16_t op, int32_t a0, struct ncs_reply *reply)
{
	struct ncs_cmd c = {.op = op, .slot = s->slot, .a = {a0}};
	struct ncs_reply r;
	return nc__call(&c, reply ? reply : &r);
}

/* ---- addresses ---- */

/* What Linux checks of an address a call takes in, in its order: the
 * length the kernel copies (move_addr_to_kernel), the length of a
 * sockaddr_in, then the family. AF_UNSPEC passes where the call allows it:
 * bind with INADDR_ANY, a datagram's destination. */
int nc__addr_check(const struct sockaddr *sa, socklen_t len, enum nc_addr_use use)
{
	if ((int)len < 0 || len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len && !sa)
		return -EFAULT;
	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	if (sin->sin_family == AF_INET)
		return 0;
	if (sin->sin_family == AF_UNSPEC && use == NC_ADDR_SENDTO)
		return 0;
	if (sin->sin_family == AF_UNSPEC && use == NC_ADDR_BIND &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY))
		return 0;
	return -EAFNOSUPPORT;
}

int nc__sockaddr_in(const struct sockaddr *sa, socklen_t len, enum nc_addr_use use,
		    uint32_t *addr, uint16_t *port)
{
	int err = nc__addr_check(sa, len, use);
	if (err)
		return err;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	*addr = ntohl(sin->sin_addr.s_addr);
	*port = ntohs(sin->sin_port);
	return 0;
}

/* Writes as much of the address as fits and the full length, as Linux's
 * move_addr_to_user: a NULL address is fine when *len is 0. */
int nc__fill_sockaddr(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(addr)};
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	socklen_t n = MIN_LEN(*len, sizeof(sin));
	if (n && !sa)
		return -EFAULT;
	if (n)
		memcpy(sa, &sin, n);
	*len = sizeof(sin);
	return 0;
}

/* ---- creating ---- */

static int sock_open(int type, int protocol, uint32_t *slot, int *fd)
{
	int err = nc__session_get();
	if (err)
		return err;
	*fd = nc__slot_open(slot, (type & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (*fd < 0)
		return *fd;
	if (*fd >= NC_FD_MAX) {
		nc__k.close(*fd);
		nc__slot_free(*slot);
		return -EMFILE;
	}
	struct ncs_cmd c = {.op = NCS_OP_SOCKET, .slot = *slot,
			    .a = {type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol}};
	struct ncs_reply r;
	if ((err = nc__call(&c, &r)) < 0) {
		nc__k.close(*fd);
		nc__slot_free(*slot);
	}
	return err;
}

#define NC_SOCK_TYPE_MASK 0xf	/* Linux's SOCK_TYPE_MASK */
#define NC_SOCK_MAX 11		/* Linux's SOCK_MAX */
#define NC_IPPROTO_MAX 263	/* Linux's IPPROTO_MAX */

int nc_socket(int domain, int type, int protocol)
{
	uint32_t slot;
	int fd, base = type & NC_SOCK_TYPE_MASK;
	if (domain != AF_INET)
		return nc__k.socket(domain, type, protocol);
	/* the checks of socket(2) and __sock_create, then inet_create's */
	if ((type & ~NC_SOCK_TYPE_MASK) & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return nc__err(-EINVAL);
	if (base >= NC_SOCK_MAX || protocol < 0 || protocol >= NC_IPPROTO_MAX)
		return nc__err(-EINVAL);
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return base == SOCK_RAW ? nc__k.socket(domain, type, protocol) : nc__err(-ESOCKTNOSUPPORT);
	int err = sock_open(type, protocol, &slot, &fd);
	if (err)
		return nc__err(err);
	if (!nc__sock_attach(fd, slot, base, type & SOCK_NONBLOCK)) {
		struct nc_sock tmp = {.slot = slot};
		nc__sock_cmd(&tmp, NCS_OP_CLOSE, 0, NULL);
		nc__k.close(fd);
		nc__slot_free(slot);
		return nc__err(-ENOBUFS);
	}
	return fd;
}

/* ---- binding, listening, connecting ---- */

static int addr_cmd(struct nc_sock *s, uint16_t op, const struct sockaddr *sa, socklen_t len)
{
	struct ncs_cmd c = {.op = op, .slot = s->slot};
	struct ncs_reply r;
	int err = nc__sockaddr_in(sa, len, NC_ADDR_BIND, &c.addr, &c.port);
	if (err)
		return err;
	return nc__call(&c, &r);
}

/* The end of a public call on a held socket: let go, then set errno. */
static int done(struct nc_sock *s, int r)
{
	nc__sock_put(s);
	return nc__err(r);
}

int nc_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.bind(fd, addr, len);
	return done(s, addr_cmd(s, NCS_OP_BIND, addr, len));
}

int nc_listen(int fd, int backlog)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.listen(fd, backlog);
	return done(s, nc__sock_cmd(s, NCS_OP_LISTEN, backlog, NULL));
}

static bool connect_settled(struct nc_sock *s)
{
	return !(__atomic_load_n(&s->shm->flags, __ATOMIC_ACQUIRE) & NCS_SLOT_CONNECTING);
}

/* A blocking connect waits for the handshake; 1 once it has settled, when
 * connecting again gives the outcome and moves netd's socket on, as the
 * end of Linux's __inet_stream_connect does. */
static int connect_wait(struct nc_sock *s)
{
	int64_t deadline = nc__deadline(s->sndtimeo_ns);
	while (!connect_settled(s)) {
		int err = nc__wait(s, NC_WAIT_STATE, connect_settled, deadline);
		if (err == -EAGAIN)
			return -EINPROGRESS;
		if (err == -ENETDOWN)
			return -ECONNREFUSED;
		if (err)
			return err;
	}
	return 1;	/* settled: connect again for the outcome */
}

static int sock_connect(struct nc_sock *s, const struct sockaddr *sa, socklen_t len)
{
	struct ncs_cmd c = {.op = NCS_OP_CONNECT, .slot = s->slot};
	struct ncs_reply r;
	/* inet_*_connect: a family at least, and AF_UNSPEC disconnects */
	if ((int)len < 0 || len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len && !sa)
		return -EFAULT;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_UNSPEC) {
		c.a[0] = 1;
	} else {
		int err = nc__sockaddr_in(sa, len, NC_ADDR_CONNECT, &c.addr, &c.port);
		if (err)
			return err;
	}
	int err = nc__call(&c, &r);
	if (s->type == SOCK_DGRAM && err == 0)
		s->udp_connected = !c.a[0];
	if (err == -EINPROGRESS && !s->nonblock && (err = connect_wait(s)) == 1)
		err = nc__call(&c, &r);
	return err;
}

int nc_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.connect(fd, addr, len);
	return done(s, sock_connect(s, addr, len));
}

/* ---- accepting ---- */

/* A listener keeps one registered slot ready for the next connection. */
static int accept_spare(struct nc_sock *s, int flags)
{
	if (s->child_fd >= 0)
		return 0;
	s->child_fd = nc__slot_open(&s->child_slot, (flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (s->child_fd < 0) {
		int err = s->child_fd;
		s->child_fd = -1;
		return err;
	}
	if (s->child_fd >= NC_FD_MAX) {
		nc__k.close(s->child_fd);
		nc__slot_free(s->child_slot);
		s->child_fd = -1;
		return -EMFILE;
	}
	return 0;
}

static bool accept_ready(struct nc_sock *s)
{
	uint32_t ev = __atomic_load_n(&s->shm->events, __ATOMIC_ACQUIRE);
	return (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 ||
	       !(__atomic_load_n(&s->shm->flags, __ATOMIC_ACQUIRE) & NCS_SLOT_LISTENING);
}

static int accept_one(struct nc_sock *s, struct ncs_reply *r)
{
	struct ncs_cmd c = {.op = NCS_OP_ACCEPT, .slot = s->slot, .a = {(int32_t)s->child_slot}};
	return nc__call(&c, r);
}

static int sock_accept(struct nc_sock *s, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct ncs_reply r;
	int64_t deadline = nc__deadline(s->rcvtimeo_ns);
	int err;
	pthread_mutex_lock(&s->rx_lock);
	while ((err = accept_spare(s, flags)) == 0 && (err = accept_one(s, &r)) == -EAGAIN &&
	       !s->nonblock) {
		err = nc__wait(s, NC_WAIT_STATE, accept_ready, deadline);
		if (err)
			break;
	}
	int fd = s->child_fd;
	uint32_t slot = s->child_slot;
	if (err == 0)
		s->child_fd = -1;
	pthread_mutex_unlock(&s->rx_lock);
	if (err)
		return err == -ENETDOWN ? -ECONNABORTED : err;
	if (!nc__sock_attach(fd, slot, SOCK_STREAM, flags & SOCK_NONBLOCK))
		return -ENOBUFS;
	if (flags & SOCK_CLOEXEC)
		nc__k.fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* as Linux, a peer address that cannot be given loses the connection */
	if (addr && (err = nc__fill_sockaddr(addr, len, r.addr, r.port)) < 0) {
		nc_close(fd);
		return err;
	}
	return fd;
}

int nc_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.accept4(fd, addr, len, flags);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return done(s, -EINVAL);
	if (s->type != SOCK_STREAM)
		return done(s, -EOPNOTSUPP);
	return done(s, sock_accept(s, addr, len, flags));
}

int nc_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return nc_accept4(fd, addr, len, 0);
}

/* ---- ending ---- */

int nc_shutdown(int fd, int how)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.shutdown(fd, how);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return done(s, -EINVAL);
	return done(s, nc__sock_cmd(s, NCS_OP_SHUTDOWN, how, NULL));
}

/* Our FIN sent and not yet acknowledged: what a lingering close waits out. */
static bool fin_settled(struct nc_sock *s)
{
	uint32_t state = __atomic_load_n(&s->shm->tcp_state, __ATOMIC_ACQUIRE);
	return state != TCP_FIN_WAIT1 && state != TCP_CLOSING && state != TCP_LAST_ACK;
}

/* SO_LINGER with a timeout: send the FIN and wait, up to the timeout, for
 * the peer to acknowledge everything (Linux's sk_stream_wait_close). A
 * close that resets (unread data) does not wait. */
static void close_linger(struct nc_sock *s)
{
	uint32_t f = __atomic_load_n(&s->shm->flags, __ATOMIC_ACQUIRE);
	if (s->type != SOCK_STREAM || s->linger_secs <= 0 || !(f & NCS_SLOT_ESTABLISHED) ||
	    nc__inq(s) > 0)
		return;
	if (nc__sock_cmd(s, NCS_OP_SHUTDOWN, SHUT_WR, NULL) < 0)
		return;
	int64_t deadline = nc__deadline((int64_t)s->linger_secs * 1000000000);
	while (!fin_settled(s) && nc__wait(s, NC_WAIT_STATE, fin_settled, deadline) == 0)
		;
}

/* The last holder has let go: netd closes the socket (and its copy of the
 * eventfd), the slot and the descriptor come free. */
static void sock_release(struct nc_sock *s)
{
	nc__sock_cmd(s, NCS_OP_CLOSE, 0, NULL);
	if (s->child_fd >= 0) {
		nc__k.close(s->child_fd);
		nc__slot_free(s->child_slot);
	}
	nc__slot_free(s->slot);
	nc__k.close(s->fd);
	pthread_mutex_destroy(&s->rx_lock);
	pthread_mutex_destroy(&s->tx_lock);
	free(s);
}

/* Takes fd out of the table. As on Linux, a call blocked on the socket in
 * another thread goes on (data or an error still end it); the socket goes
 * when the last call holding it returns. */
int nc_close(int fd)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.close(fd);
	close_linger(s);
	pthread_rwlock_wrlock(&nc_table_lock);
	bool mine = nc_table[fd] == s;
	if (mine)
		nc_table[fd] = NULL;
	pthread_rwlock_unlock(&nc_table_lock);
	if (mine)
		nc__sock_put(s);	/* the table's reference */
	nc__sock_put(s);
	return mine ? 0 : nc__err(-EBADF);
}

/* ---- options and names ---- */

static int64_t timeval_ns(const void *val, socklen_t len, int *err)
{
	struct timeval tv;
	if (len < sizeof(tv)) {
		*err = -EINVAL;
		return 0;
	}
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
		*err = -EDOM;
		return 0;
	}
	*err = 0;
	/* Linux: negative means "do not wait", zero "wait for ever" */
	return tv.tv_sec < 0 ? -1 : (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
}

/* Options the library keeps itself: the timeouts of its blocking calls. */
static int setsockopt_local(struct nc_sock *s, int name, const void *val, socklen_t len)
{
	int err;
	int64_t ns = timeval_ns(val, len, &err);
	if (err)
		return err;
	if (name == SO_RCVTIMEO)
		s->rcvtimeo_ns = ns;
	else
		s->sndtimeo_ns = ns;
	return 0;
}

static int sock_setsockopt(struct nc_sock *s, int level, int name, const void *val,
			   socklen_t len)
{
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return val ? setsockopt_local(s, name, val, len) : -EFAULT;
	if (!val && len)
		return -EFAULT;
	struct ncs_cmd c = {.op = NCS_OP_SETSOCKOPT, .slot = s->slot,
			    .a = {level, name, (int32_t)MIN_LEN(len, NCS_CMD_DATA)}};
	struct ncs_reply r;
	if (c.a[2])
		memcpy(c.data, val, (size_t)c.a[2]);
	int err = nc__call(&c, &r);
	if (!err && level == SOL_SOCKET && name == SO_BROADCAST && len >= sizeof(int))
		s->broadcast = *(const int *)val != 0;
	if (!err && level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger)) {
		const struct linger *l = val;
		s->linger_secs = l->l_onoff ? l->l_linger : -1;
	}
	return err;
}

int nc_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.setsockopt(fd, level, name, val, len);
	return done(s, sock_setsockopt(s, level, name, val, len));
}

static int getsockopt_local(struct nc_sock *s, int name, void *val, socklen_t *len)
{
	if (*len && !val)
		return -EFAULT;
	int64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
	ns = ns < 0 ? 0 : ns;
	struct timeval tv = {.tv_sec = ns / 1000000000, .tv_usec = (ns % 1000000000) / 1000};
	socklen_t n = MIN_LEN(*len, sizeof(tv));
	if (n)
		memcpy(val, &tv, n);
	*len = n;
	return 0;
}

static int sock_getsockopt(struct nc_sock *s, int level, int name, void *val, socklen_t *len)
{
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO))
		return getsockopt_local(s, name, val, len);
	struct ncs_cmd c = {.op = NCS_OP_GETSOCKOPT, .slot = s->slot,
			    .a = {level, name, (int32_t)MIN_LEN(*len, NCS_REPLY_DATA)}};
	struct ncs_reply r;
	int err = nc__call(&c, &r);
	if (err)
		return err;
	*len = MIN_LEN(r.len, *len);
	if (*len && !val)
		return -EFAULT;
	if (*len)
		memcpy(val, r.data, *len);
	return 0;
}

int nc_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.getsockopt(fd, level, name, val, len);
	return done(s, sock_getsockopt(s, level, name, val, len));
}

static int sock_getname(struct nc_sock *s, int peer, struct sockaddr *addr, socklen_t *len)
{
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	struct ncs_reply r;
	int err = nc__sock_cmd(s, NCS_OP_GETNAME, peer, &r);
	if (err)
		return err;
	return nc__fill_sockaddr(addr, len, r.addr, r.port);
}

static int sock_name(int fd, int peer, struct sockaddr *addr, socklen_t *len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return peer ? nc__k.getpeername(fd, addr, len) : nc__k.getsockname(fd, addr, len);
	return done(s, sock_getname(s, peer, addr, len));
}

int nc_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sock_name(fd, 0, addr, len);
}

int nc_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sock_name(fd, 1, addr, len);
}

/* ---- descriptor control ---- */

int nc_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.fcntl(fd, cmd, arg);
	int r;
	switch (cmd) {
	case F_GETOWN:
		r = s->owner_pid;
		break;
	case F_SETOWN:
		s->owner_pid = (int)arg;
		r = 0;
		break;
	case F_GETFL:
		r = O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		s->nonblock = (arg & O_NONBLOCK) != 0;
		r = 0;
		break;
	case F_GETFD:
		r = nc__k.fcntl(fd, F_GETFD);
		r = r < 0 ? -errno : r;
		break;
	case F_SETFD:
		r = nc__k.fcntl(fd, F_SETFD, arg) < 0 ? -errno : 0;
		break;
	default:
		r = -EINVAL;
	}
	return done(s, r);
}

int nc_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	int *val = va_arg(ap, int *);
	va_end(ap);
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.ioctl(fd, request, val);
	int n;
	switch (request) {
	case FIONBIO:
		s->nonblock = *val != 0;
		n = 0;
		break;
	case FIONREAD:
		n = nc__inq(s);
		break;
	case SIOCOUTQ:
		n = nc__outq(s);
		break;
	default:
		n = -ENOTTY;
	}
	if (n >= 0 && request != FIONBIO)
		*val = n;
	return done(s, n < 0 ? n : 0);
}
