/*
 * checksum.c: the Internet checksum, summed 16 bits at a time in network
 * order; an odd final byte is padded with zero (RFC 1071).
 */
#include "config.h"

#include "checksum.h"

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	while (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)(p[0] << 8);
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_csum(const void *buf, size_t len)
{
	return csum_fold(csum_partial(buf, len, 0));
}

uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
	sum += proto;
	sum += len;
	while (sum >> 32)
		sum = (sum & 0xffffffff) + (sum >> 32);
	return (uint32_t)sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
uint16_t csum_update16(uint16_t check, uint16_t old, uint16_t new_val)
{
	uint32_t sum = (uint16_t)~check;
	sum += (uint16_t)~old;
	sum += new_val;
	return csum_fold(sum);
}
