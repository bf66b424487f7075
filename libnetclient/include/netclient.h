/*
 * netclient.h: the socket API of libnetclient. A program calls nc_socket()
 * and the other nc_* functions as it would socket(2) and its companions;
 * the sockets live in netd, the user-space TCP/IP stack daemon, and data
 * moves through memory shared with it. Each netd socket is a real file
 * descriptor of the process (an eventfd that becomes readable when the
 * socket has something to report), so descriptor numbers never collide
 * with the kernel's and a plain poll(2) or epoll(7) can wait on it.
 *
 * Every call returns what the system call of the same name returns and
 * sets errno as Linux does in the same situation. Given a descriptor that
 * is not a netd socket, a call hands it to the kernel's call of the same
 * name, so a program may use nc_* for all its descriptors.
 *
 * The first nc_socket() connects to netd's control socket:
 * /run/netd/netd.sock, or the path in the environment variable
 * NETD_SOCKET. NETD_DEBUG=1 makes the library say on stderr why a session
 * could not be set up. All calls are thread-safe.
 *
 * See libnetclient(3) and the page of each call.
 */
#ifndef NETCLIENT_H
#define NETCLIENT_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NC_DEFAULT_SOCKET "/run/netd/netd.sock"

int nc_socket(int domain, int type, int protocol);
int nc_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int nc_listen(int fd, int backlog);
int nc_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int nc_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int nc_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);

ssize_t nc_send(int fd, const void *buf, size_t len, int flags);
ssize_t nc_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *dest, socklen_t destlen);
ssize_t nc_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t nc_recv(int fd, void *buf, size_t len, int flags);
ssize_t nc_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *src, socklen_t *srclen);
ssize_t nc_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t nc_read(int fd, void *buf, size_t len);
ssize_t nc_write(int fd, const void *buf, size_t len);
ssize_t nc_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t nc_writev(int fd, const struct iovec *iov, int iovcnt);

int nc_shutdown(int fd, int how);
int nc_close(int fd);

int nc_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int nc_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int nc_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int nc_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD (FD_CLOEXEC). */
int nc_fcntl(int fd, int cmd, ...);
/* FIONREAD (SIOCINQ), FIONBIO, SIOCOUTQ. */
int nc_ioctl(int fd, unsigned long request, ...);

/* poll(2) over netd sockets and kernel descriptors together. */
int nc_poll(struct pollfd *fds, nfds_t nfds, int timeout);

/* Beyond POSIX. */

/* 1 if fd is a netd socket of this process, else 0. */
int nc_is_socket(int fd);
/* The epoll events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR)
 * that hold for the netd socket fd now, as epoll would report them. */
int nc_socket_events(int fd, uint32_t *events);

#ifdef __cplusplus
}
#endif

#endif
