/*
 * route.c: the routing table of route.h. A binary trie over the address
 * bits, one level per bit, holds each route at the node of its prefix;
 * lookup walks at most 32 levels and keeps the deepest route it passes,
 * which is the longest matching prefix. Nodes and routes come from arrays
 * sized at start (a route slot is free while its nif is NULL); deleting a
 * route prunes the nodes it no longer needs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "wire/ipv4.h"

struct route_node {
	struct route_node *child[2];
	struct route *route;
};

static unsigned bit_at(uint32_t addr, unsigned depth)
{
	return (addr >> (31 - depth)) & 1;
}

static struct route_node *node_alloc(struct route_table *t)
{
	struct route_node *n = t->free_nodes;
	if (n) {
		t->free_nodes = n->child[0];
		memset(n, 0, sizeof(*n));
	}
	return n;
}

static void node_free(struct route_table *t, struct route_node *n)
{
	n->child[0] = t->free_nodes;
	n->child[1] = NULL;
	n->route = NULL;
	t->free_nodes = n;
}

int route_table_init(struct route_table *t, unsigned max_routes)
{
	memset(t, 0, sizeof(*t));
	t->nnodes = max_routes * 32 + 1;
	t->nodes = calloc(t->nnodes, sizeof(*t->nodes));
	t->routes = calloc(max_routes, sizeof(*t->routes));
	if (!t->nodes || !t->routes) {
		route_table_destroy(t);
		return -ENOMEM;
	}
	t->max_routes = max_routes;
	for (unsigned i = t->nnodes; i-- > 0;)
		node_free(t, &t->nodes[i]);
	t->root = node_alloc(t);
	return 0;
}

void route_table_destroy(struct route_table *t)
{
	free(t->nodes);
	free(t->routes);
	t->nodes = NULL;
	t->routes = NULL;
}

static struct route *route_slot(struct route_table *t)
{
	for (unsigned i = 0; i < t->max_routes; i++)
		if (!t->routes[i].nif)
			return &t->routes[i];
	return NULL;
}

int route_add(struct route_table *t, const struct route *r)
{
	if (r->plen > 32 || (r->dst & ~ipv4_mask(r->plen)) || !r->nif)
		return -EINVAL;
	if (t->nroutes >= t->max_routes)
		return -ENOSPC;
	struct route_node *n = t->root;
	for (unsigned d = 0; d < r->plen; d++) {
		struct route_node **next = &n->child[bit_at(r->dst, d)];
		if (!*next && !(*next = node_alloc(t)))
			return -ENOSPC;
		n = *next;
	}
	if (n->route)
		return -EEXIST;
	n->route = route_slot(t);
	*n->route = *r;
	t->nroutes++;
	return 0;
}

int route_del(struct route_table *t, uint32_t dst, unsigned plen)
{
	struct route_node *path[33];
	struct route_node *n = t->root;

	if (plen > 32)
		return -ESRCH;
	path[0] = n;
	for (unsigned d = 0; d < plen && n; d++) {
		n = n->child[bit_at(dst, d)];
		path[d + 1] = n;
	}
	if (!n || !n->route)
		return -ESRCH;
	memset(n->route, 0, sizeof(*n->route));
	n->route = NULL;
	t->nroutes--;
	/* Prune the nodes left with neither route nor children. */
	for (unsigned d = plen; d > 0; d--) {
		struct route_node *c = path[d];
		if (c->route || c->child[0] || c->child[1])
			break;
		path[d - 1]->child[bit_at(dst, d - 1)] = NULL;
		node_free(t, c);
	}
	return 0;
}

const struct route *route_lookup(const struct route_table *t, uint32_t dst)
{
	const struct route_node *n = t->root;
	const struct route *best = n->route;

	for (unsigned d = 0; d < 32; d++) {
		n = n->child[bit_at(dst, d)];
		if (!n)
			break;
		if (n->route)
			best = n->route;
	}
	return best;
}

static int by_specificity(const void *a, const void *b)
{
	const struct route *x = *(const struct route *const *)a;
	const struct route *y = *(const struct route *const *)b;
	if (x->plen != y->plen)
		return y->plen - x->plen;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

void route_walk(const struct route_table *t, void (*fn)(const struct route *, void *), void *arg)
{
	const struct route **sorted = malloc(t->max_routes * sizeof(*sorted) + 1);
	unsigned n = 0;

	if (!sorted)
		return;
	for (unsigned i = 0; i < t->max_routes; i++)
		if (t->routes[i].nif)
			sorted[n++] = &t->routes[i];
	qsort(sorted, n, sizeof(sorted[0]), by_specificity);
	for (unsigned i = 0; i < n; i++)
		fn(sorted[i], arg);
	free(sorted);
}

void route_flush_netif(struct route_table *t, struct netif *nif)
{
	for (unsigned i = 0; i < t->max_routes; i++)
		if (t->routes[i].nif == nif)
			route_del(t, t->routes[i].dst, t->routes[i].plen);
}
