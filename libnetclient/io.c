/*
 * io.c: data through a socket's rings (proto/shm.h). Streams copy bytes
 * straight between the caller's iovecs and the rings; datagrams go as one
 * framed record each. The fast path asks netd nothing: the slot's flags
 * say whether sending is allowed and whether more data can come. When they
 * say something unusual (an error, an end, no connection), one command
 * (SENDCHECK, RECVCHECK) asks netd for the exact answer Linux would give.
 *
 * A call that finds nothing to do and may not wait returns EAGAIN after
 * asking netd to write the socket's eventfd on the next change, so a
 * program polling the descriptor with the kernel's poll(2) is woken too.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "libnetclient/include/netclient.h"
#include "libnetclient/nc-internal.h"

/* A position in an iovec array. */
struct iov_cur {
	const struct iovec *iov;
	int cnt, i;
	size_t off;
};

static size_t iov_total(const struct iovec *iov, int cnt, int *err)
{
	size_t total = 0;
	*err = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total) {
			*err = -EINVAL;
			return 0;
		}
		total += iov[i].iov_len;
	}
	return total;
}

/* Copies n bytes between the cursor and a ring at position pos. */
static void ring_iov_copy(uint8_t *area, uint32_t size, uint32_t pos, struct iov_cur *c,
			  uint32_t n, int in)
{
	while (n) {
		const struct iovec *v = &c->iov[c->i];
		uint32_t k = (uint32_t)MIN_LEN(v->iov_len - c->off, n);
		ncs_ring_copy(area, size, pos, (uint8_t *)v->iov_base + c->off, k, in);
		pos += k;
		n -= k;
		c->off += k;
		if (c->off == v->iov_len) {
			c->i++;
			c->off = 0;
		}
	}
}

static uint32_t ring_size(void)
{
	return nc__session.layout.data_ring_size;
}

static uint32_t flags_of(const struct nc_sock *s)
{
	return __atomic_load_n(&s->shm->flags, __ATOMIC_ACQUIRE);
}

static uint32_t rx_used(const struct nc_sock *s)
{
	uint32_t used = nc__load_acquire(&s->shm->rx.head) - s->rx_tail;
	return used > ring_size() ? 0 : used;
}

static uint32_t tx_free(const struct nc_sock *s)
{
	uint32_t used = s->tx_head - nc__load_acquire(&s->shm->tx.tail);
	return used > ring_size() ? 0 : ring_size() - used;
}

static void cmd_kick(struct nc_sock *s, uint16_t op)
{
	struct ncs_cmd c = {.op = op, .reply = NCS_NO_REPLY, .slot = s->slot};
	nc__post(&c);
}

/* Nothing to do now. A blocking call waits for what (0: look again). A
 * non-blocking one gets EAGAIN, after the eventfd is drained and armed for
 * the next change, so that a program polling the descriptor itself is
 * woken; 0 if what it waits for came meanwhile after all. */
static int wait_or_again(struct nc_sock *s, bool nonblock, enum nc_wait_for what,
			 bool (*ready)(struct nc_sock *), int64_t deadline)
{
	if (!nonblock)
		return nc__wait(s, what, ready, deadline);
	uint32_t *flag = what == NC_WAIT_RX ? &s->shm->rx.consumer_waiting :
					      &s->shm->tx.producer_waiting;
	nc__eventfd_reset(s->fd);
	__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ready(s) ? 0 : -EAGAIN;
}

static void sigpipe(int flags)
{
	if (!(flags & MSG_NOSIGNAL))
		pthread_kill(pthread_self(), SIGPIPE);
}

/* ---- sending ---- */

static void tx_publish(struct nc_sock *s)
{
	nc__store_release(&s->shm->tx.head, s->tx_head);
	if (nc__take_flag(&s->shm->tx.consumer_waiting))
		cmd_kick(s, NCS_OP_TX);
}

/* 0 if bytes may go into the ring now, else what send says (EAGAIN while
 * the handshake runs). */
static int stream_send_state(struct nc_sock *s)
{
	uint32_t f = flags_of(s);
	if (nc__session.dead)
		return -EPIPE;
	if ((f & NCS_SLOT_CONNECTED) && !(f & NCS_SLOT_ERROR))
		return 0;
	return nc__sock_cmd(s, NCS_OP_SENDCHECK, 0, NULL);
}

static bool send_ready(struct nc_sock *s)
{
	uint32_t f = flags_of(s);
	return tx_free(s) > 0 || !(f & NCS_SLOT_CONNECTED) || (f & NCS_SLOT_ERROR);
}

static ssize_t stream_send(struct nc_sock *s, struct iov_cur *cur, size_t total, int flags)
{
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = nc__deadline(s->sndtimeo_ns);
	size_t sent = 0;
	int err = 0;

	pthread_mutex_lock(&s->tx_lock);
	for (;;) {
		err = stream_send_state(s);
		if ((err == 0 && sent == total) || (err && err != -EAGAIN))
			break;
		uint32_t room = err ? 0 : tx_free(s);
		if (room) {
			uint32_t n = (uint32_t)MIN_LEN(room, total - sent);
			ring_iov_copy(s->tx_area, ring_size(), s->tx_head, cur, n, 1);
			s->tx_head += n;
			sent += n;
			tx_publish(s);
			continue;
		}
		if ((err = wait_or_again(s, nonblock, NC_WAIT_TX, send_ready, deadline)) < 0)
			break;
	}
	pthread_mutex_unlock(&s->tx_lock);
	if (sent)
		return (ssize_t)sent;
	if (err == -EPIPE)
		sigpipe(flags);
	return err == -ENETDOWN ? -EPIPE : err;
}

/* The checks Linux makes before a datagram leaves, where they need no
 * look at netd's state. */
static int dgram_dest(struct nc_sock *s, const struct sockaddr *dst, socklen_t dstlen,
		      size_t len, struct ncs_dgram *d)
{
	if (len > 0xffff)	/* udp_sendmsg's first check; the address comes next */
		return -EMSGSIZE;
	d->len = (uint32_t)len;
	if (dst) {
		int err = nc__sockaddr_in(dst, dstlen, NC_ADDR_SENDTO, &d->addr, &d->port);
		if (err)
			return err;
		if (d->port == 0)
			return -EINVAL;
		d->flags = NCS_DGRAM_TO;
	} else if (!s->udp_connected) {
		return -EDESTADDRREQ;
	}
	if (len > NCS_DGRAM_MAX || ncs_dgram_space((uint32_t)len) > ring_size())
		return -EMSGSIZE;
	if (dst && d->addr == INADDR_BROADCAST && !s->broadcast)
		return -EACCES;
	return 0;
}

static bool dgram_room(struct nc_sock *s, uint32_t need)
{
	return tx_free(s) >= need || (flags_of(s) & NCS_SLOT_ERROR);
}

static bool dgram_send_ready(struct nc_sock *s)
{
	return dgram_room(s, ring_size() / 2);
}

static ssize_t dgram_send(struct nc_sock *s, struct iov_cur *cur, size_t total, int flags,
			  const struct sockaddr *dst, socklen_t dstlen)
{
	struct ncs_dgram d = {0};
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = nc__deadline(s->sndtimeo_ns);
	int err = dgram_dest(s, dst, dstlen, total, &d);
	uint32_t need = ncs_dgram_space((uint32_t)total);

	if (err)
		return err;
	pthread_mutex_lock(&s->tx_lock);
	for (;;) {
		if (nc__session.dead) {
			err = -ENETDOWN;
			break;
		}
		if ((flags_of(s) & (NCS_SLOT_ERROR | NCS_SLOT_CONNECTED)) != NCS_SLOT_CONNECTED &&
		    (err = nc__sock_cmd(s, NCS_OP_SENDCHECK, 0, NULL)) < 0)
			break;
		if (tx_free(s) >= need) {
			ncs_ring_copy(s->tx_area, ring_size(), s->tx_head, &d, sizeof(d), 1);
			ring_iov_copy(s->tx_area, ring_size(), s->tx_head + (uint32_t)sizeof(d), cur,
				      (uint32_t)total, 1);
			s->tx_head += need;
			tx_publish(s);
			err = 0;
			break;
		}
		if ((err = wait_or_again(s, nonblock, NC_WAIT_TX, dgram_send_ready, deadline)) < 0)
			break;
	}
	pthread_mutex_unlock(&s->tx_lock);
	return err ? err : (ssize_t)total;
}

ssize_t nc__send_iov(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
		     const struct sockaddr *dst, socklen_t dstlen)
{
	int err;
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	size_t total = iov_total(iov, iovcnt, &err);
	if (err)
		return err;
	/* UDP refuses urgent data; TCP sends it in band, without the URG flag */
	if ((flags & MSG_OOB) && s->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	struct iov_cur cur = {.iov = iov, .cnt = iovcnt};
	if (s->type == SOCK_STREAM) {
		/* TCP ignores a destination, once the kernel has copied it in */
		if (dst && (int)dstlen > (int)sizeof(struct sockaddr_storage))
			return -EINVAL;
		return stream_send(s, &cur, total, flags);
	}
	return dgram_send(s, &cur, total, flags, dst, dstlen);
}

/* ---- receiving ---- */

static void rx_consume(struct nc_sock *s, uint32_t n)
{
	s->rx_tail += n;
	nc__store_release(&s->shm->rx.tail, s->rx_tail);
	if (nc__take_flag(&s->shm->rx.producer_waiting))
		cmd_kick(s, NCS_OP_RX);
}

static bool recv_ready(struct nc_sock *s)
{
	uint32_t f = flags_of(s);
	return rx_used(s) > 0 || (f & (NCS_SLOT_RX_EOF | NCS_SLOT_ERROR)) ||
	       (s->type == SOCK_STREAM && !(f & (NCS_SLOT_ESTABLISHED | NCS_SLOT_CONNECTING)));
}

/* Nothing in the ring: 0 to wait, 1 at the end of the stream, or the
 * error recv gives (netd is asked when the flags say something unusual). */
static int stream_empty_state(struct nc_sock *s)
{
	uint32_t f = flags_of(s);
	if (nc__session.dead)
		return -ECONNRESET;
	if ((f & NCS_SLOT_RX_EOF) && !(f & NCS_SLOT_ERROR))
		return 1;
	if (!(f & NCS_SLOT_ERROR) && (f & (NCS_SLOT_ESTABLISHED | NCS_SLOT_CONNECTING)))
		return 0;
	int r = nc__sock_cmd(s, NCS_OP_RECVCHECK, 0, NULL);
	return r == -EAGAIN ? 0 : r == 0 ? 1 : r;
}

static ssize_t stream_recv(struct nc_sock *s, struct iov_cur *cur, size_t total, int flags)
{
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK, waitall = (flags & MSG_WAITALL) && !peek;
	int64_t deadline = nc__deadline(s->rcvtimeo_ns);
	size_t got = 0;
	int err = 0;

	pthread_mutex_lock(&s->rx_lock);
	while (got < total) {
		uint32_t used = rx_used(s);
		if (used) {
			uint32_t n = (uint32_t)MIN_LEN(used, total - got);
			ring_iov_copy(s->rx_area, ring_size(), s->rx_tail, cur, n, 0);
			got += n;
			if (!peek)
				rx_consume(s, n);
			if (!waitall)
				break;
			continue;
		}
		int st = stream_empty_state(s);
		if (st) {
			err = st < 0 ? st : 0;
			break;
		}
		if ((err = wait_or_again(s, nonblock, NC_WAIT_RX, recv_ready, deadline)) < 0)
			break;
	}
	pthread_mutex_unlock(&s->rx_lock);
	if (got)
		return (ssize_t)got;
	return err == -ENETDOWN ? -ECONNRESET : err;
}

/* Takes (or peeks at) the datagram at the ring's tail. */
static ssize_t dgram_take(struct nc_sock *s, struct iov_cur *cur, size_t total, int flags,
			  struct sockaddr *src, socklen_t *srclen, int *msg_flags)
{
	struct ncs_dgram d;
	ncs_ring_copy(s->rx_area, ring_size(), s->rx_tail, &d, sizeof(d), 0);
	uint32_t n = (uint32_t)MIN_LEN(d.len, total);
	ring_iov_copy(s->rx_area, ring_size(), s->rx_tail + (uint32_t)sizeof(d), cur, n, 0);
	if (src && srclen)
		nc__fill_sockaddr(src, srclen, d.addr, d.port);
	if (d.len > total && msg_flags)
		*msg_flags |= MSG_TRUNC;
	if (!(flags & MSG_PEEK))
		rx_consume(s, ncs_dgram_space(d.len));
	return (flags & MSG_TRUNC) ? (ssize_t)d.len : (ssize_t)n;
}

static ssize_t dgram_recv(struct nc_sock *s, struct iov_cur *cur, size_t total, int flags,
			  struct sockaddr *src, socklen_t *srclen, int *msg_flags)
{
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int64_t deadline = nc__deadline(s->rcvtimeo_ns);
	ssize_t ret;

	pthread_mutex_lock(&s->rx_lock);
	for (;;) {
		uint32_t f = flags_of(s);
		if (nc__session.dead) {
			ret = -ENETDOWN;
			break;
		}
		if ((f & NCS_SLOT_ERROR) &&
		    (ret = nc__sock_cmd(s, NCS_OP_RECVCHECK, 0, NULL)) < 0 && ret != -EAGAIN)
			break;
		if (rx_used(s) >= sizeof(struct ncs_dgram)) {
			ret = dgram_take(s, cur, total, flags, src, srclen, msg_flags);
			break;
		}
		if (f & NCS_SLOT_RX_EOF) {	/* __skb_recv_udp: 0 only when it would wait */
			ret = nonblock ? -EAGAIN : 0;
			break;
		}
		if ((ret = wait_or_again(s, nonblock, NC_WAIT_RX, recv_ready, deadline)) < 0)
			break;
	}
	pthread_mutex_unlock(&s->rx_lock);
	return ret == -ENETDOWN ? -ECONNRESET : ret;
}

ssize_t nc__recv_iov(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
		     struct sockaddr *src, socklen_t *srclen, int *msg_flags)
{
	int err;
	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return -EINVAL;
	size_t total = iov_total(iov, iovcnt, &err);
	if (err)
		return err;
	if ((flags & MSG_OOB) && s->type == SOCK_STREAM)
		return -EINVAL;	/* no urgent data is ever kept (UDP ignores the flag) */
	struct iov_cur cur = {.iov = iov, .cnt = iovcnt};
	if (s->type == SOCK_STREAM) {
		if (flags_of(s) & NCS_SLOT_LISTENING)
			return -ENOTCONN;
		ssize_t n = stream_recv(s, &cur, total, flags);
		if (n >= 0 && src && srclen)
			*srclen = 0;	/* Linux leaves a stream's msg_name empty */
		return n;
	}
	return dgram_recv(s, &cur, total, flags, src, srclen, msg_flags);
}

/* ---- readiness and queue sizes ---- */

static uint32_t stream_events(struct nc_sock *s, uint32_t f, uint32_t ev)
{
	uint32_t out = ev & (EPOLLERR | EPOLLHUP);
	if (f & NCS_SLOT_LISTENING)
		return ev & (EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP);
	if (rx_used(s) || (f & NCS_SLOT_RX_EOF))
		out |= EPOLLIN | EPOLLRDNORM;
	if (f & NCS_SLOT_RX_EOF)
		out |= EPOLLRDHUP;
	if (f & NCS_SLOT_CONNECTED)
		out |= tx_free(s) >= ring_size() / 4 ? EPOLLOUT | EPOLLWRNORM : 0;
	else
		out |= ev & (EPOLLOUT | EPOLLWRNORM);
	return out;
}

static uint32_t dgram_events(struct nc_sock *s, uint32_t f, uint32_t ev)
{
	uint32_t out = ev & (EPOLLERR | EPOLLHUP);
	if (rx_used(s) || (f & NCS_SLOT_RX_EOF))
		out |= EPOLLIN | EPOLLRDNORM;
	if (tx_free(s) >= ring_size() / 2)
		out |= EPOLLOUT | EPOLLWRNORM;
	return out;
}

uint32_t nc__events(struct nc_sock *s)
{
	if (nc__session.dead)
		return EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT;
	uint32_t f = flags_of(s);
	uint32_t ev = __atomic_load_n(&s->shm->events, __ATOMIC_ACQUIRE);
	return s->type == SOCK_STREAM ? stream_events(s, f, ev) : dgram_events(s, f, ev);
}

int nc_socket_events(int fd, uint32_t *events)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__err(-EBADF);
	*events = nc__events(s);
	nc__sock_put(s);
	return 0;
}

int nc__inq(struct nc_sock *s)
{
	uint32_t f = flags_of(s);
	if (f & NCS_SLOT_LISTENING)
		return -EINVAL;
	uint32_t netd_bytes = __atomic_load_n(&s->shm->netd_rx_bytes, __ATOMIC_RELAXED);
	if (s->type == SOCK_STREAM)
		return (int)(rx_used(s) + netd_bytes);
	if (rx_used(s) >= sizeof(struct ncs_dgram)) {
		struct ncs_dgram d;
		ncs_ring_copy(s->rx_area, ring_size(), s->rx_tail, &d, sizeof(d), 0);
		return (int)d.len;
	}
	return (int)netd_bytes;
}

int nc__outq(struct nc_sock *s)
{
	if (flags_of(s) & NCS_SLOT_LISTENING)
		return -EINVAL;
	uint32_t queued = ring_size() - tx_free(s);
	return (int)(queued + __atomic_load_n(&s->shm->netd_tx_bytes, __ATOMIC_RELAXED));
}

/* ---- the public data calls ---- */

/* Each holds the socket for the length of the call (nc__sock_hold), so a
 * close in another thread cannot pull it away; errno is set last. */
static ssize_t send_held(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
			 const struct sockaddr *dst, socklen_t dstlen)
{
	ssize_t r = nc__send_iov(s, iov, iovcnt, flags, dst, dstlen);
	nc__sock_put(s);
	return nc__errs(r);
}

static ssize_t recv_held(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
			 struct sockaddr *src, socklen_t *srclen, int *msg_flags)
{
	ssize_t r = nc__recv_iov(s, iov, iovcnt, flags, src, srclen, msg_flags);
	nc__sock_put(s);
	return nc__errs(r);
}

ssize_t nc_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.sendmsg(fd, msg, flags);
	return send_held(s, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			 msg->msg_namelen);
}

ssize_t nc_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
		  socklen_t destlen)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.sendto(fd, buf, len, flags, dest, destlen);
	struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
	return send_held(s, &v, 1, flags, dest, destlen);
}

ssize_t nc_send(int fd, const void *buf, size_t len, int flags)
{
	return nc_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t nc_write(int fd, const void *buf, size_t len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.write(fd, buf, len);
	struct iovec v = {.iov_base = (void *)buf, .iov_len = len};
	return send_held(s, &v, 1, 0, NULL, 0);
}

ssize_t nc_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.writev(fd, iov, iovcnt);
	return send_held(s, iov, iovcnt, 0, NULL, 0);
}

ssize_t nc_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.recvmsg(fd, msg, flags);
	int mflags = 0;
	socklen_t namelen = msg->msg_namelen;
	ssize_t n = recv_held(s, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			      msg->msg_name ? &namelen : NULL, &mflags);
	if (n >= 0) {
		msg->msg_namelen = msg->msg_name ? namelen : 0;
		msg->msg_controllen = 0;
		msg->msg_flags = mflags;
	}
	return n;
}

ssize_t nc_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
		    socklen_t *srclen)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.recvfrom(fd, buf, len, flags, src, srclen);
	struct iovec v = {.iov_base = buf, .iov_len = len};
	if (src && !srclen) {	/* received, then the address cannot be given */
		ssize_t n = recv_held(s, &v, 1, flags, NULL, NULL, NULL);
		return n < 0 ? n : nc__errs(-EFAULT);
	}
	return recv_held(s, &v, 1, flags, src, srclen, NULL);
}

ssize_t nc_recv(int fd, void *buf, size_t len, int flags)
{
	return nc_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t nc_read(int fd, void *buf, size_t len)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.read(fd, buf, len);
	struct iovec v = {.iov_base = buf, .iov_len = len};
	return recv_held(s, &v, 1, 0, NULL, NULL, NULL);
}

ssize_t nc_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct nc_sock *s = nc__sock_hold(fd);
	if (!s)
		return nc__k.readv(fd, iov, iovcnt);
	return recv_held(s, iov, iovcnt, 0, NULL, NULL, NULL);
}
