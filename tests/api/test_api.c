/*
 * test_api.c: a differential test of libnetclient against the kernel.
 * Each scenario is written once, against a table of calls (struct calls),
 * and run twice: with the kernel's socket calls on the kernel's loopback
 * (127.0.0.1), then with the nc_* calls on netd's own address (NETD_ADDR),
 * where netd talks to itself through its loopback. A scenario writes a
 * transcript: every call's return value and errno, the data where it
 * matters, and nothing that may rightly differ (descriptor numbers, port
 * numbers, timings: a port shows as "eph" when it lies in the ephemeral
 * range 32768..60999, an address as "self" or "any"). Each test asserts
 * that the two transcripts are equal and prints both when they are not.
 *
 * Scenarios wait for data to settle (poll, FIONREAD) before they look at
 * anything asynchronous, so that a loopback that runs inside the sending
 * call (the kernel's) and one that runs in another process (netd's) give
 * the same transcript. Against hangs: a blocking call that should return
 * runs under an alarm (GUARDED), which ends a kernel call with EINTR; a
 * call that only a signal should end has a rescue (data or a connection
 * from another thread after 2 s), so that an implementation that misses
 * the signal shows what it did instead; and a watchdog thread fails a run
 * that is still stuck after 15 s, printing the transcripts so far.
 *
 * tests/e2e/api.sh runs this inside a network namespace with netd started
 * there (NETD_SOCKET, NETD_ADDR); without NETD_ADDR the suite skips.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <netclient.h>

#define EPH_LO 32768
#define EPH_HI 60999
#define TR_MAX (64 * 1024)
#define GUARD_MS 3000		/* a call that must return gets this long */
#define SETTLE_MS 2000		/* how long to wait for data or an event */

/* ---- the two implementations ---- */

struct calls {
	const char *name;
	struct in_addr self;	/* the address the scenarios use on this stack */
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recv)(int, void *, size_t, int);
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
};

/* glibc declares the calls that take an address with a transparent union
 * under _GNU_SOURCE; these give them plain types. */
static int k_bind(int fd, const struct sockaddr *a, socklen_t len)
{
	return bind(fd, a, len);
}

static int k_connect(int fd, const struct sockaddr *a, socklen_t len)
{
	return connect(fd, a, len);
}

static int k_accept(int fd, struct sockaddr *a, socklen_t *len)
{
	return accept(fd, a, len);
}

static int k_accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	return accept4(fd, a, len, flags);
}

static ssize_t k_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
			socklen_t len)
{
	return sendto(fd, buf, n, flags, a, len);
}

static ssize_t k_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a,
			  socklen_t *len)
{
	return recvfrom(fd, buf, n, flags, a, len);
}

static int k_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	return getsockname(fd, a, len);
}

static int k_getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	return getpeername(fd, a, len);
}

static struct calls kernel_calls = {
	.name = "kernel",
	.socket = socket, .bind = k_bind, .listen = listen, .accept = k_accept,
	.accept4 = k_accept4, .connect = k_connect, .send = send, .sendto = k_sendto,
	.sendmsg = sendmsg, .recv = recv, .recvfrom = k_recvfrom, .recvmsg = recvmsg,
	.read = read, .write = write, .readv = readv, .writev = writev,
	.shutdown = shutdown, .close = close, .setsockopt = setsockopt,
	.getsockopt = getsockopt, .getsockname = k_getsockname,
	.getpeername = k_getpeername, .fcntl = fcntl, .ioctl = ioctl, .poll = poll,
};

static struct calls netd_calls = {
	.name = "netd",
	.socket = nc_socket, .bind = nc_bind, .listen = nc_listen, .accept = nc_accept,
	.accept4 = nc_accept4, .connect = nc_connect, .send = nc_send, .sendto = nc_sendto,
	.sendmsg = nc_sendmsg, .recv = nc_recv, .recvfrom = nc_recvfrom,
	.recvmsg = nc_recvmsg, .read = nc_read, .write = nc_write, .readv = nc_readv,
	.writev = nc_writev, .shutdown = nc_shutdown, .close = nc_close,
	.setsockopt = nc_setsockopt, .getsockopt = nc_getsockopt,
	.getsockname = nc_getsockname, .getpeername = nc_getpeername, .fcntl = nc_fcntl,
	.ioctl = nc_ioctl, .poll = nc_poll,
};

/* ---- transcripts ---- */

struct tr {
	size_t len;
	char buf[TR_MAX];
};

__attribute__((format(printf, 2, 3)))
static void say(struct tr *t, const char *fmt, ...)
{
	int e = errno;
	size_t room = TR_MAX - t->len;
	if (room < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, room - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < room - 2 ? (size_t)n : room - 2;
	t->buf[t->len++] = '\n';
	t->buf[t->len] = '\0';
	errno = e;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Records a call's result: its value, or -1 and errno's name. Keeps errno. */
static long rec(struct tr *t, const char *what, long r)
{
	int e = errno;
	if (r == -1)
		say(t, "%s = -1 %s", what, errname(e));
	else
		say(t, "%s = %ld", what, r);
	errno = e;
	return r;
}

/* The same for flag words, in hex. */
static long rec_hex(struct tr *t, const char *what, long r)
{
	int e = errno;
	if (r == -1)
		say(t, "%s = -1 %s", what, errname(e));
	else
		say(t, "%s = %#lx", what, r);
	errno = e;
	return r;
}

/* For calls that return a descriptor, whose number may differ. */
static int rec_fd(struct tr *t, const char *what, int fd)
{
	int e = errno;
	if (fd < 0)
		say(t, "%s = -1 %s", what, errname(e));
	else
		say(t, "%s = fd", what);
	errno = e;
	return fd;
}

/* Bytes as a quoted string, the first 64 of them. */
static const char *show(const void *buf, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = buf;
	size_t o = 0;
	for (size_t i = 0; i < n && i < 64 && o + 6 < outlen; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", p[i]);
	}
	if (n > 64 && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* A data call's result with the bytes it moved. */
static ssize_t rec_io(struct tr *t, const char *what, ssize_t r, const void *buf)
{
	int e = errno;
	char s[400];
	if (r < 0)
		say(t, "%s = -1 %s", what, errname(e));
	else if (buf)
		say(t, "%s = %zd \"%s\"", what, r, show(buf, (size_t)r, s, sizeof(s)));
	else
		say(t, "%s = %zd", what, r);
	errno = e;
	return r;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* ---- addresses ---- */

#define SA(x) ((struct sockaddr *)&(x))
#define CSA(x) ((const struct sockaddr *)&(x))

static struct sockaddr_in sin_at(struct in_addr a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = a};
	return s;
}

static struct sockaddr_in self_at(const struct calls *c, uint16_t port)
{
	return sin_at(c->self, port);
}

static struct sockaddr_in addr_at(const char *dotted, uint16_t port)
{
	struct in_addr a;
	inet_pton(AF_INET, dotted, &a);
	return sin_at(a, port);
}

/* "self:eph", "any:0", "192.0.2.1:9": what may be compared across runs. */
static const char *sin_str(const struct calls *c, const struct sockaddr_in *s, char *out,
			   size_t n)
{
	char a[INET_ADDRSTRLEN], p[16];
	uint16_t port = ntohs(s->sin_port);
	if (s->sin_family != AF_INET) {
		snprintf(out, n, "family %d", s->sin_family);
		return out;
	}
	if (s->sin_addr.s_addr == c->self.s_addr)
		strcpy(a, "self");
	else if (s->sin_addr.s_addr == htonl(INADDR_ANY))
		strcpy(a, "any");
	else
		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
	if (port >= EPH_LO && port <= EPH_HI)
		strcpy(p, "eph");
	else
		snprintf(p, sizeof(p), "%u", port);
	snprintf(out, n, "%s:%s", a, p);
	return out;
}

/* getsockname or getpeername into the transcript. */
static int rec_name(const struct calls *c, struct tr *t, const char *what, int fd, int peer)
{
	struct sockaddr_in s;
	socklen_t len = sizeof(s);
	char b[64];
	memset(&s, 0, sizeof(s));
	int r = peer ? c->getpeername(fd, SA(s), &len) : c->getsockname(fd, SA(s), &len);
	int e = errno;
	if (r < 0)
		say(t, "%s = -1 %s", what, errname(e));
	else
		say(t, "%s = %d %s len %u", what, r, sin_str(c, &s, b, sizeof(b)), (unsigned)len);
	errno = e;
	return r;
}

static struct sockaddr_in name_of(const struct calls *c, int fd, int peer)
{
	struct sockaddr_in s;
	socklen_t len = sizeof(s);
	memset(&s, 0, sizeof(s));
	if ((peer ? c->getpeername(fd, SA(s), &len) : c->getsockname(fd, SA(s), &len)) < 0)
		memset(&s, 0, sizeof(s));
	return s;
}

static uint16_t port_of(const struct calls *c, int fd)
{
	return ntohs(name_of(c, fd, 0).sin_port);
}

static bool same_ep(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == b->sin_family && a->sin_port == b->sin_port &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* ---- poll events ---- */

static const char *ev_str(int ev, char *out, size_t n)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
		{POLLIN, "IN"}, {POLLPRI, "PRI"}, {POLLOUT, "OUT"}, {POLLERR, "ERR"},
		{POLLHUP, "HUP"}, {POLLNVAL, "NVAL"}, {POLLRDNORM, "RDNORM"},
		{POLLRDBAND, "RDBAND"}, {POLLWRNORM, "WRNORM"}, {POLLWRBAND, "WRBAND"},
		{POLLRDHUP, "RDHUP"},
	};
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(ev & names[i].bit))
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s%s", o ? "|" : "", names[i].name);
		ev &= ~names[i].bit;
	}
	if (ev)
		o += (size_t)snprintf(out + o, n - o, "%s%#x", o ? "|" : "", (unsigned)ev);
	if (!o)
		snprintf(out, n, "0");
	return out;
}

/* poll on one descriptor into the transcript; returns revents (or -1). */
static int rec_poll1(const struct calls *c, struct tr *t, const char *what, int fd, short events,
		     int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	char b[96];
	int r = c->poll(&p, 1, ms);
	int e = errno;
	if (r < 0)
		say(t, "%s = -1 %s", what, errname(e));
	else
		say(t, "%s = %d revents %s", what, r, ev_str(p.revents, b, sizeof(b)));
	errno = e;
	return r < 0 ? -1 : p.revents;
}

/* ---- time, signals, waiting ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile sig_atomic_t n_sigpipe, n_sigalrm;

static void on_sigpipe(int sig)
{
	(void)sig;
	n_sigpipe++;
}

static void on_sigalrm(int sig)
{
	(void)sig;
	n_sigalrm++;
}

static void alarm_handler(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigalrm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void alarm_ms(int ms)
{
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static long guarded_end(long r)
{
	int e = errno;
	alarm_ms(0);
	errno = e;
	return r;
}

/* A blocking call that should return by itself; if it hangs, the alarm
 * (a handler without SA_RESTART) ends it with EINTR. */
#define GUARDED(expr) (alarm_ms(GUARD_MS), guarded_end((long)(expr)))

static void signals_reset(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	alarm_handler(0);
	alarm_ms(0);
	n_sigpipe = 0;
	n_sigalrm = 0;
}

/* revents of fd once one of want holds, or 0 after ms. */
static int wait_ev(const struct calls *c, int fd, short events, short want, int ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int left = (int)(end - now_ms());
		if (left < 0)
			return 0;
		if (c->poll(&p, 1, left) > 0 && (p.revents & want))
			return p.revents;
		if (p.revents)
			usleep(1000);
	}
}

static int inq(const struct calls *c, int fd)
{
	int n = -1;
	return c->ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

static int outq(const struct calls *c, int fd)
{
	int n = -1;
	return c->ioctl(fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

/* Until fd has at least n bytes to read, or SETTLE_MS. */
static void wait_inq(const struct calls *c, int fd, int n)
{
	int64_t end = now_ms() + SETTLE_MS;
	while (inq(c, fd) < n && now_ms() < end) {
		wait_ev(c, fd, POLLIN, POLLIN, 10);
		usleep(1000);
	}
}

/* Until everything sent on fd is acknowledged, or SETTLE_MS. */
static void wait_outq_empty(const struct calls *c, int fd)
{
	int64_t end = now_ms() + SETTLE_MS;
	while (outq(c, fd) > 0 && now_ms() < end)
		usleep(1000);
}

/* A writer in a thread of its own: chunks of data after a delay each,
 * then optionally shutdown(SHUT_WR). The thread never takes SIGALRM, so
 * alarms reach the scenario's thread. */
struct later {
	const struct calls *c;
	int fd;
	int delay_ms;
	int chunks;
	const char *data;
	size_t len;	/* per chunk */
	bool shut_wr;
	uint16_t connect_port;	/* instead: connect a new socket (in fd) to it */
	pthread_t th;
};

static void *later_main(void *arg)
{
	struct later *l = arg;
	if (l->connect_port) {
		usleep((useconds_t)l->delay_ms * 1000);
		l->fd = l->c->socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = sin_at(l->c->self, l->connect_port);
		l->c->connect(l->fd, (const struct sockaddr *)&a, sizeof(a));
		return NULL;
	}
	for (int i = 0; i < l->chunks; i++) {
		usleep((useconds_t)l->delay_ms * 1000);
		l->c->write(l->fd, l->data + (size_t)i * l->len, l->len);
	}
	if (l->shut_wr) {
		usleep((useconds_t)l->delay_ms * 1000);
		l->c->shutdown(l->fd, SHUT_WR);
	}
	return NULL;
}

/* A thread that takes neither SIGALRM nor SIGPIPE: those stay the
 * scenario thread's. */
static void thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ck_assert_int_eq(pthread_create(th, NULL, fn, arg), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void later_start(struct later *l)
{
	thread_start(&l->th, later_main, l);
}

/* A rescue for a call that should end by a signal: data (or a connection)
 * after RESCUE_MS, so that an implementation that misses the signal
 * returns that instead of blocking for good. */
#define RESCUE_MS 2000

static void rescue_write(struct later *l, const struct calls *c, int fd)
{
	*l = (struct later){.c = c, .fd = fd, .delay_ms = RESCUE_MS, .chunks = 1, .data = "r",
			    .len = 1};
	later_start(l);
}

static void later_join(struct later *l)
{
	pthread_join(l->th, NULL);
}

/* ---- sockets ---- */

static void done(const struct calls *c, int fd)
{
	if (fd >= 0)
		c->close(fd);
}

static int tcp_socket(const struct calls *c)
{
	return c->socket(AF_INET, SOCK_STREAM, 0);
}

static int udp_socket(const struct calls *c)
{
	return c->socket(AF_INET, SOCK_DGRAM, 0);
}

static int set_int(const struct calls *c, int fd, int level, int name, int v)
{
	return c->setsockopt(fd, level, name, &v, sizeof(v));
}

static int bind_self(const struct calls *c, int fd, uint16_t port)
{
	struct sockaddr_in a = self_at(c, port);
	return c->bind(fd, CSA(a), sizeof(a));
}

static int connect_self(const struct calls *c, int fd, uint16_t port)
{
	struct sockaddr_in a = self_at(c, port);
	return c->connect(fd, CSA(a), sizeof(a));
}

/* A TCP listener on self, on a port the stack picks. */
static int listener(const struct calls *c, uint16_t *port)
{
	int fd = tcp_socket(c);
	if (fd < 0)
		return -1;
	if (bind_self(c, fd, 0) < 0 || c->listen(fd, 16) < 0) {
		int e = errno;
		c->close(fd);
		errno = e;
		return -1;
	}
	*port = port_of(c, fd);
	return fd;
}

/* A UDP socket bound on self, on a port the stack picks. */
static int udp_bound(const struct calls *c, uint16_t *port)
{
	int fd = udp_socket(c);
	if (fd < 0)
		return -1;
	if (bind_self(c, fd, 0) < 0) {
		int e = errno;
		c->close(fd);
		errno = e;
		return -1;
	}
	*port = port_of(c, fd);
	return fd;
}

/* A port on self where nothing listens: bound by a socket, then freed. */
static uint16_t closed_port(const struct calls *c, int type)
{
	int fd = c->socket(AF_INET, type, 0);
	bind_self(c, fd, 0);
	uint16_t port = port_of(c, fd);
	c->close(fd);
	return port;
}

/* A connected TCP pair on self: the connecting end in *cl, the accepted
 * one in *sv. "pair = ok", or the step that failed, in the transcript. */
static int tcp_pair(const struct calls *c, struct tr *t, int *cl, int *sv)
{
	uint16_t port;
	int l = listener(c, &port);
	*cl = *sv = -1;
	if (l < 0) {
		say(t, "pair: listener = -1 %s", errname(errno));
		return -1;
	}
	*cl = tcp_socket(c);
	if (*cl < 0 || GUARDED(connect_self(c, *cl, port)) < 0) {
		say(t, "pair: connect = -1 %s", errname(errno));
		c->close(l);
		return -1;
	}
	*sv = (int)GUARDED(c->accept(l, NULL, NULL));
	if (*sv < 0) {
		say(t, "pair: accept = -1 %s", errname(errno));
		c->close(l);
		return -1;
	}
	c->close(l);
	say(t, "pair = ok");
	return 0;
}

static void rec_getint(const struct calls *c, struct tr *t, const char *what, int fd, int level,
		       int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	int r = c->getsockopt(fd, level, name, &v, &len);
	if (r < 0)
		say(t, "getsockopt %s = -1 %s", what, errname(errno));
	else
		say(t, "getsockopt %s = %d value %d len %u", what, r, v, (unsigned)len);
}

static void rec_setint(const struct calls *c, struct tr *t, const char *what, int fd, int level,
		       int name, int v)
{
	int r = set_int(c, fd, level, name, v);
	if (r < 0)
		say(t, "setsockopt %s %d = -1 %s", what, v, errname(errno));
	else
		say(t, "setsockopt %s %d = %d", what, v, r);
}

/* SO_ERROR, shown as an errno name. */
static void rec_soerror(const struct calls *c, struct tr *t, int fd)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	int r = c->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len);
	if (r < 0)
		say(t, "getsockopt SO_ERROR = -1 %s", errname(errno));
	else
		say(t, "getsockopt SO_ERROR = %d value %s len %u", r, v ? errname(v) : "0",
		    (unsigned)len);
}

static int tcp_state(const struct calls *c, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (c->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	return ti.tcpi_state;
}

static void rec_tcp_info(const struct calls *c, struct tr *t, const char *what, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0xff, sizeof(ti));
	int r = c->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	if (r < 0)
		say(t, "TCP_INFO %s = -1 %s", what, errname(errno));
	else
		say(t, "TCP_INFO %s = %d tcpi_state %u len %u", what, r, ti.tcpi_state,
		    (unsigned)len);
}

/* ---- running a scenario twice ---- */

typedef void scenario_fn(const struct calls *c, struct tr *t);

static void print_tr(const char *who, const struct tr *t)
{
	printf("# --- %s\n", who);
	for (const char *p = t->buf; *p;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		printf("#   %.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* The first line where a and b differ, copied into la and lb. */
static int first_diff(const char *a, const char *b, char *la, char *lb, size_t n)
{
	int line = 1;
	while (*a || *b) {
		size_t ka = strcspn(a, "\n"), kb = strcspn(b, "\n");
		if (ka != kb || strncmp(a, b, ka) != 0) {
			snprintf(la, n, "%.*s", (int)ka, a);
			snprintf(lb, n, "%.*s", (int)kb, b);
			return line;
		}
		a += ka + (a[ka] ? 1 : 0);
		b += kb + (b[kb] ? 1 : 0);
		line++;
	}
	return 0;
}

/* The watchdog: a run that has not ended after HANG_S seconds is stuck
 * in a call that no alarm can end (GUARDED ends the kernel's; netd's may
 * not heed signals). It prints the transcripts so far and fails the test
 * before Check's timeout would kill it with nothing said. */
#define HANG_S 15

struct watch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *name;
	const char *who;	/* the run under way; NULL when all is done */
	struct tr *k, *n;
	pthread_t th;
};

static const char *last_line(const struct tr *t, char *out, size_t n)
{
	size_t end = t->len, start;
	while (end > 0 && t->buf[end - 1] == '\n')
		end--;
	for (start = end; start > 0 && t->buf[start - 1] != '\n'; start--)
		;
	snprintf(out, n, "%.*s", (int)(end - start), t->buf + start);
	return out;
}

static void hung(struct watch *w)
{
	char last[256];
	struct tr *t = w->who == kernel_calls.name ? w->k : w->n;
	printf("# %s: the %s run hung for %d s after \"%s\"\n", w->name, w->who, HANG_S,
	       last_line(t, last, sizeof(last)));
	print_tr("kernel", w->k);
	print_tr("netd", w->n);
	fflush(stdout);
	const char *fork_mode = getenv("CK_FORK");
	if (fork_mode && strcmp(fork_mode, "no") == 0)
		_exit(EXIT_FAILURE);
	ck_abort_msg("%s: the %s run hung after \"%s\"", w->name, w->who, last);
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	pthread_mutex_lock(&w->lock);
	while (w->who) {
		const char *who = w->who;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += HANG_S;
		int r = 0;
		while (w->who == who && r != ETIMEDOUT)
			r = pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		if (w->who == who && r == ETIMEDOUT)
			hung(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void watch_set(struct watch *w, const char *who)
{
	pthread_mutex_lock(&w->lock);
	w->who = who;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void run_diff(const char *name, scenario_fn *sc)
{
	struct tr *k = calloc(1, sizeof(*k)), *n = calloc(1, sizeof(*n));
	struct watch w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
			  .name = name, .who = kernel_calls.name, .k = k, .n = n};
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(n);
	thread_start(&w.th, watch_main, &w);
	signals_reset();
	sc(&kernel_calls, k);
	watch_set(&w, netd_calls.name);
	signals_reset();
	sc(&netd_calls, n);
	watch_set(&w, NULL);
	pthread_join(w.th, NULL);
	signals_reset();
	if (strcmp(k->buf, n->buf) != 0) {
		char la[256], lb[256];
		int line = first_diff(k->buf, n->buf, la, lb, sizeof(la));
		printf("# %s: netd differs from the kernel at line %d\n", name, line);
		print_tr("kernel", k);
		print_tr("netd", n);
		fflush(stdout);
		free(k);
		free(n);
		ck_abort_msg("%s: line %d: kernel \"%s\", netd \"%s\"", name, line, la, lb);
	}
	free(k);
	free(n);
}

/* SCENARIO(name) { ... }: the body runs once per implementation, as c,
 * writing to the transcript t. */
#define SCENARIO(name)                                                  \
	static void sc_##name(const struct calls *c, struct tr *t);     \
	START_TEST(name)                                                \
	{                                                               \
		run_diff(#name, sc_##name);                             \
	}                                                               \
	END_TEST                                                        \
	static void sc_##name(const struct calls *c, struct tr *t)

/* ==== socket ==== */

SCENARIO(socket_types)
{
	static const struct {
		const char *what;
		int domain, type, protocol;
	} cases[] = {
		{"socket(AF_INET, SOCK_STREAM, 0)", AF_INET, SOCK_STREAM, 0},
		{"socket(AF_INET, SOCK_DGRAM, 0)", AF_INET, SOCK_DGRAM, 0},
		{"socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)", AF_INET, SOCK_STREAM, IPPROTO_TCP},
		{"socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)", AF_INET, SOCK_DGRAM, IPPROTO_UDP},
		{"socket(AF_INET, SOCK_SEQPACKET, 0)", AF_INET, SOCK_SEQPACKET, 0},
		{"socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)", AF_INET, SOCK_DGRAM, IPPROTO_TCP},
		{"socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)", AF_INET, SOCK_STREAM, IPPROTO_UDP},
		{"socket(AF_INET, SOCK_STREAM, 99)", AF_INET, SOCK_STREAM, 99},
		{"socket(AF_INET, SOCK_DGRAM, -1)", AF_INET, SOCK_DGRAM, -1},
		{"socket(AF_INET, SOCK_DGRAM, 1000)", AF_INET, SOCK_DGRAM, 1000},
		{"socket(AF_INET, 8 (no such type), 0)", AF_INET, 8, 0},
		{"socket(AF_INET, 11 (past SOCK_PACKET), 0)", AF_INET, 11, 0},
		{"socket(AF_INET, SOCK_STREAM | 0x100 (no such flag), 0)", AF_INET,
		 SOCK_STREAM | 0x100, 0},
		{"socket(12345, SOCK_STREAM, 0)", 12345, SOCK_STREAM, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		done(c, rec_fd(t, cases[i].what,
			       c->socket(cases[i].domain, cases[i].type, cases[i].protocol)));
}

SCENARIO(socket_flags)
{
	char b[8];
	int one = 1, zero = 0;
	int fd = rec_fd(t, "socket(STREAM|NONBLOCK|CLOEXEC)",
			c->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "F_GETFD", c->fcntl(fd, F_GETFD, 0));
	done(c, fd);

	fd = rec_fd(t, "socket(STREAM|CLOEXEC)", c->socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "F_GETFD", c->fcntl(fd, F_GETFD, 0));
	done(c, fd);

	fd = rec_fd(t, "socket(DGRAM|NONBLOCK)", c->socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "F_GETFD", c->fcntl(fd, F_GETFD, 0));
	rec(t, "recv", c->recv(fd, b, sizeof(b), 0));
	done(c, fd);

	fd = rec_fd(t, "socket(DGRAM)", c->socket(AF_INET, SOCK_DGRAM, 0));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "F_GETFD", c->fcntl(fd, F_GETFD, 0));
	rec(t, "F_SETFL O_NONBLOCK", c->fcntl(fd, F_SETFL, O_NONBLOCK));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "recv", c->recv(fd, b, sizeof(b), 0));
	rec(t, "F_SETFL 0", c->fcntl(fd, F_SETFL, 0));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "ioctl FIONBIO 1", c->ioctl(fd, FIONBIO, &one));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "recv", c->recv(fd, b, sizeof(b), 0));
	rec(t, "ioctl FIONBIO 0", c->ioctl(fd, FIONBIO, &zero));
	rec_hex(t, "F_GETFL", c->fcntl(fd, F_GETFL, 0));
	rec(t, "F_SETFD FD_CLOEXEC", c->fcntl(fd, F_SETFD, FD_CLOEXEC));
	rec(t, "F_GETFD", c->fcntl(fd, F_GETFD, 0));
	rec(t, "F_GETOWN", c->fcntl(fd, F_GETOWN, 0));
	done(c, fd);
}

/* ==== bind ==== */

static void bind_checks(const struct calls *c, struct tr *t, int type)
{
	struct sockaddr_in a = self_at(c, 0), far = addr_at("192.0.2.1", 0);
	struct sockaddr_in a6 = a, unspec_any = sin_at((struct in_addr){0}, 0), unspec_self = a;
	char big[256];
	a6.sin_family = AF_INET6;
	unspec_any.sin_family = AF_UNSPEC;
	unspec_self.sin_family = AF_UNSPEC;
	memset(big, 0, sizeof(big));
	memcpy(big, &a, sizeof(a));

	say(t, "-- %s", type == SOCK_STREAM ? "tcp" : "udp");
	int fd = c->socket(AF_INET, type, 0);
	rec(t, "bind self:0 addrlen 15", c->bind(fd, CSA(a), sizeof(a) - 1));
	rec(t, "bind self:0 addrlen 0", c->bind(fd, CSA(a), 0));
	rec(t, "bind family AF_INET6 addrlen 16", c->bind(fd, CSA(a6), sizeof(a6)));
	rec(t, "bind family AF_INET6 addrlen 8", c->bind(fd, CSA(a6), 8));
	rec(t, "bind NULL addrlen 16", c->bind(fd, NULL, sizeof(a)));
	rec(t, "bind family AF_UNSPEC self:0", c->bind(fd, CSA(unspec_self), sizeof(a)));
	rec(t, "bind 192.0.2.1:0 (not local)", c->bind(fd, CSA(far), sizeof(far)));
	rec_name(c, t, "getsockname (still unbound)", fd, 0);
	rec(t, "bind self:0", c->bind(fd, CSA(a), sizeof(a)));
	rec_name(c, t, "getsockname", fd, 0);
	rec(t, "bind self:0 again", c->bind(fd, CSA(a), sizeof(a)));
	rec(t, "bind 192.0.2.1:0 again", c->bind(fd, CSA(far), sizeof(far)));
	done(c, fd);

	fd = c->socket(AF_INET, type, 0);
	rec(t, "bind self:0 addrlen 129", c->bind(fd, (const struct sockaddr *)big, 129));
	rec_name(c, t, "getsockname", fd, 0);
	done(c, fd);

	fd = c->socket(AF_INET, type, 0);
	rec(t, "bind family AF_UNSPEC any:0", c->bind(fd, CSA(unspec_any), sizeof(a)));
	rec_name(c, t, "getsockname", fd, 0);
	done(c, fd);

	if (type == SOCK_DGRAM) {
		struct sockaddr_in group = addr_at("224.0.0.251", 0);
		fd = c->socket(AF_INET, type, 0);
		rec(t, "bind 224.0.0.251:0 (multicast)", c->bind(fd, CSA(group), sizeof(group)));
		done(c, fd);
	}
}

SCENARIO(bind_address_checks)
{
	bind_checks(c, t, SOCK_STREAM);
	bind_checks(c, t, SOCK_DGRAM);
}

SCENARIO(bind_ephemeral)
{
	struct sockaddr_in any = sin_at((struct in_addr){0}, 0);
	for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
		say(t, "-- %s", type == SOCK_STREAM ? "tcp" : "udp");
		int a = c->socket(AF_INET, type, 0), b = c->socket(AF_INET, type, 0);
		rec_name(c, t, "getsockname unbound", a, 0);
		rec(t, "bind self:0", bind_self(c, a, 0));
		rec_name(c, t, "getsockname", a, 0);
		rec(t, "bind any:0", c->bind(b, CSA(any), sizeof(any)));
		rec_name(c, t, "getsockname", b, 0);
		say(t, "two ports differ: %s", yes_no(port_of(c, a) != port_of(c, b)));
		done(c, a);
		done(c, b);
	}
	int l = tcp_socket(c);
	rec(t, "listen unbound", c->listen(l, 1));
	rec_name(c, t, "getsockname", l, 0);
	done(c, l);
}

SCENARIO(bind_in_use)
{
	uint16_t p, q, r, u;
	int a = listener(c, &p), b = tcp_socket(c);
	struct sockaddr_in any = sin_at((struct in_addr){0}, p);
	say(t, "-- a listener, then a second socket on its port");
	rec(t, "bind self:P", bind_self(c, b, p));
	rec(t, "bind any:P", c->bind(b, CSA(any), sizeof(any)));
	rec(t, "SO_REUSEADDR 1", set_int(c, b, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "bind self:P", bind_self(c, b, p));
	done(c, a);
	done(c, b);

	say(t, "-- two sockets with SO_REUSEADDR, neither listening");
	a = tcp_socket(c);
	b = tcp_socket(c);
	rec(t, "a SO_REUSEADDR 1", set_int(c, a, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "b SO_REUSEADDR 1", set_int(c, b, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "a bind self:0", bind_self(c, a, 0));
	q = port_of(c, a);
	rec(t, "b bind self:Q", bind_self(c, b, q));
	rec(t, "b listen", c->listen(b, 1));
	rec(t, "a listen", c->listen(a, 1));
	done(c, a);
	done(c, b);

	say(t, "-- only the second socket has SO_REUSEADDR");
	a = tcp_socket(c);
	b = tcp_socket(c);
	rec(t, "a bind self:0", bind_self(c, a, 0));
	r = port_of(c, a);
	rec(t, "b SO_REUSEADDR 1", set_int(c, b, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "b bind self:R", bind_self(c, b, r));
	done(c, a);
	done(c, b);

	say(t, "-- udp");
	a = udp_bound(c, &u);
	b = udp_socket(c);
	rec(t, "bind self:U", bind_self(c, b, u));
	done(c, a);
	done(c, b);
	a = udp_socket(c);
	b = udp_socket(c);
	rec(t, "a SO_REUSEADDR 1", set_int(c, a, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "b SO_REUSEADDR 1", set_int(c, b, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "a bind self:0", bind_self(c, a, 0));
	rec(t, "b bind self:V", bind_self(c, b, port_of(c, a)));
	done(c, a);
	done(c, b);
}

/* A server that closes first leaves its port in TIME_WAIT. */
SCENARIO(bind_time_wait)
{
	char buf[8];
	int l = tcp_socket(c), cl = tcp_socket(c), sv;
	rec(t, "listener SO_REUSEADDR 1", set_int(c, l, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "listener bind self:0", bind_self(c, l, 0));
	rec(t, "listen", c->listen(l, 4));
	uint16_t p = port_of(c, l);
	rec(t, "connect", GUARDED(connect_self(c, cl, p)));
	sv = rec_fd(t, "accept", (int)GUARDED(c->accept(l, NULL, NULL)));
	rec(t, "close listener", c->close(l));
	rec(t, "server closes first", c->close(sv));
	rec(t, "client recv (the FIN)", GUARDED(c->recv(cl, buf, sizeof(buf), 0)));
	rec(t, "client close", c->close(cl));
	usleep(200 * 1000);	/* the last FIN and its ACK */
	int n1 = tcp_socket(c), n2 = tcp_socket(c);
	rec(t, "new socket bind self:P", bind_self(c, n1, p));
	rec(t, "new socket SO_REUSEADDR 1", set_int(c, n2, SOL_SOCKET, SO_REUSEADDR, 1));
	rec(t, "new socket with SO_REUSEADDR bind self:P", bind_self(c, n2, p));
	rec(t, "listen", c->listen(n2, 4));
	done(c, n1);
	done(c, n2);
}

SCENARIO(bind_privileged)
{
	int a = tcp_socket(c), u = udp_socket(c);
	rec(t, "tcp bind self:999 as root", bind_self(c, a, 999));
	rec_name(c, t, "getsockname", a, 0);
	rec(t, "listen", c->listen(a, 1));
	rec(t, "udp bind self:999 as root", bind_self(c, u, 999));
	rec_name(c, t, "getsockname", u, 0);
	done(c, a);
	done(c, u);
}

/* ==== listen and accept ==== */

SCENARIO(accept_errors)
{
	uint16_t p;
	int s = tcp_socket(c), u = udp_socket(c), l = listener(c, &p);
	rec(t, "accept on a fresh socket", c->accept(s, NULL, NULL));
	rec(t, "bind self:0", bind_self(c, s, 0));
	rec(t, "accept on a bound socket", c->accept(s, NULL, NULL));
	rec(t, "accept4 on a bound socket, flags 0x1", c->accept4(s, NULL, NULL, 0x1));
	rec(t, "listen on udp", c->listen(u, 1));
	rec(t, "accept on udp", c->accept(u, NULL, NULL));
	rec(t, "accept4 on udp, flags 0x1", c->accept4(u, NULL, NULL, 0x1));
	rec(t, "F_SETFL O_NONBLOCK on the listener", c->fcntl(l, F_SETFL, O_NONBLOCK));
	rec(t, "accept, nothing pending", c->accept(l, NULL, NULL));
	rec(t, "accept4 SOCK_NONBLOCK, nothing pending", c->accept4(l, NULL, NULL, SOCK_NONBLOCK));
	rec(t, "accept4 flags 0x1", c->accept4(l, NULL, NULL, 0x1));
	rec(t, "accept4 flags O_APPEND", c->accept4(l, NULL, NULL, O_APPEND));
	rec(t, "listen again", c->listen(l, 5));
	rec(t, "listen again, backlog -1", c->listen(l, -1));
	rec(t, "accept on fd -1", c->accept(-1, NULL, NULL));
	done(c, s);
	done(c, u);
	done(c, l);
}

SCENARIO(accept_peer_address)
{
	uint16_t p;
	int l = listener(c, &p), cl[6], sv[6];
	struct sockaddr_in pa, me;
	socklen_t len;
	char b[64];
	for (int i = 0; i < 6; i++)
		cl[i] = tcp_socket(c);

	rec(t, "connect", GUARDED(connect_self(c, cl[0], p)));
	memset(&pa, 0, sizeof(pa));
	len = sizeof(pa);
	sv[0] = rec_fd(t, "accept with an address", (int)GUARDED(c->accept(l, SA(pa), &len)));
	me = name_of(c, cl[0], 0);
	say(t, "peer %s len %u; the client's name: %s", sin_str(c, &pa, b, sizeof(b)),
	    (unsigned)len, yes_no(same_ep(&pa, &me)));
	rec_hex(t, "accepted F_GETFL", c->fcntl(sv[0], F_GETFL, 0));
	rec(t, "accepted F_GETFD", c->fcntl(sv[0], F_GETFD, 0));
	rec_name(c, t, "accepted getsockname", sv[0], 0);
	say(t, "on the listener's port: %s", yes_no(port_of(c, sv[0]) == p));

	rec(t, "connect", GUARDED(connect_self(c, cl[1], p)));
	sv[1] = rec_fd(t, "accept4 SOCK_NONBLOCK|SOCK_CLOEXEC",
		       (int)GUARDED(c->accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)));
	rec_hex(t, "accepted F_GETFL", c->fcntl(sv[1], F_GETFL, 0));
	rec(t, "accepted F_GETFD", c->fcntl(sv[1], F_GETFD, 0));
	rec(t, "accepted recv", c->recv(sv[1], b, sizeof(b), 0));

	rec(t, "connect", GUARDED(connect_self(c, cl[2], p)));
	memset(&pa, 0, sizeof(pa));
	len = 4;
	sv[2] = rec_fd(t, "accept addrlen 4", (int)GUARDED(c->accept(l, SA(pa), &len)));
	me = name_of(c, cl[2], 0);
	say(t, "len %u family %d port is the client's: %s, address left 0: %s", (unsigned)len,
	    pa.sin_family, yes_no(pa.sin_port == me.sin_port), yes_no(pa.sin_addr.s_addr == 0));

	rec(t, "connect", GUARDED(connect_self(c, cl[3], p)));
	len = sizeof(pa);
	sv[3] = rec_fd(t, "accept NULL address, addrlen 16",
		       (int)GUARDED(c->accept(l, NULL, &len)));
	say(t, "len %u", (unsigned)len);

	rec(t, "F_SETFL O_NONBLOCK on the listener", c->fcntl(l, F_SETFL, O_NONBLOCK));
	rec(t, "connect", GUARDED(connect_self(c, cl[4], p)));
	wait_ev(c, l, POLLIN, POLLIN, SETTLE_MS);
	sv[4] = rec_fd(t, "accept from a non-blocking listener", c->accept(l, NULL, NULL));
	rec_hex(t, "accepted F_GETFL", c->fcntl(sv[4], F_GETFL, 0));

	rec(t, "connect", GUARDED(connect_self(c, cl[5], p)));
	wait_ev(c, l, POLLIN, POLLIN, SETTLE_MS);
	sv[5] = rec_fd(t, "accept with an address, addrlen NULL", c->accept(l, SA(pa), NULL));

	for (int i = 0; i < 6; i++) {
		done(c, cl[i]);
		done(c, sv[i]);
	}
	done(c, l);
}

SCENARIO(listen_shutdown)
{
	char b[8];
	uint16_t p;
	int l = listener(c, &p), cl = tcp_socket(c), cl2 = tcp_socket(c);
	rec(t, "connect", GUARDED(connect_self(c, cl, p)));
	rec(t, "shutdown SHUT_WR on the listener", c->shutdown(l, SHUT_WR));
	rec_getint(c, t, "SO_ACCEPTCONN", l, SOL_SOCKET, SO_ACCEPTCONN);
	int sv = rec_fd(t, "accept", (int)GUARDED(c->accept(l, NULL, NULL)));
	rec(t, "connect", GUARDED(connect_self(c, cl2, p)));
	usleep(100 * 1000);	/* the handshake completes in the listener's queue */
	rec(t, "shutdown SHUT_RD on the listener", c->shutdown(l, SHUT_RD));
	rec_getint(c, t, "SO_ACCEPTCONN", l, SOL_SOCKET, SO_ACCEPTCONN);
	rec(t, "accept", GUARDED(c->accept(l, NULL, NULL)));
	rec(t, "the connection left in the queue: recv", GUARDED(c->recv(cl2, b, sizeof(b), 0)));
	done(c, sv);
	done(c, cl);
	done(c, cl2);
	done(c, l);
}

/* ==== connect ==== */

SCENARIO(connect_refused)
{
	char b[8];
	uint16_t p = closed_port(c, SOCK_STREAM);
	int s = tcp_socket(c);
	rec(t, "connect to a closed port", GUARDED(connect_self(c, s, p)));
	rec_soerror(c, t, s);
	rec(t, "connect again", GUARDED(connect_self(c, s, p)));
	rec_name(c, t, "getpeername", s, 1);
	rec(t, "send MSG_NOSIGNAL", c->send(s, "x", 1, MSG_NOSIGNAL));
	rec(t, "recv", GUARDED(c->recv(s, b, sizeof(b), 0)));
	done(c, s);
}

SCENARIO(connect_nonblocking)
{
	uint16_t p;
	int l = listener(c, &p);
	int s = c->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rec(t, "connect non-blocking", connect_self(c, s, p));
	rec_poll1(c, t, "poll POLLOUT", s, POLLOUT, SETTLE_MS);
	rec_soerror(c, t, s);
	rec(t, "connect again", connect_self(c, s, p));
	rec(t, "connect again", connect_self(c, s, p));
	rec_name(c, t, "getpeername", s, 1);
	int sv = rec_fd(t, "accept", (int)GUARDED(c->accept(l, NULL, NULL)));
	struct sockaddr_in a = name_of(c, s, 0), b = name_of(c, sv, 1);
	say(t, "both ends agree: %s", yes_no(same_ep(&a, &b)));
	done(c, sv);
	done(c, s);
	done(c, l);
}

SCENARIO(connect_nonblocking_refused)
{
	uint16_t p = closed_port(c, SOCK_STREAM);
	int s = c->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	rec(t, "connect non-blocking to a closed port", connect_self(c, s, p));
	rec_poll1(c, t, "poll POLLOUT", s, POLLOUT, SETTLE_MS);
	rec_soerror(c, t, s);
	rec_soerror(c, t, s);
	rec(t, "connect again (error taken)", connect_self(c, s, p));
	rec(t, "connect again", connect_self(c, s, p));
	rec_poll1(c, t, "poll POLLOUT", s, POLLOUT, SETTLE_MS);
	rec(t, "connect again (error not taken)", connect_self(c, s, p));
	rec_soerror(c, t, s);
	done(c, s);
}

SCENARIO(connect_errors)
{
	uint16_t p, q = closed_port(c, SOCK_STREAM);
	int l = listener(c, &p), s = tcp_socket(c), u = tcp_socket(c), v = tcp_socket(c);
	struct sockaddr_in a = self_at(c, p), a6 = a, unspec = a;
	char big[256];
	a6.sin_family = AF_INET6;
	unspec.sin_family = AF_UNSPEC;
	memset(big, 0, sizeof(big));
	memcpy(big, &a, sizeof(a));

	rec(t, "connect", GUARDED(connect_self(c, s, p)));
	rec(t, "connect again", GUARDED(connect_self(c, s, p)));
	rec(t, "connect elsewhere", GUARDED(connect_self(c, s, q)));
	rec(t, "listen on a connected socket", c->listen(s, 1));
	rec(t, "connect a listener", GUARDED(connect_self(c, l, p)));

	rec(t, "connect addrlen 8", c->connect(u, CSA(a), 8));
	rec(t, "connect addrlen 1", c->connect(u, CSA(a), 1));
	rec(t, "connect family AF_INET6 addrlen 16", c->connect(u, CSA(a6), sizeof(a6)));
	rec(t, "connect family AF_INET6 addrlen 8", c->connect(u, CSA(a6), 8));
	rec(t, "connect NULL addrlen 16", c->connect(u, NULL, sizeof(a)));
	rec(t, "connect AF_UNSPEC, unconnected", c->connect(u, CSA(unspec), sizeof(unspec)));
	rec_name(c, t, "getpeername", u, 1);
	rec(t, "connect", GUARDED(connect_self(c, u, p)));

	rec(t, "connect addrlen 129", GUARDED(c->connect(v, (const struct sockaddr *)big, 129)));
	rec_name(c, t, "getpeername", v, 1);
	done(c, s);
	done(c, u);
	done(c, v);
	done(c, l);
}

/* connect(AF_UNSPEC) on a connected TCP socket. */
SCENARIO(connect_unspec_tcp)
{
	char b[16];
	uint16_t p;
	int l = listener(c, &p), cl = tcp_socket(c);
	struct sockaddr_in unspec = self_at(c, 0);
	unspec.sin_family = AF_UNSPEC;
	struct timeval tv = {2, 0};
	c->setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rec(t, "connect", GUARDED(connect_self(c, cl, p)));
	int sv = rec_fd(t, "accept", (int)GUARDED(c->accept(l, NULL, NULL)));
	rec(t, "connect AF_UNSPEC", c->connect(cl, CSA(unspec), sizeof(unspec)));
	rec_name(c, t, "getpeername", cl, 1);
	rec_soerror(c, t, cl);
	c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rec(t, "the peer: recv (2 s timeout)", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec(t, "connect again", GUARDED(connect_self(c, cl, p)));
	int sv2 = rec_fd(t, "accept (2 s timeout)", (int)GUARDED(c->accept(l, NULL, NULL)));
	rec(t, "send", c->send(cl, "again", 5, 0));
	rec_io(t, "recv", GUARDED(c->recv(sv2, b, sizeof(b), 0)), b);
	done(c, cl);
	done(c, sv);
	done(c, sv2);
	done(c, l);
}

SCENARIO(udp_connect)
{
	char buf[16];
	char nb[64];
	uint16_t pa, pb, px;
	int a = udp_bound(c, &pa), b = udp_bound(c, &pb), x = udp_bound(c, &px);
	int u = udp_socket(c), v;
	struct sockaddr_in from, un, unspec = self_at(c, 0), to_a = self_at(c, pa), a6;
	socklen_t len;
	unspec.sin_family = AF_UNSPEC;
	a6 = to_a;
	a6.sin_family = AF_INET6;

	rec_name(c, t, "getsockname", u, 0);
	rec(t, "connect to b", connect_self(c, u, pb));
	rec_name(c, t, "getsockname", u, 0);
	rec_name(c, t, "getpeername", u, 1);
	un = name_of(c, u, 0);
	rec(t, "send without an address", c->send(u, "one", 3, 0));
	len = sizeof(from);
	rec_io(t, "b recvfrom", GUARDED(c->recvfrom(b, buf, sizeof(buf), 0, SA(from), &len)), buf);
	say(t, "from u: %s", yes_no(same_ep(&from, &un)));
	rec(t, "sendto a, while connected", c->sendto(u, "two", 3, 0, CSA(to_a), sizeof(to_a)));
	len = sizeof(from);
	rec_io(t, "a recvfrom", GUARDED(c->recvfrom(a, buf, sizeof(buf), 0, SA(from), &len)), buf);
	say(t, "from u: %s", yes_no(same_ep(&from, &un)));
	rec(t, "x sendto u", c->sendto(x, "no", 2, 0, CSA(un), sizeof(un)));
	usleep(50 * 1000);
	rec(t, "b sendto u", c->sendto(b, "yes", 3, 0, CSA(un), sizeof(un)));
	rec_io(t, "u recv (only b's)", GUARDED(c->recv(u, buf, sizeof(buf), 0)), buf);
	rec(t, "u recv MSG_DONTWAIT", c->recv(u, buf, sizeof(buf), MSG_DONTWAIT));

	rec(t, "connect AF_UNSPEC", c->connect(u, CSA(unspec), sizeof(unspec)));
	rec_name(c, t, "getpeername", u, 1);
	rec_name(c, t, "getsockname", u, 0);
	rec(t, "send without an address", c->send(u, "three", 5, 0));
	rec(t, "connect AF_UNSPEC again, addrlen 2", c->connect(u, CSA(unspec), 2));
	rec(t, "connect addrlen 8", c->connect(u, CSA(to_a), 8));
	rec(t, "connect family AF_INET6", c->connect(u, CSA(a6), sizeof(a6)));
	rec(t, "connect to b", connect_self(c, u, pb));
	rec(t, "connect to a", connect_self(c, u, pa));
	rec(t, "send", c->send(u, "four", 4, 0));
	rec_io(t, "a recv", GUARDED(c->recv(a, buf, sizeof(buf), 0)), buf);

	v = udp_bound(c, &px);
	rec(t, "bound socket: connect to b", connect_self(c, v, pb));
	rec(t, "connect AF_UNSPEC", c->connect(v, CSA(unspec), sizeof(unspec)));
	struct sockaddr_in vn = name_of(c, v, 0);
	say(t, "bound socket keeps its name: %s (%s)", yes_no(ntohs(vn.sin_port) == px),
	    sin_str(c, &vn, nb, sizeof(nb)));
	done(c, a);
	done(c, b);
	done(c, x);
	done(c, u);
	done(c, v);
}

/* ==== TCP data ==== */

SCENARIO(tcp_unconnected)
{
	char b[16];
	uint16_t p;
	struct sockaddr_in a = self_at(c, 9);
	int s = tcp_socket(c);
	rec(t, "send MSG_NOSIGNAL", c->send(s, "x", 1, MSG_NOSIGNAL));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "send", c->send(s, "x", 1, 0));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "write", c->write(s, "x", 1));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "send 0 bytes MSG_NOSIGNAL", c->send(s, "", 0, MSG_NOSIGNAL));
	rec(t, "sendto with an address MSG_NOSIGNAL",
	    c->sendto(s, "x", 1, MSG_NOSIGNAL, CSA(a), sizeof(a)));
	rec(t, "recv", GUARDED(c->recv(s, b, sizeof(b), 0)));
	rec(t, "recv MSG_DONTWAIT", c->recv(s, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "read", GUARDED(c->read(s, b, sizeof(b))));
	rec(t, "shutdown SHUT_RDWR", c->shutdown(s, SHUT_RDWR));
	rec(t, "shutdown 3", c->shutdown(s, 3));
	rec(t, "shutdown -1", c->shutdown(s, -1));
	done(c, s);

	int l = listener(c, &p);
	rec(t, "listener: recv", GUARDED(c->recv(l, b, sizeof(b), 0)));
	rec(t, "listener: recv MSG_DONTWAIT", c->recv(l, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "listener: read", GUARDED(c->read(l, b, sizeof(b))));
	rec(t, "listener: send MSG_NOSIGNAL", c->send(l, "x", 1, MSG_NOSIGNAL));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	done(c, l);
}

SCENARIO(tcp_peek_dontwait)
{
	char b[16];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "recv MSG_DONTWAIT, nothing there", c->recv(sv, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "recv 0 bytes, nothing there", GUARDED(c->recv(sv, b, 0, 0)));
	rec(t, "send", c->send(cl, "hello", 5, 0));
	wait_inq(c, sv, 5);
	rec_io(t, "recv 3 MSG_PEEK", c->recv(sv, b, 3, MSG_PEEK), b);
	rec_io(t, "recv 16 MSG_PEEK", c->recv(sv, b, sizeof(b), MSG_PEEK), b);
	rec_io(t, "recv 16 MSG_PEEK|MSG_DONTWAIT", c->recv(sv, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), b);
	rec_io(t, "recv 16", c->recv(sv, b, sizeof(b), 0), b);
	rec(t, "recv MSG_DONTWAIT", c->recv(sv, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "send", c->send(cl, "world", 5, 0));
	wait_inq(c, sv, 5);
	rec_io(t, "recv 2", c->recv(sv, b, 2, 0), b);
	rec_io(t, "read 16", c->read(sv, b, sizeof(b)), b);
	done(c, cl);
	done(c, sv);
}

SCENARIO(tcp_waitall)
{
	static char data[300], got[400];
	int cl, sv;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	tcp_pair(c, t, &cl, &sv);
	struct later w = {.c = c, .fd = cl, .delay_ms = 50, .chunks = 3, .data = data, .len = 100};
	later_start(&w);
	memset(got, 0, sizeof(got));
	ssize_t n = rec(t, "recv 300 MSG_WAITALL, three sends of 100",
			GUARDED(c->recv(sv, got, 300, MSG_WAITALL)));
	say(t, "data intact: %s", yes_no(n == 300 && memcmp(got, data, 300) == 0));
	later_join(&w);

	struct later w2 = {.c = c, .fd = cl, .delay_ms = 50, .chunks = 1, .data = data, .len = 100,
			   .shut_wr = true};
	later_start(&w2);
	rec(t, "recv 300 MSG_WAITALL, 100 then the end", GUARDED(c->recv(sv, got, 300, MSG_WAITALL)));
	rec(t, "recv", GUARDED(c->recv(sv, got, 300, 0)));
	later_join(&w2);
	done(c, cl);
	done(c, sv);
}

SCENARIO(tcp_shutdown_wr)
{
	char b[16];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "client shutdown SHUT_WR", c->shutdown(cl, SHUT_WR));
	rec(t, "server recv", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec(t, "server recv again", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec_poll1(c, t, "server poll IN|OUT|RDHUP", sv, POLLIN | POLLOUT | POLLRDHUP, 0);
	rec_poll1(c, t, "client poll IN|OUT|RDHUP", cl, POLLIN | POLLOUT | POLLRDHUP, 0);
	rec(t, "client send MSG_NOSIGNAL", c->send(cl, "x", 1, MSG_NOSIGNAL));
	rec(t, "client send", c->send(cl, "x", 1, 0));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "server send (half-closed the other way)", c->send(sv, "back", 4, 0));
	rec_io(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)), b);
	rec(t, "client shutdown SHUT_WR again", c->shutdown(cl, SHUT_WR));
	rec(t, "server shutdown SHUT_RD", c->shutdown(sv, SHUT_RD));
	rec(t, "server recv", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec(t, "server shutdown 3", c->shutdown(sv, 3));
	rec(t, "server shutdown SHUT_WR", c->shutdown(sv, SHUT_WR));
	rec(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)));
	done(c, cl);
	done(c, sv);
}

SCENARIO(tcp_shutdown_rd)
{
	char b[16];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "server shutdown SHUT_RD", c->shutdown(sv, SHUT_RD));
	rec(t, "server recv", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec(t, "server recv MSG_DONTWAIT", c->recv(sv, b, sizeof(b), MSG_DONTWAIT));
	rec_poll1(c, t, "server poll IN|OUT|RDHUP", sv, POLLIN | POLLOUT | POLLRDHUP, 0);
	rec(t, "server send", c->send(sv, "out", 3, 0));
	rec_io(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)), b);
	rec(t, "client send", c->send(cl, "late", 4, 0));
	wait_inq(c, sv, 4);
	rec(t, "server FIONREAD", inq(c, sv));
	rec_io(t, "server recv", GUARDED(c->recv(sv, b, sizeof(b), 0)), b);
	done(c, cl);
	done(c, sv);
}

SCENARIO(tcp_reset_recv)
{
	char b[16];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "client send", c->send(cl, "unread", 6, 0));
	wait_inq(c, sv, 6);
	rec(t, "server closes with unread data", c->close(sv));
	rec(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)));
	rec(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)));
	rec_name(c, t, "client getpeername", cl, 1);
	rec_soerror(c, t, cl);
	rec(t, "client send MSG_NOSIGNAL", c->send(cl, "x", 1, MSG_NOSIGNAL));
	done(c, cl);
}

SCENARIO(tcp_reset_send)
{
	char b[16];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "client send", c->send(cl, "unread", 6, 0));
	wait_inq(c, sv, 6);
	rec(t, "server closes with unread data", c->close(sv));
	wait_ev(c, cl, POLLIN, POLLERR | POLLHUP, SETTLE_MS);
	rec_poll1(c, t, "client poll IN|OUT|RDHUP", cl, POLLIN | POLLOUT | POLLRDHUP, 0);
	rec(t, "client send MSG_NOSIGNAL", c->send(cl, "x", 1, MSG_NOSIGNAL));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "client send MSG_NOSIGNAL", c->send(cl, "x", 1, MSG_NOSIGNAL));
	rec(t, "client send", c->send(cl, "x", 1, 0));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "client recv", GUARDED(c->recv(cl, b, sizeof(b), 0)));
	rec_soerror(c, t, cl);
	done(c, cl);
}

SCENARIO(tcp_vectors)
{
	char r1[4], r2[2], r3[10], m1[3], m2[8];
	int cl, sv;
	struct iovec wv[3] = {{"ab", 2}, {"cde", 3}, {"fghi", 4}};
	struct iovec rv[3] = {{r1, sizeof(r1)}, {r2, sizeof(r2)}, {r3, sizeof(r3)}};
	tcp_pair(c, t, &cl, &sv);
	rec(t, "writev 2+3+4", c->writev(cl, wv, 3));
	wait_inq(c, sv, 9);
	ssize_t n = rec(t, "readv 4+2+10", c->readv(sv, rv, 3));
	if (n == 9)
		say(t, "%.4s|%.2s|%.3s", r1, r2, r3);
	rec(t, "writev iovcnt 0", c->writev(cl, wv, 0));
	rec(t, "writev iovcnt -1", c->writev(cl, wv, -1));
	rec(t, "readv iovcnt -1", c->readv(sv, rv, -1));
	rec(t, "readv iovcnt 1025", c->readv(sv, rv, 1025));
	rec(t, "readv iovcnt 0", GUARDED(c->readv(sv, rv, 0)));

	struct iovec sv_iov[2] = {{"12", 2}, {"3456", 4}};
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = sv_iov;
	m.msg_iovlen = 2;
	rec(t, "sendmsg 2+4", c->sendmsg(cl, &m, 0));
	wait_inq(c, sv, 6);
	struct iovec rm[2] = {{m1, sizeof(m1)}, {m2, sizeof(m2)}};
	struct sockaddr_in from;
	memset(&m, 0, sizeof(m));
	m.msg_iov = rm;
	m.msg_iovlen = 2;
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_flags = -1;
	n = rec(t, "recvmsg 3+8", c->recvmsg(sv, &m, 0));
	if (n == 6)
		say(t, "%.3s|%.3s namelen %u flags %#x", m1, m2, (unsigned)m.msg_namelen,
		    (unsigned)m.msg_flags);
	done(c, cl);
	done(c, sv);
}

SCENARIO(tcp_queues)
{
	static char data[1000];
	char b[400];
	int cl, sv;
	uint16_t p;
	memset(data, 'q', sizeof(data));
	tcp_pair(c, t, &cl, &sv);
	rec(t, "server FIONREAD", inq(c, sv));
	rec(t, "client SIOCOUTQ", outq(c, cl));
	rec(t, "client send 1000", c->send(cl, data, sizeof(data), 0));
	wait_inq(c, sv, 1000);
	wait_outq_empty(c, cl);
	rec(t, "server FIONREAD", inq(c, sv));
	rec(t, "client SIOCOUTQ (all acknowledged)", outq(c, cl));
	int in = -1;
	if (rec(t, "server ioctl SIOCINQ", c->ioctl(sv, SIOCINQ, &in)) == 0)
		say(t, "value %d", in);
	rec(t, "server recv 400", c->recv(sv, b, sizeof(b), 0));
	rec(t, "server FIONREAD", inq(c, sv));
	int l = listener(c, &p), f = tcp_socket(c);
	int v = -1;
	rec(t, "listener FIONREAD", c->ioctl(l, FIONREAD, &v));
	rec(t, "listener SIOCOUTQ", c->ioctl(l, SIOCOUTQ, &v));
	rec(t, "fresh socket FIONREAD", inq(c, f));
	rec(t, "fresh socket SIOCOUTQ", outq(c, f));
	rec(t, "ioctl _IO('x', 99)", c->ioctl(cl, _IO('x', 99), &v));
	done(c, cl);
	done(c, sv);
	done(c, l);
	done(c, f);
}

/* An address given on a connected TCP socket. */
SCENARIO(tcp_sendto_address)
{
	char b[16];
	int cl, sv;
	struct sockaddr_in other = addr_at("192.0.2.1", 9);
	struct iovec v = {"def", 3};
	struct msghdr m;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "sendto another address", c->sendto(cl, "abc", 3, 0, CSA(other), sizeof(other)));
	memset(&m, 0, sizeof(m));
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	m.msg_name = &other;
	m.msg_namelen = sizeof(other);
	rec(t, "sendmsg with msg_name", c->sendmsg(cl, &m, 0));
	rec(t, "sendto NULL address, addrlen 16", c->sendto(cl, "ghi", 3, 0, NULL, sizeof(other)));
	wait_inq(c, sv, 9);
	rec_io(t, "recv", c->recv(sv, b, sizeof(b), MSG_DONTWAIT), b);
	done(c, cl);
	done(c, sv);
}

/* Urgent data: Linux sends it; netd documents that it has none. */
SCENARIO(oob)
{
	char b[16];
	int cl, sv;
	uint16_t pa, pb;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "tcp recv MSG_OOB, none there", c->recv(sv, b, sizeof(b), MSG_OOB));
	rec(t, "tcp send MSG_OOB", c->send(cl, "!", 1, MSG_OOB));
	done(c, cl);
	done(c, sv);
	int a = udp_bound(c, &pa), u = udp_bound(c, &pb);
	struct sockaddr_in to = self_at(c, pb);
	rec(t, "udp sendto MSG_OOB", c->sendto(a, "!", 1, MSG_OOB, CSA(to), sizeof(to)));
	rec(t, "udp recv MSG_OOB|MSG_DONTWAIT", c->recv(u, b, sizeof(b), MSG_OOB | MSG_DONTWAIT));
	done(c, a);
	done(c, u);
}

/* ==== UDP ==== */

SCENARIO(udp_addresses)
{
	char buf[16], nb[64];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), b = udp_bound(c, &pb), u = udp_socket(c);
	struct sockaddr_in to_b = self_at(c, pb), to_a = self_at(c, pa), from, an, un;
	struct sockaddr_in port0 = self_at(c, 0), a6 = to_b, unspec = to_b;
	char big[256];
	socklen_t len;
	an = name_of(c, a, 0);
	a6.sin_family = AF_INET6;
	unspec.sin_family = AF_UNSPEC;
	memset(big, 0, sizeof(big));
	memcpy(big, &to_b, sizeof(to_b));

	rec(t, "sendto b", c->sendto(a, "ping", 4, 0, CSA(to_b), sizeof(to_b)));
	memset(&from, 0, sizeof(from));
	len = sizeof(from);
	rec_io(t, "b recvfrom", GUARDED(c->recvfrom(b, buf, sizeof(buf), 0, SA(from), &len)), buf);
	say(t, "from %s len %u, a: %s", sin_str(c, &from, nb, sizeof(nb)), (unsigned)len,
	    yes_no(same_ep(&from, &an)));
	rec(t, "b sendto a", c->sendto(b, "pong", 4, 0, CSA(to_a), sizeof(to_a)));
	memset(&from, 0, sizeof(from));
	len = 4;
	rec_io(t, "a recvfrom addrlen 4", GUARDED(c->recvfrom(a, buf, sizeof(buf), 0, SA(from), &len)),
	       buf);
	say(t, "len %u family %d port is b's: %s, address left 0: %s", (unsigned)len,
	    from.sin_family, yes_no(ntohs(from.sin_port) == pb), yes_no(from.sin_addr.s_addr == 0));
	rec(t, "sendto b, 0 bytes", c->sendto(a, "", 0, 0, CSA(to_b), sizeof(to_b)));
	len = sizeof(from);
	rec(t, "b recvfrom", GUARDED(c->recvfrom(b, buf, sizeof(buf), 0, SA(from), &len)));
	say(t, "from a: %s", yes_no(same_ep(&from, &an)));

	rec(t, "sendto port 0", c->sendto(a, "x", 1, 0, CSA(port0), sizeof(port0)));
	rec(t, "sendto addrlen 8", c->sendto(a, "x", 1, 0, CSA(to_b), 8));
	rec(t, "sendto family AF_INET6", c->sendto(a, "x", 1, 0, CSA(a6), sizeof(a6)));
	rec(t, "sendto family AF_INET6 addrlen 8", c->sendto(a, "x", 1, 0, CSA(a6), 8));
	rec(t, "sendto addrlen 129", c->sendto(a, "x", 1, 0, (const struct sockaddr *)big, 129));
	rec(t, "send unconnected", c->send(a, "x", 1, 0));
	rec(t, "write unconnected", c->write(a, "x", 1));
	rec(t, "sendto NULL addrlen 16", c->sendto(a, "x", 1, 0, NULL, 16));
	usleep(100 * 1000);
	rec(t, "b recv MSG_DONTWAIT (nothing came)", c->recv(b, buf, sizeof(buf), MSG_DONTWAIT));
	rec(t, "sendto family AF_UNSPEC", c->sendto(a, "u", 1, 0, CSA(unspec), sizeof(unspec)));
	wait_ev(c, b, POLLIN, POLLIN, 300);
	rec_io(t, "b recv MSG_DONTWAIT", c->recv(b, buf, sizeof(buf), MSG_DONTWAIT), buf);

	rec(t, "unbound socket sendto b", c->sendto(u, "auto", 4, 0, CSA(to_b), sizeof(to_b)));
	rec_name(c, t, "getsockname", u, 0);
	un = name_of(c, u, 0);
	len = sizeof(from);
	rec_io(t, "b recvfrom", GUARDED(c->recvfrom(b, buf, sizeof(buf), 0, SA(from), &len)), buf);
	say(t, "from the unbound socket's port: %s", yes_no(from.sin_port == un.sin_port));
	rec(t, "recv MSG_DONTWAIT, nothing there", c->recv(a, buf, sizeof(buf), MSG_DONTWAIT));

	rec(t, "sendto b", c->sendto(a, "z", 1, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	rec(t, "b recvfrom, addrlen NULL", c->recvfrom(b, buf, sizeof(buf), 0, SA(from), NULL));
	done(c, a);
	done(c, b);
	done(c, u);
}

SCENARIO(udp_trunc_peek)
{
	char buf[16];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), b = udp_bound(c, &pb);
	struct sockaddr_in to_b = self_at(c, pb), from;
	struct iovec v = {buf, 4};
	struct msghdr m;
	socklen_t len;

	rec(t, "sendto 10", c->sendto(a, "0123456789", 10, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	rec(t, "FIONREAD", inq(c, b));
	rec_io(t, "recv 4 MSG_PEEK", c->recv(b, buf, 4, MSG_PEEK), buf);
	rec_io(t, "recv 4 MSG_PEEK|MSG_TRUNC", c->recv(b, buf, 4, MSG_PEEK | MSG_TRUNC), NULL);
	len = sizeof(from);
	rec_io(t, "recvfrom 16 MSG_PEEK", c->recvfrom(b, buf, sizeof(buf), MSG_PEEK, SA(from), &len),
	       buf);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	rec(t, "recvmsg 4 MSG_PEEK", c->recvmsg(b, &m, MSG_PEEK));
	say(t, "msg_flags %#x namelen %u", (unsigned)m.msg_flags, (unsigned)m.msg_namelen);
	m.msg_namelen = sizeof(from);
	rec(t, "recvmsg 4", c->recvmsg(b, &m, 0));
	say(t, "msg_flags %#x namelen %u data %.4s", (unsigned)m.msg_flags, (unsigned)m.msg_namelen,
	    buf);
	rec(t, "recv MSG_DONTWAIT (the rest was dropped)", c->recv(b, buf, 4, MSG_DONTWAIT));

	rec(t, "sendto 10", c->sendto(a, "abcdefghij", 10, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	memset(buf, 0, sizeof(buf));
	rec(t, "recv 4 MSG_TRUNC", c->recv(b, buf, 4, MSG_TRUNC));
	say(t, "data %s", buf);
	rec(t, "recv MSG_DONTWAIT", c->recv(b, buf, 4, MSG_DONTWAIT));

	rec(t, "sendto 3", c->sendto(a, "xyz", 3, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	v.iov_len = sizeof(buf);
	m.msg_namelen = sizeof(from);
	m.msg_flags = -1;
	rec(t, "recvmsg 16", c->recvmsg(b, &m, 0));
	say(t, "msg_flags %#x namelen %u controllen %zu", (unsigned)m.msg_flags,
	    (unsigned)m.msg_namelen, (size_t)m.msg_controllen);
	done(c, a);
	done(c, b);
}

SCENARIO(udp_sizes)
{
	static char big[70000], got[70000];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), b = udp_bound(c, &pb);
	struct sockaddr_in to_b = self_at(c, pb);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 1);
	rec(t, "sendto 65507", c->sendto(a, big, 65507, 0, CSA(to_b), sizeof(to_b)));
	ssize_t n = rec(t, "recv", GUARDED(c->recv(b, got, sizeof(got), 0)));
	say(t, "data intact: %s", yes_no(n == 65507 && memcmp(big, got, 65507) == 0));
	rec(t, "sendto 65508", c->sendto(a, big, 65508, 0, CSA(to_b), sizeof(to_b)));
	rec(t, "sendto 70000", c->sendto(a, big, 70000, 0, CSA(to_b), sizeof(to_b)));
	rec(t, "connect to b", connect_self(c, a, pb));
	rec(t, "send 65507", c->send(a, big, 65507, 0));
	n = rec(t, "recv", GUARDED(c->recv(b, got, sizeof(got), 0)));
	say(t, "data intact: %s", yes_no(n == 65507 && memcmp(big, got, 65507) == 0));
	rec(t, "send 65508", c->send(a, big, 65508, 0));
	rec(t, "recv MSG_DONTWAIT", c->recv(b, got, sizeof(got), MSG_DONTWAIT));
	done(c, a);
	done(c, b);
}

SCENARIO(udp_broadcast)
{
	uint16_t pa;
	int a = udp_bound(c, &pa);
	struct sockaddr_in bc = addr_at("255.255.255.255", 9);
	rec(t, "sendto 255.255.255.255 without SO_BROADCAST",
	    c->sendto(a, "x", 1, 0, CSA(bc), sizeof(bc)));
	rec_getint(c, t, "SO_BROADCAST", a, SOL_SOCKET, SO_BROADCAST);
	rec_setint(c, t, "SO_BROADCAST", a, SOL_SOCKET, SO_BROADCAST, 1);
	rec_getint(c, t, "SO_BROADCAST", a, SOL_SOCKET, SO_BROADCAST);
	rec(t, "connect to 255.255.255.255 with SO_BROADCAST", c->connect(a, CSA(bc), sizeof(bc)));
	done(c, a);
	int u = udp_bound(c, &pa);
	rec(t, "connect to 255.255.255.255 without SO_BROADCAST", c->connect(u, CSA(bc), sizeof(bc)));
	done(c, u);
}

SCENARIO(udp_icmp_refused)
{
	char b[8];
	uint16_t p = closed_port(c, SOCK_DGRAM), pw;
	int u = udp_socket(c);
	rec(t, "connect to a closed port", connect_self(c, u, p));
	rec(t, "send", c->send(u, "x", 1, 0));
	wait_ev(c, u, POLLIN, POLLERR, SETTLE_MS);
	rec_poll1(c, t, "poll POLLIN", u, POLLIN, 0);
	rec(t, "recv", GUARDED(c->recv(u, b, sizeof(b), 0)));
	rec(t, "recv MSG_DONTWAIT", c->recv(u, b, sizeof(b), MSG_DONTWAIT));
	rec_soerror(c, t, u);
	rec(t, "send", c->send(u, "y", 1, 0));
	wait_ev(c, u, POLLIN, POLLERR, SETTLE_MS);
	rec(t, "send after the error came", c->send(u, "z", 1, 0));
	rec(t, "recv MSG_DONTWAIT", c->recv(u, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "send", c->send(u, "w", 1, 0));
	wait_ev(c, u, POLLIN, POLLERR, SETTLE_MS);
	rec_soerror(c, t, u);
	rec(t, "recv MSG_DONTWAIT", c->recv(u, b, sizeof(b), MSG_DONTWAIT));
	done(c, u);

	int w = udp_bound(c, &pw);
	struct sockaddr_in to = self_at(c, p);
	rec(t, "unconnected: sendto a closed port", c->sendto(w, "x", 1, 0, CSA(to), sizeof(to)));
	usleep(200 * 1000);
	rec_poll1(c, t, "poll POLLIN", w, POLLIN, 0);
	rec(t, "recv MSG_DONTWAIT", c->recv(w, b, sizeof(b), MSG_DONTWAIT));
	rec_soerror(c, t, w);
	done(c, w);
}

SCENARIO(udp_fionread)
{
	static char data[150];
	char buf[200];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), b = udp_bound(c, &pb);
	struct sockaddr_in to_b = self_at(c, pb);
	memset(data, 'd', sizeof(data));
	rec(t, "FIONREAD, nothing there", inq(c, b));
	rec(t, "sendto 100", c->sendto(a, data, 100, 0, CSA(to_b), sizeof(to_b)));
	rec(t, "sendto 50", c->sendto(a, data, 50, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	rec(t, "FIONREAD", inq(c, b));
	rec(t, "recv", c->recv(b, buf, sizeof(buf), 0));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	rec(t, "FIONREAD", inq(c, b));
	rec(t, "recv", c->recv(b, buf, sizeof(buf), 0));
	rec(t, "FIONREAD", inq(c, b));
	rec(t, "sendto 0", c->sendto(a, data, 0, 0, CSA(to_b), sizeof(to_b)));
	wait_ev(c, b, POLLIN, POLLIN, SETTLE_MS);
	rec(t, "FIONREAD (an empty datagram)", inq(c, b));
	rec(t, "recv", c->recv(b, buf, sizeof(buf), 0));
	wait_outq_empty(c, a);
	rec(t, "SIOCOUTQ", outq(c, a));
	done(c, a);
	done(c, b);
}

SCENARIO(udp_shutdown)
{
	char b[8];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), u = udp_bound(c, &pb), w = udp_socket(c);
	struct sockaddr_in to_a = self_at(c, pa);
	rec(t, "unconnected: shutdown SHUT_WR", c->shutdown(w, SHUT_WR));
	rec(t, "then sendto", c->sendto(w, "x", 1, 0, CSA(to_a), sizeof(to_a)));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec(t, "unconnected: shutdown 3", c->shutdown(w, 3));
	rec(t, "connect", connect_self(c, u, pa));
	rec(t, "shutdown SHUT_RD", c->shutdown(u, SHUT_RD));
	rec(t, "recv MSG_DONTWAIT", c->recv(u, b, sizeof(b), MSG_DONTWAIT));
	rec(t, "recv", GUARDED(c->recv(u, b, sizeof(b), 0)));
	rec_poll1(c, t, "poll IN|OUT", u, POLLIN | POLLOUT, 0);
	rec(t, "shutdown SHUT_WR", c->shutdown(u, SHUT_WR));
	rec(t, "send", c->send(u, "x", 1, 0));
	say(t, "SIGPIPE: %d", (int)n_sigpipe);
	rec_poll1(c, t, "poll IN|OUT", u, POLLIN | POLLOUT, 0);
	done(c, a);
	done(c, u);
	done(c, w);
}

/* ==== options ==== */

static void rec_timeo(const struct calls *c, struct tr *t, const char *what, int fd, int name)
{
	struct timeval tv = {-7, -7};
	socklen_t len = sizeof(tv);
	int r = c->getsockopt(fd, SOL_SOCKET, name, &tv, &len);
	if (r < 0)
		say(t, "getsockopt %s = -1 %s", what, errname(errno));
	else
		say(t, "getsockopt %s = %d {%ld, %ld} len %u", what, r, (long)tv.tv_sec,
		    (long)tv.tv_usec, (unsigned)len);
}

static void timed_recv(const struct calls *c, struct tr *t, const char *what, int fd, int ms)
{
	char b[8];
	int64_t t0 = now_ms();
	rec(t, what, GUARDED(c->recv(fd, b, sizeof(b), 0)));
	int64_t el = now_ms() - t0;
	say(t, "took at least %d ms: %s, less than %d ms: %s", ms, yes_no(el >= ms - 1), ms + 1000,
	    yes_no(el < ms + 1000));
}

SCENARIO(opt_rcvtimeo)
{
	uint16_t p;
	int cl, sv;
	struct timeval tv = {0, 300000};
	tcp_pair(c, t, &cl, &sv);
	rec_timeo(c, t, "SO_RCVTIMEO default", sv, SO_RCVTIMEO);
	rec(t, "setsockopt SO_RCVTIMEO 300 ms", c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	rec_timeo(c, t, "SO_RCVTIMEO", sv, SO_RCVTIMEO);
	timed_recv(c, t, "tcp recv", sv, 300);

	int u = udp_bound(c, &p);
	rec(t, "setsockopt SO_RCVTIMEO 300 ms", c->setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	timed_recv(c, t, "udp recv", u, 300);

	int l = listener(c, &p);
	rec(t, "setsockopt SO_RCVTIMEO 300 ms", c->setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int64_t t0 = now_ms();
	rec(t, "accept", GUARDED(c->accept(l, NULL, NULL)));
	int64_t el = now_ms() - t0;
	say(t, "took at least 300 ms: %s, less than 1300 ms: %s", yes_no(el >= 299), yes_no(el < 1300));

	struct timeval snd = {1, 500000};
	rec(t, "setsockopt SO_SNDTIMEO 1.5 s", c->setsockopt(cl, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd)));
	rec_timeo(c, t, "SO_SNDTIMEO", cl, SO_SNDTIMEO);
	rec(t, "setsockopt SO_RCVTIMEO optlen 8", c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
	struct timeval bad = {0, 1000000};
	rec(t, "setsockopt SO_RCVTIMEO tv_usec 1000000",
	    c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)));
	struct timeval zero = {0, 0};
	rec(t, "setsockopt SO_RCVTIMEO 0", c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero)));
	rec_timeo(c, t, "SO_RCVTIMEO", sv, SO_RCVTIMEO);
	done(c, cl);
	done(c, sv);
	done(c, u);
	done(c, l);
}

SCENARIO(opt_negative_timeo)
{
	char b[8];
	int cl, sv;
	struct timeval neg = {-1, 0};
	struct later r;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "setsockopt SO_RCVTIMEO {-1, 0}",
	    c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &neg, sizeof(neg)));
	rec_timeo(c, t, "SO_RCVTIMEO", sv, SO_RCVTIMEO);
	rescue_write(&r, c, cl);
	int64_t t0 = now_ms();
	rec_io(t, "recv", GUARDED(c->recv(sv, b, sizeof(b), 0)), b);
	say(t, "returned at once: %s", yes_no(now_ms() - t0 < 500));
	later_join(&r);
	done(c, cl);
	done(c, sv);
}

static void buffers(const struct calls *c, struct tr *t, int fd)
{
	rec_setint(c, t, "SO_SNDBUF", fd, SOL_SOCKET, SO_SNDBUF, 8192);
	rec_getint(c, t, "SO_SNDBUF", fd, SOL_SOCKET, SO_SNDBUF);
	rec_setint(c, t, "SO_RCVBUF", fd, SOL_SOCKET, SO_RCVBUF, 8192);
	rec_getint(c, t, "SO_RCVBUF", fd, SOL_SOCKET, SO_RCVBUF);
	rec_setint(c, t, "SO_SNDBUF", fd, SOL_SOCKET, SO_SNDBUF, 65536);
	rec_getint(c, t, "SO_SNDBUF", fd, SOL_SOCKET, SO_SNDBUF);
	rec_setint(c, t, "SO_RCVBUF", fd, SOL_SOCKET, SO_RCVBUF, 65536);
	rec_getint(c, t, "SO_RCVBUF", fd, SOL_SOCKET, SO_RCVBUF);
}

SCENARIO(opt_buffers)
{
	int s = tcp_socket(c), u = udp_socket(c);
	say(t, "-- tcp");
	buffers(c, t, s);
	say(t, "-- udp");
	buffers(c, t, u);
	done(c, s);
	done(c, u);
}

/* A sysctl of the namespace the test runs in, or "" if unreadable. */
static const char *sysctl(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (f) {
		if (!fgets(out, (int)n, f))
			out[0] = '\0';
		fclose(f);
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The limits: the minimum, and the maximum, which Linux takes from
 * net.core.[rw]mem_max and netd fixes at those sysctls' default
 * (212992): compared only where the host has the default. */
SCENARIO(opt_buffer_limits)
{
	char rmax[32], wmax[32];
	int s = tcp_socket(c);
	rec_setint(c, t, "SO_SNDBUF", s, SOL_SOCKET, SO_SNDBUF, 1);
	rec_getint(c, t, "SO_SNDBUF", s, SOL_SOCKET, SO_SNDBUF);
	rec_setint(c, t, "SO_RCVBUF", s, SOL_SOCKET, SO_RCVBUF, 1);
	rec_getint(c, t, "SO_RCVBUF", s, SOL_SOCKET, SO_RCVBUF);
	if (strcmp(sysctl("/proc/sys/net/core/rmem_max", rmax, sizeof(rmax)), "212992") != 0 ||
	    strcmp(sysctl("/proc/sys/net/core/wmem_max", wmax, sizeof(wmax)), "212992") != 0) {
		say(t, "net.core.rmem_max %s, wmem_max %s: not Linux's default, maximum not compared",
		    rmax, wmax);
		done(c, s);
		return;
	}
	rec_setint(c, t, "SO_SNDBUF", s, SOL_SOCKET, SO_SNDBUF, 1 << 30);
	rec_getint(c, t, "SO_SNDBUF", s, SOL_SOCKET, SO_SNDBUF);
	rec_setint(c, t, "SO_RCVBUF", s, SOL_SOCKET, SO_RCVBUF, -1);
	rec_getint(c, t, "SO_RCVBUF", s, SOL_SOCKET, SO_RCVBUF);
	done(c, s);
}

SCENARIO(opt_basic)
{
	uint16_t p;
	int s = tcp_socket(c), u = udp_socket(c), l = listener(c, &p);
	struct linger lg = {1, 0}, lg2 = {-1, -1};
	socklen_t len;

	say(t, "-- tcp");
	rec_getint(c, t, "SO_TYPE", s, SOL_SOCKET, SO_TYPE);
	rec_getint(c, t, "SO_PROTOCOL", s, SOL_SOCKET, SO_PROTOCOL);
	rec_getint(c, t, "SO_DOMAIN", s, SOL_SOCKET, SO_DOMAIN);
	rec_getint(c, t, "SO_ERROR", s, SOL_SOCKET, SO_ERROR);
	rec_getint(c, t, "SO_ACCEPTCONN", s, SOL_SOCKET, SO_ACCEPTCONN);
	rec_getint(c, t, "SO_ACCEPTCONN on a listener", l, SOL_SOCKET, SO_ACCEPTCONN);
	rec_getint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY);
	rec_setint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY, 1);
	rec_getint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY);
	rec_setint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY, 5);
	rec_getint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY);
	rec_setint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY, 0);
	rec_getint(c, t, "TCP_NODELAY", s, IPPROTO_TCP, TCP_NODELAY);
	rec_setint(c, t, "SO_KEEPALIVE", s, SOL_SOCKET, SO_KEEPALIVE, 1);
	rec_getint(c, t, "SO_KEEPALIVE", s, SOL_SOCKET, SO_KEEPALIVE);
	rec_setint(c, t, "SO_REUSEADDR", s, SOL_SOCKET, SO_REUSEADDR, 5);
	rec_getint(c, t, "SO_REUSEADDR", s, SOL_SOCKET, SO_REUSEADDR);
	rec_setint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL, 10);
	rec_getint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL);
	rec_setint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL, 0);
	rec_setint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL, 256);
	rec_setint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL, -1);
	rec_getint(c, t, "IP_TTL", s, IPPROTO_IP, IP_TTL);
	rec(t, "setsockopt SO_LINGER {1, 0}", c->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	len = sizeof(lg2);
	rec(t, "getsockopt SO_LINGER", c->getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len));
	say(t, "{%d, %d} len %u", lg2.l_onoff, lg2.l_linger, (unsigned)len);
	rec(t, "setsockopt SO_LINGER optlen 4", c->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4));

	say(t, "-- udp");
	rec_getint(c, t, "SO_TYPE", u, SOL_SOCKET, SO_TYPE);
	rec_getint(c, t, "SO_PROTOCOL", u, SOL_SOCKET, SO_PROTOCOL);
	rec_getint(c, t, "SO_DOMAIN", u, SOL_SOCKET, SO_DOMAIN);
	rec_getint(c, t, "SO_ERROR", u, SOL_SOCKET, SO_ERROR);
	rec_getint(c, t, "SO_ACCEPTCONN", u, SOL_SOCKET, SO_ACCEPTCONN);
	rec_setint(c, t, "TCP_NODELAY", u, IPPROTO_TCP, TCP_NODELAY, 1);
	rec_getint(c, t, "TCP_NODELAY", u, IPPROTO_TCP, TCP_NODELAY);
	done(c, s);
	done(c, u);
	done(c, l);
}

SCENARIO(opt_tcp_info)
{
	uint16_t p;
	int s = tcp_socket(c), u = udp_socket(c), l = listener(c, &p), cl, sv;
	char b[8];
	rec_tcp_info(c, t, "fresh", s);
	rec_tcp_info(c, t, "listener", l);
	tcp_pair(c, t, &cl, &sv);
	rec_tcp_info(c, t, "client", cl);
	rec_tcp_info(c, t, "server", sv);
	rec(t, "client shutdown SHUT_WR", c->shutdown(cl, SHUT_WR));
	rec(t, "server recv", GUARDED(c->recv(sv, b, sizeof(b), 0)));
	rec_tcp_info(c, t, "server", sv);
	for (int64_t end = now_ms() + SETTLE_MS; tcp_state(c, cl) == TCP_FIN_WAIT1 && now_ms() < end;)
		usleep(1000);
	rec_tcp_info(c, t, "client", cl);
	struct tcp_info ti;
	socklen_t len = 8;
	rec(t, "TCP_INFO optlen 8", c->getsockopt(cl, IPPROTO_TCP, TCP_INFO, &ti, &len));
	say(t, "len %u", (unsigned)len);
	rec_tcp_info(c, t, "udp", u);
	done(c, s);
	done(c, u);
	done(c, l);
	done(c, cl);
	done(c, sv);
}

SCENARIO(opt_errors)
{
	int s = tcp_socket(c), u = udp_socket(c), v = 1;
	socklen_t len;
	say(t, "-- tcp");
	rec_getint(c, t, "SOL_SOCKET 9999", s, SOL_SOCKET, 9999);
	rec_setint(c, t, "SOL_SOCKET 9999", s, SOL_SOCKET, 9999, 1);
	rec_getint(c, t, "IPPROTO_TCP 9999", s, IPPROTO_TCP, 9999);
	rec_setint(c, t, "IPPROTO_TCP 9999", s, IPPROTO_TCP, 9999, 1);
	rec_getint(c, t, "IPPROTO_IP 9999", s, IPPROTO_IP, 9999);
	rec_getint(c, t, "level 9999", s, 9999, 1);
	rec_setint(c, t, "level 9999", s, 9999, 1, 1);
	rec(t, "getsockopt SO_TYPE optlen NULL", c->getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL));
	len = sizeof(v);
	rec(t, "getsockopt SO_TYPE optval NULL", c->getsockopt(s, SOL_SOCKET, SO_TYPE, NULL, &len));
	len = 0;
	rec(t, "getsockopt SO_TYPE optval NULL optlen 0",
	    c->getsockopt(s, SOL_SOCKET, SO_TYPE, NULL, &len));
	say(t, "len %u", (unsigned)len);
	len = (socklen_t)-1;
	rec(t, "getsockopt SO_TYPE optlen -1", c->getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	len = 2;
	v = 0;
	rec(t, "getsockopt SO_TYPE optlen 2", c->getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len));
	say(t, "len %u value %d", (unsigned)len, v);
	len = 2;
	v = 0;
	rec(t, "getsockopt TCP_NODELAY optlen 2", c->getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len));
	say(t, "len %u", (unsigned)len);
	v = 1;
	rec(t, "setsockopt SO_REUSEADDR optlen 2", c->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	rec(t, "setsockopt TCP_NODELAY optlen 2", c->setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2));
	rec(t, "setsockopt SO_REUSEADDR NULL optlen 4",
	    c->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, NULL, 4));
	rec(t, "setsockopt SO_REUSEADDR NULL optlen 0",
	    c->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, NULL, 0));
	say(t, "-- udp");
	rec_getint(c, t, "SOL_SOCKET 9999", u, SOL_SOCKET, 9999);
	rec_getint(c, t, "IPPROTO_UDP 9999", u, IPPROTO_UDP, 9999);
	rec_getint(c, t, "level 9999", u, 9999, 1);
	rec(t, "getsockopt SO_TYPE optlen NULL", c->getsockopt(u, SOL_SOCKET, SO_TYPE, &v, NULL));
	done(c, s);
	done(c, u);
}

/* Defaults that programs read back; they come from the stack's sysctls. */
SCENARIO(opt_defaults)
{
	static const struct {
		const char *what;
		int level, name;
	} tcp[] = {
		{"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF}, {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},
		{"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE}, {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR},
		{"SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT}, {"SO_BROADCAST", SOL_SOCKET, SO_BROADCAST},
		{"SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE}, {"SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT},
		{"SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT}, {"IP_TTL", IPPROTO_IP, IP_TTL},
		{"IP_TOS", IPPROTO_IP, IP_TOS}, {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},
		{"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG}, {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE},
		{"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL}, {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT},
		{"TCP_CORK", IPPROTO_TCP, TCP_CORK},
	}, udp[] = {
		{"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF}, {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},
		{"SO_BROADCAST", SOL_SOCKET, SO_BROADCAST}, {"IP_TTL", IPPROTO_IP, IP_TTL},
		{"IP_TOS", IPPROTO_IP, IP_TOS},
	};
	int s = tcp_socket(c), u = udp_socket(c);
	struct linger lg = {-1, -1};
	char cc[32];
	socklen_t len;
	say(t, "-- tcp");
	for (size_t i = 0; i < sizeof(tcp) / sizeof(tcp[0]); i++)
		rec_getint(c, t, tcp[i].what, s, tcp[i].level, tcp[i].name);
	len = sizeof(lg);
	rec(t, "getsockopt SO_LINGER", c->getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len));
	say(t, "{%d, %d} len %u", lg.l_onoff, lg.l_linger, (unsigned)len);
	/* the kernel's default is the namespace's sysctl; netd's is cubic,
	 * Linux's default */
	char host_cc[32];
	if (strcmp(sysctl("/proc/sys/net/ipv4/tcp_congestion_control", host_cc, sizeof(host_cc)),
		   "cubic") == 0) {
		memset(cc, 0, sizeof(cc));
		len = sizeof(cc);
		rec(t, "getsockopt TCP_CONGESTION",
		    c->getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, &len));
		say(t, "\"%s\" len %u", cc, (unsigned)len);
	} else {
		say(t, "net.ipv4.tcp_congestion_control %s: not Linux's default, not compared", host_cc);
	}
	say(t, "-- udp");
	for (size_t i = 0; i < sizeof(udp) / sizeof(udp[0]); i++)
		rec_getint(c, t, udp[i].what, u, udp[i].level, udp[i].name);
	done(c, s);
	done(c, u);
}

/* ==== names ==== */

SCENARIO(names)
{
	uint16_t p;
	int s = tcp_socket(c), u = udp_socket(c), l = listener(c, &p), cl, sv;
	struct sockaddr_in a, b;
	socklen_t len;
	rec_name(c, t, "fresh tcp getpeername", s, 1);
	rec_name(c, t, "fresh tcp getsockname", s, 0);
	rec_name(c, t, "fresh udp getpeername", u, 1);
	rec_name(c, t, "listener getpeername", l, 1);
	rec_name(c, t, "listener getsockname", l, 0);
	tcp_pair(c, t, &cl, &sv);
	rec_name(c, t, "client getsockname", cl, 0);
	rec_name(c, t, "client getpeername", cl, 1);
	rec_name(c, t, "server getsockname", sv, 0);
	rec_name(c, t, "server getpeername", sv, 1);
	a = name_of(c, cl, 0);
	b = name_of(c, sv, 1);
	say(t, "client name is the server's peer: %s", yes_no(same_ep(&a, &b)));
	a = name_of(c, cl, 1);
	b = name_of(c, sv, 0);
	say(t, "client peer is the server's name: %s", yes_no(same_ep(&a, &b)));
	memset(&a, 0, sizeof(a));
	len = 4;
	rec(t, "getpeername addrlen 4", c->getpeername(cl, SA(a), &len));
	say(t, "len %u family %d address left 0: %s", (unsigned)len, a.sin_family,
	    yes_no(a.sin_addr.s_addr == 0));
	len = 0;
	rec(t, "getpeername NULL addrlen 0", c->getpeername(cl, NULL, &len));
	say(t, "len %u", (unsigned)len);
	len = sizeof(a);
	rec(t, "getpeername NULL addrlen 16", c->getpeername(cl, NULL, &len));
	rec(t, "getsockname addrlen NULL", c->getsockname(cl, SA(a), NULL));
	len = (socklen_t)-1;
	rec(t, "getsockname addrlen -1", c->getsockname(cl, SA(a), &len));
	rec(t, "getsockname on fd -1", c->getsockname(-1, SA(a), &len));
	done(c, s);
	done(c, u);
	done(c, l);
	done(c, cl);
	done(c, sv);
}

/* ==== poll ==== */

SCENARIO(poll_mixed)
{
	int pfd[2], cl, sv, idle_cl, idle_sv;
	char b[8];
	ck_assert_int_eq(pipe(pfd), 0);
	tcp_pair(c, t, &cl, &sv);
	tcp_pair(c, t, &idle_cl, &idle_sv);
	rec(t, "write the pipe", c->write(pfd[1], "p", 1));
	rec(t, "send", c->send(cl, "s", 1, 0));
	wait_inq(c, sv, 1);
	struct pollfd fds[4] = {
		{.fd = pfd[0], .events = POLLIN}, {.fd = sv, .events = POLLIN},
		{.fd = idle_sv, .events = POLLIN}, {.fd = -1, .events = POLLIN},
	};
	char e0[64], e1[64], e2[64], e3[64];
	int n = (int)rec(t, "poll pipe, socket, idle socket, -1", c->poll(fds, 4, SETTLE_MS));
	if (n >= 0)
		say(t, "revents %s %s %s %s", ev_str(fds[0].revents, e0, sizeof(e0)),
		    ev_str(fds[1].revents, e1, sizeof(e1)), ev_str(fds[2].revents, e2, sizeof(e2)),
		    ev_str(fds[3].revents, e3, sizeof(e3)));
	rec(t, "read the pipe", c->read(pfd[0], b, sizeof(b)));
	rec(t, "recv", c->recv(sv, b, sizeof(b), 0));
	fds[0].events = POLLIN | POLLOUT;
	fds[2].events = POLLIN | POLLOUT;
	n = (int)rec(t, "poll pipe IN|OUT, socket IN, idle socket IN|OUT, -1", c->poll(fds, 4, 0));
	if (n >= 0)
		say(t, "revents %s %s %s %s", ev_str(fds[0].revents, e0, sizeof(e0)),
		    ev_str(fds[1].revents, e1, sizeof(e1)), ev_str(fds[2].revents, e2, sizeof(e2)),
		    ev_str(fds[3].revents, e3, sizeof(e3)));
	close(pfd[0]);
	close(pfd[1]);
	done(c, cl);
	done(c, sv);
	done(c, idle_cl);
	done(c, idle_sv);
}

SCENARIO(poll_states)
{
	uint16_t p;
	int s = tcp_socket(c), u = udp_socket(c), l = listener(c, &p), cl, sv, k = tcp_socket(c);
	rec_poll1(c, t, "fresh tcp IN|OUT", s, POLLIN | POLLOUT, 0);
	rec_poll1(c, t, "fresh tcp IN|OUT|RDHUP", s, POLLIN | POLLOUT | POLLRDHUP, 0);
	rec_poll1(c, t, "fresh udp IN|OUT", u, POLLIN | POLLOUT, 0);
	rec_poll1(c, t, "idle listener IN|OUT", l, POLLIN | POLLOUT, 0);
	rec(t, "connect", GUARDED(connect_self(c, k, p)));
	rec_poll1(c, t, "listener with a connection waiting IN", l, POLLIN, SETTLE_MS);
	tcp_pair(c, t, &cl, &sv);
	rec_poll1(c, t, "connected idle IN|OUT", sv, POLLIN | POLLOUT, 0);
	rec_poll1(c, t, "connected idle IN", sv, POLLIN, 0);
	rec(t, "send", c->send(cl, "x", 1, 0));
	wait_inq(c, sv, 1);
	rec_poll1(c, t, "connected with data IN|OUT", sv, POLLIN | POLLOUT, 0);
	rec_poll1(c, t, "connected with data OUT", sv, POLLOUT, 0);
	rec_poll1(c, t, "connected with data 0", sv, 0, 0);
	done(c, s);
	done(c, u);
	done(c, l);
	done(c, k);
	done(c, cl);
	done(c, sv);
}

SCENARIO(poll_nval_timeout)
{
	uint16_t p;
	int x = tcp_socket(c), cl, sv;
	rec(t, "close", c->close(x));
	rec_poll1(c, t, "poll a closed descriptor", x, POLLIN, 0);
	tcp_pair(c, t, &cl, &sv);
	struct pollfd fds[2] = {{.fd = -1, .events = POLLIN}, {.fd = sv, .events = POLLIN}};
	rec(t, "poll -1 and an idle socket, timeout 0", c->poll(fds, 2, 0));
	say(t, "revents %d %d", fds[0].revents, fds[1].revents);
	int64_t t0 = now_ms();
	rec(t, "poll nothing, 50 ms", c->poll(NULL, 0, 50));
	int64_t el = now_ms() - t0;
	say(t, "took 50 ms to 1050 ms: %s", yes_no(el >= 49 && el < 1050));
	t0 = now_ms();
	rec_poll1(c, t, "poll an idle socket, 100 ms", sv, POLLIN, 100);
	el = now_ms() - t0;
	say(t, "took 100 ms to 1100 ms: %s", yes_no(el >= 99 && el < 1100));
	int u = udp_bound(c, &p);
	t0 = now_ms();
	rec_poll1(c, t, "poll an idle udp socket, 100 ms", u, POLLIN, 100);
	el = now_ms() - t0;
	say(t, "took 100 ms to 1100 ms: %s", yes_no(el >= 99 && el < 1100));
	done(c, cl);
	done(c, sv);
	done(c, u);
}

SCENARIO(poll_wakeup)
{
	int pfd[2], cl, sv;
	char b[8], e0[64], e1[64];
	ck_assert_int_eq(pipe(pfd), 0);
	tcp_pair(c, t, &cl, &sv);
	struct pollfd fds[2] = {{.fd = pfd[0], .events = POLLIN}, {.fd = sv, .events = POLLIN}};

	struct later w = {.c = c, .fd = pfd[1], .delay_ms = 100, .chunks = 1, .data = "p", .len = 1};
	later_start(&w);
	int n = (int)rec(t, "poll, the pipe written later", GUARDED(c->poll(fds, 2, -1)));
	if (n >= 0)
		say(t, "revents %s %s", ev_str(fds[0].revents, e0, sizeof(e0)),
		    ev_str(fds[1].revents, e1, sizeof(e1)));
	later_join(&w);
	rec(t, "read the pipe", c->read(pfd[0], b, sizeof(b)));

	struct later w2 = {.c = c, .fd = cl, .delay_ms = 100, .chunks = 1, .data = "s", .len = 1};
	later_start(&w2);
	n = (int)rec(t, "poll, the socket written later", GUARDED(c->poll(fds, 2, -1)));
	if (n >= 0)
		say(t, "revents %s %s", ev_str(fds[0].revents, e0, sizeof(e0)),
		    ev_str(fds[1].revents, e1, sizeof(e1)));
	later_join(&w2);

	struct later w3 = {.c = c, .fd = cl, .delay_ms = 100, .shut_wr = true};
	rec(t, "recv", c->recv(sv, b, sizeof(b), 0));
	fds[1].events = POLLRDHUP;
	later_start(&w3);
	n = (int)rec(t, "poll RDHUP, the peer shuts down later", GUARDED(c->poll(&fds[1], 1, 5000)));
	if (n >= 0)
		say(t, "revents %s", ev_str(fds[1].revents, e1, sizeof(e1)));
	later_join(&w3);
	close(pfd[0]);
	close(pfd[1]);
	done(c, cl);
	done(c, sv);
}

/* ==== signals ==== */

/* A blocking call and an alarm at 150 ms whose handler has no SA_RESTART:
 * Linux ends the call with EINTR. Each call has a rescue (data or a
 * connection at 2 s) so that a call that misses the signal ends too. */

static void eintr_report(struct tr *t, int64_t t0)
{
	say(t, "alarms: %d, returned before the rescue: %s", (int)n_sigalrm,
	    yes_no(now_ms() - t0 < RESCUE_MS));
}

SCENARIO(eintr_tcp_recv)
{
	char b[8];
	int cl, sv;
	struct later r;
	tcp_pair(c, t, &cl, &sv);
	rescue_write(&r, c, cl);
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec_io(t, "recv", c->recv(sv, b, sizeof(b), 0), b);
	eintr_report(t, t0);
	later_join(&r);
	done(c, cl);
	done(c, sv);
}

SCENARIO(eintr_tcp_read)
{
	char b[8];
	int cl, sv;
	struct later r;
	tcp_pair(c, t, &cl, &sv);
	rescue_write(&r, c, cl);
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec_io(t, "read", c->read(sv, b, sizeof(b)), b);
	eintr_report(t, t0);
	later_join(&r);
	done(c, cl);
	done(c, sv);
}

SCENARIO(eintr_udp_recvfrom)
{
	char b[8];
	uint16_t pa, pb;
	int a = udp_bound(c, &pa), u = udp_bound(c, &pb);
	struct later r;
	rec(t, "connect the sender", connect_self(c, a, pb));
	rescue_write(&r, c, a);
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec_io(t, "recvfrom", c->recvfrom(u, b, sizeof(b), 0, NULL, NULL), b);
	eintr_report(t, t0);
	later_join(&r);
	done(c, a);
	done(c, u);
}

SCENARIO(eintr_accept)
{
	uint16_t p;
	int l = listener(c, &p);
	struct later r = {.c = c, .fd = -1, .delay_ms = RESCUE_MS, .connect_port = p};
	later_start(&r);
	int64_t t0 = now_ms();
	alarm_ms(150);
	int fd = rec_fd(t, "accept", c->accept(l, NULL, NULL));
	eintr_report(t, t0);
	later_join(&r);
	done(c, fd);
	done(c, r.fd);
	done(c, l);
}

static void eintr_poll(const struct calls *c, struct tr *t, int timeout)
{
	int cl, sv;
	struct later r;
	tcp_pair(c, t, &cl, &sv);
	rescue_write(&r, c, cl);
	struct pollfd pf = {.fd = sv, .events = POLLIN};
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec(t, "poll", c->poll(&pf, 1, timeout));
	eintr_report(t, t0);
	later_join(&r);
	done(c, cl);
	done(c, sv);
}

SCENARIO(eintr_poll_no_timeout)
{
	eintr_poll(c, t, -1);
}

SCENARIO(eintr_poll_timeout)
{
	eintr_poll(c, t, 5000);
}

SCENARIO(eintr_recv_rcvtimeo)
{
	char b[8];
	int cl, sv;
	struct timeval tv = {3, 0};
	struct later r;
	tcp_pair(c, t, &cl, &sv);
	rec(t, "setsockopt SO_RCVTIMEO 3 s", c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	rescue_write(&r, c, cl);
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec_io(t, "recv", c->recv(sv, b, sizeof(b), 0), b);
	eintr_report(t, t0);
	later_join(&r);
	done(c, cl);
	done(c, sv);
}

/* SA_RESTART: Linux restarts a blocking recv, except on a socket with a
 * receive timeout; it never restarts poll. libnetclient cannot tell which
 * signal interrupted a wait, so it restarts when every caught signal's
 * handler has SA_RESTART (nc_recv(3)): here SIGPIPE is ignored, as servers
 * do, the test runner's SIGINT and SIGTERM handlers are put back to the
 * default, and SIGALRM's handler has SA_RESTART. */

SCENARIO(sa_restart_recv)
{
	char b[8];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	alarm_handler(SA_RESTART);
	struct later w = {.c = c, .fd = cl, .delay_ms = 400, .chunks = 1, .data = "late", .len = 4};
	later_start(&w);
	alarm_ms(150);
	rec_io(t, "recv, the data at 400 ms", c->recv(sv, b, sizeof(b), 0), b);
	say(t, "alarms: %d", (int)n_sigalrm);
	later_join(&w);
	done(c, cl);
	done(c, sv);
}

SCENARIO(sa_restart_poll)
{
	char b[8];
	int cl, sv;
	tcp_pair(c, t, &cl, &sv);
	alarm_handler(SA_RESTART);
	struct later w = {.c = c, .fd = cl, .delay_ms = 400, .chunks = 1, .data = "more", .len = 4};
	later_start(&w);
	struct pollfd pf = {.fd = sv, .events = POLLIN};
	alarm_ms(150);
	rec(t, "poll, the data at 400 ms", c->poll(&pf, 1, -1));
	say(t, "alarms: %d", (int)n_sigalrm);
	later_join(&w);
	rec_io(t, "recv", GUARDED(c->recv(sv, b, sizeof(b), 0)), b);
	done(c, cl);
	done(c, sv);
}

SCENARIO(sa_restart_rcvtimeo)
{
	char b[8];
	int cl, sv;
	struct timeval tv = {3, 0};
	tcp_pair(c, t, &cl, &sv);
	alarm_handler(SA_RESTART);
	rec(t, "setsockopt SO_RCVTIMEO 3 s", c->setsockopt(sv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int64_t t0 = now_ms();
	alarm_ms(150);
	rec(t, "recv", c->recv(sv, b, sizeof(b), 0));
	say(t, "alarms: %d, returned within 1 s: %s", (int)n_sigalrm, yes_no(now_ms() - t0 < 1000));
	done(c, cl);
	done(c, sv);
}

/* ==== the suite ==== */

static void add(Suite *s, const char *name, const TTest **tests, size_t n)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, 2 * HANG_S + 30);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
}

#define ADD(s, name, ...)                                                     \
	do {                                                                  \
		const TTest *list[] = {__VA_ARGS__};                          \
		add(s, name, list, sizeof(list) / sizeof(list[0]));           \
	} while (0)

int main(void)
{
	const char *addr = getenv("NETD_ADDR");
	if (!addr || inet_pton(AF_INET, addr, &netd_calls.self) != 1) {
		printf("1..0 # SKIP NETD_ADDR not set: run through tests/e2e/api.sh\n");
		return EXIT_SUCCESS;
	}
	inet_pton(AF_INET, "127.0.0.1", &kernel_calls.self);
	setvbuf(stdout, NULL, _IOLBF, 0);

	Suite *s = suite_create("api");
	ADD(s, "socket", socket_types, socket_flags);
	ADD(s, "bind", bind_address_checks, bind_ephemeral, bind_in_use, bind_time_wait,
	    bind_privileged);
	ADD(s, "accept", accept_errors, accept_peer_address, listen_shutdown);
	ADD(s, "connect", connect_refused, connect_nonblocking, connect_nonblocking_refused,
	    connect_errors, connect_unspec_tcp, udp_connect);
	ADD(s, "tcp", tcp_unconnected, tcp_peek_dontwait, tcp_waitall, tcp_shutdown_wr,
	    tcp_shutdown_rd, tcp_reset_recv, tcp_reset_send, tcp_vectors, tcp_queues,
	    tcp_sendto_address, oob);
	ADD(s, "udp", udp_addresses, udp_trunc_peek, udp_sizes, udp_broadcast, udp_icmp_refused,
	    udp_fionread, udp_shutdown);
	ADD(s, "options", opt_rcvtimeo, opt_negative_timeo, opt_buffers, opt_buffer_limits,
	    opt_basic, opt_tcp_info, opt_errors, opt_defaults);
	ADD(s, "names", names);
	ADD(s, "poll", poll_mixed, poll_states, poll_nval_timeout, poll_wakeup);
	ADD(s, "signals", eintr_tcp_recv, eintr_tcp_read, eintr_udp_recvfrom, eintr_accept,
	    eintr_poll_no_timeout, eintr_poll_timeout, eintr_recv_rcvtimeo, sa_restart_recv,
	    sa_restart_poll, sa_restart_rcvtimeo);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
