/*
 * test_udp.c: UDP as packet traces: delivery and demultiplexing, the
 * datagrams netd sends (exact headers, DF when it fits, fragments when it
 * does not), ICMP errors both ways, receive-buffer limits, MSG_PEEK and
 * MSG_TRUNC, broadcast, SO_REUSEPORT, and the built-in services.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netd/services.h"
#include "netd/wire/checksum.h"
#include "netd/wire/udp.h"
#include "tests/harness.h"

static struct harness h;
static unsigned wakeups, last_events;

static void setup(void)
{
	harness_init(&h);
	harness_learn_peer(&h);
	wakeups = 0;
	last_events = 0;
}

static void teardown(void)
{
	harness_teardown(&h);
}

static void on_wake(struct sock *sk, unsigned events)
{
	(void)sk;
	wakeups++;
	last_events = events;
}

static struct sock *bound(uint32_t addr, uint16_t port)
{
	struct sock *sk;
	struct sock_addr a = {.addr = addr, .port = port};
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &sk), 0);
	sock_set_owner(sk, on_wake, NULL);
	ck_assert_int_eq(sock_bind(sk, &a), 0);
	return sk;
}

/* A datagram from the peer: src port sport to (dst, dport), checksummed
 * unless zero_csum. */
static size_t build_udp(struct frame *f, uint32_t dst, uint16_t sport, uint16_t dport,
			const void *data, size_t len, bool zero_csum)
{
	static uint8_t dgram[70000];
	struct udp_hdr uh = {.sport = sport, .dport = dport};
	memcpy(dgram + UDP_HLEN, data, len);
	udp_emit(dgram, &uh, len, H_PEER_IP, dst);
	if (zero_csum)
		put_be16(dgram + 6, 0);
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_UDP_, .src = H_PEER_IP, .dst = dst};
	const uint8_t *mac = dst == H_OUR_IP ? h_our_mac : eth_broadcast;
	return build_ipv4(f, mac, &ih, dgram, UDP_HLEN + len);
}

static void inject_udp(uint32_t dst, uint16_t sport, uint16_t dport, const char *text)
{
	struct frame f;
	size_t n = build_udp(&f, dst, sport, dport, text, strlen(text), false);
	harness_inject(&h, f.b, n);
}

static void expect_recv(struct sock *sk, const char *text, uint16_t sport)
{
	char buf[256];
	struct sock_addr from;
	ssize_t n = sock_recvfrom(sk, buf, sizeof(buf), 0, &from);
	ck_assert_int_eq(n, (ssize_t)strlen(text));
	ck_assert_mem_eq(buf, text, (size_t)n);
	ck_assert_uint_eq(from.addr, H_PEER_IP);
	ck_assert_uint_eq(from.port, sport);
}

START_TEST(delivered_with_source_and_wakeup)
{
	struct sock *sk = bound(0, 5000);
	inject_udp(H_OUR_IP, 4000, 5000, "hello");
	ck_assert_uint_eq(wakeups, 1);
	ck_assert(last_events & EPOLLIN);
	ck_assert(sock_poll(sk) & EPOLLIN);
	int inq;
	ck_assert_int_eq(sock_ioctl(sk, SIOCINQ, &inq), 0);
	ck_assert_int_eq(inq, 5);
	expect_recv(sk, "hello", 4000);
	ck_assert(!(sock_poll(sk) & EPOLLIN));
	ck_assert_uint_eq(h.st->stats[STAT_UDP_IN_DATAGRAMS], 1);
}
END_TEST

START_TEST(zero_checksum_accepted_bad_checksum_dropped)
{
	struct sock *sk = bound(0, 5000);
	struct frame f;
	size_t n = build_udp(&f, H_OUR_IP, 4000, 5000, "abc", 3, true);
	harness_inject(&h, f.b, n);
	expect_recv(sk, "abc", 4000);
	n = build_udp(&f, H_OUR_IP, 4000, 5000, "abc", 3, false);
	f.b[n - 1] ^= 1;	/* payload changed, checksum not */
	harness_inject(&h, f.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_UDP_CSUM], 1);
	ck_assert_int_eq(sock_recvfrom(sk, f.b, 10, 0, NULL), -EAGAIN);
}
END_TEST

/* What the packet driver hands up for a frame this host's kernel sent
 * with its checksum left for offload. */
static void receive_partial_csum(const struct frame *f)
{
	struct nbuf *nb = nbuf_alloc(&h.st->pool, NETDEV_RX_HEADROOM + f->len);
	nbuf_reserve(nb, NETDEV_RX_HEADROOM);
	memcpy(nbuf_put(nb, f->len), f->b, f->len);
	nb->csum_verified = true;
	netif_receive(h.nif, nb);
	sock_run_ready(h.st);
}

START_TEST(partial_checksum_from_this_host_trusted)
{
	struct sock *sk = bound(0, 5000);
	struct frame f;
	size_t n = build_udp(&f, H_OUR_IP, 4000, 5000, "local", 5, false);
	put_be16(f.b + ETH_HLEN + IPV4_HLEN + 6, 0x1234);	/* a partial sum */
	f.len = n;
	receive_partial_csum(&f);
	expect_recv(sk, "local", 4000);
	ck_assert_uint_eq(h.st->drops[DROP_UDP_CSUM], 0);
}
END_TEST

START_TEST(length_field_checked_and_honoured)
{
	struct sock *sk = bound(0, 5000);
	struct frame f;
	size_t n = build_udp(&f, H_OUR_IP, 4000, 5000, "abcdef", 6, true);
	uint8_t *udph = f.b + ETH_HLEN + IPV4_HLEN;
	put_be16(udph + 4, 20);	/* longer than the datagram */
	harness_inject(&h, f.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_UDP_SHORT], 1);
	put_be16(udph + 4, UDP_HLEN + 2);	/* shorter: the rest is not the payload */
	harness_inject(&h, f.b, n);
	expect_recv(sk, "ab", 4000);
}
END_TEST

START_TEST(closed_port_gets_port_unreachable)
{
	struct frame f, out;
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	size_t n = build_udp(&f, H_OUR_IP, 4000, 6666, "x", 1, false);
	harness_inject(&h, f.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_UDP_NO_PORT], 1);
	ck_assert_uint_eq(h.st->stats[STAT_UDP_NO_PORTS], 1);
	ck_assert_uint_gt(harness_take(&h, &out), 0);
	const uint8_t *icmp = frame_ipv4(&out, &eh, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_DEST_UNREACH);
	ck_assert_uint_eq(icmp[1], ICMP_PORT_UNREACH);
	ck_assert_mem_eq(icmp + ICMP_HLEN, f.b + ETH_HLEN, n - ETH_HLEN);
	/* but never for a broadcast */
	n = build_udp(&f, IPV4(10, 0, 0, 255), 4000, 6666, "x", 1, false);
	harness_inject(&h, f.b, n);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(most_specific_socket_wins)
{
	struct sock *any = bound(0, 5000);
	struct sock *addr, *conn;
	struct sock_addr a = {.addr = H_OUR_IP, .port = 5000}, peer = {.addr = H_PEER_IP, .port = 4001};
	int one = 1;
	ck_assert_int_eq(sock_setsockopt(any, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &addr), 0);
	ck_assert_int_eq(sock_setsockopt(addr, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_bind(addr, &a), 0);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &conn), 0);
	ck_assert_int_eq(sock_setsockopt(conn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_bind(conn, &a), 0);
	ck_assert_int_eq(sock_connect(conn, &peer), 0);
	inject_udp(H_OUR_IP, 4001, 5000, "to-conn");
	inject_udp(H_OUR_IP, 4002, 5000, "to-addr");
	expect_recv(conn, "to-conn", 4001);
	expect_recv(addr, "to-addr", 4002);
	ck_assert_uint_eq(any->rxq.len, 0);
	/* a broadcast reaches the wildcard socket, not those bound to a unicast address */
	inject_udp(IPV4(10, 0, 0, 255), 4003, 5000, "bcast");
	expect_recv(any, "bcast", 4003);
	ck_assert_uint_eq(addr->rxq.len + conn->rxq.len, 0);
}
END_TEST

START_TEST(broadcast_reaches_every_wildcard_socket)
{
	int one = 1;
	struct sock *a, *b;
	struct sock_addr any = {.addr = 0, .port = 5000};
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &a), 0);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &b), 0);
	ck_assert_int_eq(sock_setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_bind(a, &any), 0);
	ck_assert_int_eq(sock_bind(b, &any), 0);
	inject_udp(0xffffffff, 4000, 5000, "all");
	expect_recv(a, "all", 4000);
	expect_recv(b, "all", 4000);
}
END_TEST

START_TEST(reuseport_spreads_by_sender_and_sticks)
{
	int one = 1;
	struct sock *s[4];
	struct sock_addr any = {.addr = 0, .port = 5000};
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &s[i]), 0);
		ck_assert_int_eq(sock_setsockopt(s[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
		ck_assert_int_eq(sock_bind(s[i], &any), 0);
	}
	for (uint16_t port = 1000; port < 1200; port++)
		inject_udp(H_OUR_IP, port, 5000, "x");
	unsigned total = 0;
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_gt(s[i]->rxq.len, 10);	/* each gets a share */
		total += s[i]->rxq.len;
	}
	ck_assert_uint_eq(total, 200);
	unsigned before[4];
	for (int i = 0; i < 4; i++)
		before[i] = s[i]->rxq.len;
	inject_udp(H_OUR_IP, 1000, 5000, "x");
	inject_udp(H_OUR_IP, 1000, 5000, "x");
	int grew = -1;
	for (int i = 0; i < 4; i++) {
		if (s[i]->rxq.len != before[i]) {
			ck_assert_int_eq(grew, -1);	/* both went to one socket */
			ck_assert_uint_eq(s[i]->rxq.len, before[i] + 2);
			grew = i;
		}
	}
	ck_assert_int_ne(grew, -1);
}
END_TEST

static const uint8_t *take_udp(struct frame *f, struct ipv4_hdr *ih, struct udp_hdr *uh)
{
	struct eth_hdr eh;
	ck_assert_uint_gt(harness_take(&h, f), 0);
	const uint8_t *p = frame_ipv4(f, &eh, ih);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(ih->proto, IPPROTO_UDP_);
	ck_assert_int_eq(udp_parse(p, ih->total_len - ih->hlen, ih->src, ih->dst, uh), 0);
	return p + UDP_HLEN;
}

START_TEST(sent_datagram_is_exact)
{
	struct sock *sk = bound(0, 5000);
	struct sock_addr to = {.addr = H_PEER_IP, .port = 53};
	struct frame f;
	struct ipv4_hdr ih;
	struct udp_hdr uh;
	int ttl = 9, tos = 0x20;
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
	ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)), 0);
	ck_assert_int_eq(sock_sendto(sk, "query", 5, 0, &to), 5);
	const uint8_t *data = take_udp(&f, &ih, &uh);
	ck_assert_uint_eq(ih.src, H_OUR_IP);
	ck_assert_uint_eq(ih.dst, H_PEER_IP);
	ck_assert(ih.df);	/* it fits: DF, as Linux's IP_PMTUDISC_WANT */
	ck_assert_uint_eq(ih.ttl, 9);
	ck_assert_uint_eq(ih.tos, 0x20);
	ck_assert_uint_eq(uh.sport, 5000);
	ck_assert_uint_eq(uh.dport, 53);
	ck_assert_uint_eq(uh.len, UDP_HLEN + 5);
	ck_assert_uint_ne(uh.csum, 0);
	ck_assert_mem_eq(data, "query", 5);
	ck_assert_uint_eq(h.st->stats[STAT_UDP_OUT_DATAGRAMS], 1);
}
END_TEST

START_TEST(large_datagram_fragmented_without_df)
{
	static uint8_t big[3000], whole[3100];
	struct sock *sk = bound(0, 5000);
	struct sock_addr to = {.addr = H_PEER_IP, .port = 53};
	struct frame f;
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	ck_assert_int_eq(sock_sendto(sk, big, sizeof(big), 0, &to), (ssize_t)sizeof(big));
	size_t end = 0;
	unsigned frags = 0;
	do {
		ck_assert_uint_gt(harness_take(&h, &f), 0);
		const uint8_t *p = frame_ipv4(&f, &eh, &ih);
		ck_assert(!ih.df);
		memcpy(whole + ih.frag_off, p, ih.total_len - ih.hlen);
		end = MAX(end, (size_t)ih.frag_off + ih.total_len - ih.hlen);
		frags++;
	} while (ih.mf);
	ck_assert_uint_eq(frags, 3);
	ck_assert_uint_eq(end, UDP_HLEN + sizeof(big));
	struct udp_hdr uh;
	ck_assert_int_eq(udp_parse(whole, end, H_OUR_IP, H_PEER_IP, &uh), 0);
	ck_assert_mem_eq(whole + UDP_HLEN, big, sizeof(big));
}
END_TEST

/* Linux's ip_route_output_key_hash_rcu: from one of our addresses, the
 * limited broadcast leaves through that address's interface, route or no
 * route; without a source address the table decides (here: no default
 * route, so ENETUNREACH). */
START_TEST(limited_broadcast_leaves_by_bound_address)
{
	struct sock *sk = bound(H_OUR_IP, 5000), *any = bound(0, 5001), *u;
	struct sock_addr all = {.addr = 0xffffffff, .port = 9};
	struct frame f;
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	struct udp_hdr uh;
	int one = 1;

	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, &all), -EACCES);
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_sendto(sk, "bc", 2, 0, &all), 2);
	const uint8_t *d = take_udp(&f, &ih, &uh);
	frame_ipv4(&f, &eh, &ih);
	ck_assert_mem_eq(eh.dst, eth_broadcast, 6);
	ck_assert_uint_eq(ih.src, H_OUR_IP);
	ck_assert_uint_eq(ih.dst, 0xffffffff);
	ck_assert_uint_eq(uh.sport, 5000);
	ck_assert_mem_eq(d, "bc", 2);
	ck_assert_int_eq(sock_connect(sk, &all), 0);
	ck_assert_int_eq(sock_sendto(sk, "c", 1, 0, NULL), 1);
	take_udp(&f, &ih, &uh);
	ck_assert_uint_eq(ih.dst, 0xffffffff);

	ck_assert_int_eq(sock_setsockopt(any, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_sendto(any, "x", 1, 0, &all), -ENETUNREACH);
	ck_assert_int_eq(sock_create(h.st, SOCK_DGRAM, 0, 0, &u), 0);
	ck_assert_int_eq(sock_setsockopt(u, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	ck_assert_int_eq(sock_connect(u, &all), -ENETUNREACH);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

/* The peer answers our datagram with an ICMP error quoting it. */
static void icmp_error_from_peer(const struct frame *ours, uint8_t type, uint8_t code)
{
	uint8_t msg[ICMP_HLEN + 28];
	struct frame f;
	memcpy(msg + ICMP_HLEN, ours->b + ETH_HLEN, 28);
	struct icmp_hdr ich = {.type = type, .code = code};
	icmp_emit(msg, sizeof(msg), &ich);
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_ICMP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	size_t n = build_ipv4(&f, h_our_mac, &ih, msg, sizeof(msg));
	harness_inject(&h, f.b, n);
}

START_TEST(port_unreachable_refuses_connected_socket)
{
	struct sock *sk = bound(0, 5000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 7777};
	struct frame ours;
	char b[8];
	ck_assert_int_eq(sock_connect(sk, &peer), 0);
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, NULL), 1);
	ck_assert_uint_gt(harness_take(&h, &ours), 0);
	icmp_error_from_peer(&ours, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert(last_events & EPOLLERR);
	ck_assert(sock_poll(sk) & EPOLLERR);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ECONNREFUSED);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -EAGAIN);	/* read once */
	ck_assert(!(sock_poll(sk) & EPOLLERR));
}
END_TEST

START_TEST(errors_ignored_on_unconnected_and_soft_errors)
{
	struct sock *sk = bound(0, 5000);
	struct sock_addr peer = {.addr = H_PEER_IP, .port = 7777};
	struct frame ours;
	int err;
	socklen_t len = sizeof(err);
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, &peer), 1);
	ck_assert_uint_gt(harness_take(&h, &ours), 0);
	icmp_error_from_peer(&ours, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(sock_connect(sk, &peer), 0);
	icmp_error_from_peer(&ours, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED);	/* soft */
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	icmp_error_from_peer(&ours, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, EHOSTUNREACH);
}
END_TEST

START_TEST(receive_buffer_limit_drops_and_counts)
{
	struct sock *sk = bound(0, 5000);
	int small = 4000;	/* doubled: 8000 bytes of buffer room */
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 10; i++)
		inject_udp(H_OUR_IP, 4000, 5000, "fill");
	ck_assert_uint_gt(sk->rxq.len, 0);
	ck_assert_uint_lt(sk->rxq.len, 10);
	ck_assert_uint_eq(h.st->drops[DROP_UDP_RCVBUF], 10 - sk->rxq.len);
	ck_assert_uint_le(sk->rx_bytes, 8000);
}
END_TEST

START_TEST(peek_and_trunc)
{
	struct sock *sk = bound(0, 5000);
	char b[4];
	inject_udp(H_OUR_IP, 4000, 5000, "abcdefgh");
	ck_assert_int_eq(sock_recvfrom(sk, b, 4, MSG_PEEK, NULL), 4);
	ck_assert_int_eq(sock_recvfrom(sk, b, 2, MSG_PEEK | MSG_TRUNC, NULL), 8);
	ck_assert_mem_eq(b, "ab", 2);
	ck_assert_int_eq(sock_recvfrom(sk, b, 4, 0, NULL), 4);	/* the rest is lost */
	ck_assert_mem_eq(b, "abcd", 4);
	ck_assert_int_eq(sock_recvfrom(sk, b, 4, 0, NULL), -EAGAIN);
	ck_assert_uint_eq(sk->rx_bytes, 0);
}
END_TEST

static const uint8_t *service_reply(uint16_t port, const char *text, struct frame *f,
				    struct udp_hdr *uh)
{
	struct ipv4_hdr ih;
	inject_udp(H_OUR_IP, 40000, port, text);
	return take_udp(f, &ih, uh);
}

START_TEST(services_echo_chargen_discard)
{
	struct frame f;
	struct udp_hdr uh;
	ck_assert_int_eq(services_start(h.st, SERVICE_ECHO | SERVICE_DISCARD | SERVICE_CHARGEN), 0);
	const uint8_t *d = service_reply(7, "ping!", &f, &uh);
	ck_assert_uint_eq(uh.sport, 7);
	ck_assert_uint_eq(uh.dport, 40000);
	ck_assert_uint_eq(uh.len, UDP_HLEN + 5);
	ck_assert_mem_eq(d, "ping!", 5);
	inject_udp(H_OUR_IP, 40000, 9, "gone");
	ck_assert_uint_eq(harness_pending(&h), 0);
	for (int i = 0; i < 5; i++) {
		d = service_reply(19, "", &f, &uh);
		size_t n = uh.len - UDP_HLEN;
		ck_assert_uint_le(n, 512);
		for (size_t k = 0; k < n && k < 72; k++)
			ck_assert_uint_eq(d[k], ' ' + k);	/* the first line of the pattern */
		if (n > 73)
			ck_assert(d[72] == '\r' && d[73] == '\n');
	}
	/* a datagram from another responder's port is never answered */
	inject_udp(H_OUR_IP, 19, 7, "loop?");
	ck_assert_uint_eq(harness_pending(&h), 0);
	services_stop(h.st);
	inject_udp(H_OUR_IP, 40000, 7, "closed");
	ck_assert_uint_eq(h.st->drops[DROP_UDP_NO_PORT], 1);
}
END_TEST

START_TEST(service_names_parsed)
{
	unsigned mask;
	char bad[16];
	ck_assert_int_eq(services_parse("chargen,echo", &mask, bad, sizeof(bad)), 0);
	ck_assert_uint_eq(mask, SERVICE_ECHO | SERVICE_CHARGEN);
	ck_assert_int_eq(services_parse("echo,daytime", &mask, bad, sizeof(bad)), -1);
	ck_assert_str_eq(bad, "daytime");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = tcase_create("udp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, delivered_with_source_and_wakeup);
	tcase_add_test(tc, zero_checksum_accepted_bad_checksum_dropped);
	tcase_add_test(tc, partial_checksum_from_this_host_trusted);
	tcase_add_test(tc, length_field_checked_and_honoured);
	tcase_add_test(tc, closed_port_gets_port_unreachable);
	tcase_add_test(tc, most_specific_socket_wins);
	tcase_add_test(tc, broadcast_reaches_every_wildcard_socket);
	tcase_add_test(tc, reuseport_spreads_by_sender_and_sticks);
	tcase_add_test(tc, sent_datagram_is_exact);
	tcase_add_test(tc, large_datagram_fragmented_without_df);
	tcase_add_test(tc, limited_broadcast_leaves_by_bound_address);
	tcase_add_test(tc, port_unreachable_refuses_connected_socket);
	tcase_add_test(tc, errors_ignored_on_unconnected_and_soft_errors);
	tcase_add_test(tc, receive_buffer_limit_drops_and_counts);
	tcase_add_test(tc, peek_and_trunc);
	tcase_add_test(tc, services_echo_chargen_discard);
	tcase_add_test(tc, service_names_parsed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
