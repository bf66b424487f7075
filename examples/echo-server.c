/*
 * echo-server.c: a TCP echo server on libnetclient. Serves every client at
 * once from one nc_poll loop: what a client sends comes back to it; when
 * it closes its side, the server closes the connection once everything
 * has been echoed. Usage: echo-server PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netclient.h>

#define MAX_CLIENTS 256
#define BUF_SIZE 65536

struct client {
	int fd;
	char buf[BUF_SIZE];
	size_t len;		/* bytes read, not yet echoed */
	size_t off;		/* of them, bytes echoed */
	int eof;
};

static struct client clients[MAX_CLIENTS];
static int nclients;

static int listen_on(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = nc_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (nc_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    nc_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || nc_listen(fd, 128) < 0) {
		nc_close(fd);
		return -1;
	}
	return fd;
}

static void drop_client(int i)
{
	nc_close(clients[i].fd);
	clients[i] = clients[--nclients];
}

/* Reads when the buffer is empty, writes while it is not. 0 when done. */
static int serve(struct client *c, short revents)
{
	if (c->off < c->len) {
		ssize_t n = nc_send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 1 : 0;
		c->off += (size_t)n;
		return 1;
	}
	if (c->eof)
		return 0;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 1;
	ssize_t n = nc_recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 1 : 0;
	c->len = (size_t)n;
	c->off = 0;
	c->eof = n == 0;
	return 1;
}

static void accept_client(int lfd)
{
	int fd = nc_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (nclients == MAX_CLIENTS) {
		nc_close(fd);
		return;
	}
	clients[nclients++] = (struct client){.fd = fd};
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_CLIENTS + 1];
	if (argc != 2) {
		fprintf(stderr, "usage: echo-server PORT\n");
		return 2;
	}
	int lfd = listen_on(atoi(argv[1]));
	if (lfd < 0) {
		perror("echo-server: listen");
		return 1;
	}
	for (;;) {
		pfd[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < nclients; i++) {
			struct client *c = &clients[i];
			pfd[i + 1] = (struct pollfd){.fd = c->fd,
						     .events = c->off < c->len ? POLLOUT : POLLIN};
		}
		int n = nclients;
		if (nc_poll(pfd, (nfds_t)n + 1, -1) < 0 && errno != EINTR) {
			perror("echo-server: poll");
			return 1;
		}
		for (int i = n - 1; i >= 0; i--)
			if (pfd[i + 1].revents && !serve(&clients[i], pfd[i + 1].revents))
				drop_client(i);
		if (pfd[0].revents & POLLIN)
			accept_client(lfd);
	}
}
