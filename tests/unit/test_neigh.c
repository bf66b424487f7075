/*
 * test_neigh.c: ARP and the neighbour cache, as traces on the harness:
 * answering requests, resolving with a bounded queue, retransmission and
 * failure, REACHABLE -> STALE -> PROBE, and resistance to poisoning.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

static const uint8_t zero_mac[6];
static const uint8_t host5_mac[6] = {0x02, 0, 0, 0, 0, 0x05};
#define HOST5 IPV4(10, 0, 0, 5)

static void expect_arp(struct harness *h, const uint8_t *eth_dst, uint16_t op, uint32_t tpa,
		       const uint8_t *tha)
{
	struct frame f;
	struct eth_hdr eh;
	struct arp_pkt a;
	ck_assert_uint_eq(harness_take(h, &f), ETH_HLEN + ARP_LEN);
	ck_assert_int_eq(eth_parse(f.b, f.len, &eh), 0);
	ck_assert_uint_eq(eh.type, ETHERTYPE_ARP);
	ck_assert_mem_eq(eh.dst, eth_dst, 6);
	ck_assert_mem_eq(eh.src, h_our_mac, 6);
	ck_assert_int_eq(arp_parse(f.b + ETH_HLEN, ARP_LEN, &a), 0);
	ck_assert_uint_eq(a.op, op);
	ck_assert_mem_eq(a.sha, h_our_mac, 6);
	ck_assert_uint_eq(a.spa, H_OUR_IP);
	ck_assert_uint_eq(a.tpa, tpa);
	ck_assert_mem_eq(a.tha, tha, 6);
}

/* An echo request from a host the stack has never heard of: its reply
 * needs that host resolved. */
static void echo_from_unknown(struct harness *h, uint16_t seq)
{
	struct frame f;
	size_t n = build_echo(&f, HOST5, H_OUR_IP, 1, seq, 16);
	memcpy(f.b + 6, host5_mac, 6);
	harness_inject(h, f.b, n);
}

static void arp_reply_from_host5(struct harness *h, const uint8_t *mac)
{
	struct frame f;
	size_t n = build_arp(&f, h_our_mac, ARP_OP_REPLY, mac, HOST5, h_our_mac, H_OUR_IP);
	harness_inject(h, f.b, n);
}

START_TEST(gratuitous_arp_at_start)
{
	struct harness h;
	harness_init(&h);	/* takes the announcement */
	netif_up(h.nif);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, H_OUR_IP, zero_mac);
	harness_teardown(&h);
}
END_TEST

START_TEST(request_for_us_answered_and_learned_stale)
{
	struct harness h;
	struct frame f;
	harness_init(&h);
	size_t n = build_arp(&f, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, zero_mac,
			     H_OUR_IP);
	harness_inject(&h, f.b, n);
	expect_arp(&h, h_peer_mac, ARP_OP_REPLY, H_PEER_IP, h_peer_mac);
	struct neigh *ne = neigh_lookup(h.st, h.nif, H_PEER_IP);
	ck_assert_ptr_nonnull(ne);
	ck_assert_int_eq(ne->state, NEIGH_STALE);
	ck_assert_mem_eq(ne->mac, h_peer_mac, 6);
	ck_assert_uint_eq(h.st->stats[STAT_ARP_IN_REQUESTS], 1);
	harness_teardown(&h);
}
END_TEST

START_TEST(request_for_other_address_not_answered_nor_learned)
{
	struct harness h;
	struct frame f;
	harness_init(&h);
	size_t n = build_arp(&f, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, zero_mac,
			     IPV4(10, 0, 0, 77));
	harness_inject(&h, f.b, n);
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_ptr_null(neigh_lookup(h.st, h.nif, H_PEER_IP));
	ck_assert_uint_eq(h.st->drops[DROP_ARP_NOT_FOR_US], 1);
	harness_teardown(&h);
}
END_TEST

START_TEST(resolution_queues_then_sends)
{
	struct harness h;
	struct frame f;
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	harness_init(&h);
	echo_from_unknown(&h, 1);
	echo_from_unknown(&h, 2);
	/* one broadcast request; both replies wait */
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_int_eq(neigh_lookup(h.st, h.nif, HOST5)->state, NEIGH_INCOMPLETE);
	arp_reply_from_host5(&h, host5_mac);
	for (int seq = 1; seq <= 2; seq++) {
		ck_assert_uint_gt(harness_take(&h, &f), 0);
		const uint8_t *icmp = frame_ipv4(&f, &eh, &ih);
		ck_assert_ptr_nonnull(icmp);
		ck_assert_mem_eq(eh.dst, host5_mac, 6);
		ck_assert_uint_eq(ih.dst, HOST5);
		ck_assert_uint_eq(icmp[0], ICMP_ECHOREPLY);
		ck_assert_uint_eq(get_be16(icmp + 6), seq);	/* in order */
	}
	ck_assert_int_eq(neigh_lookup(h.st, h.nif, HOST5)->state, NEIGH_REACHABLE);
	harness_teardown(&h);
}
END_TEST

START_TEST(queue_is_bounded_oldest_dropped)
{
	struct harness h;
	struct frame f;
	harness_init(&h);
	unsigned qlen = h.st->params.arp_queue_len;
	for (unsigned i = 0; i < qlen + 3; i++)
		echo_from_unknown(&h, (uint16_t)i);
	ck_assert_uint_eq(h.st->drops[DROP_ARP_QUEUE_FULL], 3);
	/* the waiting packets are every buffer the stack holds */
	ck_assert_uint_eq(stack_held_buffers(h.st), qlen);
	ck_assert_uint_eq(nbuf_pool_in_use(&h.st->pool), qlen);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	arp_reply_from_host5(&h, host5_mac);
	unsigned sent = 0;
	uint16_t first = 0;
	while (harness_take(&h, &f)) {
		if (sent++ == 0)
			first = get_be16(f.b + ETH_HLEN + IPV4_HLEN + 6);
	}
	ck_assert_uint_eq(sent, qlen);
	ck_assert_uint_eq(first, 3);	/* 0, 1 and 2 were the oldest */
	harness_teardown(&h);
}
END_TEST

START_TEST(retransmits_then_fails_and_frees)
{
	struct harness h;
	harness_init(&h);
	echo_from_unknown(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	harness_advance(&h, 999);
	ck_assert_uint_eq(harness_pending(&h), 0);
	harness_advance(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	harness_advance(&h, 1000);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	ck_assert_uint_eq(h.st->drops[DROP_ARP_RESOLVE_FAILED], 0);
	harness_advance(&h, 1000);
	ck_assert_uint_eq(h.st->drops[DROP_ARP_RESOLVE_FAILED], 1);
	ck_assert_int_eq(neigh_lookup(h.st, h.nif, HOST5)->state, NEIGH_FAILED);
	/* a failed entry refuses packets at once, without asking again */
	echo_from_unknown(&h, 2);
	ck_assert_uint_eq(h.st->drops[DROP_ARP_RESOLVE_FAILED], 2);
	ck_assert_uint_eq(harness_pending(&h), 0);
	harness_advance(&h, h.st->params.arp_failed_ms);
	ck_assert_ptr_null(neigh_lookup(h.st, h.nif, HOST5));
	harness_teardown(&h);
}
END_TEST

START_TEST(reachable_goes_stale_then_delay_then_probe_unicast)
{
	struct harness h;
	struct frame f;
	harness_init(&h);
	echo_from_unknown(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	arp_reply_from_host5(&h, host5_mac);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	harness_advance(&h, h.st->params.arp_reachable_ms);
	struct neigh *ne = neigh_lookup(h.st, h.nif, HOST5);
	ck_assert_int_eq(ne->state, NEIGH_STALE);
	/* used while stale: the reply goes out at once, no probe yet */
	echo_from_unknown(&h, 2);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	ck_assert_uint_eq(f.b[ETH_HLEN + IPV4_HLEN], ICMP_ECHOREPLY);
	ck_assert_int_eq(ne->state, NEIGH_DELAY);
	harness_advance(&h, h.st->params.arp_delay_ms - 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
	/* not confirmed in time: a unicast probe */
	harness_advance(&h, 1);
	expect_arp(&h, host5_mac, ARP_OP_REQUEST, HOST5, zero_mac);
	ck_assert_int_eq(ne->state, NEIGH_PROBE);
	arp_reply_from_host5(&h, host5_mac);
	ck_assert_int_eq(ne->state, NEIGH_REACHABLE);
	harness_teardown(&h);
}
END_TEST

START_TEST(unanswered_probes_fail_the_entry)
{
	struct harness h;
	struct frame f;
	harness_init(&h);
	echo_from_unknown(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	arp_reply_from_host5(&h, host5_mac);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	harness_advance(&h, h.st->params.arp_reachable_ms);
	echo_from_unknown(&h, 2);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	harness_advance(&h, h.st->params.arp_delay_ms);
	for (unsigned i = 0; i < h.st->params.arp_probes; i++) {
		expect_arp(&h, host5_mac, ARP_OP_REQUEST, HOST5, zero_mac);
		harness_advance(&h, h.st->params.arp_retrans_ms);
	}
	ck_assert_int_eq(neigh_lookup(h.st, h.nif, HOST5)->state, NEIGH_FAILED);
	harness_teardown(&h);
}
END_TEST

START_TEST(unsolicited_reply_cannot_poison)
{
	struct harness h;
	const uint8_t evil[6] = {0x02, 0xee, 0xee, 0xee, 0xee, 0xee};
	struct frame f;
	harness_init(&h);
	/* reply about a host we never asked for: no entry */
	arp_reply_from_host5(&h, evil);
	ck_assert_ptr_null(neigh_lookup(h.st, h.nif, HOST5));
	ck_assert_uint_eq(h.st->drops[DROP_ARP_UNSOLICITED], 1);
	/* resolved entry: a later reply with another MAC changes nothing */
	echo_from_unknown(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	arp_reply_from_host5(&h, host5_mac);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	arp_reply_from_host5(&h, evil);
	ck_assert_mem_eq(neigh_lookup(h.st, h.nif, HOST5)->mac, host5_mac, 6);
	ck_assert_uint_eq(h.st->drops[DROP_ARP_UNSOLICITED], 2);
	harness_teardown(&h);
}
END_TEST

START_TEST(request_updates_only_non_reachable_entry)
{
	struct harness h;
	const uint8_t moved[6] = {0x02, 0, 0, 0, 0, 0x55};
	struct frame f;
	harness_init(&h);
	echo_from_unknown(&h, 1);
	expect_arp(&h, eth_broadcast, ARP_OP_REQUEST, HOST5, zero_mac);
	arp_reply_from_host5(&h, host5_mac);
	ck_assert_uint_gt(harness_take(&h, &f), 0);
	size_t n = build_arp(&f, eth_broadcast, ARP_OP_REQUEST, moved, HOST5, zero_mac, H_OUR_IP);
	harness_inject(&h, f.b, n);	/* answered, but REACHABLE keeps its MAC */
	expect_arp(&h, moved, ARP_OP_REPLY, HOST5, moved);
	ck_assert_mem_eq(neigh_lookup(h.st, h.nif, HOST5)->mac, host5_mac, 6);
	harness_advance(&h, h.st->params.arp_reachable_ms);	/* now STALE */
	harness_inject(&h, f.b, n);
	expect_arp(&h, moved, ARP_OP_REPLY, HOST5, moved);
	ck_assert_mem_eq(neigh_lookup(h.st, h.nif, HOST5)->mac, moved, 6);
	harness_teardown(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("neigh");
	TCase *tc = tcase_create("arp");
	tcase_add_test(tc, gratuitous_arp_at_start);
	tcase_add_test(tc, request_for_us_answered_and_learned_stale);
	tcase_add_test(tc, request_for_other_address_not_answered_nor_learned);
	tcase_add_test(tc, resolution_queues_then_sends);
	tcase_add_test(tc, queue_is_bounded_oldest_dropped);
	tcase_add_test(tc, retransmits_then_fails_and_frees);
	tcase_add_test(tc, reachable_goes_stale_then_delay_then_probe_unicast);
	tcase_add_test(tc, unanswered_probes_fail_the_entry);
	tcase_add_test(tc, unsolicited_reply_cannot_poison);
	tcase_add_test(tc, request_updates_only_non_reachable_entry);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
