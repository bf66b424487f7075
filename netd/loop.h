/*
 * loop.h: the data-plane loop. Run to completion, one turn at a time:
 * read a batch from every device that has frames, deliver loopback
 * datagrams, fire due timers, flush every transmit batch, then one
 * io_uring_enter that submits the writes and waits for device readiness,
 * write completions, signals or the next timer. For busy_poll_us after
 * the last received frame the loop does not sleep but keeps reading its
 * devices (spin, then sleep): back-to-back traffic never pays a wake-up.
 */
#ifndef NETD_LOOP_H
#define NETD_LOOP_H

#include <liburing.h>
#include <stdbool.h>

struct stack;

struct loop {
	struct stack *st;
	struct io_uring ring;
	int sigfd;
	bool stop;
	bool dump_stats;
	uint64_t last_rx;	/* when a frame last arrived */
};

/* 0 or -errno. Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 and takes them
 * through a signalfd. */
int loop_init(struct loop *l, struct stack *st);
/* Polls the devices of every interface; call after the interfaces exist. */
int loop_watch_devices(struct loop *l);
/* Runs until SIGTERM or SIGINT; 0 or -errno. */
int loop_run(struct loop *l);
void loop_destroy(struct loop *l);

#endif
