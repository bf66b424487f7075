/*
 * tcp_opt.c: the IPPROTO_TCP socket options, with Linux's ranges and
 * errors: TCP_NODELAY, TCP_CORK (clearing it pushes what waits),
 * TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_MAXSEG, TCP_USER_TIMEOUT,
 * TCP_CONGESTION and, read-only, TCP_INFO in Linux's struct layout.
 */
#include "config.h"

#include <errno.h>
#include <linux/tcp.h>
#include <string.h>

#include "stack.h"
#include "tcp.h"
#include "util.h"

static int tcp_set_congestion(struct tcp_sock *tp, const void *val, socklen_t len)
{
	char name[TCP_CC_NAME_MAX];
	size_t n = MIN((size_t)len, sizeof(name) - 1);
	memcpy(name, val, n);
	name[n] = '\0';
	const struct tcp_cc_ops *ops = tcp_cc_find(name);
	if (!ops)
		return -ENOENT;
	tcp_cc_set_ops(&tp->cc, ops);
	return 0;
}

static int in_range(int v, int lo, int hi)
{
	return v >= lo && v <= hi ? 0 : -EINVAL;
}

static int tcp_set_int(struct tcp_sock *tp, int name, int v)
{
	int err = 0;
	switch (name) {
	case TCP_NODELAY:
		tp->nodelay = v != 0;
		break;
	case TCP_CORK:
		tp->cork = v != 0;
		break;
	case TCP_KEEPIDLE:
		if (!(err = in_range(v, 1, 32767)))
			tp->keepidle_s = (uint32_t)v;
		break;
	case TCP_KEEPINTVL:
		if (!(err = in_range(v, 1, 32767)))
			tp->keepintvl_s = (uint32_t)v;
		break;
	case TCP_KEEPCNT:
		if (!(err = in_range(v, 1, 127)))
			tp->keepcnt = (uint32_t)v;
		break;
	case TCP_MAXSEG:
		/* Linux: 0 clears; otherwise TCP_MIN_USER_MSS to MAX_TCP_WINDOW */
		if (v == 0 || (err = in_range(v, TCP_MIN_USER_MSS, TCP_MAX_USER_MSS)) == 0)
			tp->user_mss = (uint16_t)v;
		break;
	case TCP_USER_TIMEOUT:
		if (!(err = in_range(v, 0, 0x7fffffff)))
			tp->user_timeout_ms = (uint32_t)v;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return err;
}

int tcp_setsockopt(struct sock *sk, int name, const void *val, socklen_t len)
{
	struct tcp_sock *tp = sk->tcp;
	int v;
	if (name == TCP_CONGESTION)
		return tcp_set_congestion(tp, val, len);
	if (name == TCP_INFO)
		return -ENOPROTOOPT;
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	int err = tcp_set_int(tp, name, v);
	/* Clearing TCP_CORK, or setting TCP_NODELAY, sends what waited. */
	if (!err && ((name == TCP_CORK && !v) || (name == TCP_NODELAY && v)) &&
	    tp->state == TCP_ESTABLISHED)
		tcp_output(tp);
	return err;
}

static uint8_t tcp_info_options(const struct tcp_sock *tp)
{
	return (uint8_t)((tp->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (tp->sack_ok ? TCPI_OPT_SACK : 0) |
			 (tp->ws_ok ? TCPI_OPT_WSCALE : 0));
}

static uint32_t ms_since(const struct tcp_sock *tp, uint64_t then)
{
	uint64_t now = stack_now(tp->st);
	return then && now > then ? (uint32_t)((now - then) / NSEC_PER_MSEC) : 0;
}

static void tcp_fill_info(const struct tcp_sock *tp, struct tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tp->state;
	ti->tcpi_ca_state = tp->in_recovery ? 3 /* TCP_CA_Recovery */ :
			    tp->retransmits ? 4 /* TCP_CA_Loss */ : 0;
	ti->tcpi_retransmits = (uint8_t)tp->retransmits;
	ti->tcpi_backoff = tp->backoff;
	ti->tcpi_options = tcp_info_options(tp);
	ti->tcpi_snd_wscale = tp->snd_wscale & 0xf;
	ti->tcpi_rcv_wscale = tp->rcv_wscale & 0xf;
	ti->tcpi_rto = tp->rto_us << tp->backoff;
	ti->tcpi_ato = TCP_DELACK_MIN_US;
	ti->tcpi_snd_mss = tp->mss;
	ti->tcpi_rcv_mss = tp->advmss;
	ti->tcpi_unacked = tp->mss ? (tp->snd_max - tp->snd_una + tp->mss - 1) / tp->mss : 0;
	ti->tcpi_last_data_sent = ms_since(tp, tp->last_send);
	ti->tcpi_last_data_recv = ms_since(tp, tp->last_recv);
	ti->tcpi_pmtu = tp->mss + 40u;
	ti->tcpi_rtt = tp->srtt_us;
	ti->tcpi_rttvar = tp->rttvar_us;
	ti->tcpi_snd_ssthresh = tp->cc.ssthresh;
	ti->tcpi_snd_cwnd = tp->cc.cwnd;
	ti->tcpi_advmss = tp->advmss;
	ti->tcpi_reordering = 3;
	ti->tcpi_rcv_space = (uint32_t)tp->rcv.cap;
	ti->tcpi_total_retrans = tp->total_retrans;
	ti->tcpi_min_rtt = tp->min_rtt_us;
	ti->tcpi_snd_wnd = tp->snd_wnd;
}

int tcp_getsockopt(struct sock *sk, int name, void *val, socklen_t *len)
{
	const struct tcp_sock *tp = sk->tcp;
	int v;
	switch (name) {
	case TCP_INFO: {
		struct tcp_info ti;
		tcp_fill_info(tp, &ti);
		*len = MIN(*len, (socklen_t)sizeof(ti));
		memcpy(val, &ti, *len);
		return 0;
	}
	case TCP_CONGESTION:
		*len = MIN(*len, (socklen_t)TCP_CC_NAME_MAX);
		strncpy(val, tp->cc.ops->name, *len);
		return 0;
	case TCP_NODELAY: v = tp->nodelay; break;
	case TCP_CORK: v = tp->cork; break;
	case TCP_KEEPIDLE: v = (int)tp->keepidle_s; break;
	case TCP_KEEPINTVL: v = (int)tp->keepintvl_s; break;
	case TCP_KEEPCNT: v = (int)tp->keepcnt; break;
	case TCP_MAXSEG: v = tp->state == TCP_ESTABLISHED ? tp->mss : tp->user_mss ? tp->user_mss : TCP_DEFAULT_MSS; break;
	case TCP_USER_TIMEOUT: v = (int)tp->user_timeout_ms; break;
	default: return -ENOPROTOOPT;
	}
	*len = MIN(*len, (socklen_t)sizeof(int));
	memcpy(val, &v, *len);
	return 0;
}
