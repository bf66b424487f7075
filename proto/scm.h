/*
 * scm.h: descriptors beside control-socket messages (SCM_RIGHTS), written
 * once for netd's control socket and libnetclient's session alike.
 * scm_attach points a message's control part at a buffer carrying fds;
 * scm_take gives back the descriptors that came with a received message,
 * closing any beyond what the caller can hold, so none ever leaks.
 */
#ifndef NETD_PROTO_SCM_H
#define NETD_PROTO_SCM_H

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCM_FDS_MAX 64

union scm_buf {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * SCM_FDS_MAX)];
};

/* Makes m carry nfds descriptors (none when nfds is 0) in u. */
static inline void scm_attach(struct msghdr *m, union scm_buf *u, const int *fds, int nfds)
{
	if (nfds <= 0)
		return;
	memset(u, 0, sizeof(*u));
	m->msg_control = u->buf;
	m->msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
}

/* The descriptors received with m, at most max of them into fds (the rest
 * are closed); how many. */
static inline int scm_take(struct msghdr *m, int *fds, int max)
{
	int n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + (size_t)i * sizeof(int), sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

#endif
