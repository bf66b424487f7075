/*
 * services.c: the built-in echo, discard and chargen services over the
 * stack's own sockets, on UDP and TCP. Each service is a socket whose
 * wakeup callback does the work. On UDP, echo sends each datagram back,
 * discard drops it, chargen answers with a datagram of 0 to 512
 * characters of the rotating pattern of RFC 864; none of them answers a
 * datagram from the port of another such service (or port 0), so two of
 * them can never be made to talk to each other forever. On TCP, echo
 * writes back what it reads, reading no more than the send buffer can
 * take (so a slow reader slows the writer), discard reads and drops,
 * chargen writes the pattern for as long as the connection stays open;
 * each closes its side when the peer does.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "services.h"
#include "stack.h"
#include "tcp.h"
#include "util.h"

#define SERVICE_BUF 65536
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95	/* printable ASCII, ' ' to '~' */
#define CHARGEN_PERIOD (CHARGEN_CHARS * (CHARGEN_LINE + 2))	/* the pattern repeats */

struct service {
	const char *name;
	unsigned bit;
	uint16_t port;
	void (*on_datagram)(struct sock *sk, const uint8_t *data, size_t len,
			    const struct sock_addr *from);
	void (*on_stream)(struct sock *sk);
};

/* Ports whose owners answer datagrams: never answer them. */
static bool responder_port(uint16_t port)
{
	return port == 0 || port == 7 || port == 13 || port == 17 || port == 19 || port == 37;
}

static void echo_datagram(struct sock *sk, const uint8_t *data, size_t len,
			  const struct sock_addr *from)
{
	sock_sendto(sk, data, len, MSG_DONTWAIT, from);
}

static void discard_datagram(struct sock *sk, const uint8_t *data, size_t len,
			     const struct sock_addr *from)
{
	(void)sk;
	(void)data;
	(void)len;
	(void)from;
}

/* Byte i of the RFC 864 pattern: line k starts one character further on. */
static uint8_t chargen_byte(size_t i)
{
	size_t line = i / (CHARGEN_LINE + 2), col = i % (CHARGEN_LINE + 2);
	if (col == CHARGEN_LINE)
		return '\r';
	if (col == CHARGEN_LINE + 1)
		return '\n';
	return (uint8_t)(' ' + (line + col) % CHARGEN_CHARS);
}

static void chargen_datagram(struct sock *sk, const uint8_t *data, size_t len,
			     const struct sock_addr *from)
{
	uint8_t out[512];
	size_t n = (size_t)(rng_next(&sk->st->rng) % (sizeof(out) + 1));
	(void)data;
	(void)len;
	for (size_t i = 0; i < n; i++)
		out[i] = chargen_byte(i);
	sock_sendto(sk, out, n, MSG_DONTWAIT, from);
}

/* ---- TCP ---- */

/* Echo: copy what arrived back, as far as the send buffer allows. */
static void echo_stream(struct sock *sk)
{
	static uint8_t buf[SERVICE_BUF];
	ssize_t n;
	for (;;) {
		size_t room = tcp_ring_space(&sk->tcp->snd);
		if (room == 0)
			return;
		n = sock_recvfrom(sk, buf, MIN(room, sizeof(buf)), MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		sock_sendto(sk, buf, (size_t)n, MSG_DONTWAIT, NULL);
	}
	if (n == 0 || n != -EAGAIN)
		sock_close(sk);
}

static void discard_stream(struct sock *sk)
{
	static uint8_t buf[SERVICE_BUF];
	ssize_t n;
	while ((n = sock_recvfrom(sk, buf, sizeof(buf), MSG_DONTWAIT, NULL)) > 0)
		;
	if (n != -EAGAIN)
		sock_close(sk);
}

/* Chargen: the pattern, from where the last write stopped (owner_data). */
static void chargen_stream(struct sock *sk)
{
	uint8_t buf[CHARGEN_PERIOD];
	uint8_t drain[512];
	ssize_t n;
	while ((n = sock_recvfrom(sk, drain, sizeof(drain), MSG_DONTWAIT, NULL)) > 0)
		;
	if (n != -EAGAIN) {
		sock_close(sk);
		return;
	}
	for (;;) {
		size_t at = (size_t)(sk->owner_data % CHARGEN_PERIOD);
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = chargen_byte(at + i);
		n = sock_sendto(sk, buf, sizeof(buf), MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		sk->owner_data += (uint64_t)n;
	}
	if (n != -EAGAIN)
		sock_close(sk);
}

static void service_stream_event(struct sock *sk, unsigned events)
{
	const struct service *svc = sk->owner;
	(void)events;
	svc->on_stream(sk);
}

static void service_accept(struct sock *l, unsigned events)
{
	struct sock *c;
	(void)events;
	while (sock_accept(l, &c) == 0) {
		sock_set_owner(c, service_stream_event, l->owner);
		service_stream_event(c, EPOLLIN | EPOLLOUT);
	}
}

static const struct service services[] = {
	{"echo", SERVICE_ECHO, 7, echo_datagram, echo_stream},
	{"discard", SERVICE_DISCARD, 9, discard_datagram, discard_stream},
	{"chargen", SERVICE_CHARGEN, 19, chargen_datagram, chargen_stream},
};

static void service_readable(struct sock *sk, unsigned events)
{
	const struct service *svc = sk->owner;
	static uint8_t buf[SERVICE_BUF];
	struct sock_addr from;
	ssize_t n;

	if (!(events & (EPOLLIN | EPOLLERR)))
		return;
	while (sk->rxq.len || sk->err) {
		n = sock_recvfrom(sk, buf, sizeof(buf), MSG_DONTWAIT, &from);
		if (n >= 0 && !responder_port(from.port))
			svc->on_datagram(sk, buf, (size_t)n, &from);
	}
}

int services_parse(const char *list, unsigned *mask, char *bad, size_t badlen)
{
	char *copy = strdup(list), *save = NULL;
	int rc = 0;

	if (!copy)
		return -1;
	*mask = 0;
	for (char *name = strtok_r(copy, ",", &save); name && !rc; name = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(services); i++)
			if (strcmp(name, services[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(services)) {
			snprintf(bad, badlen, "%s", name);
			rc = -1;
		} else {
			*mask |= services[i].bit;
		}
	}
	free(copy);
	return rc;
}

static int service_open(struct stack *st, const struct service *svc, int type)
{
	struct sock *sk;
	struct sock_addr any = {.addr = 0, .port = svc->port};
	int one = 1;
	int err = sock_create(st, type, 0, 0, &sk);
	if (err)
		return err;
	sock_set_owner(sk, type == SOCK_DGRAM ? service_readable : service_accept, (void *)svc);
	sock_setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = sock_bind(sk, &any);
	if (!err && type == SOCK_STREAM)
		err = sock_listen(sk, 128);
	if (err) {
		sock_close(sk);
		return err;
	}
	log_info("service %s on %s port %u", svc->name, type == SOCK_DGRAM ? "udp" : "tcp",
		 svc->port);
	return 0;
}

int services_start(struct stack *st, unsigned mask)
{
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (!(mask & services[i].bit))
			continue;
		int err = service_open(st, &services[i], SOCK_DGRAM);
		if (!err)
			err = service_open(st, &services[i], SOCK_STREAM);
		if (err)
			return err;
	}
	return 0;
}

void services_stop(struct stack *st)
{
	struct sock_table *t = &st->socks;
	for (unsigned i = 0; i < t->size; i++) {
		struct sock *sk = &t->socks[i];
		if (sk->st && !sk->closed && (sk->wakeup == service_readable ||
					      sk->wakeup == service_accept ||
					      sk->wakeup == service_stream_event))
			sock_close(sk);
	}
}
