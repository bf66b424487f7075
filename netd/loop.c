/*
 * loop.c: the data-plane loop of loop.h. Device readiness comes from
 * multishot poll requests, transmit completions from the write requests
 * the drivers queue (each carries its nbuf, freed here), and signals from
 * a signalfd polled the same way, and the fds other modules watch (the
 * control socket, client sessions) through struct loop_watch. The io_uring
 * user_data says which: a pointer with the low bit set is a transmitted
 * nbuf; a pointer with the low three bits clear is a loop_watch; otherwise
 * the low three bits give the kind and the rest an interface index.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "ctl.h"
#include "loop.h"
#include "stack.h"
#include "util.h"

#define LOOP_RING_ENTRIES 1024
#define LOOP_RX_BUDGET 256
#define UD_POLL 2
#define UD_SIGNAL 4
#define UD_IGNORE 6		/* completions of poll removals */
#define UD_KIND_MASK 7

static struct io_uring_sqe *loop_sqe(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
	if (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static int loop_poll_fd(struct loop *l, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = loop_sqe(l);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int loop_watch(struct loop *l, struct loop_watch *w)
{
	w->removing = false;
	return loop_poll_fd(l, w->fd, (uint64_t)(uintptr_t)w);
}

void loop_unwatch(struct loop *l, struct loop_watch *w)
{
	struct io_uring_sqe *sqe = loop_sqe(l);
	w->removing = true;
	l->unwatching++;
	if (!sqe) {
		log_warn("io_uring: no room to stop polling fd %d", w->fd);
		return;
	}
	io_uring_prep_poll_remove(sqe, (uint64_t)(uintptr_t)w);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
}

/* A watched fd: the owner's callback, and the poll re-armed if the kernel
 * ended it (the owner may have asked for the removal meanwhile). */
static void loop_watch_complete(struct loop *l, struct loop_watch *w, int res, bool more)
{
	if (w->removing) {
		if (!more) {
			l->unwatching--;
			w->fn(w, -ECANCELED);
		}
		return;
	}
	if (res != -ECANCELED)	/* that one means "free me", said only after unwatch */
		w->fn(w, res);
	if (!more && !w->removing)
		loop_poll_fd(l, w->fd, (uint64_t)(uintptr_t)w);
}

int loop_init(struct loop *l, struct stack *st)
{
	sigset_t mask;

	memset(l, 0, sizeof(*l));
	l->st = st;
	int err = io_uring_queue_init(LOOP_RING_ENTRIES, &l->ring, 0);
	if (err < 0)
		return err;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	return loop_poll_fd(l, l->sigfd, UD_SIGNAL);
}

int loop_watch_devices(struct loop *l)
{
	for (unsigned i = 0; i < l->st->nifs; i++) {
		struct netdev *dev = l->st->ifs[i]->dev;
		int fd = dev->ops->rx_fd(dev);
		l->st->ifs[i]->rx_ready = true;	/* frames may wait already */
		if (fd >= 0) {
			int err = loop_poll_fd(l, fd, (uint64_t)i << 3 | UD_POLL);
			if (err)
				return err;
		}
	}
	return 0;
}

void loop_destroy(struct loop *l)
{
	if (l->sigfd > 0)
		close(l->sigfd);
	io_uring_queue_exit(&l->ring);
}

static void loop_print_stats(struct loop *l, int level)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	stats_print(f, l->st->stats, l->st->drops);
	fclose(f);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		log_msg(level, "%s", line);
	free(text);
}

static void loop_read_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: stopping", si.ssi_signo);
			l->stop = true;
			break;
		case SIGUSR1:
			l->dump_stats = true;
			break;
		default:
			log_info("signal %u ignored", si.ssi_signo);
		}
	}
}

static void loop_complete(struct loop *l, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	bool rearm = !(cqe->flags & IORING_CQE_F_MORE);

	if (ud & NETDEV_UD_TX) {
		struct nbuf *nb = (struct nbuf *)(uintptr_t)(ud & ~NETDEV_UD_TX);
		struct netif *nif = stack_netif(l->st, nb->ifindex);
		if (cqe->res < 0) {
			if (nif)
				nif->dev->stats.tx_errors++;
			nbuf_drop(l->st, nb, DROP_DEV_TX_ERROR);
		} else {
			nbuf_free(nb);
		}
		return;
	}
	if ((ud & UD_KIND_MASK) == 0 && ud) {
		loop_watch_complete(l, (struct loop_watch *)(uintptr_t)ud, cqe->res, !rearm);
		return;
	}
	if ((ud & UD_KIND_MASK) == UD_IGNORE)
		return;
	if ((ud & UD_KIND_MASK) == UD_SIGNAL) {
		loop_read_signals(l);
		if (rearm)
			loop_poll_fd(l, l->sigfd, UD_SIGNAL);
		return;
	}
	struct netif *nif = stack_netif(l->st, (unsigned)(ud >> 3));
	if (!nif)
		return;
	nif->rx_ready = true;
	if (rearm)
		loop_poll_fd(l, nif->dev->ops->rx_fd(nif->dev), ud);
}

/* Reads the devices with frames waiting; true if some may still have more. */
static bool loop_receive(struct loop *l)
{
	bool more = false;
	for (unsigned i = 0; i < l->st->nifs; i++) {
		struct netif *nif = l->st->ifs[i];
		struct netdev *dev = nif->dev;
		bool pending = dev->ops->rx_pending && dev->ops->rx_pending(dev);
		if (!nif->rx_ready && !pending)
			continue;
		unsigned n = netif_poll(nif, LOOP_RX_BUDGET);
		if (n)
			l->last_rx = l->st->clock.now;
		nif->rx_ready = n == LOOP_RX_BUDGET;
		more |= nif->rx_ready || (dev->ops->rx_pending && dev->ops->rx_pending(dev));
	}
	return more;
}

/* Spin, then sleep: shortly after a frame, read every device again next
 * turn instead of waiting to be woken. True while spinning. */
static bool loop_spin(struct loop *l)
{
	uint64_t window = l->st->params.busy_poll_us * NSEC_PER_USEC;
	if (!window || l->st->clock.now - l->last_rx >= window)
		return false;
	for (unsigned i = 0; i < l->st->nifs; i++)
		l->st->ifs[i]->rx_ready = true;
	return true;
}

static void loop_turn_work(struct loop *l, bool *busy)
{
	struct stack *st = l->st;

	clock_update(&st->clock);
	*busy = loop_receive(l);
	ip_loopback_run(st);
	stack_run_timers(st);
	if (l->ctl && ctl_run(l->ctl))
		l->last_rx = st->clock.now;
	sock_run_ready(st);
	for (unsigned i = 0; i < st->nifs; i++)
		netif_flush(st->ifs[i]);
	*busy |= st->loopback.len > 0 || st->socks.ready != NULL;
	*busy = loop_spin(l) || *busy;
	if (!*busy && l->ctl)
		*busy = !ctl_prepare_sleep(l->ctl);
}

static int loop_wait(struct loop *l, bool busy)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = {0};
	int64_t next = busy ? 0 : timer_next(&l->st->timers, clock_update(&l->st->clock));
	int err;

	if (next == 0) {
		err = io_uring_submit(&l->ring);
	} else {
		ts.tv_sec = next / (int64_t)NSEC_PER_SEC;
		ts.tv_nsec = next % (int64_t)NSEC_PER_SEC;
		err = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, next > 0 ? &ts : NULL, NULL);
	}
	if (err < 0 && err != -ETIME && err != -EINTR)
		return err;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&l->ring, head, cqe) {
		loop_complete(l, cqe);
		n++;
	}
	io_uring_cq_advance(&l->ring, n);
	if (l->ctl)
		ctl_woken(l->ctl);
	return 0;
}

int loop_turn(struct loop *l)
{
	bool busy;
	loop_turn_work(l, &busy);
	return loop_wait(l, true);
}

int loop_run(struct loop *l)
{
	while (!l->stop) {
		bool busy;
		loop_turn_work(l, &busy);
		int err = loop_wait(l, busy);
		if (err < 0) {
			log_warn("io_uring: %s", strerror(-err));
			return err;
		}
		if (l->dump_stats) {
			loop_print_stats(l, LOG_LVL_WARN);
			l->dump_stats = false;
		}
	}
	loop_print_stats(l, LOG_LVL_INFO);
	return 0;
}

void loop_settle(struct loop *l)
{
	for (int i = 0; i < 100 && l->unwatching; i++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = {.tv_nsec = 1000000};
		io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
		unsigned head, n = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe) {
			loop_complete(l, cqe);
			n++;
		}
		io_uring_cq_advance(&l->ring, n);
	}
}
