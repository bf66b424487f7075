/*
 * tcp_ring.c: the byte rings of tcp.h. A TCP connection keeps what it
 * sends, from snd_una on, in one ring (so any range can be sent again)
 * and what it received in order but the application has not read in
 * another. Capacity is fixed at creation; tcp_ring_resize grows it. The
 * memory itself is taken at the first byte written, so a connection that
 * never carries data (an idle one, a listener's child waiting to be
 * accepted) holds none.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"
#include "util.h"

int tcp_ring_init(struct tcp_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap;
	return 0;
}

void tcp_ring_free(struct tcp_ring *r)
{
	free(r->mem);
	memset(r, 0, sizeof(*r));
}

size_t tcp_ring_space(const struct tcp_ring *r)
{
	return r->cap - r->len;
}

/* Copies len bytes between the ring at index at (wrapping) and buf. */
static void ring_copy(const struct tcp_ring *r, size_t at, uint8_t *buf, size_t len, bool in)
{
	size_t first = MIN(len, r->cap - at);
	if (in) {
		memcpy(r->mem + at, buf, first);
		memcpy(r->mem, buf + first, len - first);
	} else {
		memcpy(buf, r->mem + at, first);
		memcpy(buf + first, r->mem, len - first);
	}
}

size_t tcp_ring_write(struct tcp_ring *r, const void *buf, size_t len)
{
	size_t n = MIN(len, tcp_ring_space(r));
	if (n && !r->mem && !(r->mem = malloc(r->cap)))
		return 0;	/* no memory: as a full buffer */
	if (n)
		ring_copy(r, (r->head + r->len) % r->cap, (uint8_t *)buf, n, true);
	r->len += n;
	return n;
}

void tcp_ring_peek(const struct tcp_ring *r, size_t off, void *buf, size_t len)
{
	if (len)
		ring_copy(r, (r->head + off) % r->cap, buf, len, false);
}

void tcp_ring_consume(struct tcp_ring *r, size_t len)
{
	len = MIN(len, r->len);
	r->head = r->cap ? (r->head + len) % r->cap : 0;
	r->len -= len;
	if (r->len == 0)
		r->head = 0;
}

int tcp_ring_resize(struct tcp_ring *r, size_t cap)
{
	if (cap < r->len)
		return -EINVAL;
	uint8_t *mem = malloc(cap);
	if (!mem)
		return -ENOMEM;
	tcp_ring_peek(r, 0, mem, r->len);
	free(r->mem);
	r->mem = mem;
	r->cap = cap;
	r->head = 0;
	return 0;
}
