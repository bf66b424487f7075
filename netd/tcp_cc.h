/*
 * tcp_cc.h: TCP congestion control behind an ops table, as Linux has it:
 * "reno" (NewReno, RFC 5681 and RFC 6582) and "cubic" (RFC 9438, the
 * default). cwnd and ssthresh count segments, like Linux's snd_cwnd, so
 * TCP_INFO reports them unchanged. The TCP core calls the tcp_cc_*
 * functions below at the events of RFC 5681; the ops hold only what
 * differs between algorithms.
 */
#ifndef NETD_TCP_CC_H
#define NETD_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_CC_NAME_MAX 16	/* Linux's TCP_CA_NAME_MAX */
#define TCP_INIT_CWND 10	/* RFC 6928 */
#define TCP_INFINITE_SSTHRESH 0x7fffffff

struct tcp_cc;

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_cc *cc);
	/* Congestion avoidance: cwnd >= ssthresh and acked segments newly
	 * acknowledged at time now (ns); rtt_us is this ACK's RTT sample or
	 * 0 when there is none. */
	void (*cong_avoid)(struct tcp_cc *cc, uint32_t acked, uint64_t now, uint32_t rtt_us);
	/* The slow-start threshold after a congestion event. */
	uint32_t (*ssthresh)(struct tcp_cc *cc);
	/* A congestion event (fast retransmit or RTO) at time now. */
	void (*on_loss)(struct tcp_cc *cc, uint64_t now);
	/* Sending resumes after an idle period (RFC 5681 4.1, RFC 9438 5.8). */
	void (*on_idle_restart)(struct tcp_cc *cc, uint64_t now);
};

struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t cwnd;			/* segments */
	uint32_t ssthresh;		/* segments */
	uint32_t cwnd_cnt;		/* acked segments counted toward the next increase */
	uint32_t max_cwnd;		/* clamp, segments */
	uint64_t priv[16];		/* the algorithm's own state */
};

extern const struct tcp_cc_ops tcp_reno_ops;
extern const struct tcp_cc_ops tcp_cubic_ops;
#define TCP_CC_DEFAULT (&tcp_cubic_ops)

/* The algorithm called name ("reno", "cubic"), or NULL (then TCP_CONGESTION
 * fails with ENOENT, as on Linux). */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/* cwnd = TCP_INIT_CWND, ssthresh infinite, then ops->init. */
void tcp_cc_init(struct tcp_cc *cc, const struct tcp_cc_ops *ops);
/* Switches algorithm on a live connection, keeping cwnd and ssthresh. */
void tcp_cc_set_ops(struct tcp_cc *cc, const struct tcp_cc_ops *ops);
/* An ACK acknowledged `acked` new segments outside loss recovery: slow
 * start below ssthresh (RFC 5681 3.1, with appropriate byte counting of
 * at most 2 segments per ACK per RFC 3465), else ops->cong_avoid. */
void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint64_t now, uint32_t rtt_us);
/* Fast retransmit: ssthresh = ops->ssthresh(); cwnd = ssthresh (the
 * caller adds any recovery inflation). */
void tcp_cc_enter_recovery(struct tcp_cc *cc, uint64_t now);
/* Retransmission timeout: ssthresh = ops->ssthresh(); cwnd = 1 (RFC 5681 3.1). */
void tcp_cc_on_rto(struct tcp_cc *cc, uint64_t now);
/* Full ACK ending recovery: cwnd = ssthresh (RFC 6582 3.2 step 3). */
void tcp_cc_exit_recovery(struct tcp_cc *cc);
/* Idle restart: cwnd = min(cwnd, initial window) (RFC 5681 4.1), then the hook. */
void tcp_cc_idle_restart(struct tcp_cc *cc, uint64_t now);

#endif
