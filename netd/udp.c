/*
 * udp.c: UDP (RFC 768; RFC 1122 4.1). Receive: validate, demultiplex to
 * the most specific socket (a connected 4-tuple, then a bound address,
 * then the wildcard; SO_REUSEPORT groups share by a hash of the sender),
 * broadcasts and multicasts to every matching socket, and an ICMP port
 * unreachable when nobody listens. Send: one datagram per call, DF set
 * when it fits the route's MTU and fragmented when it does not (Linux's
 * IP_PMTUDISC_WANT). ICMP errors reach connected sockets only, as hard
 * errors, as on Linux without IP_RECVERR.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "stack.h"
#include "udp.h"
#include "util.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

/* How well sk matches a datagram; -1 when it does not. */
static int udp_score(const struct sock *sk, uint32_t laddr, uint16_t lport, uint32_t raddr,
		     uint16_t rport)
{
	int score = 0;
	if (sk->lport != lport || sk->closed)
		return -1;
	if (sk->laddr) {
		if (sk->laddr != laddr)
			return -1;
		score += 2;
	}
	if (sk->connected) {
		if (sk->raddr != raddr || sk->rport != rport)
			return -1;
		score += 4;
	}
	return score;
}

/* A SO_REUSEPORT group shares a port: the sender picks the member, the
 * same sender always the same one. */
static uint32_t udp_sender_hash(const struct stack *st, uint32_t raddr, uint16_t rport)
{
	uint64_t x = ((uint64_t)raddr << 16 | rport) ^ st->ip_id_secret;
	x *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(x >> 32);
}

struct sock *udp_lookup(struct stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport)
{
	struct sock *head = sock_ports_of(st, IPPROTO_UDP)->buckets[lport % SOCK_PORT_BUCKETS];
	struct sock *best = NULL, *sk;
	int best_score = -1;
	unsigned group = 0;

	for (sk = head; sk; sk = sk->port_next) {
		int s = udp_score(sk, laddr, lport, raddr, rport);
		if (s > best_score) {
			best = sk;
			best_score = s;
			group = sk->opts.reuseport;
		} else if (s == best_score && s >= 0 && sk->opts.reuseport && best->opts.reuseport) {
			group++;
		}
	}
	if (group < 2)
		return best;
	unsigned pick = udp_sender_hash(st, raddr, rport) % group;
	for (sk = head; sk; sk = sk->port_next)
		if (sk->opts.reuseport && udp_score(sk, laddr, lport, raddr, rport) == best_score &&
		    pick-- == 0)
			return sk;
	return best;
}

static void udp_queue(struct sock *sk, struct nbuf *nb)
{
	struct stack *st = sk->st;
	size_t truesize = (size_t)(nb->end - nb->head);

	if (sk->rx_bytes + truesize > (size_t)sk->opts.rcvbuf) {
		stat_inc(st, STAT_UDP_IN_ERRORS);
		nbuf_drop(st, nb, DROP_UDP_RCVBUF);
		return;
	}
	nbuf_pull(nb, UDP_HLEN);
	nbuf_queue_push(&sk->rxq, nb);
	sk->rx_bytes += truesize;
	stat_inc(st, STAT_UDP_IN_DATAGRAMS);
	sock_wake(sk, EPOLLIN | EPOLLRDNORM);
}

/* A broadcast or multicast datagram goes to every socket that matches. */
static void udp_deliver_all(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h,
			    const struct udp_hdr *uh)
{
	struct sock_ports *p = sock_ports_of(st, IPPROTO_UDP);
	struct sock *last = NULL;

	for (struct sock *sk = p->buckets[uh->dport % SOCK_PORT_BUCKETS]; sk; sk = sk->port_next) {
		if (udp_score(sk, h->dst, uh->dport, h->src, uh->sport) < 0)
			continue;
		if (last) {
			struct nbuf *copy = nbuf_clone(nb);
			if (copy)
				udp_queue(last, copy);
			else
				st->drops[DROP_NOMEM]++;
		}
		last = sk;
	}
	if (last)
		udp_queue(last, nb);
	else
		nbuf_drop(st, nb, DROP_UDP_NO_PORT);
}

static bool udp_dst_is_bcast(const struct stack *st, uint32_t dst)
{
	return ipv4_is_limited_bcast(dst) || ipv4_is_multicast(dst) ||
	       stack_is_subnet_bcast(st, dst);
}

void udp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h)
{
	struct udp_hdr uh;
	int why = udp_parse(nb->data, nbuf_len(nb), h->src, h->dst, &uh);

	if (why == DROP_UDP_CSUM && nb->csum_verified)
		why = 0;
	if (why) {
		stat_inc(st, STAT_UDP_IN_ERRORS);
		nbuf_drop(st, nb, (enum drop_reason)why);
		return;
	}
	nbuf_trim(nb, uh.len);
	if (udp_dst_is_bcast(st, h->dst)) {
		udp_deliver_all(st, nb, h, &uh);
		return;
	}
	struct sock *sk = udp_lookup(st, h->dst, uh.dport, h->src, uh.sport);
	if (!sk) {
		stat_inc(st, STAT_UDP_NO_PORTS);
		icmp_send_error(st, nb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
		nbuf_drop(st, nb, DROP_UDP_NO_PORT);
		return;
	}
	udp_queue(sk, nb);
}

void udp_err(struct stack *st, const uint8_t *quoted, size_t len, int err, bool hard)
{
	size_t hlen = (quoted[0] & 0xf) * 4u;
	if (len < hlen + UDP_HLEN || !err)
		return;
	uint32_t laddr = get_be32(quoted + 12), raddr = get_be32(quoted + 16);
	uint16_t lport = get_be16(quoted + hlen), rport = get_be16(quoted + hlen + 2);
	struct sock *sk = udp_lookup(st, laddr, lport, raddr, rport);
	if (sk && sk->connected && hard)
		sock_report_error(sk, err);
}

static bool udp_is_bcast_dst(const struct stack *st, uint32_t dst)
{
	return ipv4_is_limited_bcast(dst) || stack_is_subnet_bcast(st, dst);
}

/* The socket's own source address, if it has one (Linux's inet_saddr: a
 * bound broadcast or multicast address is no source). */
static uint32_t udp_saddr(const struct sock *sk)
{
	return sk->laddr && stack_is_local(sk->st, sk->laddr) ? sk->laddr : 0;
}

static uint32_t udp_source(const struct sock *sk, const struct route *rt, uint32_t dst)
{
	uint32_t saddr = udp_saddr(sk);
	if (saddr)
		return saddr;
	return rt->src ? rt->src : netif_source_for(rt->nif, dst);
}

/* Linux's __udp_disconnect (connect with AF_UNSPEC): the peer goes, and
 * so does what the stack picked: the address unless the user bound one,
 * the port (unhashed, getsockname says 0) unless the user bound it. */
static int udp_disconnect(struct sock *sk)
{
	sk->connected = false;
	sk->raddr = 0;
	sk->rport = 0;
	if (!(sk->userlocks & SOCK_BINDADDR_LOCK))
		sk->laddr = 0;
	if (!(sk->userlocks & SOCK_BINDPORT_LOCK)) {
		sock_unhash(sk);
		sk->lport = 0;
	}
	return 0;
}

/* ip4_datagram_connect: the route from the socket's source, EACCES for a
 * broadcast without SO_BROADCAST, the route's source address for a
 * socket that has none, and a port. */
int udp_connect(struct sock *sk, const struct sock_addr *a)
{
	struct stack *st = sk->st;
	struct route tmp;
	if (!a)
		return udp_disconnect(sk);
	const struct route *rt = ip_route_output(st, udp_saddr(sk), a->addr, &tmp);
	if (!rt)
		return -ENETUNREACH;
	if (udp_is_bcast_dst(st, a->addr) && !sk->opts.broadcast)
		return -EACCES;
	if (!sk->laddr)
		sk->laddr = udp_source(sk, rt, a->addr);
	int err = sock_autobind(sk);
	if (err)
		return err;
	sk->raddr = a->addr;
	sk->rport = a->port;
	sk->connected = true;
	return 0;
}

/* Where a datagram goes: dst, or the connected peer. */
static int udp_destination(const struct sock *sk, const struct sock_addr *dst,
			   struct sock_addr *to)
{
	if (dst) {
		if (dst->port == 0)
			return -EINVAL;
		*to = *dst;
		return 0;
	}
	if (!sk->connected)
		return -EDESTADDRREQ;
	to->addr = sk->raddr;
	to->port = sk->rport;
	return 0;
}

/* udp_sendmsg's checks after the destination, in Linux's order: the
 * route (ENETUNREACH), a broadcast without SO_BROADCAST (EACCES), then
 * ip_make_skb's: too long (EMSGSIZE), shut for writing (EPIPE,
 * sock_alloc_send_pskb). The pending error is the caller's to report. */
static int udp_may_send(struct sock *sk, size_t len, const struct sock_addr *to,
			const struct route *rt)
{
	if (!rt)
		return -ENETUNREACH;
	if (udp_is_bcast_dst(sk->st, to->addr) && !sk->opts.broadcast)
		return -EACCES;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (sk->shut & SOCK_SHUT_WR)
		return -EPIPE;
	return 0;
}

static ssize_t udp_xmit(struct sock *sk, const void *buf, size_t len,
			const struct sock_addr *to, const struct route *rt)
{
	struct stack *st = sk->st;
	struct nbuf *nb = nbuf_alloc_tx(&st->pool, UDP_HLEN + len);
	if (!nb)
		return -ENOBUFS;
	uint8_t *p = nbuf_put(nb, UDP_HLEN + len);
	memcpy(p + UDP_HLEN, buf, len);
	uint32_t src = udp_source(sk, rt, to->addr);
	struct udp_hdr uh = {.sport = sk->lport, .dport = to->port};
	udp_emit(p, &uh, len, src, to->addr);
	struct ip_out o = {.src = src, .dst = to->addr, .proto = IPPROTO_UDP_,
			   .ttl = sk->opts.ttl, .tos = sk->opts.tos, .df_if_fits = true};
	int err = ip_output(st, nb, &o);
	if (err)
		return err;
	stat_inc(st, STAT_UDP_OUT_DATAGRAMS);
	return (ssize_t)len;
}

/* Linux's udp_sendmsg, in its order. */
ssize_t udp_sendto(struct sock *sk, const void *buf, size_t len, int flags,
		   const struct sock_addr *dst)
{
	struct sock_addr to;
	struct route tmp;
	int err;

	if (len > 0xffff)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if ((err = udp_destination(sk, dst, &to)) || (err = sock_autobind(sk)))
		return err;
	const struct route *rt = ip_route_output(sk->st, udp_saddr(sk), to.addr, &tmp);
	if ((err = udp_may_send(sk, len, &to, rt)))
		return err;
	return udp_xmit(sk, buf, len, &to, rt);
}

ssize_t udp_recvfrom(struct sock *sk, void *buf, size_t len, int flags, struct sock_addr *src)
{
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (sk->err) {
		int err = sk->err;
		sk->err = 0;
		return -err;
	}
	return udp_recv_datagram(sk, buf, len, flags, src);
}

ssize_t udp_recv_datagram(struct sock *sk, void *buf, size_t len, int flags,
			  struct sock_addr *src)
{
	struct nbuf *nb = sk->rxq.first;
	if (!nb)	/* also after SHUT_RD: only a blocking recv returns 0 there */
		return -EAGAIN;
	size_t dlen = nbuf_len(nb), n = MIN(len, dlen);
	memcpy(buf, nb->data, n);
	if (src) {
		src->addr = get_be32(nbuf_l3(nb) + 12);
		src->port = get_be16(nbuf_l4(nb));
	}
	if (!(flags & MSG_PEEK)) {
		nbuf_queue_pop(&sk->rxq);
		sk->rx_bytes -= (size_t)(nb->end - nb->head);
		nbuf_free(nb);
	}
	return (ssize_t)((flags & MSG_TRUNC) ? dlen : n);
}

int udp_next_len(const struct sock *sk)
{
	return sk->rxq.first ? (int)nbuf_len(sk->rxq.first) : 0;
}
