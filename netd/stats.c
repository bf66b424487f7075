/*
 * stats.c: names and texts of the drop reasons and counters of stats.h.
 */
#include "config.h"

#include <inttypes.h>

#include "stats.h"

static const char *const drop_names[DROP_MAX] = {
	[DROP_NONE] = "NONE",
#define X(name, text) [DROP_##name] = #name,
	DROP_REASONS(X)
#undef X
};

static const char *const drop_texts[DROP_MAX] = {
	[DROP_NONE] = "not dropped",
#define X(name, text) [DROP_##name] = text,
	DROP_REASONS(X)
#undef X
};

static const char *const stat_names[STAT_MAX] = {
#define X(name) [STAT_##name] = #name,
	STAT_COUNTERS(X)
#undef X
};

const char *drop_reason_name(enum drop_reason r)
{
	return (unsigned)r < DROP_MAX ? drop_names[r] : "?";
}

const char *drop_reason_text(enum drop_reason r)
{
	return (unsigned)r < DROP_MAX ? drop_texts[r] : "?";
}

const char *stat_name(enum stat_counter s)
{
	return (unsigned)s < STAT_MAX ? stat_names[s] : "?";
}

void stats_print(FILE *f, const uint64_t *stats, const uint64_t *drops)
{
	for (unsigned i = 0; i < STAT_MAX; i++)
		if (stats[i])
			fprintf(f, "%-24s %" PRIu64 "\n", stat_names[i], stats[i]);
	for (unsigned i = 1; i < DROP_MAX; i++)
		if (drops[i])
			fprintf(f, "drop %-19s %" PRIu64 "  (%s)\n", drop_names[i], drops[i],
				drop_texts[i]);
}
