/*
 * admin.c: the administrative requests of admin.h. Each answer is built
 * from the stack's state at this moment: the repeated fields point into
 * rows allocated for the answer (one allocation per list, freed once the
 * Response is packed), the strings are formatted into those rows. Errors
 * that deserve more than strerror's text (a bad route) are packed here as
 * an Error with their reason; the rest go back to ctl.c as -errno. Live
 * capture is capture.c's; this file checks who asks and starts it.
 */
#include "config.h"

#include <errno.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "capture.h"
#include "ctl.h"
#include "log.h"
#include "session.h"
#include "stack.h"
#include "tcp.h"
#include "util.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

#define PREFIX_STRLEN (IPV4_ADDR_STRLEN + 3)	/* "a.b.c.d/len" */
#define ENDPOINT_STRLEN (IPV4_ADDR_STRLEN + 6)	/* "a.b.c.d:port" */

/* ---- packing ---- */

static int pack_response(const Netd__Response *r, uint8_t **out, size_t *outlen)
{
	*outlen = netd__response__get_packed_size(r);
	*out = malloc(*outlen ? *outlen : 1);
	if (!*out)
		return -ENOMEM;
	netd__response__pack(r, *out);
	return 0;
}

/* An Error with a reason of our own: "<what>: <strerror>". */
static int pack_error(int err, const char *what, uint8_t **out, size_t *outlen)
{
	char reason[256];
	Netd__Error e = NETD__ERROR__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(err));
	e.errno_value = err;
	e.reason = reason;
	r.body_case = NETD__RESPONSE__BODY_ERROR;
	r.error = &e;
	return pack_response(&r, out, outlen);
}

static int pack_ok(uint8_t **out, size_t *outlen)
{
	Netd__Ok ok = NETD__OK__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	r.body_case = NETD__RESPONSE__BODY_OK;
	r.ok = &ok;
	return pack_response(&r, out, outlen);
}

/* n rows of size bytes each, zeroed, behind the array of n pointers to them
 * that a repeated field takes; one free() releases both. */
static void **rows_alloc(size_t n, size_t size)
{
	void **ptrs = calloc(1, n * (sizeof(void *) + size) + 1);
	if (ptrs)
		for (size_t i = 0; i < n; i++)
			ptrs[i] = (char *)(ptrs + n) + i * size;
	return ptrs;
}

static void format_prefix(char *buf, uint32_t addr, unsigned plen)
{
	char a[IPV4_ADDR_STRLEN];
	snprintf(buf, PREFIX_STRLEN, "%s/%u", ipv4_ntoa(addr, a), plen);
}

/* "a.b.c.d:port", with ss's "*" for no port. */
static void format_endpoint(char *buf, uint32_t addr, uint16_t port)
{
	char a[IPV4_ADDR_STRLEN];
	if (port)
		snprintf(buf, ENDPOINT_STRLEN, "%s:%u", ipv4_ntoa(addr, a), port);
	else
		snprintf(buf, ENDPOINT_STRLEN, "%s:*", ipv4_ntoa(addr, a));
}

/* ---- status ---- */

static int answer_status(struct ctl *ctl, uint8_t **out, size_t *outlen)
{
	struct stack *st = ctl_stack(ctl);
	Netd__Status s = NETD__STATUS__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	s.netd_version = (char *)PACKAGE_VERSION;
	s.uptime_ms = ctl_uptime_ms(ctl);
	s.pid = (uint32_t)getpid();
	s.clients = ctl_clients(ctl);
	s.sockets = st->socks.used;
	s.interfaces = st->nifs;
	s.routes = st->routes.nroutes;
	s.buffers_total = st->pool.nhdrs;
	s.buffers_in_use = st->pool.nhdrs - st->pool.hdrs_free;
	r.body_case = NETD__RESPONSE__BODY_STATUS;
	r.status = &s;
	return pack_response(&r, out, outlen);
}

/* ---- interfaces ---- */

struct iface_row {
	Netd__Interface m;
	char mac[ETH_MAC_STRLEN];
	char addrs[NETIF_MAX_ADDRS][PREFIX_STRLEN];
	char *addr_ptrs[NETIF_MAX_ADDRS];
};

static void fill_interface(const struct netif *nif, struct iface_row *row)
{
	Netd__Interface *m = &row->m;
	netd__interface__init(m);
	m->index = nif->index;
	m->name = (char *)nif->name;
	m->mac = eth_ntoa(nif->mac, row->mac);
	m->mtu = nif->mtu;
	for (unsigned i = 0; i < nif->naddrs; i++) {
		format_prefix(row->addrs[i], nif->addrs[i].addr, nif->addrs[i].plen);
		row->addr_ptrs[i] = row->addrs[i];
	}
	m->n_addresses = nif->naddrs;
	m->addresses = row->addr_ptrs;
	m->rx_frames = nif->dev->stats.rx_packets;
	m->tx_frames = nif->dev->stats.tx_packets;
	m->rx_errors = nif->dev->stats.rx_errors;
	m->tx_errors = nif->dev->stats.tx_errors;
}

static int answer_interfaces(struct stack *st, uint8_t **out, size_t *outlen)
{
	Netd__Interfaces list = NETD__INTERFACES__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	void **rows = rows_alloc(st->nifs, sizeof(struct iface_row));
	if (!rows)
		return -ENOMEM;
	for (unsigned i = 0; i < st->nifs; i++)
		fill_interface(st->ifs[i], rows[i]);
	list.n_interfaces = st->nifs;
	list.interfaces = (Netd__Interface **)rows;
	r.body_case = NETD__RESPONSE__BODY_INTERFACES;
	r.interfaces = &list;
	int err = pack_response(&r, out, outlen);
	free(rows);
	return err;
}

/* ---- routes ---- */

struct route_row {
	Netd__Route m;
	char dst[PREFIX_STRLEN];
	char gw[IPV4_ADDR_STRLEN];
};

struct route_fill {
	void **rows;
	size_t n, max;
};

static const char *route_origin_name(uint8_t origin)
{
	static const char *const names[] = {
		[ROUTE_CONNECTED] = "connected", [ROUTE_STATIC] = "static", [ROUTE_ADMIN] = "admin",
	};
	return origin < ARRAY_SIZE(names) && names[origin] ? names[origin] : "?";
}

static void fill_route(const struct route *rt, void *arg)
{
	struct route_fill *f = arg;
	if (f->n == f->max)
		return;
	struct route_row *row = f->rows[f->n++];
	netd__route__init(&row->m);
	format_prefix(row->dst, rt->dst, rt->plen);
	row->m.destination = row->dst;
	row->m.gateway = rt->gw ? ipv4_ntoa(rt->gw, row->gw) : row->gw;	/* "" */
	row->m.interface = rt->nif ? rt->nif->index : 0;
	row->m.origin = (char *)route_origin_name(rt->origin);
}

static int answer_routes(struct stack *st, uint8_t **out, size_t *outlen)
{
	Netd__Routes list = NETD__ROUTES__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	struct route_fill f = {.max = st->routes.nroutes};
	if (!(f.rows = rows_alloc(f.max, sizeof(struct route_row))))
		return -ENOMEM;
	route_walk(&st->routes, fill_route, &f);
	list.n_routes = f.n;
	list.routes = (Netd__Route **)f.rows;
	r.body_case = NETD__RESPONSE__BODY_ROUTES;
	r.routes = &list;
	int err = pack_response(&r, out, outlen);
	free(f.rows);
	return err;
}

/* ---- routes add and del ---- */

/* As main.c's static routes: the gateway must lie on a connected subnet
 * (Linux: ENETUNREACH, "Nexthop has invalid gateway"). 0, or an errno
 * with its reason in what. */
static int route_change_add(struct stack *st, const Netd__RouteChange *rc, uint32_t dst,
			    unsigned plen, char *what, size_t len)
{
	const char *gw_text = rc->gateway ? rc->gateway : "";
	uint32_t gw;
	if (ipv4_aton(gw_text, &gw) < 0) {
		snprintf(what, len, "invalid gateway '%s'", gw_text);
		return EINVAL;
	}
	if (stack_is_local(st, gw)) {
		snprintf(what, len, "gateway %s is one of netd's addresses", gw_text);
		return EINVAL;
	}
	const struct route *via = route_lookup(&st->routes, gw);
	if (!via || via->gw) {
		snprintf(what, len, "gateway %s is not on a connected subnet", gw_text);
		return ENETUNREACH;
	}
	struct route r = {.dst = dst, .plen = (uint8_t)plen, .gw = gw, .nif = via->nif,
			  .origin = ROUTE_ADMIN};
	snprintf(what, len, "%s", rc->destination);
	return -route_add(&st->routes, &r);
}

static int answer_route_change(struct ctl *ctl, const struct session_peer *who,
			       const Netd__RouteChange *rc, uint8_t **out, size_t *outlen)
{
	struct stack *st = ctl_stack(ctl);
	const char *text = rc->destination ? rc->destination : "";
	char what[128];
	uint32_t dst;
	unsigned plen;
	int err;
	if (!ctl_peer_is_admin(ctl, who))
		return -EPERM;
	if (ipv4_parse_prefix(text, &dst, &plen) < 0 || (dst & ~ipv4_mask(plen))) {
		snprintf(what, sizeof(what), "invalid destination '%s' (want A.B.C.D/LEN, host bits 0)",
			 text);
		err = EINVAL;
	} else if (rc->add) {
		err = route_change_add(st, rc, dst, plen, what, sizeof(what));
	} else {
		snprintf(what, sizeof(what), "%s", text);
		err = -route_del(&st->routes, dst, plen);
	}
	if (err)
		return pack_error(err, what, out, outlen);
	log_info("route %s%s%s %s by pid %d uid %u", text, rc->add ? " via " : "",
		 rc->add ? rc->gateway : "", rc->add ? "added" : "deleted", (int)who->pid,
		 (unsigned)who->uid);
	return pack_ok(out, outlen);
}

/* ---- neighbours ---- */

struct neigh_row {
	Netd__Neighbour m;
	char addr[IPV4_ADDR_STRLEN];
	char mac[ETH_MAC_STRLEN];
};

static bool neigh_has_mac(const struct neigh *n)
{
	return n->state != NEIGH_INCOMPLETE && n->state != NEIGH_FAILED;
}

static int answer_neighbours(struct stack *st, uint8_t **out, size_t *outlen)
{
	Netd__Neighbours list = NETD__NEIGHBOURS__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	struct neigh_table *t = &st->neigh;
	void **rows = rows_alloc(t->used, sizeof(struct neigh_row));
	size_t n = 0;
	if (!rows)
		return -ENOMEM;
	for (unsigned i = 0; i < t->size && n < t->used; i++) {
		const struct neigh *e = &t->entries[i];
		if (e->state == NEIGH_FREE)
			continue;
		struct neigh_row *row = rows[n++];
		netd__neighbour__init(&row->m);
		row->m.address = ipv4_ntoa(e->ip, row->addr);
		row->m.mac = neigh_has_mac(e) ? eth_ntoa(e->mac, row->mac) : row->mac;
		row->m.state = (char *)neigh_state_name(e->state);
		row->m.interface = e->nif ? e->nif->index : 0;
	}
	list.n_neighbours = n;
	list.neighbours = (Netd__Neighbour **)rows;
	r.body_case = NETD__RESPONSE__BODY_NEIGHBOURS;
	r.neighbours = &list;
	int err = pack_response(&r, out, outlen);
	free(rows);
	return err;
}

/* ---- sockets ---- */

void admin_sock_owner(const struct sock *sk, struct admin_owner *o)
{
	const struct session_peer *p = session_sock_owner(sk);
	if (p) {
		*o = (struct admin_owner){.pid = p->pid, .uid = p->uid, .program = p->program};
	} else if (sk->tcp && sk->tcp->listener) {
		admin_sock_owner(sk->tcp->listener->sk, o);
	} else {
		o->pid = 0;
		o->uid = sk->uid;
		o->program = sk->closed ? "" : "netd";
	}
}

/* ss's names; a TCP socket that is not connected is UNCONN there too. */
static const char *sock_state_name(const struct sock *sk)
{
	static const char *const tcp_names[] = {
		[TCP_ESTABLISHED] = "ESTAB", [TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV", [TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN", [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK", [TCP_LISTEN] = "LISTEN", [TCP_CLOSING] = "CLOSING",
	};
	if (!sk->tcp)
		return sk->connected ? "ESTAB" : "UNCONN";
	unsigned s = sk->tcp->state;
	return s < ARRAY_SIZE(tcp_names) && tcp_names[s] ? tcp_names[s] : "UNKNOWN";
}

/* Linux shows a listener's accept queue and backlog in their place. */
static void fill_queues(struct sock *sk, Netd__Socket *m)
{
	int v;
	if (sk->tcp && sk->tcp->state == TCP_LISTEN) {
		m->recv_q = sk->tcp->accept_qlen;
		m->send_q = sk->tcp->backlog;
		return;
	}
	if (sock_ioctl(sk, SIOCINQ, &v) == 0)
		m->recv_q = (uint32_t)v;
	if (sock_ioctl(sk, SIOCOUTQ, &v) == 0)
		m->send_q = (uint32_t)v;
}

/* Data bytes received in order (Linux's tcpi_bytes_received), modulo 2^32:
 * RCV.NXT past the SYN, and past the FIN once one came. */
static uint64_t tcp_bytes_received(const struct tcp_sock *tp)
{
	switch (tp->state) {
	case TCP_ESTABLISHED: case TCP_FIN_WAIT1: case TCP_FIN_WAIT2:
		return tp->rcv_nxt - tp->irs - 1;
	case TCP_CLOSE_WAIT: case TCP_CLOSING: case TCP_LAST_ACK: case TCP_TIME_WAIT:
		return tp->rcv_nxt - tp->irs - 2;
	default:
		return 0;
	}
}

static void fill_tcp_info(struct sock *sk, Netd__Socket *m)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (sock_getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return;
	m->rto_us = ti.tcpi_rto;
	m->rtt_us = ti.tcpi_rtt;
	m->rttvar_us = ti.tcpi_rttvar;
	m->snd_cwnd = ti.tcpi_snd_cwnd;
	m->snd_mss = ti.tcpi_snd_mss;
	m->retrans = ti.tcpi_total_retrans;
	/* netd's TCP_INFO may leave the byte counts at 0: take them from the
	 * connection then. */
	m->bytes_acked = ti.tcpi_bytes_acked ? ti.tcpi_bytes_acked : sk->tcp->bytes_acked;
	m->bytes_received = ti.tcpi_bytes_received ? ti.tcpi_bytes_received :
			    tcp_bytes_received(sk->tcp);
}

struct socket_row {
	Netd__Socket m;
	char local[ENDPOINT_STRLEN];
	char peer[ENDPOINT_STRLEN];
};

static void fill_socket(struct sock *sk, struct socket_row *row)
{
	Netd__Socket *m = &row->m;
	struct admin_owner o;
	netd__socket__init(m);
	m->protocol = sk->protocol == IPPROTO_TCP ? "tcp" : "udp";
	m->state = (char *)sock_state_name(sk);
	format_endpoint(row->local, sk->laddr, sk->lport);
	format_endpoint(row->peer, sk->raddr, sk->rport);
	m->local = row->local;
	m->peer = row->peer;
	fill_queues(sk, m);
	admin_sock_owner(sk, &o);
	m->pid = (uint32_t)o.pid;
	m->uid = (uint32_t)o.uid;
	m->program = (char *)o.program;
	if (sk->tcp)
		fill_tcp_info(sk, m);
}

static int answer_sockets(struct stack *st, uint8_t **out, size_t *outlen)
{
	Netd__Sockets list = NETD__SOCKETS__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	struct sock_table *t = &st->socks;
	void **rows = rows_alloc(t->used, sizeof(struct socket_row));
	size_t n = 0;
	if (!rows)
		return -ENOMEM;
	for (unsigned i = 0; i < t->size && n < t->used; i++)
		if (t->socks[i].st)	/* in use: a free socket is all zero */
			fill_socket(&t->socks[i], rows[n++]);
	list.n_sockets = n;
	list.sockets = (Netd__Socket **)rows;
	r.body_case = NETD__RESPONSE__BODY_SOCKETS;
	r.sockets = &list;
	int err = pack_response(&r, out, outlen);
	free(rows);
	return err;
}

/* ---- counters ---- */

static int answer_counters(struct stack *st, uint8_t **out, size_t *outlen)
{
	Netd__Counter stats[STAT_MAX], drops[DROP_MAX - 1];
	Netd__Counter *stat_ptrs[STAT_MAX], *drop_ptrs[DROP_MAX - 1];
	Netd__Counters list = NETD__COUNTERS__INIT;
	Netd__Response r = NETD__RESPONSE__INIT;
	for (unsigned i = 0; i < STAT_MAX; i++) {
		netd__counter__init(&stats[i]);
		stats[i].name = (char *)stat_name(i);
		stats[i].value = st->stats[i];
		stat_ptrs[i] = &stats[i];
	}
	for (unsigned i = 0; i < DROP_MAX - 1; i++) {	/* from 1: DROP_NONE is no reason */
		netd__counter__init(&drops[i]);
		drops[i].name = (char *)drop_reason_name(i + 1);
		drops[i].value = st->drops[i + 1];
		drop_ptrs[i] = &drops[i];
	}
	list.n_counters = STAT_MAX;
	list.counters = stat_ptrs;
	list.n_drops = DROP_MAX - 1;
	list.drops = drop_ptrs;
	r.body_case = NETD__RESPONSE__BODY_COUNTERS;
	r.counters = &list;
	return pack_response(&r, out, outlen);
}

/* ---- capture ---- */

/* Takes the file (fds[0]) on success; the answer comes when it ends. */
static int answer_capture(struct ctl *ctl, const struct session_peer *who, int conn_fd,
			  const Netd__CaptureStart *cs, int *fds, int nfds)
{
	struct stack *st = ctl_stack(ctl);
	if (!ctl_peer_is_admin(ctl, who))
		return -EPERM;
	if (nfds != 1)
		return -EBADF;
	if (capture_running(st, conn_fd))
		return -EBUSY;
	int err = capture_start(st, fds[0], (pid_t)cs->pid, cs->count, conn_fd);
	if (err < 0)
		return err;
	fds[0] = -1;
	log_info("capture started by pid %d uid %u: frames of pid %u (0: all), at most %llu "
		 "(0: no limit)", (int)who->pid, (unsigned)who->uid, (unsigned)cs->pid,
		 (unsigned long long)cs->count);
	return 0;
}

void admin_conn_closed(struct ctl *ctl, int conn_fd)
{
	capture_stop(ctl_stack(ctl), conn_fd);
}

int admin_answer(struct ctl *ctl, const struct session_peer *who, int conn_fd,
		 const Netd__Request *req, int *fds, int nfds, uint8_t **out, size_t *outlen)
{
	struct stack *st = ctl_stack(ctl);
	*out = NULL;
	switch (req->body_case) {
	case NETD__REQUEST__BODY_STATUS: return answer_status(ctl, out, outlen);
	case NETD__REQUEST__BODY_INTERFACES: return answer_interfaces(st, out, outlen);
	case NETD__REQUEST__BODY_ROUTES: return answer_routes(st, out, outlen);
	case NETD__REQUEST__BODY_ROUTE_CHANGE:
		return answer_route_change(ctl, who, req->route_change, out, outlen);
	case NETD__REQUEST__BODY_NEIGHBOURS: return answer_neighbours(st, out, outlen);
	case NETD__REQUEST__BODY_SOCKETS: return answer_sockets(st, out, outlen);
	case NETD__REQUEST__BODY_COUNTERS: return answer_counters(st, out, outlen);
	case NETD__REQUEST__BODY_CAPTURE:
		return answer_capture(ctl, who, conn_fd, req->capture, fds, nfds);
	default: return -EOPNOTSUPP;
	}
}
