/*
 * nbuf.h: the packet buffer. One contiguous data area per packet with
 * head <= data <= tail <= end; headers are pushed in front of the data and
 * pulled off it as the packet moves through the layers. Data areas come from
 * a pool of fixed size classes allocated and pre-faulted at start, so the
 * packet path never calls malloc: small for a frame, medium for a datagram
 * of a few fragments, large for a whole 64 KiB datagram. A buffer is
 * charged to a socket for its whole size, so the classes keep mid-sized
 * datagrams from holding 64 KiB each. A clone shares the data area (reference
 * counted) with its own head/data/tail, for taps and duplicates that only
 * read. Running out of buffers is a counted event, never a crash.
 *
 * Peer input never trips an assertion: nbuf_pull() returns NULL on a short
 * packet. nbuf_push() and nbuf_put() assert, because missing headroom or
 * tailroom is netd's own bug.
 */
#ifndef NETD_NBUF_H
#define NETD_NBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBUF_HEADROOM 192	/* Ethernet + IPv4 + TCP headers with options, rounded */
#define NBUF_CLASSES 3	/* a frame, a mid-sized datagram, a whole 64 KiB one */

enum nbuf_pkt_type {
	NBUF_HOST,		/* addressed to our MAC */
	NBUF_BROADCAST,
	NBUF_MULTICAST,
	NBUF_OUTGOING,		/* built locally */
};

struct nbuf_pool;

/* Reference-counted data area; the bytes follow it. */
struct nbuf_data {
	uint32_t refcnt;
	uint8_t cls;
	struct nbuf_data *next_free;
};

struct nbuf {
	uint8_t *head, *data, *tail, *end;
	struct nbuf *next;	/* link for whoever owns the nbuf now */
	struct nbuf_data *shared;
	struct nbuf_pool *pool;
	uint16_t ifindex;	/* interface it arrived on */
	uint8_t pkt_type;	/* enum nbuf_pkt_type */
	bool csum_verified;	/* transport checksum partial: made on this host, not checked */
	uint16_t l3_off;	/* offset of the network header from head */
	uint16_t l4_off;	/* offset of the transport header from head */
};

struct nbuf_class {
	size_t size;		/* usable bytes in a data area */
	unsigned count;
	unsigned nfree;
	uint8_t *mem;
	struct nbuf_data *free;
};

struct nbuf_pool {
	struct nbuf *hdrs;
	struct nbuf *free_hdrs;
	unsigned nhdrs, hdrs_free;
	struct nbuf_class cls[NBUF_CLASSES];
	uint64_t exhausted;	/* allocations refused */
};

struct nbuf_pool_config {
	size_t small_size;	/* bytes per small buffer, e.g. headroom + MTU frame */
	unsigned small_count;
	size_t medium_size;	/* bytes per medium buffer: reassembled mid-sized datagrams */
	unsigned medium_count;
	size_t large_size;	/* bytes per large buffer: a whole reassembled datagram */
	unsigned large_count;
};

int nbuf_pool_init(struct nbuf_pool *p, const struct nbuf_pool_config *cfg);
void nbuf_pool_destroy(struct nbuf_pool *p);
/* Buffers handed out and not yet freed: 0 at teardown means nothing leaked. */
unsigned nbuf_pool_in_use(const struct nbuf_pool *p);

/* A buffer with at least size bytes of room, data at head; NULL when exhausted. */
struct nbuf *nbuf_alloc(struct nbuf_pool *p, size_t size);
/* Like nbuf_alloc, with NBUF_HEADROOM reserved in front of size bytes of room. */
struct nbuf *nbuf_alloc_tx(struct nbuf_pool *p, size_t size);
/* Consumes nb. NULL is allowed. */
void nbuf_free(struct nbuf *nb);
/* A second header over the same data; NULL when no header is free. */
struct nbuf *nbuf_clone(struct nbuf *nb);
/* A private copy of the bytes between data and tail with the same headroom. */
struct nbuf *nbuf_copy(struct nbuf *nb);
bool nbuf_shared(const struct nbuf *nb);
/* nb if its data is its own, else a private copy (nb is freed). NULL when
 * no buffer was free for the copy; nb is freed then too. Consumes nb. */
struct nbuf *nbuf_unshare(struct nbuf *nb);

static inline size_t nbuf_len(const struct nbuf *nb)
{
	return (size_t)(nb->tail - nb->data);
}

static inline size_t nbuf_headroom(const struct nbuf *nb)
{
	return (size_t)(nb->data - nb->head);
}

static inline size_t nbuf_tailroom(const struct nbuf *nb)
{
	return (size_t)(nb->end - nb->tail);
}

/* Move data and tail forward on an empty buffer. */
void nbuf_reserve(struct nbuf *nb, size_t len);
/* Extend the tail; returns the start of the new bytes. */
uint8_t *nbuf_put(struct nbuf *nb, size_t len);
/* Extend in front of data; returns the new data. */
uint8_t *nbuf_push(struct nbuf *nb, size_t len);
/* Remove len bytes from the front; returns the new data, or NULL if shorter. */
uint8_t *nbuf_pull(struct nbuf *nb, size_t len);
/* Cut the data to len bytes if longer. */
void nbuf_trim(struct nbuf *nb, size_t len);

static inline uint8_t *nbuf_l3(const struct nbuf *nb)
{
	return nb->head + nb->l3_off;
}

static inline uint8_t *nbuf_l4(const struct nbuf *nb)
{
	return nb->head + nb->l4_off;
}

static inline void nbuf_mark_l3(struct nbuf *nb)
{
	nb->l3_off = (uint16_t)(nb->data - nb->head);
}

static inline void nbuf_mark_l4(struct nbuf *nb)
{
	nb->l4_off = (uint16_t)(nb->data - nb->head);
}

/* A FIFO of nbufs linked through nb->next. */
struct nbuf_queue {
	struct nbuf *first, *last;
	unsigned len;
};

void nbuf_queue_push(struct nbuf_queue *q, struct nbuf *nb);
struct nbuf *nbuf_queue_pop(struct nbuf_queue *q);
void nbuf_queue_purge(struct nbuf_queue *q);

#endif
