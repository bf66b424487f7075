/*
 * capture.c: the live captures of capture.h. Each capture is a netif_tap;
 * the stack calls it for every frame in and out, in the loop's turn, and
 * it writes the record at once (one writev, so a frame is written whole or
 * not at all). Timestamps are the loop's clock moved to wall-clock time
 * (or the virtual clock itself, so tests see the same file every run).
 *
 * The filter by process finds the socket a frame belongs to the way the
 * stack's demultiplexing does (a connection, else a listener or the best
 * UDP socket) from headers parsed by netd/wire; frames of no socket (ARP,
 * ICMP, fragments after the first) belong to nobody.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "capture.h"
#include "ctl.h"
#include "log.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "util.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

struct capture {
	struct netif_tap tap;
	struct stack *st;
	int fd;			/* the pcap stream */
	int conn_fd;		/* the control connection that asked */
	pid_t pid;		/* 0: every frame */
	uint64_t count;		/* 0: no limit */
	uint64_t written;
	uint64_t lost;		/* the reader was too slow */
	bool pipe;		/* a pipe or socket: its reader may leave */
	int64_t wall_offset;	/* wall-clock time minus the loop's clock, ns */
};

/* A frame's transport endpoints, ours first. */
struct flow {
	uint8_t proto;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

static void tap_fn(struct netif_tap *tap, const struct netif *nif, const struct nbuf *nb,
		   bool out);

/* ---- which socket a frame belongs to ---- */

static int frame_ports(const uint8_t *l4, size_t len, const struct ipv4_hdr *ih,
		       uint16_t *sport, uint16_t *dport)
{
	if (ih->proto == IPPROTO_TCP_) {
		struct tcp_hdr th;
		if (tcp_parse(l4, len, ih->src, ih->dst, &th) != 0)
			return -1;
		*sport = th.sport;
		*dport = th.dport;
		return 0;
	}
	struct udp_hdr uh;
	if (udp_parse(l4, len, ih->src, ih->dst, &uh) != 0)
		return -1;
	*sport = uh.sport;
	*dport = uh.dport;
	return 0;
}

/* The TCP or UDP endpoints of a whole or first-fragment datagram. */
static int frame_flow(const struct nbuf *nb, bool out, struct flow *f)
{
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	uint16_t sport, dport;
	size_t len = nbuf_len(nb);
	if (eth_parse(nb->data, len, &eh) != 0 || eh.type != ETHERTYPE_IPV4 ||
	    ipv4_parse(nb->data + ETH_HLEN, len - ETH_HLEN, &ih) != 0 || ih.frag_off ||
	    (ih.proto != IPPROTO_TCP_ && ih.proto != IPPROTO_UDP_))
		return -1;
	if (frame_ports(nb->data + ETH_HLEN + ih.hlen, (size_t)ih.total_len - ih.hlen, &ih,
			&sport, &dport) < 0)
		return -1;
	f->proto = ih.proto;
	f->laddr = out ? ih.src : ih.dst;
	f->raddr = out ? ih.dst : ih.src;
	f->lport = out ? sport : dport;
	f->rport = out ? dport : sport;
	return 0;
}

static struct sock *flow_sock(struct stack *st, const struct flow *f)
{
	if (f->proto == IPPROTO_UDP_)
		return udp_lookup(st, f->laddr, f->lport, f->raddr, f->rport);
	struct tcp_sock *tp = tcp_lookup_established(st, f->laddr, f->lport, f->raddr, f->rport);
	if (!tp)
		tp = tcp_lookup_listener(st, f->laddr, f->lport);
	return tp ? tp->sk : NULL;
}

static bool frame_of_pid(struct stack *st, const struct nbuf *nb, bool out, pid_t pid)
{
	struct flow f;
	struct admin_owner o;
	struct sock *sk;
	if (frame_flow(nb, out, &f) < 0 || !(sk = flow_sock(st, &f)))
		return false;
	admin_sock_owner(sk, &o);
	return o.pid == pid;
}

/* ---- writing ---- */

static uint64_t capture_time(const struct capture *c)
{
	uint64_t now = stack_now(c->st);
	return c->st->clock.is_virtual ? now : now + (uint64_t)c->wall_offset;
}

/* A pipe whose reader left raises SIGPIPE, which would end netd: such a
 * write runs with SIGPIPE blocked, and the SIGPIPE it raised is taken back. */
static ssize_t writev_nosigpipe(int fd, const struct iovec *iov, int n)
{
	static const struct timespec zero;
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t r = writev(fd, iov, n);
	int err = errno;
	if (r < 0 && err == EPIPE && !sigismember(&old, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return r;
}

/* 0, -EAGAIN (the frame is lost, the stream intact) or -errno. */
static int capture_write(struct capture *c, const struct nbuf *nb)
{
	uint8_t rh[PCAP_REC_HDR_LEN];
	size_t incl = pcap_record_header(rh, nbuf_len(nb), capture_time(c));
	struct iovec iov[2] = {
		{.iov_base = rh, .iov_len = sizeof(rh)},
		{.iov_base = nb->data, .iov_len = incl},
	};
	ssize_t n = c->pipe ? writev_nosigpipe(c->fd, iov, 2) : writev(c->fd, iov, 2);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	return (size_t)n == sizeof(rh) + incl ? 0 : -EIO;	/* a torn record */
}

/* Tells the control connection how the capture ended: Ok, or the error. */
static void capture_answer(const struct capture *c, int err)
{
	Netd__Ok ok = NETD__OK__INIT;
	Netd__Error e = NETD__ERROR__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	char reason[128];
	uint8_t buf[256];
	if (err) {
		snprintf(reason, sizeof(reason), "capture: %s", strerror(-err));
		e.errno_value = -err;
		e.reason = reason;
		r.body_case = NETD__RESPONSE__BODY_ERROR;
		r.error = &e;
	} else {
		r.body_case = NETD__RESPONSE__BODY_OK;
		r.ok = &ok;
	}
	size_t len = netd__response__pack(&r, buf);
	ctl_send_packed(c->conn_fd, buf, len, NULL, 0);
}

static void capture_free(struct capture *c)
{
	netif_tap_del(c->st, &c->tap);
	close(c->fd);
	log_info("capture ended: %llu frames written, %llu lost", (unsigned long long)c->written,
		 (unsigned long long)c->lost);
	free(c);
}

static void tap_fn(struct netif_tap *tap, const struct netif *nif, const struct nbuf *nb,
		   bool out)
{
	struct capture *c = container_of(tap, struct capture, tap);
	(void)nif;
	if (c->pid && !frame_of_pid(c->st, nb, out, c->pid))
		return;
	int err = capture_write(c, nb);
	if (err == -EAGAIN) {
		c->lost++;
		return;
	}
	if (err == 0 && (!c->count || ++c->written < c->count))
		return;
	capture_answer(c, err);
	capture_free(c);
}

/* ---- starting and stopping ---- */

static int64_t wall_offset(const struct stack *st)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)((uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec) -
	       (int64_t)stack_now(st);
}

static int write_file_header(int fd, bool pipe)
{
	uint8_t fh[PCAP_FILE_HDR_LEN];
	struct iovec iov = {.iov_base = fh, .iov_len = sizeof(fh)};
	pcap_file_header(fh);
	ssize_t n = pipe ? writev_nosigpipe(fd, &iov, 1) : writev(fd, &iov, 1);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(fh) ? 0 : -EIO;
}

int capture_start(struct stack *st, int fd, pid_t pid, uint64_t count, int conn_fd)
{
	struct stat sb;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || fstat(fd, &sb) < 0)
		return -EBADF;
	bool pipe = S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int err = write_file_header(fd, pipe);
	if (err < 0)
		return err;
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct capture){.tap = {.fn = tap_fn}, .st = st, .fd = fd, .conn_fd = conn_fd,
			      .pid = pid, .count = count, .pipe = pipe,
			      .wall_offset = wall_offset(st)};
	netif_tap_add(st, &c->tap);
	return 0;
}

static struct capture *capture_of(const struct stack *st, int conn_fd)
{
	for (struct netif_tap *t = st->taps; t; t = t->next) {
		if (t->fn != tap_fn)
			continue;
		struct capture *c = container_of(t, struct capture, tap);
		if (c->conn_fd == conn_fd)
			return c;
	}
	return NULL;
}

void capture_stop(struct stack *st, int conn_fd)
{
	struct capture *c;
	while ((c = capture_of(st, conn_fd)))
		capture_free(c);
}

bool capture_running(const struct stack *st, int conn_fd)
{
	return capture_of(st, conn_fd) != NULL;
}
