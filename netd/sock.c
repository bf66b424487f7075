/*
 * sock.c: the protocol-independent half of sockets: the pool, the port
 * tables with Linux's bind rules, options, addresses and readiness. Each
 * call fails with the errno Linux gives in the same situation; the
 * protocol's half (udp.c) does sending and receiving.
 *
 * Bind conflicts: two sockets on one port conflict when their local
 * addresses overlap (equal, or either is the wildcard), unless both set
 * SO_REUSEADDR (for TCP: and the bound one is not listening, Linux's
 * inet_csk_bind_conflict), or both set SO_REUSEPORT and belong to the same
 * user.
 */
#include "config.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sock.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "util.h"
#include "wire/ipv4.h"

#define SOCK_DEFAULT_BUF 212992	/* Linux's wmem_default and rmem_default */

int sock_table_init(struct sock_table *t, unsigned size)
{
	memset(t, 0, sizeof(*t));
	t->socks = calloc(size, sizeof(*t->socks));
	t->tcp_socks = calloc(size, sizeof(*t->tcp_socks));
	if (!t->socks || !t->tcp_socks) {
		free(t->socks);
		free(t->tcp_socks);
		return -ENOMEM;
	}
	t->size = size;
	for (unsigned i = size; i-- > 0;) {
		t->socks[i].free_next = t->free;
		t->free = &t->socks[i];
		t->tcp_socks[i].hash_next = t->tcp_free;
		t->tcp_free = &t->tcp_socks[i];
	}
	return 0;
}

void sock_wake(struct sock *sk, unsigned events)
{
	struct sock_table *t = &sk->st->socks;
	if (!sk->wakeup || sk->closed)
		return;
	sk->pending_events |= events;
	if (sk->on_ready)
		return;
	sk->on_ready = true;
	sk->ready_next = NULL;
	if (t->ready_tail)
		t->ready_tail->ready_next = sk;
	else
		t->ready = sk;
	t->ready_tail = sk;
}

static void ready_unlink(struct sock *sk)
{
	struct sock_table *t = &sk->st->socks;
	struct sock **pp = &t->ready, *prev = NULL;
	while (*pp && *pp != sk) {
		prev = *pp;
		pp = &(*pp)->ready_next;
	}
	if (!*pp)
		return;
	*pp = sk->ready_next;
	if (t->ready_tail == sk)
		t->ready_tail = prev;
	sk->on_ready = false;
}

void sock_run_ready(struct stack *st)
{
	struct sock_table *t = &st->socks;
	struct sock *sk;
	while ((sk = t->ready)) {
		t->ready = sk->ready_next;
		if (!t->ready)
			t->ready_tail = NULL;
		sk->on_ready = false;
		unsigned ev = sk->pending_events;
		sk->pending_events = 0;
		if (sk->wakeup && !sk->closed)
			sk->wakeup(sk, ev);
	}
}

static bool sock_in_use(const struct sock *sk)
{
	return sk->st != NULL;
}

static void sock_free(struct sock *sk)
{
	struct sock_table *t = &sk->st->socks;
	if (sk->tcp)
		tcp_destroy(sk->tcp);
	if (sk->on_ready)
		ready_unlink(sk);
	nbuf_queue_purge(&sk->rxq);
	memset(sk, 0, sizeof(*sk));
	sk->free_next = t->free;
	t->free = sk;
	t->used--;
}

void sock_table_destroy(struct sock_table *t)
{
	for (unsigned i = 0; t->socks && i < t->size; i++) {
		if (sock_in_use(&t->socks[i])) {
			sock_unhash(&t->socks[i]);
			sock_free(&t->socks[i]);
		}
	}
	free(t->socks);
	free(t->tcp_socks);
	t->socks = NULL;
	t->tcp_socks = NULL;
}

static int sock_check_type(int type, int *protocol)
{
	switch (type) {
	case SOCK_DGRAM:
		if (*protocol != 0 && *protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		*protocol = IPPROTO_UDP;
		return 0;
	case SOCK_STREAM:
		if (*protocol != 0 && *protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		*protocol = IPPROTO_TCP;
		return 0;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

int sock_create(struct stack *st, int type, int protocol, uid_t uid, struct sock **out)
{
	int err = sock_check_type(type, &protocol);
	if (err)
		return err;
	struct sock *sk = st->socks.free;
	if (!sk)
		return -ENFILE;
	st->socks.free = sk->free_next;
	st->socks.used++;
	memset(sk, 0, sizeof(*sk));
	sk->st = st;
	sk->type = type;
	sk->protocol = protocol;
	sk->uid = uid;
	sk->bind_privileged = uid == 0;
	sk->opts.sndbuf = SOCK_DEFAULT_BUF;
	sk->opts.rcvbuf = SOCK_DEFAULT_BUF;
	sk->opts.rcvlowat = 1;
	if (type == SOCK_STREAM && (err = tcp_create(sk)) < 0) {
		sock_free(sk);
		return err;
	}
	*out = sk;
	return 0;
}

void sock_set_owner(struct sock *sk, sock_wakeup_fn wakeup, void *owner)
{
	sk->wakeup = wakeup;
	sk->owner = owner;
}

void sock_report_error(struct sock *sk, int err)
{
	sk->err = err;
	sock_wake(sk, EPOLLERR);
}

struct sock_ports *sock_ports_of(struct stack *st, int protocol)
{
	return protocol == IPPROTO_TCP ? &st->socks.tcp : &st->socks.udp;
}

static bool sock_listening(const struct sock *sk)
{
	return sk->tcp && sk->tcp->state == TCP_LISTEN;
}

static struct sock **port_bucket(struct sock_ports *p, uint16_t port)
{
	return &p->buckets[port % SOCK_PORT_BUCKETS];
}

static bool addrs_overlap(uint32_t a, uint32_t b)
{
	return a == 0 || b == 0 || a == b;
}

static bool bind_conflict(const struct sock *sk, uint32_t laddr, uint16_t port)
{
	struct sock *o = *port_bucket(sock_ports_of(sk->st, sk->protocol), port);
	for (; o; o = o->port_next) {
		if (o == sk || o->lport != port || !addrs_overlap(o->laddr, laddr))
			continue;
		if (o->opts.reuseaddr && sk->opts.reuseaddr && !sock_listening(o))
			continue;
		if (o->opts.reuseport && sk->opts.reuseport && o->uid == sk->uid)
			continue;
		return true;
	}
	return false;
}

void sock_hash_port(struct sock *sk, uint32_t laddr, uint16_t port)
{
	struct sock **b = port_bucket(sock_ports_of(sk->st, sk->protocol), port);
	sk->laddr = laddr;
	sk->lport = port;
	sk->bound = true;
	sk->port_next = *b;
	*b = sk;
}

void sock_unhash(struct sock *sk)
{
	if (!sk->bound)
		return;
	struct sock **pp = port_bucket(sock_ports_of(sk->st, sk->protocol), sk->lport);
	while (*pp && *pp != sk)
		pp = &(*pp)->port_next;
	if (*pp)
		*pp = sk->port_next;
	sk->port_next = NULL;
	sk->bound = false;
}

/* Linux picks a random point in the range and walks from there. */
static int sock_pick_port(struct sock *sk, uint32_t laddr)
{
	unsigned range = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
	unsigned start = (unsigned)(rng_next(&sk->st->rng) % range);
	for (unsigned i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(EPHEMERAL_LOW + (start + i) % range);
		if (!bind_conflict(sk, laddr, port)) {
			sock_hash_port(sk, laddr, port);
			return 0;
		}
	}
	return -EADDRINUSE;
}

int sock_autobind(struct sock *sk)
{
	return sk->bound ? 0 : sock_pick_port(sk, sk->laddr);
}

/* Addresses a socket may bind: any, ours, or a broadcast or multicast one
 * (Linux's inet_addr_valid_or_nonlocal without ip_nonlocal_bind). */
static bool bindable_addr(const struct stack *st, uint32_t a)
{
	return a == 0 || stack_is_local(st, a) || ipv4_is_multicast(a) ||
	       ipv4_is_limited_bcast(a) || stack_is_subnet_bcast(st, a);
}

/* Linux's __inet_bind, in its order: the address, the privilege, then a
 * socket bound already (or a TCP socket not in CLOSE), then the port. */
int sock_bind(struct sock *sk, const struct sock_addr *a)
{
	if (!bindable_addr(sk->st, a->addr))
		return -EADDRNOTAVAIL;
	if (a->port && a->port < 1024 && !sk->bind_privileged)
		return -EACCES;
	if (sk->bound || (sk->tcp && sk->tcp->state != TCP_CLOSE))
		return -EINVAL;
	if (a->port == 0) {
		int err = sock_pick_port(sk, a->addr);
		if (err)
			return err;
	} else if (bind_conflict(sk, a->addr, a->port)) {
		return -EADDRINUSE;
	} else {
		sock_hash_port(sk, a->addr, a->port);
	}
	sk->userlocks = (a->addr ? SOCK_BINDADDR_LOCK : 0) | (a->port ? SOCK_BINDPORT_LOCK : 0);
	return 0;
}

int sock_listen(struct sock *sk, int backlog)
{
	return sk->tcp ? tcp_listen(sk, backlog) : -EOPNOTSUPP;
}

int sock_accept(struct sock *sk, struct sock **child)
{
	return sk->tcp ? tcp_accept(sk, child) : -EOPNOTSUPP;
}

int sock_connect(struct sock *sk, const struct sock_addr *a)
{
	return sk->tcp ? tcp_connect(sk, a) : udp_connect(sk, a);
}

ssize_t sock_sendto(struct sock *sk, const void *buf, size_t len, int flags,
		    const struct sock_addr *dst)
{
	return sk->tcp ? tcp_sendmsg(sk, buf, len, flags) : udp_sendto(sk, buf, len, flags, dst);
}

ssize_t sock_recvfrom(struct sock *sk, void *buf, size_t len, int flags, struct sock_addr *src)
{
	return sk->tcp ? tcp_recvmsg(sk, buf, len, flags) : udp_recvfrom(sk, buf, len, flags, src);
}

/* Linux's inet_shutdown: the bits are set even when it says ENOTCONN, so
 * pollers wake. */
int sock_shutdown(struct sock *sk, int how)
{
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (sk->tcp)
		return tcp_shutdown(sk, how);
	sk->shut |= (unsigned)how + 1;	/* SHUT_RD 0 -> 1, SHUT_WR 1 -> 2, both -> 3 */
	sock_wake(sk, sock_poll(sk));
	return sk->connected ? 0 : -ENOTCONN;
}

void sock_close(struct sock *sk)
{
	sk->closed = true;
	if (sk->tcp) {
		tcp_close(sk);	/* frees sk when the connection is over */
		return;
	}
	sock_unhash(sk);
	sock_free(sk);
}

/* TCP's sockets are freed by tcp_done(), when the connection is over. */
void sock_release(struct sock *sk)
{
	sock_unhash(sk);
	sock_free(sk);
}

unsigned sock_poll(const struct sock *sk)
{
	if (sk->tcp)
		return tcp_poll(sk);
	unsigned ev = EPOLLOUT | EPOLLWRNORM;
	if (sk->rxq.len)
		ev |= EPOLLIN | EPOLLRDNORM;
	if (sk->err)
		ev |= EPOLLERR;
	if (sk->shut & SOCK_SHUT_RD)
		ev |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (sk->shut == (SOCK_SHUT_RD | SOCK_SHUT_WR))
		ev |= EPOLLHUP;
	return ev;
}

int sock_getsockname(const struct sock *sk, struct sock_addr *a)
{
	a->addr = sk->laddr;
	a->port = sk->lport;
	return 0;
}

/* Linux's inet_getname: no peer without a peer port, nor in CLOSE or
 * SYN_SENT (a datagram socket is in CLOSE while unconnected). */
static bool sock_has_peer(const struct sock *sk)
{
	if (!sk->rport)
		return false;
	if (!sk->tcp)
		return sk->connected;
	return sk->tcp->state != TCP_CLOSE && sk->tcp->state != TCP_SYN_SENT;
}

int sock_getpeername(const struct sock *sk, struct sock_addr *a)
{
	if (!sock_has_peer(sk))
		return -ENOTCONN;
	a->addr = sk->raddr;
	a->port = sk->rport;
	return 0;
}

int sock_ioctl(struct sock *sk, unsigned long req, int *val)
{
	switch (req) {
	case SIOCINQ:
		if (sk->tcp && sk->tcp->state == TCP_LISTEN)
			return -EINVAL;
		*val = sk->tcp ? (int)sk->tcp->rcv.len : udp_next_len(sk);
		return 0;
	case SIOCOUTQ:
		if (sk->tcp && sk->tcp->state == TCP_LISTEN)
			return -EINVAL;
		*val = sk->tcp ? (int)sk->tcp->snd.len : 0;	/* datagrams leave at once */
		return 0;
	default:
		return -ENOTTY;
	}
}
