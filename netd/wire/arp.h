/*
 * arp.h: ARP packets for Ethernet and IPv4 (RFC 826), the only kind netd
 * speaks: parsed to a host-order struct, emitted from one.
 */
#ifndef NETD_WIRE_ARP_H
#define NETD_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "eth.h"

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_pkt {
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;		/* host order */
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
};

/* 0, DROP_ARP_MALFORMED or DROP_ARP_UNSUPPORTED */
int arp_parse(const uint8_t *buf, size_t len, struct arp_pkt *a);
void arp_emit(uint8_t *buf, const struct arp_pkt *a);

#endif
