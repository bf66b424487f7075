/*
 * eth.h: Ethernet II headers, parsed to a host-order struct and emitted
 * from one. MAC helpers for broadcast/multicast tests and printing.
 */
#ifndef NETD_WIRE_ETH_H
#define NETD_WIRE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN 14
#define ETH_ALEN 6
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETH_MAC_STRLEN 18

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
};

extern const uint8_t eth_broadcast[ETH_ALEN];

/* 0 on success, or a drop reason (enum drop_reason) */
int eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h);
void eth_emit(uint8_t *buf, const struct eth_hdr *h);

bool eth_is_broadcast(const uint8_t *mac);
bool eth_is_multicast(const uint8_t *mac);	/* includes broadcast */
bool eth_is_zero(const uint8_t *mac);
/* Multicast MAC of an IPv4 group (RFC 1112 6.4). */
void eth_ipv4_mcast(uint32_t group, uint8_t *mac);
char *eth_ntoa(const uint8_t *mac, char buf[ETH_MAC_STRLEN]);
/* Parses "02:00:00:aa:bb:cc"; 0 or -EINVAL. */
int eth_aton(const char *s, uint8_t *mac);

#endif
