/*
 * checksum.h: the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624), over bytes in network order.
 */
#ifndef NETD_WIRE_CHECKSUM_H
#define NETD_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of len bytes added to sum, not folded or inverted. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);
/* Folds a partial sum to 16 bits and inverts it: the value to store. */
uint16_t csum_fold(uint32_t sum);
/* Checksum of a buffer: 0 when a buffer holding its checksum is intact. */
uint16_t inet_csum(const void *buf, size_t len);
/* The partial sum of the IPv4 pseudo-header (RFC 9293 3.1, RFC 768):
 * addresses in host order, protocol, and the transport length. */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Updates a stored checksum for one 16-bit field changed from old to new. */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_val);

#endif
