/*
 * icmp.c: ICMP header parse and emit.
 */
#include "config.h"

#include "../stats.h"
#include "../util.h"
#include "checksum.h"
#include "icmp.h"

int icmp_parse(const uint8_t *buf, size_t len, struct icmp_hdr *h)
{
	if (len < ICMP_HLEN)
		return DROP_ICMP_MALFORMED;
	if (inet_csum(buf, len) != 0)
		return DROP_ICMP_CSUM;
	h->type = buf[0];
	h->code = buf[1];
	h->csum = get_be16(buf + 2);
	h->rest = get_be32(buf + 4);
	return 0;
}

void icmp_emit(uint8_t *buf, size_t len, const struct icmp_hdr *h)
{
	buf[0] = h->type;
	buf[1] = h->code;
	put_be16(buf + 2, 0);
	put_be32(buf + 4, h->rest);
	put_be16(buf + 2, inet_csum(buf, len));
}

bool icmp_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return true;
	default:
		return false;
	}
}
