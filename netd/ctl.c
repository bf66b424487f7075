/*
 * ctl.c: the control socket of ctl.h. One struct ctl_conn per connection,
 * each polled by the loop. Messages are read whole (SOCK_SEQPACKET keeps
 * their boundaries), unpacked with protobuf-c and answered in order; file
 * descriptors that come with them (SCM_RIGHTS) are taken in or closed,
 * never leaked. A connection that breaks the protocol is closed, which
 * ends its session like a hang-up does. Closing is deferred to ctl_run()
 * so that nothing frees a session while its commands are being served.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "proto/netd.pb-c.h"
#include "proto/scm.h"
#include "proto/shm.h"
#include "session.h"
#include "stack.h"
#include "util.h"

#define CTL_MSG_MAX 65536
#define CTL_FDS_MAX SCM_FDS_MAX
#define CAP_NET_BIND_SERVICE_BIT 10

struct ctl_conn {
	struct ctl *ctl;
	struct loop_watch watch;
	struct session_peer peer;
	bool hello_done;
	bool closing;
	struct session *session;
	struct ctl_conn *next;
};

struct ctl {
	struct loop *loop;
	struct stack *st;
	struct ctl_config cfg;
	int listen_fd;
	struct loop_watch listen_watch;
	struct ctl_conn *conns;
	bool sweep;			/* some connection is closing */
	uint64_t started;		/* the stack's clock when the socket opened */
	uint8_t msg[CTL_MSG_MAX];
};

void ctl_config_default(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", CTL_DEFAULT_SOCKET);
	c->client_max_sockets = CTL_DEFAULT_MAX_SOCKETS;
	c->client_ring_size = NCS_DATA_RING_SIZE;
	c->admin_gid = (gid_t)-1;
	c->bind_gid = (gid_t)-1;
}

/* ---- who is calling ---- */

/* Reads the effective capabilities and groups of pid from /proc. */
/* What /proc/PID/status says of a caller: its effective capabilities and
 * supplementary groups. */
struct peer_proc {
	uint64_t capeff;
	gid_t groups[256];
	int ngroups;
};

static void peer_read_proc(pid_t pid, struct peer_proc *pp)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	memset(pp, 0, sizeof(*pp));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:", 7) == 0)
			pp->capeff = strtoull(line + 7, NULL, 16);
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		char *p = line + 7, *end;
		for (long g; pp->ngroups < (int)ARRAY_SIZE(pp->groups) &&
			     (g = strtol(p, &end, 10), end != p); p = end)
			pp->groups[pp->ngroups++] = (gid_t)g;
	}
	fclose(f);
}

static bool peer_in_group(const struct session_peer *p, const struct peer_proc *pp, gid_t gid)
{
	if (gid == (gid_t)-1)
		return false;
	if (p->gid == gid)
		return true;
	for (int i = 0; i < pp->ngroups; i++)
		if (pp->groups[i] == gid)
			return true;
	return false;
}

/* Who the caller is, taken once at connect time as SO_PEERCRED is. */
static void peer_identify(struct ctl *ctl, int fd, struct session_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct peer_proc pp;

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		p->pid = cred.pid;
		p->uid = cred.uid;
		p->gid = cred.gid;
	}
	peer_read_proc(p->pid, &pp);
	p->bind_privileged = p->uid == 0 || (pp.capeff >> CAP_NET_BIND_SERVICE_BIT & 1) ||
			     peer_in_group(p, &pp, ctl->cfg.bind_gid);
	p->admin = p->uid == 0 || peer_in_group(p, &pp, ctl->cfg.admin_gid);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->pid);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fgets(p->program, sizeof(p->program), f))
			p->program[strcspn(p->program, "\n")] = '\0';
		fclose(f);
	}
}

bool ctl_peer_is_admin(const struct ctl *ctl, const struct session_peer *p)
{
	(void)ctl;
	return p->admin;
}

/* ---- sending ---- */

/* Packs and sends resp, with the given fds as SCM_RIGHTS. */
static int conn_send(struct ctl_conn *c, const Netd__Response *resp, const int *fds, int nfds)
{
	size_t len = netd__response__get_packed_size(resp);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	netd__response__pack(resp, buf);
	int err = ctl_send_packed(c->watch.fd, buf, len, fds, nfds);
	free(buf);
	return err;
}

int ctl_send_packed(int fd, const uint8_t *buf, size_t len, const int *fds, int nfds)
{
	union scm_buf u;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	scm_attach(&m, &u, fds, nfds);
	return sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

static int conn_send_error(struct ctl_conn *c, int err, const char *reason)
{
	Netd__Error e = NETD__ERROR__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	e.errno_value = err;
	e.reason = (char *)reason;
	r.body_case = NETD__RESPONSE__BODY_ERROR;
	r.error = &e;
	return conn_send(c, &r, NULL, 0);
}

static void conn_close_later(struct ctl_conn *c)
{
	c->closing = true;
	c->ctl->sweep = true;
}

/* ---- the messages ---- */

static void on_hello(struct ctl_conn *c, const Netd__Hello *h)
{
	Netd__Welcome w = NETD__WELCOME__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	if (h->version_min > CTL_PROTOCOL_VERSION || h->version_max < CTL_PROTOCOL_VERSION) {
		conn_send_error(c, EPROTONOSUPPORT, "netd speaks control protocol version 1");
		conn_close_later(c);
		return;
	}
	if (h->program && h->program[0])
		snprintf(c->peer.program, sizeof(c->peer.program), "%s", h->program);
	c->hello_done = true;
	w.version = CTL_PROTOCOL_VERSION;
	w.netd_version = (char *)PACKAGE_VERSION;
	r.body_case = NETD__RESPONSE__BODY_WELCOME;
	r.welcome = &w;
	conn_send(c, &r, NULL, 0);
}

static void session_pull(void *arg);
static void session_broken(void *arg, const char *why);

static void on_attach(struct ctl_conn *c)
{
	Netd__Attached a = NETD__ATTACHED__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	int err;
	if (c->session) {
		conn_send_error(c, EISCONN, "already attached");
		return;
	}
	struct session_hooks hooks = {.pull_messages = session_pull, .broken = session_broken,
				      .arg = c};
	c->session = session_create(c->ctl->st, c->ctl->loop, &c->ctl->cfg, &c->peer, &hooks, &err);
	if (!c->session) {
		conn_send_error(c, -err, "cannot create the shared region");
		return;
	}
	a.region_size = session_region_size(c->session);
	a.max_slots = session_max_slots(c->session);
	r.body_case = NETD__RESPONSE__BODY_ATTACHED;
	r.attached = &a;
	int fds[2] = {session_memfd(c->session), session_doorbell(c->session)};
	if (conn_send(c, &r, fds, 2) < 0)
		conn_close_later(c);
	log_info("client pid %d uid %u (%s) attached", (int)c->peer.pid, (unsigned)c->peer.uid,
		 c->peer.program);
}

/* Takes the slots' eventfds; every fd is either taken or closed. */
static void on_register_slots(struct ctl_conn *c, const Netd__RegisterSlots *rs, int *fds,
			      int nfds)
{
	bool ok = c->session && rs->n_slots == (size_t)nfds;
	for (int i = 0; i < nfds; i++) {
		if (ok && session_register_slot(c->session, rs->slots[i], fds[i]) < 0)
			ok = false;
		else if (!ok)
			close(fds[i]);
		fds[i] = -1;
	}
	if (!ok) {
		log_warn("client pid %d: bad slot registration", (int)c->peer.pid);
		conn_close_later(c);
	}
}

static void on_admin(struct ctl_conn *c, const Netd__Request *req, int *fds, int nfds)
{
	uint8_t *out = NULL;
	size_t len = 0;
	int err = admin_answer(c->ctl, &c->peer, c->watch.fd, req, fds, nfds, &out, &len);
	if (err < 0)
		conn_send_error(c, -err, strerror(-err));
	else if (out)	/* none yet: a capture answers when it ends */
		ctl_send_packed(c->watch.fd, out, len, NULL, 0);
	free(out);
}

static void conn_dispatch(struct ctl_conn *c, const Netd__Request *req, int *fds, int nfds)
{
	if (!c->hello_done && req->body_case != NETD__REQUEST__BODY_HELLO) {
		conn_send_error(c, EPROTO, "the first message must be Hello");
		conn_close_later(c);
		return;
	}
	switch (req->body_case) {
	case NETD__REQUEST__BODY_HELLO: on_hello(c, req->hello); break;
	case NETD__REQUEST__BODY_ATTACH: on_attach(c); break;
	case NETD__REQUEST__BODY_REGISTER_SLOTS:
		on_register_slots(c, req->register_slots, fds, nfds);
		break;
	case NETD__REQUEST__BODY_DETACH: conn_close_later(c); break;
	default: on_admin(c, req, fds, nfds); break;
	}
}

/* ---- reading ---- */

/* Reads one message; 1 if one was handled, 0 if none waits, -1 if the
 * connection is over. */
static int conn_read_one(struct ctl_conn *c)
{
	union scm_buf u;
	int fds[CTL_FDS_MAX];
	struct iovec iov = {.iov_base = c->ctl->msg, .iov_len = sizeof(c->ctl->msg)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(c->watch.fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	int nfds = scm_take(&m, fds, CTL_FDS_MAX);
	if (n == 0) {	/* the end, or an empty message: either way its fds go */
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -1;
	}
	Netd__Request *req = (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? NULL :
			     netd__request__unpack(NULL, (size_t)n, c->ctl->msg);
	if (!req) {
		log_warn("client pid %d: malformed control message", (int)c->peer.pid);
		conn_send_error(c, EPROTO, "malformed message");
		conn_close_later(c);
	} else {
		conn_dispatch(c, req, fds, nfds);
		netd__request__free_unpacked(req, NULL);
	}
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 1;
}

static void conn_read_all(struct ctl_conn *c)
{
	int r;
	while (!c->closing && (r = conn_read_one(c)) > 0)
		;
	if (!c->closing && r < 0)
		conn_close_later(c);
}

static void session_pull(void *arg)
{
	conn_read_all(arg);
}

static void session_broken(void *arg, const char *why)
{
	(void)why;
	conn_close_later(arg);
}

static void conn_ready(struct loop_watch *w, int res)
{
	struct ctl_conn *c = container_of(w, struct ctl_conn, watch);
	if (res == -ECANCELED) {
		close(w->fd);
		free(c);
		return;
	}
	if (!c->closing)
		conn_read_all(c);
}

static void ctl_accept(struct loop_watch *w, int res)
{
	struct ctl *ctl = container_of(w, struct ctl, listen_watch);
	int fd;
	if (res < 0 || w->removing)
		return;
	while ((fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct ctl_conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->ctl = ctl;
		c->watch = (struct loop_watch){.fd = fd, .fn = conn_ready};
		peer_identify(ctl, fd, &c->peer);
		if (loop_watch(ctl->loop, &c->watch) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = ctl->conns;
		ctl->conns = c;
	}
}

/* ---- the control socket ---- */

/* Removes a socket file nobody listens on any more. */
static int remove_stale_socket(const struct sockaddr_un *sun)
{
	struct stat sb;
	if (lstat(sun->sun_path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int alive = fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	if (fd >= 0)
		close(fd);
	if (alive)
		return -EADDRINUSE;
	return unlink(sun->sun_path) < 0 ? -errno : 0;
}

/* Makes the socket's directory (not its parents) when it is missing. */
static int make_socket_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int ctl_listen(struct ctl *ctl)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(ctl->cfg.path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, ctl->cfg.path);
	int err = make_socket_dir(sun.sun_path);
	if (!err)
		err = remove_stale_socket(&sun);
	if (err)
		return err;
	ctl->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen_fd < 0)
		return -errno;
	/* anyone may connect; what each may do is decided per request */
	if (bind(ctl->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(sun.sun_path, 0666) < 0 || listen(ctl->listen_fd, 128) < 0)
		return -errno;
	ctl->listen_watch = (struct loop_watch){.fd = ctl->listen_fd, .fn = ctl_accept};
	return loop_watch(ctl->loop, &ctl->listen_watch);
}

struct ctl *ctl_create(struct loop *l, struct stack *st, const struct ctl_config *cfg, int *err)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		*err = -ENOMEM;
		return NULL;
	}
	ctl->loop = l;
	ctl->st = st;
	ctl->cfg = *cfg;
	ctl->listen_fd = -1;
	ctl->started = stack_now(st);
	if ((*err = ctl_listen(ctl)) < 0) {
		if (ctl->listen_fd >= 0)
			close(ctl->listen_fd);
		free(ctl);
		return NULL;
	}
	return ctl;
}

static void conn_destroy(struct ctl_conn *c)
{
	admin_conn_closed(c->ctl, c->watch.fd);
	if (c->session) {
		log_info("client pid %d (%s) detached", (int)c->peer.pid, c->peer.program);
		session_destroy(c->session);
		c->session = NULL;
	}
	loop_unwatch(c->ctl->loop, &c->watch);	/* conn_ready frees c */
}

static void ctl_sweep(struct ctl *ctl)
{
	struct ctl_conn **pp = &ctl->conns;
	ctl->sweep = false;
	while (*pp) {
		struct ctl_conn *c = *pp;
		if (!c->closing) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		conn_destroy(c);
	}
}

void ctl_destroy(struct ctl *ctl)
{
	for (struct ctl_conn *c = ctl->conns; c; c = c->next)
		conn_close_later(c);
	ctl_sweep(ctl);
	loop_unwatch(ctl->loop, &ctl->listen_watch);
	loop_settle(ctl->loop);
	unlink(ctl->cfg.path);
	close(ctl->listen_fd);
	free(ctl);
}

bool ctl_run(struct ctl *ctl)
{
	bool work = false;
	for (struct ctl_conn *c = ctl->conns; c; c = c->next)
		if (c->session && !c->closing)
			work |= session_run(c->session);
	if (ctl->sweep)
		ctl_sweep(ctl);
	return work;
}

bool ctl_prepare_sleep(struct ctl *ctl)
{
	bool ok = true;
	for (struct ctl_conn *c = ctl->conns; c; c = c->next)
		if (c->session && !c->closing)
			ok &= session_prepare_sleep(c->session);
	return ok && !ctl->sweep;
}

void ctl_woken(struct ctl *ctl)
{
	for (struct ctl_conn *c = ctl->conns; c; c = c->next)
		if (c->session && !c->closing)
			session_woken(c->session);
}

struct stack *ctl_stack(const struct ctl *ctl)
{
	return ctl->st;
}

uint64_t ctl_uptime_ms(const struct ctl *ctl)
{
	return (stack_now(ctl->st) - ctl->started) / NSEC_PER_MSEC;
}

unsigned ctl_clients(const struct ctl *ctl)
{
	unsigned n = 0;
	for (const struct ctl_conn *c = ctl->conns; c; c = c->next)
		n += c->session != NULL;
	return n;
}
