/*
 * sim.h: two netd stacks in one process, joined by an in-memory wire with
 * an optional fault injector on each end, moving a stream of bytes over
 * one TCP connection from a to b. Both clocks are virtual and move
 * together, a millisecond at a time, only when neither stack has anything
 * left to do. Used by the simulation test and the stack-only benchmark.
 */
#ifndef NETD_TESTS_SIM_H
#define NETD_TESTS_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "netd/stack.h"

struct sim_host {
	struct stack *st;
	struct netif *nif;
};

struct sim {
	struct sim_host a, b;		/* a sends, b receives */
	struct sock *tx, *listener, *rx;
	uint64_t total, sent, received;
	uint64_t tx_hash, rx_hash;
	bool tx_closed, rx_eof;
	bool unchecked;			/* send zeros, hash nothing: to time the stack alone */
};

/* Builds both stacks and the wire; fa and fb (may be NULL) are the faults
 * on a's and b's end. */
void sim_link(struct sim *s, const struct fault_config *fa, const struct fault_config *fb);
/* Opens the connection for a stream of total bytes. */
void sim_open(struct sim *s, uint64_t total);
/* Runs until b has the whole stream and its end, or limit_s of virtual time. */
void sim_transfer(struct sim *s, unsigned limit_s);
/* Closes everything, lets TIME_WAIT pass, checks that no socket or buffer
 * is left, and frees both stacks. */
void sim_finish(struct sim *s);

#endif
