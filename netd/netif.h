/*
 * netif.h: a network interface of the stack: a device, our MAC, MTU,
 * addresses and joined multicast groups, and the transmit batch that the
 * loop flushes once per turn. netif_receive() is where every received
 * frame enters the stack; dev_queue_xmit() is where every frame leaves it.
 */
#ifndef NETD_NETIF_H
#define NETD_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include "../drivers/netdev.h"
#include "nbuf.h"

struct stack;

#define NETIF_MAX 8
#define NETIF_MAX_ADDRS 4
#define NETIF_MAX_GROUPS 8

struct netif_addr {
	uint32_t addr;
	uint8_t plen;
	uint32_t mask;
	uint32_t bcast;
};

struct netif {
	struct stack *st;
	struct netdev *dev;
	unsigned index;
	char name[IFNAMSIZ];
	uint8_t mac[6];
	unsigned mtu;
	struct netif_addr addrs[NETIF_MAX_ADDRS];
	unsigned naddrs;
	uint8_t groups[NETIF_MAX_GROUPS][6];	/* multicast MACs accepted */
	unsigned ngroups;
	struct nbuf *txq[NETDEV_BATCH];
	unsigned ntx;
	bool rx_ready;		/* the device said frames are waiting */
};

/* A tap sees every frame an interface receives, before the stack looks at
 * it, and every frame the stack queues for the device (out). It reads nb
 * and must neither keep nor change it; it may remove itself. Taps hang off
 * the stack (st->taps): with none, a frame pays one test of a pointer. */
struct netif_tap {
	void (*fn)(struct netif_tap *tap, const struct netif *nif, const struct nbuf *nb,
		   bool out);
	struct netif_tap *next;
};

void netif_tap_add(struct stack *st, struct netif_tap *tap);
void netif_tap_del(struct stack *st, struct netif_tap *tap);

/* Adds dev to the stack as a new interface; takes over dev. NULL when full. */
struct netif *netif_add(struct stack *st, struct netdev *dev, const uint8_t *mac, unsigned mtu);
/* Adds addr/plen and its connected route. 0, -EEXIST, -ENOSPC or -EINVAL. */
int netif_add_addr(struct netif *nif, uint32_t addr, unsigned plen);
/* Announces every address with a gratuitous ARP. */
void netif_up(struct netif *nif);
/* Accepts frames sent to the multicast MAC. */
int netif_join_mac(struct netif *nif, const uint8_t *mac);
bool netif_has_addr(const struct netif *nif, uint32_t addr);
/* The address on nif best suited to talk to dst: one on dst's subnet, else the first. */
uint32_t netif_source_for(const struct netif *nif, uint32_t dst);

/* Consumes nb; data at the Ethernet header. */
void netif_receive(struct netif *nif, struct nbuf *nb);
/* Reads up to budget frames from the device into the stack; returns how many. */
unsigned netif_poll(struct netif *nif, unsigned budget);
/* Queues a frame (data at the Ethernet header) for the device. Consumes nb. */
void dev_queue_xmit(struct netif *nif, struct nbuf *nb);
/* Hands the queued frames to the device. */
void netif_flush(struct netif *nif);

/* Ethernet: consumes nb. */
void eth_input(struct netif *nif, struct nbuf *nb);
/* Pushes an Ethernet header (to dst, of type) and queues the frame. Consumes nb. */
void eth_output(struct netif *nif, struct nbuf *nb, const uint8_t *dst, uint16_t type);

#endif
