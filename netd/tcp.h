/*
 * tcp.h: TCP (RFC 9293) inside netd, with Linux as the reference where the
 * RFCs leave room. One struct tcp_sock per connection or listener, hung
 * off its struct sock. The work is split three ways:
 *
 *   tcp.c        the socket side: create, bind (Linux's TCP bind rules),
 *                listen, accept, connect, send and receive on the byte
 *                rings, shutdown, close and linger, options and TCP_INFO,
 *                the connection and listener tables, ISNs (RFC 6528).
 *   tcp_input.c  SEGMENT ARRIVES (RFC 9293 3.10.7): demultiplexing through
 *                the tables of tcp.c, the state machine, RFC 5961 checks,
 *                PAWS (RFC 7323), ACK processing, RTT, SACK scoreboard,
 *                fast retransmit and recovery (RFC 6582, RFC 6675), the
 *                out-of-order queue, FIN handling, SYN cookies.
 *   tcp_output.c what to send and when: new data within min(cwnd, rwnd),
 *                Nagle and cork, retransmissions, SYN and FIN, ACKs
 *                (delayed or immediate), window updates with silly window
 *                avoidance, RST, the options of each segment.
 *   tcp_timer.c  retransmission (RFC 6298, Karn, backoff), delayed ACK,
 *                persist (zero-window probes), keepalive, TIME_WAIT,
 *                user timeout.
 *
 * The state names are Linux's and glibc's: files that include this header
 * take TCP option names and struct tcp_info from <linux/tcp.h>, never
 * <netinet/tcp.h>.
 *
 * Sequence numbers are compared only through SEQ_LT/LEQ/GT/GEQ. State
 * changes only through tcp_set_state(). Input handlers set flags; one
 * tcp_output() at the end transmits.
 */
#ifndef NETD_TCP_H
#define NETD_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nbuf.h"
#include "sock.h"
#include "tcp_cc.h"
#include "timer.h"
#include "wire/tcp.h"

struct stack;
struct ipv4_hdr;

/* Linux's state numbers, so TCP_INFO's tcpi_state means the same. */
enum tcp_state {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
};

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

/* Linux's constants. */
#define TCP_RTO_MIN_US 200000u
#define TCP_RTO_MAX_US 120000000u
#define TCP_TIMEOUT_INIT_US 1000000u	/* RFC 6298 2.1 */
#define TCP_DELACK_MIN_US 40000u
#define TCP_DELACK_MAX_US 200000u
#define TCP_TIMEWAIT_NS (60ULL * 1000000000ULL)
#define TCP_SYN_RETRIES 6
#define TCP_SYNACK_RETRIES 5
#define TCP_RETRIES2 15
#define TCP_DEFAULT_KEEPIDLE_S 7200
#define TCP_DEFAULT_KEEPINTVL_S 75
#define TCP_DEFAULT_KEEPCNT 9
#define TCP_DEFAULT_MSS 536		/* RFC 9293 3.7.1, when the peer gives none */
#define TCP_MIN_MSS 88			/* Linux's floor for TCP_MAXSEG and PMTU */
#define TCP_MIN_USER_MSS TCP_MIN_MSS	/* TCP_MAXSEG's range, as Linux */
#define TCP_MAX_USER_MSS 32767
#define TCP_WMEM_DEFAULT 16384		/* tcp_wmem[1] */
#define TCP_RMEM_DEFAULT 131072		/* tcp_rmem[1] */
#define TCP_OOO_MAX_BYTES (1u << 20)	/* out-of-order queue bound per connection */
#define TCP_SCOREBOARD 16		/* SACKed ranges remembered */
/* The engine's (tcp_input.c, tcp_output.c, tcp_timer.c), Linux's values. */
#define TCP_TIMEOUT_FALLBACK_US 3000000u	/* RFC 6298 5.7: no RTT sample from the handshake */
#define TCP_TIMEOUT_MIN_US 2000u	/* added to a loss probe's 2 * SRTT (RFC 8985 7.2) */
#define TCP_DUPTHRESH 3			/* RFC 5681 3.2, RFC 6675 DupThresh */
#define TCP_MAX_QUICKACKS 16		/* ACKs sent at once when data starts */
#define TCP_FIN_TIMEOUT_NS (60ULL * 1000000000ULL)	/* orphan in FIN_WAIT2 */
#define TCP_PAWS_WINDOW 1		/* TS.Recent - SEG.TSval tolerated */
#define TCP_PAWS_IDLE_NS (24ULL * 24 * 3600 * 1000000000ULL)	/* RFC 7323 5.5 */
#define TCP_INVALID_RATELIMIT_NS 500000000ULL	/* challenge and out-of-window ACKs */
#define TCP_MIN_SND_MSS 48		/* tcp_min_snd_mss: floor for the peer's MSS */
#define TCP_RMEM_MAX 6291456		/* tcp_rmem[2]: sizes our window scale */

/* A ring of bytes: the send buffer from snd_una on, or the receive buffer
 * of in-order bytes the application has not read. */
struct tcp_ring {
	uint8_t *mem;
	size_t cap;
	size_t head;			/* index of the first byte */
	size_t len;
};

int tcp_ring_init(struct tcp_ring *r, size_t cap);
void tcp_ring_free(struct tcp_ring *r);
size_t tcp_ring_space(const struct tcp_ring *r);
/* Appends up to len bytes; returns how many fit. */
size_t tcp_ring_write(struct tcp_ring *r, const void *buf, size_t len);
/* Copies len bytes starting off bytes after the head into buf. */
void tcp_ring_peek(const struct tcp_ring *r, size_t off, void *buf, size_t len);
/* Drops len bytes from the head. */
void tcp_ring_consume(struct tcp_ring *r, size_t len);
/* Changes the capacity, keeping the bytes; -EINVAL below the length. */
int tcp_ring_resize(struct tcp_ring *r, size_t cap);

/* Pending work, set by handlers and done by tcp_output(). */
enum {
	TCP_F_ACK_NOW = 1 << 0,		/* send an ACK in this turn */
	TCP_F_ACK_DELAYED = 1 << 1,	/* an ACK is owed; the delayed-ACK timer runs */
	TCP_F_FIN_QUEUED = 1 << 2,	/* send FIN after the queued data */
	TCP_F_RETRANSMIT = 1 << 3,	/* retransmit from snd_una now */
	TCP_F_WINDOW_UPDATE = 1 << 4,	/* the receive window opened noticeably */
};

struct tcp_sock {
	struct sock *sk;		/* the socket: addresses, options, owner */
	struct stack *st;
	uint8_t state;			/* enum tcp_state */
	unsigned flags;			/* TCP_F_* */

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max;	/* snd_max: highest sent + 1 */
	uint32_t snd_wnd;		/* peer's window, scaled, bytes */
	uint32_t snd_wl1, snd_wl2;
	uint32_t max_window;		/* largest window the peer offered */
	/* Receive sequence space. */
	uint32_t irs, rcv_nxt;
	uint32_t rcv_wnd;		/* window we advertise, bytes */
	uint32_t rcv_adv;		/* right edge we advertised: never shrinks (RFC 9293 3.8.6) */

	/* Negotiated options. */
	bool ws_ok, ts_ok, sack_ok;
	uint8_t snd_wscale, rcv_wscale;	/* shift for the peer's window, for ours */
	uint16_t mss;			/* what we send per segment (data bytes) */
	uint16_t advmss;		/* what we advertised */
	uint16_t user_mss;		/* TCP_MAXSEG, 0 if unset */
	uint32_t ts_recent;		/* RFC 7323 TS.Recent */
	uint64_t ts_recent_stamp;	/* when it was set, for PAWS aging */
	uint32_t ts_offset;		/* random per connection (RFC 7323 5.4) */

	/* Buffers. snd holds [snd_una, snd_una + snd.len); FIN is not in it. */
	struct tcp_ring snd, rcv;
	struct nbuf_queue ooo;		/* out-of-order segments, data at payload, sorted */
	size_t ooo_bytes;
	/* SACK: ranges the peer reported (scoreboard), ranges we report. */
	struct tcp_sack_block sacked[TCP_SCOREBOARD];
	unsigned nsacked;
	struct tcp_sack_block rcv_sacks[TCP_MAX_SACK];	/* most recent first */
	unsigned nrcv_sacks;

	/* RTT and RTO (RFC 6298), microseconds. */
	uint32_t srtt_us, rttvar_us, rto_us, min_rtt_us;
	uint32_t rtt_seq;		/* timing this sequence (no timestamps) */
	uint64_t rtt_time;		/* when it was sent, + 1; 0: not timing */
	uint8_t backoff;		/* RTO doublings in a row */
	unsigned retransmits;		/* unrecovered RTOs (tcpi_retransmits) */
	unsigned total_retrans;
	uint64_t retrans_stamp;		/* first retransmission of the current loss, for timeouts */

	/* Congestion control and loss recovery. */
	struct tcp_cc cc;
	bool in_recovery;		/* fast recovery (RFC 6582 / RFC 6675) */
	uint32_t recover;		/* snd_max when recovery began */
	uint32_t dupacks;
	uint32_t high_rxt;		/* RFC 6675 HighRxt */

	/* Application-set behaviour. */
	bool nodelay, cork;
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	unsigned keep_probes;
	uint32_t user_timeout_ms;
	uint64_t last_recv, last_send;	/* for keepalive and idle restart */
	unsigned zero_window_probes;

	/* Timers. */
	struct timer rto_timer;		/* retransmission, SYN(-ACK) resend, persist */
	struct timer delack_timer;
	struct timer keepalive_timer;	/* also TIME_WAIT and FIN_WAIT2 timeouts */

	/* Listeners and their children. */
	struct tcp_sock *listener;	/* the listener a child came from */
	struct tcp_sock *accept_next;	/* link in the listener's queues */
	struct tcp_sock *syn_queue;	/* listener: children in SYN_RECV */
	struct tcp_sock *accept_queue, *accept_tail;	/* listener: established, not accepted */
	unsigned syn_qlen, accept_qlen, backlog;
	unsigned synack_retries;

	/* Demultiplexing: the 4-tuple table chain. */
	struct tcp_sock *hash_next;
	bool hashed;

	/* The engine's own state (tcp_input.c, tcp_output.c, tcp_timer.c). */
	bool syn_acked;			/* our SYN is acknowledged */
	bool got_data;			/* data arrived: the delayed-ACK engine runs */
	bool pingpong;			/* interactive: ACKs wait to ride on replies */
	bool probe_timer;		/* rto_timer runs as the persist timer */
	bool tlp_timer;			/* rto_timer runs as the loss probe timer (RFC 8985) */
	bool tlp_retrans;		/* the loss probe sent was a retransmission */
	uint32_t tlp_high_seq;		/* SND.MAX when the loss probe went; 0: none out */
	bool cwnd_limited;		/* the last send stopped at the congestion window */
	bool cookies_sent;		/* listener: SYN cookies went out (at synq_overflow) */
	uint8_t quickacks;		/* ACKs still sent at once (Linux's quickack) */
	uint16_t rcv_mss;		/* the peer's segment size as seen, for ACKs */
	uint32_t rcv_wup;		/* RCV.NXT in our last ACK (RFC 7323 Last.ACK.sent) */
	uint32_t snd_sml;		/* end of the last small segment sent (Minshall) */
	int soft_err;			/* ICMP error while connected, reported on timeout */
	uint64_t last_ack_recv;		/* last acceptable ACK, for keepalive */
	uint64_t rto_stamp;		/* about when the oldest unacknowledged data went out */
	uint64_t oow_ack_time;		/* last challenge or out-of-window ACK, + 1 */
	uint64_t synq_overflow;		/* listener: when its SYN queue last overflowed */
	uint64_t bytes_acked;		/* SND.UNA's progress, for RFC 5961 5.2 (Linux's) */
	uint32_t rexmit_mark;		/* SND.MAX when SND.UNA's segment was last resent */
	bool rexmit_marked;		/* ... in this recovery, and SND.UNA still there */
	bool dsack_pending;		/* our next ACK reports dsack first (RFC 2883) */
	struct tcp_sack_block dsack;	/* the duplicate data we just received */
};

/* Sequence number of the first byte in the send ring (after our SYN). */
static inline uint32_t tcp_snd_data_seq(const struct tcp_sock *tp)
{
	return tp->snd_una + !tp->syn_acked;
}

/* Sequence number after the last queued byte: where our FIN goes. */
static inline uint32_t tcp_snd_data_end(const struct tcp_sock *tp)
{
	return tcp_snd_data_seq(tp) + (uint32_t)tp->snd.len;
}

/* Our FIN is queued and not yet acknowledged. */
static inline bool tcp_fin_pending(const struct tcp_sock *tp)
{
	return (tp->flags & TCP_F_FIN_QUEUED) &&
	       (tp->state == TCP_FIN_WAIT1 || tp->state == TCP_CLOSING || tp->state == TCP_LAST_ACK);
}

/* Data or our FIN waits to be sent for the first time. */
static inline bool tcp_has_unsent(const struct tcp_sock *tp)
{
	uint32_t end = tcp_snd_data_end(tp);
	return SEQ_LT(tp->snd_max, end) || (tcp_fin_pending(tp) && tp->snd_max == end);
}

/* ---- tcp.c: the socket side and the tables ---- */

/* The calls of sock.h for SOCK_STREAM sockets; each fails as Linux would. */
int tcp_create(struct sock *sk);
int tcp_bind(struct sock *sk, const struct sock_addr *a);
int tcp_listen(struct sock *sk, int backlog);
/* A connection from the accept queue, as a new socket; -EAGAIN if none. */
int tcp_accept(struct sock *sk, struct sock **child);
/* connect() as Linux's __inet_stream_connect for a caller that does not
 * wait, by the socket's own state (sk->ss): the first call starts the
 * handshake (-EINPROGRESS); while it runs, -EALREADY; the first call
 * after it is over gives its outcome (0, or the error, or ECONNABORTED
 * when SO_ERROR took it) and the next ones -EISCONN after a success, a
 * new attempt after a failure. An unconnected socket not in CLOSE (a
 * listener) is -EISCONN. A NULL a (AF_UNSPEC) is tcp_disconnect: RFC
 * 9293's ABORT. */
int tcp_connect(struct sock *sk, const struct sock_addr *a);
/* Queues up to len bytes (fewer when the send buffer fills; -EAGAIN when
 * it is full); -EPIPE after shutdown or reset. */
ssize_t tcp_sendmsg(struct sock *sk, const void *buf, size_t len, int flags);
/* Queues all len bytes, growing the send buffer past its limit if need be:
 * for bytes a client already handed over (they sat in its shared ring)
 * that a close must not lose. len or -errno. */
ssize_t tcp_send_all(struct sock *sk, const void *buf, size_t len);
/* Reads in-order bytes (MSG_PEEK, MSG_WAITALL is the caller's loop);
 * 0 at end of stream; -EAGAIN when nothing is there yet. */
ssize_t tcp_recvmsg(struct sock *sk, void *buf, size_t len, int flags);
int tcp_shutdown(struct sock *sk, int how);
/* close(): FIN after the queued data, RST if unread data remains or
 * SO_LINGER is on with 0 seconds (RFC 9293 3.10.4, Linux). */
void tcp_close(struct sock *sk);
unsigned tcp_poll(const struct sock *sk);
int tcp_setsockopt(struct sock *sk, int name, const void *val, socklen_t len);
int tcp_getsockopt(struct sock *sk, int name, void *val, socklen_t *len);

void tcp_destroy(struct tcp_sock *tp);
/* The connection for a 4-tuple (any state but LISTEN), or NULL. */
struct tcp_sock *tcp_lookup_established(struct stack *st, uint32_t laddr, uint16_t lport,
					uint32_t raddr, uint16_t rport);
/* The listener for (laddr, lport): a specific address before the wildcard. */
struct tcp_sock *tcp_lookup_listener(struct stack *st, uint32_t laddr, uint16_t lport);
/* A child of a listener for a SYN from (raddr, rport) to (laddr, lport),
 * in SYN_RECV, hashed and on the listener's SYN queue; NULL when the queue
 * is full or no socket is free. */
struct tcp_sock *tcp_child_create(struct tcp_sock *listener, uint32_t laddr, uint16_t lport,
				  uint32_t raddr, uint16_t rport);
/* A child finished its handshake: from the SYN queue to the accept queue. */
void tcp_child_established(struct tcp_sock *child);
/* The only place state changes; also keeps the tables and wakes the owner. */
void tcp_set_state(struct tcp_sock *tp, enum tcp_state state);
/* Initial sequence number for a 4-tuple (RFC 6528: clock + keyed hash). */
uint32_t tcp_isn(struct stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport);
/* The MSS to advertise on the route to raddr: MTU - 40, or TCP_MAXSEG. */
uint16_t tcp_advmss(struct tcp_sock *tp, uint32_t raddr);
/* The connection is over and the application let go: free it. */
void tcp_done(struct tcp_sock *tp);
/* An error ends the connection: report err to the owner, then CLOSE. */
void tcp_reset_connection(struct tcp_sock *tp, int err);
/* The receive window to advertise now, bytes (before scaling). */
uint32_t tcp_receive_window(const struct tcp_sock *tp);

/* ---- tcp_input.c ---- */

/* Consumes nb; data at the TCP header, l3 marked at the IP header h. */
void tcp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h);
/* An ICMP error quoting one of our segments (see ip_icmp_error_deliver);
 * type/code raw for PMTU (frag-needed carries the MTU in info). */
void tcp_err(struct stack *st, const uint8_t *quoted, size_t len, uint8_t type, uint8_t code,
	     uint32_t info);

/* ---- tcp_output.c ---- */

/* Sends what the state, windows and flags allow. */
void tcp_output(struct tcp_sock *tp);
/* Sends a RST for a segment that has no connection (RFC 9293 3.10.7.1),
 * from its addresses; seg is the TCP header at data of nb, h its IP header. */
void tcp_send_reset_for(struct stack *st, const struct tcp_hdr *th, uint32_t seg_len,
			const struct ipv4_hdr *h);
/* Sends a RST on a connection (abort, linger 0, unread data at close). */
void tcp_send_active_reset(struct tcp_sock *tp);
/* Sends one bare ACK now (also challenge ACKs, RFC 5961). */
void tcp_send_ack(struct tcp_sock *tp);
/* Sends the SYN-ACK of a child (also on retransmission). */
void tcp_send_synack(struct tcp_sock *tp);
/* The current timestamp value for tp (ms clock + ts_offset). */
uint32_t tcp_ts_now(const struct tcp_sock *tp);
/* Linux's tcp_write_wakeup: a segment of new data when the peer's window
 * has room, else a bare ACK at SND.UNA - 1 that draws the peer's ACK
 * (zero-window and keepalive probes). */
void tcp_send_probe(struct tcp_sock *tp);
/* Sends a segment that no connection stands behind (RSTs, SYN-ACKs
 * carrying a SYN cookie), with DF set. */
void tcp_xmit_raw(struct stack *st, struct tcp_hdr *th, uint32_t src, uint32_t dst, uint8_t tos);
/* Clears the engine's state of a connection before its handshake (a new
 * connect() after a failed one keeps the socket). */
void tcp_engine_reset(struct tcp_sock *tp);
/* The loss probe of RFC 8985 7.3: a new segment if the window has room,
 * else the last segment sent, once more. False when nothing went. */
bool tcp_send_loss_probe(struct tcp_sock *tp);
/* RFC 6675 IsLost(seq): enough SACKed data above seq to call it lost. */
bool tcp_sack_is_lost(const struct tcp_sock *tp, uint32_t seq);

/* ---- tcp_timer.c ---- */

void tcp_timers_init(struct tcp_sock *tp);
void tcp_timers_cancel(struct tcp_sock *tp);
/* (Re)starts the retransmission timer at rto << backoff (or the loss
 * probe timer before it, RFC 8985), or the persist timer when the peer's
 * window is zero and data waits. */
void tcp_rearm_rto(struct tcp_sock *tp);
/* New data went out: a loss probe, if one may run, no later than the RTO. */
void tcp_schedule_loss_probe(struct tcp_sock *tp);
void tcp_schedule_delack(struct tcp_sock *tp);
void tcp_reset_keepalive(struct tcp_sock *tp);
/* Enters TIME_WAIT for 60 s (the connection is freed at the end). */
void tcp_time_wait(struct tcp_sock *tp);
/* Feeds one RTT sample (RFC 6298 2.2-2.3), microseconds. */
void tcp_rtt_sample(struct tcp_sock *tp, uint32_t rtt_us);

#endif
