/*
 * netbench.c: the load generator of the benchmarks, so that netd and the
 * kernel are measured with the same program:
 *
 *   netbench rr [-u] [-n count] [-s size] host port
 *       request/response: send size bytes, wait for size bytes back, count
 *       times; prints the p50 and p99 round trip in microseconds.
 *   netbench bulk [-b bytes] host port
 *       writes bytes to a TCP connection; prints Gbit/s.
 *   netbench serve echo|discard|hold port
 *       a TCP server (one connection at a time) and, for echo, a UDP
 *       echo on the same port: the kernel's side of the comparison. hold
 *       accepts every connection and keeps it open, idle.
 *   netbench hold -n count host port
 *       opens count TCP connections, says "held count" and keeps them
 *       open until its standard input ends: memory per idle connection.
 *
 * Built twice: netbench on the kernel's sockets, and netbench-nc
 * (NETBENCH_NC) on libnetclient's, every socket call going to netd.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef NETBENCH_NC
#include <netclient.h>
#define socket nc_socket
#define setsockopt nc_setsockopt
#define connect nc_connect
#define bind nc_bind
#define listen nc_listen
#define accept nc_accept
#define read nc_read
#define write nc_write
#define recvfrom nc_recvfrom
#define sendto nc_sendto
#define shutdown nc_shutdown
#define close nc_close
#define poll nc_poll
#endif

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int connect_to(const char *host, int port, int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1;
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		die("address");
	int fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket");
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	return fd;
}

static int read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run_rr(int argc, char **argv)
{
	int type = SOCK_STREAM, count = 10000, size = 64, ch;
	while ((ch = getopt(argc, argv, "un:s:")) != -1) {
		if (ch == 'u')
			type = SOCK_DGRAM;
		else if (ch == 'n')
			count = atoi(optarg);
		else if (ch == 's')
			size = atoi(optarg);
	}
	if (argc - optind != 2 || count <= 0 || size <= 0 || size > 65000)
		return fprintf(stderr, "usage: netbench rr [-u] [-n count] [-s size] host port\n"), 2;
	int fd = connect_to(argv[optind], atoi(argv[optind + 1]), type);
	char *buf = calloc(1, (size_t)size);
	double *t = calloc((size_t)count, sizeof(double));
	for (int i = 0; i < count; i++) {
		double start = now_us();
		if (write(fd, buf, (size_t)size) != size)
			die("write");
		if (type == SOCK_DGRAM ? read(fd, buf, (size_t)size) != size :
					 read_full(fd, buf, (size_t)size) < 0)
			die("read");
		t[i] = now_us() - start;
	}
	qsort(t, (size_t)count, sizeof(double), cmp_double);
	printf("p50_us %.1f p99_us %.1f count %d\n", t[count / 2], t[count * 99 / 100], count);
	return 0;
}

static int run_bulk(int argc, char **argv)
{
	long long bytes = 1LL << 30;
	int ch;
	while ((ch = getopt(argc, argv, "b:")) != -1)
		if (ch == 'b')
			bytes = atoll(optarg);
	if (argc - optind != 2 || bytes <= 0)
		return fprintf(stderr, "usage: netbench bulk [-b bytes] host port\n"), 2;
	int fd = connect_to(argv[optind], atoi(argv[optind + 1]), SOCK_STREAM);
	static char buf[1 << 17];
	double start = now_us();
	for (long long left = bytes; left > 0;) {
		ssize_t n = write(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0)
			die("write");
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)	/* the server closes when all is read */
		;
	double secs = (now_us() - start) / 1e6;
	printf("gbit_s %.3f bytes %lld seconds %.3f\n", bytes * 8 / secs / 1e9, bytes, secs);
	return 0;
}

static void serve_stream(int fd, int echo)
{
	static char buf[1 << 17];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (echo && write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
}

static int run_hold(int argc, char **argv)
{
	int count = 100, ch;
	char c;
	while ((ch = getopt(argc, argv, "n:")) != -1)
		if (ch == 'n')
			count = atoi(optarg);
	if (argc - optind != 2 || count <= 0)
		return fprintf(stderr, "usage: netbench hold -n count host port\n"), 2;
	for (int i = 0; i < count; i++)
		connect_to(argv[optind], atoi(argv[optind + 1]), SOCK_STREAM);
	printf("held %d\n", count);
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	return 0;
}

/* Accepts every connection and keeps it, idle. */
static int serve_hold(int l)
{
	while (accept(l, NULL, NULL) >= 0 || errno == EINTR || errno == ECONNABORTED)
		;
	die("accept");
	return 1;
}

static int run_serve(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[2], "echo") && strcmp(argv[2], "discard") &&
			  strcmp(argv[2], "hold")))
		return fprintf(stderr, "usage: netbench serve echo|discard|hold port\n"), 2;
	int echo = strcmp(argv[2], "echo") == 0, one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	int l = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0 ||
	    bind(u, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	if (strcmp(argv[2], "hold") == 0)
		return serve_hold(l);
	struct pollfd p[2] = {{.fd = l, .events = POLLIN}, {.fd = u, .events = POLLIN}};
	static char buf[65536];
	for (;;) {
		if (poll(p, 2, -1) < 0)
			die("poll");
		if (p[0].revents & POLLIN) {
			int c = accept(l, NULL, NULL);
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			serve_stream(c, echo);
		}
		if (p[1].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n >= 0 && echo)
				sendto(u, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rr") == 0)
		return run_rr(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "bulk") == 0)
		return run_bulk(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "hold") == 0)
		return run_hold(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return run_serve(argc, argv);
	fprintf(stderr, "usage: netbench rr|bulk|hold|serve ...\n");
	return 2;
}
