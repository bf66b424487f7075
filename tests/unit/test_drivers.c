/*
 * test_drivers.c: unit tests of the in-memory device pair, the pcap tee and
 * the fault injector. Every test builds its own small pools, a virtual
 * clock and a timer wheel, wires two mem ends together (wrapping one end
 * where the test says), moves frames, and at teardown destroys the devices
 * and checks that no buffer leaked. The TAP and AF_PACKET drivers need real
 * devices and are tested end to end in network namespaces instead.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/netdev.h"
#include "netd/clock.h"
#include "netd/nbuf.h"
#include "netd/stats.h"
#include "netd/timer.h"
#include "netd/util.h"

#define BUF_SIZE 2048	/* room for headroom and a 1518-byte frame, and more */
#define T0 SEC(1000)		/* the virtual clock's start */
#define ETHERTYPE_TEST 0x88b5	/* IEEE local experimental */
#define FRAME_LEN 100

/* Counts what a device reported dropped, by reason, and frees it. */
struct drop_log {
	unsigned by_reason[DROP_MAX];
	unsigned total;
};

static void drop_record(void *ctx, struct nbuf *nb, int reason)
{
	struct drop_log *log = ctx;

	ck_assert_int_gt(reason, DROP_NONE);
	ck_assert_int_lt(reason, DROP_MAX);
	log->by_reason[reason]++;
	log->total++;
	nbuf_free(nb);
}

/* Two mem ends, a and b, each with its own pool and drop log, sharing a
 * virtual clock and a timer wheel. */
struct rig {
	struct nbuf_pool pool_a, pool_b;
	struct clock clock;
	struct timer_wheel wheel;
	struct drop_log drops_a, drops_b;
	struct netdev_env env_a, env_b;
	struct netdev *a, *b;
};

static void pool_init(struct nbuf_pool *p, unsigned count)
{
	struct nbuf_pool_config cfg = { .small_size = BUF_SIZE, .small_count = count };

	ck_assert_int_eq(nbuf_pool_init(p, &cfg), 0);
}

static struct rig *rig_new(unsigned count_a, unsigned count_b)
{
	struct rig *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	pool_init(&r->pool_a, count_a);
	pool_init(&r->pool_b, count_b);
	clock_init_virtual(&r->clock, T0);
	timer_wheel_init(&r->wheel, T0);
	r->env_a = (struct netdev_env){ .pool = &r->pool_a, .timers = &r->wheel,
					.clock = &r->clock, .drop = drop_record,
					.drop_ctx = &r->drops_a };
	r->env_b = r->env_a;
	r->env_b.pool = &r->pool_b;
	r->env_b.drop_ctx = &r->drops_b;
	ck_assert_int_eq(mem_pair_open(&r->env_a, &r->env_b, &r->a, &r->b), 0);
	return r;
}

/* Destroys both ends (and their wrappers) and checks nothing leaked. */
static void rig_free(struct rig *r)
{
	netdev_destroy(r->a);
	netdev_destroy(r->b);
	ck_assert_uint_eq(nbuf_pool_in_use(&r->pool_a), 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&r->pool_b), 0);
	ck_assert_uint_eq(r->wheel.pending, 0);
	nbuf_pool_destroy(&r->pool_a);
	nbuf_pool_destroy(&r->pool_b);
	free(r);
}

static void advance(struct rig *r, uint64_t ns)
{
	clock_set(&r->clock, r->clock.now + ns);
	timer_run(&r->wheel, r->clock.now);
}

/* The first len bytes of test frame seq: MACs, our ethertype, seq, then
 * a pattern. */
static void frame_bytes(uint8_t *b, unsigned seq, size_t len)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa };
	uint8_t full[BUF_SIZE];

	ck_assert_uint_le(len, sizeof(full));
	memcpy(full, macs, sizeof(macs));
	put_be16(full + 12, ETHERTYPE_TEST);
	put_be32(full + 14, seq);
	for (size_t i = 18; i < len; i++)
		full[i] = (uint8_t)(seq * 7 + i);
	memcpy(b, full, len);
}

static struct nbuf *make_frame(struct nbuf_pool *p, unsigned seq, size_t len)
{
	struct nbuf *nb = nbuf_alloc(p, BUF_SIZE);

	ck_assert_ptr_nonnull(nb);
	nbuf_reserve(nb, NETDEV_RX_HEADROOM);
	frame_bytes(nbuf_put(nb, len), seq, len);
	return nb;
}

static unsigned frame_seq(const struct nbuf *nb)
{
	return get_be32(nb->data + 14);
}

static void check_frame(const struct nbuf *nb, unsigned seq, size_t len)
{
	uint8_t want[BUF_SIZE];

	frame_bytes(want, seq, len);
	ck_assert_uint_eq(nbuf_len(nb), len);
	ck_assert_mem_eq(nb->data, want, len);
}

/* Sends frames first..first+n-1 on dev; all must be taken. */
static void send_frames(struct netdev *dev, struct nbuf_pool *p, unsigned first, int n)
{
	struct nbuf *nbs[NETDEV_BATCH];

	ck_assert_int_le(n, NETDEV_BATCH);
	for (int i = 0; i < n; i++)
		nbs[i] = make_frame(p, first + (unsigned)i, FRAME_LEN);
	ck_assert_int_eq(dev->ops->tx_burst(dev, nbs, n), n);
}

/* Receives everything dev has now into seqs (frames are freed); returns the count. */
static unsigned recv_seqs(struct netdev *dev, unsigned *seqs, unsigned cap)
{
	struct nbuf *nbs[NETDEV_BATCH];
	unsigned total = 0;
	int n;

	while ((n = dev->ops->rx_burst(dev, nbs, NETDEV_BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			ck_assert_uint_lt(total, cap);
			seqs[total++] = frame_seq(nbs[i]);
			nbuf_free(nbs[i]);
		}
	}
	ck_assert_int_eq(n, 0);
	return total;
}

static void inject_frame(struct netdev *dev, unsigned seq, size_t len)
{
	uint8_t b[BUF_SIZE];

	frame_bytes(b, seq, len);
	ck_assert_int_eq(mem_inject(dev, b, (unsigned)len), 0);
}

/* ---- mem ---- */

static void check_one_way(struct netdev *from, struct nbuf_pool *from_pool,
			  struct netdev *to, struct nbuf_pool *to_pool)
{
	struct nbuf *nbs[8];

	send_frames(from, from_pool, 10, 3);
	ck_assert_uint_eq(nbuf_pool_in_use(from_pool), 0);	/* originals freed */
	ck_assert(to->ops->rx_pending(to));
	ck_assert_int_eq(to->ops->rx_burst(to, nbs, 8), 3);
	ck_assert(!to->ops->rx_pending(to));
	for (int i = 0; i < 3; i++) {
		check_frame(nbs[i], 10 + (unsigned)i, FRAME_LEN);
		ck_assert_ptr_eq(nbs[i]->pool, to_pool);
		ck_assert_uint_eq(nbuf_headroom(nbs[i]), NETDEV_RX_HEADROOM);
		nbuf_free(nbs[i]);
	}
	ck_assert_int_eq(to->ops->rx_burst(to, nbs, 8), 0);
	ck_assert_uint_eq(from->stats.tx_packets, 3);
	ck_assert_uint_eq(from->stats.tx_bytes, 3 * FRAME_LEN);
	ck_assert_uint_eq(to->stats.rx_packets, 3);
	ck_assert_uint_eq(to->stats.rx_bytes, 3 * FRAME_LEN);
}

START_TEST(mem_copies_both_ways)
{
	struct rig *r = rig_new(16, 16);

	ck_assert_uint_eq(r->a->mtu, 1500);
	ck_assert_int_eq(r->a->ops->rx_fd(r->a), -1);
	ck_assert(!r->a->ops->rx_pending(r->a));
	check_one_way(r->a, &r->pool_a, r->b, &r->pool_b);
	check_one_way(r->b, &r->pool_b, r->a, &r->pool_a);
	rig_free(r);
}
END_TEST

START_TEST(mem_queue_bound)
{
	struct rig *r = rig_new(64, 4200);
	unsigned sent = 0;

	/* Fill b's receive queue to its bound (4096) and 5 beyond. */
	while (sent < 4096 + 5) {
		send_frames(r->a, &r->pool_a, sent, 32);
		sent += 32;
	}
	ck_assert_uint_eq(mem_rx_queued(r->b), 4096);
	ck_assert_uint_eq(r->b->stats.rx_dropped, sent - 4096);
	ck_assert_uint_eq(r->a->stats.tx_packets, sent);
	ck_assert_uint_eq(r->drops_a.total, 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&r->pool_b), 4096);
	/* The queue keeps the first 4096, in order; injecting now fails. */
	uint8_t frame[FRAME_LEN];
	frame_bytes(frame, 0, sizeof(frame));
	ck_assert_int_eq(mem_inject(r->a, frame, sizeof(frame)), -ENOBUFS);
	struct nbuf *nb = mem_take(r->b);
	check_frame(nb, 0, FRAME_LEN);
	nbuf_free(nb);
	ck_assert_int_eq(mem_inject(r->a, frame, sizeof(frame)), 0);
	ck_assert_uint_eq(mem_rx_queued(r->b), 4096);
	rig_free(r);	/* destroy frees the frames still queued */
}
END_TEST

START_TEST(mem_receiver_pool_dry)
{
	struct rig *r = rig_new(8, 2);

	send_frames(r->a, &r->pool_a, 0, 3);	/* all three taken */
	ck_assert_uint_eq(mem_rx_queued(r->b), 2);
	ck_assert_uint_eq(r->drops_a.by_reason[DROP_NOMEM], 1);
	ck_assert_uint_eq(r->a->stats.tx_dropped, 1);
	ck_assert_uint_eq(r->b->stats.rx_dropped, 1);
	ck_assert_uint_eq(nbuf_pool_in_use(&r->pool_a), 0);
	rig_free(r);
}
END_TEST

START_TEST(mem_oversize_is_tx_error)
{
	struct rig *r = rig_new(8, 8);
	struct nbuf *nb = make_frame(&r->pool_a, 1, 1500 + 18);

	ck_assert_int_eq(r->a->ops->tx_burst(r->a, &nb, 1), 1);	/* largest that fits */
	nb = make_frame(&r->pool_a, 2, 1500 + 19);
	ck_assert_int_eq(r->a->ops->tx_burst(r->a, &nb, 1), 1);
	ck_assert_uint_eq(r->a->stats.tx_errors, 1);
	ck_assert_uint_eq(r->drops_a.by_reason[DROP_DEV_TX_ERROR], 1);
	ck_assert_uint_eq(mem_rx_queued(r->b), 1);
	rig_free(r);
}
END_TEST

START_TEST(mem_inject_and_take)
{
	struct rig *r = rig_new(2, 4);
	uint8_t big[1600];

	/* The peer (b) injects: a receives. */
	inject_frame(r->b, 7, 60);
	inject_frame(r->b, 8, 14);
	ck_assert_uint_eq(mem_rx_queued(r->a), 2);
	ck_assert_uint_eq(r->b->stats.tx_packets, 2);
	frame_bytes(big, 9, sizeof(big));
	ck_assert_int_eq(mem_inject(r->b, big, 1500 + 19), -EMSGSIZE);
	ck_assert_int_eq(mem_inject(r->b, big, 60), -ENOBUFS);	/* a's pool (2) is dry */
	ck_assert_uint_eq(r->a->stats.rx_dropped, 1);
	struct nbuf *nbs[4];
	ck_assert_int_eq(r->a->ops->rx_burst(r->a, nbs, 4), 2);
	check_frame(nbs[0], 7, 60);
	check_frame(nbs[1], 8, 14);
	/* a sends them back: the peer takes them one by one. */
	ck_assert_int_eq(r->a->ops->tx_burst(r->a, nbs, 2), 2);
	ck_assert_uint_eq(mem_rx_queued(r->b), 2);
	struct nbuf *nb = mem_take(r->b);
	check_frame(nb, 7, 60);
	nbuf_free(nb);
	nb = mem_take(r->b);
	check_frame(nb, 8, 14);
	nbuf_free(nb);
	ck_assert_ptr_null(mem_take(r->b));
	ck_assert_uint_eq(mem_rx_queued(r->b), 0);
	rig_free(r);
}
END_TEST

/* ---- A stub device that takes at most `limit` frames per burst ---- */

struct stub {
	struct netdev dev;
	int limit;
	unsigned taken;
};

static int stub_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	return 0;
}

static int stub_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	struct stub *s = dev->priv;
	int k = MIN(n, s->limit);

	for (int i = 0; i < k; i++)
		nbuf_free(nbs[i]);
	s->taken += (unsigned)k;
	return k;
}

static int stub_rx_fd(struct netdev *dev)
{
	return 42;
}

static bool stub_rx_pending(struct netdev *dev)
{
	return false;
}

static void stub_destroy(struct netdev *dev)
{
	free(dev->priv);
}

static const struct netdev_ops stub_ops = {
	.kind = "stub", .rx_burst = stub_rx_burst, .tx_burst = stub_tx_burst,
	.rx_fd = stub_rx_fd, .rx_pending = stub_rx_pending, .destroy = stub_destroy,
};

static struct stub *stub_new(const struct netdev_env *env, int limit)
{
	struct stub *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	s->dev.ops = &stub_ops;
	snprintf(s->dev.name, sizeof(s->dev.name), "stub0");
	s->dev.mtu = 1500;
	s->dev.env = *env;
	s->dev.priv = s;
	s->limit = limit;
	return s;
}

/* ---- pcap ---- */

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t sec, nsec, incl_len, orig_len;
};

/* A fresh file name in path (room for PATH_LEN bytes). */
#define PATH_LEN 64
static void temp_path(char *path)
{
	snprintf(path, PATH_LEN, "/tmp/netd_test_drivers_XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, cap, f);
	ck_assert(feof(f));
	fclose(f);
	return n;
}

/* Checks the record at *off: its timestamp and frame seq of len bytes. */
static void check_record(const uint8_t *file, size_t size, size_t *off, uint64_t ts,
			 unsigned seq, size_t len)
{
	struct pcap_rec_hdr rh;
	uint8_t want[BUF_SIZE];

	ck_assert_uint_le(*off + sizeof(rh), size);
	memcpy(&rh, file + *off, sizeof(rh));
	*off += sizeof(rh);
	ck_assert_uint_eq(rh.sec, ts / NSEC_PER_SEC);
	ck_assert_uint_eq(rh.nsec, ts % NSEC_PER_SEC);
	ck_assert_uint_eq(rh.incl_len, len);
	ck_assert_uint_eq(rh.orig_len, len);
	ck_assert_uint_le(*off + len, size);
	frame_bytes(want, seq, len);
	ck_assert_mem_eq(file + *off, want, len);
	*off += len;
}

static void check_pcap_header(const uint8_t *file, size_t size)
{
	struct pcap_file_hdr fh;

	ck_assert_uint_ge(size, sizeof(fh));
	ck_assert_uint_eq(sizeof(fh), 24);
	memcpy(&fh, file, sizeof(fh));
	ck_assert_uint_eq(fh.magic, 0xa1b23c4d);
	ck_assert_uint_eq(fh.major, 2);
	ck_assert_uint_eq(fh.minor, 4);
	ck_assert_int_eq(fh.thiszone, 0);
	ck_assert_uint_eq(fh.sigfigs, 0);
	ck_assert_uint_eq(fh.snaplen, 65535);
	ck_assert_uint_eq(fh.linktype, 1);
}

START_TEST(pcap_records_both_directions)
{
	struct rig *r = rig_new(8, 8);
	char path[PATH_LEN];
	static uint8_t file[8192];
	int err;
	struct netdev *inner = r->a;

	temp_path(path);
	r->a = pcap_wrap(inner, path, &err);
	ck_assert_ptr_nonnull(r->a);
	ck_assert_str_eq(r->a->name, inner->name);
	ck_assert_uint_eq(r->a->mtu, inner->mtu);
	ck_assert_int_eq(r->a->ops->rx_fd(r->a), -1);

	uint64_t t_tx = T0 + 1500000123;
	clock_set(&r->clock, t_tx);
	send_frames(r->a, &r->pool_a, 1, 2);
	uint64_t t_rx = t_tx + 2999999999ULL;
	clock_set(&r->clock, t_rx);
	inject_frame(r->b, 3, 60);
	ck_assert(r->a->ops->rx_pending(r->a));
	struct nbuf *nb;
	ck_assert_int_eq(r->a->ops->rx_burst(r->a, &nb, 1), 1);
	check_frame(nb, 3, 60);
	nbuf_free(nb);
	ck_assert_uint_eq(r->a->stats.tx_packets, 2);	/* the inner device's counters */
	ck_assert_uint_eq(r->a->stats.rx_packets, 1);
	ck_assert_uint_eq(mem_rx_queued(r->b), 2);

	/* Flushed per burst: the file is whole before destroy. */
	size_t size = read_file(path, file, sizeof(file));
	check_pcap_header(file, size);
	size_t off = 24;
	check_record(file, size, &off, t_tx, 1, FRAME_LEN);
	check_record(file, size, &off, t_tx, 2, FRAME_LEN);
	check_record(file, size, &off, t_rx, 3, 60);
	ck_assert_uint_eq(off, size);
	unlink(path);
	rig_free(r);
}
END_TEST

START_TEST(pcap_records_only_what_inner_took)
{
	struct rig *r = rig_new(8, 8);
	struct stub *s = stub_new(&r->env_a, 1);
	char path[PATH_LEN];
	uint8_t file[4096];
	struct nbuf *nbs[3];
	int err;

	temp_path(path);
	struct netdev *dev = pcap_wrap(&s->dev, path, &err);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(dev->ops->rx_fd(dev), 42);
	for (int i = 0; i < 3; i++)
		nbs[i] = make_frame(&r->pool_a, 20 + (unsigned)i, FRAME_LEN);
	ck_assert_int_eq(dev->ops->tx_burst(dev, nbs, 3), 1);
	ck_assert_int_eq(dev->ops->tx_burst(dev, nbs + 1, 2), 1);
	nbuf_free(nbs[2]);	/* still ours: the device was full */
	netdev_destroy(dev);	/* destroys the stub too */

	size_t size = read_file(path, file, sizeof(file));
	check_pcap_header(file, size);
	size_t off = 24;
	check_record(file, size, &off, T0, 20, FRAME_LEN);
	check_record(file, size, &off, T0, 21, FRAME_LEN);
	ck_assert_uint_eq(off, size);
	unlink(path);
	rig_free(r);
}
END_TEST

START_TEST(pcap_bad_path)
{
	struct rig *r = rig_new(2, 2);
	int err = 0;

	ck_assert_ptr_null(pcap_wrap(r->a, "/nonexistent-dir/x.pcap", &err));
	ck_assert_int_eq(err, -ENOENT);
	rig_free(r);	/* r->a is still ours after a failed wrap */
}
END_TEST

/* ---- fault ---- */

static void wrap_fault(struct rig *r, const struct fault_config *cfg)
{
	int err = 0;
	struct netdev *f = fault_wrap(r->a, cfg, &err);

	ck_assert_int_eq(err, 0);
	ck_assert_ptr_nonnull(f);
	r->a = f;
}

/* Runs 40 bursts of 25 frames through a faulty tx path and lets every held
 * frame out; returns what b received, in order, into seqs. */
static unsigned fault_tx_run(const struct fault_config *cfg, unsigned *seqs, unsigned cap,
			     unsigned *corrupted)
{
	struct rig *r = rig_new(64, 256);
	unsigned n = 0;

	wrap_fault(r, cfg);
	*corrupted = 0;
	for (unsigned burst = 0; burst < 40; burst++) {
		send_frames(r->a, &r->pool_a, burst * 25, 25);
		advance(r, NSEC_PER_MSEC / 4);
		struct nbuf *nb;
		while ((nb = mem_take(r->b))) {
			uint8_t want[FRAME_LEN];
			frame_bytes(want, frame_seq(nb), FRAME_LEN);
			*corrupted += memcmp(want, nb->data, FRAME_LEN) != 0;
			ck_assert_uint_lt(n, cap);
			seqs[n++] = frame_seq(nb);
			nbuf_free(nb);
		}
	}
	advance(r, MSEC(2));
	n += recv_seqs(r->b, seqs + n, cap - n);
	rig_free(r);
	return n;
}

START_TEST(fault_same_seed_same_decisions)
{
	struct fault_config cfg = { .drop = 0.2, .duplicate = 0.1, .corrupt = 0.1,
				    .reorder = 0.1, .seed = 42, .tx = true };
	static unsigned s1[2000], s2[2000];
	unsigned c1, c2;

	unsigned n1 = fault_tx_run(&cfg, s1, 2000, &c1);
	unsigned n2 = fault_tx_run(&cfg, s2, 2000, &c2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(s1, s2, n1 * sizeof(s1[0]));
	ck_assert_uint_eq(c1, c2);
	ck_assert_uint_gt(c1, 0);
	ck_assert_uint_ne(n1, 1000);	/* the faults did something */
	cfg.seed = 43;
	n2 = fault_tx_run(&cfg, s2, 2000, &c2);
	ck_assert(n1 != n2 || memcmp(s1, s2, n1 * sizeof(s1[0])) != 0);
}
END_TEST

START_TEST(fault_drop_rate)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .drop = 0.25, .seed = 7, .rx = true };
	unsigned seqs[NETDEV_BATCH], got = 0;

	wrap_fault(r, &cfg);
	for (unsigned i = 0; i < 10000; i += 50) {
		for (unsigned j = 0; j < 50; j++)
			inject_frame(r->b, i + j, 60);
		got += recv_seqs(r->a, seqs, NETDEV_BATCH);
	}
	/* 7500 expected; the standard deviation is about 43. */
	ck_assert_uint_gt(got, 7200);
	ck_assert_uint_lt(got, 7800);
	ck_assert_uint_eq(r->drops_a.by_reason[DROP_FAULT_INJECTED], 10000 - got);
	ck_assert_uint_eq(r->a->stats.rx_dropped, 10000 - got);
	rig_free(r);
}
END_TEST

START_TEST(fault_duplicate_doubles)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .duplicate = 1.0, .seed = 1, .tx = true };
	unsigned seqs[64];

	wrap_fault(r, &cfg);
	send_frames(r->a, &r->pool_a, 0, 10);
	ck_assert_uint_eq(recv_seqs(r->b, seqs, 64), 20);
	for (unsigned i = 0; i < 20; i++)
		ck_assert_uint_eq(seqs[i], i / 2);	/* each frame, then its copy */
	rig_free(r);
}
END_TEST

static unsigned bits_differing(const uint8_t *x, const uint8_t *y, size_t len)
{
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++)
		bits += (unsigned)__builtin_popcount(x[i] ^ y[i]);
	return bits;
}

START_TEST(fault_corrupt_flips_one_bit)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .corrupt = 1.0, .seed = 3, .tx = true };
	struct nbuf *nbs[20], *clones[20];
	uint8_t want[FRAME_LEN];

	wrap_fault(r, &cfg);
	for (unsigned i = 0; i < 20; i++) {
		nbs[i] = make_frame(&r->pool_a, i, FRAME_LEN);
		/* Half of them shared: the corruption must not show through. */
		clones[i] = i % 2 ? nbuf_clone(nbs[i]) : NULL;
	}
	ck_assert_int_eq(r->a->ops->tx_burst(r->a, nbs, 20), 20);
	for (unsigned i = 0; i < 20; i++) {
		struct nbuf *nb = mem_take(r->b);
		ck_assert_ptr_nonnull(nb);
		frame_bytes(want, i, FRAME_LEN);
		ck_assert_uint_eq(nbuf_len(nb), FRAME_LEN);
		ck_assert_uint_eq(bits_differing(nb->data, want, FRAME_LEN), 1);
		nbuf_free(nb);
		if (clones[i]) {
			check_frame(clones[i], i, FRAME_LEN);
			nbuf_free(clones[i]);
		}
	}
	ck_assert_ptr_null(mem_take(r->b));
	rig_free(r);
}
END_TEST

START_TEST(fault_reorder_changes_order)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .reorder = 0.3, .seed = 5, .tx = true };
	unsigned seqs[64], held = 0;
	bool seen[50] = { false };

	wrap_fault(r, &cfg);
	send_frames(r->a, &r->pool_a, 0, 50);
	unsigned now = recv_seqs(r->b, seqs, 64);	/* the ones not held back */
	ck_assert_uint_gt(now, 0);
	ck_assert_uint_lt(now, 50);
	advance(r, MSEC(1) - 1);
	ck_assert_uint_eq(mem_rx_queued(r->b), 0);
	advance(r, 1);				/* the held ones, by the timer */
	held = recv_seqs(r->b, seqs + now, 64 - now);
	ck_assert_uint_eq(now + held, 50);
	bool in_order = true;
	for (unsigned i = 0; i < 50; i++) {
		ck_assert(!seen[seqs[i]]);
		seen[seqs[i]] = true;
		if (i > 0 && seqs[i] < seqs[i - 1])
			in_order = false;
	}
	ck_assert(!in_order);
	rig_free(r);
}
END_TEST

START_TEST(fault_delay_holds_rx_until_due)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .delay_ns = MSEC(5), .seed = 9, .rx = true };
	unsigned seqs[8];

	wrap_fault(r, &cfg);
	inject_frame(r->b, 1, 60);
	inject_frame(r->b, 2, 60);
	ck_assert(r->a->ops->rx_pending(r->a));		/* waiting in the mem end */
	ck_assert_uint_eq(recv_seqs(r->a, seqs, 8), 0);	/* now held */
	ck_assert(!r->a->ops->rx_pending(r->a));
	ck_assert_uint_eq(r->wheel.pending, 1);	/* to wake the loop */
	advance(r, MSEC(5) - 1);
	ck_assert(!r->a->ops->rx_pending(r->a));
	ck_assert_uint_eq(recv_seqs(r->a, seqs, 8), 0);
	advance(r, 1);
	ck_assert(r->a->ops->rx_pending(r->a));
	ck_assert_uint_eq(recv_seqs(r->a, seqs, 8), 2);
	ck_assert_uint_eq(seqs[0], 1);
	ck_assert_uint_eq(seqs[1], 2);
	ck_assert(!r->a->ops->rx_pending(r->a));
	rig_free(r);
}
END_TEST

START_TEST(fault_timer_releases_tx)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .delay_ns = MSEC(3), .seed = 11, .tx = true };
	unsigned seqs[8];

	wrap_fault(r, &cfg);
	send_frames(r->a, &r->pool_a, 0, 4);
	ck_assert_uint_eq(mem_rx_queued(r->b), 0);
	ck_assert_int_eq(timer_next(&r->wheel, r->clock.now), (int64_t)MSEC(3));
	advance(r, MSEC(3) - 1);
	ck_assert_uint_eq(mem_rx_queued(r->b), 0);
	advance(r, 1);		/* no more traffic: the timer sends them */
	ck_assert_uint_eq(recv_seqs(r->b, seqs, 8), 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(seqs[i], i);
	ck_assert_uint_eq(r->wheel.pending, 0);
	rig_free(r);
}
END_TEST

START_TEST(fault_holds_what_inner_refuses)
{
	struct rig *r = rig_new(64, 64);
	struct stub *s = stub_new(&r->env_a, 2);
	struct fault_config cfg = { .seed = 13, .tx = true };
	int err;

	struct netdev *dev = fault_wrap(&s->dev, &cfg, &err);
	ck_assert_ptr_nonnull(dev);
	send_frames(dev, &r->pool_a, 0, 5);	/* the wrapper takes all five */
	ck_assert_uint_eq(s->taken, 2);
	advance(r, MSEC(1));			/* timer retries: two more */
	ck_assert_uint_eq(s->taken, 4);
	advance(r, MSEC(1));
	ck_assert_uint_eq(s->taken, 5);
	ck_assert_uint_eq(r->wheel.pending, 0);
	netdev_destroy(dev);
	rig_free(r);
}
END_TEST

START_TEST(fault_destroy_frees_held)
{
	struct rig *r = rig_new(64, 64);
	struct fault_config cfg = { .delay_ns = SEC(10), .seed = 1, .rx = true, .tx = true };
	unsigned seqs[8];

	wrap_fault(r, &cfg);
	send_frames(r->a, &r->pool_a, 0, 3);
	inject_frame(r->b, 9, 60);
	ck_assert_uint_eq(recv_seqs(r->a, seqs, 8), 0);
	ck_assert_uint_eq(nbuf_pool_in_use(&r->pool_a), 4);
	rig_free(r);	/* checks the held frames and the timer are gone */
}
END_TEST

START_TEST(fault_rejects_bad_config)
{
	struct rig *r = rig_new(2, 2);
	struct fault_config cfg = { .drop = 1.5, .tx = true };
	int err = 0;

	ck_assert_ptr_null(fault_wrap(r->a, &cfg, &err));
	ck_assert_int_eq(err, -EINVAL);
	cfg.drop = 0;
	cfg.corrupt = -0.1;
	ck_assert_ptr_null(fault_wrap(r->a, &cfg, &err));
	ck_assert_int_eq(err, -EINVAL);
	rig_free(r);
}
END_TEST

static Suite *drivers_suite(void)
{
	Suite *s = suite_create("drivers");
	TCase *mem = tcase_create("mem");
	TCase *pcap = tcase_create("pcap");
	TCase *fault = tcase_create("fault");

	tcase_add_test(mem, mem_copies_both_ways);
	tcase_add_test(mem, mem_queue_bound);
	tcase_add_test(mem, mem_receiver_pool_dry);
	tcase_add_test(mem, mem_oversize_is_tx_error);
	tcase_add_test(mem, mem_inject_and_take);
	tcase_add_test(pcap, pcap_records_both_directions);
	tcase_add_test(pcap, pcap_records_only_what_inner_took);
	tcase_add_test(pcap, pcap_bad_path);
	tcase_add_test(fault, fault_same_seed_same_decisions);
	tcase_add_test(fault, fault_drop_rate);
	tcase_add_test(fault, fault_duplicate_doubles);
	tcase_add_test(fault, fault_corrupt_flips_one_bit);
	tcase_add_test(fault, fault_reorder_changes_order);
	tcase_add_test(fault, fault_delay_holds_rx_until_due);
	tcase_add_test(fault, fault_timer_releases_tx);
	tcase_add_test(fault, fault_holds_what_inner_refuses);
	tcase_add_test(fault, fault_destroy_frees_held);
	tcase_add_test(fault, fault_rejects_bad_config);
	suite_add_tcase(s, mem);
	suite_add_tcase(s, pcap);
	suite_add_tcase(s, fault);
	return s;
}

int main(void)
{
	return run_suite(drivers_suite());
}
