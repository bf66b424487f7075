/*
 * test_tcp_sock.c: the socket side of TCP against Linux's answers, where
 * no segment needs to be exchanged: bind and listen rules, the errno of
 * each call in each state, readiness of a fresh socket, defaults and the
 * IPPROTO_TCP options, TCP_INFO's layout.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <linux/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "netd/tcp.h"
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

static struct sock *tcp_sock(uid_t uid)
{
	struct sock *sk;
	ck_assert_int_eq(sock_create(h.st, SOCK_STREAM, 0, uid, &sk), 0);
	return sk;
}

static int bind_port(struct sock *sk, uint16_t port)
{
	struct sock_addr a = {.addr = 0, .port = port};
	return sock_bind(sk, &a);
}

static void set_int(struct sock *sk, int level, int name, int v)
{
	ck_assert_int_eq(sock_setsockopt(sk, level, name, &v, sizeof(v)), 0);
}

static int get_int(struct sock *sk, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);
	ck_assert_int_eq(sock_getsockopt(sk, level, name, &v, &len), 0);
	return v;
}

START_TEST(create_and_defaults)
{
	struct sock *sk;
	ck_assert_int_eq(sock_create(h.st, SOCK_STREAM, IPPROTO_UDP, 0, &sk), -EPROTONOSUPPORT);
	sk = tcp_sock(1000);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_SNDBUF), TCP_WMEM_DEFAULT);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_RCVBUF), TCP_RMEM_DEFAULT);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_ACCEPTCONN), 0);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_NODELAY), 0);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_KEEPCNT), 9);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_MAXSEG), 536);
	char cc[16] = {0};
	socklen_t len = sizeof(cc);
	ck_assert_int_eq(sock_getsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, cc, &len), 0);
	ck_assert_str_eq(cc, "cubic");
	sock_close(sk);
	ck_assert_uint_eq(h.st->socks.used, 0);
}
END_TEST

START_TEST(fresh_socket_calls_fail_as_linux)
{
	struct sock *sk = tcp_sock(1000), *child;
	char b[4];
	struct sock_addr peer;
	/* Linux: send on an unconnected TCP socket is EPIPE, recv ENOTCONN */
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, NULL), -EPIPE);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ENOTCONN);
	ck_assert_int_eq(sock_accept(sk, &child), -EINVAL);
	ck_assert_int_eq(sock_getpeername(sk, &peer), -ENOTCONN);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_WR), -ENOTCONN);
	/* a fresh socket polls writable and hung up, as select() sees it */
	ck_assert_uint_eq(sock_poll(sk) & (EPOLLOUT | EPOLLHUP), EPOLLOUT | EPOLLHUP);
	ck_assert(!(sock_poll(sk) & EPOLLIN) || (sock_poll(sk) & EPOLLRDHUP));
}
END_TEST

START_TEST(listen_rules)
{
	struct sock *a = tcp_sock(1000), *b = tcp_sock(1000), *c = tcp_sock(1000), *child;
	set_int(a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(b, SOL_SOCKET, SO_REUSEADDR, 1);
	ck_assert_int_eq(bind_port(a, 8080), 0);
	ck_assert_int_eq(sock_listen(a, 16), 0);
	ck_assert_int_eq(get_int(a, SOL_SOCKET, SO_ACCEPTCONN), 1);
	/* SO_REUSEADDR never lets a second socket onto a listening port */
	ck_assert_int_eq(bind_port(b, 8080), -EADDRINUSE);
	ck_assert_int_eq(sock_listen(a, 32), 0);	/* again: a new backlog */
	ck_assert_uint_eq(a->tcp->backlog, 32);
	ck_assert_int_eq(sock_listen(a, -1), 0);	/* taken as unsigned: somaxconn */
	ck_assert_uint_eq(a->tcp->backlog, 4096);
	ck_assert_int_eq(sock_accept(a, &child), -EAGAIN);
	int v;
	ck_assert_int_eq(sock_ioctl(a, SIOCINQ, &v), -EINVAL);
	/* listen on an unbound socket picks an ephemeral port */
	ck_assert_int_eq(sock_listen(c, 1), 0);
	struct sock_addr name;
	ck_assert_int_eq(sock_getsockname(c, &name), 0);
	ck_assert_uint_ge(name.port, EPHEMERAL_LOW);
	/* closing the listener frees the port */
	sock_close(a);
	ck_assert_int_eq(bind_port(b, 8080), 0);
}
END_TEST

START_TEST(reuseport_listeners_same_user_only)
{
	struct sock *a = tcp_sock(1000), *b = tcp_sock(1000), *c = tcp_sock(2000);
	set_int(a, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(b, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(c, SOL_SOCKET, SO_REUSEPORT, 1);
	ck_assert_int_eq(bind_port(a, 9090), 0);
	ck_assert_int_eq(sock_listen(a, 8), 0);
	ck_assert_int_eq(bind_port(b, 9090), 0);
	ck_assert_int_eq(sock_listen(b, 8), 0);
	ck_assert_int_eq(bind_port(c, 9090), -EADDRINUSE);
}
END_TEST

START_TEST(connect_states_and_errors)
{
	struct sock *sk = tcp_sock(1000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 80};
	struct sock_addr far = {.addr = IPV4(192, 0, 2, 1), .port = 80};
	struct sock_addr bcast = {.addr = IPV4(10, 0, 0, 255), .port = 80};
	ck_assert_int_eq(sock_connect(sk, &far), -ENETUNREACH);
	ck_assert_int_eq(sock_connect(sk, &bcast), -ENETUNREACH);
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
	ck_assert_int_eq(sk->tcp->state, TCP_SYN_SENT);
	ck_assert_int_eq(sock_connect(sk, &peer), -EALREADY);
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, NULL), -EAGAIN);	/* still connecting */
	ck_assert(!(sock_poll(sk) & EPOLLOUT));
	struct sock_addr name;
	ck_assert_int_eq(sock_getsockname(sk, &name), 0);
	ck_assert_uint_eq(name.addr, H_OUR_IP);
	ck_assert_uint_ge(name.port, EPHEMERAL_LOW);
	struct sock *l = tcp_sock(1000);
	ck_assert_int_eq(sock_listen(l, 1), 0);
	ck_assert_int_eq(sock_connect(l, &peer), -EISCONN);	/* SS_UNCONNECTED, not CLOSE */
	/* a reset during the handshake: refused; the error read, the next
	 * connect reports the abort (inet_stream_connect's sock_error), and
	 * the one after starts again */
	tcp_reset_connection(sk->tcp, ECONNREFUSED);
	ck_assert_uint_eq(sock_poll(sk) & (EPOLLERR | EPOLLHUP | EPOLLOUT),
			  EPOLLERR | EPOLLHUP | EPOLLOUT);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_ERROR), 0);
	ck_assert_int_eq(sock_connect(sk, &peer), -ECONNABORTED);
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
}
END_TEST

/* Linux's __inet_stream_connect: the socket's own state (SS_*) decides,
 * not the TCP state. A refused attempt whose error is still pending
 * reports it on the next connect, which also ends the attempt. */
START_TEST(connect_reports_refusal_then_starts_again)
{
	struct sock *sk = tcp_sock(1000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 80};
	ck_assert_int_eq(sock_connect(sk, NULL), 0);	/* AF_UNSPEC, unconnected: nothing */
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
	ck_assert_int_eq(sock_connect(sk, &peer), -EALREADY);
	tcp_reset_connection(sk->tcp, ECONNREFUSED);
	ck_assert_int_eq(sock_connect(sk, &peer), -ECONNREFUSED);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_ERROR), 0);	/* consumed */
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
	ck_assert_int_eq(sk->tcp->state, TCP_SYN_SENT);
	/* shutdown while connecting is tcp_disconnect: ECONNRESET, unconnected */
	ck_assert_int_eq(sock_shutdown(sk, SHUT_RDWR), 0);
	ck_assert_int_eq(sk->tcp->state, TCP_CLOSE);
	ck_assert_int_eq(get_int(sk, SOL_SOCKET, SO_ERROR), ECONNRESET);
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
}
END_TEST

/* inet_shutdown of a refused attempt leaves SS_DISCONNECTING, where
 * connect is EINVAL until connect(AF_UNSPEC); the same goes for listen. */
START_TEST(shutdown_after_refusal_disconnecting)
{
	struct sock *sk = tcp_sock(1000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 80};
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
	tcp_reset_connection(sk->tcp, ECONNREFUSED);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_WR), -ENOTCONN);
	ck_assert_int_eq(sock_connect(sk, &peer), -EINVAL);
	ck_assert_int_eq(sock_listen(sk, 1), -EINVAL);
	ck_assert_int_eq(sock_connect(sk, NULL), 0);
	ck_assert_int_eq(sock_connect(sk, &peer), -EINPROGRESS);
}
END_TEST

/* __inet_bind: the address first (EADDRNOTAVAIL), the privilege (EACCES),
 * then "bound already" (EINVAL). */
START_TEST(bind_checks_address_before_already_bound)
{
	struct sock *sk = tcp_sock(1000);
	struct sock_addr far = {.addr = IPV4(192, 0, 2, 1), .port = 0};
	struct sock_addr low = {.addr = 0, .port = 22};
	ck_assert_int_eq(bind_port(sk, 5000), 0);
	ck_assert_int_eq(sock_bind(sk, &far), -EADDRNOTAVAIL);
	ck_assert_int_eq(sock_bind(sk, &low), -EACCES);
	ck_assert_int_eq(bind_port(sk, 5001), -EINVAL);
}
END_TEST

START_TEST(tcp_option_ranges)
{
	struct sock *sk = tcp_sock(1000);
	int bad[][2] = {{TCP_KEEPIDLE, 0}, {TCP_KEEPIDLE, 32768}, {TCP_KEEPINTVL, 0},
			{TCP_KEEPCNT, 128}, {TCP_MAXSEG, 87}, {TCP_MAXSEG, 32768},
			{TCP_USER_TIMEOUT, -1}};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_TCP, bad[i][0], &bad[i][1], sizeof(int)),
				 -EINVAL);
	set_int(sk, IPPROTO_TCP, TCP_KEEPIDLE, 30);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	set_int(sk, IPPROTO_TCP, TCP_MAXSEG, 1000);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_MAXSEG), 1000);
	set_int(sk, IPPROTO_TCP, TCP_MAXSEG, 0);	/* clears, as on Linux */
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_MAXSEG), 536);
	set_int(sk, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
	set_int(sk, IPPROTO_TCP, TCP_NODELAY, 1);
	ck_assert_int_eq(get_int(sk, IPPROTO_TCP, TCP_NODELAY), 1);
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, "bbr", 3), -ENOENT);
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	char cc[16] = {0};
	socklen_t len = sizeof(cc);
	ck_assert_int_eq(sock_getsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, cc, &len), 0);
	ck_assert_str_eq(cc, "reno");
	int v = 1;
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_TCP, 9999, &v, sizeof(v)), -ENOPROTOOPT);
	/* TCP options on a UDP socket do not exist */
	struct sock *u;
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &u), 0);
	ck_assert_int_eq(sock_setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), -ENOPROTOOPT);
}
END_TEST

START_TEST(tcp_info_layout)
{
	struct sock *sk = tcp_sock(1000);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	ck_assert_int_eq(sock_getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	ck_assert_uint_eq(len, sizeof(ti));
	ck_assert_uint_eq(ti.tcpi_state, TCP_CLOSE);
	ck_assert_uint_eq(ti.tcpi_rto, 1000000);	/* RFC 6298 initial RTO, in us */
	ck_assert_uint_eq(ti.tcpi_snd_cwnd, 10);
	/* a shorter buffer gets the start of the struct, as older tools pass */
	uint8_t small[8];
	len = sizeof(small);
	ck_assert_int_eq(sock_getsockopt(sk, IPPROTO_TCP, TCP_INFO, small, &len), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_uint_eq(small[0], TCP_CLOSE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_sock");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_and_defaults);
	tcase_add_test(tc, fresh_socket_calls_fail_as_linux);
	tcase_add_test(tc, listen_rules);
	tcase_add_test(tc, reuseport_listeners_same_user_only);
	tcase_add_test(tc, connect_states_and_errors);
	tcase_add_test(tc, connect_reports_refusal_then_starts_again);
	tcase_add_test(tc, shutdown_after_refusal_disconnecting);
	tcase_add_test(tc, bind_checks_address_before_already_bound);
	tcase_add_test(tc, tcp_option_ranges);
	tcase_add_test(tc, tcp_info_layout);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
