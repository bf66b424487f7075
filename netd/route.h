/*
 * route.h: the IPv4 routing table: longest-prefix match over a binary trie
 * whose nodes come from a fixed pool. Connected routes are added with each
 * interface address; static routes and the default gateway come from the
 * configuration.
 */
#ifndef NETD_ROUTE_H
#define NETD_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

struct netif;

enum route_origin { ROUTE_CONNECTED, ROUTE_STATIC, ROUTE_ADMIN };	/* ADMIN: added by netdctl */

struct route {
	uint32_t dst;		/* host order, masked to plen */
	uint8_t plen;
	uint32_t gw;		/* 0: destination is on the link */
	struct netif *nif;
	uint32_t src;		/* preferred source address */
	uint8_t origin;		/* enum route_origin */
};

struct route_node;

struct route_table {
	struct route_node *nodes;
	struct route_node *free_nodes;	/* chained through child[0] */
	unsigned nnodes;
	struct route *routes;
	unsigned max_routes, nroutes;
	struct route_node *root;
};

int route_table_init(struct route_table *t, unsigned max_routes);
void route_table_destroy(struct route_table *t);
/* 0, -EEXIST for the same prefix, -ENOSPC when full, -EINVAL for a bad prefix. */
int route_add(struct route_table *t, const struct route *r);
/* 0 or -ESRCH. */
int route_del(struct route_table *t, uint32_t dst, unsigned plen);
/* The most specific route covering dst, or NULL. */
const struct route *route_lookup(const struct route_table *t, uint32_t dst);
/* Calls fn for each route, most specific first. */
void route_walk(const struct route_table *t, void (*fn)(const struct route *, void *), void *arg);
/* Removes every route through nif. */
void route_flush_netif(struct route_table *t, struct netif *nif);

#endif
