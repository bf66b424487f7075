/*
 * preload.c: the LD_PRELOAD shim, libnetd-preload.so. It exports the
 * socket calls under their libc names, so an unmodified program's AF_INET
 * sockets live in netd: each export hands over to the nc_* call of the
 * same name, which takes netd's sockets and passes every other descriptor
 * to libc (kernel.c). The fortified variants (__read_chk and the like)
 * that programs built with _FORTIFY_SOURCE call instead are exported too.
 *
 * When netd cannot be reached, socket() falls back to the kernel (set
 * NETD_STRICT=1 to have it fail instead), so a program keeps working.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "libnetclient/include/netclient.h"
#include "libnetclient/nc-internal.h"

#define EXPORT __attribute__((visibility("default")))

static bool strict(void)
{
	const char *v = getenv("NETD_STRICT");
	return v && *v && strcmp(v, "0") != 0;
}

EXPORT int socket(int domain, int type, int protocol)
{
	int fd = nc_socket(domain, type, protocol);
	if (fd >= 0 || domain != AF_INET || strict())
		return fd;
	if (errno != ENOENT && errno != ECONNREFUSED && errno != ENETDOWN)
		return fd;
	return nc__k.socket(domain, type, protocol);	/* no netd: the kernel's */
}

EXPORT int bind(int fd, const struct sockaddr *a, socklen_t l) { return nc_bind(fd, a, l); }
EXPORT int listen(int fd, int backlog) { return nc_listen(fd, backlog); }
EXPORT int accept(int fd, struct sockaddr *a, socklen_t *l) { return nc_accept(fd, a, l); }
EXPORT int accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
	return nc_accept4(fd, a, l, flags);
}
EXPORT int connect(int fd, const struct sockaddr *a, socklen_t l) { return nc_connect(fd, a, l); }
EXPORT int shutdown(int fd, int how) { return nc_shutdown(fd, how); }
EXPORT int close(int fd) { return nc_close(fd); }

EXPORT ssize_t send(int fd, const void *b, size_t n, int f) { return nc_send(fd, b, n, f); }
EXPORT ssize_t sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
		      socklen_t l)
{
	return nc_sendto(fd, b, n, f, a, l);
}
EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int f) { return nc_sendmsg(fd, m, f); }
EXPORT ssize_t recv(int fd, void *b, size_t n, int f) { return nc_recv(fd, b, n, f); }
EXPORT ssize_t recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
	return nc_recvfrom(fd, b, n, f, a, l);
}
EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int f) { return nc_recvmsg(fd, m, f); }
EXPORT ssize_t read(int fd, void *b, size_t n) { return nc_read(fd, b, n); }
EXPORT ssize_t write(int fd, const void *b, size_t n) { return nc_write(fd, b, n); }
EXPORT ssize_t readv(int fd, const struct iovec *v, int n) { return nc_readv(fd, v, n); }
EXPORT ssize_t writev(int fd, const struct iovec *v, int n) { return nc_writev(fd, v, n); }

EXPORT int setsockopt(int fd, int level, int name, const void *v, socklen_t l)
{
	return nc_setsockopt(fd, level, name, v, l);
}
EXPORT int getsockopt(int fd, int level, int name, void *v, socklen_t *l)
{
	return nc_getsockopt(fd, level, name, v, l);
}
EXPORT int getsockname(int fd, struct sockaddr *a, socklen_t *l) { return nc_getsockname(fd, a, l); }
EXPORT int getpeername(int fd, struct sockaddr *a, socklen_t *l) { return nc_getpeername(fd, a, l); }

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return nc_fcntl(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return nc_ioctl(fd, req, arg);
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) { return nc_poll(fds, n, timeout); }

/* _FORTIFY_SOURCE's variants: the buffer checks, then the same calls. */
ssize_t __read_chk(int fd, void *b, size_t n, size_t blen);
ssize_t __recv_chk(int fd, void *b, size_t n, size_t blen, int f);
ssize_t __recvfrom_chk(int fd, void *b, size_t n, size_t blen, int f, struct sockaddr *a,
		       socklen_t *l);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t flen);

EXPORT ssize_t __read_chk(int fd, void *b, size_t n, size_t blen)
{
	if (n > blen)
		abort();
	return nc_read(fd, b, n);
}
EXPORT ssize_t __recv_chk(int fd, void *b, size_t n, size_t blen, int f)
{
	if (n > blen)
		abort();
	return nc_recv(fd, b, n, f);
}
EXPORT ssize_t __recvfrom_chk(int fd, void *b, size_t n, size_t blen, int f, struct sockaddr *a,
			      socklen_t *l)
{
	if (n > blen)
		abort();
	return nc_recvfrom(fd, b, n, f, a, l);
}
EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t flen)
{
	if (flen / sizeof(*fds) < n)
		abort();
	return nc_poll(fds, n, timeout);
}
