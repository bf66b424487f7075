/*
 * nc-internal.h: what the parts of libnetclient share. One session per
 * process (session.c): the control connection to netd, the shared region
 * and its command ring, the reply table. One struct nc_sock per netd
 * socket (socket.c), found by its file descriptor, which is the eventfd
 * netd writes when the socket has news. Data calls (io.c) move bytes and
 * datagrams through the socket's rings; waiting (wait.c) is through a
 * per-thread io_uring on the socket's eventfd and the control connection,
 * whose hang-up means netd is gone.
 *
 * Internal functions return 0, a count or -errno; the public nc_* calls
 * turn that into -1 and errno.
 */
#ifndef NC_INTERNAL_H
#define NC_INTERNAL_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "proto/shm.h"

#define MIN_LEN(a, b) ((a) < (b) ? (a) : (b))
#define NC_SPIN_NS 30000	/* spin this long (yielding the CPU between looks)
				 * before sleeping: bench/client.sh measured 0, 10,
				 * 30 and 50 us, with and without yielding */

struct nc_session {
	pthread_mutex_t lock;		/* setup, the command ring, reply and slot maps */
	bool ready;
	bool dead;			/* netd went away */
	int ctl_fd;
	int doorbell;
	uint8_t *base;
	struct ncs_layout layout;
	struct ncs_header *hdr;
	uint32_t cmd_head;		/* ours: the command ring's producer index */
	uint64_t *slot_map;		/* bit set: slot taken */
	uint64_t reply_map[NCS_REPLY_ENTRIES / 64];
	pthread_cond_t reply_free;	/* a reply record came free */
};

struct nc_sock {
	int fd;				/* the eventfd: the application's descriptor */
	uint32_t slot;
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	bool nonblock;
	bool udp_connected;
	bool broadcast;			/* SO_BROADCAST, for sendto's EACCES */
	int linger_secs;		/* SO_LINGER's timeout; -1: off */
	int owner_pid;			/* F_SETOWN's, kept for F_GETOWN */
	int64_t rcvtimeo_ns, sndtimeo_ns;	/* 0: none; -1: do not wait */
	struct ncs_slot *shm;
	uint8_t *rx_area, *tx_area;
	uint32_t rx_tail;		/* ours: the rx ring's consumer index */
	uint32_t tx_head;		/* ours: the tx ring's producer index */
	pthread_mutex_t rx_lock, tx_lock;	/* one reader, one writer at a time */
	int child_fd;			/* a listener's registered spare for accept, or -1 */
	int refs;			/* the table's, and one per call in progress */
	uint32_t child_slot;
};

extern struct nc_session nc__session;

/* kernel.c: the kernel's calls through libc, past this library. */
struct nc_kernel {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*shutdown)(int, int);
	int (*close)(int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
};
extern struct nc_kernel nc__k;

/* session.c */
/* Sets up the session on first use: 0, or -errno (ENOENT, ECONNREFUSED,
 * EPROTO, ENETDOWN). */
int nc__session_get(void);
/* A free slot with a fresh eventfd registered with netd: the fd, or -errno. */
int nc__slot_open(uint32_t *slot, int efd_flags);
void nc__slot_free(uint32_t slot);
/* Posts a command; with a reply, waits for it. 0 or -errno from netd. */
int nc__call(struct ncs_cmd *c, struct ncs_reply *reply);
/* Posts a command nobody waits for (TX, RX kicks). */
void nc__post(const struct ncs_cmd *c);
/* True if netd's end of the control connection has hung up. */
bool nc__netd_gone(void);

/* socket.c */
/* The socket of fd without taking a reference: only to ask whether fd is
 * a netd socket. */
struct nc_sock *nc__sock_get(int fd);
/* The socket of fd, held until nc__sock_put (which frees it after a
 * close); NULL for a kernel descriptor. */
struct nc_sock *nc__sock_hold(int fd);
void nc__sock_put(struct nc_sock *s);
/* Drops every entry (a child after fork), leaving the descriptors open. */
void nc__sock_forget_all(void);
/* Builds the struct nc_sock for an opened slot and publishes it under fd. */
struct nc_sock *nc__sock_attach(int fd, uint32_t slot, int type, bool nonblock);
void nc__sock_bind_rings(struct nc_sock *s);
/* Which call takes an address in: what AF_UNSPEC means differs. */
enum nc_addr_use { NC_ADDR_BIND, NC_ADDR_CONNECT, NC_ADDR_SENDTO };
int nc__addr_check(const struct sockaddr *sa, socklen_t len, enum nc_addr_use use);
int nc__sockaddr_in(const struct sockaddr *sa, socklen_t len, enum nc_addr_use use,
		    uint32_t *addr, uint16_t *port);
/* 0, or -EFAULT/-EINVAL as Linux's move_addr_to_user. */
int nc__fill_sockaddr(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port);
/* A simple command on s: 0 or -errno. */
int nc__sock_cmd(struct nc_sock *s, uint16_t op, int32_t a0, struct ncs_reply *reply);

/* io.c */
ssize_t nc__send_iov(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
		     const struct sockaddr *dst, socklen_t dstlen);
ssize_t nc__recv_iov(struct nc_sock *s, const struct iovec *iov, int iovcnt, int flags,
		     struct sockaddr *src, socklen_t *srclen, int *msg_flags);
/* Exact epoll events of s now. */
uint32_t nc__events(struct nc_sock *s);
/* Bytes readable now (FIONREAD), and unsent (SIOCOUTQ). */
int nc__inq(struct nc_sock *s);
int nc__outq(struct nc_sock *s);

/* wait.c */
/* What a blocked call waits for. */
enum nc_wait_for { NC_WAIT_RX, NC_WAIT_TX, NC_WAIT_STATE };
/* Asks netd to wake s for what, then sleeps unless ready(s) holds by
 * then. 0 (look again), -EAGAIN (timed out at deadline_ns, 0: never),
 * -EINTR (a signal handler ran; with no deadline, only when a caught
 * signal's handler lacks SA_RESTART, as Linux restarts the others), or
 * -ENETDOWN. */
int nc__wait(struct nc_sock *s, enum nc_wait_for what, bool (*ready)(struct nc_sock *),
	     int64_t deadline_ns);
int64_t nc__deadline(int64_t timeout_ns);
int64_t nc__now_ns(void);
/* Drains the eventfd's counter. */
void nc__eventfd_reset(int fd);
/* Waits for any of fds (kernel or eventfds); like poll(2) without the
 * netd part, through io_uring. n ready, 0 at the deadline, or -errno. */
int nc__poll_kernel(struct pollfd *fds, unsigned n, int64_t deadline_ns);

/* The public calls' return: -1 with errno for -errno. */
static inline int nc__err(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

static inline ssize_t nc__errs(ssize_t r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static inline uint32_t nc__load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void nc__store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* True once: clears a waiting flag netd set. */
static inline bool nc__take_flag(uint32_t *flag)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(flag, __ATOMIC_RELAXED) &&
	       __atomic_exchange_n(flag, 0, __ATOMIC_ACQ_REL);
}

#endif
