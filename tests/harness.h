/*
 * harness.h: what the packet tests share. A harness is one stack on the
 * virtual clock (seed 1) with one interface, 10.0.0.2/24, wired through an
 * in-memory device pair to "the peer", 10.0.0.1, which the test plays:
 * it injects frames as the peer and takes the frames the stack sent.
 * Frame builders make the bytes; teardown asserts no buffer leaked.
 */
#ifndef NETD_TESTS_HARNESS_H
#define NETD_TESTS_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "netd/stack.h"
#include "netd/util.h"
#include "netd/wire/arp.h"
#include "netd/wire/eth.h"
#include "netd/wire/icmp.h"
#include "netd/wire/ipv4.h"

#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define H_OUR_IP IPV4(10, 0, 0, 2)
#define H_PEER_IP IPV4(10, 0, 0, 1)
#define H_FRAME_MAX 70000

extern const uint8_t h_our_mac[6];
extern const uint8_t h_peer_mac[6];

struct harness {
	struct stack *st;
	struct netif *nif;
	struct netdev *peer;
	struct nbuf_pool peer_pool;
};

struct frame {
	uint8_t b[H_FRAME_MAX];
	size_t len;
};

/* Runs a Check suite (verbosity and TAP output from the environment);
 * returns the process exit status. */
int run_suite(Suite *s);

/* Builds the stack and takes the gratuitous ARP it sends at start. */
void harness_init(struct harness *h);
/* Same, with the parameters given (forwarding, limits...). */
void harness_init_params(struct harness *h, const struct stack_params *p);
/* Frees held packets, asserts that no buffer leaked, frees everything. */
void harness_teardown(struct harness *h);
/* The peer sends a frame; the stack receives and processes it. */
void harness_inject(struct harness *h, const void *frame, size_t len);
/* Next frame the stack sent (flushing its queue first); 0 when none. */
size_t harness_take(struct harness *h, struct frame *f);
/* Frames sent by the stack not yet taken. */
unsigned harness_pending(struct harness *h);
/* Moves the virtual clock forward by ms, firing timers. */
void harness_advance(struct harness *h, unsigned ms);
/* Teaches the stack the peer's MAC (an ARP request from the peer to us),
 * and takes the reply. */
void harness_learn_peer(struct harness *h);

/* Frame builders: each writes a whole frame into f and returns its length. */
size_t build_arp(struct frame *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
		 uint32_t spa, const uint8_t *tha, uint32_t tpa);
/* An IPv4 datagram with payload; hdr gives the fields (total_len, checksum
 * and version are filled in). */
size_t build_ipv4(struct frame *f, const uint8_t *eth_dst, const struct ipv4_hdr *hdr,
		  const void *payload, size_t plen);
/* An ICMP echo request from the peer to dst with n bytes of patterned data. */
size_t build_echo(struct frame *f, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		  size_t n);
/* Parses f as Ethernet + IPv4; returns the IPv4 payload or NULL. */
const uint8_t *frame_ipv4(const struct frame *f, struct eth_hdr *eh, struct ipv4_hdr *ih);

#endif
