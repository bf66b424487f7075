/*
 * nc_bind_port.c: binds a netd TCP socket to PORT on any address and
 * prints "ok" or the errno's name (EACCES, EADDRINUSE, ...). For the
 * privileged-port test (limits.sh). Usage: nc_bind_port PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netclient.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return fprintf(stderr, "usage: nc_bind_port PORT\n"), 2;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	int fd = nc_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("socket: %s\n", strerror(errno));
		return 1;
	}
	if (nc_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		printf("ok\n");
	else
		printf("%s\n", errno == EACCES ? "EACCES" : strerror(errno));
	nc_close(fd);
	return 0;
}
