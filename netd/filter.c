/*
 * filter.c: the filter hooks of filter.h.
 */
#include "config.h"

#include <errno.h>

#include "filter.h"

int filter_register(struct filter_table *t, enum filter_hook hook, filter_fn fn, void *ctx)
{
	if ((unsigned)hook >= HOOK_MAX || t->n[hook] >= FILTER_MAX)
		return -ENOSPC;
	t->entries[hook][t->n[hook]].fn = fn;
	t->entries[hook][t->n[hook]].ctx = ctx;
	t->n[hook]++;
	return 0;
}

bool filter_accept(const struct filter_table *t, enum filter_hook hook, const struct nbuf *nb,
		   const struct ipv4_hdr *h)
{
	for (unsigned i = 0; i < t->n[hook]; i++)
		if (t->entries[hook][i].fn(t->entries[hook][i].ctx, hook, nb, h) == FILTER_DROP)
			return false;
	return true;
}
