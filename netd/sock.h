/*
 * sock.h: sockets inside netd. A struct sock is what a client's socket is
 * in the daemon: its addresses, options, queues and pending error, in the
 * terms of the Linux socket API, so that the client library can map each
 * call one to one and give back the errno Linux would. Functions return 0
 * or a count, or -errno, exactly as the matching system call would fail.
 *
 * The owner of a socket (a built-in service, or a client session)
 * learns of readiness changes through its wakeup callback, with the same
 * event bits as epoll (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
 * Wakeups are deferred: protocol code only records the events and queues
 * the socket; sock_run_ready(), called by the loop after packet processing,
 * runs the callbacks, so an owner never re-enters a protocol mid-segment.
 *
 * Ports: one table per protocol, with Linux's bind rules for SO_REUSEADDR
 * and SO_REUSEPORT and its ephemeral range. Demultiplexing follows Linux:
 * the most specific match wins (a connected 4-tuple before a bound local
 * address before the wildcard).
 */
#ifndef NETD_SOCK_H
#define NETD_SOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nbuf.h"

struct stack;
struct sock;
struct tcp_sock;

#define SOCK_PORT_BUCKETS 1024
#define EPHEMERAL_LOW 32768	/* Linux ip_local_port_range */
#define EPHEMERAL_HIGH 60999

/* Linux's limits on SO_SNDBUF / SO_RCVBUF (values are doubled when set). */
#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304
#define SOCK_WMEM_MAX 212992
#define SOCK_RMEM_MAX 212992

typedef void (*sock_wakeup_fn)(struct sock *sk, unsigned events);

/* Where a datagram came from or goes to, in host order. */
struct sock_addr {
	uint32_t addr;
	uint16_t port;
};

struct sock_opts {
	int sndbuf, rcvbuf;		/* as getsockopt reports them (doubled) */
	bool sndbuf_locked;		/* set by SO_SNDBUF: no autotuning */
	bool reuseaddr, reuseport, broadcast, keepalive;
	bool linger_on;
	int linger_secs;
	uint8_t tos, ttl;		/* ttl 0: the stack's default */
	int rcvlowat;
	bool oobinline;			/* SO_OOBINLINE: kept, urgent data is not supported */
};

/* One protocol's table of bound ports. */
struct sock_ports {
	struct sock *buckets[SOCK_PORT_BUCKETS];
};

#define TCP_EHASH_BUCKETS 4096

/* Every socket of a stack: fixed pools, the port tables (bind and
 * listeners), and TCP's table of connections by 4-tuple. */
struct sock_table {
	struct sock *socks;
	struct sock *free;
	unsigned size, used;
	struct sock_ports udp, tcp;
	struct tcp_sock *tcp_socks;
	struct tcp_sock *tcp_free;
	struct tcp_sock *ehash[TCP_EHASH_BUCKETS];
	uint64_t isn_key[2];		/* RFC 6528's secret */
	struct sock *ready, *ready_tail;	/* sockets with events for their owners */
};

/* The socket's own state, apart from TCP's: Linux's socket_state
 * (sock->state), which inet_stream_connect and inet_shutdown keep for
 * stream sockets. Datagram sockets stay SS_UNCONNECTED. */
enum sock_ss {
	SS_UNCONNECTED,
	SS_CONNECTING,			/* connect started; not yet called again after */
	SS_CONNECTED,			/* connect saw the connection, or accept made it */
	SS_DISCONNECTING,		/* shutdown of a connect that did not succeed */
};

/* What the user bound itself (Linux's sk_userlocks): a disconnect and
 * TCP's CLOSE give back only what the stack picked. */
#define SOCK_BINDADDR_LOCK 4u		/* bind() with an address */
#define SOCK_BINDPORT_LOCK 8u		/* bind() with a port other than 0 */

struct sock {
	struct stack *st;
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	int protocol;			/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t laddr, raddr;		/* host order; 0: any / none */
	uint16_t lport, rport;		/* lport stays for getsockname after unhashing (TCP) */
	bool bound;			/* on the protocol's port table */
	bool connected;			/* UDP: has a peer; TCP: a connection was established */
	uint8_t ss;			/* enum sock_ss */
	uint8_t userlocks;		/* SOCK_BIND*_LOCK */
	bool closed;			/* the owner let go of it */
	unsigned shut;			/* SHUT_RD bit 1, SHUT_WR bit 2 */
	int err;			/* pending error, read by SO_ERROR */
	uid_t uid;			/* for SO_REUSEPORT */
	bool bind_privileged;		/* may bind ports below 1024 (uid 0 by default) */
	struct sock_opts opts;
	struct sock *port_next;		/* chain in the protocol's port table */
	sock_wakeup_fn wakeup;
	void *owner;
	/* datagram sockets: received datagrams, data at the payload, with the
	 * sender's address in nb's l3/l4 headers */
	struct nbuf_queue rxq;
	size_t rx_bytes;		/* buffer bytes charged against rcvbuf */
	struct sock *free_next;		/* in the pool's free list */
	struct sock *ready_next;	/* in the ready list */
	bool on_ready;
	unsigned pending_events;	/* recorded for the next sock_run_ready */
	uint64_t owner_data;		/* the owner's own use */
	struct tcp_sock *tcp;		/* SOCK_STREAM sockets */
};

#define SOCK_SHUT_RD 1u
#define SOCK_SHUT_WR 2u

int sock_table_init(struct sock_table *t, unsigned size);
/* Frees every socket and what it holds; teardown only. */
void sock_table_destroy(struct sock_table *t);

/* Creates a socket: SOCK_DGRAM (UDP) or SOCK_STREAM (TCP); protocol 0 or
 * the matching one. -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -ENFILE. */
int sock_create(struct stack *st, int type, int protocol, uid_t uid, struct sock **out);
/* Sets the owner's wakeup callback. */
void sock_set_owner(struct sock *sk, sock_wakeup_fn wakeup, void *owner);

int sock_bind(struct sock *sk, const struct sock_addr *a);
int sock_listen(struct sock *sk, int backlog);
int sock_accept(struct sock *sk, struct sock **child);
/* Connects to a. A NULL a is connect with AF_UNSPEC: it dissolves a
 * datagram socket's association, and aborts a stream socket's connection
 * (Linux's tcp_disconnect). */
int sock_connect(struct sock *sk, const struct sock_addr *a);
/* Sends len bytes (to dst, or the connected peer when dst is NULL). */
ssize_t sock_sendto(struct sock *sk, const void *buf, size_t len, int flags,
		    const struct sock_addr *dst);
/* Receives into buf; src (if not NULL) gets the sender. With MSG_TRUNC,
 * returns the datagram's real length. */
ssize_t sock_recvfrom(struct sock *sk, void *buf, size_t len, int flags, struct sock_addr *src);
int sock_shutdown(struct sock *sk, int how);
/* Releases the socket; the stack frees it when the protocol is done. */
void sock_close(struct sock *sk);
/* Frees a socket nobody holds any more (TCP's, when its connection ends). */
void sock_release(struct sock *sk);

int sock_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len);
int sock_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len);
int sock_getsockname(const struct sock *sk, struct sock_addr *a);
int sock_getpeername(const struct sock *sk, struct sock_addr *a);
/* SIOCINQ (FIONREAD) and SIOCOUTQ. */
int sock_ioctl(struct sock *sk, unsigned long req, int *val);
/* The epoll events that hold now. */
unsigned sock_poll(const struct sock *sk);

/* Runs the owners' callbacks of the sockets with recorded events. */
void sock_run_ready(struct stack *st);

/* For the protocols: records events for the owner. */
void sock_wake(struct sock *sk, unsigned events);
/* Sets the pending error and wakes the owner with EPOLLERR. */
void sock_report_error(struct sock *sk, int err);
struct sock_ports *sock_ports_of(struct stack *st, int protocol);
/* Puts sk on port in the bind table without checks (a child of a listener). */
void sock_hash_port(struct sock *sk, uint32_t laddr, uint16_t port);
/* Picks and binds a free ephemeral port (autobind). */
int sock_autobind(struct sock *sk);
void sock_unhash(struct sock *sk);

#endif
