/*
 * test_tcp.c: TCP as packet traces, in the manner of Linux's packetdrill
 * selftests. The test plays the peer, 10.0.0.1: it injects segments
 * built with wire/tcp.c, moves the virtual clock, and asserts the exact
 * segments netd sends (flags, sequence and acknowledgment numbers, window,
 * options and their order). Connections are opened through the socket
 * calls. Teardown asserts that no buffer leaked.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <linux/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "netd/tcp.h"
#include "netd/wire/checksum.h"
#include "netd/wire/tcp.h"
#include "tests/harness.h"

#define OUR_PORT 8080
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define WS 7			/* netd's window scale */
#define FULL 1448		/* data per segment: MSS 1460 less timestamps */

static struct harness h;
static unsigned wakeups, last_events, all_events;
static unsigned stash_head, stash_len;	/* frames kept by advance() */

static void on_wake(struct sock *sk, unsigned events)
{
	(void)sk;
	wakeups++;
	last_events = events;
	all_events |= events;
}

static void setup(void)
{
	stash_head = stash_len = 0;
	harness_init(&h);
	harness_learn_peer(&h);
	wakeups = last_events = all_events = 0;
}

static void teardown(void)
{
	harness_teardown(&h);
}

/* ---- the peer ---- */

struct peer {
	uint16_t port, our_port;
	uint32_t seq;		/* the next sequence number the peer sends */
	uint32_t ack;		/* what the peer acknowledges */
	uint16_t win;		/* the window field it sends */
	bool ts;		/* timestamps on every segment */
	uint32_t tsval;		/* the peer's clock */
	uint32_t tsecr;		/* the last TSval netd sent */
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

/* A segment netd sent. */
struct pkt {
	struct ipv4_hdr ip;
	struct tcp_hdr th;
	uint8_t opts[40];
	size_t optlen;
	uint8_t data[2048];
	size_t dlen;
};

static void peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->port = PEER_PORT;
	p->our_port = OUR_PORT;
	p->seq = PEER_ISN;
	p->win = 65535;
	p->tsval = 500;
}

/* The peer sends a segment with th's fields (ports filled in) and data. */
static void inject_th(struct peer *p, struct tcp_hdr *th, const void *data, size_t len)
{
	static uint8_t seg[2100];
	struct frame f;
	th->sport = p->port;
	th->dport = p->our_port;
	ck_assert_uint_le(len, sizeof(seg) - TCP_MAX_HLEN);
	size_t hlen = TCP_HLEN + tcp_opts_len(th);
	if (len)
		memcpy(seg + hlen, data, len);
	tcp_emit(seg, th, len, H_PEER_IP, H_OUR_IP);
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_TCP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	size_t n = build_ipv4(&f, h_our_mac, &ih, seg, hlen + len);
	harness_inject(&h, f.b, n);
}

/* The peer sends flags at p->seq with its ACK, window, timestamps and
 * SACK blocks; its sequence number moves on. */
static void peer_send(struct peer *p, uint8_t flags, const void *data, size_t len)
{
	struct tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.seq = p->seq;
	th.flags = flags;
	th.ack = (flags & TCP_ACK) ? p->ack : 0;
	th.win = p->win;
	if (p->ts) {
		th.opts.ts_ok = true;
		th.opts.tsval = p->tsval;
		th.opts.tsecr = p->tsecr;
	}
	th.opts.nsack = p->nsack;
	memcpy(th.opts.sack, p->sack, sizeof(p->sack));
	inject_th(p, &th, data, len);
	p->seq += (uint32_t)len + !!(flags & TCP_SYN) + !!(flags & TCP_FIN);
}

static void peer_ack(struct peer *p)
{
	peer_send(p, TCP_ACK, NULL, 0);
}

/* The peer answers netd's ARP requests, as a live host would: after a
 * long silence the neighbour entry goes stale and netd asks again. */
static bool answer_arp(const struct frame *f)
{
	struct arp_pkt a;
	struct frame r;
	if (f->len < ETH_HLEN || get_be16(f->b + 12) != ETHERTYPE_ARP)
		return false;
	ck_assert_int_eq(arp_parse(f->b + ETH_HLEN, f->len - ETH_HLEN, &a), 0);
	if (a.op == ARP_OP_REQUEST && a.tpa == H_PEER_IP) {
		size_t n = build_arp(&r, h_our_mac, ARP_OP_REPLY, h_peer_mac, H_PEER_IP, h_our_mac,
				     H_OUR_IP);
		harness_inject(&h, r.b, n);
	}
	return true;
}

/* Frames netd sent while the clock moved, ARP taken out. */
#define STASH_MAX 256
static struct stashed {
	uint8_t b[1600];
	size_t len;
} stash[STASH_MAX];

/* The next frame netd sent, ARP answered and skipped; 0 when none. */
static size_t take_frame(struct frame *f)
{
	size_t n;
	if (stash_len) {
		struct stashed *sf = &stash[stash_head];
		memcpy(f->b, sf->b, sf->len);
		f->len = sf->len;
		stash_head = (stash_head + 1) % STASH_MAX;
		stash_len--;
		return f->len;
	}
	while ((n = harness_take(&h, f)) && answer_arp(f))
		;
	return n;
}

/* Moves the clock by ms, the peer answering ARP on the way (in steps of
 * 100 ms at most) and keeping what else netd sent for take(). */
static void advance(unsigned ms)
{
	struct frame f;
	while (ms) {
		unsigned step = MIN(ms, 100u);
		harness_advance(&h, step);
		ms -= step;
		while (harness_take(&h, &f)) {
			if (answer_arp(&f))
				continue;
			ck_assert_uint_lt(stash_len, STASH_MAX);
			ck_assert_uint_le(f.len, sizeof(stash[0].b));
			struct stashed *sf = &stash[(stash_head + stash_len++) % STASH_MAX];
			memcpy(sf->b, f.b, f.len);
			sf->len = f.len;
		}
	}
}

/* Takes the next frame netd sent; it must be TCP. */
#define take(out) take_at(__LINE__, out)
static void take_at(int line, struct pkt *out)
{
	struct frame f;
	struct eth_hdr eh;
	ck_assert_msg(take_frame(&f) > 0, "line %d: netd sent nothing", line);
	const uint8_t *seg = frame_ipv4(&f, &eh, &out->ip);
	ck_assert_msg(seg != NULL, "not IPv4: a frame of %zu bytes, type %#x", f.len,
		      get_be16(f.b + 12));
	ck_assert_uint_eq(out->ip.proto, IPPROTO_TCP_);
	size_t len = out->ip.total_len - out->ip.hlen;
	ck_assert_int_eq(tcp_parse(seg, len, out->ip.src, out->ip.dst, &out->th), 0);
	out->optlen = out->th.doff - TCP_HLEN;
	memcpy(out->opts, seg + TCP_HLEN, out->optlen);
	out->dlen = len - out->th.doff;
	ck_assert_uint_le(out->dlen, sizeof(out->data));
	memcpy(out->data, seg + out->th.doff, out->dlen);
	ck_assert_uint_eq(out->ip.src, H_OUR_IP);
	ck_assert_uint_eq(out->ip.dst, H_PEER_IP);
	ck_assert(out->ip.df);
}

#define expect_nothing() expect_nothing_at(__LINE__)
static void expect_nothing_at(int line)
{
	struct frame f;
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	struct tcp_hdr th;
	if (!take_frame(&f))
		return;
	const uint8_t *seg = frame_ipv4(&f, &eh, &ih);
	if (!seg || ih.proto != IPPROTO_TCP_ ||
	    tcp_parse(seg, ih.total_len - ih.hlen, ih.src, ih.dst, &th))
		ck_abort_msg("line %d: unexpected frame of %zu bytes", line, f.len);
	ck_abort_msg("line %d: unexpected segment at %llu ms: flags %#x seq %u ack %u win %u "
		     "len %u", line, (unsigned long long)(stack_now(h.st) / NSEC_PER_MSEC), th.flags, th.seq,
		     th.ack, th.win, (unsigned)(ih.total_len - ih.hlen - th.doff));
}

/* Takes a segment and checks its flags, sequence, ACK and data length;
 * the peer learns its timestamp. */
#define expect_seg(...) expect_seg_at(__LINE__, __VA_ARGS__)
static void expect_seg_at(int line, struct peer *p, struct pkt *out, uint8_t flags, uint32_t seq,
			  uint32_t ack, size_t dlen)
{
	take_at(line, out);
	ck_assert_msg(out->th.flags == flags && out->th.seq == seq && out->th.ack == ack &&
		      out->dlen == dlen,
		      "line %d: got flags %#x seq %u ack %u len %zu, expected %#x %u %u %zu", line,
		      out->th.flags, out->th.seq, out->th.ack, out->dlen, flags, seq, ack, dlen);
	ck_assert_uint_eq(out->th.sport, p->our_port);
	ck_assert_uint_eq(out->th.dport, p->port);
	if (out->th.opts.ts_ok)
		p->tsecr = out->th.opts.tsval;
}

static const uint8_t *opts_of(const struct pkt *out, size_t *len)
{
	*len = out->optlen;
	return out->opts;
}

static struct sock *tcp_socket(void)
{
	struct sock *sk;
	ck_assert_int_eq(sock_create(h.st, SOCK_STREAM, 0, 0, &sk), 0);
	sock_set_owner(sk, on_wake, NULL);
	return sk;
}

static void set_opt(struct sock *sk, int level, int name, int v)
{
	ck_assert_int_eq(sock_setsockopt(sk, level, name, &v, sizeof(v)), 0);
}

static uint8_t state_of(const struct sock *sk)
{
	return sk->tcp->state;
}

/* ---- opening connections ---- */

/* Active open; the peer's SYN-ACK carries o (its TSecr filled in) and
 * comes rtt_ms after the SYN. Returns the socket, p ready to talk; *iss is
 * netd's ISN. */
static struct sock *open_active_sock(struct sock *sk, struct peer *p, uint32_t *iss,
				     const struct tcp_opts *o, unsigned rtt_ms, const char *cc)
{
	struct pkt out;
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	struct sock_addr me = {.addr = 0, .port = OUR_PORT};

	if (cc)
		ck_assert_int_eq(sock_setsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, cc,
						 (socklen_t)strlen(cc)), 0);
	ck_assert_int_eq(sock_bind(sk, &me), 0);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN);
	*iss = out.th.seq;
	advance(rtt_ms);
	struct tcp_hdr th = {.seq = p->seq, .ack = *iss + 1, .flags = TCP_SYN | TCP_ACK,
			     .win = 65535};
	th.opts = *o;
	th.opts.tsval = p->tsval;
	th.opts.tsecr = out.th.opts.tsval;
	p->ts = o->ts_ok;
	inject_th(p, &th, NULL, 0);
	p->seq++;
	p->ack = *iss + 1;
	expect_seg(p, &out, TCP_ACK, *iss + 1, p->seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	return sk;
}

static struct sock *open_active_with(struct peer *p, uint32_t *iss, const struct tcp_opts *o,
				     unsigned rtt_ms, const char *cc)
{
	return open_active_sock(tcp_socket(), p, iss, o, rtt_ms, cc);
}

static const struct tcp_opts all_opts = {.mss_ok = true, .mss = 1460, .ws_ok = true,
					 .wscale = WS, .sack_ok = true, .ts_ok = true,
					 .tsval = 500};

static struct sock *open_active(struct peer *p, uint32_t *iss)
{
	return open_active_with(p, iss, &all_opts, 0, NULL);
}

/* A listener on OUR_PORT. */
static struct sock *listener(int backlog)
{
	struct sock *l = tcp_socket();
	struct sock_addr me = {.addr = 0, .port = OUR_PORT};
	ck_assert_int_eq(sock_bind(l, &me), 0);
	ck_assert_int_eq(sock_listen(l, backlog), 0);
	return l;
}

/* The peer's SYN with options o; returns netd's SYN-ACK in out. */
static void peer_syn(struct peer *p, const struct tcp_opts *o, struct pkt *out)
{
	struct tcp_hdr th = {.seq = p->seq, .flags = TCP_SYN, .win = 65535};
	th.opts = *o;
	inject_th(p, &th, NULL, 0);
	p->seq++;
	take(out);
	ck_assert_uint_eq(out->th.flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(out->th.ack, p->seq);
	p->ack = out->th.seq + 1;
	if (out->th.opts.ts_ok)
		p->tsecr = out->th.opts.tsval;
}

/* Passive open with every option; returns the accepted socket. */
static struct sock *open_passive(struct peer *p, struct sock *l)
{
	struct pkt out;
	struct sock *c;
	p->ts = true;
	peer_syn(p, &all_opts, &out);
	peer_ack(p);
	expect_nothing();
	ck_assert_int_eq(sock_accept(l, &c), 0);
	sock_set_owner(c, on_wake, NULL);
	ck_assert_uint_eq(state_of(c), TCP_ESTABLISHED);
	return c;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 31 + seed);
}

/* ---- the handshake ---- */

START_TEST(active_open_syn_options_and_ack)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	size_t n;

	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	p.our_port = sk->lport;
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN);
	ck_assert_uint_eq(out.th.ack, 0);
	ck_assert_uint_eq(out.th.win, 64240);	/* 65535 in whole segments of 1460 */
	/* "mss 1460,sackOK,TS val X ecr 0,nop,wscale 7", as Linux sends it */
	const uint8_t *o = opts_of(&out, &n);
	ck_assert_uint_eq(n, 20);
	const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
	ck_assert_mem_eq(o, want, sizeof(want));
	ck_assert_uint_eq(get_be32(o + 12), 0);
	const uint8_t tail[] = {1, 3, 3, WS};
	ck_assert_mem_eq(o + 16, tail, sizeof(tail));
	ck_assert_uint_eq(state_of(sk), TCP_SYN_SENT);
	ck_assert(!(sock_poll(sk) & EPOLLOUT));

	uint32_t iss = out.th.seq, tsval = out.th.opts.tsval;
	struct tcp_hdr th = {.seq = p.seq, .ack = iss + 1, .flags = TCP_SYN | TCP_ACK, .win = 65535};
	th.opts = (struct tcp_opts){.mss_ok = true, .mss = 1400, .ws_ok = true, .wscale = 2,
				    .sack_ok = true, .ts_ok = true, .tsval = 777, .tsecr = tsval};
	inject_th(&p, &th, NULL, 0);
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_ACK);
	ck_assert_uint_eq(out.th.seq, iss + 1);
	ck_assert_uint_eq(out.th.ack, PEER_ISN + 1);
	ck_assert_uint_eq(out.th.win, 131072 >> WS);	/* the whole buffer, scaled */
	o = opts_of(&out, &n);
	ck_assert_uint_eq(n, 12);
	const uint8_t ts[] = {1, 1, 8, 10};
	ck_assert_mem_eq(o, ts, sizeof(ts));
	ck_assert_uint_eq(get_be32(o + 8), 777);	/* TSecr */
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	ck_assert(all_events & EPOLLOUT);
	ck_assert_uint_eq(sk->tcp->mss, 1400);
	ck_assert_uint_eq(sk->tcp->snd_wscale, 2);
	ck_assert_uint_eq(sk->tcp->snd_wnd, 65535);	/* a SYN's window is never scaled */
	ck_assert(sk->tcp->sack_ok && sk->tcp->ts_ok && sk->tcp->ws_ok);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_ACTIVE_OPENS], 1);
	sock_close(sk);
}
END_TEST

START_TEST(active_open_peer_without_options)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};

	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	p.our_port = sk->lport;
	take(&out);
	uint32_t iss = out.th.seq;
	struct tcp_hdr th = {.seq = p.seq, .ack = iss + 1, .flags = TCP_SYN | TCP_ACK, .win = 8192};
	inject_th(&p, &th, NULL, 0);
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_ACK);
	ck_assert_uint_eq(out.optlen, 0);	/* no timestamps */
	/* unscaled, and 65535 would grow the SYN's 64240 by less than an MSS
	 * (receiver SWS avoidance): as Linux, 64240 */
	ck_assert_uint_eq(out.th.win, 64240);
	ck_assert_uint_eq(sk->tcp->mss, TCP_DEFAULT_MSS);	/* RFC 9293 3.7.1 */
	ck_assert(!sk->tcp->sack_ok && !sk->tcp->ts_ok && !sk->tcp->ws_ok);
	ck_assert_uint_eq(sk->tcp->rcv_wscale, 0);
	sock_close(sk);
}
END_TEST


/* Passive open, each combination of the peer's window scale, SACK and
 * timestamps: the SYN-ACK mirrors what the SYN offered, in Linux's order. */
START_TEST(passive_open_mirrors_options)
{
	struct peer p;
	struct pkt out;
	struct tcp_opts o = {.mss_ok = true, .mss = 1200, .wscale = 3, .tsval = 4242};
	struct sock *l = listener(8), *c;
	size_t n;

	o.ws_ok = _i & 1;
	o.sack_ok = _i & 2;
	o.ts_ok = _i & 4;
	peer_init(&p);
	p.ts = o.ts_ok;
	p.tsval = o.tsval;
	peer_syn(&p, &o, &out);
	const uint8_t *b = opts_of(&out, &n);
	uint8_t want[40];
	size_t k = 0;
	memcpy(want + k, (uint8_t[]){2, 4, 0x05, 0xb4}, 4);	/* our MSS, 1460 */
	k += 4;
	if (o.ts_ok) {
		memcpy(want + k, o.sack_ok ? (uint8_t[]){4, 2, 8, 10} : (uint8_t[]){1, 1, 8, 10}, 4);
		put_be32(want + k + 4, out.th.opts.tsval);
		put_be32(want + k + 8, 4242);
		k += 12;
	} else if (o.sack_ok) {
		memcpy(want + k, (uint8_t[]){1, 1, 4, 2}, 4);
		k += 4;
	}
	if (o.ws_ok) {
		memcpy(want + k, (uint8_t[]){1, 3, 3, WS}, 4);
		k += 4;
	}
	ck_assert_uint_eq(n, k);
	ck_assert_mem_eq(b, want, k);
	/* never scaled; whole segments of 1460, less the timestamps */
	ck_assert_uint_eq(out.th.win, o.ts_ok ? 65160 : 64240);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_PASSIVE_OPENS], 0);
	ck_assert_int_eq(sock_accept(l, &c), -EAGAIN);

	peer_ack(&p);
	expect_nothing();
	ck_assert_int_eq(sock_accept(l, &c), 0);
	ck_assert_uint_eq(state_of(c), TCP_ESTABLISHED);
	ck_assert_uint_eq(c->tcp->mss, 1200);
	ck_assert_uint_eq(c->tcp->ws_ok, o.ws_ok);
	ck_assert_uint_eq(c->tcp->snd_wscale, o.ws_ok ? 3 : 0);
	ck_assert_uint_eq(c->tcp->rcv_wscale, o.ws_ok ? WS : 0);
	ck_assert_uint_eq(c->tcp->sack_ok, o.sack_ok);
	ck_assert_uint_eq(c->tcp->ts_ok, o.ts_ok);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_PASSIVE_OPENS], 1);
	sock_close(c);
	sock_close(l);
}
END_TEST

START_TEST(passive_open_without_any_option)
{
	struct peer p;
	struct pkt out;
	struct tcp_opts none = {0};
	struct sock *l = listener(8), *c;

	peer_init(&p);
	peer_syn(&p, &none, &out);
	ck_assert_uint_eq(out.optlen, 4);	/* MSS only */
	ck_assert_uint_eq(out.th.opts.mss, 1460);
	peer_ack(&p);
	ck_assert_int_eq(sock_accept(l, &c), 0);
	ck_assert_uint_eq(c->tcp->mss, TCP_DEFAULT_MSS);
	/* data goes in 536-byte segments */
	static uint8_t buf[1000];
	ck_assert_int_eq(sock_sendto(c, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	expect_seg(&p, &out, TCP_ACK, p.ack, p.seq, 536);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, p.ack + 536, p.seq, 464);
	sock_close(c);
	sock_close(l);
}
END_TEST

/* ---- data ---- */

START_TEST(initial_window_is_ten_segments_then_slow_start)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[20 * FULL];

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	fill(buf, sizeof(buf), 1);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 10; i++) {
		expect_seg(&p, &out, TCP_ACK, iss + 1 + i * FULL, p.seq, FULL);
		ck_assert_mem_eq(out.data, buf + i * FULL, FULL);
		ck_assert_uint_eq(out.optlen, 12);	/* nop, nop, TS */
		ck_assert_uint_eq(out.th.opts.tsecr, p.tsval);
	}
	expect_nothing();
	/* an ACK for two segments: cwnd 12, 8 in flight, 4 more go */
	p.ack = iss + 1 + 2 * FULL;
	peer_ack(&p);
	for (unsigned i = 10; i < 14; i++)
		expect_seg(&p, &out, TCP_ACK, iss + 1 + i * FULL, p.seq, FULL);
	expect_nothing();
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 12);
	/* the rest, the last segment with PSH */
	p.ack = iss + 1 + 14 * FULL;
	peer_ack(&p);
	for (unsigned i = 14; i < 20; i++)
		expect_seg(&p, &out, i == 19 ? TCP_ACK | TCP_PSH : TCP_ACK, iss + 1 + i * FULL,
			   p.seq, FULL);
	expect_nothing();
	sock_close(sk);
}
END_TEST

START_TEST(received_data_is_acked_and_read)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	uint8_t data[2400], got[4000];

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	fill(data, sizeof(data), 7);
	wakeups = 0;
	peer_send(&p, TCP_ACK | TCP_PSH, data, 1000);
	/* the first data of a connection is acked at once (Linux's quickack) */
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(out.th.win, (131072 - 1000) >> WS);
	ck_assert(last_events & EPOLLIN);
	peer_send(&p, TCP_ACK | TCP_PSH, data + 1000, 1400);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	int inq;
	ck_assert_int_eq(sock_ioctl(sk, SIOCINQ, &inq), 0);
	ck_assert_int_eq(inq, 2400);
	ck_assert_int_eq(sock_recvfrom(sk, got, sizeof(got), 0, NULL), 2400);
	ck_assert_mem_eq(got, data, 2400);
	ck_assert_int_eq(sock_recvfrom(sk, got, sizeof(got), 0, NULL), -EAGAIN);
	sock_close(sk);
}
END_TEST

/* Sixteen quick ACKs, then Linux's policy: a lone segment waits 40 ms,
 * the second full segment is acked at once. */
START_TEST(delayed_ack_after_quickacks)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t data[2 * FULL];

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	for (unsigned i = 0; i < TCP_MAX_QUICKACKS; i++) {
		peer_send(&p, TCP_ACK, data, 100);
		expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	}
	peer_send(&p, TCP_ACK, data, 100);
	expect_nothing();
	advance(39);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_DELAYED_ACKS], 1);
	/* one full segment waits, the second goes with an ACK for both */
	peer_send(&p, TCP_ACK, data, FULL);
	expect_nothing();
	advance(10);
	peer_send(&p, TCP_ACK, data + FULL, FULL);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	expect_nothing();
	advance(100);
	expect_nothing();	/* the delayed ACK went with it */
	sock_close(sk);
}
END_TEST

/* ---- closing ---- */

START_TEST(close_first_fin_wait_time_wait)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	unsigned used = h.st->socks.used;
	sock_close(sk);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	ck_assert_uint_eq(sk->tcp->state, TCP_FIN_WAIT1);
	p.ack = iss + 2;
	peer_ack(&p);
	expect_nothing();
	ck_assert_uint_eq(sk->tcp->state, TCP_FIN_WAIT2);
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 2, p.seq, 0);	/* at once */
	ck_assert_uint_eq(sk->tcp->state, TCP_TIME_WAIT);
	/* a retransmitted FIN is acked again and restarts the 60 s */
	advance(30000);
	p.seq--;
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 2, p.seq, 0);
	advance(59999);
	ck_assert_uint_eq(h.st->socks.used, used);
	advance(1);
	ck_assert_uint_eq(h.st->socks.used, used - 1);	/* freed */
	/* and the 4-tuple is free: a segment now draws a RST */
	peer_ack(&p);
	expect_seg(&p, &out, TCP_RST, iss + 2, 0, 0);
	expect_nothing();
}
END_TEST

START_TEST(peer_closes_first_close_wait_last_ack)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[8];

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	wakeups = 0;
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE_WAIT);
	ck_assert(all_events & EPOLLRDHUP);
	ck_assert(sock_poll(sk) & EPOLLRDHUP);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 0);
	/* the ACK waits to ride on our FIN (Linux's pingpong after a FIN) */
	expect_nothing();
	advance(20);
	sock_close(sk);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_LAST_ACK);
	unsigned used = h.st->socks.used;
	p.ack = iss + 2;
	peer_ack(&p);
	expect_nothing();
	ck_assert_uint_eq(h.st->socks.used, used - 1);
}
END_TEST

START_TEST(peer_fin_acked_after_40ms_when_app_waits)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	p.ts = true;
	struct sock *sk = open_active(&p, &iss);
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);
	expect_nothing();
	advance(40);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_WR), 0);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	p.ack = iss + 2;
	peer_ack(&p);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	sock_close(sk);
}
END_TEST

/* ---- retransmission ---- */

/* RFC 6298 2.1 and 5.5: the SYN goes again after 1, 2, 4, ... 32 s; Linux
 * gives up after tcp_syn_retries (6), 127 s after the first. */
START_TEST(syn_backoff_then_etimedout)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	int err;
	socklen_t len = sizeof(err);

	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	p.our_port = sk->lport;
	take(&out);
	uint32_t iss = out.th.seq;
	for (unsigned rto = 1000; rto <= 32000; rto *= 2) {
		advance(rto - 1);
		expect_nothing();
		advance(1);
		expect_seg(&p, &out, TCP_SYN, iss, 0, 0);
		ck_assert_uint_eq(out.optlen, 20);
	}
	ck_assert_uint_eq(sk->tcp->total_retrans, 6);
	advance(63999);
	ck_assert_uint_eq(state_of(sk), TCP_SYN_SENT);
	advance(1);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert(all_events & EPOLLERR);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ETIMEDOUT);
	sock_close(sk);
}
END_TEST

/* The first RTO after a handshake with a 10 ms RTT is 210 ms (Linux:
 * SRTT + max(4 RTTVAR, 200 ms)); it doubles on each timeout. Karn: the
 * ACK of a retransmitted segment gives no sample and keeps the backoff;
 * the next clean sample ends it. No timestamps here, so only the timed
 * segment measures; no SACK, so no tail loss probe comes first. */
START_TEST(rto_backoff_and_karn)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	struct tcp_opts o = all_opts;
	uint8_t a[100];

	o.ts_ok = false;
	o.sack_ok = false;
	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &o, 10, NULL);
	ck_assert_uint_eq(sk->tcp->srtt_us, 10000);
	ck_assert_uint_eq(sk->tcp->rto_us, 210000);
	fill(a, sizeof(a), 3);
	ck_assert_int_eq(sock_sendto(sk, a, 100, 0, NULL), 100);
	uint32_t seq = iss + 1;
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq, p.seq, 100);
	advance(209);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq, p.seq, 100);
	ck_assert_mem_eq(out.data, a, 100);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 1);
	advance(419);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq, p.seq, 100);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_TIMEOUTS], 2);
	/* the ACK of a retransmitted segment: no RTT sample (Karn) */
	advance(50);
	p.ack = seq + 100;
	peer_ack(&p);
	ck_assert_uint_eq(sk->tcp->srtt_us, 10000);
	ck_assert_uint_eq(sk->tcp->backoff, 2);
	/* a fresh segment is timed; its ACK 30 ms later is a sample:
	 * SRTT 12.5 ms, RTTVAR 8.75 ms, RTO 212.5 ms, backoff over */
	ck_assert_int_eq(sock_sendto(sk, a, 100, 0, NULL), 100);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq + 100, p.seq, 100);
	advance(30);
	p.ack = seq + 200;
	peer_ack(&p);
	ck_assert_uint_eq(sk->tcp->srtt_us, 12500);
	ck_assert_uint_eq(sk->tcp->rttvar_us, 8750);
	ck_assert_uint_eq(sk->tcp->rto_us, 212500);
	ck_assert_uint_eq(sk->tcp->backoff, 0);
	ck_assert_int_eq(sock_sendto(sk, a, 100, 0, NULL), 100);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq + 200, p.seq, 100);
	advance(212);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, seq + 200, p.seq, 100);
	sock_close(sk);
}
END_TEST

/* With timestamps the echoed TSval measures the RTT, retransmission or
 * not (RFC 7323 4). */
START_TEST(rtt_from_timestamps)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	uint8_t a[10] = {0};

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 25, NULL);
	ck_assert_uint_eq(sk->tcp->srtt_us, 25000);
	ck_assert_uint_eq(sk->tcp->rto_us, 225000);
	ck_assert_int_eq(sock_sendto(sk, a, sizeof(a), 0, NULL), 10);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 10);
	advance(225);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 10);
	advance(5);
	p.ack = iss + 11;
	peer_ack(&p);	/* echoes the retransmission's TSval: 5 ms */
	ck_assert_uint_eq(sk->tcp->srtt_us, (7 * 25000 + 5000) / 8);
	ck_assert_uint_eq(sk->tcp->backoff, 0);
	sock_close(sk);
}
END_TEST

/* RFC 5681 3.2 and RFC 3042 with NewReno (RFC 6582): the first two
 * duplicate ACKs each send a new segment, the third retransmits the lost
 * one with cwnd = ssthresh + 3; a partial ACK retransmits the next hole
 * at once; the full ACK ends recovery with cwnd = ssthresh. */
START_TEST(fast_retransmit_limited_transmit_newreno)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	struct tcp_opts o = all_opts;
	static uint8_t buf[12 * FULL];

	o.sack_ok = false;
	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &o, 10, "reno");
	uint32_t base = iss + 1;
	fill(buf, sizeof(buf), 5);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 10; i++)
		expect_seg(&p, &out, TCP_ACK, base + i * FULL, p.seq, FULL);
	expect_nothing();
	/* segment 0 is lost; 1.. arrive and draw ACKs for base. The first
	 * changes the window (the SYN-ACK's was not scaled): not a duplicate
	 * (RFC 5681 2, (e)). */
	peer_ack(&p);
	expect_nothing();
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK, base + 10 * FULL, p.seq, FULL);	/* limited transmit */
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, base + 11 * FULL, p.seq, FULL);
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK, base, p.seq, FULL);	/* fast retransmit */
	ck_assert_mem_eq(out.data, buf, FULL);
	expect_nothing();
	ck_assert(sk->tcp->in_recovery);
	ck_assert_uint_eq(sk->tcp->cc.ssthresh, 5);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 8);
	peer_ack(&p);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 9);	/* inflation */
	expect_nothing();
	/* partial ACK: 0..4 arrived, 5 was lost too */
	p.ack = base + 5 * FULL;
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK, base + 5 * FULL, p.seq, FULL);
	ck_assert_mem_eq(out.data, buf + 5 * FULL, FULL);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 9 - 5 + 1);
	ck_assert(sk->tcp->in_recovery);
	expect_nothing();
	/* full ACK */
	p.ack = base + 12 * FULL;
	peer_ack(&p);
	ck_assert(!sk->tcp->in_recovery);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 5);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_FAST_RETRANS], 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_RETRANS_SEGS], 2);
	expect_nothing();
	sock_close(sk);
}
END_TEST

/* RFC 6675: SACK blocks mark two holes lost; recovery retransmits exactly
 * those, never what the peer SACKed. */
START_TEST(sack_recovery_retransmits_the_holes)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[10 * FULL];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, "reno");
	uint32_t base = iss + 1;
#define SEG(i) (base + (i) * FULL)
	fill(buf, sizeof(buf), 9);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 10; i++)
		expect_seg(&p, &out, i == 9 ? TCP_ACK | TCP_PSH : TCP_ACK, SEG(i), p.seq, FULL);
	/* 0 and 1 arrive; 2 and 5 are lost */
	p.ack = SEG(2);
	peer_ack(&p);
	expect_nothing();
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){SEG(3), SEG(5)};
	peer_ack(&p);
	expect_nothing();	/* one duplicate ACK, two segments SACKed: not yet */
	ck_assert_uint_eq(sk->tcp->nsacked, 1);
	p.nsack = 2;
	p.sack[0] = (struct tcp_sack_block){SEG(6), SEG(10)};
	p.sack[1] = (struct tcp_sack_block){SEG(3), SEG(5)};
	peer_ack(&p);
	/* IsLost(2) and IsLost(5): recovery, cwnd = ssthresh = 6 */
	expect_seg(&p, &out, TCP_ACK, SEG(2), p.seq, FULL);
	ck_assert_mem_eq(out.data, buf + 2 * FULL, FULL);
	expect_seg(&p, &out, TCP_ACK, SEG(5), p.seq, FULL);
	ck_assert_mem_eq(out.data, buf + 5 * FULL, FULL);
	expect_nothing();
	ck_assert(sk->tcp->in_recovery);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 6);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_SACK_RECOVERY], 1);
	/* everything arrives */
	p.nsack = 0;
	p.ack = SEG(10);
	peer_ack(&p);
	ck_assert(!sk->tcp->in_recovery);
	ck_assert_uint_eq(sk->tcp->nsacked, 0);
	expect_nothing();
#undef SEG
	sock_close(sk);
}
END_TEST

/* A retransmission lost again: once data sent after it is SACKed while
 * SND.UNA stays put, it goes once more at once (Linux's lost-retransmit
 * rule), not after an RTO. */
START_TEST(lost_retransmission_sent_again)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[16 * FULL];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, "reno");
	uint32_t base = iss + 1, rexmits = 0, newest = iss + 1;
#define SEG(i) (base + (i) * FULL)
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 10; i++)
		take(&out);
	/* segment 0 is lost; the peer SACKs 1, 2, ... as they come */
	p.nsack = 1;
	for (unsigned k = 2; k <= 16 && !rexmits; k++) {
		p.sack[0] = (struct tcp_sack_block){SEG(1), SEG(k)};
		peer_ack(&p);
		while (harness_pending(&h)) {
			take(&out);
			if (out.th.seq == base && sk->tcp->in_recovery &&
			    h.st->stats[STAT_TCP_LOST_RETRANSMITS])
				rexmits++;
			else if (SEQ_GT(out.th.seq, newest))
				newest = out.th.seq;
		}
	}
	/* recovery resent 0, then new data went; when that was SACKed, 0
	 * went again */
	ck_assert_uint_eq(rexmits, 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_LOST_RETRANSMITS], 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_TIMEOUTS], 0);
	ck_assert_uint_ge(newest, SEG(10));
	p.nsack = 0;
	p.ack = sk->tcp->snd_max;
	peer_ack(&p);
	ck_assert(!sk->tcp->in_recovery);
#undef SEG
	sock_close(sk);
}
END_TEST

/* RFC 8985 7 as Linux runs it: the tail of a flight is lost, so no
 * duplicate ACK can come; 2 SRTT + 2 ms after the last ACK the last
 * segment goes again as a probe. Its SACK, with two segments out, is
 * enough for early retransmit (RFC 5827) of the hole. */
START_TEST(tail_loss_probe_then_early_retransmit)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[4 * FULL];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, "reno");
	uint32_t base = iss + 1;
	fill(buf, sizeof(buf), 13);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 4; i++)
		take(&out);
	advance(10);
	p.ack = base + 2 * FULL;	/* 0 and 1 arrive, 2 and 3 are lost */
	peer_ack(&p);
	expect_nothing();
	/* SRTT is now 10 ms: the probe after 22 ms, well before the RTO */
	advance(21);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, base + 3 * FULL, p.seq, FULL);
	ck_assert_mem_eq(out.data, buf + 3 * FULL, FULL);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_LOSS_PROBES], 1);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 10);	/* a probe is not a loss (and 4 out did not grow it) */
	/* the probe arrives: a duplicate ACK SACKing it */
	p.nsack = 1;
	p.sack[0] = (struct tcp_sack_block){base + 3 * FULL, base + 4 * FULL};
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK, base + 2 * FULL, p.seq, FULL);
	ck_assert_mem_eq(out.data, buf + 2 * FULL, FULL);
	ck_assert(sk->tcp->in_recovery);
	expect_nothing();
	p.nsack = 0;
	p.ack = base + 4 * FULL;
	peer_ack(&p);
	ck_assert(!sk->tcp->in_recovery);
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 5);	/* reno: half */
	ck_assert_uint_eq(h.st->stats[STAT_TCP_TIMEOUTS], 0);
	advance(1000);
	expect_nothing();
	sock_close(sk);
}
END_TEST

/* RFC 9293 3.8.6.1: a zero window is probed (Linux: a bare ACK at
 * SND.UNA - 1) at RTO intervals that double while the peer answers with
 * a zero window; the window update lets the data go. */
START_TEST(zero_window_persist_probes_then_update)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	uint8_t a[1000];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, NULL);
	fill(a, sizeof(a), 2);
	ck_assert_int_eq(sock_sendto(sk, a, 1000, 0, NULL), 1000);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 1000);
	p.ack = iss + 1001;
	p.win = 0;
	peer_ack(&p);
	ck_assert_int_eq(sock_sendto(sk, a, 500, 0, NULL), 500);
	expect_nothing();
	/* the ACK was a second RTT sample: about 209 ms */
	uint32_t rto = sk->tcp->rto_us;
	ck_assert_uint_gt(rto, 200000);
	for (unsigned i = 0; i < 4; i++) {
		unsigned wait = ((rto << i) + 999) / 1000;
		advance(wait - 1);
		expect_nothing();
		advance(1);
		expect_seg(&p, &out, TCP_ACK, iss + 1000, p.seq, 0);
		peer_ack(&p);	/* still closed */
		expect_nothing();
	}
	ck_assert_uint_eq(h.st->stats[STAT_TCP_WINDOW_PROBES], 4);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	p.win = 100;	/* 12800 bytes */
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1001, p.seq, 500);
	expect_nothing();
	sock_close(sk);
}
END_TEST

/* ---- simultaneous open and close ---- */

/* RFC 9293 3.5 figure 7: SYNs cross. The SYN-ACK mirrors the peer's
 * options; the peer's SYN-ACK completes the handshake, and, as Linux does,
 * draws an ACK. */
START_TEST(simultaneous_open)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	struct sock_addr me = {.addr = 0, .port = OUR_PORT};

	peer_init(&p);
	ck_assert_int_eq(sock_bind(sk, &me), 0);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	take(&out);
	uint32_t iss = out.th.seq;
	struct tcp_hdr th = {.seq = p.seq, .flags = TCP_SYN, .win = 65535};
	th.opts = (struct tcp_opts){.mss_ok = true, .mss = 1460, .sack_ok = true};
	inject_th(&p, &th, NULL, 0);
	expect_seg(&p, &out, TCP_SYN | TCP_ACK, iss, p.seq + 1, 0);
	const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};	/* no TS, no wscale offered */
	ck_assert_uint_eq(out.optlen, sizeof(want));
	ck_assert_mem_eq(out.opts, want, sizeof(want));
	ck_assert_uint_eq(state_of(sk), TCP_SYN_RECV);
	th.ack = iss + 1;
	th.flags = TCP_SYN | TCP_ACK;
	inject_th(&p, &th, NULL, 0);
	p.seq++;
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	ck_assert(!sk->tcp->ts_ok && !sk->tcp->ws_ok && sk->tcp->sack_ok);
	expect_nothing();
	sock_close(sk);
}
END_TEST

/* RFC 9293 3.6 figure 13: FINs cross. FIN-WAIT-1, CLOSING, TIME-WAIT. */
START_TEST(simultaneous_close)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	ck_assert_int_eq(sock_shutdown(sk, SHUT_WR), 0);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);	/* acks our SYN only */
	expect_seg(&p, &out, TCP_ACK, iss + 2, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSING);
	p.ack = iss + 2;
	peer_ack(&p);
	ck_assert_uint_eq(state_of(sk), TCP_TIME_WAIT);
	expect_nothing();
	advance(60000);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	sock_close(sk);
}
END_TEST

/* A SYN with a higher sequence number ends TIME-WAIT and opens a new
 * connection, as Linux lets it (RFC 6191). */
START_TEST(time_wait_new_syn_accepted)
{
	struct peer p;
	struct pkt out;
	struct sock *l = listener(8);

	peer_init(&p);
	struct sock *c = open_passive(&p, l);
	uint32_t ours = p.ack;
	sock_close(c);	/* the server closes first and keeps TIME-WAIT */
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, ours, p.seq, 0);
	p.ack = ours + 1;
	peer_send(&p, TCP_ACK | TCP_FIN, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, ours + 1, p.seq, 0);
	ck_assert_uint_eq(c->tcp->state, TCP_TIME_WAIT);
	unsigned used = h.st->socks.used;
	/* an old duplicate SYN (lower sequence) only draws an ACK */
	p.tsval += 10;
	struct tcp_hdr th = {.seq = p.seq - 10, .flags = TCP_SYN, .win = 65535};
	th.opts = all_opts;
	th.opts.tsval = p.tsval - 1000;
	inject_th(&p, &th, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, ours + 1, p.seq, 0);
	/* a new SYN */
	p.seq += 100000;
	peer_syn(&p, &all_opts, &out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(h.st->socks.used, used);	/* one went, one came */
	peer_ack(&p);
	ck_assert_int_eq(sock_accept(l, &c), 0);
	ck_assert_uint_eq(state_of(c), TCP_ESTABLISHED);
	sock_close(c);
	sock_close(l);
}
END_TEST

/* ---- RST and SYN (RFC 5961) ---- */

START_TEST(rst_exact_in_window_and_outside)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[4];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	uint32_t rcv_nxt = p.seq;
	/* in the window but not RCV.NXT: a challenge ACK */
	p.seq = rcv_nxt + 100;
	peer_send(&p, TCP_RST, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 1, rcv_nxt, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_CHALLENGE_ACKS], 1);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_CHALLENGE], 1);
	/* outside the window: nothing at all */
	p.seq = rcv_nxt + 50000000;
	peer_send(&p, TCP_RST | TCP_ACK, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	/* exactly RCV.NXT: reset */
	p.seq = rcv_nxt;
	peer_send(&p, TCP_RST, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert(all_events & EPOLLERR);
	ck_assert(sock_poll(sk) & EPOLLHUP);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ECONNRESET);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_ESTAB_RESETS], 1);
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, NULL), -EPIPE);
	sock_close(sk);
}
END_TEST

/* RFC 5961 5.2 (and RFC 9293 3.10.7.4): an ACK for data never sent, or
 * one below SND.UNA by more than what was ever acknowledged (Linux's
 * bound: min(max window, bytes acked)), drops the segment, data and all,
 * and draws a challenge ACK. */
START_TEST(unacceptable_acks_challenged)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[8];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	p.ack = iss + 1 + 1000;	/* nothing was sent */
	peer_send(&p, TCP_ACK, "abc", 3);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq - 3, 0);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_ACK_UNSENT], 1);
	p.seq -= 3;
	advance(500);
	p.ack = iss - 100000;	/* below our ISN: within the peer's window, but never sent */
	peer_send(&p, TCP_ACK, "abc", 3);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq - 3, 0);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_ACK_TOO_OLD], 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_CHALLENGE_ACKS], 2);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -EAGAIN);
	sock_close(sk);
}
END_TEST

/* Linux takes a RST at the right edge of the highest SACK block as exact;
 * at the edge of a lower block it is only "in the window". */
START_TEST(rst_at_sack_edges)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	uint32_t r = p.seq;
	p.seq = r + 100;
	peer_send(&p, TCP_ACK, "aaaa", 4);
	take(&out);
	p.seq = r + 200;
	peer_send(&p, TCP_ACK, "bbbb", 4);
	take(&out);
	ck_assert_uint_eq(sk->tcp->nrcv_sacks, 2);
	p.seq = r + 104;	/* the lower block's edge */
	peer_send(&p, TCP_RST, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 1, r, 0);	/* challenge */
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	p.seq = r + 204;	/* the highest */
	peer_send(&p, TCP_RST, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	sock_close(sk);
}
END_TEST

/* RFC 5961 4.2: a SYN on an established connection draws a challenge ACK,
 * at most one per 500 ms (Linux's per-socket limit). */
START_TEST(syn_in_established_challenge_ack)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	struct tcp_hdr th = {.seq = p.seq + 5, .flags = TCP_SYN, .win = 65535};
	th.opts = all_opts;
	inject_th(&p, &th, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	inject_th(&p, &th, NULL, 0);
	expect_nothing();	/* rate-limited */
	ck_assert_uint_eq(h.st->stats[STAT_TCP_ACKS_RATELIMITED], 1);
	advance(500);
	inject_th(&p, &th, NULL, 0);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	sock_close(sk);
}
END_TEST

/* RFC 9293 3.10.7.1: no connection. */
START_TEST(closed_port_resets)
{
	struct peer p;
	struct pkt out;

	peer_init(&p);
	p.our_port = 9;
	struct tcp_hdr th = {.seq = 7000, .flags = TCP_SYN, .win = 1000};
	inject_th(&p, &th, NULL, 0);
	expect_seg(&p, &out, TCP_RST | TCP_ACK, 0, 7001, 0);	/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN> */
	ck_assert_uint_eq(out.optlen, 0);
	th = (struct tcp_hdr){.seq = 7001, .ack = 424242, .flags = TCP_ACK, .win = 1000};
	inject_th(&p, &th, "abc", 3);
	expect_seg(&p, &out, TCP_RST, 424242, 0, 0);	/* <SEQ=SEG.ACK> */
	th = (struct tcp_hdr){.seq = 9000, .flags = TCP_PSH | TCP_FIN, .win = 1000};
	inject_th(&p, &th, "abcd", 4);
	expect_seg(&p, &out, TCP_RST | TCP_ACK, 0, 9005, 0);
	th = (struct tcp_hdr){.seq = 9000, .flags = TCP_RST};
	inject_th(&p, &th, NULL, 0);
	expect_nothing();	/* never a RST for a RST */
	ck_assert_uint_eq(h.st->drops[DROP_TCP_NO_SOCKET], 4);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_OUT_RSTS], 3);
}
END_TEST

/* A listener: an ACK draws a RST, a RST and a SYN+FIN are dropped. */
START_TEST(listener_answers_ack_with_rst)
{
	struct peer p;
	struct pkt out;
	struct sock *l = listener(8);

	peer_init(&p);
	p.ack = 777;
	peer_ack(&p);
	expect_seg(&p, &out, TCP_RST, 777, 0, 0);
	peer_send(&p, TCP_RST, NULL, 0);
	expect_nothing();
	struct tcp_hdr th = {.seq = p.seq, .flags = TCP_SYN | TCP_FIN, .win = 1000};
	inject_th(&p, &th, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(h.st->drops[DROP_TCP_NO_SOCKET], 2);	/* the ACK and the RST */
	ck_assert_uint_eq(h.st->drops[DROP_TCP_FLAGS], 1);	/* SYN+FIN */
	ck_assert_uint_eq(l->tcp->syn_qlen, 0);
	sock_close(l);
}
END_TEST

/* ---- the receive window and reassembly ---- */

START_TEST(out_of_window_data_acked_and_dropped)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[16];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	uint32_t rcv_nxt = p.seq;
	p.seq = rcv_nxt + 131072 + 10;	/* past the right edge */
	peer_send(&p, TCP_ACK, "late", 4);
	expect_seg(&p, &out, TCP_ACK, iss + 1, rcv_nxt, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 0);
	p.seq = rcv_nxt - 4;	/* an old duplicate: the ACK D-SACKs it (RFC 2883) */
	peer_send(&p, TCP_ACK, "dup!", 4);
	expect_seg(&p, &out, TCP_ACK, iss + 1, rcv_nxt, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 1);
	ck_assert_uint_eq(out.th.opts.sack[0].start, rcv_nxt - 4);
	ck_assert_uint_eq(out.th.opts.sack[0].end, rcv_nxt);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_OUT_OF_WINDOW], 2);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -EAGAIN);
	/* half old, half new: the new half is kept, the old half D-SACKed */
	p.seq = rcv_nxt - 2;
	peer_send(&p, TCP_ACK, "xxyy", 4);
	expect_seg(&p, &out, TCP_ACK, iss + 1, rcv_nxt + 2, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 1);
	ck_assert_uint_eq(out.th.opts.sack[0].start, rcv_nxt - 2);
	ck_assert_uint_eq(out.th.opts.sack[0].end, rcv_nxt);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 2);
	ck_assert_mem_eq(b, "yy", 2);
	sock_close(sk);
}
END_TEST

/* Out-of-order segments are acked at once with SACK blocks, the newest
 * block first (RFC 2018 4); the segment that fills the hole brings it all
 * to the application and the blocks go away. */
START_TEST(out_of_order_reassembly_and_sack_blocks)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	uint8_t data[5000], got[5000];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	uint32_t r = p.seq;
	fill(data, sizeof(data), 11);
	p.seq = r + 1000;
	peer_send(&p, TCP_ACK, data + 1000, 1000);	/* [1000, 2000) */
	expect_seg(&p, &out, TCP_ACK, iss + 1, r, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 1);
	ck_assert_uint_eq(out.th.opts.sack[0].start, r + 1000);
	ck_assert_uint_eq(out.th.opts.sack[0].end, r + 2000);
	/* options: nop, nop, TS, nop, nop, SACK */
	ck_assert_uint_eq(out.optlen, 12 + 4 + 8);
	p.seq = r + 3000;
	peer_send(&p, TCP_ACK, data + 3000, 1000);	/* [3000, 4000) */
	expect_seg(&p, &out, TCP_ACK, iss + 1, r, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 2);
	ck_assert_uint_eq(out.th.opts.sack[0].start, r + 3000);
	ck_assert_uint_eq(out.th.opts.sack[1].start, r + 1000);
	p.seq = r + 1500;
	peer_send(&p, TCP_ACK, data + 1500, 1000);	/* [1500, 2500): overlaps */
	expect_seg(&p, &out, TCP_ACK, iss + 1, r, 0);
	/* a D-SACK for the part we had (RFC 2883), then the blocks */
	ck_assert_uint_eq(out.th.opts.nsack, 3);
	ck_assert_uint_eq(out.th.opts.sack[0].start, r + 1500);
	ck_assert_uint_eq(out.th.opts.sack[0].end, r + 2000);
	ck_assert_uint_eq(out.th.opts.sack[1].start, r + 1000);
	ck_assert_uint_eq(out.th.opts.sack[1].end, r + 2500);
	ck_assert_uint_eq(out.th.opts.sack[2].start, r + 3000);
	ck_assert_int_eq(sock_recvfrom(sk, got, sizeof(got), 0, NULL), -EAGAIN);
	p.seq = r;
	peer_send(&p, TCP_ACK, data, 1000);	/* fills the first hole */
	expect_seg(&p, &out, TCP_ACK, iss + 1, r + 2500, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 1);
	ck_assert_uint_eq(out.th.opts.sack[0].start, r + 3000);
	p.seq = r + 2500;
	peer_send(&p, TCP_ACK, data + 2500, 500);	/* and the second */
	expect_seg(&p, &out, TCP_ACK, iss + 1, r + 4000, 0);
	ck_assert_uint_eq(out.th.opts.nsack, 0);
	ck_assert_uint_eq(out.optlen, 12);
	ck_assert_int_eq(sock_recvfrom(sk, got, sizeof(got), 0, NULL), 4000);
	ck_assert_mem_eq(got, data, 4000);
	ck_assert_uint_eq(sk->tcp->ooo.len, 0);
	ck_assert_uint_eq(sk->tcp->ooo_bytes, 0);
	sock_close(sk);
}
END_TEST

/* An out-of-order FIN waits for the data before it. */
START_TEST(out_of_order_fin)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[16];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	uint32_t r = p.seq;
	p.seq = r + 5;
	peer_send(&p, TCP_ACK | TCP_FIN, "world", 5);
	expect_seg(&p, &out, TCP_ACK, iss + 1, r, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	p.seq = r;
	peer_send(&p, TCP_ACK, "hello", 5);
	expect_seg(&p, &out, TCP_ACK, iss + 1, r + 11, 0);	/* data and FIN */
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE_WAIT);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 10);
	ck_assert_mem_eq(b, "helloworld", 10);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 0);
	sock_close(sk);
}
END_TEST

/* RFC 7323 5: a segment whose timestamp is older than TS.Recent is an old
 * duplicate: dropped, answered with an ACK. */
START_TEST(paws_drops_old_timestamp)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[16];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	p.tsval = 1000;
	peer_send(&p, TCP_ACK, "new", 3);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(sk->tcp->ts_recent, 1000);
	p.tsval = 998;
	peer_send(&p, TCP_ACK, "old", 3);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq - 3, 0);
	ck_assert_uint_eq(out.th.opts.tsecr, 1000);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_PAWS], 1);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 3);
	ck_assert_mem_eq(b, "new", 3);
	/* one tick older is tolerated, as Linux does */
	p.seq -= 3;
	p.tsval = 999;
	peer_send(&p, TCP_ACK, "ok!", 3);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 3);
	sock_close(sk);
}
END_TEST

/* ---- listeners under pressure ---- */

/* Backlog 1: the SYN queue takes two (Linux's listen(fd, 1)); the third
 * SYN gets a SYN cookie and no state. Its ACK makes the connection, with
 * the MSS from the cookie and window scale and SACK from the echoed
 * timestamp. A forged ACK gets a RST. */
START_TEST(syn_flood_cookies)
{
	struct peer p[3], forged;
	struct pkt out;
	struct sock *l = listener(1), *c;
	const uint8_t *o;
	size_t n;

	for (unsigned i = 0; i < 3; i++) {
		peer_init(&p[i]);
		p[i].port = (uint16_t)(PEER_PORT + i);
		p[i].ts = true;
		peer_syn(&p[i], &all_opts, &out);
	}
	ck_assert_uint_eq(l->tcp->syn_qlen, 2);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_SYNCOOKIES_SENT], 1);
	/* the cookie's SYN-ACK: mss, sackOK, TS, nop, wscale, as any other */
	o = opts_of(&out, &n);
	ck_assert_uint_eq(n, 20);
	ck_assert_uint_eq(o[0], 2);
	ck_assert_uint_eq(get_be16(o + 2), 1460);
	ck_assert_uint_eq(o[4], 4);
	ck_assert_uint_eq(out.th.opts.tsval & 0x3f, 0x10 | WS);	/* SACK | wscale 7 */
	ck_assert_uint_eq(out.th.win, 65160);
	/* a forged ACK for the third peer's port */
	forged = p[2];
	forged.ack += 12345;
	peer_ack(&forged);
	expect_seg(&forged, &out, TCP_RST, forged.ack, 0, 0);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_SYNCOOKIES_FAILED], 1);
	/* the real one */
	uint8_t data[100];
	fill(data, sizeof(data), 4);
	peer_send(&p[2], TCP_ACK | TCP_PSH, data, sizeof(data));
	expect_seg(&p[2], &out, TCP_ACK, p[2].ack, p[2].seq, 0);	/* the data, acked */
	ck_assert_uint_eq(h.st->stats[STAT_TCP_SYNCOOKIES_RECV], 1);
	ck_assert_int_eq(sock_accept(l, &c), 0);
	ck_assert_uint_eq(c->rport, PEER_PORT + 2);
	ck_assert_uint_eq(state_of(c), TCP_ESTABLISHED);
	ck_assert_uint_eq(c->tcp->mss, 1460);
	ck_assert(c->tcp->ws_ok && c->tcp->sack_ok && c->tcp->ts_ok);
	ck_assert_uint_eq(c->tcp->snd_wscale, WS);
	ck_assert_uint_eq(l->tcp->syn_qlen, 2);
	uint8_t got[200];
	ck_assert_int_eq(sock_recvfrom(c, got, sizeof(got), 0, NULL), 100);
	ck_assert_mem_eq(got, data, 100);
	ck_assert_int_eq(sock_sendto(c, "pong", 4, 0, NULL), 4);
	expect_seg(&p[2], &out, TCP_ACK | TCP_PSH, p[2].ack, p[2].seq, 4);
	/* its timestamps go on from the cookie's */
	ck_assert_uint_ge(out.th.opts.tsval, p[2].tsecr);
	sock_close(c);
	sock_close(l);
}
END_TEST

/* A child's SYN-ACK goes again at 1, 3, 7, 15 and 31 s; at 63 s the child
 * is dropped without a word. */
START_TEST(synack_retransmitted_then_child_dropped)
{
	struct peer p;
	struct pkt out;
	struct sock *l = listener(8);

	peer_init(&p);
	peer_syn(&p, &all_opts, &out);
	uint32_t iss = out.th.seq;
	for (unsigned rto = 1000; rto <= 16000; rto *= 2) {
		advance(rto - 1);
		expect_nothing();
		advance(1);
		expect_seg(&p, &out, TCP_SYN | TCP_ACK, iss, p.seq, 0);
	}
	ck_assert_uint_eq(l->tcp->syn_qlen, 1);
	advance(32000);
	expect_nothing();
	ck_assert_uint_eq(l->tcp->syn_qlen, 0);
	/* the peer's late ACK finds nobody */
	peer_ack(&p);
	expect_seg(&p, &out, TCP_RST, p.ack, 0, 0);
	sock_close(l);
}
END_TEST

/* A retransmitted SYN gets the SYN-ACK again at once. */
START_TEST(retransmitted_syn_gets_synack_again)
{
	struct peer p;
	struct pkt out, first;
	struct sock *l = listener(8);

	peer_init(&p);
	peer_syn(&p, &all_opts, &first);
	p.seq--;
	advance(300);
	peer_syn(&p, &all_opts, &out);
	ck_assert_uint_eq(out.th.seq, first.th.seq);
	ck_assert_uint_eq(l->tcp->syn_qlen, 1);
	sock_close(l);
}
END_TEST

/* ---- ICMP ---- */

/* The peer's router says "fragmentation needed" with an MTU of 1000
 * about a segment of ours (ICMP quotes the IP header and what follows). */
static void icmp_about(const struct pkt *ours, uint8_t type, uint8_t code, uint32_t info)
{
	uint8_t msg[ICMP_HLEN + IPV4_HLEN + 8 + 20];
	struct frame f;
	struct ipv4_hdr qh = ours->ip;
	uint8_t tcph[28];
	struct tcp_hdr th = ours->th;

	memset(tcph, 0, sizeof(tcph));
	memset(&th.opts, 0, sizeof(th.opts));	/* the quote is cut after 28 bytes anyway */
	tcp_emit(tcph, &th, 0, qh.src, qh.dst);
	qh.total_len = (uint16_t)(IPV4_HLEN + ours->th.doff + ours->dlen);
	ipv4_emit(msg + ICMP_HLEN, &qh);
	memcpy(msg + ICMP_HLEN + IPV4_HLEN, tcph, 28);
	struct icmp_hdr ih = {.type = type, .code = code, .rest = info};
	icmp_emit(msg, sizeof(msg), &ih);
	struct ipv4_hdr ip = {.ttl = 64, .proto = IPPROTO_ICMP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	size_t n = build_ipv4(&f, h_our_mac, &ip, msg, sizeof(msg));
	harness_inject(&h, f.b, n);
}

/* RFC 1191: the MSS drops to the path MTU less 40, and what went out too
 * large goes again from SND.UNA in smaller segments (Linux's
 * tcp_simple_retransmit: cwnd untouched). */
START_TEST(pmtu_frag_needed_lowers_mss_and_resends)
{
	struct peer p;
	struct pkt out, first;
	uint32_t iss;
	static uint8_t buf[3 * FULL];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, NULL);
	fill(buf, sizeof(buf), 8);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	expect_seg(&p, &first, TCP_ACK, iss + 1, p.seq, FULL);
	expect_seg(&p, &out, TCP_ACK, iss + 1 + FULL, p.seq, FULL);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1 + 2 * FULL, p.seq, FULL);
	uint32_t cwnd = sk->tcp->cc.cwnd;
	icmp_about(&first, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1000);
	ck_assert_uint_eq(sk->tcp->mss, 960);
	size_t off = 0;
	while (off < sizeof(buf)) {
		size_t len = MIN((size_t)948, sizeof(buf) - off);	/* 960 less timestamps */
		take(&out);
		ck_assert_uint_eq(out.th.seq, iss + 1 + off);
		ck_assert_uint_eq(out.dlen, len);
		ck_assert_uint_le(out.ip.total_len, 1000);
		ck_assert_mem_eq(out.data, buf + off, len);
		off += len;
	}
	expect_nothing();
	ck_assert_uint_eq(sk->tcp->cc.cwnd, cwnd);
	/* an MTU below the floor stops at TCP_MIN_MSS */
	icmp_about(&first, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 100);
	ck_assert_uint_eq(sk->tcp->mss, TCP_MIN_MSS);
	while (harness_pending(&h))
		take(&out);
	/* an ICMP error about a sequence number we never sent is ignored */
	first.th.seq = iss + 10000000;
	icmp_about(&first, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 576);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_OUT_OF_WINDOW_ICMPS], 1);
	sock_close(sk);
}
END_TEST

/* A connection attempt dies on an ICMP error (Linux: any error in
 * SYN-SENT); an established connection only notes a soft error, told if
 * it later times out. */
START_TEST(icmp_errors_hard_and_soft)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	int err;
	socklen_t len = sizeof(err);
	uint32_t iss;

	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	take(&out);
	icmp_about(&out, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	sock_close(sk);

	struct tcp_opts o = all_opts;
	o.ts_ok = false;
	sk = open_active_with(&p, &iss, &o, 10, NULL);
	set_opt(sk, IPPROTO_TCP, TCP_USER_TIMEOUT, 2000);
	ck_assert_int_eq(sock_sendto(sk, "data", 4, 0, NULL), 4);
	take(&out);
	icmp_about(&out, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	while (state_of(sk) != TCP_CLOSE) {
		advance(100);
		while (harness_pending(&h))
			take(&out);
	}
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, EHOSTUNREACH);
	sock_close(sk);
}
END_TEST

/* ---- keepalive and the user timeout ---- */

/* RFC 1122 4.2.3.6 with Linux's timing: after keepidle of silence a probe
 * (SND.UNA - 1, no data); an answer restarts the count; keepcnt probes
 * unanswered reset the connection with ETIMEDOUT and a RST. */
START_TEST(keepalive_probes_then_reset)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	int err;
	socklen_t len = sizeof(err);

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	set_opt(sk, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	set_opt(sk, IPPROTO_TCP, TCP_KEEPINTVL, 2);
	set_opt(sk, IPPROTO_TCP, TCP_KEEPCNT, 3);
	set_opt(sk, SOL_SOCKET, SO_KEEPALIVE, 1);
	advance(9999);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK, iss, p.seq, 0);
	peer_ack(&p);	/* alive */
	advance(9999);
	expect_nothing();
	advance(1);
	expect_seg(&p, &out, TCP_ACK, iss, p.seq, 0);
	for (unsigned i = 0; i < 2; i++) {
		advance(1999);
		expect_nothing();
		advance(1);
		expect_seg(&p, &out, TCP_ACK, iss, p.seq, 0);
	}
	ck_assert_uint_eq(h.st->stats[STAT_TCP_KEEPALIVE_PROBES], 4);
	advance(2000);
	expect_seg(&p, &out, TCP_RST | TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ETIMEDOUT);
	sock_close(sk);
}
END_TEST

/* TCP_USER_TIMEOUT (RFC 5482, Linux): the connection ends when data has
 * gone unacknowledged that long since it was sent, without a RST; the
 * retransmission timer never runs past it. With SACK a tail loss probe
 * comes first (at the RTO: one segment out makes the PTO 2 SRTT + 200 ms). */
START_TEST(user_timeout)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[4];

	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &all_opts, 10, NULL);
	set_opt(sk, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000);
	ck_assert_int_eq(sock_sendto(sk, "abc", 3, 0, NULL), 3);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 3);
	advance(210);	/* the loss probe */
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 3);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_LOSS_PROBES], 1);
	advance(210);	/* RTO */
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 3);
	advance(420);	/* backed off: 840 ms after the send */
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 3);
	advance(159);	/* the next would be at 1680 ms: clamped to 1000 */
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	advance(1);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ETIMEDOUT);
	sock_close(sk);
}
END_TEST

/* ---- sequence numbers ---- */

/* Both ISNs just below 2^32: the data crosses the wrap both ways. netd's
 * ISN is RFC 6528's clock plus a hash of the 4-tuple: the test learns the
 * hash with a first connection, then sets the clock. */
START_TEST(sequence_wraparound)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[6 * FULL], got[6 * FULL];

	peer_init(&p);
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	struct sock_addr me = {.addr = 0, .port = OUR_PORT};
	ck_assert_int_eq(sock_bind(sk, &me), 0);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	take(&out);
	sock_close(sk);
	uint32_t want = 0xffffffffu - 2 * FULL, ticks = want - out.th.seq;
	clock_set(&h.st->clock, stack_now(h.st) + (uint64_t)ticks * 4000);
	stack_run_timers(h.st);
	harness_learn_peer(&h);

	p.seq = 0xffffffffu - 1000;
	sk = open_active(&p, &iss);
	ck_assert_uint_eq(iss, want);
	fill(buf, sizeof(buf), 6);
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 6; i++) {
		expect_seg(&p, &out, i == 5 ? TCP_ACK | TCP_PSH : TCP_ACK, iss + 1 + i * FULL,
			   p.seq, FULL);
		ck_assert_mem_eq(out.data, buf + i * FULL, FULL);
	}
	p.ack = iss + 1 + 6 * FULL;	/* past zero */
	uint32_t r = p.seq;
	for (unsigned i = 0; i < 6; i++) {
		peer_send(&p, TCP_ACK, buf + i * FULL, FULL);
		expect_seg(&p, &out, TCP_ACK, p.ack, r + (i + 1) * FULL, 0);	/* quickacks */
	}
	ck_assert_uint_eq(sk->tcp->snd_una, iss + 1 + 6 * FULL);
	ck_assert_uint_eq(sk->tcp->snd.len, 0);
	ck_assert_int_eq(sock_recvfrom(sk, got, sizeof(got), 0, NULL), (ssize_t)sizeof(got));
	ck_assert_mem_eq(got, buf, sizeof(got));
	sock_close(sk);
}
END_TEST

/* ---- Nagle, cork, and the receive window ---- */

/* Nagle as Linux does it (Minshall): a small segment may go while full
 * ones are in flight, but not while another small one is unacked;
 * TCP_NODELAY sends at once. */
START_TEST(nagle_minshall_and_nodelay)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[FULL + 100];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	ck_assert_int_eq(sock_sendto(sk, buf, FULL + 100, 0, NULL), FULL + 100);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, FULL);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1 + FULL, p.seq, 100);
	ck_assert_int_eq(sock_sendto(sk, buf, 10, 0, NULL), 10);
	expect_nothing();	/* the 100-byte segment is unacked */
	p.ack = iss + 1 + FULL;
	peer_ack(&p);
	expect_nothing();	/* still unacked */
	p.ack = iss + 1 + FULL + 100;
	peer_ack(&p);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1 + FULL + 100, p.seq, 10);
	set_opt(sk, IPPROTO_TCP, TCP_NODELAY, 1);
	ck_assert_int_eq(sock_sendto(sk, buf, 5, 0, NULL), 5);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1 + FULL + 110, p.seq, 5);
	sock_close(sk);
}
END_TEST

/* TCP_CORK holds small segments; uncorking sends them; without uncork,
 * the persist timer lets them go after an RTO (Linux's 200 ms ceiling). */
START_TEST(cork_holds_small_segments)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	uint8_t buf[300] = {0};

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	set_opt(sk, IPPROTO_TCP, TCP_CORK, 1);
	ck_assert_int_eq(sock_sendto(sk, buf, 100, 0, NULL), 100);
	ck_assert_int_eq(sock_sendto(sk, buf, 100, 0, NULL), 100);
	expect_nothing();
	set_opt(sk, IPPROTO_TCP, TCP_CORK, 0);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 200);
	p.ack = iss + 201;
	peer_ack(&p);
	set_opt(sk, IPPROTO_TCP, TCP_CORK, 1);
	ck_assert_int_eq(sock_sendto(sk, buf, 300, 0, NULL), 300);
	expect_nothing();
	advance(300);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 201, p.seq, 300);
	sock_close(sk);
}
END_TEST

/* Our window closes as the application does not read, a segment into the
 * closed window is dropped and acked, and the window opens again only by
 * at least an MSS (RFC 9293 3.8.6.2.2): reading 100 bytes says nothing,
 * reading 1000 more sends a window update. */
START_TEST(receive_window_closes_and_reopens)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	int small = 4096;	/* 8192 bytes of buffer */
	static uint8_t buf[8192], got[8192];

	peer_init(&p);
	struct sock *sk = tcp_socket();
	ck_assert_int_eq(sock_setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	sk = open_active_sock(sk, &p, &iss, &all_opts, 0, NULL);
	ck_assert_uint_eq(sk->tcp->rcv_wnd, 7300);	/* 8192 in whole segments */
	fill(buf, sizeof(buf), 12);
	size_t sent = 0;
	while (sent < 7300) {
		size_t n = MIN((size_t)FULL, 7300 - sent);
		peer_send(&p, TCP_ACK, buf + sent, n);
		sent += n;
		advance(40);	/* quick or delayed, one ACK each */
		expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
		ck_assert_uint_eq(out.th.win, (7300 - sent) >> WS);
	}
	ck_assert_uint_eq(out.th.win, 0);
	peer_send(&p, TCP_ACK, "z", 1);	/* into the closed window */
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq - 1, 0);
	ck_assert_uint_eq(out.th.win, 0);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_ZERO_WINDOW], 1);
	p.seq--;
	ck_assert_int_eq(sock_recvfrom(sk, got, 100, 0, NULL), 100);
	expect_nothing();
	ck_assert_int_eq(sock_recvfrom(sk, got + 100, 1000, 0, NULL), 1000);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(out.th.win, (8192 - 7300 + 1100) >> WS);
	peer_send(&p, TCP_ACK, buf + 7300, 892);
	expect_nothing();	/* quick ACKs are used up: this one waits */
	advance(40);
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_int_eq(sock_recvfrom(sk, got + 1100, sizeof(got), 0, NULL), 8192 - 1100);
	ck_assert_mem_eq(got, buf, 8192);
	sock_close(sk);
}
END_TEST

/* ---- more of SEGMENT ARRIVES ---- */

/* Linux resets a connection whose application closed when data still
 * arrives (nobody can read it): RST <SEQ=SEG.ACK>. */
START_TEST(data_after_close_resets)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	unsigned used = h.st->socks.used;
	sock_close(sk);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	p.ack = iss + 2;
	peer_send(&p, TCP_ACK, "more", 4);
	expect_seg(&p, &out, TCP_RST, iss + 2, 0, 0);
	ck_assert_uint_eq(h.st->socks.used, used - 1);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_DATA_AFTER_CLOSE], 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_ABORT_ON_DATA], 1);
}
END_TEST

/* An orphan in FIN-WAIT-2 waits tcp_fin_timeout (60 s) for the peer's
 * FIN, then goes without a word. */
START_TEST(orphan_fin_wait2_times_out)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	unsigned used = h.st->socks.used;
	sock_close(sk);
	expect_seg(&p, &out, TCP_ACK | TCP_FIN, iss + 1, p.seq, 0);
	p.ack = iss + 2;
	peer_ack(&p);
	ck_assert_uint_eq(sk->tcp->state, TCP_FIN_WAIT2);
	advance(59999);
	ck_assert_uint_eq(h.st->socks.used, used);
	advance(1);
	expect_nothing();
	ck_assert_uint_eq(h.st->socks.used, used - 1);
}
END_TEST

/* Linux drops a segment with none of ACK, SYN and RST before looking at
 * its sequence number: no answer. */
START_TEST(segment_without_ack_dropped)
{
	struct peer p;
	uint32_t iss;
	char b[8];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	peer_send(&p, TCP_PSH, "noack", 5);
	expect_nothing();
	ck_assert_uint_eq(h.st->drops[DROP_TCP_FLAGS], 1);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -EAGAIN);
	sock_close(sk);
}
END_TEST

/* A bad checksum drops the segment; an option list that overruns the
 * header does not: like Linux, the options before the bad one count and
 * the segment is processed. */
START_TEST(bad_checksum_dropped_bad_options_kept)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	struct frame f;
	uint8_t seg[64];
	char b[8];

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	struct tcp_hdr th = {.sport = PEER_PORT, .dport = OUR_PORT, .seq = p.seq, .ack = p.ack,
			     .flags = TCP_ACK, .win = 1000};
	th.opts.ts_ok = true;
	th.opts.tsval = p.tsval;
	th.opts.tsecr = p.tsecr;
	memcpy(seg + 32, "hey", 3);
	tcp_emit(seg, &th, 3, H_PEER_IP, H_OUR_IP);
	seg[16] ^= 0x55;	/* checksum */
	struct ipv4_hdr ih = {.ttl = 64, .proto = IPPROTO_TCP_, .src = H_PEER_IP, .dst = H_OUR_IP};
	size_t n = build_ipv4(&f, h_our_mac, &ih, seg, 35);
	harness_inject(&h, f.b, n);
	expect_nothing();
	ck_assert_uint_eq(h.st->drops[DROP_TCP_CSUM], 1);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_IN_ERRS], 1);
	/* the timestamp option, then a NOP and an option whose length runs
	 * past the header: the segment counts, with its timestamp */
	uint8_t bad[44];
	memcpy(bad, seg, 32);
	bad[12] = (uint8_t)(36 / 4 << 4);
	bad[32] = 1;		/* NOP */
	bad[33] = 30;		/* an unknown kind ... */
	bad[34] = 40;		/* ... longer than what is left */
	bad[35] = 0;
	memcpy(bad + 36, "hey", 3);
	put_be16(bad + 16, 0);
	uint16_t c = csum_fold(csum_partial(bad, 39, csum_pseudo(H_PEER_IP, H_OUR_IP,
								  IPPROTO_TCP_, 39)));
	put_be16(bad + 16, c);
	n = build_ipv4(&f, h_our_mac, &ih, bad, 39);
	harness_inject(&h, f.b, n);
	p.seq += 3;
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), 3);
	ck_assert_mem_eq(b, "hey", 3);
	ck_assert_uint_eq(h.st->drops[DROP_TCP_OPTIONS], 0);
	sock_close(sk);
}
END_TEST

/* RFC 9293 3.10.7.3: an ACK that does not cover our SYN draws a RST; a
 * RST with an acceptable ACK refuses the connection. */
START_TEST(syn_sent_bad_ack_and_refusal)
{
	struct peer p;
	struct pkt out;
	struct sock *sk = tcp_socket();
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT};
	char b[4];

	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	p.our_port = sk->lport;
	take(&out);
	uint32_t iss = out.th.seq;
	p.ack = iss + 100;
	peer_send(&p, TCP_SYN | TCP_ACK, NULL, 0);
	expect_seg(&p, &out, TCP_RST, iss + 100, 0, 0);
	ck_assert_uint_eq(state_of(sk), TCP_SYN_SENT);
	p.ack = iss + 1;
	peer_send(&p, TCP_RST, NULL, 0);	/* no ACK: ignored */
	ck_assert_uint_eq(state_of(sk), TCP_SYN_SENT);
	peer_send(&p, TCP_RST | TCP_ACK, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ECONNREFUSED);
	ck_assert_uint_eq(h.st->stats[STAT_TCP_ATTEMPT_FAILS], 1);
	sock_close(sk);
}
END_TEST

/* After a timeout everything from SND.UNA goes again (go-back-N) in slow
 * start from one segment: one, then two, then four. */
START_TEST(rto_go_back_n_in_slow_start)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	static uint8_t buf[8 * FULL];

	struct tcp_opts o = all_opts;
	o.sack_ok = false;	/* no loss probe first */
	peer_init(&p);
	struct sock *sk = open_active_with(&p, &iss, &o, 10, "reno");
	uint32_t base = iss + 1;
	ck_assert_int_eq(sock_sendto(sk, buf, sizeof(buf), 0, NULL), (ssize_t)sizeof(buf));
	for (unsigned i = 0; i < 8; i++)
		take(&out);
	advance(210);
	expect_seg(&p, &out, TCP_ACK, base, p.seq, FULL);
	expect_nothing();
	ck_assert_uint_eq(sk->tcp->cc.cwnd, 1);
	ck_assert_uint_eq(sk->tcp->cc.ssthresh, 5);
	p.ack = base + FULL;
	peer_ack(&p);	/* cwnd 2 */
	expect_seg(&p, &out, TCP_ACK, base + FULL, p.seq, FULL);
	expect_seg(&p, &out, TCP_ACK, base + 2 * FULL, p.seq, FULL);
	expect_nothing();
	p.ack = base + 3 * FULL;
	peer_ack(&p);	/* cwnd 4 */
	for (unsigned i = 3; i < 7; i++)
		expect_seg(&p, &out, TCP_ACK, base + i * FULL, p.seq, FULL);
	expect_nothing();
	ck_assert_uint_eq(h.st->stats[STAT_TCP_RETRANS_SEGS], 7);
	sock_close(sk);
}
END_TEST

/* A full accept queue drops SYNs (Linux: no SYN-ACK, no cookie). With
 * listen(fd, 0) one connection waits for accept(); the next SYN finds the
 * queue full. */
START_TEST(accept_queue_full_drops_syn)
{
	struct peer p, q;
	struct pkt out;
	struct sock *l = listener(0), *c;

	peer_init(&p);
	p.ts = true;
	peer_syn(&p, &all_opts, &out);
	peer_ack(&p);
	ck_assert_uint_eq(l->tcp->accept_qlen, 1);
	peer_init(&q);
	q.port = PEER_PORT + 1;
	struct tcp_hdr th = {.seq = q.seq, .flags = TCP_SYN, .win = 65535};
	th.opts = all_opts;
	inject_th(&q, &th, NULL, 0);
	expect_nothing();
	ck_assert_uint_eq(h.st->drops[DROP_TCP_LISTEN_OVERFLOW], 1);
	ck_assert_int_eq(sock_accept(l, &c), 0);
	inject_th(&q, &th, NULL, 0);	/* room again */
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN | TCP_ACK);
	sock_close(c);
	sock_close(l);
}
END_TEST

/* ---- the socket's own state (Linux's inet_stream_connect) ---- */

/* The first connect after the handshake completed says 0 and makes the
 * socket SS_CONNECTED; every later one says EISCONN, even after a reset. */
START_TEST(connect_after_handshake_then_eisconn)
{
	struct peer p;
	uint32_t iss;
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT}, a;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	ck_assert_int_eq(sock_connect(sk, &to), 0);
	ck_assert_int_eq(sock_connect(sk, &to), -EISCONN);
	ck_assert_int_eq(sock_getpeername(sk, &a), 0);
	ck_assert_uint_eq(a.addr, H_PEER_IP);
	ck_assert_uint_eq(a.port, PEER_PORT);
	peer_send(&p, TCP_RST, NULL, 0);
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	/* inet_getname: no peer in CLOSE */
	ck_assert_int_eq(sock_getpeername(sk, &a), -ENOTCONN);
	ck_assert_int_eq(sock_connect(sk, &to), -EISCONN);
	sock_close(sk);
}
END_TEST

/* A connection reset by the peer before the application called connect
 * again: that connect takes the error (ECONNRESET), and in CLOSE the
 * socket has no peer name. */
START_TEST(reset_before_second_connect)
{
	struct peer p;
	uint32_t iss;
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT}, a;

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	peer_send(&p, TCP_RST, NULL, 0);
	ck_assert_int_eq(sock_getpeername(sk, &a), -ENOTCONN);
	ck_assert_int_eq(sock_connect(sk, &to), -ECONNRESET);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	sock_close(sk);
}
END_TEST

/* connect(AF_UNSPEC) on a connection is Linux's tcp_disconnect: a RST,
 * CLOSE, SO_ERROR ECONNRESET, no peer, the local address given back
 * (the port kept: the user bound it), and the socket can connect again. */
START_TEST(connect_unspec_aborts_then_reconnects)
{
	struct peer p;
	struct pkt out;
	uint32_t iss;
	char b[4];
	struct sock_addr to = {.addr = H_PEER_IP, .port = PEER_PORT}, a;
	int err;
	socklen_t len = sizeof(err);

	peer_init(&p);
	struct sock *sk = open_active(&p, &iss);
	ck_assert_int_eq(sock_connect(sk, &to), 0);
	ck_assert_int_eq(sock_sendto(sk, "abc", 3, 0, NULL), 3);
	expect_seg(&p, &out, TCP_ACK | TCP_PSH, iss + 1, p.seq, 3);
	ck_assert_int_eq(sock_connect(sk, NULL), 0);
	expect_seg(&p, &out, TCP_RST | TCP_ACK, iss + 4, p.seq, 0);
	expect_nothing();
	ck_assert_uint_eq(state_of(sk), TCP_CLOSE);
	ck_assert_int_eq(sock_getpeername(sk, &a), -ENOTCONN);
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, 0);
	ck_assert_uint_eq(a.port, OUR_PORT);
	ck_assert(sock_poll(sk) & EPOLLERR);
	ck_assert_int_eq(sock_getsockopt(sk, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ECONNRESET);
	ck_assert_int_eq(sock_recvfrom(sk, b, sizeof(b), 0, NULL), -ENOTCONN);
	ck_assert_int_eq(sock_sendto(sk, "x", 1, 0, NULL), -EPIPE);
	advance(10000);
	expect_nothing();	/* no timer of the old connection is left */

	/* again, from the same port */
	peer_init(&p);
	ck_assert_int_eq(sock_connect(sk, &to), -EINPROGRESS);
	take(&out);
	ck_assert_uint_eq(out.th.flags, TCP_SYN);
	ck_assert_uint_eq(out.th.sport, OUR_PORT);
	iss = out.th.seq;
	struct tcp_hdr th = {.seq = p.seq, .ack = iss + 1, .flags = TCP_SYN | TCP_ACK, .win = 65535};
	inject_th(&p, &th, NULL, 0);
	p.seq++;
	expect_seg(&p, &out, TCP_ACK, iss + 1, p.seq, 0);
	ck_assert_uint_eq(state_of(sk), TCP_ESTABLISHED);
	ck_assert_int_eq(sock_connect(sk, &to), 0);
	ck_assert_int_eq(sock_getsockname(sk, &a), 0);
	ck_assert_uint_eq(a.addr, H_OUR_IP);
	sock_close(sk);
}
END_TEST

/* Both ends netd: the peer of a connect(AF_UNSPEC) reads ECONNRESET. */
START_TEST(connect_unspec_resets_the_peer)
{
	struct sock *l = tcp_socket(), *c = tcp_socket(), *s2;
	struct sock_addr me = {.addr = H_OUR_IP, .port = OUR_PORT};
	char b[4];

	ck_assert_int_eq(sock_bind(l, &me), 0);
	ck_assert_int_eq(sock_listen(l, 4), 0);
	ck_assert_int_eq(sock_connect(c, &me), -EINPROGRESS);
	advance(1);
	ck_assert_int_eq(sock_accept(l, &s2), 0);
	ck_assert_int_eq(sock_connect(c, NULL), 0);
	advance(1);
	ck_assert_uint_eq(state_of(s2), TCP_CLOSE);
	ck_assert_int_eq(sock_recvfrom(s2, b, sizeof(b), 0, NULL), -ECONNRESET);
	sock_close(s2);
	sock_close(c);
	sock_close(l);
	expect_nothing();
}
END_TEST

/* ---- netd against itself ---- */

/* A connection to one of our own addresses, through the loopback queue:
 * both ends are netd. 200 KB each way, then both close; after TIME_WAIT
 * nothing is left. */
START_TEST(loopback_connection_both_ways)
{
	unsigned used = h.st->socks.used;
	struct sock *l = tcp_socket(), *c = tcp_socket(), *s2;
	struct sock_addr me = {.addr = H_OUR_IP, .port = OUR_PORT};
	static uint8_t a[200000], b[200000], got[200000];
	size_t sent_a = 0, sent_b = 0, got_a = 0, got_b = 0;

	ck_assert_int_eq(sock_bind(l, &me), 0);
	ck_assert_int_eq(sock_listen(l, 4), 0);
	ck_assert_int_eq(sock_connect(c, &me), -EINPROGRESS);
	advance(1);
	ck_assert_int_eq(sock_accept(l, &s2), 0);
	ck_assert_uint_eq(state_of(c), TCP_ESTABLISHED);
	ck_assert_uint_eq(state_of(s2), TCP_ESTABLISHED);
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	for (unsigned ms = 0; ms < 10000 && (got_a < sizeof(a) || got_b < sizeof(b)); ms++) {
		ssize_t n;
		if (sent_a < sizeof(a) && (n = sock_sendto(c, a + sent_a, sizeof(a) - sent_a, 0, NULL)) > 0)
			sent_a += (size_t)n;
		if (sent_b < sizeof(b) && (n = sock_sendto(s2, b + sent_b, sizeof(b) - sent_b, 0, NULL)) > 0)
			sent_b += (size_t)n;
		while ((n = sock_recvfrom(s2, got + got_a, sizeof(got) - got_a, 0, NULL)) > 0) {
			ck_assert_mem_eq(got + got_a, a + got_a, (size_t)n);
			got_a += (size_t)n;
		}
		static uint8_t gb[200000];
		while ((n = sock_recvfrom(c, gb + got_b, sizeof(gb) - got_b, 0, NULL)) > 0) {
			ck_assert_mem_eq(gb + got_b, b + got_b, (size_t)n);
			got_b += (size_t)n;
		}
		advance(1);
	}
	ck_assert_uint_eq(got_a, sizeof(a));
	ck_assert_uint_eq(got_b, sizeof(b));
	sock_close(c);
	advance(1);
	sock_close(s2);
	sock_close(l);
	advance(61000);
	ck_assert_uint_eq(h.st->socks.used, used);
	expect_nothing();	/* loopback: nothing on the wire */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("tcp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, active_open_syn_options_and_ack);
	tcase_add_test(tc, active_open_peer_without_options);
	tcase_add_loop_test(tc, passive_open_mirrors_options, 0, 8);
	tcase_add_test(tc, passive_open_without_any_option);
	tcase_add_test(tc, initial_window_is_ten_segments_then_slow_start);
	tcase_add_test(tc, received_data_is_acked_and_read);
	tcase_add_test(tc, delayed_ack_after_quickacks);
	tcase_add_test(tc, close_first_fin_wait_time_wait);
	tcase_add_test(tc, peer_closes_first_close_wait_last_ack);
	tcase_add_test(tc, peer_fin_acked_after_40ms_when_app_waits);
	tcase_add_test(tc, syn_backoff_then_etimedout);
	tcase_add_test(tc, rto_backoff_and_karn);
	tcase_add_test(tc, rtt_from_timestamps);
	tcase_add_test(tc, fast_retransmit_limited_transmit_newreno);
	tcase_add_test(tc, sack_recovery_retransmits_the_holes);
	tcase_add_test(tc, tail_loss_probe_then_early_retransmit);
	tcase_add_test(tc, lost_retransmission_sent_again);
	tcase_add_test(tc, zero_window_persist_probes_then_update);
	tcase_add_test(tc, simultaneous_open);
	tcase_add_test(tc, simultaneous_close);
	tcase_add_test(tc, time_wait_new_syn_accepted);
	tcase_add_test(tc, rst_exact_in_window_and_outside);
	tcase_add_test(tc, syn_in_established_challenge_ack);
	tcase_add_test(tc, unacceptable_acks_challenged);
	tcase_add_test(tc, rst_at_sack_edges);
	tcase_add_test(tc, closed_port_resets);
	tcase_add_test(tc, listener_answers_ack_with_rst);
	tcase_add_test(tc, out_of_window_data_acked_and_dropped);
	tcase_add_test(tc, out_of_order_reassembly_and_sack_blocks);
	tcase_add_test(tc, out_of_order_fin);
	tcase_add_test(tc, paws_drops_old_timestamp);
	tcase_add_test(tc, syn_flood_cookies);
	tcase_add_test(tc, synack_retransmitted_then_child_dropped);
	tcase_add_test(tc, retransmitted_syn_gets_synack_again);
	tcase_add_test(tc, pmtu_frag_needed_lowers_mss_and_resends);
	tcase_add_test(tc, icmp_errors_hard_and_soft);
	tcase_add_test(tc, keepalive_probes_then_reset);
	tcase_add_test(tc, user_timeout);
	tcase_add_test(tc, sequence_wraparound);
	tcase_add_test(tc, nagle_minshall_and_nodelay);
	tcase_add_test(tc, cork_holds_small_segments);
	tcase_add_test(tc, receive_window_closes_and_reopens);
	tcase_add_test(tc, data_after_close_resets);
	tcase_add_test(tc, orphan_fin_wait2_times_out);
	tcase_add_test(tc, segment_without_ack_dropped);
	tcase_add_test(tc, bad_checksum_dropped_bad_options_kept);
	tcase_add_test(tc, syn_sent_bad_ack_and_refusal);
	tcase_add_test(tc, rto_go_back_n_in_slow_start);
	tcase_add_test(tc, accept_queue_full_drops_syn);
	tcase_add_test(tc, loopback_connection_both_ways);
	tcase_add_test(tc, connect_after_handshake_then_eisconn);
	tcase_add_test(tc, reset_before_second_connect);
	tcase_add_test(tc, connect_unspec_aborts_then_reconnects);
	tcase_add_test(tc, connect_unspec_resets_the_peer);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
