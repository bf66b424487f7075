/*
 * echo-client.c: copies standard input to a TCP connection and the
 * connection to standard output, on libnetclient, with one nc_poll over
 * the kernel's stdin and the netd socket. At the end of input it shuts
 * down its sending side and keeps reading until the server closes.
 * Usage: echo-client HOST PORT (HOST an IPv4 address)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netclient.h>

#define BUF_SIZE 65536

static int connect_to(const char *host, const char *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "echo-client: %s: not an IPv4 address\n", host);
		return -1;
	}
	int fd = nc_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || nc_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("echo-client: connect");
		return -1;
	}
	return fd;
}

/* Input read but not yet sent. */
static char pending[BUF_SIZE];
static size_t pending_len, pending_off;

/* stdin -> pending; 0 at the end of input (then the sending side shuts). */
static int read_input(int sock)
{
	ssize_t n = read(STDIN_FILENO, pending, sizeof(pending));
	if (n <= 0) {
		nc_shutdown(sock, SHUT_WR);
		return 0;
	}
	pending_len = (size_t)n;
	pending_off = 0;
	return 1;
}

/* pending -> socket, as much as it takes without waiting. */
static int send_pending(int sock)
{
	ssize_t n = nc_send(sock, pending + pending_off, pending_len - pending_off, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	pending_off += (size_t)n;
	if (pending_off == pending_len)
		pending_len = pending_off = 0;
	return 0;
}

/* One step of socket -> stdout; 0 when the server has closed. */
static int copy_out(int sock)
{
	static char buf[BUF_SIZE];
	ssize_t n = nc_recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t k = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
		if (k < 0)
			return -1;
		off += k;
	}
	return 1;
}

/* Reading from the server never waits for sending to it, or a large
 * input would fill both directions and stop both ends. */
static int run(int sock)
{
	int input_open = 1;
	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = sock, .events = POLLIN | (pending_len ? POLLOUT : 0)},
			{.fd = input_open && !pending_len ? STDIN_FILENO : -1, .events = POLLIN},
		};
		if (nc_poll(pfd, 2, -1) < 0)
			return errno == EINTR ? 0 : -1;
		if (pfd[1].revents && (input_open = read_input(sock)) < 0)
			return -1;
		if ((pfd[0].revents & POLLOUT) && send_pending(sock) < 0)
			return -1;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int r = copy_out(sock);
			if (r <= 0)
				return r;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: echo-client HOST PORT\n");
		return 2;
	}
	int sock = connect_to(argv[1], argv[2]);
	if (sock < 0)
		return 1;
	if (run(sock) < 0) {
		perror("echo-client");
		return 1;
	}
	nc_close(sock);
	return 0;
}
