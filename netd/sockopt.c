/*
 * sockopt.c: setsockopt and getsockopt for SOL_SOCKET and IPPROTO_IP, with
 * Linux's rules: an option value shorter than an int is EINVAL, an unknown
 * option ENOPROTOOPT (getsockopt at an unknown level EOPNOTSUPP), SO_SNDBUF
 * and SO_RCVBUF are doubled and clamped (and read back doubled), SO_ERROR
 * reads and clears the pending error, IP_TTL takes 1..255 or -1 for the
 * default.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "sock.h"
#include "stack.h"
#include "tcp.h"
#include "util.h"

static int opt_int(const void *val, socklen_t len, int *out)
{
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* Linux's sock_setsockopt: the value taken as unsigned (so -1 is huge),
 * at most max, doubled, at least min. */
static int buf_size(int v, int min, int max)
{
	unsigned u = MIN((unsigned)v, (unsigned)max);
	return (int)MAX(u * 2, (unsigned)min);
}

static int set_linger(struct sock *sk, const void *val, socklen_t len)
{
	struct linger l;
	if (len < (socklen_t)sizeof(l))
		return -EINVAL;
	memcpy(&l, val, sizeof(l));
	sk->opts.linger_on = l.l_onoff != 0;
	sk->opts.linger_secs = l.l_linger;
	return 0;
}

static int set_socket_opt(struct sock *sk, int name, const void *val, socklen_t len)
{
	int v;
	if (name == SO_LINGER)
		return set_linger(sk, val, len);
	int err = opt_int(val, len, &v);
	if (err)
		return err;
	switch (name) {
	case SO_REUSEADDR: sk->opts.reuseaddr = v != 0; return 0;
	case SO_REUSEPORT: sk->opts.reuseport = v != 0; return 0;
	case SO_BROADCAST: sk->opts.broadcast = v != 0; return 0;
	case SO_KEEPALIVE:
		sk->opts.keepalive = v != 0;
		if (sk->tcp)
			tcp_reset_keepalive(sk->tcp);
		return 0;
	case SO_SNDBUF:
		sk->opts.sndbuf = buf_size(v, SOCK_MIN_SNDBUF, SOCK_WMEM_MAX);
		sk->opts.sndbuf_locked = true;
		return 0;
	case SO_RCVBUF: sk->opts.rcvbuf = buf_size(v, SOCK_MIN_RCVBUF, SOCK_RMEM_MAX); return 0;
	case SO_RCVLOWAT: sk->opts.rcvlowat = v ? MAX(v, 1) : 1; return 0;
	case SO_OOBINLINE: sk->opts.oobinline = v != 0; return 0;
	default: return -ENOPROTOOPT;	/* SO_SNDLOWAT too: Linux cannot set it */
	}
}

static int set_ip_opt(struct sock *sk, int name, const void *val, socklen_t len)
{
	int v;
	int err = opt_int(val, len, &v);
	if (err)
		return err;
	switch (name) {
	case IP_TOS:
		sk->opts.tos = (uint8_t)v;
		return 0;
	case IP_TTL:
		if (v != -1 && (v < 1 || v > 255))
			return -EINVAL;
		sk->opts.ttl = v == -1 ? 0 : (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int sock_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	if (!val && len)
		return -EFAULT;
	switch (level) {
	case SOL_SOCKET: return set_socket_opt(sk, name, val, len);
	case IPPROTO_IP: return set_ip_opt(sk, name, val, len);
	case IPPROTO_TCP: return sk->tcp ? tcp_setsockopt(sk, name, val, len) : -ENOPROTOOPT;
	default: return -ENOPROTOOPT;
	}
}

/* Linux copies min(len, sizeof(int)) bytes of an int option and reports that length. */
static int put_int(void *val, socklen_t *len, int v)
{
	socklen_t n = MIN(*len, (socklen_t)sizeof(int));
	memcpy(val, &v, (size_t)n);
	*len = n;
	return 0;
}

static int get_linger(const struct sock *sk, void *val, socklen_t *len)
{
	struct linger l = {.l_onoff = sk->opts.linger_on, .l_linger = sk->opts.linger_secs};
	socklen_t n = MIN(*len, (socklen_t)sizeof(l));
	memcpy(val, &l, (size_t)n);
	*len = n;
	return 0;
}

static int get_socket_opt(struct sock *sk, int name, void *val, socklen_t *len)
{
	int err;
	switch (name) {
	case SO_REUSEADDR: return put_int(val, len, sk->opts.reuseaddr);
	case SO_REUSEPORT: return put_int(val, len, sk->opts.reuseport);
	case SO_BROADCAST: return put_int(val, len, sk->opts.broadcast);
	case SO_KEEPALIVE: return put_int(val, len, sk->opts.keepalive);
	case SO_SNDBUF: return put_int(val, len, sk->opts.sndbuf);
	case SO_RCVBUF: return put_int(val, len, sk->opts.rcvbuf);
	case SO_RCVLOWAT: return put_int(val, len, sk->opts.rcvlowat);
	case SO_SNDLOWAT: return put_int(val, len, 1);	/* Linux: always 1 */
	case SO_OOBINLINE: return put_int(val, len, sk->opts.oobinline);
	case SO_TYPE: return put_int(val, len, sk->type);
	case SO_PROTOCOL: return put_int(val, len, sk->protocol);
	case SO_DOMAIN: return put_int(val, len, AF_INET);
	case SO_ACCEPTCONN: return put_int(val, len, sk->tcp && sk->tcp->state == TCP_LISTEN);
	case SO_LINGER: return get_linger(sk, val, len);
	case SO_ERROR:
		err = sk->err;
		sk->err = 0;
		return put_int(val, len, err);
	default: return -ENOPROTOOPT;
	}
}

static int get_ip_opt(struct sock *sk, int name, void *val, socklen_t *len)
{
	switch (name) {
	case IP_TOS: return put_int(val, len, sk->opts.tos);
	case IP_TTL: return put_int(val, len, sk->opts.ttl ? sk->opts.ttl : sk->st->params.default_ttl);
	default: return -ENOPROTOOPT;
	}
}

/* A level the protocol does not know goes on to ip_getsockopt, which
 * says EOPNOTSUPP for any level but IPPROTO_IP (setsockopt's
 * ip_setsockopt says ENOPROTOOPT). UDP's own level (udp_lib_getsockopt)
 * has no option here. */
int sock_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	switch (level) {
	case SOL_SOCKET: return get_socket_opt(sk, name, val, len);
	case IPPROTO_IP: return get_ip_opt(sk, name, val, len);
	case IPPROTO_TCP: return sk->tcp ? tcp_getsockopt(sk, name, val, len) : -EOPNOTSUPP;
	case IPPROTO_UDP: return sk->tcp ? -EOPNOTSUPP : -ENOPROTOOPT;
	default: return -EOPNOTSUPP;
	}
}
