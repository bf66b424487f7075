/*
 * tcp_reno.c: NewReno's ops ("reno"). Congestion avoidance adds one
 * segment per window of acknowledged segments (RFC 5681 3.1, eq. 3, counted
 * in segments as RFC 3465 2.1 suggests); after a congestion event ssthresh
 * is half the window. Loss recovery itself (RFC 6582) is the TCP core's.
 * Reno keeps no state of its own.
 */
#include "config.h"

#include "tcp_cc.h"
#include "util.h"

/* Additive increase: cwnd_cnt counts acked segments; each cwnd of them
 * adds one segment. */
static void reno_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint64_t now, uint32_t rtt_us)
{
	uint32_t w = cc->cwnd;
	uint64_t cnt;

	cnt = (uint64_t)cc->cwnd_cnt + acked;
	if (cnt >= w) {
		cc->cwnd = (uint32_t)MIN(w + cnt / w, UINT32_MAX);
		cnt %= w;
	}
	cc->cwnd_cnt = (uint32_t)cnt;
}

/* RFC 5681 eq. 4 halves FlightSize; like Linux, halve cwnd, never below
 * two segments. */
static uint32_t reno_ssthresh(struct tcp_cc *cc)
{
	return MAX(cc->cwnd / 2, 2);
}

const struct tcp_cc_ops tcp_reno_ops = {
	.name = "reno",
	.cong_avoid = reno_cong_avoid,
	.ssthresh = reno_ssthresh,
};
