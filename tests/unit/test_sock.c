/*
 * test_sock.c: the socket layer's contract with its callers: each call
 * fails with the errno Linux gives in the same situation. Bind rules
 * (SO_REUSEADDR, SO_REUSEPORT, privileged ports, ephemeral range),
 * options and their read-back, names, shutdown, and the pool limit.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <linux/tcp.h>
#include <stdlib.h>

#include "tests/harness.h"

static struct harness h;

static void setup(void)
{
	harness_init(&h);
}

static void teardown(void)
{
	harness_teardown(&h);
}

static struct sock *udp(uid_t uid)
{
	struct sock *sk;
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, uid, &sk), 0);
	return sk;
}

static int bind_to(struct sock *sk, uint32_t addr, uint16_t port)
{
	struct sock_addr a = {.addr = addr, .port = port};
	return sock_bind(sk, &a);
}

static void set_int(struct sock *sk, int level, int name, int v)
{
	ck_assert_int_eq(sock_setsockopt(sk, level, name, &v, sizeof(v)), 0);
}

static int get_int(struct sock *sk, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	ck_assert_int_eq(sock_getsockopt(sk, level, name, &v, &len), 0);
	ck_assert_uint_eq(len, sizeof(v));
	return v;
}

START_TEST(create_checks_type_and_protocol)
{
	struct sock *sk;
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, IPPROTO_TCP, 0, &sk), -EPROTONOSUPPORT);
	ck_assert_int_eq(sock_create(h.st, SOCK_SEQPACKET, 0, 0, &sk), -ESOCKTNOSUPPORT);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, IPPROTO_UDP, 0, &sk), 0);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_DOMAIN), AF_INET);
	sock_close(sk);
}
END_TEST

START_TEST(bind_same_port_conflicts_unless_reuse)
{
	struct sock *a = udp(1000), *b = udp(1000), *c = udp(2000);
	ck_assert_int_eq(bind_to(a, 0, 5000), 0);
	ck_assert_int_eq(bind_to(b, H_OUR_IP, 5000), -EADDRINUSE);	/* wildcard overlaps */
	ck_assert_int_eq(bind_to(b, 0, 5001), 0);
	ck_assert_int_eq(bind_to(b, 0, 5002), -EINVAL);	/* already bound */
	/* SO_REUSEADDR on both */
	struct sock *d = udp(1000), *e = udp(2000);
	set_int(d, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(e, SOL_SOCKET, SO_REUSEADDR, 1);
	ck_assert_int_eq(bind_to(d, 0, 6000), 0);
	ck_assert_int_eq(bind_to(e, 0, 6000), 0);
	/* SO_REUSEPORT needs the same user */
	struct sock *f = udp(1000), *g = udp(1000);
	set_int(f, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(g, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(c, SOL_SOCKET, SO_REUSEPORT, 1);
	ck_assert_int_eq(bind_to(f, 0, 7000), 0);
	ck_assert_int_eq(bind_to(c, 0, 7000), -EADDRINUSE);
	ck_assert_int_eq(bind_to(g, 0, 7000), 0);
	sock_close(a);
	/* the port is free again once its owner closed */
	struct sock *a2 = udp(1000);
	ck_assert_int_eq(bind_to(a2, H_OUR_IP, 5000), 0);
}
END_TEST

START_TEST(bind_address_and_privilege_rules)
{
	struct sock *sk = udp(1000);
	ck_assert_int_eq(bind_to(sk, IPV4(192, 0, 2, 1), 5000), -EADDRNOTAVAIL);
	ck_assert_int_eq(bind_to(sk, 0, 80), -EACCES);
	ck_assert_int_eq(bind_to(sk, IPV4(10, 0, 0, 255), 5000), 0);	/* broadcast is fine */
	struct sock *root = udp(0);
	ck_assert_int_eq(bind_to(root, 0, 80), 0);
}
END_TEST

START_TEST(port_zero_picks_ephemeral_ports)
{
	struct sock_addr a;
	uint16_t seen[64];
	for (int i = 0; i < 64; i++) {
		struct sock *sk = udp(1000);
		ck_assert_int_eq(bind_to(sk, 0, 0), 0);
		ck_assert_int_eq(sock_getsockname(sk, &a), 0);
		ck_assert_uint_ge(a.port, EPHEMERAL_LOW);
		ck_assert_uint_le(a.port, EPHEMERAL_HIGH);
		for (int k = 0; k < i; k++)
			ck_assert_uint_ne(seen[k], a.port);
		seen[i] = a.port;
	}
}
END_TEST

START_TEST(buffer_sizes_doubled_and_clamped)
{
	struct sock *sk = udp(1000);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_RCVBUF), 212992);
	set_int(sk, SOL_SOCKET, SO_RCVBUF, 10000);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_RCVBUF), 20000);
	set_int(sk, SOL_SOCKET, SO_RCVBUF, 1);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_RCVBUF), SOCK_MIN_RCVBUF);
	set_int(sk, SOL_SOCKET, SO_SNDBUF, 1 << 30);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_SNDBUF), 2 * SOCK_WMEM_MAX);
	set_int(sk, SOL_SOCKET, SO_SNDBUF, -1);	/* taken as unsigned: the maximum */
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_SNDBUF), 2 * SOCK_WMEM_MAX);
}
END_TEST

START_TEST(option_errors_as_linux)
{
	struct sock *sk = udp(1000);
	char small = 1;
	int v = 1;
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &small, 1), -EINVAL);
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, 9999, &v, sizeof(v)), -ENOPROTOOPT);
	ck_assert_int_eq(sock_setsockopt(sk, 9999, 1, &v, sizeof(v)), -ENOPROTOOPT);
	v = 0;
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_IP, IP_TTL, &v, sizeof(v)), -EINVAL);
	v = 256;
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_IP, IP_TTL, &v, sizeof(v)), -EINVAL);
	ck_assert_int_eq(get_int(sk, IPPROTO_IP, IP_TTL), 64);
	set_int(sk, IPPROTO_IP, IP_TTL, 9);
	ck_assert_int_eq(get_int(sk, IPPROTO_IP, IP_TTL), 9);
	set_int(sk, IPPROTO_IP, IP_TTL, -1);
	ck_assert_int_eq(get_int(sk, IPPROTO_IP, IP_TTL), 64);
	set_int(sk, IPPROTO_IP, IP_TOS, 0x10);
	ck_assert_int_eq(get_int(sk, IPPROTO_IP, IP_TOS), 0x10);
	/* a short getsockopt buffer gets what fits, and its length */
	uint8_t one;
	socklen_t len = 1;
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_TYPE, &one, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, 9999, &v, &len), -ENOPROTOOPT);
}
END_TEST

START_TEST(linger_round_trip)
{
	struct sock *sk = udp(1000);
	struct linger l = {.l_onoff = 1, .l_linger = 5}, back;
	socklen_t len = sizeof(back);
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_LINGER, &back, &len), 0);
	ck_assert_int_eq(back.l_onoff, 1);
	ck_assert_int_eq(back.l_linger, 5);
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_LINGER, &l, sizeof(int)), -EINVAL);
}
END_TEST

START_TEST(names_and_shutdown)
{
	struct sock *sk = udp(1000);
	struct sock_addr a, peer = {.addr = H_PEER_IP, .port = 9};
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, 0);
	ck_assert_uint_eq(a.port, 0);
	ck_assert_int_eq(sock_getpeername(sk, &a), -ENOTCONN);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_RD), -ENOTCONN);	/* bits set all the same */
	ck_assert(sock_poll(sk) & EPOLLRDHUP);
	ck_assert_int_eq(sock_shutdown(sk, 7), -EINVAL);
	ck_assert_int_eq(sock_connect(sk, &peer), 0);
	ck_assert_int_eq(sock_getpeername(sk, &a), 0);
	ck_assert_uint_eq(a.addr, H_PEER_IP);
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, H_OUR_IP);	/* chosen by the route */
	ck_assert_uint_ge(a.port, EPHEMERAL_LOW);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_WR), 0);
	ck_assert(sock_poll(sk) & EPOLLHUP);
	ck_assert_int_eq(sock_connect(sk, NULL), 0);	/* AF_UNSPEC */
	ck_assert_int_eq(sock_getpeername(sk, &a), -ENOTCONN);
	int v;
	ck_assert_int_eq(sock_ioctl(sk, SIOCINQ, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(sock_ioctl(sk, 0x1234, &v), -ENOTTY);
}
END_TEST

START_TEST(connect_and_send_errors)
{
	struct sock *sk = udp(1000);
	struct sock_addr far = {.addr = IPV4(192, 0, 2, 1), .port = 9};
	struct sock_addr bcast = {.addr = IPV4(10, 0, 0, 255), .port = 9};
	struct sock_addr port0 = {.addr = H_PEER_IP, .port = 0};
	char b[8] = {0};
	ck_assert_int_eq(sock_connect(sk, &far), -ENETUNREACH);	/* no default route */
	ck_assert_int_eq(sock_connect(sk, &bcast), -EACCES);
	ck_assert_int_eq(sock_sendto(sk, b, 8, 0, &bcast), -EACCES);
	ck_assert_int_eq(sock_sendto(sk, b, 8, 0, NULL), -EDESTADDRREQ);
	ck_assert_int_eq(sock_sendto(sk, b, 8, 0, &port0), -EINVAL);
	ck_assert_int_eq(sock_sendto(sk, b, 8, MSG_OOB, &bcast), -EOPNOTSUPP);
	/* udp_sendmsg: the route and SO_BROADCAST before the length (ip_make_skb) */
	ck_assert_int_eq(sock_sendto(sk, b, 65508, 0, &bcast), -EACCES);
	ck_assert_int_eq(sock_sendto(sk, b, 65508, 0, &far), -ENETUNREACH);
	ck_assert_int_eq(sock_sendto(sk, b, 65536, 0, &far), -EMSGSIZE);
	ck_assert_int_eq(sock_sendto(sk, b, 65508, 0, &port0), -EINVAL);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 9};
	ck_assert_int_eq(sock_sendto(sk, b, 65508, 0, &peer), -EMSGSIZE);
	ck_assert_int_eq(sock_recvfrom(sk, b, 8, 0, NULL), -EAGAIN);
	set_int(sk, SOL_SOCKET, SO_BROADCAST, 1);
	ck_assert_int_eq(sock_connect(sk, &bcast), 0);
}
END_TEST

/* Linux's __inet_bind checks the address, then the privilege, and only
 * then whether the socket is bound already. */
START_TEST(bind_checks_address_before_already_bound)
{
	struct sock *sk = udp(1000);
	ck_assert_int_eq(bind_to(sk, H_OUR_IP, 5000), 0);
	ck_assert_int_eq(bind_to(sk, IPV4(192, 0, 2, 1), 0), -EADDRNOTAVAIL);
	ck_assert_int_eq(bind_to(sk, H_OUR_IP, 80), -EACCES);
	ck_assert_int_eq(bind_to(sk, 0, 0), -EINVAL);
	struct sock_addr a;
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, H_OUR_IP);
	ck_assert_uint_eq(a.port, 5000);
}
END_TEST

static void expect_name(struct sock *sk, uint32_t addr, uint16_t port)
{
	struct sock_addr a;
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, addr);
	ck_assert_uint_eq(a.port, port);
}

/* Linux's __udp_disconnect: what the stack chose goes (the address unless
 * SOCK_BINDADDR_LOCK, the port unless SOCK_BINDPORT_LOCK); what the user
 * bound stays. bind() with port 0 does not lock the port. */
START_TEST(udp_disconnect_keeps_only_what_the_user_bound)
{
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 9}, a;
	struct sock *u = udp(1000), *v = udp(1000), *w = udp(1000), *x = udp(1000);

	ck_assert_int_eq(sock_connect(u, &peer), 0);
	ck_assert_int_eq(sock_getsockname(u, &a), 0);
	ck_assert_uint_eq(a.addr, H_OUR_IP);
	ck_assert_int_eq(sock_connect(u, NULL), 0);
	expect_name(u, 0, 0);
	ck_assert_int_eq(bind_to(x, 0, a.port), 0);	/* the port was let go */

	ck_assert_int_eq(bind_to(v, H_OUR_IP, 0), 0);
	ck_assert_int_eq(sock_connect(v, &peer), 0);
	ck_assert_int_eq(sock_connect(v, NULL), 0);
	expect_name(v, H_OUR_IP, 0);

	ck_assert_int_eq(bind_to(w, 0, 5000), 0);
	ck_assert_int_eq(sock_connect(w, &peer), 0);
	expect_name(w, H_OUR_IP, 5000);	/* connect fills in the address */
	ck_assert_int_eq(sock_connect(w, NULL), 0);
	expect_name(w, 0, 5000);
	ck_assert_int_eq(sock_getpeername(w, &a), -ENOTCONN);
	/* a datagram autobinds the dissolved socket again */
	char b[1];
	ck_assert_int_eq(sock_sendto(v, b, 1, 0, &peer), 1);
	ck_assert_int_eq(sock_getsockname(v, &a), 0);
	ck_assert_uint_ge(a.port, EPHEMERAL_LOW);
}
END_TEST

/* Linux: after SHUT_WR a datagram is EPIPE (sock_alloc_send_pskb), also
 * on an unconnected socket whose shutdown said ENOTCONN; after SHUT_RD a
 * non-blocking recv with nothing queued is EAGAIN (__skb_recv_udp). */
START_TEST(udp_shutdown_send_and_recv)
{
	struct sock *w = udp(1000), *u = udp(1000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 9};
	char b[8];
	ck_assert_int_eq(sock_shutdown(w, SHUT_WR), -ENOTCONN);
	ck_assert_int_eq(sock_sendto(w, "x", 1, 0, &peer), -EPIPE);
	ck_assert_int_eq(sock_connect(u, &peer), 0);
	ck_assert_int_eq(sock_shutdown(u, SHUT_RD), 0);
	ck_assert_int_eq(sock_recvfrom(u, b, sizeof(b), 0, NULL), -EAGAIN);
	ck_assert(sock_poll(u) & EPOLLIN);	/* poll says readable all the same */
	ck_assert_int_eq(sock_sendto(u, "x", 1, 0, NULL), 1);
	ck_assert_int_eq(sock_shutdown(u, SHUT_WR), 0);
	ck_assert_int_eq(sock_sendto(u, "x", 1, 0, NULL), -EPIPE);
}
END_TEST

/* getsockopt at a level the socket has not: Linux's ip_getsockopt says
 * EOPNOTSUPP (setsockopt's ip_setsockopt ENOPROTOOPT). */
START_TEST(getsockopt_foreign_level_eopnotsupp)
{
	struct sock *u = udp(1000), *t;
	ck_assert_int_eq(sock_create(h.st, SOCK_STREAM, 0, 1000, &t), 0);
	int v = 1;
	socklen_t len = sizeof(v);
	uint8_t info[256];
	ck_assert_int_eq(sock_getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &len), -EOPNOTSUPP);
	len = sizeof(info);
	ck_assert_int_eq(sock_getsockopt(u, IPPROTO_TCP, TCP_INFO, info, &len), -EOPNOTSUPP);
	len = sizeof(v);
	ck_assert_int_eq(sock_getsockopt(u, 9999, 1, &v, &len), -EOPNOTSUPP);
	ck_assert_int_eq(sock_getsockopt(t, 9999, 1, &v, &len), -EOPNOTSUPP);
	ck_assert_int_eq(sock_setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), -ENOPROTOOPT);
	ck_assert_int_eq(sock_setsockopt(t, 9999, 1, &v, sizeof(v)), -ENOPROTOOPT);
}
END_TEST

/* SO_OOBINLINE is kept (0 at first); SO_SNDLOWAT reads 1 and cannot be
 * set (Linux's sock_getsockopt and sock_setsockopt). */
START_TEST(oobinline_and_sndlowat)
{
	struct sock *sk = udp(1000);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_OOBINLINE), 0);
	set_int(sk, SOL_SOCKET, SO_OOBINLINE, 5);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_OOBINLINE), 1);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_SNDLOWAT), 1);
	int v = 10;
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof(v)), -ENOPROTOOPT);
}
END_TEST

START_TEST(pool_exhaustion_is_enfile)
{
	struct sock *sk;
	unsigned n = 0;
	while (sock_create(h.st, SOCK_DGRAM, 0, 0, &sk) == 0)
		n++;
	ck_assert_uint_eq(n, h.st->params.max_sockets);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &sk), -ENFILE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sock");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_checks_type_and_protocol);
	tcase_add_test(tc, bind_same_port_conflicts_unless_reuse);
	tcase_add_test(tc, bind_address_and_privilege_rules);
	tcase_add_test(tc, port_zero_picks_ephemeral_ports);
	tcase_add_test(tc, buffer_sizes_doubled_and_clamped);
	tcase_add_test(tc, option_errors_as_linux);
	tcase_add_test(tc, linger_round_trip);
	tcase_add_test(tc, names_and_shutdown);
	tcase_add_test(tc, connect_and_send_errors);
	tcase_add_test(tc, pool_exhaustion_is_enfile);
	tcase_add_test(tc, bind_checks_address_before_already_bound);
	tcase_add_test(tc, udp_disconnect_keeps_only_what_the_user_bound);
	tcase_add_test(tc, udp_shutdown_send_and_recv);
	tcase_add_test(tc, getsockopt_foreign_level_eopnotsupp);
	tcase_add_test(tc, oobinline_and_sndlowat);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
