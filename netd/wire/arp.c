/*
 * arp.c: ARP parse and emit. Only htype 1 (Ethernet), ptype 0x0800, hlen 6
 * and plen 4 are accepted; other ARP packets are well-formed but
 * unsupported, and so dropped with their own reason.
 */
#include "config.h"

#include <string.h>

#include "../stats.h"
#include "../util.h"
#include "arp.h"

int arp_parse(const uint8_t *buf, size_t len, struct arp_pkt *a)
{
	if (len < 8)
		return DROP_ARP_MALFORMED;
	uint16_t htype = get_be16(buf), ptype = get_be16(buf + 2);
	uint8_t hlen = buf[4], plen = buf[5];
	if (len < 8 + 2 * (size_t)(hlen + plen))
		return DROP_ARP_MALFORMED;
	if (htype != 1 || ptype != ETHERTYPE_IPV4 || hlen != ETH_ALEN || plen != 4)
		return DROP_ARP_UNSUPPORTED;
	a->op = get_be16(buf + 6);
	if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
		return DROP_ARP_UNSUPPORTED;
	memcpy(a->sha, buf + 8, ETH_ALEN);
	a->spa = get_be32(buf + 14);
	memcpy(a->tha, buf + 18, ETH_ALEN);
	a->tpa = get_be32(buf + 24);
	return 0;
}

void arp_emit(uint8_t *buf, const struct arp_pkt *a)
{
	put_be16(buf, 1);
	put_be16(buf + 2, ETHERTYPE_IPV4);
	buf[4] = ETH_ALEN;
	buf[5] = 4;
	put_be16(buf + 6, a->op);
	memcpy(buf + 8, a->sha, ETH_ALEN);
	put_be32(buf + 14, a->spa);
	memcpy(buf + 18, a->tha, ETH_ALEN);
	put_be32(buf + 24, a->tpa);
}
