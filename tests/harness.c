/*
 * harness.c: the packet-test harness of harness.h.
 */
#include "config.h"

#include <assert.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "netd/util.h"
#include "netd/wire/checksum.h"

const uint8_t h_our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t h_peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void harness_params(struct stack_params *p)
{
	stack_params_default(p);
	p->seed = 1;
	p->pool_small = 512;
	p->pool_large = 8;
}

void harness_init_params(struct harness *h, const struct stack_params *p)
{
	struct netdev_env env_stack, env_peer;
	struct netdev *dev;
	struct nbuf_pool_config pc = {
		.small_size = 4096, .small_count = 256, .large_size = 70000, .large_count = 4,
	};
	int err;

	memset(h, 0, sizeof(*h));
	h->st = stack_create(p, true, &err);
	ck_assert_ptr_nonnull(h->st);
	ck_assert_int_eq(nbuf_pool_init(&h->peer_pool, &pc), 0);
	stack_dev_env(h->st, &env_stack, NULL);
	memset(&env_peer, 0, sizeof(env_peer));
	env_peer.pool = &h->peer_pool;
	ck_assert_int_eq(mem_pair_open(&env_stack, &env_peer, &dev, &h->peer), 0);
	h->nif = netif_add(h->st, dev, h_our_mac, 1500);
	ck_assert_ptr_nonnull(h->nif);
	ck_assert_int_eq(netif_add_addr(h->nif, H_OUR_IP, 24), 0);
	netif_up(h->nif);
	struct frame f;
	ck_assert_uint_eq(harness_take(h, &f), ETH_HLEN + ARP_LEN);	/* gratuitous ARP */
}

void harness_init(struct harness *h)
{
	struct stack_params p;
	harness_params(&p);
	harness_init_params(h, &p);
}

void harness_teardown(struct harness *h)
{
	struct frame f;
	while (harness_take(h, &f))
		;
	sock_table_destroy(&h->st->socks);
	neigh_table_destroy(h->st, &h->st->neigh);
	reasm_table_destroy(h->st, &h->st->reasm);
	nbuf_queue_purge(&h->st->loopback);
	ck_assert_uint_eq(nbuf_pool_in_use(&h->st->pool), 0);
	stack_destroy(h->st);	/* also destroys the peer end's partner */
	netdev_destroy(h->peer);
	ck_assert_uint_eq(nbuf_pool_in_use(&h->peer_pool), 0);
	nbuf_pool_destroy(&h->peer_pool);
}

/* What a loop turn does, until nothing is left to do: receive, loopback,
 * owners' callbacks, transmit. */
static void harness_settle(struct harness *h)
{
	while (h->st->loopback.len || h->nif->dev->ops->rx_pending(h->nif->dev) ||
	       h->st->socks.ready) {
		netif_poll(h->nif, 1024);
		ip_loopback_run(h->st);
		sock_run_ready(h->st);
	}
	netif_flush(h->nif);
}

void harness_inject(struct harness *h, const void *frame, size_t len)
{
	ck_assert_int_eq(mem_inject(h->peer, frame, (unsigned)len), 0);
	harness_settle(h);
}

size_t harness_take(struct harness *h, struct frame *f)
{
	harness_settle(h);
	struct nbuf *nb = mem_take(h->peer);
	if (!nb)
		return 0;
	f->len = nbuf_len(nb);
	ck_assert_uint_le(f->len, sizeof(f->b));
	memcpy(f->b, nb->data, f->len);
	nbuf_free(nb);
	return f->len;
}

unsigned harness_pending(struct harness *h)
{
	harness_settle(h);
	return mem_rx_queued(h->peer);
}

void harness_advance(struct harness *h, unsigned ms)
{
	stack_advance(h->st, MSEC(ms));
	harness_settle(h);
}

void harness_learn_peer(struct harness *h)
{
	struct frame f;
	size_t n = build_arp(&f, eth_broadcast, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP,
			     (const uint8_t[6]){0}, H_OUR_IP);
	harness_inject(h, f.b, n);
	ck_assert_uint_eq(harness_take(h, &f), ETH_HLEN + ARP_LEN);
}

static size_t put_eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	struct eth_hdr eh = {.type = type};
	memcpy(eh.dst, dst, 6);
	memcpy(eh.src, src, 6);
	eth_emit(f->b, &eh);
	return ETH_HLEN;
}

size_t build_arp(struct frame *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
		 uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct arp_pkt a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, 6);
	memcpy(a.tha, tha, 6);
	size_t off = put_eth(f, eth_dst, sha, ETHERTYPE_ARP);
	arp_emit(f->b + off, &a);
	f->len = off + ARP_LEN;
	return f->len;
}

size_t build_ipv4(struct frame *f, const uint8_t *eth_dst, const struct ipv4_hdr *hdr,
		  const void *payload, size_t plen)
{
	size_t off = put_eth(f, eth_dst, h_peer_mac, ETHERTYPE_IPV4);
	struct ipv4_hdr h = *hdr;
	h.total_len = (uint16_t)(IPV4_HLEN + plen);
	assert(off + IPV4_HLEN + plen <= sizeof(f->b));
	ipv4_emit(f->b + off, &h);
	memcpy(f->b + off + IPV4_HLEN, payload, plen);
	f->len = off + IPV4_HLEN + plen;
	return f->len;
}

size_t build_echo(struct frame *f, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		  size_t n)
{
	static uint8_t msg[H_FRAME_MAX];
	struct icmp_hdr ih = {.type = ICMP_ECHO, .rest = (uint32_t)id << 16 | seq};
	for (size_t i = 0; i < n; i++)
		msg[ICMP_HLEN + i] = (uint8_t)(i * 7 + seq);
	icmp_emit(msg, ICMP_HLEN + n, &ih);
	struct ipv4_hdr h = {.ttl = 64, .proto = IPPROTO_ICMP_, .src = src, .dst = dst,
			     .id = seq};
	return build_ipv4(f, h_our_mac, &h, msg, ICMP_HLEN + n);
}

const uint8_t *frame_ipv4(const struct frame *f, struct eth_hdr *eh, struct ipv4_hdr *ih)
{
	if (eth_parse(f->b, f->len, eh) || eh->type != ETHERTYPE_IPV4)
		return NULL;
	if (ipv4_parse(f->b + ETH_HLEN, f->len - ETH_HLEN, ih))
		return NULL;
	return f->b + ETH_HLEN + ih->hlen;
}
