/*
 * fuzz_tcp.c: the libFuzzer target for TCP on connections that exist.
 * fuzz_input.c throws frames at a stack without sockets, so its TCP
 * segments only ever meet a closed port; here each input starts with a
 * listener on port 80, owned by an echo-like application, and one
 * connection that the peer opened with a full handshake, so the script's
 * segments meet an ESTABLISHED socket whose sequence numbers they are
 * written against.
 *
 * Every input gets a stack of its own (virtual clock, seed 1, small
 * pools), built before it and destroyed after it: nothing carries over
 * from one input to the next, so an input replays alone and the same bytes
 * make the same run. The stack has one interface, 10.0.0.2/24, on an
 * in-memory device pair whose far end is the peer, 10.0.0.1; the peer
 * answers the stack's ARP requests. An input is two configuration bytes,
 * then records:
 *
 *   cfg0  bits 0-1  the peer's ISN: 1000000, 2^32 - 500, 2^31 - 256, or
 *                   the next 4 bytes;
 *         bit 2     netd's ISN 1000 below 2^32 (the clock is set for it);
 *         bits 3-5  the peer's SYNs leave out timestamps, SACK-permitted,
 *                   window scale;
 *         bit 6     the peer's MSS is 536 (else 1460);
 *         bit 7     the peer's window is 2048 (else 65535).
 *   cfg1  the listener's options, which its children inherit: bits 0-1
 *         SO_RCVBUF as set (default, 2304, 8192, 32768), bit 2 SO_SNDBUF
 *         4096, bit 3 TCP_NODELAY, bit 4 keepalive (1 s, 1 s, 3 probes),
 *         bit 5 TCP_USER_TIMEOUT 5 s, bit 6 Reno, bit 7 TCP_MAXSEG 536.
 *
 * A record is an opcode byte, its kind in the top three bits:
 *
 *   000bcdsr  a segment from the peer on the current connection: a flags
 *             byte, a control byte, then what the control byte asks for.
 *             Control bits 0-1: SEG.SEQ is RCV.NXT plus a signed byte, a
 *             signed 16-bit or a 32-bit offset, or RCV.NXT itself; bits
 *             2-3: SEG.ACK likewise from SND.UNA, or SND.MAX itself; bit 4:
 *             a 16-bit window follows (else the peer's); bit 5: a signed
 *             byte moves the TSval; bits 6-7: no data, a length byte, a
 *             16-bit length, or one MSS of data. Opcode bits: r (0x01) a
 *             wrong checksum; s (0x02) SACK blocks follow (a count byte,
 *             then per block a 16-bit start from SND.UNA and a 16-bit
 *             length); d (0x04) the stack does not run after it (a
 *             burst); c (0x08) raw option bytes follow (a length byte,
 *             then the bytes) in place of the peer's; b (0x10) no
 *             timestamp. A segment with SYN carries the peer's SYN options.
 *   001nnnnn  the clock moves: n = 0 to the next timer; 1-10: n * 10 ms;
 *             11-20: (n - 10) * 200 ms; 21-31: (n - 20) * 5 s.
 *   010aaaaa  the application acts on the current connection (fuzz_app).
 *   011xxxxh  the peer opens a connection from a new port (once 8 are
 *             open, from the port of an old one): h (0x01) finishes the
 *             handshake, else it stays in SYN-RECEIVED; x (0x02, 0x04,
 *             0x08) leave out options as cfg0's bits 3-5. It is current.
 *   100.erpf  a raw segment: a 16-bit length, then the bytes, as a TCP
 *             segment inside a good IPv4 header from the peer, or with e
 *             (0x08) as a whole Ethernet frame; p (0x02) writes the current
 *             connection's ports in, r (0x04) adds RCV.NXT and SND.UNA to
 *             its sequence and acknowledgment numbers, f (0x01) makes its
 *             checksum right.
 *   101nnnnn  connection n (modulo how many there are) becomes current.
 *   110..ttt  an ICMP error from the peer quoting the last segment netd
 *             sent on the current connection: fragmentation needed (a
 *             16-bit MTU follows), port, host, net or protocol unreachable,
 *             time exceeded, parameter problem, source quench.
 *   111hwfzd  the peer acknowledges SND.MAX (h 0x10: half way from
 *             SND.UNA; w 0x08: three duplicate ACKs of SND.UNA instead),
 *             with a data byte (d 0x01), with FIN (f 0x04), with a zero
 *             window (z 0x02).
 *
 * After each record (but a burst) the stack runs until it is idle, and
 * everything it sent is taken and freed. At the end of the input the
 * application aborts every connection it holds (SO_LINGER 0) and closes
 * the listener; the clock then runs (4 hours at most) until the
 * connections it let go of die. Every socket must be free and every buffer back in its pool, or
 * the target aborts: a leak is a finding like a crash.
 *
 * LLVMFuzzerTestOneInput() is also what replay_main.c calls to run the
 * corpus (tests/fuzz/corpus_tcp) in every build. No Check here.
 */
#include "config.h"

#include <linux/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/log.h"
#include "netd/stack.h"
#include "netd/tcp.h"
#include "netd/util.h"
#include "netd/wire/arp.h"
#include "netd/wire/checksum.h"
#include "netd/wire/eth.h"
#include "netd/wire/icmp.h"
#include "netd/wire/ipv4.h"
#include "netd/wire/tcp.h"

#define OUR_IP 0x0a000002u	/* 10.0.0.2 */
#define PEER_IP 0x0a000001u	/* 10.0.0.1 */
#define OUR_PORT 80
#define PEER_PORT 40000		/* the first connection's; the others count up */
#define MTU 1500
#define MAX_CONNS 8
#define PEER_WSCALE 7
#define PEER_TS_BASE 1000u
#define SETTLE_ROUNDS 10000	/* more means the stack never goes idle */
#define FLUSH_LIMIT_NS SEC(4 * 3600)	/* orphans die well before: RTO and probes give up */
#define APP_BUF 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t our_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t peer_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* What the peer's SYNs offer. */
struct syn_cfg {
	bool ts, sack, ws;
	uint16_t mss;
};

/* One connection the peer opened. */
struct fuzz_conn {
	uint16_t port;			/* the peer's */
	struct sock *sk;		/* the application's; NULL before accept and after close */
	bool reading;			/* the application reads what arrives */
	bool shut_sent;			/* it saw the end of the stream and shut down */
	struct syn_cfg syn;
	uint32_t isn;			/* the peer's */
	/* netd's side as last seen, for when the connection is gone */
	uint32_t rcv_nxt, snd_una, snd_max;
	uint32_t tsecr;			/* the last TSval netd sent */
	uint8_t last[IPV4_HLEN + TCP_MAX_HLEN + 8];	/* netd's last segment, for ICMP */
	size_t last_len;
};

struct fuzz_env {
	struct stack *st;
	struct netif *nif;
	struct netdev *peer;		/* the far end of the wire */
	struct nbuf_pool peer_pool;
	struct sock *listener;
	struct fuzz_conn conns[MAX_CONNS];
	unsigned nconns, cur, opened;
	struct syn_cfg syn;
	uint32_t isn0;
	uint16_t peer_win;
	uint16_t ip_id;
};

/* The script, read byte by byte; past its end every byte is 0. */
struct script {
	const uint8_t *d;
	size_t n, i;
};

static void fuzz_fail(const char *what, unsigned a, unsigned b)
{
	fprintf(stderr, "fuzz_tcp: %s (%u, %u)\n", what, a, b);
	abort();
}

static uint8_t get8(struct script *s)
{
	return s->i < s->n ? s->d[s->i++] : 0;
}

static uint16_t get16(struct script *s)
{
	uint16_t hi = get8(s);
	return (uint16_t)(hi << 8 | get8(s));
}

static uint32_t get32(struct script *s)
{
	uint32_t hi = get16(s);
	return hi << 16 | get16(s);
}

/* ---- the wire ---- */

/* Runs the stack until no frame waits and no owner has events, then
 * hands what it queued to the device. */
static void fuzz_settle(struct fuzz_env *e)
{
	struct netdev *dev = e->nif->dev;
	unsigned rounds = 0;

	while (e->st->loopback.len || dev->ops->rx_pending(dev) || e->st->socks.ready) {
		if (++rounds > SETTLE_ROUNDS)
			fuzz_fail("the stack never goes idle", e->st->loopback.len, rounds);
		netif_poll(e->nif, 1024);
		ip_loopback_run(e->st);
		sock_run_ready(e->st);
	}
	netif_flush(e->nif);
}

static void fuzz_put_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	struct eth_hdr eh = {.type = type};

	memcpy(eh.dst, dst, ETH_ALEN);
	memcpy(eh.src, peer_mac, ETH_ALEN);
	eth_emit(f, &eh);
}

/* The peer answers a request for its address, as a live host would. */
static void fuzz_peer_answer(struct fuzz_env *e, const struct arp_pkt *req)
{
	uint8_t f[ETH_HLEN + ARP_LEN];
	struct arp_pkt a = {.op = ARP_OP_REPLY, .spa = PEER_IP, .tpa = req->spa};

	fuzz_put_eth(f, req->sha, ETHERTYPE_ARP);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	memcpy(a.tha, req->sha, ETH_ALEN);
	arp_emit(f + ETH_HLEN, &a);
	(void)mem_inject(e->peer, f, sizeof(f));	/* refused only when the pool is dry */
}

static struct fuzz_conn *fuzz_conn_by_port(struct fuzz_env *e, uint16_t port)
{
	for (unsigned i = 0; i < e->nconns; i++)
		if (e->conns[i].port == port)
			return &e->conns[i];
	return NULL;
}

/* A segment netd sent to the peer: its connection remembers it. */
static void fuzz_note_segment(struct fuzz_env *e, const uint8_t *ip, const struct ipv4_hdr *ih)
{
	struct tcp_hdr th;
	size_t len = ih->total_len - ih->hlen;

	if (ih->proto != IPPROTO_TCP_ || tcp_parse(ip + ih->hlen, len, ih->src, ih->dst, &th))
		return;
	struct fuzz_conn *c = fuzz_conn_by_port(e, th.dport);
	if (!c)
		return;
	if (th.opts.ts_ok)
		c->tsecr = th.opts.tsval;
	c->last_len = MIN((size_t)ih->total_len, sizeof(c->last));
	memcpy(c->last, ip, c->last_len);
}

/* Looks at a frame netd sent: ARP requests for the peer are answered,
 * TCP segments noted. True when the peer answered. */
static bool fuzz_look_at(struct fuzz_env *e, const struct nbuf *nb)
{
	const uint8_t *f = nb->data;
	size_t len = nbuf_len(nb);
	struct eth_hdr eh;
	struct arp_pkt a;
	struct ipv4_hdr ih;

	if (eth_parse(f, len, &eh))
		return false;
	if (eh.type == ETHERTYPE_ARP) {
		if (arp_parse(f + ETH_HLEN, len - ETH_HLEN, &a) || a.op != ARP_OP_REQUEST ||
		    a.tpa != PEER_IP)
			return false;
		fuzz_peer_answer(e, &a);
		return true;
	}
	if (eh.type == ETHERTYPE_IPV4 && !ipv4_parse(f + ETH_HLEN, len - ETH_HLEN, &ih))
		fuzz_note_segment(e, f + ETH_HLEN, &ih);
	return false;
}

/* Takes and frees every frame the stack sent, answering ARP on the way. */
static void fuzz_drain(struct fuzz_env *e)
{
	struct nbuf *nb;
	unsigned answers = 0;

	fuzz_settle(e);
	while ((nb = mem_take(e->peer))) {
		bool answered = fuzz_look_at(e, nb);
		nbuf_free(nb);
		if (answered) {
			if (++answers > SETTLE_ROUNDS)
				fuzz_fail("the stack asks for the peer forever", answers, 0);
			fuzz_settle(e);
		}
	}
}

/* The peer sends frame f, whose IPv4 payload (plen bytes of protocol
 * proto) is in place: the Ethernet and IPv4 headers are written here. */
static void fuzz_send_ip(struct fuzz_env *e, uint8_t *f, size_t plen, uint8_t proto, bool burst)
{
	struct ipv4_hdr ih = {.ttl = 64, .proto = proto, .src = PEER_IP, .dst = OUR_IP,
			      .id = e->ip_id++, .total_len = (uint16_t)(IPV4_HLEN + plen)};

	fuzz_put_eth(f, our_mac, ETHERTYPE_IPV4);
	ipv4_emit(f + ETH_HLEN, &ih);
	/* Refused when the pool is dry: what a NIC would do. */
	(void)mem_inject(e->peer, f, (unsigned)(ETH_HLEN + IPV4_HLEN + plen));
	if (!burst)
		fuzz_drain(e);
}

/* ---- the connections ---- */

static uint32_t fuzz_peer_tsval(const struct fuzz_env *e)
{
	return PEER_TS_BASE + (uint32_t)(stack_now(e->st) / NSEC_PER_MSEC);
}

/* netd's side of c: from its socket while it lives, else as last seen. */
static void fuzz_conn_state(struct fuzz_env *e, struct fuzz_conn *c)
{
	struct tcp_sock *tp = tcp_lookup_established(e->st, OUR_IP, OUR_PORT, PEER_IP, c->port);

	if (!tp)
		return;
	c->rcv_nxt = tp->rcv_nxt;
	c->snd_una = tp->snd_una;
	c->snd_max = tp->snd_max;
}

static void fuzz_app_read(struct fuzz_conn *c);

/* The application's side of a connection: it reads what arrives (unless
 * told not to) and writes it back, and shuts down its side at the end of
 * the stream. */
static void fuzz_conn_wakeup(struct sock *sk, unsigned events)
{
	struct fuzz_conn *c = sk->owner;

	(void)events;
	if (c->reading)
		fuzz_app_read(c);
}

static void fuzz_app_read(struct fuzz_conn *c)
{
	static uint8_t buf[APP_BUF];
	ssize_t n;

	while ((n = sock_recvfrom(c->sk, buf, sizeof(buf), MSG_DONTWAIT, NULL)) > 0)
		(void)sock_sendto(c->sk, buf, (size_t)n, MSG_DONTWAIT, NULL);
	if (n == 0 && !c->shut_sent) {
		c->shut_sent = true;
		(void)sock_shutdown(c->sk, SHUT_WR);
	}
}

/* Lets go of the application's socket: closed, or aborted with a RST. */
static void fuzz_app_close(struct fuzz_conn *c, bool abort_it)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (!c->sk)
		return;
	if (abort_it)
		(void)sock_setsockopt(c->sk, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	sock_close(c->sk);
	c->sk = NULL;
}

/* The listener's owner accepts everything; a connection whose port has no
 * free slot is aborted. */
static void fuzz_accept(struct sock *l, unsigned events)
{
	struct fuzz_env *e = l->owner;
	struct sock *sk;

	(void)events;
	while (sock_accept(l, &sk) == 0) {
		struct fuzz_conn *c = fuzz_conn_by_port(e, sk->rport);
		if (!c || c->sk) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			(void)sock_setsockopt(sk, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			sock_close(sk);
			continue;
		}
		c->sk = sk;
		c->reading = true;
		c->shut_sent = false;
		sock_set_owner(sk, fuzz_conn_wakeup, c);
		fuzz_app_read(c);
	}
}

/* ---- the peer's segments ---- */

struct seg {
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	bool ts;
	uint32_t tsval;
	unsigned nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
	const uint8_t *raw_opts;	/* in place of the options above, when set */
	size_t raw_len;
	size_t dlen;
	bool bad_csum, burst;
};

static void fuzz_pattern(uint8_t *p, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seq + i) * 7 + 1);
}

/* The checksum of the TCP segment of len bytes at t, rewritten. */
static void fuzz_tcp_csum(uint8_t *t, size_t len)
{
	put_be16(t + 16, 0);
	put_be16(t + 16, csum_fold(csum_partial(t, len, csum_pseudo(PEER_IP, OUR_IP, IPPROTO_TCP_,
								    (uint16_t)len))));
}

/* Options for s on connection c: timestamps, SACK blocks, and on a SYN
 * what the peer's SYNs offer, as many SACK blocks as fit in 40 bytes. */
static void fuzz_seg_opts(const struct fuzz_conn *c, const struct seg *s, struct tcp_hdr *th)
{
	if (s->flags & TCP_SYN) {
		th->opts.mss_ok = true;
		th->opts.mss = c->syn.mss;
		th->opts.ws_ok = c->syn.ws;
		th->opts.wscale = PEER_WSCALE;
		th->opts.sack_ok = c->syn.sack;
	}
	if (s->ts) {
		th->opts.ts_ok = true;
		th->opts.tsval = s->tsval;
		th->opts.tsecr = c->tsecr;
	}
	th->opts.nsack = (uint8_t)s->nsack;
	memcpy(th->opts.sack, s->sack, sizeof(th->opts.sack));
	while (th->opts.nsack && tcp_opts_len(th) > TCP_MAX_HLEN - TCP_HLEN)
		th->opts.nsack--;
}

/* The peer sends s on connection c. */
static void fuzz_send_seg(struct fuzz_env *e, const struct fuzz_conn *c, const struct seg *s)
{
	static uint8_t f[ETH_HLEN + MTU];
	uint8_t *t = f + ETH_HLEN + IPV4_HLEN;
	struct tcp_hdr th = {.sport = c->port, .dport = OUR_PORT, .seq = s->seq, .ack = s->ack,
			     .flags = s->flags, .win = s->win};
	size_t olen, room = MTU - IPV4_HLEN - TCP_HLEN;

	if (!s->raw_opts)
		fuzz_seg_opts(c, s, &th);
	olen = s->raw_opts ? ALIGN_UP(s->raw_len, 4) : tcp_opts_len(&th);
	size_t dlen = MIN(s->dlen, room - olen);
	fuzz_pattern(t + TCP_HLEN + olen, dlen, s->seq);
	tcp_emit(t, &th, 0, PEER_IP, OUR_IP);	/* the header; options come next */
	if (s->raw_opts) {
		memset(t + TCP_HLEN, TCPOPT_EOL, olen);
		memcpy(t + TCP_HLEN, s->raw_opts, s->raw_len);
		t[12] = (uint8_t)((TCP_HLEN + olen) / 4 << 4);
	}
	fuzz_tcp_csum(t, TCP_HLEN + olen + dlen);
	if (s->bad_csum)
		t[17] ^= 0x5a;
	fuzz_send_ip(e, f, TCP_HLEN + olen + dlen, IPPROTO_TCP_, s->burst);
}

/* A segment on c at RCV.NXT acknowledging SND.MAX, with the peer's
 * window and timestamp. */
static void fuzz_seg_init(struct fuzz_env *e, struct fuzz_conn *c, struct seg *s, uint8_t flags)
{
	fuzz_conn_state(e, c);
	memset(s, 0, sizeof(*s));
	s->flags = flags;
	s->seq = c->rcv_nxt;
	s->ack = c->snd_max;
	s->win = e->peer_win;
	s->ts = c->syn.ts;
	s->tsval = fuzz_peer_tsval(e);
}

/* The peer opens connection k: its SYN, and with complete its ACK of the
 * SYN-ACK. */
static void fuzz_open(struct fuzz_env *e, unsigned k, const struct syn_cfg *syn, bool complete)
{
	struct fuzz_conn *c = &e->conns[k];
	struct seg s;

	if (k == e->nconns) {
		memset(c, 0, sizeof(*c));
		c->port = (uint16_t)(PEER_PORT + k);
		e->nconns++;
	}
	c->syn = *syn;
	c->isn = e->isn0 + e->opened++ * 0x01000000u;
	c->rcv_nxt = c->isn;	/* until netd says otherwise */
	fuzz_seg_init(e, c, &s, TCP_SYN);
	s.seq = c->isn;
	s.ack = 0;
	fuzz_send_seg(e, c, &s);
	if (!complete)
		return;
	fuzz_seg_init(e, c, &s, TCP_ACK);
	s.seq = c->isn + 1;
	fuzz_send_seg(e, c, &s);
}

/* ---- the records ---- */

static uint32_t fuzz_offset(struct script *sc, unsigned mode, uint32_t base, uint32_t exact)
{
	switch (mode & 3) {
	case 0:
		return base + (uint32_t)(int32_t)(int8_t)get8(sc);
	case 1:
		return base + (uint32_t)(int32_t)(int16_t)get16(sc);
	case 2:
		return base + get32(sc);
	default:
		return exact;
	}
}

#define OP_BAD_CSUM 0x01
#define OP_SACK 0x02
#define OP_BURST 0x04
#define OP_RAW_OPTS 0x08
#define OP_NO_TS 0x10

static void fuzz_rec_segment(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	static uint8_t raw[TCP_MAX_HLEN - TCP_HLEN];
	struct fuzz_conn *c = &e->conns[e->cur];
	struct seg s;
	uint8_t flags = get8(sc), ctl = get8(sc);

	fuzz_seg_init(e, c, &s, flags);
	s.seq = fuzz_offset(sc, ctl, c->rcv_nxt, c->rcv_nxt);
	s.ack = fuzz_offset(sc, ctl >> 2, c->snd_una, c->snd_max);
	if (ctl & 0x10)
		s.win = get16(sc);
	if (ctl & 0x20)
		s.tsval += (uint32_t)(int32_t)(int8_t)get8(sc);
	switch (ctl >> 6) {
	case 1:
		s.dlen = get8(sc);
		break;
	case 2:
		s.dlen = get16(sc) & 0x7ff;
		break;
	case 3:
		s.dlen = c->syn.mss;
		break;
	}
	if (op & OP_SACK) {
		s.nsack = (get8(sc) & 3) + 1u;
		for (unsigned i = 0; i < s.nsack; i++) {
			s.sack[i].start = c->snd_una + (uint32_t)(int32_t)(int16_t)get16(sc);
			s.sack[i].end = s.sack[i].start + get16(sc);
		}
	}
	if (op & OP_RAW_OPTS) {
		size_t n = get8(sc);	/* MIN() would read the script twice */
		s.raw_len = MIN(n, sizeof(raw));
		for (size_t i = 0; i < s.raw_len; i++)
			raw[i] = get8(sc);
		s.raw_opts = raw;
	}
	s.ts = s.ts && !(op & OP_NO_TS);
	s.bad_csum = op & OP_BAD_CSUM;
	s.burst = op & OP_BURST;
	fuzz_send_seg(e, c, &s);
}

/* Moves the clock forward by ns, from one timer's expiry to the next,
 * the stack's frames going out and the peer answering ARP after each. */
static void fuzz_advance(struct fuzz_env *e, uint64_t ns)
{
	struct stack *st = e->st;
	uint64_t end = stack_now(st) + ns;

	while (stack_now(st) < end) {
		int64_t next = timer_next(&st->timers, stack_now(st));
		uint64_t step = end - stack_now(st);
		if (next >= 0 && (uint64_t)next < step)
			step = MAX((uint64_t)next, TIMER_TICK_NS);
		clock_set(&st->clock, stack_now(st) + step);
		stack_run_timers(st);
		fuzz_drain(e);
	}
}

static void fuzz_rec_clock(struct fuzz_env *e, uint8_t n)
{
	if (n == 0) {
		int64_t next = timer_next(&e->st->timers, stack_now(e->st));
		if (next >= 0)
			fuzz_advance(e, MIN((uint64_t)MAX(next, (int64_t)TIMER_TICK_NS), SEC(120)));
	} else if (n <= 10) {
		fuzz_advance(e, MSEC(n * 10u));
	} else if (n <= 20) {
		fuzz_advance(e, MSEC((n - 10u) * 200u));
	} else {
		fuzz_advance(e, SEC(n - 20u) * 5);
	}
}

static void fuzz_setopt(struct sock *sk, int level, int name, int v)
{
	(void)sock_setsockopt(sk, level, name, &v, sizeof(v));
}

/* Socket options the application sets: 9 TCP_NODELAY, 10 and 11 TCP_CORK
 * on and off, 12 keepalive (1 s, 1 s, 2 probes), 13 TCP_USER_TIMEOUT 2 s,
 * 14 SO_RCVLOWAT 100, 17 TCP_INFO and the ioctls, 18 Reno, 19 TCP_MAXSEG
 * 200; other numbers do nothing. */
static void fuzz_app_option(struct sock *sk, uint8_t a)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int v;

	switch (a) {
	case 9:
		fuzz_setopt(sk, IPPROTO_TCP, TCP_NODELAY, 1);
		break;
	case 10:
	case 11:
		fuzz_setopt(sk, IPPROTO_TCP, TCP_CORK, a == 10);
		break;
	case 12:
		fuzz_setopt(sk, IPPROTO_TCP, TCP_KEEPIDLE, 1);
		fuzz_setopt(sk, IPPROTO_TCP, TCP_KEEPINTVL, 1);
		fuzz_setopt(sk, IPPROTO_TCP, TCP_KEEPCNT, 2);
		fuzz_setopt(sk, SOL_SOCKET, SO_KEEPALIVE, 1);
		break;
	case 13:
		fuzz_setopt(sk, IPPROTO_TCP, TCP_USER_TIMEOUT, 2000);
		break;
	case 14:
		fuzz_setopt(sk, SOL_SOCKET, SO_RCVLOWAT, 100);
		break;
	case 17:
		(void)sock_getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len);
		(void)sock_ioctl(sk, SIOCINQ, &v);
		(void)sock_ioctl(sk, SIOCOUTQ, &v);
		(void)sock_poll(sk);
		break;
	case 18:
		(void)sock_setsockopt(sk, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
		break;
	case 19:
		fuzz_setopt(sk, IPPROTO_TCP, TCP_MAXSEG, 200);
		break;
	default:
		break;
	}
}

/* What the application does on the current connection: 0 stops reading,
 * 1 reads (and echoes) again; 2 writes (n + 1) * 64 bytes, n the next
 * byte, 3 the same with MSG_MORE, 4 one byte; 5 and 6 shut down writing
 * and reading; 7 closes, 8 aborts (SO_LINGER 0); 15 peeks, 16 reads one
 * byte; the rest are options (fuzz_app_option). */
static void fuzz_app(struct fuzz_env *e, struct script *sc, uint8_t a)
{
	static uint8_t buf[16384];
	struct fuzz_conn *c = &e->conns[e->cur];
	struct sock *sk = c->sk;
	size_t n;

	if (!sk)
		return;
	switch (a) {
	case 0:
	case 1:
		c->reading = a == 1;
		if (c->reading)
			fuzz_app_read(c);
		break;
	case 2:
	case 3:
		n = (get8(sc) + 1u) * 64u;
		fuzz_pattern(buf, n, (uint32_t)n);
		(void)sock_sendto(sk, buf, n, a == 3 ? MSG_DONTWAIT | MSG_MORE : MSG_DONTWAIT, NULL);
		break;
	case 4:
		(void)sock_sendto(sk, "!", 1, MSG_DONTWAIT, NULL);
		break;
	case 5:
	case 6:
		(void)sock_shutdown(sk, a == 5 ? SHUT_WR : SHUT_RD);
		break;
	case 7:
	case 8:
		fuzz_app_close(c, a == 8);
		break;
	case 15:
	case 16:
		(void)sock_recvfrom(sk, buf, a == 15 ? 10 : 1,
				    a == 15 ? MSG_DONTWAIT | MSG_PEEK : MSG_DONTWAIT, NULL);
		break;
	default:
		fuzz_app_option(sk, a);
		break;
	}
	fuzz_drain(e);
}

static struct syn_cfg fuzz_syn_cfg(const struct fuzz_env *e, uint8_t bits)
{
	struct syn_cfg s = e->syn;

	s.ts = s.ts && !(bits & 1);
	s.sack = s.sack && !(bits & 2);
	s.ws = s.ws && !(bits & 4);
	return s;
}

static void fuzz_rec_open(struct fuzz_env *e, uint8_t op)
{
	unsigned k = e->nconns < MAX_CONNS ? e->nconns : e->opened % MAX_CONNS;
	struct syn_cfg syn = fuzz_syn_cfg(e, (uint8_t)(op >> 1));

	fuzz_open(e, k, &syn, op & 1);
	e->cur = k;
}

#define RAW_FIX_CSUM 0x01
#define RAW_PORTS 0x02
#define RAW_RELATIVE 0x04
#define RAW_ETHERNET 0x08

static void fuzz_rec_raw(struct fuzz_env *e, struct script *sc, uint8_t op)
{
	static uint8_t f[ETH_HLEN + MTU];
	struct fuzz_conn *c = &e->conns[e->cur];
	size_t len = get16(sc) & 0x7ff;

	len = MIN(len, sc->n - sc->i);
	if (op & RAW_ETHERNET) {
		len = MIN(len, sizeof(f));
		(void)mem_inject(e->peer, sc->d + sc->i, (unsigned)len);
		sc->i += len;
		fuzz_drain(e);
		return;
	}
	uint8_t *t = f + ETH_HLEN + IPV4_HLEN;
	len = MIN(len, (size_t)MTU - IPV4_HLEN);
	memcpy(t, sc->d + sc->i, len);
	sc->i += len;
	if (len >= TCP_HLEN) {
		fuzz_conn_state(e, c);
		if (op & RAW_PORTS) {
			put_be16(t, c->port);
			put_be16(t + 2, OUR_PORT);
		}
		if (op & RAW_RELATIVE) {
			put_be32(t + 4, get_be32(t + 4) + c->rcv_nxt);
			put_be32(t + 8, get_be32(t + 8) + c->snd_una);
		}
		if (op & RAW_FIX_CSUM)
			fuzz_tcp_csum(t, len);
	}
	fuzz_send_ip(e, f, len, IPPROTO_TCP_, false);
}

static void fuzz_rec_icmp(struct fuzz_env *e, struct script *sc, uint8_t t)
{
	static const uint8_t kinds[8][2] = {
		{ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED}, {ICMP_DEST_UNREACH, ICMP_PORT_UNREACH},
		{ICMP_DEST_UNREACH, ICMP_HOST_UNREACH}, {ICMP_DEST_UNREACH, ICMP_NET_UNREACH},
		{ICMP_DEST_UNREACH, ICMP_PROT_UNREACH}, {ICMP_TIME_EXCEEDED, ICMP_EXC_TTL},
		{ICMP_PARAMETERPROB, 0}, {ICMP_SOURCE_QUENCH, 0},
	};
	static uint8_t f[ETH_HLEN + IPV4_HLEN + ICMP_HLEN + sizeof(((struct fuzz_conn *)0)->last)];
	const struct fuzz_conn *c = &e->conns[e->cur];
	struct icmp_hdr ih = {.type = kinds[t][0], .code = kinds[t][1]};
	uint8_t *msg = f + ETH_HLEN + IPV4_HLEN;

	if (t == 0)
		ih.rest = get16(sc);
	if (!c->last_len)
		return;
	memcpy(msg + ICMP_HLEN, c->last, c->last_len);
	icmp_emit(msg, ICMP_HLEN + c->last_len, &ih);
	fuzz_send_ip(e, f, ICMP_HLEN + c->last_len, IPPROTO_ICMP_, false);
}

#define ACK_DATA 0x01
#define ACK_ZERO_WINDOW 0x02
#define ACK_FIN 0x04
#define ACK_DUPS 0x08
#define ACK_HALF 0x10

static void fuzz_rec_ack(struct fuzz_env *e, uint8_t op)
{
	struct fuzz_conn *c = &e->conns[e->cur];
	struct seg s;

	fuzz_seg_init(e, c, &s, TCP_ACK | ((op & ACK_FIN) ? TCP_FIN : 0));
	if (op & ACK_HALF)
		s.ack = c->snd_una + (c->snd_max - c->snd_una) / 2;
	if (op & ACK_ZERO_WINDOW)
		s.win = 0;
	s.dlen = op & ACK_DATA;
	if (op & ACK_DUPS) {
		s.ack = c->snd_una;
		s.flags = TCP_ACK;
		s.dlen = 0;
		for (unsigned i = 0; i < 3; i++)
			fuzz_send_seg(e, c, &s);
		return;
	}
	fuzz_send_seg(e, c, &s);
}

static void fuzz_record(struct fuzz_env *e, struct script *sc)
{
	uint8_t op = get8(sc);

	switch (op >> 5) {
	case 0:
		fuzz_rec_segment(e, sc, op);
		break;
	case 1:
		fuzz_rec_clock(e, op & 0x1f);
		break;
	case 2:
		fuzz_app(e, sc, op & 0x1f);
		break;
	case 3:
		fuzz_rec_open(e, op & 0x1f);
		break;
	case 4:
		fuzz_rec_raw(e, sc, op & 0x1f);
		break;
	case 5:
		e->cur = (op & 0x1f) % e->nconns;
		break;
	case 6:
		fuzz_rec_icmp(e, sc, op & 7);
		break;
	default:
		fuzz_rec_ack(e, op & 0x1f);
		break;
	}
}

/* ---- the stack of one input ---- */

static void fuzz_params(struct stack_params *p)
{
	stack_params_default(p);
	p->seed = 1;
	p->pool_small = 256;
	p->pool_medium = 2;
	p->pool_large = 2;
	p->neigh_entries = 8;
	p->reasm_queues = 4;
	p->max_routes = 4;
	p->max_sockets = 32;
}

/* The peer asks for our address, so the stack knows it. */
static void fuzz_learn_peer(struct fuzz_env *e)
{
	uint8_t f[ETH_HLEN + ARP_LEN];
	struct arp_pkt a = {.op = ARP_OP_REQUEST, .spa = PEER_IP, .tpa = OUR_IP};

	fuzz_put_eth(f, eth_broadcast, ETHERTYPE_ARP);
	memcpy(a.sha, peer_mac, ETH_ALEN);
	arp_emit(f + ETH_HLEN, &a);
	if (mem_inject(e->peer, f, sizeof(f)))
		fuzz_fail("cannot inject the peer's ARP request", 0, 0);
	fuzz_drain(e);
}

/* The listener on OUR_PORT, with the options of cfg1. */
static void fuzz_listen(struct fuzz_env *e, uint8_t cfg1)
{
	static const int rcvbufs[4] = {0, 1152, 4096, 16384};	/* doubled when set */
	struct sock_addr any = {.addr = 0, .port = OUR_PORT};
	struct sock *l;

	if (sock_create(e->st, SOCK_STREAM, 0, 0, &l) || sock_bind(l, &any) ||
	    sock_listen(l, 16))
		fuzz_fail("cannot listen", 0, 0);
	sock_set_owner(l, fuzz_accept, e);
	if (cfg1 & 3)
		fuzz_setopt(l, SOL_SOCKET, SO_RCVBUF, rcvbufs[cfg1 & 3]);
	if (cfg1 & 0x04)
		fuzz_setopt(l, SOL_SOCKET, SO_SNDBUF, 2048);
	if (cfg1 & 0x08)
		fuzz_setopt(l, IPPROTO_TCP, TCP_NODELAY, 1);
	if (cfg1 & 0x10) {
		fuzz_setopt(l, IPPROTO_TCP, TCP_KEEPIDLE, 1);
		fuzz_setopt(l, IPPROTO_TCP, TCP_KEEPINTVL, 1);
		fuzz_setopt(l, IPPROTO_TCP, TCP_KEEPCNT, 3);
		fuzz_setopt(l, SOL_SOCKET, SO_KEEPALIVE, 1);
	}
	if (cfg1 & 0x20)
		fuzz_setopt(l, IPPROTO_TCP, TCP_USER_TIMEOUT, 5000);
	if (cfg1 & 0x40)
		(void)sock_setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
	if (cfg1 & 0x80)
		fuzz_setopt(l, IPPROTO_TCP, TCP_MAXSEG, 536);
	e->listener = l;
}

static void fuzz_create(struct fuzz_env *e)
{
	struct nbuf_pool_config pc = {
		.small_size = 2048, .small_count = 128, .large_size = 2048, .large_count = 1,
	};
	struct netdev_env env_stack, env_peer = {.pool = &e->peer_pool};
	struct stack_params p;
	struct netdev *dev;
	int err;

	memset(e, 0, sizeof(*e));
	env_peer.pool = &e->peer_pool;
	fuzz_params(&p);
	e->st = stack_create(&p, true, &err);
	if (!e->st || nbuf_pool_init(&e->peer_pool, &pc))
		fuzz_fail("cannot build the stack", (unsigned)-err, 0);
	stack_dev_env(e->st, &env_stack, NULL);
	if (mem_pair_open(&env_stack, &env_peer, &dev, &e->peer))
		fuzz_fail("cannot open the mem pair", 0, 0);
	e->nif = netif_add(e->st, dev, our_mac, MTU);
	if (!e->nif || netif_add_addr(e->nif, OUR_IP, 24))
		fuzz_fail("cannot add the interface", 0, 0);
	netif_up(e->nif);
	fuzz_drain(e);		/* the gratuitous ARP */
	fuzz_learn_peer(e);
}

/* The configuration bytes, the listener, and the first connection. */
static void fuzz_start(struct fuzz_env *e, struct script *sc)
{
	static const uint32_t isns[3] = {1000000u, 0xffffffffu - 499, 0x7fffff00u};
	uint8_t cfg0 = get8(sc), cfg1 = get8(sc);

	e->isn0 = (cfg0 & 3) == 3 ? get32(sc) : isns[cfg0 & 3];
	e->syn = (struct syn_cfg){.ts = !(cfg0 & 0x08), .sack = !(cfg0 & 0x10),
				  .ws = !(cfg0 & 0x20), .mss = (cfg0 & 0x40) ? 536 : 1460};
	e->peer_win = (cfg0 & 0x80) ? 2048 : 65535;
	if (cfg0 & 0x04) {
		/* RFC 6528: ISN = a 4 us clock + a hash, so the clock sets it */
		uint32_t want = 0xffffffffu - 999;
		uint32_t ticks = want - tcp_isn(e->st, OUR_IP, OUR_PORT, PEER_IP, PEER_PORT);
		clock_set(&e->st->clock, stack_now(e->st) + (uint64_t)ticks * 4000);
		stack_run_timers(e->st);
		fuzz_drain(e);
	}
	fuzz_listen(e, cfg1);
	fuzz_open(e, 0, &e->syn, true);
}

/* Buffers the stack holds by design once no socket is left. */
static unsigned fuzz_held(const struct fuzz_env *e)
{
	return stack_held_buffers(e->st) + mem_rx_queued(e->nif->dev);
}

/* The application lets go of everything; the connections it had let go
 * of before must die of their timers. Then nothing may be left. */
static void fuzz_finish(struct fuzz_env *e)
{
	uint64_t limit = stack_now(e->st) + FLUSH_LIMIT_NS;

	for (unsigned i = 0; i < e->nconns; i++)
		fuzz_app_close(&e->conns[i], true);
	sock_close(e->listener);
	fuzz_drain(e);
	while (e->st->socks.used && stack_now(e->st) < limit)
		fuzz_advance(e, SEC(60));
	if (e->st->socks.used)
		fuzz_fail("connections outlive every timer", e->st->socks.used, 0);
	unsigned used = nbuf_pool_in_use(&e->st->pool), held = fuzz_held(e);
	if (used != held)
		fuzz_fail("stack buffers out of the pool vs held", used, held);
	if (nbuf_pool_in_use(&e->peer_pool))
		fuzz_fail("peer buffers not freed", nbuf_pool_in_use(&e->peer_pool), 0);
}

static void fuzz_destroy(struct fuzz_env *e)
{
	stack_destroy(e->st);	/* also destroys the peer end's partner */
	netdev_destroy(e->peer);
	nbuf_pool_destroy(&e->peer_pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool logging;
	struct fuzz_env e;
	struct script sc = {.d = data, .n = size};

	if (!logging) {
		log_init(1, LOG_LVL_ERR);
		logging = true;
	}
	fuzz_create(&e);
	fuzz_start(&e, &sc);
	while (sc.i < sc.n)
		fuzz_record(&e, &sc);
	fuzz_finish(&e);
	fuzz_destroy(&e);
	return 0;
}
