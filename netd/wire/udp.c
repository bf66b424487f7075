/*
 * udp.c: UDP header parse and emit (RFC 768; RFC 1122 4.1.3.4 for the
 * checksum, which netd always sends and checks when present).
 */
#include "config.h"

#include "../stats.h"
#include "../util.h"
#include "checksum.h"
#include "ipv4.h"
#include "udp.h"

int udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct udp_hdr *h)
{
	if (len < UDP_HLEN)
		return DROP_UDP_SHORT;
	h->sport = get_be16(buf);
	h->dport = get_be16(buf + 2);
	h->len = get_be16(buf + 4);
	h->csum = get_be16(buf + 6);
	if (h->len < UDP_HLEN || h->len > len)
		return DROP_UDP_SHORT;
	if (h->csum && csum_fold(csum_partial(buf, h->len, csum_pseudo(src, dst, IPPROTO_UDP_,
									h->len))) != 0)
		return DROP_UDP_CSUM;
	return 0;
}

void udp_emit(uint8_t *buf, struct udp_hdr *h, size_t plen, uint32_t src, uint32_t dst)
{
	h->len = (uint16_t)(UDP_HLEN + plen);
	put_be16(buf, h->sport);
	put_be16(buf + 2, h->dport);
	put_be16(buf + 4, h->len);
	put_be16(buf + 6, 0);
	uint16_t csum = csum_fold(csum_partial(buf, h->len, csum_pseudo(src, dst, IPPROTO_UDP_,
									  h->len)));
	h->csum = csum ? csum : 0xffff;
	put_be16(buf + 6, h->csum);
}
