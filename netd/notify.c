/*
 * notify.c: the sd_notify protocol of notify.h by hand: one datagram on a
 * fresh AF_UNIX socket to the address in NOTIFY_SOCKET. An abstract
 * address ('@' first) has no terminating NUL: its length is exact. A
 * failure is logged; netd runs on.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* Fills sun from NOTIFY_SOCKET's value; the address length, or -errno. */
static int notify_address(const char *path, struct sockaddr_un *sun)
{
	size_t len = strlen(path);
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	if (len < 2 || len > sizeof(sun->sun_path) - (path[0] == '/'))
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
}

int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	if (!path || !path[0])
		return 0;
	int err = notify_address(path, &sun);
	int fd = err < 0 ? -1 : socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (err >= 0 && fd < 0)
		err = -errno;
	if (fd >= 0) {
		socklen_t alen = (socklen_t)err;
		err = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
			     alen) < 0 ? -errno : 0;
		close(fd);
	}
	if (err < 0)
		log_warn("cannot tell systemd %s at %s: %s", state, path, strerror(-err));
	return err;
}
