/*
 * filter.h: filter hooks on the packet path, at the five points Linux
 * names: PRE_ROUTING (after validation), LOCAL_IN (before delivery),
 * FORWARD, LOCAL_OUT (locally built) and POST_ROUTING (before the device).
 * A hook is a list of functions; the first that says DROP drops the packet
 * with reason FILTER.
 */
#ifndef NETD_FILTER_H
#define NETD_FILTER_H

#include <stdbool.h>

struct nbuf;
struct ipv4_hdr;
struct stack;

enum filter_hook {
	HOOK_PRE_ROUTING,
	HOOK_LOCAL_IN,
	HOOK_FORWARD,
	HOOK_LOCAL_OUT,
	HOOK_POST_ROUTING,
	HOOK_MAX
};

enum filter_verdict { FILTER_ACCEPT, FILTER_DROP };

/* nb's data is at the IP header; h is that header, parsed. */
typedef enum filter_verdict (*filter_fn)(void *ctx, enum filter_hook hook,
					 const struct nbuf *nb, const struct ipv4_hdr *h);

#define FILTER_MAX 8

struct filter_table {
	struct {
		filter_fn fn;
		void *ctx;
	} entries[HOOK_MAX][FILTER_MAX];
	unsigned n[HOOK_MAX];
};

/* 0 or -ENOSPC. */
int filter_register(struct filter_table *t, enum filter_hook hook, filter_fn fn, void *ctx);
/* True when every function on the hook accepts. */
bool filter_accept(const struct filter_table *t, enum filter_hook hook, const struct nbuf *nb,
		   const struct ipv4_hdr *h);

#endif
