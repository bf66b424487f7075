/*
 * udp.h: UDP headers (RFC 768), parsed after the length and the checksum
 * over the pseudo-header are checked, and emitted with their checksum.
 */
#ifndef NETD_WIRE_UDP_H
#define NETD_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#define UDP_HLEN 8
#define UDP_MAX_PAYLOAD (65535 - 20 - UDP_HLEN)

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;		/* header and payload */
	uint16_t csum;
};

/* buf holds len bytes from the UDP header on; src and dst (host order)
 * make the pseudo-header. The length field must lie in [8, len]; a zero
 * checksum means none was sent (RFC 768). 0, DROP_UDP_SHORT or DROP_UDP_CSUM. */
int udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct udp_hdr *h);
/* Writes the header of h (len = 8 + plen) with the checksum over it and the
 * plen payload bytes already at buf + 8; a computed 0 is sent as 0xffff. */
void udp_emit(uint8_t *buf, struct udp_hdr *h, size_t plen, uint32_t src, uint32_t dst);

#endif
