/*
 * session.h: a client library session. Each client process that attaches
 * gets its own shared region (proto/shm.h) and doorbell eventfd; its
 * sockets are netd sockets owned by the session, one per slot of the
 * region. netd serves the command ring every loop turn, moves bytes and
 * datagrams between the slots' rings and the sockets, publishes each
 * socket's events in its slot and writes the slot's eventfd when the
 * client asked to be woken.
 *
 * Everything read from the region is copied out once and checked before
 * use. A client that breaks the ring protocol (an index out of range, a
 * datagram header that does not fit) has its session ended; it cannot
 * reach netd's memory or other clients.
 */
#ifndef NETD_SESSION_H
#define NETD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl_config;
struct loop;
struct sock;
struct stack;
struct session;

struct session_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool bind_privileged;	/* uid 0, CAP_NET_BIND_SERVICE or bind-group */
	bool admin;		/* uid 0 or admin-group */
	char program[64];
};

/* The ctl side of a session: how the session pulls pending control
 * messages (slot registrations) when a command names a slot it has not
 * seen yet, and how it reports that the client broke the protocol. */
struct session_hooks {
	void (*pull_messages)(void *arg);
	void (*broken)(void *arg, const char *why);
	void *arg;
};

/* Creates the region (a sealed memfd) and the doorbell. NULL with *err. */
struct session *session_create(struct stack *st, struct loop *l, const struct ctl_config *cfg,
			       const struct session_peer *peer, const struct session_hooks *hooks,
			       int *err);
/* The fds to hand to the client (the session keeps its own). */
int session_memfd(const struct session *s);
int session_doorbell(const struct session *s);
uint64_t session_region_size(const struct session *s);
unsigned session_max_slots(const struct session *s);
/* Takes efd as the eventfd of slot (replacing one registered earlier for a
 * slot that was never opened); -EINVAL (and efd closed) for a slot out of
 * range or with an open socket. */
int session_register_slot(struct session *s, uint32_t slot, int efd);
/* Serves the command ring; true if there was work. */
bool session_run(struct session *s);
/* Sets the region's sleeping flag; false if commands wait already. */
bool session_prepare_sleep(struct session *s);
void session_woken(struct session *s);
/* Closes every socket as Linux closes a dead process's sockets (FIN, or
 * RST where unread data remains) and frees the session; its memory goes
 * once the loop has stopped polling the doorbell. */
void session_destroy(struct session *s);
/* The owner of a client's socket, or NULL for netd's own sockets. */
const struct session_peer *session_sock_owner(const struct sock *sk);
unsigned session_socket_count(const struct session *s);

#endif
