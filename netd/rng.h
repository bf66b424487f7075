/*
 * rng.h: a small seeded generator (xoshiro256**, seeded by splitmix64) for
 * everything in netd that wants randomness: the same seed gives the same
 * run, which packet tests and the fault injector rely on.
 */
#ifndef NETD_RNG_H
#define NETD_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_double(struct rng *r);
/* A seed from the kernel's entropy, for production runs. */
uint64_t rng_entropy_seed(void);

#endif
