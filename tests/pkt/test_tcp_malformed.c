/*
 * test_tcp_malformed.c: what netd does with TCP segments it must refuse,
 * or may only partly believe. A table, one row per way a peer can get a
 * segment wrong; each row sets up what the segment meets (nothing on the
 * port, a listener, a connection in SYN-RECEIVED, or one ESTABLISHED with
 * data gone both ways), sends it, and asserts three things:
 *
 *   the drop counters, compared whole before and after: only the reasons
 *   the row names move, by the counts it names;
 *   the reply, exactly: none, a RST in one of the two forms of RFC 9293
 *   3.10.7.1, a challenge ACK (RFC 5961), a plain ACK <SEQ=SND.NXT>
 *   <ACK=RCV.NXT>, or a SYN-ACK;
 *   what became of the connection and its data.
 *
 * Where Linux's answer changed between versions, the row's comment says
 * which netd follows. Every test
 * ends in harness_teardown(), which asserts that no buffer leaked. A last
 * test carries data across the sequence-number wrap both ways.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "netd/tcp.h"
#include "netd/wire/checksum.h"
#include "netd/wire/tcp.h"
#include "tests/harness.h"

#define OUR_PORT 80
#define CLOSED_PORT 81
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define PEER_WIN 65535
#define PEER_TSVAL 500u
#define WS 7			/* the window scale both ends offer */
#define FULL 1448		/* data per segment: MSS 1460 less timestamps */
#define FROM_PEER 1000		/* bytes the peer sent in the setup, read by the application */
#define FROM_US 2000		/* bytes netd sent in the setup, acknowledged by the peer */
#define FAR 1000000u		/* beyond any window in these tests */
#define SUBNET_BCAST IPV4(10, 0, 0, 255)

static struct harness h;

/* The peer's view of the connection under test. */
static struct peer {
	uint32_t seq;		/* what the peer sends next: netd's RCV.NXT */
	uint32_t ack;		/* what the peer acknowledges: netd's SND.NXT */
	uint32_t iss;		/* netd's ISN */
	uint32_t tsval, tsecr;
} p;
static struct sock *lsk, *conn;
static unsigned conn_events;	/* every event the owner of conn was woken with */

/* The segment a row sent, for the RST it may draw. */
static struct tcp_hdr sent;
static uint32_t sent_len;	/* SEG.LEN: data, SYN and FIN */
static uint32_t sent_dlen;

/* The stack just before the row's segment went in. */
static uint64_t drops_before[DROP_MAX], stats_before[STAT_MAX];
static uint32_t snd_nxt_before, rcv_nxt_before, snd_una_before;

static const struct tcp_opts syn_opts = {.mss_ok = true, .mss = 1460, .ws_ok = true,
					 .wscale = WS, .sack_ok = true, .ts_ok = true,
					 .tsval = PEER_TSVAL};

static void conn_wake(struct sock *sk, unsigned events)
{
	(void)sk;
	conn_events |= events;
}

/* ---- building segments ---- */

static uint8_t *tcp_of(struct frame *f)
{
	return f->b + ETH_HLEN + IPV4_HLEN;
}

static size_t tcp_len_of(const struct frame *f)
{
	return f->len - ETH_HLEN - IPV4_HLEN;
}

/* Makes the IPv4 total length and both checksums of f right again. */
static void fix_lengths_and_csums(struct frame *f)
{
	uint8_t *ip = f->b + ETH_HLEN, *th = tcp_of(f);
	uint16_t len = (uint16_t)tcp_len_of(f);

	put_be16(ip + 2, (uint16_t)(IPV4_HLEN + len));
	ipv4_set_csum(ip, IPV4_HLEN);
	put_be16(th + 16, 0);
	put_be16(th + 16, csum_fold(csum_partial(th, len, csum_pseudo(H_PEER_IP, get_be32(ip + 16),
								       IPPROTO_TCP_, len))));
}

/* A segment from the peer to dst:port in a frame to eth_dst: th's fields
 * and options (laid out by tcp_emit), then len bytes of data. It becomes
 * the row's segment. */
static void make_seg_to(struct frame *f, const uint8_t *eth_dst, uint32_t dst, uint16_t port,
			struct tcp_hdr *th, const void *data, size_t len)
{
	static uint8_t seg[TCP_MAX_HLEN + 2048];
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_TCP_, .src = H_PEER_IP, .dst = dst};

	ck_assert_uint_le(len, sizeof(seg) - TCP_MAX_HLEN);
	th->sport = PEER_PORT;
	th->dport = port;
	size_t hlen = TCP_HLEN + tcp_opts_len(th);
	if (len)
		memcpy(seg + hlen, data, len);
	tcp_emit(seg, th, len, H_PEER_IP, dst);
	build_ipv4(f, eth_dst, &ih, seg, hlen + len);
	sent = *th;
	sent_dlen = (uint32_t)len;
	sent_len = (uint32_t)len + !!(th->flags & TCP_SYN) + !!(th->flags & TCP_FIN);
}

/* A segment to our port without options. */
static void make_bare(struct frame *f, uint16_t port, uint8_t flags, uint32_t seq, uint32_t ack,
		      const void *data, size_t len)
{
	struct tcp_hdr th = {.seq = seq, .ack = ack, .flags = flags, .win = PEER_WIN};
	make_seg_to(f, h_our_mac, H_OUR_IP, port, &th, data, len);
}

/* A segment on the connection, with the peer's timestamps. */
static void make_conn_seg(struct frame *f, uint8_t flags, uint32_t seq, uint32_t ack,
			  const void *data, size_t len)
{
	struct tcp_hdr th = {.seq = seq, .ack = ack, .flags = flags, .win = PEER_WIN};
	th.opts.ts_ok = true;
	th.opts.tsval = p.tsval;
	th.opts.tsecr = p.tsecr;
	make_seg_to(f, h_our_mac, H_OUR_IP, OUR_PORT, &th, data, len);
}

/* Gives f's segment the olen raw option bytes at opts (a multiple of 4)
 * in place of its own, with the data after them. */
static void set_options(struct frame *f, const uint8_t *opts, size_t olen)
{
	uint8_t *th = tcp_of(f);
	size_t doff = (th[12] >> 4) * 4u, dlen = tcp_len_of(f) - doff;

	memmove(th + TCP_HLEN + olen, th + doff, dlen);
	memcpy(th + TCP_HLEN, opts, olen);
	th[12] = (uint8_t)((TCP_HLEN + olen) / 4 << 4);
	f->len = ETH_HLEN + IPV4_HLEN + TCP_HLEN + olen + dlen;
	fix_lengths_and_csums(f);
}

static void send_frame(const struct frame *f)
{
	harness_inject(&h, f->b, f->len);
}

static void send_seg(uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len)
{
	struct frame f;
	make_conn_seg(&f, flags, seq, ack, data, len);
	send_frame(&f);
}

/* ---- what netd sends ---- */

struct pkt {
	struct ipv4_hdr ip;
	struct tcp_hdr th;
	size_t dlen;
	uint8_t data[2048];
};

/* The reply to the row's segment, if any. */
static struct pkt reply;

/* Takes the next frame netd sent; it must be a TCP segment to the peer. */
static void take_seg(int line, struct pkt *out)
{
	struct frame f;
	struct eth_hdr eh;

	ck_assert_msg(harness_take(&h, &f) > 0, "line %d: netd sent nothing", line);
	const uint8_t *seg = frame_ipv4(&f, &eh, &out->ip);
	ck_assert_msg(seg && out->ip.proto == IPPROTO_TCP_, "line %d: not TCP", line);
	size_t len = out->ip.total_len - out->ip.hlen;
	ck_assert_int_eq(tcp_parse(seg, len, out->ip.src, out->ip.dst, &out->th), 0);
	ck_assert_uint_eq(out->ip.src, H_OUR_IP);
	ck_assert_uint_eq(out->ip.dst, H_PEER_IP);
	ck_assert_mem_eq(eh.dst, h_peer_mac, ETH_ALEN);
	out->dlen = len - out->th.doff;
	ck_assert_uint_le(out->dlen, sizeof(out->data));
	memcpy(out->data, seg + out->th.doff, out->dlen);
	if (out->th.opts.ts_ok)
		p.tsecr = out->th.opts.tsval;
}

#define expect_seg(out, flags, seq, ack, dlen) expect_seg_at(__LINE__, out, flags, seq, ack, dlen)
static void expect_seg_at(int line, struct pkt *out, uint8_t flags, uint32_t seq, uint32_t ack,
			  size_t dlen)
{
	take_seg(line, out);
	ck_assert_msg(out->th.flags == flags && out->th.seq == seq && out->th.ack == ack &&
		      out->dlen == dlen,
		      "line %d: got flags %#x seq %u ack %u len %zu, expected %#x %u %u %zu", line,
		      out->th.flags, out->th.seq, out->th.ack, out->dlen, flags, seq, ack, dlen);
}

#define expect_nothing() expect_nothing_at(__LINE__)
static void expect_nothing_at(int line)
{
	unsigned n = harness_pending(&h);
	ck_assert_msg(n == 0, "line %d: netd sent %u frames", line, n);
}

/* ---- what the segments meet ---- */

enum setup {
	NOTHING,	/* no socket at all (the peer is known) */
	LISTENER,	/* a listener on OUR_PORT */
	SYN_RECV,	/* the listener took the peer's SYN and sent its SYN-ACK */
	ESTABLISHED,	/* accepted; FROM_PEER bytes read, FROM_US bytes acknowledged */
};

static void listen_on_our_port(void)
{
	struct sock_addr me = {.addr = 0, .port = OUR_PORT};

	ck_assert_int_eq(sock_create(h.st, SOCK_STREAM, 0, 0, &lsk), 0);
	ck_assert_int_eq(sock_bind(lsk, &me), 0);
	ck_assert_int_eq(sock_listen(lsk, 8), 0);
}

/* The peer's SYN at peer_isn, with every option; netd's SYN-ACK. */
static void syn_received(uint32_t peer_isn)
{
	struct frame f;
	struct pkt out;
	struct tcp_hdr th = {.seq = peer_isn, .flags = TCP_SYN, .win = PEER_WIN};

	th.opts = syn_opts;
	make_seg_to(&f, h_our_mac, H_OUR_IP, OUR_PORT, &th, NULL, 0);
	send_frame(&f);
	take_seg(__LINE__, &out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(out.th.ack, peer_isn + 1);
	ck_assert(out.th.opts.ts_ok && out.th.opts.sack_ok && out.th.opts.ws_ok);
	p.seq = peer_isn + 1;
	p.iss = out.th.seq;
	p.ack = p.iss + 1;
	p.tsval = PEER_TSVAL;
	expect_nothing();
}

/* The peer's ACK ends the handshake; the application accepts. */
static void established(void)
{
	send_seg(TCP_ACK, p.seq, p.ack, NULL, 0);
	expect_nothing();
	ck_assert_int_eq(sock_accept(lsk, &conn), 0);
	sock_set_owner(conn, conn_wake, NULL);
	ck_assert_uint_eq(conn->tcp->state, TCP_ESTABLISHED);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed);
}

/* Data both ways, so that neither side sits at its ISN. Ours goes 100 ms
 * after the peer's, so that the connection does not turn interactive
 * (Linux's pingpong mode) and data is still acked at once. */
static void exchange_data(void)
{
	static uint8_t buf[FROM_US], got[FROM_PEER];
	struct pkt out;

	fill(buf, sizeof(buf), 3);
	send_seg(TCP_ACK | TCP_PSH, p.seq, p.ack, buf, FROM_PEER);
	p.seq += FROM_PEER;
	expect_seg(&out, TCP_ACK, p.ack, p.seq, 0);	/* quick ACK */
	ck_assert_int_eq(sock_recvfrom(conn, got, sizeof(got), 0, NULL), FROM_PEER);
	ck_assert_mem_eq(got, buf, FROM_PEER);
	harness_advance(&h, 100);
	expect_nothing();
	ck_assert_int_eq(sock_sendto(conn, buf, FROM_US, 0, NULL), FROM_US);
	expect_seg(&out, TCP_ACK, p.ack, p.seq, FULL);
	expect_seg(&out, TCP_ACK | TCP_PSH, p.ack + FULL, p.seq, FROM_US - FULL);
	p.ack += FROM_US;
	p.tsval++;
	send_seg(TCP_ACK, p.seq, p.ack, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(conn->tcp->snd_una, p.ack);
	ck_assert_uint_eq(conn->tcp->rcv_nxt, p.seq);
}

static void do_setup(enum setup s)
{
	lsk = conn = NULL;
	conn_events = 0;
	memset(&p, 0, sizeof(p));
	harness_learn_peer(&h);
	if (s == NOTHING)
		return;
	listen_on_our_port();
	if (s == LISTENER)
		return;
	syn_received(PEER_ISN);
	if (s == SYN_RECV)
		return;
	established();
	exchange_data();
	conn_events = 0;
}

/* Where the row's measurement starts; the setup left nothing unsent. */
static void snapshot(void)
{
	expect_nothing();
	memcpy(drops_before, h.st->drops, sizeof(drops_before));
	memcpy(stats_before, h.st->stats, sizeof(stats_before));
	if (conn) {
		snd_nxt_before = conn->tcp->snd_max;
		snd_una_before = conn->tcp->snd_una;
		rcv_nxt_before = conn->tcp->rcv_nxt;
	}
}

static uint64_t stat_growth(enum stat_counter c)
{
	return h.st->stats[c] - stats_before[c];
}

/* ---- the rows' segments ---- */

/* Header errors, on the connection, so that the same segment intact would
 * be taken. */
static void bad_checksum(void)
{
	struct frame f;
	make_conn_seg(&f, TCP_ACK | TCP_PSH, p.seq, p.ack, "hello", 5);
	tcp_of(&f)[16] ^= 0x55;
	send_frame(&f);
}

static void doff_below_5(void)
{
	struct frame f;
	make_conn_seg(&f, TCP_ACK | TCP_PSH, p.seq, p.ack, "hello", 5);
	tcp_of(&f)[12] = 4 << 4;
	fix_lengths_and_csums(&f);
	send_frame(&f);
}

static void doff_zero(void)
{
	struct frame f;
	make_conn_seg(&f, TCP_ACK | TCP_PSH, p.seq, p.ack, "hello", 5);
	tcp_of(&f)[12] = 0;
	fix_lengths_and_csums(&f);
	send_frame(&f);
}

/* 60 bytes of header in a 28-byte segment. */
static void doff_beyond_segment(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, TCP_ACK | TCP_PSH, p.seq, p.ack, "12345678", 8);
	tcp_of(&f)[12] = 15 << 4;
	fix_lengths_and_csums(&f);
	send_frame(&f);
}

static void shorter_than_header(void)
{
	struct frame f;
	make_conn_seg(&f, TCP_ACK, p.seq, p.ack, NULL, 0);
	f.len = ETH_HLEN + IPV4_HLEN + 12;
	put_be16(f.b + ETH_HLEN + 2, IPV4_HLEN + 12);
	ipv4_set_csum(f.b + ETH_HLEN, IPV4_HLEN);
	send_frame(&f);
}

/* A SYN to the subnet's broadcast address, in an Ethernet broadcast. */
static void syn_to_broadcast(void)
{
	struct frame f;
	struct tcp_hdr th = {.seq = PEER_ISN, .flags = TCP_SYN, .win = PEER_WIN};
	make_seg_to(&f, eth_broadcast, SUBNET_BCAST, OUR_PORT, &th, NULL, 0);
	send_frame(&f);
}

/* Options: the peer's timestamp (TSval moved on by 5), then the bytes of
 * tail, 4 of them. The option list is bad; the segment is not. */
static void data_with_options_tail(const uint8_t tail[4])
{
	struct frame f;
	uint8_t o[16] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10};

	put_be32(o + 4, p.tsval + 5);
	put_be32(o + 8, p.tsecr);
	memcpy(o + 12, tail, 4);
	make_conn_seg(&f, TCP_ACK | TCP_PSH, p.seq, p.ack, "hey", 3);
	set_options(&f, o, sizeof(o));
	send_frame(&f);
}

static void option_overruns_header(void)
{
	data_with_options_tail((const uint8_t[4]){TCPOPT_NOP, 30, 40, 0});
}

static void option_length_1(void)
{
	data_with_options_tail((const uint8_t[4]){TCPOPT_NOP, 30, 1, 0});
}

static void option_length_0(void)
{
	data_with_options_tail((const uint8_t[4]){TCPOPT_NOP, TCPOPT_MSS, 0, 0});
}

/* The last byte of the header is a kind with no room for its length. */
static void option_kind_cut(void)
{
	data_with_options_tail((const uint8_t[4]){TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, 30});
}

/* A SYN: MSS 1000, then an option running past the header. */
static void syn_option_overruns(void)
{
	static const uint8_t o[8] = {TCPOPT_MSS, 4, 0x03, 0xe8, 30, 40, 0, 0};
	struct frame f;

	make_bare(&f, OUR_PORT, TCP_SYN, PEER_ISN, 0, NULL, 0);
	set_options(&f, o, sizeof(o));
	send_frame(&f);
}

/* Flags a listener refuses. */
static void syn_fin_to_listener(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, TCP_SYN | TCP_FIN, PEER_ISN, 0, NULL, 0);
	send_frame(&f);
}

static void syn_rst_to_listener(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, TCP_SYN | TCP_RST, PEER_ISN, 0, NULL, 0);
	send_frame(&f);
}

static void no_flags_to_listener(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, 0, PEER_ISN, 0, "x", 1);
	send_frame(&f);
}

static void ack_to_listener(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, TCP_ACK, PEER_ISN, 777, NULL, 0);
	send_frame(&f);
}

static void syn_ack_to_listener(void)
{
	struct frame f;
	make_bare(&f, OUR_PORT, TCP_SYN | TCP_ACK, PEER_ISN, 888, NULL, 0);
	send_frame(&f);
}

/* A port nobody listens on. */
static void closed_syn(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, TCP_SYN, 7000, 0, NULL, 0);
	send_frame(&f);
}

static void closed_ack_with_data(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, TCP_ACK | TCP_PSH, 7001, 424242, "abc", 3);
	send_frame(&f);
}

static void closed_fin_data_without_ack(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, TCP_FIN | TCP_PSH, 9000, 0, "abcd", 4);
	send_frame(&f);
}

static void closed_no_flags(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, 0, 9100, 0, "ab", 2);
	send_frame(&f);
}

static void closed_rst(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, TCP_RST, 9200, 0, NULL, 0);
	send_frame(&f);
}

static void closed_rst_ack(void)
{
	struct frame f;
	make_bare(&f, CLOSED_PORT, TCP_RST | TCP_ACK, 9200, 5555, NULL, 0);
	send_frame(&f);
}

/* SYN-RECEIVED: ACKs that do not acknowledge exactly our SYN. */
static void synrecv_ack_unsent(void)
{
	send_seg(TCP_ACK, p.seq, p.iss + 100, NULL, 0);
}

static void synrecv_ack_of_isn(void)
{
	send_seg(TCP_ACK, p.seq, p.iss, NULL, 0);
}

/* ESTABLISHED. */
static void est_no_flags(void)
{
	send_seg(0, p.seq, p.ack, "noflags", 7);
}

static void est_data_beyond_window(void)
{
	send_seg(TCP_ACK, p.seq + FAR, p.ack, "late", 4);
}

static void est_old_duplicate_data(void)
{
	static uint8_t old[100];
	send_seg(TCP_ACK, p.seq - sizeof(old), p.ack, old, sizeof(old));
}

static void est_ack_unsent(void)
{
	send_seg(TCP_ACK | TCP_PSH, p.seq, p.ack + 1000, "abcd", 4);
}

static void est_old_duplicate_ack(void)
{
	send_seg(TCP_ACK, p.seq, p.ack - 500, NULL, 0);
}

/* Below our ISN, so for bytes never sent, yet within the largest window
 * the peer offered (65535 << 7): Yepeng Pan's blind injection. */
static void est_ack_below_isn_with_data(void)
{
	send_seg(TCP_ACK | TCP_PSH, p.seq, p.iss - 100000, "inject", 6);
}

static void est_ack_too_old(void)
{
	send_seg(TCP_ACK | TCP_PSH, p.seq, p.ack - conn->tcp->max_window - 1, "zz", 2);
}

static void est_rst_out_of_window(void)
{
	send_seg(TCP_RST, p.seq + FAR, 0, NULL, 0);
}

static void est_rst_in_window(void)
{
	send_seg(TCP_RST, p.seq + 100, 0, NULL, 0);
}

static void est_rst_exact(void)
{
	send_seg(TCP_RST, p.seq, 0, NULL, 0);
}

static void est_rst_ack_exact(void)
{
	send_seg(TCP_RST | TCP_ACK, p.seq, p.ack, NULL, 0);
}

static void est_syn_rst_exact(void)
{
	send_seg(TCP_SYN | TCP_RST, p.seq, 0, NULL, 0);
}

/* Two runs of out-of-order data, [+1000, +1100) and then [+3000, +3100),
 * each answered with SACK blocks; the row's RST comes after them. */
static void two_sack_blocks(void)
{
	static uint8_t d[100];
	struct pkt out;

	send_seg(TCP_ACK, p.seq + 1000, p.ack, d, sizeof(d));
	expect_seg(&out, TCP_ACK, p.ack, p.seq, 0);
	send_seg(TCP_ACK, p.seq + 3000, p.ack, d, sizeof(d));
	expect_seg(&out, TCP_ACK, p.ack, p.seq, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 2);
	ck_assert_uint_eq(out.th.opts.sack[0].end, p.seq + 3100);
	ck_assert_uint_eq(out.th.opts.sack[1].end, p.seq + 1100);
	snapshot();
}

static void est_rst_at_lower_sack_edge(void)
{
	two_sack_blocks();
	send_seg(TCP_RST, p.seq + 1100, 0, NULL, 0);
}

static void est_rst_at_highest_sack_edge(void)
{
	two_sack_blocks();
	send_seg(TCP_RST, p.seq + 3100, 0, NULL, 0);
}

static void est_syn_in_window(void)
{
	send_seg(TCP_SYN, p.seq + 5, 0, NULL, 0);
}

static void est_syn_out_of_window(void)
{
	send_seg(TCP_SYN, p.seq + FAR, 0, NULL, 0);
}

static void est_paws_old_timestamp(void)
{
	p.tsval -= 10;
	send_seg(TCP_ACK | TCP_PSH, p.seq, p.ack, "old", 3);
}

/* ---- what the rows check after ---- */

static void nothing_read(void)
{
	char b[16];
	ck_assert_uint_eq(conn->tcp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(conn->tcp->rcv_nxt, rcv_nxt_before);
	ck_assert_uint_eq(conn->tcp->snd_una, snd_una_before);
	ck_assert_uint_eq(conn->tcp->ooo.len, 0);
	ck_assert_int_eq(sock_recvfrom(conn, b, sizeof(b), 0, NULL), -EAGAIN);
	ck_assert(!(conn_events & EPOLLERR));
}

static void hey_read_with_its_timestamp(void)
{
	char b[16];
	ck_assert_uint_eq(conn->tcp->state, TCP_ESTABLISHED);
	ck_assert_int_eq(sock_recvfrom(conn, b, sizeof(b), 0, NULL), 3);
	ck_assert_mem_eq(b, "hey", 3);
	ck_assert_uint_eq(conn->tcp->ts_recent, p.tsval + 5);	/* the option before the bad one */
}

/* The ACK's first SACK block is the duplicate (RFC 2883 4). */
static void dsack_of_old_data(void)
{
	nothing_read();
	ck_assert_uint_ge(reply.th.opts.nsack, 1);
	ck_assert_uint_eq(reply.th.opts.sack[0].start, rcv_nxt_before - 100);
	ck_assert_uint_eq(reply.th.opts.sack[0].end, rcv_nxt_before);
}

/* The challenge ACK still reports both runs of queued data. */
static void still_established_with_ooo(void)
{
	ck_assert_uint_eq(conn->tcp->state, TCP_ESTABLISHED);
	ck_assert_uint_eq(conn->tcp->ooo.len, 2);
	ck_assert(!(conn_events & EPOLLERR));
	ck_assert_uint_eq(reply.th.opts.nsack, 2);
}

static void reset_seen(void)
{
	char b[4];
	ck_assert_uint_eq(conn->tcp->state, TCP_CLOSE);
	ck_assert(conn_events & EPOLLERR);
	ck_assert(sock_poll(conn) & EPOLLHUP);
	ck_assert_int_eq(sock_recvfrom(conn, b, sizeof(b), 0, NULL), -ECONNRESET);
	ck_assert_int_eq(sock_sendto(conn, "x", 1, 0, NULL), -EPIPE);
	ck_assert_uint_eq(stat_growth(STAT_TCP_ESTAB_RESETS), 1);
}

static void no_child(void)
{
	struct sock *c;
	ck_assert_uint_eq(lsk->tcp->syn_qlen, 0);
	ck_assert_int_eq(sock_accept(lsk, &c), -EAGAIN);
}

static void child_has_mss_1000(void)
{
	ck_assert_uint_eq(lsk->tcp->syn_qlen, 1);
	ck_assert_uint_eq(lsk->tcp->syn_queue->mss, 1000);
	ck_assert(!lsk->tcp->syn_queue->ts_ok && !lsk->tcp->syn_queue->sack_ok);
}

static void child_still_syn_recv(void)
{
	ck_assert_uint_eq(lsk->tcp->syn_qlen, 1);
	ck_assert_uint_eq(lsk->tcp->syn_queue->state, TCP_SYN_RECV);
}

/* ---- the table ---- */

enum reply {
	NONE,
	RST,		/* <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.1) */
	RST_ACK,	/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
	ACK,		/* <SEQ=SND.NXT><ACK=RCV.NXT> as before the segment */
	ACK_DATA,	/* the same, its data taken: <ACK=RCV.NXT+SEG.LEN> */
	CHALLENGE,	/* an ACK like ACK, counted as an RFC 5961 challenge */
	SYN_ACK,	/* a child's <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK> */
};

struct drop_count {
	enum drop_reason why;
	unsigned count;
};

struct tcp_case {
	const char *name;
	enum setup setup;
	void (*inject)(void);
	struct drop_count drops[2];	/* ended by DROP_NONE */
	enum reply reply;
	void (*check)(void);		/* the state after; NULL: nothing to check */
};

#define ONE(reason) {{DROP_##reason, 1}}
#define NO_DROP {{DROP_NONE, 0}}

static const struct tcp_case cases[] = {
	/* The header. Linux checks the same and answers nothing. */
	{"bad checksum", ESTABLISHED, bad_checksum, ONE(TCP_CSUM), NONE, nothing_read},
	{"data offset 4", ESTABLISHED, doff_below_5, ONE(TCP_HDRLEN), NONE, nothing_read},
	{"data offset 0", ESTABLISHED, doff_zero, ONE(TCP_HDRLEN), NONE, nothing_read},
	{"data offset beyond the segment", ESTABLISHED, doff_beyond_segment, ONE(TCP_HDRLEN), NONE,
	 nothing_read},
	{"shorter than a TCP header", ESTABLISHED, shorter_than_header, ONE(TCP_SHORT), NONE,
	 nothing_read},
	{"SYN to the subnet broadcast", LISTENER, syn_to_broadcast, ONE(TCP_NOT_UNICAST), NONE,
	 no_child},
	/* Options. Like Linux's tcp_parse_options(), a bad option ends the
	 * walk: the options before it count and the segment is processed;
	 * nothing is counted as a drop. */
	{"option overruns the header", ESTABLISHED, option_overruns_header, NO_DROP, ACK_DATA,
	 hey_read_with_its_timestamp},
	{"option length 1", ESTABLISHED, option_length_1, NO_DROP, ACK_DATA,
	 hey_read_with_its_timestamp},
	{"option length 0", ESTABLISHED, option_length_0, NO_DROP, ACK_DATA,
	 hey_read_with_its_timestamp},
	{"option kind in the header's last byte", ESTABLISHED, option_kind_cut, NO_DROP, ACK_DATA,
	 hey_read_with_its_timestamp},
	{"SYN whose second option overruns", LISTENER, syn_option_overruns, NO_DROP, SYN_ACK,
	 child_has_mss_1000},
	/* A listener (RFC 9293 3.10.7.2, Linux's tcp_rcv_state_process). */
	{"SYN+FIN to a listener", LISTENER, syn_fin_to_listener, ONE(TCP_FLAGS), NONE, no_child},
	{"SYN+RST to a listener", LISTENER, syn_rst_to_listener, ONE(TCP_NO_SOCKET), NONE,
	 no_child},
	{"no flags to a listener", LISTENER, no_flags_to_listener, ONE(TCP_FLAGS), NONE, no_child},
	{"ACK to a listener", LISTENER, ack_to_listener, ONE(TCP_NO_SOCKET), RST, no_child},
	{"SYN+ACK to a listener", LISTENER, syn_ack_to_listener, ONE(TCP_NO_SOCKET), RST,
	 no_child},
	/* No socket (RFC 9293 3.10.7.1): never a RST for a RST. */
	{"SYN to a closed port", NOTHING, closed_syn, ONE(TCP_NO_SOCKET), RST_ACK, NULL},
	{"ACK with data to a closed port", NOTHING, closed_ack_with_data, ONE(TCP_NO_SOCKET), RST,
	 NULL},
	{"FIN with data, no ACK, to a closed port", NOTHING, closed_fin_data_without_ack,
	 ONE(TCP_NO_SOCKET), RST_ACK, NULL},
	{"no flags to a closed port", NOTHING, closed_no_flags, ONE(TCP_NO_SOCKET), RST_ACK, NULL},
	{"RST to a closed port", NOTHING, closed_rst, ONE(TCP_NO_SOCKET), NONE, NULL},
	{"RST+ACK to a closed port", NOTHING, closed_rst_ack, ONE(TCP_NO_SOCKET), NONE, NULL},
	/* SYN-RECEIVED: an unacceptable ACK draws <SEQ=SEG.ACK><CTL=RST>
	 * and the child stays, as Linux's tcp_check_req() leaves it. */
	{"SYN-RECEIVED: ACK for data never sent", SYN_RECV, synrecv_ack_unsent,
	 ONE(TCP_ACK_UNSENT), RST, child_still_syn_recv},
	{"SYN-RECEIVED: ACK of our ISN, not of our SYN", SYN_RECV, synrecv_ack_of_isn,
	 ONE(TCP_ACK_UNSENT), RST, child_still_syn_recv},
	/* ESTABLISHED (RFC 9293 3.10.7.4, RFC 5961). */
	{"no flags at all", ESTABLISHED, est_no_flags, ONE(TCP_FLAGS), NONE, nothing_read},
	{"data beyond the window", ESTABLISHED, est_data_beyond_window, ONE(TCP_OUT_OF_WINDOW), ACK,
	 nothing_read},
	/* The ACK carries a D-SACK block for the duplicate (RFC 2883), as
	 * Linux's does (tcp_dsack=1). */
	{"old duplicate data", ESTABLISHED, est_old_duplicate_data, ONE(TCP_OUT_OF_WINDOW), ACK,
	 dsack_of_old_data},
	/* RFC 9293 3.10.7.4 and RFC 5961 5.2: an ACK, and the segment goes.
	 * Linux answers it only since 7.1 ("tcp: send a challenge ACK on
	 * SEG.ACK > SND.NXT"); before, it dropped the segment silently. */
	{"ACK for data never sent", ESTABLISHED, est_ack_unsent, ONE(TCP_ACK_UNSENT), CHALLENGE,
	 nothing_read},
	{"old duplicate ACK", ESTABLISHED, est_old_duplicate_ack, NO_DROP, NONE, nothing_read},
	/* Below our ISN (bytes never sent) yet within the peer's largest
	 * window: RFC 5961 5.2's bound alone would take the data. Linux
	 * ("tcp: do not accept ACK of bytes we never sent", 6.7 and stable)
	 * bounds it by the bytes acknowledged as well, and so does netd. */
	{"ACK below our ISN, within the peer's window", ESTABLISHED, est_ack_below_isn_with_data,
	 ONE(TCP_ACK_TOO_OLD), CHALLENGE, nothing_read},
	{"ACK older than the peer's largest window", ESTABLISHED, est_ack_too_old,
	 ONE(TCP_ACK_TOO_OLD), CHALLENGE, nothing_read},
	{"RST outside the window", ESTABLISHED, est_rst_out_of_window, ONE(TCP_OUT_OF_WINDOW), NONE,
	 nothing_read},
	{"RST in the window, not at RCV.NXT", ESTABLISHED, est_rst_in_window, ONE(TCP_CHALLENGE),
	 CHALLENGE, nothing_read},
	{"RST at RCV.NXT", ESTABLISHED, est_rst_exact, NO_DROP, NONE, reset_seen},
	{"RST+ACK at RCV.NXT", ESTABLISHED, est_rst_ack_exact, NO_DROP, NONE, reset_seen},
	{"SYN+RST at RCV.NXT", ESTABLISHED, est_syn_rst_exact, NO_DROP, NONE, reset_seen},
	{"RST at the end of the highest SACK block", ESTABLISHED, est_rst_at_highest_sack_edge,
	 NO_DROP, NONE, reset_seen},
	/* Only the highest SACK block's end resets, as in Linux's
	 * tcp_validate_incoming(); any other is a challenge. */
	{"RST at the end of a lower SACK block", ESTABLISHED, est_rst_at_lower_sack_edge,
	 ONE(TCP_CHALLENGE), CHALLENGE, still_established_with_ooo},
	{"SYN in the window", ESTABLISHED, est_syn_in_window, ONE(TCP_CHALLENGE), CHALLENGE,
	 nothing_read},
	{"SYN outside the window", ESTABLISHED, est_syn_out_of_window, ONE(TCP_CHALLENGE), CHALLENGE,
	 nothing_read},
	{"timestamp older than TS.Recent (PAWS)", ESTABLISHED, est_paws_old_timestamp, ONE(TCP_PAWS),
	 ACK, nothing_read},
};

static uint64_t expected_growth(const struct tcp_case *c, unsigned r)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(c->drops) && c->drops[i].why != DROP_NONE; i++)
		if (c->drops[i].why == r)
			n += c->drops[i].count;
	return n;
}

static void check_drops(const struct tcp_case *c)
{
	for (unsigned r = 1; r < DROP_MAX; r++) {
		uint64_t want = drops_before[r] + expected_growth(c, r);
		ck_assert_msg(h.st->drops[r] == want, "%s: %s counted %llu, expected %llu", c->name,
			      drop_reason_name((enum drop_reason)r),
			      (unsigned long long)(h.st->drops[r] - drops_before[r]),
			      (unsigned long long)(want - drops_before[r]));
	}
	bool header = expected_growth(c, DROP_TCP_SHORT) || expected_growth(c, DROP_TCP_HDRLEN) ||
		      expected_growth(c, DROP_TCP_CSUM);
	ck_assert_uint_eq(stat_growth(STAT_TCP_IN_ERRS), header);
}

static void check_reply(const struct tcp_case *c)
{
	struct pkt out;
	uint32_t ack = rcv_nxt_before;

	memset(&out, 0, sizeof(out));
	switch (c->reply) {
	case NONE:
		break;
	case RST:
		expect_seg(&out, TCP_RST, sent.ack, 0, 0);
		break;
	case RST_ACK:
		expect_seg(&out, TCP_RST | TCP_ACK, 0, sent.seq + sent_len, 0);
		break;
	case ACK_DATA:
		ack += sent_dlen;
		/* fall through */
	case ACK:
	case CHALLENGE:
		expect_seg(&out, TCP_ACK, snd_nxt_before, ack, 0);
		ck_assert(out.th.opts.ts_ok);
		ck_assert_uint_eq(out.th.opts.tsecr, conn->tcp->ts_recent);
		break;
	case SYN_ACK:
		take_seg(__LINE__, &out);
		ck_assert_uint_eq(out.th.flags, TCP_SYN | TCP_ACK);
		ck_assert_uint_eq(out.th.ack, sent.seq + 1);
		ck_assert_uint_eq(out.dlen, 0);
		break;
	}
	if (c->reply == RST || c->reply == RST_ACK) {
		ck_assert_uint_eq(out.th.doff, TCP_HLEN);	/* no options */
		ck_assert_uint_eq(out.th.win, 0);
		ck_assert_uint_eq(out.th.sport, sent.dport);
		ck_assert_uint_eq(out.th.dport, sent.sport);
	}
	reply = out;
	ck_assert_msg(harness_pending(&h) == 0, "%s: netd sent %u more frames", c->name,
		      harness_pending(&h));
	ck_assert_uint_eq(stat_growth(STAT_TCP_OUT_RSTS), c->reply == RST || c->reply == RST_ACK);
	ck_assert_uint_eq(stat_growth(STAT_TCP_CHALLENGE_ACKS), c->reply == CHALLENGE);
}

START_TEST(malformed_segment)
{
	const struct tcp_case *c = &cases[_i];

	harness_init(&h);
	do_setup(c->setup);
	snapshot();
	c->inject();
	check_drops(c);
	check_reply(c);
	if (c->check)
		c->check();
	harness_teardown(&h);
}
END_TEST

/* ---- sequence numbers across 2^32 ---- */

/* Both ISNs just below 2^32, and data across the wrap both ways. netd's
 * ISN is RFC 6528's 4-microsecond clock plus a hash of the 4-tuple: the
 * clock is set so that it lands 2 segments below the wrap. */
START_TEST(sequence_wraps_both_ways)
{
	static uint8_t buf[6 * FULL], got[6 * FULL];
	const uint32_t want_iss = 0xffffffffu - 2 * FULL, peer_isn = 0xffffffffu - 1000;
	struct pkt out;

	harness_init(&h);
	uint32_t ticks = want_iss - tcp_isn(h.st, H_OUR_IP, OUR_PORT, H_PEER_IP, PEER_PORT);
	clock_set(&h.st->clock, stack_now(h.st) + (uint64_t)ticks * 4000);
	stack_run_timers(h.st);
	do_setup(LISTENER);
	syn_received(peer_isn);
	ck_assert_uint_eq(p.iss, want_iss);
	established();
	snapshot();

	fill(buf, sizeof(buf), 9);
	ck_assert_int_eq(sock_sendto(conn, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 6; i++) {
		expect_seg(&out, i == 5 ? TCP_ACK | TCP_PSH : TCP_ACK, p.ack + i * FULL, p.seq, FULL);
		ck_assert_mem_eq(out.data, buf + i * FULL, FULL);
	}
	expect_nothing();
	p.ack += 6 * FULL;	/* past zero */
	ck_assert_uint_lt(p.ack, want_iss);
	send_seg(TCP_ACK, p.seq, p.ack, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(conn->tcp->snd_una, p.ack);
	ck_assert_uint_eq(conn->tcp->snd.len, 0);

	for (unsigned i = 0; i < 6; i++) {
		send_seg(TCP_ACK, p.seq, p.ack, buf + i * FULL, FULL);
		p.seq += FULL;
		expect_seg(&out, TCP_ACK, p.ack, p.seq, 0);	/* quick ACKs */
	}
	ck_assert_uint_lt(p.seq, peer_isn);
	ck_assert_int_eq(sock_recvfrom(conn, got, sizeof(got), 0, NULL), (ssize_t)sizeof(got));
	ck_assert_mem_eq(got, buf, sizeof(got));
	ck_assert_uint_eq(conn->tcp->rcv_nxt, p.seq);
	/* nothing was dropped on the way */
	for (unsigned r = 1; r < DROP_MAX; r++)
		ck_assert_msg(h.st->drops[r] == drops_before[r], "%s counted",
			      drop_reason_name((enum drop_reason)r));
	harness_teardown(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_malformed");
	TCase *tc = tcase_create("table");
	tcase_add_loop_test(tc, malformed_segment, 0, (int)ARRAY_SIZE(cases));
	tcase_add_test(tc, sequence_wraps_both_ways);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
