/*
 * notify.h: readiness for systemd (Type=notify) without libsystemd. When
 * systemd started netd it names a datagram socket in NOTIFY_SOCKET; netd
 * sends "READY=1" there once its control socket listens and "STOPPING=1"
 * when it begins to stop. Without NOTIFY_SOCKET nothing is sent.
 */
#ifndef NETD_NOTIFY_H
#define NETD_NOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET: a path, or an abstract
 * name when it starts with '@'. 0 when sent or when NOTIFY_SOCKET is
 * unset; -EAFNOSUPPORT for an address of another kind (vsock), -EINVAL
 * for one too long, or the send's -errno (logged). */
int notify_send(const char *state);

#endif
