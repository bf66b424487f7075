/*
 * ipv4.c: IPv4 header parse, validation and emit. Options are walked
 * (RFC 791 3.1) only to prove their lengths stay inside the header; netd
 * acts on none of them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stats.h"
#include "../util.h"
#include "checksum.h"
#include "ipv4.h"

size_t ipv4_options_error(const uint8_t *hdr, size_t hlen)
{
	size_t i = IPV4_HLEN;
	while (i < hlen) {
		uint8_t type = hdr[i];
		if (type == IPV4_OPT_EOL)
			return 0;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return i;
		if (hdr[i + 1] < 2 || hdr[i + 1] > hlen - i)
			return i + 1;
		i += hdr[i + 1];
	}
	return 0;
}

int ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_hdr *h)
{
	if (len < IPV4_HLEN)
		return DROP_IP_SHORT;
	if (buf[0] >> 4 != 4)
		return DROP_IP_VERSION;
	h->hlen = (uint8_t)((buf[0] & 0x0f) * 4);
	if (h->hlen < IPV4_HLEN || h->hlen > len)
		return DROP_IP_HDRLEN;
	h->total_len = get_be16(buf + 2);
	if (h->total_len < h->hlen || h->total_len > len)
		return DROP_IP_TOTLEN;
	if (inet_csum(buf, h->hlen) != 0)
		return DROP_IP_CSUM;
	h->tos = buf[1];
	h->id = get_be16(buf + 4);
	uint16_t frag = get_be16(buf + 6);
	h->df = frag & IP_DF;
	h->mf = frag & IP_MF;
	h->frag_off = (uint16_t)((frag & IP_OFFMASK) * 8);
	h->ttl = buf[8];
	h->proto = buf[9];
	h->csum = get_be16(buf + 10);
	h->src = get_be32(buf + 12);
	h->dst = get_be32(buf + 16);
	if (ipv4_options_error(buf, h->hlen))
		return DROP_IP_OPTIONS;	/* h is filled in, for the ICMP error */
	return 0;
}

void ipv4_set_csum(uint8_t *buf, size_t hlen)
{
	put_be16(buf + 10, 0);
	put_be16(buf + 10, inet_csum(buf, hlen));
}

void ipv4_emit(uint8_t *buf, const struct ipv4_hdr *h)
{
	buf[0] = 0x45;
	buf[1] = h->tos;
	put_be16(buf + 2, h->total_len);
	put_be16(buf + 4, h->id);
	put_be16(buf + 6, (uint16_t)((h->df ? IP_DF : 0) | (h->mf ? IP_MF : 0) |
				     ((h->frag_off / 8) & IP_OFFMASK)));
	buf[8] = h->ttl;
	buf[9] = h->proto;
	put_be32(buf + 12, h->src);
	put_be32(buf + 16, h->dst);
	ipv4_set_csum(buf, IPV4_HLEN);
}

size_t ipv4_copied_options(const uint8_t *hdr, size_t hlen, uint8_t *out)
{
	size_t i = IPV4_HLEN, n = 0;
	while (i < hlen) {
		uint8_t type = hdr[i];
		if (type == IPV4_OPT_EOL)
			break;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		uint8_t olen = hdr[i + 1];	/* validated by ipv4_parse */
		if (IPV4_OPT_COPIED(type)) {
			memcpy(out + n, hdr + i, olen);
			n += olen;
		}
		i += olen;
	}
	while (n % 4)
		out[n++] = IPV4_OPT_EOL;
	return n;
}

bool ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

bool ipv4_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

bool ipv4_is_limited_bcast(uint32_t a)
{
	return a == 0xffffffff;
}

uint32_t ipv4_mask(unsigned prefix_len)
{
	return prefix_len == 0 ? 0 : 0xffffffffU << (32 - prefix_len);
}

char *ipv4_ntoa(uint32_t a, char buf[IPV4_ADDR_STRLEN])
{
	snprintf(buf, IPV4_ADDR_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return buf;
}

int ipv4_aton(const char *s, uint32_t *a)
{
	struct in_addr in;
	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*a = ntohl(in.s_addr);
	return 0;
}

int ipv4_parse_prefix(const char *s, uint32_t *a, unsigned *len)
{
	char addr[IPV4_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (ipv4_aton(addr, a) < 0)
		return -EINVAL;
	*len = 32;
	if (slash) {
		char *end;
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || l > 32)
			return -EINVAL;
		*len = (unsigned)l;
	}
	return 0;
}
