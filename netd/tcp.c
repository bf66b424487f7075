/*
 * tcp.c: the socket side of TCP (see tcp.h for the split): the calls of
 * the socket API for SOCK_STREAM sockets with Linux's errno in each case,
 * the connection table by 4-tuple and the listener lookup, listeners'
 * SYN and accept queues, initial sequence numbers (RFC 6528), state
 * changes, and the end of a connection.
 *
 * Buffers follow Linux's defaults: a send buffer of tcp_wmem[1] bytes that
 * grows with the congestion window up to SO_SNDBUF's maximum unless the
 * application set SO_SNDBUF, and a receive buffer of tcp_rmem[1] bytes (or
 * SO_RCVBUF) whose free space is the window we advertise.
 */
#include "config.h"

#include <errno.h>
#include <linux/tcp.h>
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "util.h"
#include "wire/ipv4.h"

#define TCP_SOMAXCONN 4096
#define TCP_SNDBUF_MAX (4u << 20)	/* tcp_wmem[2] */
#define TCP_RCV_WSCALE 7		/* what Linux offers with its default buffers */

/* ---- the connection table ---- */

static unsigned ehash_bucket(const struct stack *st, uint32_t laddr, uint16_t lport,
			     uint32_t raddr, uint16_t rport)
{
	uint64_t x = ((uint64_t)raddr << 32 | laddr) ^ st->socks.isn_key[1];
	x ^= (uint64_t)rport << 16 | lport;
	x *= 0x9e3779b97f4a7c15ULL;
	return (unsigned)(x >> 52) % TCP_EHASH_BUCKETS;
}

static void tcp_hash(struct tcp_sock *tp)
{
	struct sock *sk = tp->sk;
	struct tcp_sock **b = &tp->st->socks.ehash[ehash_bucket(tp->st, sk->laddr, sk->lport,
								 sk->raddr, sk->rport)];
	if (tp->hashed)
		return;
	tp->hash_next = *b;
	*b = tp;
	tp->hashed = true;
}

static void tcp_unhash(struct tcp_sock *tp)
{
	struct sock *sk = tp->sk;
	struct tcp_sock **pp = &tp->st->socks.ehash[ehash_bucket(tp->st, sk->laddr, sk->lport,
								  sk->raddr, sk->rport)];
	if (!tp->hashed)
		return;
	while (*pp && *pp != tp)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = tp->hash_next;
	tp->hash_next = NULL;
	tp->hashed = false;
}

struct tcp_sock *tcp_lookup_established(struct stack *st, uint32_t laddr, uint16_t lport,
					uint32_t raddr, uint16_t rport)
{
	struct tcp_sock *tp = st->socks.ehash[ehash_bucket(st, laddr, lport, raddr, rport)];
	for (; tp; tp = tp->hash_next) {
		const struct sock *sk = tp->sk;
		if (sk->lport == lport && sk->rport == rport && sk->laddr == laddr &&
		    sk->raddr == raddr)
			return tp;
	}
	return NULL;
}

struct tcp_sock *tcp_lookup_listener(struct stack *st, uint32_t laddr, uint16_t lport)
{
	struct sock *sk = st->socks.tcp.buckets[lport % SOCK_PORT_BUCKETS];
	struct tcp_sock *wild = NULL;
	for (; sk; sk = sk->port_next) {
		if (sk->lport != lport || !sk->tcp || sk->tcp->state != TCP_LISTEN)
			continue;
		if (sk->laddr == laddr)
			return sk->tcp;
		if (sk->laddr == 0 && !wild)
			wild = sk->tcp;
	}
	return wild;
}

/* ---- life of a tcp_sock ---- */

static void tcp_defaults(struct tcp_sock *tp)
{
	tp->state = TCP_CLOSE;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->keepidle_s = TCP_DEFAULT_KEEPIDLE_S;
	tp->keepintvl_s = TCP_DEFAULT_KEEPINTVL_S;
	tp->keepcnt = TCP_DEFAULT_KEEPCNT;
	tp->mss = TCP_DEFAULT_MSS;
	tp->ts_offset = (uint32_t)rng_next(&tp->st->rng);
	tcp_cc_init(&tp->cc, TCP_CC_DEFAULT);
	tcp_timers_init(tp);
}

int tcp_create(struct sock *sk)
{
	struct sock_table *t = &sk->st->socks;
	struct tcp_sock *tp = t->tcp_free;
	if (!tp)
		return -ENFILE;
	t->tcp_free = tp->hash_next;
	memset(tp, 0, sizeof(*tp));
	tp->sk = sk;
	tp->st = sk->st;
	sk->tcp = tp;
	sk->opts.sndbuf = TCP_WMEM_DEFAULT;
	sk->opts.rcvbuf = TCP_RMEM_DEFAULT;
	tcp_defaults(tp);
	return 0;
}

void tcp_destroy(struct tcp_sock *tp)
{
	struct sock_table *t = &tp->st->socks;
	tcp_timers_cancel(tp);
	tcp_unhash(tp);
	tcp_ring_free(&tp->snd);
	tcp_ring_free(&tp->rcv);
	nbuf_queue_purge(&tp->ooo);
	tp->sk->tcp = NULL;
	memset(tp, 0, sizeof(*tp));
	tp->hash_next = t->tcp_free;
	t->tcp_free = tp;
}

/* The rings, sized from the socket's buffers, once a connection starts
 * (a second attempt after a failed connect keeps them, emptied). */
static int tcp_alloc_rings(struct tcp_sock *tp)
{
	int err = 0;
	if (tp->snd.cap) {
		tcp_ring_consume(&tp->snd, tp->snd.len);
		tcp_ring_consume(&tp->rcv, tp->rcv.len);
		return 0;
	}
	err = tcp_ring_init(&tp->snd, (size_t)tp->sk->opts.sndbuf);
	if (!err)
		err = tcp_ring_init(&tp->rcv, (size_t)tp->sk->opts.rcvbuf);
	return err;
}

uint32_t tcp_isn(struct stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport)
{
	/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock. */
	uint64_t x = ((uint64_t)laddr << 32 | raddr) ^ st->socks.isn_key[0];
	x = (x ^ ((uint64_t)lport << 16 | rport)) * 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 31;
	x = (x ^ st->socks.isn_key[1]) * 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return (uint32_t)x + (uint32_t)(stack_now(st) / 4000);
}

uint16_t tcp_advmss(struct tcp_sock *tp, uint32_t raddr)
{
	const struct route *rt = route_lookup(&tp->st->routes, raddr);
	unsigned mtu = rt ? rt->nif->mtu : 576;
	unsigned mss = mtu - IPV4_HLEN - TCP_HLEN;
	if (tp->user_mss && tp->user_mss < mss)
		mss = tp->user_mss;
	return (uint16_t)mss;
}

uint32_t tcp_receive_window(const struct tcp_sock *tp)
{
	return (uint32_t)tcp_ring_space(&tp->rcv);
}

static bool tcp_synchronized(uint8_t state)
{
	return state != TCP_CLOSE && state != TCP_LISTEN && state != TCP_SYN_SENT &&
	       state != TCP_SYN_RECV;
}

void tcp_set_state(struct tcp_sock *tp, enum tcp_state state)
{
	struct sock *sk = tp->sk;
	enum tcp_state old = tp->state;
	tp->state = (uint8_t)state;
	if (state == TCP_ESTABLISHED)
		sk->connected = true;
	if (state == TCP_CLOSE) {
		tcp_unhash(tp);
		tcp_timers_cancel(tp);
		/* Linux's tcp_set_state: a port the user did not bind is given
		 * back (inet_put_port); getsockname still shows it */
		if (!(sk->userlocks & SOCK_BINDPORT_LOCK))
			sock_unhash(sk);
	}
	if (old != state)
		sock_wake(sk, tcp_poll(sk));
}

/* ---- the end of a connection ---- */

static void tcp_listener_unlink(struct tcp_sock *child);

void tcp_done(struct tcp_sock *tp)
{
	struct sock *sk = tp->sk;
	if (tp->state != TCP_CLOSE)
		tcp_set_state(tp, TCP_CLOSE);
	if (tp->listener)
		tcp_listener_unlink(tp);
	if (sk->closed)
		sock_release(sk);
}

void tcp_reset_connection(struct tcp_sock *tp, int err)
{
	tp->sk->err = err;
	tcp_set_state(tp, TCP_CLOSE);
	sock_wake(tp->sk, EPOLLERR | EPOLLHUP | EPOLLIN | EPOLLOUT);
	tcp_done(tp);
}

/* ---- listeners ---- */

static void queue_remove(struct tcp_sock **head, struct tcp_sock *child)
{
	while (*head && *head != child)
		head = &(*head)->accept_next;
	if (*head)
		*head = child->accept_next;
	child->accept_next = NULL;
}

static bool queue_holds(const struct tcp_sock *head, const struct tcp_sock *child)
{
	for (; head; head = head->accept_next)
		if (head == child)
			return true;
	return false;
}

/* Takes a child off whichever queue of its listener holds it: by
 * membership, never by state (tcp_done has moved the state on already). */
static void tcp_listener_unlink(struct tcp_sock *child)
{
	struct tcp_sock *l = child->listener;
	if (queue_holds(l->syn_queue, child)) {
		queue_remove(&l->syn_queue, child);
		l->syn_qlen--;
	} else if (queue_holds(l->accept_queue, child)) {
		queue_remove(&l->accept_queue, child);
		l->accept_tail = NULL;
		for (struct tcp_sock *c = l->accept_queue; c; c = c->accept_next)
			l->accept_tail = c;
		l->accept_qlen--;
	}
	child->listener = NULL;
}

static void tcp_child_inherit(struct sock *child, const struct sock *parent)
{
	child->opts = parent->opts;
	child->userlocks = parent->userlocks;	/* sk_clone_lock copies sk_userlocks */
	child->tcp->nodelay = parent->tcp->nodelay;
	child->tcp->user_mss = parent->tcp->user_mss;
	child->tcp->keepidle_s = parent->tcp->keepidle_s;
	child->tcp->keepintvl_s = parent->tcp->keepintvl_s;
	child->tcp->keepcnt = parent->tcp->keepcnt;
	child->tcp->user_timeout_ms = parent->tcp->user_timeout_ms;
	tcp_cc_set_ops(&child->tcp->cc, parent->tcp->cc.ops);
}

struct tcp_sock *tcp_child_create(struct tcp_sock *listener, uint32_t laddr, uint16_t lport,
				  uint32_t raddr, uint16_t rport)
{
	struct sock *lsk = listener->sk, *csk;
	if (listener->syn_qlen >= listener->backlog + 1 ||
	    sock_create(listener->st, SOCK_STREAM, 0, lsk->uid, &csk) < 0)
		return NULL;
	struct tcp_sock *child = csk->tcp;
	tcp_child_inherit(csk, lsk);
	if (tcp_alloc_rings(child) < 0) {
		sock_release(csk);
		return NULL;
	}
	csk->closed = true;	/* nobody holds it until accept() */
	sock_hash_port(csk, laddr, lport);
	csk->raddr = raddr;
	csk->rport = rport;
	child->listener = listener;
	child->accept_next = listener->syn_queue;
	listener->syn_queue = child;
	listener->syn_qlen++;
	child->advmss = tcp_advmss(child, raddr);
	child->state = TCP_SYN_RECV;
	tcp_hash(child);
	return child;
}

void tcp_child_established(struct tcp_sock *child)
{
	struct tcp_sock *l = child->listener;
	if (!l)
		return;
	queue_remove(&l->syn_queue, child);
	l->syn_qlen--;
	if (l->accept_tail)
		l->accept_tail->accept_next = child;
	else
		l->accept_queue = child;
	l->accept_tail = child;
	l->accept_qlen++;
	sock_wake(l->sk, EPOLLIN | EPOLLRDNORM);
}

int tcp_listen(struct sock *sk, int backlog)
{
	struct tcp_sock *tp = sk->tcp;
	/* inet_listen: an unconnected socket, in CLOSE or listening */
	if (sk->ss != SS_UNCONNECTED || (tp->state != TCP_CLOSE && tp->state != TCP_LISTEN))
		return -EINVAL;
	if (!sk->bound) {
		int err = sock_autobind(sk);
		if (err)
			return err;
	}
	/* Linux: listen(2) takes the backlog as unsigned, capped at somaxconn. */
	tp->backlog = MIN((unsigned)backlog, (unsigned)TCP_SOMAXCONN);
	if (tp->state == TCP_LISTEN)
		return 0;
	struct sock *o = sk->st->socks.tcp.buckets[sk->lport % SOCK_PORT_BUCKETS];
	for (; o; o = o->port_next)	/* SO_REUSEADDR never lets two listen */
		if (o != sk && o->lport == sk->lport && o->tcp && o->tcp->state == TCP_LISTEN &&
		    (!o->laddr || !sk->laddr || o->laddr == sk->laddr) &&
		    !(o->opts.reuseport && sk->opts.reuseport && o->uid == sk->uid))
			return -EADDRINUSE;
	tcp_set_state(tp, TCP_LISTEN);
	return 0;
}

int tcp_accept(struct sock *sk, struct sock **child)
{
	struct tcp_sock *l = sk->tcp, *c = l->accept_queue;
	if (l->state != TCP_LISTEN)
		return -EINVAL;
	if (!c)
		return -EAGAIN;
	l->accept_queue = c->accept_next;
	if (!l->accept_queue)
		l->accept_tail = NULL;
	l->accept_qlen--;
	c->accept_next = NULL;
	c->listener = NULL;
	c->sk->closed = false;
	c->sk->ss = SS_CONNECTED;	/* __inet_accept */
	*child = c->sk;
	return 0;
}

/* Closes every child still queued on a listener with a RST (Linux). */
static void tcp_listener_close(struct tcp_sock *l)
{
	struct tcp_sock *c;
	while ((c = l->syn_queue) || (c = l->accept_queue)) {
		if (c->state != TCP_SYN_RECV)
			tcp_send_active_reset(c);
		tcp_done(c);
	}
}

/* ---- connect, send, receive ---- */

/* Linux's tcp_need_reset: the states whose ABORT sends a RST (RFC 9293
 * 3.10.5). */
static bool tcp_need_reset(uint8_t state)
{
	return state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT || state == TCP_FIN_WAIT1 ||
	       state == TCP_FIN_WAIT2 || state == TCP_SYN_RECV;
}

/* Linux's tcp_disconnect: RFC 9293's ABORT, after which the socket is as
 * new but for what the user bound. A connection gets a RST and
 * SO_ERROR ECONNRESET, an attempt ECONNRESET alone; a listener drops its
 * queues. Queued data goes, the peer is forgotten, the local address too
 * unless the user bound it; the port only if TCP's CLOSE let it go. */
static void tcp_disconnect(struct sock *sk)
{
	struct tcp_sock *tp = sk->tcp;
	uint8_t old = tp->state;

	if (old == TCP_LISTEN) {
		tcp_listener_close(tp);
	} else if (tcp_need_reset(old) ||
		   ((old == TCP_CLOSING || old == TCP_LAST_ACK) && tcp_has_unsent(tp))) {
		tcp_send_active_reset(tp);
		sk->err = ECONNRESET;
	} else if (old == TCP_SYN_SENT) {
		sk->err = ECONNRESET;
	}
	if (old != TCP_CLOSE)
		tcp_set_state(tp, TCP_CLOSE);
	tcp_ring_consume(&tp->snd, tp->snd.len);
	tcp_ring_consume(&tp->rcv, tp->rcv.len);
	tcp_engine_reset(tp);
	tp->ts_recent = 0;	/* rx_opt */
	tp->ts_recent_stamp = 0;
	sk->raddr = 0;
	sk->rport = 0;
	if (!(sk->userlocks & SOCK_BINDADDR_LOCK))
		sk->laddr = 0;
	sk->shut = 0;
	sk->connected = false;	/* SOCK_DONE */
	sock_wake(sk, tcp_poll(sk) | (sk->err ? EPOLLERR : 0));	/* sk_error_report */
}

/* tcp_v4_connect's failure after the route: CLOSE gives back the port
 * the stack picked, and the address unless the user bound it. */
static int tcp_connect_failure(struct sock *sk, int err)
{
	if (!(sk->userlocks & SOCK_BINDADDR_LOCK))
		sk->laddr = 0;
	if (!(sk->userlocks & SOCK_BINDPORT_LOCK))
		sock_unhash(sk);
	return err;
}

/* The route (no broadcast or multicast), the source address, a port, and
 * a 4-tuple nobody uses (else EADDRNOTAVAIL, as inet_hash_connect). */
static int tcp_connect_prepare(struct sock *sk, const struct sock_addr *a)
{
	const struct route *rt = route_lookup(&sk->st->routes, a->addr);
	if (!rt)
		return -ENETUNREACH;
	if (ipv4_is_multicast(a->addr) || ipv4_is_limited_bcast(a->addr) ||
	    stack_is_subnet_bcast(sk->st, a->addr))
		return -ENETUNREACH;
	if (!sk->laddr)
		sk->laddr = rt->src ? rt->src : netif_source_for(rt->nif, a->addr);
	if (sock_autobind(sk) ||
	    tcp_lookup_established(sk->st, sk->laddr, sk->lport, a->addr, a->port))
		return tcp_connect_failure(sk, -EADDRNOTAVAIL);
	int err = tcp_alloc_rings(sk->tcp);
	return err ? tcp_connect_failure(sk, err) : 0;
}

/* Linux's tcp_v4_connect: the route, a port, the SYN. */
static int tcp_v4_connect(struct sock *sk, const struct sock_addr *a)
{
	struct tcp_sock *tp = sk->tcp;
	int err = tcp_connect_prepare(sk, a);
	if (err)
		return err;
	sk->raddr = a->addr;
	sk->rport = a->port;
	sk->err = 0;	/* tcp_connect_init */
	sk->connected = false;
	tp->advmss = tcp_advmss(tp, a->addr);
	tp->iss = tcp_isn(sk->st, sk->laddr, sk->lport, sk->raddr, sk->rport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->rcv_wscale = TCP_RCV_WSCALE;
	tcp_hash(tp);
	tcp_set_state(tp, TCP_SYN_SENT);
	stat_inc(sk->st, STAT_TCP_ACTIVE_OPENS);
	tcp_output(tp);
	return 0;
}

/* The end of __inet_stream_connect for a caller that does not wait: still
 * in the handshake, err (EINPROGRESS or EALREADY); over, SS_CONNECTED; the
 * attempt failed (CLOSE), its error or ECONNABORTED, and the socket is
 * disconnected, ready for another attempt. */
static int tcp_connect_outcome(struct sock *sk, int err)
{
	uint8_t state = sk->tcp->state;
	if (state == TCP_SYN_SENT || state == TCP_SYN_RECV)
		return err;
	if (state != TCP_CLOSE) {
		sk->ss = SS_CONNECTED;
		return 0;
	}
	err = sk->err ? -sk->err : -ECONNABORTED;	/* sock_error */
	sk->err = 0;
	sk->ss = SS_UNCONNECTED;
	tcp_disconnect(sk);
	return err;
}

/* Linux's __inet_stream_connect, non-blocking: the socket's own state
 * decides, then the TCP state. A NULL a (AF_UNSPEC) disconnects. */
int tcp_connect(struct sock *sk, const struct sock_addr *a)
{
	int err;
	if (!a) {
		tcp_disconnect(sk);
		sk->ss = SS_UNCONNECTED;
		return 0;
	}
	switch (sk->ss) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		return tcp_connect_outcome(sk, -EALREADY);
	case SS_UNCONNECTED:
		if (sk->tcp->state != TCP_CLOSE)
			return -EISCONN;
		if ((err = tcp_v4_connect(sk, a)) < 0)
			return err;
		sk->ss = SS_CONNECTING;
		return tcp_connect_outcome(sk, -EINPROGRESS);
	default:
		return -EINVAL;
	}
}

/* Linux's sk_stream_wait_connect, without the waiting. */
static int tcp_send_allowed(struct sock *sk)
{
	struct tcp_sock *tp = sk->tcp;
	if (sk->err) {
		int err = sk->err;
		sk->err = 0;
		return -err;
	}
	if (sk->shut & SOCK_SHUT_WR)
		return -EPIPE;
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV)
		return -EAGAIN;
	if (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT)
		return -EPIPE;
	return 0;
}

/* The send buffer follows the congestion window, as Linux's autotuning
 * does, unless the application fixed SO_SNDBUF. */
static void tcp_grow_sndbuf(struct tcp_sock *tp)
{
	size_t want = (size_t)tp->cc.cwnd * tp->mss * 4;
	if (tp->sk->opts.sndbuf_locked || want <= tp->snd.cap)
		return;
	want = MIN(want, (size_t)TCP_SNDBUF_MAX);
	if (want > tp->snd.cap && tcp_ring_resize(&tp->snd, want) == 0)
		tp->sk->opts.sndbuf = (int)want;
}

ssize_t tcp_sendmsg(struct sock *sk, const void *buf, size_t len, int flags)
{
	struct tcp_sock *tp = sk->tcp;
	int err = tcp_send_allowed(sk);
	if (err)
		return err;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	tcp_grow_sndbuf(tp);
	size_t n = tcp_ring_write(&tp->snd, buf, len);
	if (n == 0 && len > 0)
		return -EAGAIN;
	bool cork = tp->cork;
	if (flags & MSG_MORE)
		tp->cork = true;
	tcp_output(tp);
	tp->cork = cork;
	return (ssize_t)n;
}

ssize_t tcp_send_all(struct sock *sk, const void *buf, size_t len)
{
	struct tcp_sock *tp = sk->tcp;
	int err = tcp_send_allowed(sk);
	if (err)
		return err;
	size_t need = tp->snd.len + len;
	if (need > tp->snd.cap && tcp_ring_resize(&tp->snd, need) < 0)
		return -ENOBUFS;
	size_t n = tcp_ring_write(&tp->snd, buf, len);
	tcp_output(tp);
	return (ssize_t)n;
}

static bool tcp_fin_received(const struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		return true;
	case TCP_CLOSE:
		return tp->sk->connected;
	default:
		return false;
	}
}

/* After a read: if the window grew enough to matter, tell the peer. */
static void tcp_after_read(struct tcp_sock *tp)
{
	uint32_t win = tcp_receive_window(tp);
	uint32_t advertised = tp->rcv_adv - tp->rcv_nxt;
	uint32_t threshold = MIN((uint32_t)tp->rcv.cap / 2, (uint32_t)tp->advmss);
	if (tcp_synchronized(tp->state) && win >= advertised + threshold) {
		tp->flags |= TCP_F_WINDOW_UPDATE;
		tcp_output(tp);
	}
}

ssize_t tcp_recvmsg(struct sock *sk, void *buf, size_t len, int flags)
{
	struct tcp_sock *tp = sk->tcp;
	if (tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		return -EINVAL;
	size_t n = MIN(len, tp->rcv.len);
	if (n) {
		tcp_ring_peek(&tp->rcv, 0, buf, n);
		if (!(flags & MSG_PEEK)) {
			tcp_ring_consume(&tp->rcv, n);
			tcp_after_read(tp);
		}
		return (ssize_t)n;
	}
	if (sk->err) {
		int err = sk->err;
		sk->err = 0;
		return -err;
	}
	if (len == 0 || tcp_fin_received(tp) || (sk->shut & SOCK_SHUT_RD))
		return 0;
	if (tp->state == TCP_CLOSE)
		return -ENOTCONN;
	return -EAGAIN;
}

/* ---- shutdown and close ---- */

/* Queues our FIN: ESTABLISHED -> FIN_WAIT1, CLOSE_WAIT -> LAST_ACK. */
static void tcp_send_fin(struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		tcp_set_state(tp, TCP_FIN_WAIT1);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(tp, TCP_LAST_ACK);
		break;
	default:
		return;
	}
	tp->flags |= TCP_F_FIN_QUEUED;
	tcp_output(tp);
}

/* Linux's inet_shutdown: a connect not called again since it started
 * ends here (SS_CONNECTED if it succeeded, else SS_DISCONNECTING); a
 * listener (SHUT_RD) or an attempt in SYN_SENT is disconnected. */
int tcp_shutdown(struct sock *sk, int how)
{
	struct tcp_sock *tp = sk->tcp;
	unsigned mask = (unsigned)how + 1;
	bool unfinished = tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECV ||
			  tp->state == TCP_CLOSE;
	if (sk->ss == SS_CONNECTING)
		sk->ss = unfinished ? SS_DISCONNECTING : SS_CONNECTED;
	switch (tp->state) {
	case TCP_CLOSE:
		sk->shut |= mask;
		sock_wake(sk, tcp_poll(sk));
		return -ENOTCONN;
	case TCP_LISTEN:
		if (!(mask & SOCK_SHUT_RD))
			return 0;
		/* fall through */
	case TCP_SYN_SENT:
		tcp_disconnect(sk);
		sk->ss = SS_UNCONNECTED;
		return 0;
	default:
		sk->shut |= mask;
		if (mask & SOCK_SHUT_WR)
			tcp_send_fin(tp);
		sock_wake(sk, tcp_poll(sk));
		return 0;
	}
}

void tcp_close(struct sock *sk)
{
	struct tcp_sock *tp = sk->tcp;
	sk->shut = SOCK_SHUT_RD | SOCK_SHUT_WR;
	switch (tp->state) {
	case TCP_LISTEN:
		tcp_listener_close(tp);
		tcp_done(tp);
		return;
	case TCP_CLOSE:
	case TCP_SYN_SENT:
		tcp_done(tp);
		return;
	default:
		break;
	}
	/* RFC 2525 2.17 and Linux: unread data, or SO_LINGER with 0, aborts. */
	if (tp->rcv.len || (sk->opts.linger_on && sk->opts.linger_secs == 0)) {
		tcp_send_active_reset(tp);
		tcp_done(tp);
		return;
	}
	/* Our FIN is out already (shutdown): an orphan in FIN_WAIT2 gets
	 * Linux's tcp_fin_timeout, or it would wait for the peer forever. */
	if (tp->state == TCP_FIN_WAIT2)
		tcp_reset_keepalive(tp);
	tcp_send_fin(tp);
}

/* ---- readiness ---- */

static bool tcp_writable(const struct tcp_sock *tp)
{
	/* Linux's sk_stream_is_writeable: a third of the buffer free */
	return tcp_ring_space(&tp->snd) >= tp->snd.cap / 3 || tp->snd.cap == 0;
}

unsigned tcp_poll(const struct sock *sk)
{
	const struct tcp_sock *tp = sk->tcp;
	unsigned ev = 0;
	if (tp->state == TCP_LISTEN)
		return tp->accept_queue ? EPOLLIN | EPOLLRDNORM : 0;
	if (sk->shut == (SOCK_SHUT_RD | SOCK_SHUT_WR) || tp->state == TCP_CLOSE)
		ev |= EPOLLHUP;
	if ((sk->shut & SOCK_SHUT_RD) || tcp_fin_received(tp))
		ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (tp->state != TCP_SYN_SENT && tp->state != TCP_SYN_RECV) {
		if (tp->rcv.len >= (size_t)MAX(sk->opts.rcvlowat, 1))
			ev |= EPOLLIN | EPOLLRDNORM;
		if ((sk->shut & SOCK_SHUT_WR) || tcp_writable(tp))
			ev |= EPOLLOUT | EPOLLWRNORM;
	}
	if (sk->err)
		ev |= EPOLLERR;
	return ev;
}
