/*
 * test_pkt_ip.c: IPv4 and ICMP as packet traces: echo replies byte for
 * byte, an 8000-byte echo fragmented both ways, protocol unreachable,
 * parameter problem, the cases where no error may be sent, rate limiting,
 * reassembly timeout, and the filter hooks.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netd/wire/checksum.h"
#include "tests/harness.h"

static struct harness h;

static void setup(void)
{
	harness_init(&h);
	harness_learn_peer(&h);
}

static void teardown(void)
{
	harness_teardown(&h);
}

/* Takes one frame and checks it is IPv4 from us to the peer; returns the payload. */
static const uint8_t *take_ip(struct frame *f, struct ipv4_hdr *ih)
{
	struct eth_hdr eh;
	ck_assert_uint_gt(harness_take(&h, f), 0);
	const uint8_t *p = frame_ipv4(f, &eh, ih);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(eh.dst, h_peer_mac, 6);
	ck_assert_mem_eq(eh.src, h_our_mac, 6);
	ck_assert_uint_eq(ih->src, H_OUR_IP);
	ck_assert_uint_eq(ih->dst, H_PEER_IP);
	return p;
}

START_TEST(echo_reply_is_exact)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	size_t n = build_echo(&in, H_PEER_IP, H_OUR_IP, 0x4242, 7, 56);
	in.b[ETH_HLEN + 1] = 0x10;	/* TOS, kept in the reply */
	ipv4_set_csum(in.b + ETH_HLEN, IPV4_HLEN);
	harness_inject(&h, in.b, n);
	const uint8_t *icmp = take_ip(&out, &ih);
	ck_assert_uint_eq(out.len, n);
	ck_assert_uint_eq(ih.proto, IPPROTO_ICMP_);
	ck_assert_uint_eq(ih.ttl, 64);
	ck_assert_uint_eq(ih.tos, 0x10);
	ck_assert_uint_eq(icmp[0], ICMP_ECHOREPLY);
	ck_assert_uint_eq(icmp[1], 0);
	ck_assert_uint_eq(inet_csum(icmp, ICMP_HLEN + 56), 0);
	/* identifier, sequence and data unchanged */
	ck_assert_mem_eq(icmp + 4, in.b + ETH_HLEN + IPV4_HLEN + 4, 4 + 56);
	ck_assert_uint_eq(harness_pending(&h), 0);
	ck_assert_uint_eq(h.st->stats[STAT_ICMP_OUT_ECHO_REPS], 1);
}
END_TEST

/* Sends the datagram at f (Ethernet + IPv4) as fragments of at most mtu. */
static unsigned inject_fragments(const struct frame *whole, unsigned mtu, bool reverse)
{
	const uint8_t *ip = whole->b + ETH_HLEN;
	size_t total = whole->len - ETH_HLEN, payload = total - IPV4_HLEN;
	size_t step = (mtu - IPV4_HLEN) & ~7u;
	unsigned count = (unsigned)((payload + step - 1) / step);
	for (unsigned k = 0; k < count; k++) {
		unsigned i = reverse ? count - 1 - k : k;
		size_t off = i * step, len = MIN(step, payload - off);
		struct frame f;
		struct ipv4_hdr fh;
		ck_assert_int_eq(ipv4_parse(ip, total, &fh), 0);
		fh.frag_off = (uint16_t)off;
		fh.mf = i + 1 < count;
		fh.df = false;
		size_t n = build_ipv4(&f, h_our_mac, &fh, ip + IPV4_HLEN + off, len);
		harness_inject(&h, f.b, n);
	}
	return count;
}

/* Takes the fragments of one reply and puts its payload back together. */
static size_t take_reassembled(uint8_t *payload, unsigned mtu, unsigned *nfrags)
{
	struct frame f;
	struct ipv4_hdr ih;
	size_t end = 0;
	bool last = false;
	*nfrags = 0;
	while (!last) {
		const uint8_t *p = take_ip(&f, &ih);
		ck_assert_uint_le(ih.total_len, mtu);
		ck_assert(!ih.df);
		ck_assert_uint_eq(ih.frag_off % 8, 0);
		memcpy(payload + ih.frag_off, p, ih.total_len - ih.hlen);
		end = MAX(end, (size_t)ih.frag_off + ih.total_len - ih.hlen);
		last = !ih.mf;
		(*nfrags)++;
	}
	return end;
}

static void check_big_echo(bool reverse)
{
	static struct frame in;
	static uint8_t reply[70000];
	unsigned nout;
	size_t n = build_echo(&in, H_PEER_IP, H_OUR_IP, 9, 3, 8000);
	ck_assert_uint_eq(inject_fragments(&in, 1500, reverse), 6);
	ck_assert_uint_eq(h.st->stats[STAT_IP_REASM_OKS], 1);
	size_t len = take_reassembled(reply, 1500, &nout);
	ck_assert_uint_eq(nout, 6);
	ck_assert_uint_eq(len, ICMP_HLEN + 8000);
	ck_assert_uint_eq(reply[0], ICMP_ECHOREPLY);
	ck_assert_uint_eq(inet_csum(reply, len), 0);
	ck_assert_mem_eq(reply + 4, in.b + ETH_HLEN + IPV4_HLEN + 4, 4 + 8000);
	ck_assert_uint_eq(n, ETH_HLEN + IPV4_HLEN + ICMP_HLEN + 8000);
	ck_assert_uint_eq(harness_pending(&h), 0);
}

START_TEST(echo_8000_fragmented_both_ways)
{
	check_big_echo(false);
}
END_TEST

START_TEST(echo_8000_fragments_in_reverse_order)
{
	check_big_echo(true);
}
END_TEST

static size_t build_proto(struct frame *f, uint8_t proto, uint32_t dst, const uint8_t *eth_dst)
{
	uint8_t payload[32];
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	struct ipv4_hdr ih = {.ttl = 64, .proto = proto, .src = H_PEER_IP, .dst = dst, .id = 77};
	return build_ipv4(f, eth_dst, &ih, payload, sizeof(payload));
}

START_TEST(unknown_protocol_gets_protocol_unreachable)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	size_t n = build_proto(&in, 99, H_OUR_IP, h_our_mac);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_IP_UNKNOWN_PROTO], 1);
	const uint8_t *icmp = take_ip(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_DEST_UNREACH);
	ck_assert_uint_eq(icmp[1], ICMP_PROT_UNREACH);
	ck_assert_uint_eq(ih.tos & 0xe0, 0xc0);
	size_t qlen = ih.total_len - ih.hlen - ICMP_HLEN;
	ck_assert_uint_eq(qlen, n - ETH_HLEN);	/* the whole datagram fits in 576 */
	ck_assert_mem_eq(icmp + ICMP_HLEN, in.b + ETH_HLEN, qlen);
	ck_assert_uint_eq(inet_csum(icmp, ICMP_HLEN + qlen), 0);
}
END_TEST

START_TEST(no_error_about_broadcast_or_multicast)
{
	struct frame in;
	size_t n = build_proto(&in, 99, IPV4(10, 0, 0, 255), eth_broadcast);
	harness_inject(&h, in.b, n);
	n = build_proto(&in, 99, 0xe0000001, (const uint8_t[]){0x01, 0x00, 0x5e, 0, 0, 1});
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_IP_UNKNOWN_PROTO], 2);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(broadcast_echo_ignored)
{
	struct frame in;
	size_t n = build_echo(&in, H_PEER_IP, IPV4(10, 0, 0, 255), 1, 1, 8);
	memcpy(in.b, eth_broadcast, 6);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_ICMP_BCAST_ECHO], 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

static size_t build_with_bad_option(struct frame *f, uint8_t proto, const uint8_t *payload,
				    size_t plen)
{
	size_t n = build_proto(f, proto, H_OUR_IP, h_our_mac);
	uint8_t *ip = f->b + ETH_HLEN;
	/* move the payload 4 bytes on and put a record-route option claiming 40 bytes */
	memcpy(ip + 24, payload, plen);
	ip[0] = 0x46;
	ip[20] = 0x07;
	ip[21] = 40;
	ip[22] = 4;
	ip[23] = 0;
	put_be16(ip + 2, (uint16_t)(24 + plen));
	ipv4_set_csum(ip, 24);
	f->len = ETH_HLEN + 24 + plen;
	(void)n;
	return f->len;
}

START_TEST(bad_option_gets_parameter_problem_pointing_at_it)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	const uint8_t udp[8] = {0, 1, 0, 2, 0, 8, 0, 0};
	size_t n = build_with_bad_option(&in, IPPROTO_UDP_, udp, sizeof(udp));
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_IP_OPTIONS], 1);
	const uint8_t *icmp = take_ip(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_PARAMETERPROB);
	ck_assert_uint_eq(icmp[4], 21);	/* the length byte of the option */
}
END_TEST

START_TEST(no_error_about_an_icmp_error)
{
	struct frame in;
	uint8_t err_msg[8 + 28] = {ICMP_DEST_UNREACH, ICMP_PORT_UNREACH};
	size_t n = build_with_bad_option(&in, IPPROTO_ICMP_, err_msg, sizeof(err_msg));
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_IP_OPTIONS], 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(errors_rate_limited_per_destination)
{
	struct frame in, out;
	size_t n = build_proto(&in, 99, H_OUR_IP, h_our_mac);
	for (int i = 0; i < 10; i++)
		harness_inject(&h, in.b, n);
	unsigned sent = 0;
	while (harness_take(&h, &out))
		sent++;
	ck_assert_uint_eq(sent, 6);	/* burst of six */
	ck_assert_uint_eq(h.st->stats[STAT_ICMP_RATELIMITED], 4);
	harness_advance(&h, 999);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(harness_pending(&h), 0);
	harness_advance(&h, 1);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(harness_pending(&h), 1);
}
END_TEST

START_TEST(reassembly_timeout_sends_time_exceeded)
{
	static struct frame whole;
	struct frame f, out;
	struct ipv4_hdr ih, fh;
	build_echo(&whole, H_PEER_IP, H_OUR_IP, 1, 1, 3000);
	ck_assert_int_eq(ipv4_parse(whole.b + ETH_HLEN, whole.len - ETH_HLEN, &fh), 0);
	fh.mf = true;	/* only the first fragment ever arrives */
	size_t n = build_ipv4(&f, h_our_mac, &fh, whole.b + ETH_HLEN + IPV4_HLEN, 1480);
	harness_inject(&h, f.b, n);
	harness_advance(&h, 29999);
	ck_assert_uint_eq(harness_pending(&h), 0);
	harness_advance(&h, 1);
	const uint8_t *icmp = take_ip(&out, &ih);
	ck_assert_uint_eq(icmp[0], ICMP_TIME_EXCEEDED);
	ck_assert_uint_eq(icmp[1], ICMP_EXC_FRAGTIME);
	ck_assert_uint_eq(h.st->drops[DROP_FRAG_TIMEOUT], 1);
}
END_TEST

static enum filter_hook seen_hooks[8];
static unsigned nseen;

static enum filter_verdict record_accept(void *ctx, enum filter_hook hook, const struct nbuf *nb,
					 const struct ipv4_hdr *ih)
{
	(void)ctx;
	(void)nb;
	(void)ih;
	seen_hooks[nseen++ % 8] = hook;
	return FILTER_ACCEPT;
}

static enum filter_verdict drop_icmp(void *ctx, enum filter_hook hook, const struct nbuf *nb,
				     const struct ipv4_hdr *ih)
{
	(void)ctx;
	(void)hook;
	(void)nb;
	return ih->proto == IPPROTO_ICMP_ ? FILTER_DROP : FILTER_ACCEPT;
}

START_TEST(filter_hooks_run_in_path_order)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	for (int k = 0; k < HOOK_MAX; k++)
		ck_assert_int_eq(filter_register(&h.st->filter, (enum filter_hook)k, record_accept,
						 NULL), 0);
	nseen = 0;
	size_t n = build_echo(&in, H_PEER_IP, H_OUR_IP, 1, 1, 8);
	harness_inject(&h, in.b, n);
	take_ip(&out, &ih);
	ck_assert_uint_eq(nseen, 4);
	ck_assert_int_eq(seen_hooks[0], HOOK_PRE_ROUTING);
	ck_assert_int_eq(seen_hooks[1], HOOK_LOCAL_IN);
	ck_assert_int_eq(seen_hooks[2], HOOK_LOCAL_OUT);
	ck_assert_int_eq(seen_hooks[3], HOOK_POST_ROUTING);
}
END_TEST

START_TEST(filter_drop_counts_and_stops)
{
	struct frame in;
	ck_assert_int_eq(filter_register(&h.st->filter, HOOK_LOCAL_IN, drop_icmp, NULL), 0);
	size_t n = build_echo(&in, H_PEER_IP, H_OUR_IP, 1, 1, 8);
	harness_inject(&h, in.b, n);
	ck_assert_uint_eq(h.st->drops[DROP_FILTER], 1);
	ck_assert_uint_eq(harness_pending(&h), 0);
}
END_TEST

START_TEST(padding_after_total_length_ignored)
{
	struct frame in, out;
	struct ipv4_hdr ih;
	size_t n = build_echo(&in, H_PEER_IP, H_OUR_IP, 1, 1, 0);	/* 42-byte frame */
	memset(in.b + n, 0xee, 18);	/* Ethernet pads to 60 */
	harness_inject(&h, in.b, n + 18);
	const uint8_t *icmp = take_ip(&out, &ih);
	ck_assert_uint_eq(ih.total_len, IPV4_HLEN + ICMP_HLEN);
	ck_assert_uint_eq(inet_csum(icmp, ICMP_HLEN), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pkt_ip");
	TCase *tc = tcase_create("ip");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, echo_reply_is_exact);
	tcase_add_test(tc, echo_8000_fragmented_both_ways);
	tcase_add_test(tc, echo_8000_fragments_in_reverse_order);
	tcase_add_test(tc, unknown_protocol_gets_protocol_unreachable);
	tcase_add_test(tc, no_error_about_broadcast_or_multicast);
	tcase_add_test(tc, broadcast_echo_ignored);
	tcase_add_test(tc, bad_option_gets_parameter_problem_pointing_at_it);
	tcase_add_test(tc, no_error_about_an_icmp_error);
	tcase_add_test(tc, errors_rate_limited_per_destination);
	tcase_add_test(tc, reassembly_timeout_sends_time_exceeded);
	tcase_add_test(tc, filter_hooks_run_in_path_order);
	tcase_add_test(tc, filter_drop_counts_and_stops);
	tcase_add_test(tc, padding_after_total_length_ignored);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
