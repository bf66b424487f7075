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
struct ctl;
struct loop_watch;

/* Called with the poll result (revents, or -errno) each time fd is ready.
 * After loop_unwatch, called once more with -ECANCELED: the watcher's
 * memory may be freed from then on. */
typedef void (*loop_watch_fn)(struct loop_watch *w, int res);

/* An fd the loop polls for readability on behalf of another module (the
 * control socket, client sessions). Embedded in its owner. */
struct loop_watch {
	int fd;
	loop_watch_fn fn;
	bool removing;
};

struct loop {
	struct stack *st;
	struct io_uring ring;
	int sigfd;
	bool stop;
	bool dump_stats;
	uint64_t last_rx;	/* when a frame or a client command last arrived */
	struct ctl *ctl;	/* the control socket and client sessions, or NULL */
	unsigned unwatching;	/* watches whose final callback is still to come */
};

/* 0 or -errno. Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 and takes them
 * through a signalfd. */
int loop_init(struct loop *l, struct stack *st);
/* Polls the devices of every interface; call after the interfaces exist. */
int loop_watch_devices(struct loop *l);
/* Polls w->fd (multishot) and calls w->fn on readiness; 0 or -errno. */
int loop_watch(struct loop *l, struct loop_watch *w);
/* Stops polling; w->fn gets -ECANCELED when w may be freed. */
void loop_unwatch(struct loop *l, struct loop_watch *w);
/* Waits (briefly) until every unwatched fd's final callback has run. */
void loop_settle(struct loop *l);
/* One turn that does not sleep (tests and fuzz targets drive the loop
 * themselves); 0 or -errno. */
int loop_turn(struct loop *l);
/* Runs until SIGTERM or SIGINT; 0 or -errno. */
int loop_run(struct loop *l);
void loop_destroy(struct loop *l);

#endif
