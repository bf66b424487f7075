/*
 * services.c: the built-in echo, discard and chargen services over the
 * stack's own sockets. Each service is a socket whose wakeup callback
 * does the work when datagrams arrive: echo sends each one back, discard
 * drops it, chargen answers with a datagram of 0 to 512 characters of the
 * rotating pattern of RFC 864. None of them answers a datagram from the
 * port of another such service (or port 0), so two of them can never be
 * made to talk to each other forever.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "services.h"
#include "stack.h"
#include "util.h"

#define SERVICE_BUF 65536
#define CHARGEN_LINE 72
#define CHARGEN_CHARS 95	/* printable ASCII, ' ' to '~' */

struct service {
	const char *name;
	unsigned bit;
	uint16_t port;
	void (*on_datagram)(struct sock *sk, const uint8_t *data, size_t len,
			    const struct sock_addr *from);
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

static const struct service services[] = {
	{"echo", SERVICE_ECHO, 7, echo_datagram},
	{"discard", SERVICE_DISCARD, 9, discard_datagram},
	{"chargen", SERVICE_CHARGEN, 19, chargen_datagram},
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

static int service_open(struct stack *st, const struct service *svc)
{
	struct sock *sk;
	struct sock_addr any = {.addr = 0, .port = svc->port};
	int err = sock_create(st, SOCK_DGRAM, 0, 0, &sk);
	if (err)
		return err;
	sock_set_owner(sk, service_readable, (void *)svc);
	err = sock_bind(sk, &any);
	if (err) {
		sock_close(sk);
		return err;
	}
	log_info("service %s on udp port %u", svc->name, svc->port);
	return 0;
}

int services_start(struct stack *st, unsigned mask)
{
	for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
		if (!(mask & services[i].bit))
			continue;
		int err = service_open(st, &services[i]);
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
		if (sk->st && sk->wakeup == service_readable)
			sock_close(sk);
	}
}
