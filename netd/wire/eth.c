/*
 * eth.c: Ethernet II parse and emit, and MAC address helpers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../stats.h"
#include "../util.h"
#include "eth.h"

const uint8_t eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int eth_parse(const uint8_t *buf, size_t len, struct eth_hdr *h)
{
	if (len < ETH_HLEN)
		return DROP_ETH_SHORT;
	memcpy(h->dst, buf, ETH_ALEN);
	memcpy(h->src, buf + 6, ETH_ALEN);
	h->type = get_be16(buf + 12);
	return 0;
}

void eth_emit(uint8_t *buf, const struct eth_hdr *h)
{
	memcpy(buf, h->dst, ETH_ALEN);
	memcpy(buf + 6, h->src, ETH_ALEN);
	put_be16(buf + 12, h->type);
}

bool eth_is_broadcast(const uint8_t *mac)
{
	return memcmp(mac, eth_broadcast, ETH_ALEN) == 0;
}

bool eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

bool eth_is_zero(const uint8_t *mac)
{
	static const uint8_t zero[ETH_ALEN];
	return memcmp(mac, zero, ETH_ALEN) == 0;
}

void eth_ipv4_mcast(uint32_t group, uint8_t *mac)
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (group >> 16) & 0x7f;
	mac[4] = (group >> 8) & 0xff;
	mac[5] = group & 0xff;
}

char *eth_ntoa(const uint8_t *mac, char buf[ETH_MAC_STRLEN])
{
	snprintf(buf, ETH_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

int eth_aton(const char *s, uint8_t *mac)
{
	unsigned v[ETH_ALEN];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &tail) != ETH_ALEN)
		return -EINVAL;
	for (unsigned i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}
