/*
 * test_malformed.c: what the stack does with frames it must refuse. A table
 * of malformed frames, one row per way a peer can get a frame wrong, each
 * with the drop reasons it must be counted under (and how many times) and
 * the frames the stack may send back: usually none, for a few an exact ICMP
 * error. Every row runs on a fresh harness: the drop counters are compared
 * whole before and after, so a frame counted under the wrong reason, or
 * under two, fails; teardown asserts that no buffer leaked. A last test
 * throws a seeded storm of random frames and mutated valid ones at the
 * stack and asserts that it neither crashes nor leaks.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netd/rng.h"
#include "netd/util.h"
#include "netd/wire/checksum.h"
#include "tests/harness.h"

#define OTHER_IP IPV4(192, 0, 2, 9)
#define SUBNET_BCAST IPV4(10, 0, 0, 255)
#define ALL_HOSTS IPV4(224, 0, 0, 1)
#define ECHO_ID 0x1234
#define ECHO_SEQ 1
#define REASM_TIMEOUT_MS 30000	/* stack_params_default() */

static const uint8_t other_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x66};
static const uint8_t mcast_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};	/* 224.0.0.1 */
static const uint8_t unjoined_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
static const uint8_t zero_mac[6];

/* The frame the current case sends, kept for the checks of what comes back. */
static struct frame fr;
static uint8_t msg[H_FRAME_MAX];
/* The stack's counters just before the case's frames went in. */
static uint64_t stats_before[STAT_MAX];

/* ---- building frames ---- */

static uint8_t *ip_hdr(struct frame *f)
{
	return f->b + ETH_HLEN;
}

static void send_frame(struct harness *h, const struct frame *f)
{
	harness_inject(h, f->b, f->len);
}

/* An echo request, ECHO_ID/ECHO_SEQ with 16 bytes of data, from src to dst
 * inside a frame to eth_dst. */
static void make_echo_to(struct frame *f, uint32_t src, uint32_t dst, const uint8_t *eth_dst)
{
	build_echo(f, src, dst, ECHO_ID, ECHO_SEQ, 16);
	memcpy(f->b, eth_dst, ETH_ALEN);
}

static void make_echo(struct frame *f)
{
	make_echo_to(f, H_PEER_IP, H_OUR_IP, h_our_mac);
}

/* A datagram from the peer to dst with the payload given. */
static void make_ip(struct frame *f, const uint8_t *eth_dst, uint32_t dst, uint8_t proto,
		    const void *payload, size_t plen)
{
	struct ipv4_hdr ih = {.ttl = 64, .proto = proto, .src = H_PEER_IP, .dst = dst, .id = 77};
	build_ipv4(f, eth_dst, &ih, payload, plen);
}

/* An ICMP message from the peer to us: the header given over blen bytes of body. */
static void make_icmp(struct frame *f, uint8_t type, uint8_t code, uint32_t rest,
		      const void *body, size_t blen)
{
	struct icmp_hdr ih = {.type = type, .code = code, .rest = rest};
	memcpy(msg + ICMP_HLEN, body, blen);
	icmp_emit(msg, ICMP_HLEN + blen, &ih);
	make_ip(f, h_our_mac, H_OUR_IP, IPPROTO_ICMP_, msg, ICMP_HLEN + blen);
}

/* Inserts options (a multiple of 4 bytes) after the 20-byte header of f. */
static void add_options(struct frame *f, const uint8_t *opts, size_t olen)
{
	uint8_t *ip = ip_hdr(f);
	memmove(ip + IPV4_HLEN + olen, ip + IPV4_HLEN, f->len - ETH_HLEN - IPV4_HLEN);
	memcpy(ip + IPV4_HLEN, opts, olen);
	ip[0] = (uint8_t)(0x40 | (IPV4_HLEN + olen) / 4);
	put_be16(ip + 2, (uint16_t)(get_be16(ip + 2) + olen));
	f->len += olen;
	ipv4_set_csum(ip, IPV4_HLEN + olen);
}

/* A whole echo request message (header and n bytes of data) into buf. */
static size_t make_echo_msg(uint8_t *buf, size_t n)
{
	struct icmp_hdr ih = {.type = ICMP_ECHO, .rest = (uint32_t)ECHO_ID << 16 | ECHO_SEQ};
	for (size_t i = 0; i < n; i++)
		buf[ICMP_HLEN + i] = (uint8_t)(i * 13 + 1);
	icmp_emit(buf, ICMP_HLEN + n, &ih);
	return ICMP_HLEN + n;
}

/* A fragment from the peer to us of datagram id: len bytes at off. */
static void make_frag(struct frame *f, uint16_t id, unsigned off, bool mf, const uint8_t *data,
		      size_t len)
{
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_ICMP_, .src = H_PEER_IP,
			      .dst = H_OUR_IP, .id = id, .mf = mf, .frag_off = (uint16_t)off};
	build_ipv4(f, h_our_mac, &ih, data, len);
}

static void send_frag(struct harness *h, uint16_t id, unsigned off, bool mf, size_t len)
{
	make_frag(&fr, id, off, mf, msg + off, len);
	send_frame(h, &fr);
}

/* ---- checking what comes back ---- */

/* Takes one frame and checks it is IPv4 from us to the peer; returns the
 * payload (its length in *plen). */
static const uint8_t *take_ip_to_peer(struct harness *h, struct frame *out,
				      struct ipv4_hdr *ih, size_t *plen)
{
	struct eth_hdr eh;
	ck_assert_uint_gt(harness_take(h, out), 0);
	const uint8_t *p = frame_ipv4(out, &eh, ih);
	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(eh.dst, h_peer_mac, ETH_ALEN);
	ck_assert_mem_eq(eh.src, h_our_mac, ETH_ALEN);
	ck_assert_uint_eq(ih->src, H_OUR_IP);
	ck_assert_uint_eq(ih->dst, H_PEER_IP);
	*plen = ih->total_len - ih->hlen;
	return p;
}

/* Asserts that the one frame the stack sent is the ICMP error given,
 * quoting qlen bytes at quote. */
static void expect_icmp_error(struct harness *h, uint8_t type, uint8_t code, uint32_t rest,
			      const uint8_t *quote, size_t qlen)
{
	struct frame out;
	struct ipv4_hdr ih;
	size_t len;
	const uint8_t *icmp = take_ip_to_peer(h, &out, &ih, &len);

	ck_assert_uint_eq(ih.proto, IPPROTO_ICMP_);
	ck_assert_uint_eq(ih.tos & 0xe0, 0xc0);	/* internetwork control */
	ck_assert_uint_eq(len, ICMP_HLEN + qlen);
	ck_assert_uint_eq(inet_csum(icmp, len), 0);
	ck_assert_uint_eq(icmp[0], type);
	ck_assert_uint_eq(icmp[1], code);
	ck_assert_uint_eq(get_be32(icmp + 4), rest);
	ck_assert_mem_eq(icmp + ICMP_HLEN, quote, qlen);
	ck_assert_uint_eq(harness_pending(h), 0);
}

/* Asserts that the one frame the stack sent answers the echo in msg
 * (mlen bytes): same identifier, sequence and data. */
static void expect_echo_reply(struct harness *h, size_t mlen)
{
	struct frame out;
	struct ipv4_hdr ih;
	size_t len;
	const uint8_t *icmp = take_ip_to_peer(h, &out, &ih, &len);

	ck_assert_uint_eq(ih.proto, IPPROTO_ICMP_);
	ck_assert_uint_eq(len, mlen);
	ck_assert_uint_eq(inet_csum(icmp, len), 0);
	ck_assert_uint_eq(icmp[0], ICMP_ECHOREPLY);
	ck_assert_uint_eq(icmp[1], 0);
	ck_assert_mem_eq(icmp + 4, msg + 4, mlen - 4);
	ck_assert_uint_eq(harness_pending(h), 0);
}

/* ---- the peer, as each case needs it ---- */

enum peer_setup {
	PEER_UNKNOWN,	/* the stack has never heard of the peer */
	PEER_STALE,	/* learned from its ARP request, not yet confirmed */
	PEER_REACHABLE,	/* confirmed: what we send it goes out without ARP */
};

/* Confirms the peer: an echo puts its stale entry in DELAY (the reply goes
 * out at once), and an ARP reply from the peer confirms it before the
 * stack would probe. */
static void peer_make_reachable(struct harness *h)
{
	struct frame f;
	size_t n = build_echo(&f, H_PEER_IP, H_OUR_IP, 1, 1, 0);
	harness_inject(h, f.b, n);
	ck_assert_uint_eq(harness_take(h, &f), n);
	ck_assert_uint_eq(neigh_lookup(h->st, h->nif, H_PEER_IP)->state, NEIGH_DELAY);
	n = build_arp(&f, h_our_mac, ARP_OP_REPLY, h_peer_mac, H_PEER_IP, h_our_mac, H_OUR_IP);
	harness_inject(h, f.b, n);
	struct neigh *ne = neigh_lookup(h->st, h->nif, H_PEER_IP);
	ck_assert_ptr_nonnull(ne);
	ck_assert_uint_eq(ne->state, NEIGH_REACHABLE);
	ck_assert_uint_eq(harness_pending(h), 0);
}

static void peer_setup(struct harness *h, enum peer_setup p)
{
	if (p == PEER_UNKNOWN)
		return;
	harness_learn_peer(h);
	if (p == PEER_REACHABLE)
		peer_make_reachable(h);
}

/* ---- Ethernet ---- */

static void eth_runt(struct harness *h)
{
	make_echo(&fr);
	harness_inject(h, fr.b, ETH_HLEN - 1);
}

static void eth_empty(struct harness *h)
{
	harness_inject(h, fr.b, 0);
}

static void eth_other_unicast_mac(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, H_OUR_IP, other_mac);
	send_frame(h, &fr);
}

static void eth_unjoined_group(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, ALL_HOSTS, unjoined_mac);
	send_frame(h, &fr);
}

static void eth_multicast_src(struct harness *h)
{
	make_echo(&fr);
	memcpy(fr.b + 6, mcast_mac, ETH_ALEN);
	send_frame(h, &fr);
}

static void eth_broadcast_src(struct harness *h)
{
	make_echo(&fr);
	memcpy(fr.b + 6, eth_broadcast, ETH_ALEN);
	send_frame(h, &fr);
}

static void eth_ipv6(struct harness *h)
{
	make_echo(&fr);
	put_be16(fr.b + 12, 0x86dd);
	fr.b[ETH_HLEN] = 0x60;
	send_frame(h, &fr);
}

/* ---- ARP ---- */

/* A request from the peer for our address, patched by the caller. */
static void make_arp_request(struct frame *f)
{
	build_arp(f, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, zero_mac, H_OUR_IP);
}

static void arp_truncated(struct harness *h)
{
	make_arp_request(&fr);
	harness_inject(h, fr.b, ETH_HLEN + ARP_LEN - 8);
}

static void arp_shorter_than_fixed_part(struct harness *h)
{
	make_arp_request(&fr);
	harness_inject(h, fr.b, ETH_HLEN + 6);
}

static void arp_impossible_hlen(struct harness *h)
{
	make_arp_request(&fr);
	fr.b[ETH_HLEN + 4] = 255;	/* 2 * (255 + 4) address bytes in 20 */
	send_frame(h, &fr);
}

static void arp_htype_6(struct harness *h)
{
	make_arp_request(&fr);
	put_be16(fr.b + ETH_HLEN, 6);	/* IEEE 802 */
	send_frame(h, &fr);
}

static void arp_opcode_9(struct harness *h)
{
	make_arp_request(&fr);
	put_be16(fr.b + ETH_HLEN + 6, 9);
	send_frame(h, &fr);
}

static void arp_ptype_ipv6(struct harness *h)
{
	make_arp_request(&fr);
	put_be16(fr.b + ETH_HLEN + 2, 0x86dd);
	send_frame(h, &fr);
}

static void arp_broadcast_sender(struct harness *h)
{
	build_arp(&fr, eth_broadcast, ARP_OP_REQUEST, eth_broadcast, H_PEER_IP, zero_mac,
		  H_OUR_IP);
	memcpy(fr.b + 6, h_peer_mac, ETH_ALEN);	/* a sane link-layer source */
	send_frame(h, &fr);
}

static void arp_zero_sender(struct harness *h)
{
	build_arp(&fr, eth_broadcast, ARP_OP_REQUEST, zero_mac, H_PEER_IP, zero_mac, H_OUR_IP);
	memcpy(fr.b + 6, h_peer_mac, ETH_ALEN);
	send_frame(h, &fr);
}

static void arp_loopback_sender_ip(struct harness *h)
{
	build_arp(&fr, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, IPV4(127, 0, 0, 1), zero_mac,
		  H_OUR_IP);
	send_frame(h, &fr);
}

static void arp_subnet_bcast_sender_ip(struct harness *h)
{
	build_arp(&fr, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, IPV4(10, 0, 0, 255), zero_mac,
		  H_OUR_IP);
	send_frame(h, &fr);
}

static void no_entry_for_subnet_bcast(struct harness *h)
{
	ck_assert_ptr_null(neigh_lookup(h->st, h->nif, IPV4(10, 0, 0, 255)));
	ck_assert_uint_eq(harness_pending(h), 0);
}

static void arp_spoof_our_address(struct harness *h)
{
	build_arp(&fr, eth_broadcast, ARP_OP_REQUEST, other_mac, H_OUR_IP, zero_mac, H_OUR_IP);
	send_frame(h, &fr);
}

static void arp_spoof_reply_our_address(struct harness *h)
{
	build_arp(&fr, h_our_mac, ARP_OP_REPLY, other_mac, H_OUR_IP, h_our_mac, H_OUR_IP);
	send_frame(h, &fr);
}

static void no_entry_for_our_address(struct harness *h)
{
	ck_assert_ptr_null(neigh_lookup(h->st, h->nif, H_OUR_IP));
	ck_assert_uint_eq(harness_pending(h), 0);
}

/* An unsolicited reply giving the peer's address another MAC. */
static void arp_poison_peer(struct harness *h)
{
	build_arp(&fr, h_our_mac, ARP_OP_REPLY, other_mac, H_PEER_IP, h_our_mac, H_OUR_IP);
	send_frame(h, &fr);
}

/* The peer's stale entry waits in DELAY (traffic resumed, no probe sent
 * yet) when a reply gives its address another MAC. */
static void arp_poison_peer_in_delay(struct harness *h)
{
	struct frame out;
	size_t n = build_echo(&fr, H_PEER_IP, H_OUR_IP, 1, 1, 0);
	harness_inject(h, fr.b, n);
	ck_assert_uint_eq(harness_take(h, &out), n);
	ck_assert_uint_eq(neigh_lookup(h->st, h->nif, H_PEER_IP)->state, NEIGH_DELAY);
	arp_poison_peer(h);
}

static void peer_mac_kept(struct harness *h)
{
	struct neigh *ne = neigh_lookup(h->st, h->nif, H_PEER_IP);
	ck_assert_ptr_nonnull(ne);
	ck_assert_mem_eq(ne->mac, h_peer_mac, ETH_ALEN);
	ck_assert_uint_eq(harness_pending(h), 0);
}

static void arp_unsolicited_new_host(struct harness *h)
{
	build_arp(&fr, h_our_mac, ARP_OP_REPLY, other_mac, IPV4(10, 0, 0, 9), h_our_mac,
		  H_OUR_IP);
	send_frame(h, &fr);
}

static void no_entry_created(struct harness *h)
{
	ck_assert_ptr_null(neigh_lookup(h->st, h->nif, IPV4(10, 0, 0, 9)));
	ck_assert_uint_eq(harness_pending(h), 0);
}

/* ---- IPv4 header ---- */

static void ip_version_6(struct harness *h)
{
	make_echo(&fr);
	ip_hdr(&fr)[0] = 0x65;
	ipv4_set_csum(ip_hdr(&fr), IPV4_HLEN);
	send_frame(h, &fr);
}

static void ip_shorter_than_header(struct harness *h)
{
	make_echo(&fr);
	harness_inject(h, fr.b, ETH_HLEN + IPV4_HLEN - 1);
}

static void ip_ihl_4(struct harness *h)
{
	make_echo(&fr);
	ip_hdr(&fr)[0] = 0x44;
	ipv4_set_csum(ip_hdr(&fr), IPV4_HLEN);
	send_frame(h, &fr);
}

static void ip_ihl_beyond_packet(struct harness *h)
{
	uint8_t body[ICMP_HLEN] = {0};
	make_ip(&fr, h_our_mac, H_OUR_IP, IPPROTO_ICMP_, body, sizeof(body));
	ip_hdr(&fr)[0] = 0x4f;	/* 60 bytes of header in a 28-byte packet */
	send_frame(h, &fr);
}

static void ip_totlen_beyond_frame(struct harness *h)
{
	make_echo(&fr);
	put_be16(ip_hdr(&fr) + 2, 1000);
	ipv4_set_csum(ip_hdr(&fr), IPV4_HLEN);
	send_frame(h, &fr);
}

static void ip_totlen_below_ihl(struct harness *h)
{
	make_echo(&fr);
	put_be16(ip_hdr(&fr) + 2, IPV4_HLEN - 1);
	ipv4_set_csum(ip_hdr(&fr), IPV4_HLEN);
	send_frame(h, &fr);
}

static void ip_bad_csum(struct harness *h)
{
	make_echo(&fr);
	ip_hdr(&fr)[11] ^= 0x01;
	send_frame(h, &fr);
}

/* Record route claiming 9 bytes where 4 are left: the length byte, at
 * offset 21, is the bad one. */
static const uint8_t opt_overrun[4] = {0x07, 9, 4, 0};
/* Three NOPs, then an option type in the header's last byte with no room
 * for its length: offset 23. */
static const uint8_t opt_cut[4] = {IPV4_OPT_NOP, IPV4_OPT_NOP, IPV4_OPT_NOP, 0x44};
/* An option length below 2 would loop forever: offset 21. */
static const uint8_t opt_len_1[4] = {0x07, 1, 0, 0};

static void ip_option_overrun(struct harness *h)
{
	make_echo(&fr);
	add_options(&fr, opt_overrun, sizeof(opt_overrun));
	send_frame(h, &fr);
}

static void ip_option_cut(struct harness *h)
{
	make_echo(&fr);
	add_options(&fr, opt_cut, sizeof(opt_cut));
	send_frame(h, &fr);
}

static void ip_option_len_1(struct harness *h)
{
	make_echo(&fr);
	add_options(&fr, opt_len_1, sizeof(opt_len_1));
	send_frame(h, &fr);
}

/* RFC 1122 3.2.2.5: a parameter problem whose pointer names the bad byte,
 * quoting the whole offending datagram. */
static void expect_param_problem(struct harness *h, unsigned pointer)
{
	expect_icmp_error(h, ICMP_PARAMETERPROB, 0, (uint32_t)pointer << 24, ip_hdr(&fr),
			  fr.len - ETH_HLEN);
}

static void param_problem_at_21(struct harness *h)
{
	expect_param_problem(h, 21);
}

static void param_problem_at_23(struct harness *h)
{
	expect_param_problem(h, 23);
}

static void send_echo_from(struct harness *h, uint32_t src)
{
	make_echo_to(&fr, src, H_OUR_IP, h_our_mac);
	send_frame(h, &fr);
}

static void martian_multicast_src(struct harness *h)
{
	send_echo_from(h, IPV4(224, 0, 0, 5));
}

static void martian_loopback_src(struct harness *h)
{
	send_echo_from(h, IPV4(127, 0, 0, 1));
}

static void martian_own_src(struct harness *h)
{
	send_echo_from(h, H_OUR_IP);
}

static void martian_zero_src(struct harness *h)
{
	send_echo_from(h, 0);
}

static void martian_bcast_src(struct harness *h)
{
	send_echo_from(h, 0xffffffff);
}

static void martian_subnet_bcast_src(struct harness *h)
{
	send_echo_from(h, SUBNET_BCAST);
}

static void ip_foreign_dst(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, OTHER_IP, h_our_mac);
	send_frame(h, &fr);
}

static void ip_foreign_dst_on_link(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, IPV4(10, 0, 0, 77), h_our_mac);
	send_frame(h, &fr);
}

static void ip_unicast_in_eth_bcast(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, H_OUR_IP, eth_broadcast);
	send_frame(h, &fr);
}

static void ip_unicast_in_eth_mcast(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, H_OUR_IP, mcast_mac);
	send_frame(h, &fr);
}

static const uint8_t proto99_body[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void ip_unknown_proto(struct harness *h)
{
	make_ip(&fr, h_our_mac, H_OUR_IP, 99, proto99_body, sizeof(proto99_body));
	send_frame(h, &fr);
}

static void prot_unreach_quotes_datagram(struct harness *h)
{
	expect_icmp_error(h, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, ip_hdr(&fr),
			  fr.len - ETH_HLEN);
	ck_assert_uint_eq(ip_hdr(&fr)[9], 99);
}

static void ip_unknown_proto_bcast(struct harness *h)
{
	make_ip(&fr, eth_broadcast, SUBNET_BCAST, 99, proto99_body, sizeof(proto99_body));
	send_frame(h, &fr);
}

/* ---- ICMP ---- */

static void icmp_short(struct harness *h)
{
	static const uint8_t half[4] = {ICMP_ECHO, 0, 0xf7, 0xff};
	make_ip(&fr, h_our_mac, H_OUR_IP, IPPROTO_ICMP_, half, sizeof(half));
	send_frame(h, &fr);
}

static void icmp_empty(struct harness *h)
{
	make_ip(&fr, h_our_mac, H_OUR_IP, IPPROTO_ICMP_, msg, 0);
	send_frame(h, &fr);
}

static void icmp_bad_csum(struct harness *h)
{
	make_echo(&fr);
	fr.b[fr.len - 1] ^= 0x40;
	send_frame(h, &fr);
}

static void icmp_type_42(struct harness *h)
{
	static const uint8_t body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	make_icmp(&fr, 42, 0, 0, body, sizeof(body));
	send_frame(h, &fr);
}

static void icmp_unasked_echo_reply(struct harness *h)
{
	static const uint8_t body[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	make_icmp(&fr, ICMP_ECHOREPLY, 0, 0x00010001, body, sizeof(body));
	send_frame(h, &fr);
}

/* A port unreachable quoting one of our datagrams: the quote as given. */
static void send_unreach_quoting(struct harness *h, const uint8_t *quote, size_t qlen)
{
	make_icmp(&fr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, quote, qlen);
	send_frame(h, &fr);
}

/* Our header to the peer and 8 bytes of UDP. */
static size_t our_datagram(uint8_t *q)
{
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_UDP_, .src = H_OUR_IP,
			      .dst = H_PEER_IP, .total_len = IPV4_HLEN + 8};
	ipv4_emit(q, &ih);
	memset(q + IPV4_HLEN, 0x11, 8);
	return IPV4_HLEN + 8;
}

static void icmp_error_quote_truncated(struct harness *h)
{
	uint8_t q[IPV4_HLEN + 8];
	our_datagram(q);
	send_unreach_quoting(h, q, 10);
}

static void icmp_error_quote_ihl_beyond(struct harness *h)
{
	uint8_t q[IPV4_HLEN + 8];
	size_t n = our_datagram(q);
	q[0] = 0x4f;	/* 60 bytes of header + 8 in 28 */
	send_unreach_quoting(h, q, n);
}

static void icmp_error_quote_ihl_below_5(struct harness *h)
{
	uint8_t q[IPV4_HLEN + 8];
	size_t n = our_datagram(q);
	q[0] = 0x40;	/* IHL 0 */
	send_unreach_quoting(h, q, n);
}

static void icmp_error_quote_not_ipv4(struct harness *h)
{
	uint8_t q[IPV4_HLEN + 8];
	size_t n = our_datagram(q);
	q[0] = 0x65;
	send_unreach_quoting(h, q, n);
}

static void echo_to_subnet_bcast(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, SUBNET_BCAST, eth_broadcast);
	send_frame(h, &fr);
}

static void echo_to_subnet_bcast_unicast_frame(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, SUBNET_BCAST, h_our_mac);
	send_frame(h, &fr);
}

static void echo_to_limited_bcast(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, 0xffffffff, eth_broadcast);
	send_frame(h, &fr);
}

static void echo_to_all_hosts(struct harness *h)
{
	make_echo_to(&fr, H_PEER_IP, ALL_HOSTS, mcast_mac);
	send_frame(h, &fr);
}

/* ---- fragments ---- */

/* Teardrop: the tail [16, 40) overlaps the head [0, 24). The whole
 * datagram goes, so the honest tail [24, 40) sent after it completes
 * nothing and times out, without a time exceeded (the first fragment is
 * gone). */
static void frag_teardrop(struct harness *h)
{
	make_echo_msg(msg, 32);
	send_frag(h, 1, 0, true, 24);
	send_frag(h, 1, 16, false, 24);
	send_frag(h, 1, 24, false, 16);
	harness_advance(h, REASM_TIMEOUT_MS + 1000);
}

/* A fragment lying inside a held one, not on its bounds. */
static void frag_overlap_inside(struct harness *h)
{
	make_echo_msg(msg, 64);
	send_frag(h, 2, 0, true, 40);
	send_frag(h, 2, 24, true, 8);
	send_frag(h, 2, 40, false, 32);
	harness_advance(h, REASM_TIMEOUT_MS + 1000);
}

/* The 1997 teardrop: a last fragment ending inside the first. It moves
 * the end of the datagram below data held, which frag.c (as Linux) counts
 * as a conflicting end, not as an overlap. */
static void frag_teardrop_classic(struct harness *h)
{
	make_echo_msg(msg, 32);
	send_frag(h, 3, 0, true, 40);
	send_frag(h, 3, 24, false, 4);
}

static uint64_t stat_growth(struct harness *h, enum stat_counter c)
{
	return h->st->stats[c] - stats_before[c];
}

static void no_echo_reply(struct harness *h)
{
	ck_assert_uint_eq(harness_pending(h), 0);
	ck_assert_uint_eq(stat_growth(h, STAT_IP_REASM_OKS), 0);
	ck_assert_uint_eq(stat_growth(h, STAT_ICMP_OUT_ECHO_REPS), 0);
	ck_assert_uint_eq(h->st->reasm.used, 0);
}

/* Ping of death: a head, then a last fragment of a 66 KB echo. */
static void frag_ping_of_death(struct harness *h)
{
	make_echo_msg(msg, 65000 + 1480);
	send_frag(h, 4, 0, true, 24);
	send_frag(h, 4, 65000, false, 1480);
}

/* One byte past the limit: 20 + 65512 + 4 = 65536. */
static void frag_one_past_65535(struct harness *h)
{
	make_echo_msg(msg, 65512 + 4);
	send_frag(h, 5, 65512, false, 4);
}

static void frag_mf_not_multiple_of_8(struct harness *h)
{
	make_echo_msg(msg, 32);
	send_frag(h, 6, 0, true, 13);
}

static void frag_empty(struct harness *h)
{
	make_echo_msg(msg, 32);
	send_frag(h, 7, 8, false, 0);
}

static size_t dup_mlen;

/* The first fragment twice: the copy goes, the datagram completes. */
static void frag_duplicate(struct harness *h)
{
	dup_mlen = make_echo_msg(msg, 64);
	send_frag(h, 8, 0, true, 24);
	send_frag(h, 8, 0, true, 24);
	send_frag(h, 8, 24, true, 24);
	send_frag(h, 8, 48, false, 24);
}

static void duplicate_still_answered(struct harness *h)
{
	expect_echo_reply(h, dup_mlen);
	ck_assert_uint_eq(stat_growth(h, STAT_IP_REASM_OKS), 1);
	ck_assert_uint_eq(h->st->reasm.used, 0);
}

/* ---- the table ---- */

struct drop_count {
	enum drop_reason why;
	unsigned count;
};

struct malformed_case {
	const char *name;
	enum peer_setup peer;
	void (*inject)(struct harness *h);
	struct drop_count drops[3];	/* ended by DROP_NONE */
	/* Checks what the stack sent and holds; NULL: it sent nothing. */
	void (*check)(struct harness *h);
};

#define ONE(reason) {{DROP_##reason, 1}}

static const struct malformed_case cases[] = {
	{"eth runt", PEER_UNKNOWN, eth_runt, ONE(ETH_SHORT), NULL},
	{"eth empty frame", PEER_UNKNOWN, eth_empty, ONE(ETH_SHORT), NULL},
	{"eth to another unicast MAC", PEER_UNKNOWN, eth_other_unicast_mac,
	 ONE(ETH_NOT_FOR_US), NULL},
	{"eth to a group not joined", PEER_UNKNOWN, eth_unjoined_group, ONE(ETH_NOT_FOR_US), NULL},
	{"eth multicast source", PEER_UNKNOWN, eth_multicast_src, ONE(ETH_SRC_INVALID), NULL},
	{"eth broadcast source", PEER_UNKNOWN, eth_broadcast_src, ONE(ETH_SRC_INVALID), NULL},
	{"eth IPv6 ethertype", PEER_UNKNOWN, eth_ipv6, ONE(ETH_UNKNOWN_TYPE), NULL},

	{"arp truncated", PEER_UNKNOWN, arp_truncated, ONE(ARP_MALFORMED), NULL},
	{"arp shorter than its fixed part", PEER_UNKNOWN, arp_shorter_than_fixed_part,
	 ONE(ARP_MALFORMED), NULL},
	{"arp hlen 255", PEER_UNKNOWN, arp_impossible_hlen, ONE(ARP_MALFORMED), NULL},
	{"arp htype 6", PEER_UNKNOWN, arp_htype_6, ONE(ARP_UNSUPPORTED), NULL},
	{"arp opcode 9", PEER_UNKNOWN, arp_opcode_9, ONE(ARP_UNSUPPORTED), NULL},
	{"arp ptype IPv6", PEER_UNKNOWN, arp_ptype_ipv6, ONE(ARP_UNSUPPORTED), NULL},
	{"arp broadcast sender MAC", PEER_UNKNOWN, arp_broadcast_sender, ONE(ARP_BAD_SENDER),
	 NULL},
	{"arp zero sender MAC", PEER_UNKNOWN, arp_zero_sender, ONE(ARP_BAD_SENDER), NULL},
	{"arp loopback sender IP", PEER_UNKNOWN, arp_loopback_sender_ip, ONE(ARP_BAD_SENDER),
	 NULL},
	{"arp subnet broadcast sender IP", PEER_UNKNOWN, arp_subnet_bcast_sender_ip,
	 ONE(ARP_BAD_SENDER), no_entry_for_subnet_bcast},
	{"arp request spoofing our address", PEER_UNKNOWN, arp_spoof_our_address,
	 ONE(ARP_ADDR_CONFLICT), no_entry_for_our_address},
	{"arp reply spoofing our address", PEER_UNKNOWN, arp_spoof_reply_our_address,
	 ONE(ARP_ADDR_CONFLICT), no_entry_for_our_address},
	{"arp unsolicited reply poisons stale entry", PEER_STALE, arp_poison_peer,
	 ONE(ARP_UNSOLICITED), peer_mac_kept},
	{"arp unsolicited reply poisons reachable entry", PEER_REACHABLE, arp_poison_peer,
	 ONE(ARP_UNSOLICITED), peer_mac_kept},
	{"arp unsolicited reply poisons an entry in delay", PEER_STALE, arp_poison_peer_in_delay,
	 ONE(ARP_UNSOLICITED), peer_mac_kept},
	{"arp unsolicited reply for a new host", PEER_UNKNOWN, arp_unsolicited_new_host,
	 ONE(ARP_UNSOLICITED), no_entry_created},

	{"ip version 6", PEER_REACHABLE, ip_version_6, ONE(IP_VERSION), NULL},
	{"ip shorter than its header", PEER_REACHABLE, ip_shorter_than_header, ONE(IP_SHORT),
	 NULL},
	{"ip ihl 4", PEER_REACHABLE, ip_ihl_4, ONE(IP_HDRLEN), NULL},
	{"ip ihl beyond the packet", PEER_REACHABLE, ip_ihl_beyond_packet, ONE(IP_HDRLEN), NULL},
	{"ip total length beyond the frame", PEER_REACHABLE, ip_totlen_beyond_frame,
	 ONE(IP_TOTLEN), NULL},
	{"ip total length below ihl", PEER_REACHABLE, ip_totlen_below_ihl, ONE(IP_TOTLEN), NULL},
	{"ip bad header checksum", PEER_REACHABLE, ip_bad_csum, ONE(IP_CSUM), NULL},
	{"ip option overruns the header", PEER_REACHABLE, ip_option_overrun, ONE(IP_OPTIONS),
	 param_problem_at_21},
	{"ip option cut at the header's end", PEER_REACHABLE, ip_option_cut, ONE(IP_OPTIONS),
	 param_problem_at_23},
	{"ip option length 1", PEER_REACHABLE, ip_option_len_1, ONE(IP_OPTIONS),
	 param_problem_at_21},
	{"ip multicast source", PEER_REACHABLE, martian_multicast_src, ONE(IP_MARTIAN_SRC), NULL},
	{"ip loopback source", PEER_REACHABLE, martian_loopback_src, ONE(IP_MARTIAN_SRC), NULL},
	{"ip our own address as source", PEER_REACHABLE, martian_own_src, ONE(IP_MARTIAN_SRC),
	 NULL},
	{"ip zero source", PEER_REACHABLE, martian_zero_src, ONE(IP_MARTIAN_SRC), NULL},
	{"ip broadcast source", PEER_REACHABLE, martian_bcast_src, ONE(IP_MARTIAN_SRC), NULL},
	{"ip subnet broadcast source", PEER_REACHABLE, martian_subnet_bcast_src,
	 ONE(IP_MARTIAN_SRC), NULL},
	{"ip to a foreign address, forwarding off", PEER_REACHABLE, ip_foreign_dst,
	 ONE(IP_NOT_FOR_US), NULL},
	{"ip to a foreign address on the link", PEER_REACHABLE, ip_foreign_dst_on_link,
	 ONE(IP_NOT_FOR_US), NULL},
	{"ip unicast in an Ethernet broadcast", PEER_REACHABLE, ip_unicast_in_eth_bcast,
	 ONE(IP_LINK_BCAST), NULL},
	{"ip unicast in an Ethernet multicast", PEER_REACHABLE, ip_unicast_in_eth_mcast,
	 ONE(IP_LINK_BCAST), NULL},
	{"ip unknown protocol 99", PEER_REACHABLE, ip_unknown_proto, ONE(IP_UNKNOWN_PROTO),
	 prot_unreach_quotes_datagram},
	{"ip unknown protocol 99 to the broadcast", PEER_REACHABLE, ip_unknown_proto_bcast,
	 ONE(IP_UNKNOWN_PROTO), NULL},

	{"icmp shorter than 8 bytes", PEER_REACHABLE, icmp_short, ONE(ICMP_MALFORMED), NULL},
	{"icmp empty", PEER_REACHABLE, icmp_empty, ONE(ICMP_MALFORMED), NULL},
	{"icmp bad checksum", PEER_REACHABLE, icmp_bad_csum, ONE(ICMP_CSUM), NULL},
	{"icmp type 42", PEER_REACHABLE, icmp_type_42, ONE(ICMP_IGNORED), NULL},
	{"icmp echo reply nobody asked for", PEER_REACHABLE, icmp_unasked_echo_reply,
	 ONE(ICMP_IGNORED), NULL},
	{"icmp error quoting 10 bytes", PEER_REACHABLE, icmp_error_quote_truncated,
	 ONE(ICMP_MALFORMED), NULL},
	{"icmp error quoting a header longer than the quote", PEER_REACHABLE,
	 icmp_error_quote_ihl_beyond, ONE(ICMP_MALFORMED), NULL},
	{"icmp error quoting a header with ihl below 5", PEER_REACHABLE,
	 icmp_error_quote_ihl_below_5, ONE(ICMP_MALFORMED), NULL},
	{"icmp error quoting a non-IPv4 header", PEER_REACHABLE, icmp_error_quote_not_ipv4,
	 ONE(ICMP_MALFORMED), NULL},
	{"icmp echo to the subnet broadcast", PEER_REACHABLE, echo_to_subnet_bcast,
	 ONE(ICMP_BCAST_ECHO), NULL},
	{"icmp echo to the subnet broadcast in a unicast frame", PEER_REACHABLE,
	 echo_to_subnet_bcast_unicast_frame, ONE(ICMP_BCAST_ECHO), NULL},
	{"icmp echo to 255.255.255.255", PEER_REACHABLE, echo_to_limited_bcast,
	 ONE(ICMP_BCAST_ECHO), NULL},
	{"icmp echo to 224.0.0.1", PEER_REACHABLE, echo_to_all_hosts, ONE(ICMP_BCAST_ECHO), NULL},

	/* frag.c counts the held fragments of a discarded datagram too. */
	{"frag teardrop partial overlap", PEER_REACHABLE, frag_teardrop,
	 {{DROP_FRAG_OVERLAP, 2}, {DROP_FRAG_TIMEOUT, 1}}, no_echo_reply},
	{"frag inside a held fragment", PEER_REACHABLE, frag_overlap_inside,
	 {{DROP_FRAG_OVERLAP, 2}, {DROP_FRAG_TIMEOUT, 1}}, no_echo_reply},
	{"frag classic teardrop ends inside the head", PEER_REACHABLE, frag_teardrop_classic,
	 {{DROP_FRAG_MALFORMED, 2}}, no_echo_reply},
	{"frag ping of death", PEER_REACHABLE, frag_ping_of_death, {{DROP_FRAG_TOO_BIG, 2}},
	 no_echo_reply},
	{"frag one byte past 65535", PEER_REACHABLE, frag_one_past_65535, ONE(FRAG_TOO_BIG),
	 no_echo_reply},
	{"frag MF with 13 bytes", PEER_REACHABLE, frag_mf_not_multiple_of_8, ONE(FRAG_MALFORMED),
	 no_echo_reply},
	{"frag empty", PEER_REACHABLE, frag_empty, ONE(FRAG_MALFORMED), no_echo_reply},
	{"frag exact duplicate", PEER_REACHABLE, frag_duplicate, ONE(FRAG_DUPLICATE),
	 duplicate_still_answered},
};

static uint64_t expected_growth(const struct malformed_case *c, unsigned r)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(c->drops) && c->drops[i].why != DROP_NONE; i++)
		if (c->drops[i].why == r)
			n += c->drops[i].count;
	return n;
}

START_TEST(malformed_frame)
{
	const struct malformed_case *c = &cases[_i];
	struct harness h;
	uint64_t before[DROP_MAX];

	harness_init(&h);
	peer_setup(&h, c->peer);
	memcpy(before, h.st->drops, sizeof(before));
	memcpy(stats_before, h.st->stats, sizeof(stats_before));
	c->inject(&h);
	for (unsigned r = 1; r < DROP_MAX; r++) {
		uint64_t want = before[r] + expected_growth(c, r);
		ck_assert_msg(h.st->drops[r] == want, "%s: %s counted %llu, expected %llu", c->name,
			      drop_reason_name((enum drop_reason)r),
			      (unsigned long long)(h.st->drops[r] - before[r]),
			      (unsigned long long)(want - before[r]));
	}
	if (c->check)
		c->check(&h);
	else
		ck_assert_msg(harness_pending(&h) == 0, "%s: the stack sent %u frames", c->name,
			      harness_pending(&h));
	harness_teardown(&h);
}
END_TEST

/* ---- random frames ---- */

#define STORM_RANDOM 2000
#define STORM_MUTATED 2000

struct storm {
	struct harness h;
	struct rng rng;
	unsigned sent;		/* frames the device took */
};

static unsigned rnd(struct storm *s, unsigned n)
{
	return (unsigned)(rng_next(&s->rng) % n);
}

/* Sends len bytes at b and throws away whatever the stack answers. A full
 * pool refusing the frame is allowed here. */
static void storm_send(struct storm *s, const uint8_t *b, size_t len)
{
	struct frame out;
	if (mem_inject(s->h.peer, b, (unsigned)len) == 0)
		s->sent++;
	while (harness_take(&s->h, &out))
		;
	if (rnd(s, 64) == 0)
		harness_advance(&s->h, 1000 * (1 + rnd(s, 5)));
}

/* Random bytes, with a plausible Ethernet (and sometimes IPv4) header in
 * front of most, so that some get past the first checks. */
static void storm_random_frame(struct storm *s, struct frame *f)
{
	f->len = rnd(s, ETH_HLEN + 1500 + 4 + 1);
	for (size_t i = 0; i < f->len; i++)
		f->b[i] = (uint8_t)rng_next(&s->rng);
	if (f->len < ETH_HLEN + IPV4_HLEN)
		return;
	switch (rnd(s, 4)) {
	case 0:
		return;
	case 1:
		memcpy(f->b, h_our_mac, ETH_ALEN);
		break;
	case 2:
		memcpy(f->b, eth_broadcast, ETH_ALEN);
		break;
	default:
		memcpy(f->b, h_our_mac, ETH_ALEN);
		memcpy(f->b + 6, h_peer_mac, ETH_ALEN);
		put_be16(f->b + 12, rnd(s, 2) ? ETHERTYPE_IPV4 : ETHERTYPE_ARP);
		if (get_be16(f->b + 12) == ETHERTYPE_IPV4) {
			uint8_t *ip = ip_hdr(f);
			ip[0] = (uint8_t)(0x45 + rnd(s, 2) * rnd(s, 11));
			put_be16(ip + 2, (uint16_t)(f->len - ETH_HLEN - rnd(s, 3)));
			put_be32(ip + 16, rnd(s, 2) ? H_OUR_IP : SUBNET_BCAST);
			size_t hlen = (ip[0] & 0xfu) * 4u;
			if (hlen <= f->len - ETH_HLEN)
				ipv4_set_csum(ip, hlen);
		}
	}
}

/* A stray fragment of one of four echoes (its size fixed by its id), most
 * cut on a 64-byte grid so that datagrams complete, some cut anywhere so
 * that they overlap, conflict or wait for the timeout. */
static void storm_fragment(struct storm *s, struct frame *f)
{
	uint16_t id = (uint16_t)rnd(s, 4);
	size_t mlen = make_echo_msg(msg, 120 + 200 * id);
	unsigned off = 64 * rnd(s, (unsigned)(mlen + 63) / 64);
	size_t len = 64;

	if (rnd(s, 4) == 0) {
		off = MIN(8 * rnd(s, (unsigned)(mlen / 8 + 1)), (unsigned)mlen);
		len = 8 * (1 + rnd(s, 24)) + (rnd(s, 4) ? 0 : rnd(s, 8));
	}
	len = MIN(len, mlen - off);
	make_frag(f, id, off, off + len < mlen, msg + off, len);
}

static void storm_flip_bits(struct storm *s, struct frame *f)
{
	for (unsigned i = 1 + rnd(s, 4); i > 0; i--) {
		size_t at = rnd(s, (unsigned)f->len);
		f->b[at] ^= (uint8_t)(1u << rnd(s, 8));
	}
}

/* A valid frame bent: an echo request with bits flipped (sometimes with
 * the IP checksum made right again) or truncated, an ARP request with bits
 * flipped, or a stray fragment. */
static void storm_mutated_frame(struct storm *s, struct frame *f)
{
	unsigned kind = rnd(s, 5);
	uint8_t *ip = ip_hdr(f);

	switch (kind) {
	case 0:
	case 1:
	case 2:
		build_echo(f, H_PEER_IP, H_OUR_IP, (uint16_t)rnd(s, 4), (uint16_t)rnd(s, 4),
			   rnd(s, 1400));
		if (kind == 2) {
			f->len = rnd(s, (unsigned)f->len);
			return;
		}
		storm_flip_bits(s, f);
		if (kind == 1 && (ip[0] & 0xfu) >= 5 && (ip[0] & 0xfu) * 4u <= f->len - ETH_HLEN)
			ipv4_set_csum(ip, (ip[0] & 0xfu) * 4u);
		return;
	case 3:
		make_arp_request(f);
		storm_flip_bits(s, f);
		return;
	default:
		storm_fragment(s, f);
	}
}

START_TEST(random_frames_do_not_crash_or_leak)
{
	static struct storm s;
	struct frame f;

	harness_init(&s.h);
	peer_setup(&s.h, PEER_REACHABLE);
	rng_seed(&s.rng, 0x6d616c666f726dULL);
	uint64_t frames_before = s.h.st->stats[STAT_ETH_IN_FRAMES];
	for (unsigned i = 0; i < STORM_RANDOM; i++) {
		storm_random_frame(&s, &f);
		storm_send(&s, f.b, f.len);
	}
	for (unsigned i = 0; i < STORM_MUTATED; i++) {
		storm_mutated_frame(&s, &f);
		storm_send(&s, f.b, f.len);
	}
	harness_advance(&s.h, REASM_TIMEOUT_MS + 5000);
	ck_assert_uint_eq(s.h.st->stats[STAT_ETH_IN_FRAMES] - frames_before, s.sent);
	ck_assert_uint_gt(s.sent, (STORM_RANDOM + STORM_MUTATED) * 9 / 10);
	ck_assert_uint_eq(s.h.st->reasm.used, 0);
	harness_teardown(&s.h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("malformed");
	TCase *tc = tcase_create("table");
	tcase_add_loop_test(tc, malformed_frame, 0, (int)ARRAY_SIZE(cases));
	suite_add_tcase(s, tc);
	TCase *storm = tcase_create("storm");
	tcase_set_timeout(storm, 60);
	tcase_add_test(storm, random_frames_do_not_crash_or_leak);
	suite_add_tcase(s, storm);
	return run_suite(s);
}
