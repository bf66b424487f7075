/*
 * nc_open_many.c: opens netd sockets of the given type until a call fails
 * or the count is reached, then prints "opened N errno NAME" and, after
 * closing them all, whether one more can be opened: "after-close ok" or
 * "after-close NAME". For the per-client limit test (limits.sh).
 * Usage: nc_open_many tcp|udp COUNT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netclient.h>

static const char *errname(int e)
{
	switch (e) {
	case 0: return "none";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOBUFS: return "ENOBUFS";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return fprintf(stderr, "usage: nc_open_many tcp|udp COUNT\n"), 2;
	int type = strcmp(argv[1], "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	int want = atoi(argv[2]), n = 0, err = 0;
	int *fds = calloc((size_t)want, sizeof(int));
	while (n < want) {
		int fd = nc_socket(AF_INET, type, 0);
		if (fd < 0) {
			err = errno;
			break;
		}
		fds[n++] = fd;
	}
	printf("opened %d errno %s\n", n, errname(err));
	for (int i = 0; i < n; i++)
		nc_close(fds[i]);
	free(fds);
	int fd = nc_socket(AF_INET, type, 0);
	printf("after-close %s\n", fd >= 0 ? "ok" : errname(errno));
	return 0;
}
