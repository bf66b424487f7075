/*
 * frag.h: IPv4 fragmentation on output and reassembly on input (RFC 791,
 * RFC 815). Reassembly queues are keyed by (src, dst, id, protocol), live at
 * most the reassembly timeout, and share a global memory limit. A fragment
 * that partly overlaps another discards its whole datagram, as Linux does;
 * an exact duplicate is dropped alone. Nothing may reach past 65535 bytes.
 */
#ifndef NETD_FRAG_H
#define NETD_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nbuf.h"
#include "timer.h"

struct stack;
struct ipv4_hdr;

#define REASM_BUCKETS 64

struct reasm_queue {
	struct reasm_queue *hnext;
	struct stack *st;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool in_use;
	bool have_last;
	bool have_first;
	uint16_t total;		/* payload length, known once the last fragment came */
	uint32_t received;	/* payload bytes held */
	size_t mem;		/* buffer bytes held */
	struct nbuf *frags;	/* sorted by offset, linked through next */
	struct timer timer;
};

struct reasm_table {
	struct reasm_queue *queues;
	struct reasm_queue *free;	/* unused queues, linked through hnext */
	unsigned nqueues, used;
	struct reasm_queue *buckets[REASM_BUCKETS];
	size_t mem, mem_limit;
	uint64_t timeout;
};

int reasm_table_init(struct reasm_table *t, unsigned nqueues, size_t mem_limit,
		     uint64_t timeout);
void reasm_table_destroy(struct stack *st, struct reasm_table *t);

/* Takes a fragment (data at the IP header, h its parsed header) and returns
 * the whole datagram once complete (data at its IP header, total length and
 * checksum rewritten, no fragment bits), or NULL. Consumes nb. */
struct nbuf *ip_reassemble(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h);

/* Splits nb (data at an IP header of hlen bytes) into fragments of at most
 * mtu bytes, appended to out. Consumes nb. 0, or -ENOBUFS when the pool ran
 * dry (the fragments made so far stay in out). */
int ip_fragment(struct stack *st, struct nbuf *nb, unsigned mtu, struct nbuf_queue *out);

#endif
