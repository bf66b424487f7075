/*
 * fuzz_ctl.c: the libFuzzer target for the control socket. One netd
 * control plane (a stack with one in-memory interface, its loop and a
 * control socket in a directory of its own) serves every input; each input
 * is one client connection that sends what the input says and hangs up.
 *
 * An input is a flags byte, then records:
 *   flags bit 0  a valid Hello goes first (else the records meet the
 *                "Hello first" rule); bit 1  then a valid Attach, so the
 *                records reach a live session (slot registrations).
 *   record       a 16-bit length, that many bytes sent as one message,
 *                then a byte whose low two bits say how many eventfds go
 *                with it (SCM_RIGHTS).
 * After each message the loop turns until netd has nothing left to do;
 * answers and the descriptors they carry are read and closed. After the
 * hang-up, netd must be back where it started: no client, no socket, no
 * descriptor more than before. Anything else aborts, as a crash would.
 *
 * LLVMFuzzerTestOneInput() is also what replay_main.c calls to replay
 * the corpus (tests/fuzz/corpus_ctl) in every build.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../drivers/netdev.h"
#include "netd/ctl.h"
#include "netd/log.h"
#include "netd/loop.h"
#include "netd/stack.h"
#include "proto/netd.pb-c.h"
#include "proto/scm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stack *st;
static struct loop loop;
static struct ctl *ctl;
static char sock_path[108];
static int baseline_fds;

/* The kinds of descriptor the control plane makes and takes: sockets,
 * eventfds, the regions' memfds. (libFuzzer and the leak checker open
 * pipes of their own now and then.) */
static bool ours(const char *target)
{
	return strncmp(target, "socket:", 7) == 0 || strstr(target, "eventfd") ||
	       strstr(target, "memfd:");
}

static int count_fds(void)
{
	char path[300], target[256];
	struct dirent *e;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		abort();
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		n += ours(target);
	}
	closedir(d);
	return n;
}

static void setup(void)
{
	struct stack_params p;
	struct ctl_config cfg;
	struct netdev *a, *b;
	int err;
	char dir[] = "/tmp/netd-fuzz-ctl.XXXXXX";
	sigset_t mask;

	log_init(1, LOG_LVL_ERR);	/* sessions coming and going are no news here */
	stack_params_default(&p);
	p.seed = 1;
	p.pool_small = 512;
	p.pool_medium = 16;
	p.pool_large = 8;
	if (!(st = stack_create(&p, true, &err)) || loop_init(&loop, st) < 0)
		abort();
	sigfillset(&mask);	/* loop_init took the stop signals: give them back */
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	struct netdev_env env;
	stack_dev_env(st, &env, &loop.ring);
	if (mem_pair_open(&env, &env, &a, &b) < 0)
		abort();
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 2};
	struct netif *nif = netif_add(st, a, mac, 1500);
	if (!nif || netif_add_addr(nif, 0x0a000002, 24) < 0)
		abort();
	if (!mkdtemp(dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/netd.sock", dir);
	ctl_config_default(&cfg);
	snprintf(cfg.path, sizeof(cfg.path), "%s", sock_path);
	cfg.client_max_sockets = 4;
	cfg.client_ring_size = 16384;
	if (!(ctl = ctl_create(&loop, st, &cfg, &err)))
		abort();
	loop.ctl = ctl;
	baseline_fds = count_fds();
}

/* Turns the loop until netd is idle and every connection it let go of
 * has had its last callback (the kernel completes poll removals a little
 * later). */
static void settle(void)
{
	for (int i = 0; i < 8 || (loop.unwatching && i < 100000); i++)
		if (loop_turn(&loop) < 0)
			abort();
}

/* Reads and drops every answer, closing the descriptors that come along. */
static void drain(int fd)
{
	uint8_t buf[65536];
	int fds[SCM_FDS_MAX];
	union scm_buf u;
	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				   .msg_controllen = sizeof(u.buf)};
		if (recvmsg(fd, &m, MSG_DONTWAIT) <= 0)
			return;
		for (int i = scm_take(&m, fds, SCM_FDS_MAX); i > 0; i--)
			close(fds[i - 1]);
	}
}

static void send_msg(int fd, const void *msg, size_t len, int nfds)
{
	union scm_buf u;
	int fds[3];
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	for (int i = 0; i < nfds; i++)
		fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	scm_attach(&m, &u, fds, nfds);
	sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	settle();
	drain(fd);
}

static void send_request(int fd, const Netd__Request *req)
{
	uint8_t buf[256];
	size_t len = netd__request__pack(req, buf);
	send_msg(fd, buf, len, 0);
}

static void preamble(int fd, uint8_t flags)
{
	Netd__Request req = NETD__REQUEST__INIT;
	Netd__Hello hello = NETD__HELLO__INIT;
	Netd__Attach attach = NETD__ATTACH__INIT;
	if (flags & 1) {
		hello.version_min = hello.version_max = 1;
		req.body_case = NETD__REQUEST__BODY_HELLO;
		req.hello = &hello;
		send_request(fd, &req);
	}
	if (flags & 2) {
		req.body_case = NETD__REQUEST__BODY_ATTACH;
		req.attach = &attach;
		send_request(fd, &req);
	}
}

static int connect_client(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(sun.sun_path, sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		abort();
	settle();
	return fd;
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[256];
	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "fuzz_ctl:   fd %s -> %s\n", e->d_name, target);
	}
	if (d)
		closedir(d);
}

static void check_clean(void)
{
	if (ctl_clients(ctl) != 0 || st->socks.used != 0 || count_fds() != baseline_fds) {
		fprintf(stderr, "fuzz_ctl: left behind: %u clients, %u sockets, %d fds (was %d)\n",
			ctl_clients(ctl), st->socks.used, count_fds(), baseline_fds);
		list_fds();
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!st)
		setup();
	if (size < 1)
		return 0;
	int fd = connect_client();
	preamble(fd, data[0]);
	for (size_t at = 1; at + 3 <= size;) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];
		at += 2;
		len = len < size - at ? len : size - at;
		int nfds = at + len < size ? data[at + len] & 3 : 0;
		send_msg(fd, data + at, len, nfds);
		at += len + 1;
	}
	close(fd);
	settle();
	check_clean();
	return 0;
}
