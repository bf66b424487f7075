/*
 * icmp.h: ICMP messages (RFC 792): the fixed 8-byte header parsed to a
 * host-order struct after the checksum over the whole message is checked.
 */
#ifndef NETD_WIRE_ICMP_H
#define NETD_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ICMP_HLEN 8
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_TIMESTAMP 13

/* codes of ICMP_DEST_UNREACH */
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
/* codes of ICMP_TIME_EXCEEDED */
#define ICMP_EXC_TTL 0
#define ICMP_EXC_FRAGTIME 1

struct icmp_hdr {
	uint8_t type, code;
	uint16_t csum;
	uint32_t rest;		/* id/seq, next-hop MTU, pointer, gateway */
};

/* 0, DROP_ICMP_MALFORMED or DROP_ICMP_CSUM; len is the whole message. */
int icmp_parse(const uint8_t *buf, size_t len, struct icmp_hdr *h);
/* Writes the header and the checksum over the header and len - 8 bytes
 * of body already at buf + 8. */
void icmp_emit(uint8_t *buf, size_t len, const struct icmp_hdr *h);
bool icmp_is_error(uint8_t type);

#endif
