/*
 * wait.c: how a call sleeps. Each thread has a small io_uring of its own;
 * a blocked call submits one poll request per descriptor it waits on (the
 * socket's eventfd and the control connection, whose hang-up says netd is
 * gone), waits with the call's timeout, and removes the requests that did
 * not fire. A signal ends the wait with EINTR, as it ends a kernel call.
 *
 * Before sleeping, a call tells netd what would wake it (the ring's
 * waiting flag) and looks once more, so a change that happened meanwhile
 * is never missed. nc_poll() does the same over many descriptors, kernel
 * and netd ones together.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "libnetclient/include/netclient.h"
#include "libnetclient/nc-internal.h"

#define NC_RING_ENTRIES 64
#define NC_UD_REMOVE 0xffffffffffffffffull

static __thread struct io_uring t_ring;
static __thread int t_ring_state;	/* 0 untried, 1 ready, -1 unavailable */

int64_t nc__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t nc__deadline(int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return nc__now_ns();	/* a negative SO_RCVTIMEO: do not wait */
	return timeout_ns > 0 ? nc__now_ns() + timeout_ns : 0;
}

void nc__eventfd_reset(int fd)
{
	uint64_t v;
	while (nc__k.read(fd, &v, sizeof(v)) > 0)
		;
}

static struct io_uring *thread_ring(void)
{
	if (t_ring_state == 0)
		t_ring_state = io_uring_queue_init(NC_RING_ENTRIES, &t_ring, 0) == 0 ? 1 : -1;
	return t_ring_state > 0 ? &t_ring : NULL;
}

/* The same wait through ppoll, where io_uring is not available. */
static int poll_fallback(struct pollfd *fds, unsigned n, int64_t deadline_ns)
{
	struct timespec ts, *tsp = NULL;
	if (deadline_ns) {
		int64_t left = deadline_ns - nc__now_ns();
		left = left < 0 ? 0 : left;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		tsp = &ts;
	}
	int r = nc__k.ppoll(fds, n, tsp, NULL);
	return r < 0 ? -errno : r;
}

/* Takes the completions there are; counts the polls still out. */
static unsigned reap(struct io_uring *ring, struct pollfd *fds, unsigned n, unsigned *out)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, ready = 0;
	io_uring_for_each_cqe(ring, head, cqe) {
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		seen++;
		if (ud == NC_UD_REMOVE || ud == 0 || ud > n)
			continue;
		(*out)--;
		if (cqe->res > 0) {
			fds[ud - 1].revents = (short)cqe->res;
			ready++;
		}
	}
	io_uring_cq_advance(ring, seen);
	return ready;
}

/* Removes the polls that did not fire and waits until they are gone. */
static void cancel_rest(struct io_uring *ring, struct pollfd *fds, unsigned n, unsigned out)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i].revents)
			continue;
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		if (!sqe)
			break;
		io_uring_prep_poll_remove(sqe, i + 1);
		io_uring_sqe_set_data64(sqe, NC_UD_REMOVE);
	}
	io_uring_submit(ring);
	while (out) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(ring, &cqe) < 0)
			continue;
		reap(ring, fds, n, &out);
	}
}

int nc__poll_kernel(struct pollfd *fds, unsigned n, int64_t deadline_ns)
{
	struct io_uring *ring = thread_ring();
	if (!ring || n > NC_RING_ENTRIES / 2)
		return poll_fallback(fds, n, deadline_ns);
	for (unsigned i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		fds[i].revents = 0;
		io_uring_prep_poll_add(sqe, fds[i].fd, (unsigned)fds[i].events);
		io_uring_sqe_set_data64(sqe, i + 1);
	}
	struct __kernel_timespec ts;
	if (deadline_ns) {
		int64_t left = deadline_ns - nc__now_ns();
		left = left < 0 ? 0 : left;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
	}
	/* Submitting and waiting in one io_uring_enter would hide a signal
	 * (the call then reports what it submitted): wait on its own. */
	struct io_uring_cqe *cqe;
	int err = io_uring_submit(ring);
	if (err >= 0)
		err = deadline_ns ? io_uring_wait_cqe_timeout(ring, &cqe, &ts) :
				    io_uring_wait_cqe(ring, &cqe);
	unsigned out = n;
	reap(ring, fds, n, &out);
	if (out)
		cancel_rest(ring, fds, n, out);
	int ready = 0;
	for (unsigned i = 0; i < n; i++)
		ready += fds[i].revents != 0;
	return ready == 0 && err == -EINTR ? -EINTR : ready;
}

/* Spins while netd may answer soon (it runs on another CPU): a wake-up
 * costs more than the wait. True if ready(s) came to hold. */
static bool spin_for(struct nc_sock *s, bool (*ready)(struct nc_sock *))
{
	int64_t until = nc__now_ns() + NC_SPIN_NS;
	do {
		for (int i = 0; i < 64; i++) {
			if (ready(s))
				return true;
			__builtin_ia32_pause();
		}
		sched_yield();	/* a peer waiting for this CPU goes first */
	} while (nc__now_ns() < until);
	return false;
}

/* Signals a fault raises in the thread itself: never the one that
 * interrupts a wait. */
static bool synchronous_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP || sig == SIGSYS;
}

/* Linux restarts a socket call without a timeout after a handler that
 * has SA_RESTART. Which signal came is not known here: restart only if
 * every caught signal's handler has SA_RESTART. */
static bool handlers_restart(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGKILL || sig == SIGSTOP || synchronous_signal(sig) ||
		    sigaction(sig, NULL, &sa) < 0)
			continue;
		bool caught = (sa.sa_flags & SA_SIGINFO) ||
			      (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
		if (caught && !(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

static int wait_once(struct nc_sock *s, enum nc_wait_for what, bool (*ready)(struct nc_sock *),
		     int64_t deadline_ns);

int nc__wait(struct nc_sock *s, enum nc_wait_for what, bool (*ready)(struct nc_sock *),
	     int64_t deadline_ns)
{
	int err;
	while ((err = wait_once(s, what, ready, deadline_ns)) == -EINTR && !deadline_ns &&
	       handlers_restart())
		;
	return err;
}

static int wait_once(struct nc_sock *s, enum nc_wait_for what, bool (*ready)(struct nc_sock *),
		     int64_t deadline_ns)
{
	if (deadline_ns && nc__now_ns() >= deadline_ns)
		return ready(s) ? 0 : -EAGAIN;
	if (spin_for(s, ready))
		return 0;
	uint32_t *flag = what == NC_WAIT_RX ? &s->shm->rx.consumer_waiting :
			 what == NC_WAIT_TX ? &s->shm->tx.producer_waiting : NULL;
	if (flag)
		__atomic_store_n(flag, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ready(s))
		return 0;
	if (deadline_ns && nc__now_ns() >= deadline_ns)
		return -EAGAIN;
	struct pollfd fds[2] = {{.fd = s->fd, .events = POLLIN},
				{.fd = nc__session.ctl_fd, .events = POLLRDHUP}};
	int n = nc__poll_kernel(fds, 2, deadline_ns);
	if (n < 0)
		return n;
	if (fds[0].revents & POLLIN)
		nc__eventfd_reset(s->fd);
	if (fds[1].revents && nc__netd_gone())
		return -ENETDOWN;
	return n == 0 ? -EAGAIN : 0;
}

/* ---- nc_poll ---- */

/* The netd sockets' part: revents from their exact events. */
static int poll_netd(struct pollfd *fds, nfds_t nfds, bool arm)
{
	int ready = 0;
	for (nfds_t i = 0; i < nfds; i++) {
		struct nc_sock *s = nc__sock_hold(fds[i].fd);
		if (!s)
			continue;
		if (arm) {
			if (fds[i].events & POLLIN)
				__atomic_store_n(&s->shm->rx.consumer_waiting, 1, __ATOMIC_RELAXED);
			if (fds[i].events & POLLOUT)
				__atomic_store_n(&s->shm->tx.producer_waiting, 1, __ATOMIC_RELAXED);
		}
		uint32_t want = (uint32_t)(unsigned short)fds[i].events | EPOLLERR | EPOLLHUP;
		fds[i].revents = (short)(nc__events(s) & want);
		ready += fds[i].revents != 0;
		nc__sock_put(s);
	}
	return ready;
}

/* Sleeps on every descriptor (netd sockets through their eventfds) and the
 * control connection; kernel descriptors' revents are filled. */
static int poll_sleep(struct pollfd *fds, nfds_t nfds, int64_t deadline)
{
	struct pollfd *k = calloc(nfds + 1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (nfds_t i = 0; i < nfds; i++) {
		bool netd = nc__sock_get(fds[i].fd) != NULL;
		k[i].fd = fds[i].fd;
		k[i].events = netd ? POLLIN : fds[i].events;
	}
	k[nfds].fd = nc__session.ready ? nc__session.ctl_fd : -1;
	k[nfds].events = POLLRDHUP;
	int n = nc__poll_kernel(k, (unsigned)nfds + 1, deadline);
	int ready = 0;
	for (nfds_t i = 0; n > 0 && i < nfds; i++) {
		if (nc__sock_get(fds[i].fd)) {
			if (k[i].revents & POLLIN)
				nc__eventfd_reset(fds[i].fd);
		} else {
			fds[i].revents = k[i].revents;
			ready += k[i].revents != 0;
		}
	}
	if (n > 0 && k[nfds].revents)
		nc__netd_gone();
	free(k);
	return n < 0 ? n : ready;
}

/* The kernel descriptors' state without waiting. */
static int poll_kernel_now(struct pollfd *fds, nfds_t nfds)
{
	struct pollfd *k = malloc((nfds ? nfds : 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (nfds_t i = 0; i < nfds; i++) {	/* one poll(2); netd's are left out */
		k[i] = fds[i];
		if (nc__sock_get(fds[i].fd))
			k[i].fd = -1;
	}
	int ready = nc__k.poll(k, nfds, 0);
	for (nfds_t i = 0; ready >= 0 && i < nfds; i++)
		if (k[i].fd >= 0 || fds[i].fd < 0)
			fds[i].revents = k[i].revents;
	free(k);
	return ready < 0 ? -errno : ready;
}

int nc_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	int64_t deadline = timeout > 0 ? nc__deadline((int64_t)timeout * 1000000) : 0;
	for (;;) {
		int kernel = poll_kernel_now(fds, nfds);
		if (kernel < 0)
			return nc__err(kernel);
		int netd = poll_netd(fds, nfds, false);
		if (kernel + netd > 0 || timeout == 0)
			return kernel + netd;
		if (deadline && nc__now_ns() >= deadline)
			return 0;
		if ((netd = poll_netd(fds, nfds, true)) > 0)
			return netd;
		int slept = poll_sleep(fds, nfds, deadline);
		if (slept < 0)
			return nc__err(slept);
		netd = poll_netd(fds, nfds, false);
		if (slept + netd > 0)
			return slept + netd;
	}
}
