/*
 * ipv4.h: IPv4 headers (RFC 791): parsed and validated to a host-order
 * struct, emitted from one, plus address helpers.
 */
#ifndef NETD_WIRE_IPV4_H
#define NETD_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_HLEN 20
#define IPV4_MAX_HLEN 60
#define IPV4_MAX_LEN 65535
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPV4_ADDR_STRLEN 16

#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_COPIED(type) ((type) & 0x80)

struct ipv4_hdr {
	uint8_t hlen;		/* bytes, options included */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	bool df, mf;
	uint16_t frag_off;	/* bytes */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src, dst;	/* host order */
};

/* Validates version, header length, total length against len, the header
 * checksum and the option layout. 0 or a drop reason; on DROP_IP_OPTIONS
 * the fields of h are filled in all the same. */
int ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_hdr *h);
/* Offset in the header of the first malformed option byte, 0 if none. */
size_t ipv4_options_error(const uint8_t *hdr, size_t hlen);
/* Writes a 20-byte header (no options) with its checksum. */
void ipv4_emit(uint8_t *buf, const struct ipv4_hdr *h);
/* Recomputes the checksum of a header of hlen bytes in place. */
void ipv4_set_csum(uint8_t *buf, size_t hlen);
/* Copies the options of hdr that must be copied into every fragment
 * (RFC 791 "copied" flag) to out, padded to 4 bytes; returns the length. */
size_t ipv4_copied_options(const uint8_t *hdr, size_t hlen, uint8_t *out);

bool ipv4_is_multicast(uint32_t a);
bool ipv4_is_loopback(uint32_t a);
bool ipv4_is_limited_bcast(uint32_t a);
uint32_t ipv4_mask(unsigned prefix_len);
char *ipv4_ntoa(uint32_t a, char buf[IPV4_ADDR_STRLEN]);
/* Parses "a.b.c.d"; 0 or -EINVAL. */
int ipv4_aton(const char *s, uint32_t *a);
/* Parses "a.b.c.d/len" (len defaults to 32 when absent); 0 or -EINVAL. */
int ipv4_parse_prefix(const char *s, uint32_t *a, unsigned *len);

#endif
