/*
 * test_sock.c: the socket layer's contract with its callers: each call
 * fails with the errno Linux gives in the same situation. Bind rules
 * (SO_REUSEADDR, SO_REUSEPORT, privileged ports, ephemeral range),
 * options and their read-back, names, shutdown, and the pool limit.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
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
	ck_assert_int_eq(sock_sendto(sk, b, 65508, 0, &bcast), -EMSGSIZE);
	ck_assert_int_eq(sock_recvfrom(sk, b, 8, 0, NULL), -EAGAIN);
	set_int(sk, SOL_SOCKET, SO_BROADCAST, 1);
	ck_assert_int_eq(sock_connect(sk, &bcast), 0);
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
	suite_add_tcase(s, tc);
	return run_suite(s);
}
