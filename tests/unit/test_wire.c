/*
 * test_wire.c: parse/emit round trips of the wire layer, truncated and
 * impossible lengths, checksums, and the address parsers.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <stdlib.h>
#include <string.h>

#include "netd/stats.h"
#include "netd/util.h"
#include "netd/wire/arp.h"
#include "netd/wire/checksum.h"
#include "netd/wire/eth.h"
#include "netd/wire/icmp.h"
#include "netd/wire/ipv4.h"

START_TEST(checksum_rfc1071_example)
{
	/* RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2. */
	const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	ck_assert_uint_eq(csum_partial(b, sizeof(b), 0), 0x2ddf0);
	ck_assert_uint_eq(csum_fold(csum_partial(b, sizeof(b), 0)), (uint16_t)~0xddf2);
	/* odd length pads with zero */
	const uint8_t odd[] = {0x01};
	ck_assert_uint_eq(csum_partial(odd, 1, 0), 0x100);
}
END_TEST

START_TEST(checksum_incremental_matches_full)
{
	uint8_t hdr[20];
	struct ipv4_hdr h = {.ttl = 64, .proto = 1, .src = 0x0a000001, .dst = 0x0a000002,
			     .total_len = 84, .id = 7};
	ipv4_emit(hdr, &h);
	uint16_t old = get_be16(hdr + 8);
	hdr[8]--;
	uint16_t inc = csum_update16(get_be16(hdr + 10), old, get_be16(hdr + 8));
	ipv4_set_csum(hdr, 20);
	ck_assert_uint_eq(inc, get_be16(hdr + 10));
}
END_TEST

START_TEST(eth_roundtrip_and_short)
{
	uint8_t b[14];
	struct eth_hdr h = {.dst = {1, 2, 3, 4, 5, 6}, .src = {2, 0, 0, 0, 0, 1}, .type = 0x0806}, p;
	eth_emit(b, &h);
	ck_assert_int_eq(eth_parse(b, 14, &p), 0);
	ck_assert_mem_eq(&p, &h, sizeof(h.dst) + sizeof(h.src));
	ck_assert_uint_eq(p.type, 0x0806);
	ck_assert_int_eq(eth_parse(b, 13, &p), DROP_ETH_SHORT);
	ck_assert(eth_is_multicast(h.dst));
	ck_assert(!eth_is_multicast(h.src));
	uint8_t m[6];
	eth_ipv4_mcast(0xe0000001, m);
	ck_assert_mem_eq(m, ((uint8_t[]){0x01, 0x00, 0x5e, 0, 0, 1}), 6);
	char s[ETH_MAC_STRLEN];
	ck_assert_str_eq(eth_ntoa(h.src, s), "02:00:00:00:00:01");
	ck_assert_int_eq(eth_aton("02:00:00:aa:bb:cc", m), 0);
	ck_assert_uint_eq(m[3], 0xaa);
	ck_assert_int_lt(eth_aton("02:00:00:aa:bb", m), 0);
	ck_assert_int_lt(eth_aton("02:00:00:aa:bb:cc:dd", m), 0);
}
END_TEST

START_TEST(arp_roundtrip_and_rejects)
{
	uint8_t b[ARP_LEN];
	struct arp_pkt a = {.op = ARP_OP_REPLY, .sha = {2, 0, 0, 0, 0, 1}, .spa = 0x0a000001,
			    .tha = {2, 0, 0, 0, 0, 2}, .tpa = 0x0a000002}, p;
	arp_emit(b, &a);
	ck_assert_int_eq(arp_parse(b, ARP_LEN, &p), 0);
	ck_assert_uint_eq(p.spa, a.spa);
	ck_assert_uint_eq(p.tpa, a.tpa);
	ck_assert_mem_eq(p.tha, a.tha, 6);
	ck_assert_int_eq(arp_parse(b, ARP_LEN - 1, &p), DROP_ARP_MALFORMED);
	ck_assert_int_eq(arp_parse(b, 7, &p), DROP_ARP_MALFORMED);
	b[1] = 6;	/* htype 6 */
	ck_assert_int_eq(arp_parse(b, ARP_LEN, &p), DROP_ARP_UNSUPPORTED);
	arp_emit(b, &a);
	b[4] = 200;	/* hlen claims more than the packet holds */
	ck_assert_int_eq(arp_parse(b, ARP_LEN, &p), DROP_ARP_MALFORMED);
	arp_emit(b, &a);
	b[7] = 9;	/* opcode 9 */
	ck_assert_int_eq(arp_parse(b, ARP_LEN, &p), DROP_ARP_UNSUPPORTED);
}
END_TEST

static void emit_ip(uint8_t *b, uint16_t total)
{
	struct ipv4_hdr h = {.ttl = 9, .proto = 17, .src = 0xc0a80001, .dst = 0xc0a80002,
			     .total_len = total, .id = 0x1234, .df = true, .tos = 0x10};
	ipv4_emit(b, &h);
}

START_TEST(ipv4_roundtrip)
{
	uint8_t b[64] = {0};
	struct ipv4_hdr p;
	emit_ip(b, 40);
	ck_assert_int_eq(ipv4_parse(b, 40, &p), 0);
	ck_assert_uint_eq(p.hlen, 20);
	ck_assert_uint_eq(p.total_len, 40);
	ck_assert_uint_eq(p.id, 0x1234);
	ck_assert(p.df && !p.mf);
	ck_assert_uint_eq(p.ttl, 9);
	ck_assert_uint_eq(p.src, 0xc0a80001);
	ck_assert_uint_eq(p.tos, 0x10);
	/* a frame longer than total_len (Ethernet padding) is fine */
	ck_assert_int_eq(ipv4_parse(b, 60, &p), 0);
}
END_TEST

START_TEST(ipv4_rejects_each_bad_field)
{
	uint8_t b[64] = {0};
	struct ipv4_hdr p;
	emit_ip(b, 40);
	ck_assert_int_eq(ipv4_parse(b, 19, &p), DROP_IP_SHORT);
	ck_assert_int_eq(ipv4_parse(b, 39, &p), DROP_IP_TOTLEN);	/* truncated frame */
	b[0] = 0x65;
	ck_assert_int_eq(ipv4_parse(b, 40, &p), DROP_IP_VERSION);
	b[0] = 0x44;	/* IHL 16 bytes */
	ck_assert_int_eq(ipv4_parse(b, 40, &p), DROP_IP_HDRLEN);
	b[0] = 0x4f;	/* IHL 60 > 40 bytes here */
	ck_assert_int_eq(ipv4_parse(b, 40, &p), DROP_IP_HDRLEN);
	emit_ip(b, 16);	/* total below header */
	ck_assert_int_eq(ipv4_parse(b, 40, &p), DROP_IP_TOTLEN);
	emit_ip(b, 40);
	b[8] ^= 1;	/* TTL changed, checksum not */
	ck_assert_int_eq(ipv4_parse(b, 40, &p), DROP_IP_CSUM);
}
END_TEST

static void emit_with_options(uint8_t *b, const uint8_t *opt, size_t olen)
{
	emit_ip(b, (uint16_t)(20 + olen + 8));
	b[0] = (uint8_t)(0x40 | (20 + olen) / 4);
	memcpy(b + 20, opt, olen);
	put_be16(b + 2, (uint16_t)(20 + olen + 8));
	ipv4_set_csum(b, 20 + olen);
}

START_TEST(ipv4_options_walked_safely)
{
	uint8_t b[128] = {0};
	struct ipv4_hdr p;
	const uint8_t good[] = {IPV4_OPT_NOP, 0x94, 4, 0, 0, IPV4_OPT_NOP, IPV4_OPT_NOP, 0};
	emit_with_options(b, good, sizeof(good));	/* router alert, padded */
	ck_assert_int_eq(ipv4_parse(b, 56, &p), 0);
	ck_assert_uint_eq(p.hlen, 28);
	const uint8_t overrun[] = {0x07, 40, 4, 0};	/* record route longer than header */
	emit_with_options(b, overrun, sizeof(overrun));
	ck_assert_int_eq(ipv4_parse(b, 56, &p), DROP_IP_OPTIONS);
	ck_assert_uint_eq(ipv4_options_error(b, 24), 21);
	ck_assert_uint_eq(p.src, 0xc0a80001);	/* filled in for the ICMP error */
	const uint8_t zero_len[] = {0x44, 0, 0, 0};
	emit_with_options(b, zero_len, sizeof(zero_len));
	ck_assert_int_eq(ipv4_parse(b, 56, &p), DROP_IP_OPTIONS);
	const uint8_t dangling[] = {IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, 0x83};
	emit_with_options(b, dangling, sizeof(dangling));
	ck_assert_int_eq(ipv4_parse(b, 56, &p), DROP_IP_OPTIONS);
}
END_TEST

START_TEST(ipv4_copied_options_only)
{
	uint8_t b[128] = {0}, out[40];
	/* LSRR (copied, 0x83, len 7), timestamp (not copied, 0x44, len 8), padded */
	const uint8_t opt[] = {0x83, 7, 4, 1, 2, 3, 4, 0x44, 8, 5, 0, 0, 0, 0, 0, 0};
	emit_with_options(b, opt, sizeof(opt));
	size_t n = ipv4_copied_options(b, 36, out);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(out, opt, 7);
	ck_assert_uint_eq(out[7], IPV4_OPT_EOL);
}
END_TEST

START_TEST(icmp_roundtrip_and_checksum)
{
	uint8_t b[32] = {0};
	struct icmp_hdr h = {.type = ICMP_ECHO, .code = 0, .rest = 0x00010002}, p;
	memcpy(b + 8, "payload!", 8);
	icmp_emit(b, 16, &h);
	ck_assert_int_eq(icmp_parse(b, 16, &p), 0);
	ck_assert_uint_eq(p.rest, 0x00010002);
	ck_assert_int_eq(icmp_parse(b, 7, &p), DROP_ICMP_MALFORMED);
	b[10] ^= 0x40;
	ck_assert_int_eq(icmp_parse(b, 16, &p), DROP_ICMP_CSUM);
	ck_assert(icmp_is_error(ICMP_TIME_EXCEEDED));
	ck_assert(!icmp_is_error(ICMP_ECHO));
}
END_TEST

START_TEST(address_parsers)
{
	uint32_t a;
	unsigned l;
	char s[IPV4_ADDR_STRLEN];
	ck_assert_int_eq(ipv4_parse_prefix("10.0.0.2/24", &a, &l), 0);
	ck_assert_uint_eq(a, 0x0a000002);
	ck_assert_uint_eq(l, 24);
	ck_assert_int_eq(ipv4_parse_prefix("10.0.0.2", &a, &l), 0);
	ck_assert_uint_eq(l, 32);
	ck_assert_int_lt(ipv4_parse_prefix("10.0.0.2/33", &a, &l), 0);
	ck_assert_int_lt(ipv4_parse_prefix("10.0.0.256/8", &a, &l), 0);
	ck_assert_int_lt(ipv4_parse_prefix("10.0.0.1/", &a, &l), 0);
	ck_assert_int_lt(ipv4_parse_prefix("10.0.0.1/2x", &a, &l), 0);
	ck_assert_str_eq(ipv4_ntoa(0xc0a80101, s), "192.168.1.1");
	ck_assert_uint_eq(ipv4_mask(0), 0);
	ck_assert_uint_eq(ipv4_mask(24), 0xffffff00);
	ck_assert_uint_eq(ipv4_mask(32), 0xffffffff);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");
	tcase_add_test(tc, checksum_rfc1071_example);
	tcase_add_test(tc, checksum_incremental_matches_full);
	tcase_add_test(tc, eth_roundtrip_and_short);
	tcase_add_test(tc, arp_roundtrip_and_rejects);
	tcase_add_test(tc, ipv4_roundtrip);
	tcase_add_test(tc, ipv4_rejects_each_bad_field);
	tcase_add_test(tc, ipv4_options_walked_safely);
	tcase_add_test(tc, ipv4_copied_options_only);
	tcase_add_test(tc, icmp_roundtrip_and_checksum);
	tcase_add_test(tc, address_parsers);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
