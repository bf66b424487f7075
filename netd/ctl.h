/*
 * ctl.h: the control plane. netd listens on a UNIX SOCK_SEQPACKET socket
 * (default /run/netd/netd.sock); each connection speaks the protobuf-c
 * protocol of proto/netd.proto: a Hello, then either Attach (a client
 * library session: a shared region and a doorbell, netd/session.h) or
 * administrative requests (netdctl). SO_PEERCRED says who is calling.
 * Hanging up ends the session and closes its sockets.
 *
 * The loop calls ctl_run() every turn to serve the sessions' command
 * rings, and ctl_prepare_sleep() before it sleeps, so that clients know to
 * ring the doorbell.
 */
#ifndef NETD_CTL_H
#define NETD_CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct stack;
struct ctl;

#define CTL_DEFAULT_SOCKET "/run/netd/netd.sock"
#define CTL_DEFAULT_MAX_SOCKETS 1024u
#define CTL_PROTOCOL_VERSION 1u

struct ctl_config {
	char path[PATH_MAX];		/* the control socket */
	unsigned client_max_sockets;	/* slots per client */
	unsigned client_ring_size;	/* bytes per direction per socket */
	gid_t admin_gid;		/* (gid_t)-1: root only */
	gid_t bind_gid;			/* may bind ports below 1024; (gid_t)-1: none */
};

void ctl_config_default(struct ctl_config *c);
/* Listens on c->path (replacing a stale socket file); NULL with *err. */
struct ctl *ctl_create(struct loop *l, struct stack *st, const struct ctl_config *c, int *err);
/* Ends every session (their sockets close as on a client's exit) and
 * removes the socket file. */
void ctl_destroy(struct ctl *ctl);
/* Serves the sessions' command rings; true if there was work. */
bool ctl_run(struct ctl *ctl);
/* netd is about to sleep: sets every session's sleeping flag. False if a
 * command arrived meanwhile (then netd must not sleep). */
bool ctl_prepare_sleep(struct ctl *ctl);
/* netd woke: clears the flags. */
void ctl_woken(struct ctl *ctl);

/* For the administrative requests (admin.c). */
struct session_peer;
struct stack *ctl_stack(const struct ctl *ctl);
unsigned ctl_clients(const struct ctl *ctl);
/* Since the control socket opened, by the stack's clock. */
uint64_t ctl_uptime_ms(const struct ctl *ctl);
/* uid 0, or a member of admin-group. */
bool ctl_peer_is_admin(const struct ctl *ctl, const struct session_peer *p);
/* Sends one packed message with fds as SCM_RIGHTS; 0 or -errno. */
int ctl_send_packed(int fd, const uint8_t *buf, size_t len, const int *fds, int nfds);

#endif
