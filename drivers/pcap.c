/*
 * pcap.c: a tee in front of any device that records every frame it
 * receives and every frame it sends into a classic pcap file (nanosecond
 * timestamps, Ethernet link type), readable by tcpdump and Wireshark.
 * A sent frame is recorded only once the device below has taken it, so the
 * file shows what went to the device, not what was offered; each frame is
 * cloned (a header, not a copy) to survive the device freeing it. Under a
 * virtual clock the timestamps are the clock's, so a test's capture is the
 * same on every run; otherwise they are wall-clock time.
 *
 * Records are buffered through stdio and flushed once per burst that wrote
 * any. A write error is logged once and ends the capture; traffic goes on.
 * The two headers of the format are also what netd's live capture writes
 * (netd/capture.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../netd/clock.h"
#include "../netd/log.h"
#include "../netd/nbuf.h"
#include "../netd/util.h"
#include "netdev.h"

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 65535u
#define PCAP_LINKTYPE_ETHERNET 1u

/* Both headers are written in host byte order; readers tell by the magic. */
struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec, ts_nsec, incl_len, orig_len;
};

struct pcap_tee {
	struct netdev dev;
	struct netdev *inner;
	FILE *f;		/* NULL once a write failed */
};

static struct pcap_tee *pcap_of(struct netdev *dev)
{
	return dev->priv;
}

/* The timestamp for frames of this burst, in nanoseconds. */
static uint64_t pcap_now(const struct pcap_tee *pc)
{
	const struct clock *c = pc->dev.env.clock;
	struct timespec ts;

	if (c && c->is_virtual)
		return c->now;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void pcap_fail(struct pcap_tee *pc)
{
	log_warn("pcap on %s: write failed, capture stopped: %s", pc->dev.name,
		 strerror(errno));
	fclose(pc->f);
	pc->f = NULL;
}

void pcap_file_header(void *buf)
{
	struct pcap_file_hdr fh = {
		.magic = PCAP_MAGIC_NSEC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};

	_Static_assert(sizeof(fh) == PCAP_FILE_HDR_LEN, "pcap file header");
	memcpy(buf, &fh, sizeof(fh));
}

size_t pcap_record_header(void *buf, size_t len, uint64_t ts)
{
	size_t incl = MIN(len, (size_t)PCAP_SNAPLEN);
	struct pcap_rec_hdr rh = {
		.ts_sec = (uint32_t)(ts / NSEC_PER_SEC),
		.ts_nsec = (uint32_t)(ts % NSEC_PER_SEC),
		.incl_len = (uint32_t)incl,
		.orig_len = (uint32_t)len,
	};

	_Static_assert(sizeof(rh) == PCAP_REC_HDR_LEN, "pcap record header");
	memcpy(buf, &rh, sizeof(rh));
	return incl;
}

static void pcap_record(struct pcap_tee *pc, const struct nbuf *nb, uint64_t ts)
{
	uint8_t rh[PCAP_REC_HDR_LEN];
	size_t incl = pcap_record_header(rh, nbuf_len(nb), ts);

	if (!pc->f)
		return;
	if (fwrite(rh, sizeof(rh), 1, pc->f) != 1 || fwrite(nb->data, 1, incl, pc->f) != incl)
		pcap_fail(pc);
}

static void pcap_flush(struct pcap_tee *pc)
{
	if (pc->f && fflush(pc->f) != 0)
		pcap_fail(pc);
}

static int pcap_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	struct pcap_tee *pc = pcap_of(dev);
	int n = pc->inner->ops->rx_burst(pc->inner, nbs, max);

	if (n > 0) {
		uint64_t ts = pcap_now(pc);
		for (int i = 0; i < n; i++)
			pcap_record(pc, nbs[i], ts);
		pcap_flush(pc);
	}
	dev->stats = pc->inner->stats;
	return n;
}

/*
 * Offers up to n (<= NETDEV_BATCH) frames to the inner device and records
 * those it took. Frames that cannot be cloned are not offered (the caller
 * keeps them); if none can, they are recorded before they are offered.
 * Consumes the frames it returns as taken.
 */
static int pcap_tx_chunk(struct pcap_tee *pc, struct nbuf **nbs, int n, uint64_t ts)
{
	struct netdev *inner = pc->inner;
	struct nbuf *clones[NETDEV_BATCH];
	int c, k;

	for (c = 0; c < n; c++)
		if (!(clones[c] = nbuf_clone(nbs[c])))
			break;
	if (c == 0) {
		for (int i = 0; i < n; i++)
			pcap_record(pc, nbs[i], ts);
		return inner->ops->tx_burst(inner, nbs, n);
	}
	k = inner->ops->tx_burst(inner, nbs, c);
	for (int i = 0; i < c; i++) {
		if (i < k)
			pcap_record(pc, clones[i], ts);
		nbuf_free(clones[i]);
	}
	return k;
}

static int pcap_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	struct pcap_tee *pc = pcap_of(dev);
	uint64_t ts = pcap_now(pc);
	int k = 0;

	while (k < n) {
		int chunk = MIN(n - k, NETDEV_BATCH);
		int took = pcap_tx_chunk(pc, nbs + k, chunk, ts);
		if (took > 0)
			k += took;
		if (took < chunk)
			break;
	}
	if (k > 0)
		pcap_flush(pc);
	dev->stats = pc->inner->stats;
	return k;
}

static int pcap_rx_fd(struct netdev *dev)
{
	struct netdev *inner = pcap_of(dev)->inner;

	return inner->ops->rx_fd(inner);
}

static bool pcap_rx_pending(struct netdev *dev)
{
	struct netdev *inner = pcap_of(dev)->inner;

	return inner->ops->rx_pending(inner);
}

static void pcap_destroy(struct netdev *dev)
{
	struct pcap_tee *pc = pcap_of(dev);

	if (pc->f && fclose(pc->f) != 0)
		log_warn("pcap on %s: closing the capture failed: %s", dev->name,
			 strerror(errno));
	netdev_destroy(pc->inner);
	free(pc);
}

static const struct netdev_ops pcap_ops = {
	.kind = "pcap",
	.rx_burst = pcap_rx_burst,
	.tx_burst = pcap_tx_burst,
	.rx_fd = pcap_rx_fd,
	.rx_pending = pcap_rx_pending,
	.destroy = pcap_destroy,
};

/* Creates the file and writes its header: 0 or -errno. */
static int pcap_create(struct pcap_tee *pc, const char *path)
{
	uint8_t fh[PCAP_FILE_HDR_LEN];

	pcap_file_header(fh);
	pc->f = fopen(path, "we");
	if (!pc->f)
		return -errno;
	if (fwrite(&fh, sizeof(fh), 1, pc->f) != 1 || fflush(pc->f) != 0) {
		int err = -errno;
		fclose(pc->f);
		return err ? err : -EIO;
	}
	return 0;
}

/* On failure inner stays the caller's. */
struct netdev *pcap_wrap(struct netdev *inner, const char *path, int *err)
{
	struct pcap_tee *pc;

	if (!inner || !path) {
		*err = -EINVAL;
		return NULL;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = pcap_create(pc, path);
	if (*err) {
		free(pc);
		return NULL;
	}
	pc->inner = inner;
	pc->dev.ops = &pcap_ops;
	memcpy(pc->dev.name, inner->name, sizeof(pc->dev.name));
	memcpy(pc->dev.mac, inner->mac, sizeof(pc->dev.mac));
	pc->dev.mtu = inner->mtu;
	pc->dev.env = inner->env;
	pc->dev.stats = inner->stats;
	pc->dev.priv = pc;
	return &pc->dev;
}
