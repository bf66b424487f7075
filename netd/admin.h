/*
 * admin.h: netd's answers to administrative requests on the control
 * socket (netdctl): status, interfaces, routes, neighbours, sockets,
 * counters and live capture. Reading is open to every local user;
 * changing (routes add/del, capture) needs uid 0 or the admin group.
 */
#ifndef NETD_ADMIN_H
#define NETD_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/netd.pb-c.h"

struct ctl;
struct session_peer;
struct sock;

/* Answers req from who, on the control connection conn_fd: *out gets a
 * packed Response (malloc'd) of *outlen bytes, or stays NULL when the
 * answer comes later: a capture answers when it ends (Ok after count
 * frames, Error if writing failed), on conn_fd. fds are what came with the
 * request (capture's file); the ones it keeps are set to -1. 0, or -errno
 * for the caller to send as an Error with strerror's text. */
int admin_answer(struct ctl *ctl, const struct session_peer *who, int conn_fd,
		 const Netd__Request *req, int *fds, int nfds, uint8_t **out, size_t *outlen);
/* The control connection conn_fd is closing: its capture ends. */
void admin_conn_closed(struct ctl *ctl, int conn_fd);

/* Who holds a socket, as netdctl shows it: the client process, or netd
 * itself (pid 0, "netd") for its built-in services; an orphan (closed by
 * its owner, finishing its connection) has pid 0 and no program. A
 * connection still in a listener's queue belongs to the listener's owner. */
struct admin_owner {
	pid_t pid;
	uid_t uid;
	const char *program;
};

void admin_sock_owner(const struct sock *sk, struct admin_owner *o);

#endif
