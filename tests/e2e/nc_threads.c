/*
 * nc_threads.c: libnetclient from several threads at once, against a
 * kernel echo server at HOST PORT that answers each line and keeps
 * quiet otherwise. Prints one line per step, "ok STEP" or "fail STEP: why";
 * threads.sh checks them.
 *   1. a thread blocks in nc_recv on connection A (nothing is sent there);
 *      meanwhile the main thread does 200 round trips on connection B:
 *      a blocked call never blocks other sockets;
 *   2. the main thread closes A while the other thread is still blocked in
 *      it; as on Linux the call goes on, and ends when the other side
 *      speaks (the echo of a line sent before the close, delayed by the
 *      server): nothing is freed under the blocked thread;
 *   3. four threads share connection C, each sending and receiving 100
 *      fixed-size messages under its own lock-step, in parallel.
 * Usage: nc_threads HOST PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netclient.h>

static const char *host;
static int port;

static int connect_one(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, host, &sin.sin_addr);
	int fd = nc_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || nc_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("fail connect: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static int round_trip(int fd, const char *msg, size_t len)
{
	char buf[256];
	size_t got = 0;
	if (nc_send(fd, msg, len, 0) != (ssize_t)len)
		return -1;
	while (got < len) {
		ssize_t n = nc_recv(fd, buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return memcmp(buf, msg, len) == 0 ? 0 : -1;
}

struct blocked {
	int fd;
	volatile int done;
	ssize_t n;
	char buf[64];
};

static void *blocked_recv(void *arg)
{
	struct blocked *b = arg;
	b->n = nc_recv(b->fd, b->buf, sizeof(b->buf), 0);
	b->done = 1;
	return NULL;
}

static void step_blocked_and_close(void)
{
	struct blocked b = {.fd = connect_one()};
	pthread_t t;
	pthread_create(&t, NULL, blocked_recv, &b);
	usleep(200000);
	int c = connect_one(), i;
	for (i = 0; i < 200 && round_trip(c, "ping\n", 5) == 0; i++)
		;
	printf(i == 200 && !b.done ? "ok others-proceed\n" : "fail others-proceed: %d trips\n", i);
	nc_close(c);
	/* "slow\n" makes the server answer after a second: the thread is still
	 * blocked when the descriptor is closed under it */
	nc_send(b.fd, "slow\n", 5, 0);
	usleep(100000);
	nc_close(b.fd);
	pthread_join(t, NULL);
	printf(b.n == 5 && memcmp(b.buf, "slow\n", 5) == 0 ? "ok close-under-blocked\n"
							    : "fail close-under-blocked: %zd\n", b.n);
}

struct shared {
	int fd;
	pthread_mutex_t *lock;
	int id, ok;
};

static void *share(void *arg)
{
	struct shared *sh = arg;
	char msg[16];
	snprintf(msg, sizeof(msg), "thread-%d-msg\n", sh->id);
	sh->ok = 1;
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(sh->lock);	/* a request and its answer together */
		if (round_trip(sh->fd, msg, strlen(msg)) < 0)
			sh->ok = 0;
		pthread_mutex_unlock(sh->lock);
	}
	return NULL;
}

static void step_shared(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct shared sh[4];
	pthread_t t[4];
	int fd = connect_one(), ok = 1;
	for (int i = 0; i < 4; i++) {
		sh[i] = (struct shared){.fd = fd, .lock = &lock, .id = i};
		pthread_create(&t[i], NULL, share, &sh[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok &= sh[i].ok;
	}
	printf(ok ? "ok shared-socket\n" : "fail shared-socket\n");
	nc_close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: nc_threads HOST PORT\n"), 2;
	host = argv[1];
	port = atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	step_blocked_and_close();
	step_shared();
	return 0;
}
