/*
 * tcp_cc.c: the algorithm-independent half of congestion control (see
 * tcp_cc.h): slow start with appropriate byte counting (RFC 5681 3.1,
 * RFC 3465), the window changes at fast retransmit, full ACK, timeout and
 * idle restart, and the lookup of an algorithm by name. What differs
 * between algorithms (the increase in congestion avoidance, the new
 * ssthresh, their own state in cc->priv) is behind cc->ops.
 */
#include "config.h"

#include <string.h>

#include "tcp_cc.h"
#include "util.h"

#define TCP_ABC_L 2			/* RFC 3465 2.2: at most L segments per ACK */
#define TCP_CC_MAX_CWND_DEFAULT 65535	/* segments; the caller may lower it after init */

static const struct tcp_cc_ops *const tcp_cc_all[] = {
	&tcp_cubic_ops,
	&tcp_reno_ops,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(tcp_cc_all); i++)
		if (strcmp(tcp_cc_all[i]->name, name) == 0)
			return tcp_cc_all[i];
	return NULL;
}

static void tcp_cc_clamp(struct tcp_cc *cc)
{
	if (cc->cwnd > cc->max_cwnd)
		cc->cwnd = MAX(cc->max_cwnd, 1);
}

void tcp_cc_init(struct tcp_cc *cc, const struct tcp_cc_ops *ops)
{
	memset(cc, 0, sizeof(*cc));
	cc->ops = ops;
	cc->cwnd = TCP_INIT_CWND;
	cc->ssthresh = TCP_INFINITE_SSTHRESH;
	cc->max_cwnd = TCP_CC_MAX_CWND_DEFAULT;
	if (ops->init)
		ops->init(cc);
}

void tcp_cc_set_ops(struct tcp_cc *cc, const struct tcp_cc_ops *ops)
{
	cc->ops = ops;
	cc->cwnd_cnt = 0;
	memset(cc->priv, 0, sizeof(cc->priv));
	if (ops->init)
		ops->init(cc);
}

/*
 * Slow start (RFC 5681 3.1): cwnd grows by the segments acked, at most
 * TCP_ABC_L per ACK (RFC 3465) and never past ssthresh. Returns the acked
 * segments left for congestion avoidance: those beyond ssthresh when this
 * ACK crossed it, else none (the excess over L is not counted).
 */
static uint32_t tcp_slow_start(struct tcp_cc *cc, uint32_t acked)
{
	uint32_t inc = MIN(acked, TCP_ABC_L);

	inc = MIN(inc, cc->ssthresh - cc->cwnd);
	cc->cwnd += inc;
	if (cc->cwnd < cc->ssthresh)
		return 0;
	return acked - inc;
}

void tcp_cc_on_ack(struct tcp_cc *cc, uint32_t acked, uint64_t now, uint32_t rtt_us)
{
	if (cc->cwnd < cc->ssthresh)
		acked = tcp_slow_start(cc, acked);
	if (acked > 0)
		cc->ops->cong_avoid(cc, acked, now, rtt_us);
	tcp_cc_clamp(cc);
}

/* A congestion event: the hook and ssthresh() both see cwnd as it was at
 * the loss, before the caller's reduction. */
static void tcp_cc_congestion(struct tcp_cc *cc, uint64_t now)
{
	if (cc->ops->on_loss)
		cc->ops->on_loss(cc, now);
	cc->ssthresh = cc->ops->ssthresh(cc);
	cc->cwnd_cnt = 0;
}

void tcp_cc_enter_recovery(struct tcp_cc *cc, uint64_t now)
{
	tcp_cc_congestion(cc, now);
	cc->cwnd = cc->ssthresh;
	tcp_cc_clamp(cc);
}

void tcp_cc_on_rto(struct tcp_cc *cc, uint64_t now)
{
	tcp_cc_congestion(cc, now);
	cc->cwnd = 1;
}

void tcp_cc_exit_recovery(struct tcp_cc *cc)
{
	cc->cwnd = cc->ssthresh;
	cc->cwnd_cnt = 0;
	tcp_cc_clamp(cc);
}

void tcp_cc_idle_restart(struct tcp_cc *cc, uint64_t now)
{
	if (cc->cwnd > TCP_INIT_CWND) {
		cc->cwnd = TCP_INIT_CWND;
		cc->cwnd_cnt = 0;
	}
	if (cc->ops->on_idle_restart)
		cc->ops->on_idle_restart(cc, now);
}
