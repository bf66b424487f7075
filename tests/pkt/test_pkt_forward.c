/*
 * test_pkt_forward.c: forwarding between two interfaces as packet traces
 * (RFC 1812 5.2-5.3): off by default, TTL decrement with a valid checksum,
 * time exceeded, fragmentation needed with the next-hop MTU, fragmenting
 * when DF is clear, network unreachable, and the FORWARD hook.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netd/wire/checksum.h"
#include "netd/wire/udp.h"
#include "tests/harness.h"

#define LAN2_ADDR IPV4(192, 168, 1, 1)
#define LAN2_HOST IPV4(192, 168, 1, 5)

static struct harness h;
static struct netif *if2;
static struct netdev *peer2;
static struct nbuf_pool pool2;
static const uint8_t if2_mac[6] = {0x02, 0, 0, 0, 1, 1};
static const uint8_t host2_mac[6] = {0x02, 0, 0, 0, 1, 5};

static void setup_with(bool forwarding, unsigned mtu2)
{
	struct stack_params p;
	struct netdev_env env_st, env_peer = {0};
	struct netdev *dev;
	struct nbuf_pool_config pc = {.small_size = 4096, .small_count = 64,
				      .large_size = 70000, .large_count = 1};
	stack_params_default(&p);
	p.seed = 1;
	p.pool_small = 512;
	p.pool_large = 8;
	p.forwarding = forwarding;
	harness_init_params(&h, &p);
	harness_learn_peer(&h);
	ck_assert_int_eq(nbuf_pool_init(&pool2, &pc), 0);
	stack_dev_env(h.st, &env_st, NULL);
	env_peer.pool = &pool2;
	ck_assert_int_eq(mem_pair_open(&env_st, &env_peer, &dev, &peer2), 0);
	if2 = netif_add(h.st, dev, if2_mac, mtu2);
	ck_assert_int_eq(netif_add_addr(if2, LAN2_ADDR, 24), 0);
}

static void setup(void)
{
	setup_with(true, 1500);
}

static void teardown(void)
{
	struct nbuf *nb;
	while ((nb = mem_take(peer2)))
		nbuf_free(nb);
	harness_teardown(&h);
	netdev_destroy(peer2);
	ck_assert_uint_eq(nbuf_pool_in_use(&pool2), 0);
	nbuf_pool_destroy(&pool2);
}

/* Frames if2 sent, after the loop would have flushed them. */
static struct nbuf *take2(void)
{
	netif_flush(if2);
	return mem_take(peer2);
}

static void answer_arp_on_lan2(void)
{
	struct nbuf *nb = take2();
	struct arp_pkt a;
	ck_assert_ptr_nonnull(nb);
	ck_assert_int_eq(arp_parse(nb->data + ETH_HLEN, nbuf_len(nb) - ETH_HLEN, &a), 0);
	ck_assert_uint_eq(a.tpa, LAN2_HOST);
	ck_assert_uint_eq(a.spa, LAN2_ADDR);
	nbuf_free(nb);
	struct frame f;
	size_t n = build_arp(&f, if2_mac, ARP_OP_REPLY, host2_mac, LAN2_HOST, if2_mac, LAN2_ADDR);
	ck_assert_int_eq(mem_inject(peer2, f.b, (unsigned)n), 0);
	netif_poll(if2, 16);
}

static size_t build_to_lan2(struct frame *f, uint8_t ttl, bool df, size_t plen)
{
	static uint8_t payload[4000];
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	struct ipv4_hdr ih = {.ttl = ttl, .proto = IPPROTO_UDP_, .src = H_PEER_IP,
			      .dst = LAN2_HOST, .id = 4242, .df = df};
	return build_ipv4(f, h_our_mac, &ih, payload, plen);
}

static const uint8_t *take_icmp_to_peer(struct frame *out, struct ipv4_hdr *ih)
{
	struct eth_hdr eh;
	ck_assert_uint_gt(harness_take(&h, out), 0);
	const uint8_t *icmp = frame_ipv4(out, &eh, ih);
	ck_assert_ptr_nonnull(icmp);
	ck_assert_uint_eq(ih->proto, IPPROTO_ICMP_);
	ck_assert_uint_eq(ih->src, H_OUR_IP);
	ck_assert_uint_eq(ih->dst, H_PEER_IP);
	return icmp;
}

START_TEST(forwards_with_ttl_decremented)
{
	struct frame in;
	struct ipv4_hdr fh;
	size_t n = build_to_lan2(&in, 64, true, 100);
	harness_inject(&h, in.b, n);
	answer_arp_on_lan2();
	struct nbuf *nb = take2();
	ck_assert_ptr_nonnull(nb);
	ck_assert_mem_eq(nb->data, host2_mac, 6);
	ck_assert_mem_eq(nb->data + 6, if2_mac, 6);
	ck_assert_int_eq(ipv4_parse(nb->data + ETH_HLEN, nbuf_len(nb) - ETH_HLEN, &fh), 0);
	ck_assert_uint_eq(fh.ttl, 63);	/* and the checksum still holds: parse checked it */
	ck_assert_uint_eq(fh.src, H_PEER_IP);
	ck_assert_mem_eq(nb->data + ETH_HLEN + IPV4_HLEN, in.b + ETH_HLEN + IPV4_HLEN, 100);
	nbuf_free(nb);
	ck_assert_uint_eq(h.st->stats[STAT_IP_FORW_DATAGRAMS], 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(ttl_one_gets_time_exceeded)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	size_t n = build_to_lan2(&in, 1, false, 40);
	harness_inject(&h, in.b, n);
	const uint8_t *icmp = take_icmp_to_peer(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_TIME_EXCEEDED);
	ck_assert_uint_eq(icmp[1], ICMP_EXC_TTL);
	/* the quote is the datagram as it arrived, TTL 1 */
	ck_assert_mem_eq(icmp + ICMP_HLEN, in.b + ETH_HLEN, IPV4_HLEN + 8);
	ck_assert_uint_eq(h.st->drops[DROP_IP_TTL_EXPIRED], 1);
	ck_assert_ptr_null(take2());
}
END_TEST

START_TEST(no_route_gets_net_unreachable)
{
	struct frame in, out;
	struct ipv4_hdr ih, fh = {.ttl = 64, .proto = IPPROTO_UDP_, .src = H_PEER_IP,
				  .dst = IPV4(172, 16, 0, 1)};
	uint8_t payload[8] = {0};
	size_t n = build_ipv4(&in, h_our_mac, &fh, payload, sizeof(payload));
	harness_inject(&h, in.b, n);
	const uint8_t *icmp = take_icmp_to_peer(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_DEST_UNREACH);
	ck_assert_uint_eq(icmp[1], ICMP_NET_UNREACH);
	ck_assert_uint_eq(h.st->drops[DROP_IP_NO_ROUTE], 1);
}
END_TEST

static enum filter_verdict drop_all(void *ctx, enum filter_hook hook, const struct nbuf *nb,
				    const struct ipv4_hdr *ih)
{
	(void)ctx;
	(void)hook;
	(void)nb;
	(void)ih;
	return FILTER_DROP;
}

START_TEST(forward_hook_can_drop)
{
	struct frame in;
	ck_assert_int_eq(filter_register(&h.st->filter, HOOK_FORWARD, drop_all, NULL), 0);
	size_t n = build_to_lan2(&in, 64, false, 40);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_FILTER], 1);
	ck_assert_ptr_null(take2());
}
END_TEST

START_TEST(partial_checksum_completed_when_forwarded)
{
	struct frame in;
	struct ipv4_hdr fh;
	struct udp_hdr uh;
	uint8_t dgram[UDP_HLEN + 4] = {0x13, 0x88, 0x00, 0x35, 0, UDP_HLEN + 4, 0xab, 0xcd,
				       'd', 'a', 't', 'a'};	/* 0xabcd: a partial sum */
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_UDP_, .src = H_PEER_IP, .dst = LAN2_HOST};
	size_t n = build_ipv4(&in, h_our_mac, &ih, dgram, sizeof(dgram));
	struct nbuf *nb = nbuf_alloc(&h.st->pool, NETDEV_RX_HEADROOM + n);
	nbuf_reserve(nb, NETDEV_RX_HEADROOM);
	memcpy(nbuf_put(nb, n), in.b, n);
	nb->csum_verified = true;
	netif_receive(h.nif, nb);
	answer_arp_on_lan2();
	nb = take2();
	ck_assert_ptr_nonnull(nb);
	ck_assert_int_eq(ipv4_parse(nb->data + ETH_HLEN, nbuf_len(nb) - ETH_HLEN, &fh), 0);
	ck_assert_int_eq(udp_parse(nb->data + ETH_HLEN + IPV4_HLEN, sizeof(dgram), fh.src, fh.dst,
				   &uh), 0);
	ck_assert_uint_ne(uh.csum, 0xabcd);
	nbuf_free(nb);
}
END_TEST

static void setup_small_mtu(void)
{
	setup_with(true, 1000);
}

START_TEST(df_too_big_gets_frag_needed_with_mtu)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	size_t n = build_to_lan2(&in, 64, true, 1400);
	harness_inject(&h, in.b, n);
	const uint8_t *icmp = take_icmp_to_peer(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_DEST_UNREACH);
	ck_assert_uint_eq(icmp[1], ICMP_FRAG_NEEDED);
	ck_assert_uint_eq(get_be16(icmp + 6), 1000);	/* RFC 1191 next-hop MTU */
	ck_assert_uint_eq(h.st->drops[DROP_IP_FRAG_NEEDED], 1);
}
END_TEST

START_TEST(too_big_without_df_is_fragmented)
{
	struct frame in;
	struct ipv4_hdr fh;
	size_t n = build_to_lan2(&in, 64, false, 1400);
	harness_inject(&h, in.b, n);
	answer_arp_on_lan2();
	size_t got = 0;
	struct nbuf *nb;
	unsigned frags = 0;
	while ((nb = take2())) {
		ck_assert_uint_le(nbuf_len(nb) - ETH_HLEN, 1000);
		ck_assert_int_eq(ipv4_parse(nb->data + ETH_HLEN, nbuf_len(nb) - ETH_HLEN, &fh), 0);
		ck_assert_uint_eq(fh.ttl, 63);
		ck_assert_uint_eq(fh.id, 4242);
		ck_assert_mem_eq(nb->data + ETH_HLEN + IPV4_HLEN,
				 in.b + ETH_HLEN + IPV4_HLEN + fh.frag_off, fh.total_len - IPV4_HLEN);
		got += fh.total_len - IPV4_HLEN;
		frags++;
		nbuf_free(nb);
	}
	ck_assert_uint_eq(frags, 2);
	ck_assert_uint_eq(got, 1400);
}
END_TEST

static void setup_no_forwarding(void)
{
	setup_with(false, 1500);
}

START_TEST(forwarding_off_drops_silently)
{
	struct frame in;
	size_t n = build_to_lan2(&in, 64, false, 40);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_IP_NOT_FOR_US], 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_ptr_null(take2());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pkt_forward");
	TCase *tc = tcase_create("forward");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, forwards_with_ttl_decremented);
	tcase_add_test(tc, ttl_one_gets_time_exceeded);
	tcase_add_test(tc, no_route_gets_net_unreachable);
	tcase_add_test(tc, forward_hook_can_drop);
	tcase_add_test(tc, partial_checksum_completed_when_forwarded);
	suite_add_tcase(s, tc);
	TCase *mtu = tcase_create("mtu");
	tcase_add_checked_fixture(mtu, setup_small_mtu, teardown);
	tcase_add_test(mtu, df_too_big_gets_frag_needed_with_mtu);
	tcase_add_test(mtu, too_big_without_df_is_fragmented);
	suite_add_tcase(s, mtu);
	TCase *off = tcase_create("off");
	tcase_add_checked_fixture(off, setup_no_forwarding, teardown);
	tcase_add_test(off, forwarding_off_drops_silently);
	suite_add_tcase(s, off);
	return run_suite(s);
}
