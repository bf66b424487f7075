/*
 * tap.c: a TAP device through /dev/net/tun. netd owns the "wire" end of the
 * device; the kernel sees an ordinary Ethernet interface on the other end,
 * so the kernel side's MAC is the peer's, never ours, and dev->mac stays
 * zero. Reads are a plain non-blocking read() loop, the cheapest way in
 * (DESIGN.md 7); writes go out as io_uring requests batched by the loop,
 * or synchronously with write() when the loop has no ring.
 *
 * Offloads are switched off explicitly: a persistent TAP keeps the last
 * setting its previous owner left. IFF_VNET_HDR with TSO/GSO is where the
 * bulk throughput is (DESIGN.md 7) and will come in tap_set_offloads().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../netd/nbuf.h"
#include "../netd/stats.h"
#include "netdev.h"

#define TUN_PATH "/dev/net/tun"
#define FRAME_OVERHEAD (14 + 4)	/* Ethernet header and one VLAN tag */

struct tap {
	struct netdev dev;
	int fd;
};

static struct tap *tap_of(struct netdev *dev)
{
	return dev->priv;
}

/* Reads one frame into nb: 1, 0 when none is waiting, or -errno. */
static int tap_read_one(struct tap *t, struct nbuf *nb)
{
	ssize_t n = read(t->fd, nb->data, nbuf_tailroom(nb));

	if (n > 0) {
		nbuf_put(nb, (size_t)n);
		return 1;
	}
	if (n == 0 || errno == EAGAIN || errno == EINTR)
		return 0;
	return -errno;
}

static int tap_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	struct tap *t = tap_of(dev);
	size_t size = NETDEV_RX_HEADROOM + dev->mtu + FRAME_OVERHEAD;
	int n = 0;

	while (n < max) {
		struct nbuf *nb = nbuf_alloc(dev->env.pool, size);
		if (!nb) {
			/* The frame waits in the kernel's queue for a later turn. */
			dev->stats.rx_dropped++;
			break;
		}
		nbuf_reserve(nb, NETDEV_RX_HEADROOM);
		int got = tap_read_one(t, nb);
		if (got <= 0) {
			nbuf_free(nb);
			if (got < 0)
				dev->stats.rx_errors++;
			if (got < 0 && n == 0)
				return got;
			break;
		}
		dev->stats.rx_packets++;
		dev->stats.rx_bytes += nbuf_len(nb);
		nbs[n++] = nb;
	}
	return n;
}

/* Queues one write SQE for nb; false when the submission queue stays full
 * after one submit. On success the loop owns nb until its completion. */
static bool tap_queue_write(struct tap *t, struct nbuf *nb, bool *submitted)
{
	struct io_uring *ring = t->dev.env.ring;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe && !*submitted) {
		*submitted = true;
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	if (!sqe)
		return false;
	io_uring_prep_write(sqe, t->fd, nb->data, (unsigned)nbuf_len(nb), 0);
	io_uring_sqe_set_data64(sqe, netdev_ud_tx(nb));
	return true;
}

static int tap_tx_ring(struct tap *t, struct nbuf **nbs, int n)
{
	bool submitted = false;
	int k;

	for (k = 0; k < n; k++) {
		if (!tap_queue_write(t, nbs[k], &submitted))
			break;
		t->dev.stats.tx_packets++;
		t->dev.stats.tx_bytes += nbuf_len(nbs[k]);
	}
	return k;
}

/* Writes nb now: 1 taken (written, or failed and reported), 0 when the
 * device is full and the caller keeps nb. Consumes nb when it returns 1. */
static int tap_write_one(struct tap *t, struct nbuf *nb)
{
	struct netdev *dev = &t->dev;
	size_t len = nbuf_len(nb);
	ssize_t w = write(t->fd, nb->data, len);

	if (w < 0 && errno == EAGAIN)
		return 0;
	if (w < 0 || (size_t)w != len) {
		dev->stats.tx_errors++;
		netdev_drop(dev, nb, DROP_DEV_TX_ERROR);
		return 1;
	}
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	nbuf_free(nb);
	return 1;
}

static int tap_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	struct tap *t = tap_of(dev);
	int k;

	if (dev->env.ring)
		return tap_tx_ring(t, nbs, n);
	for (k = 0; k < n; k++)
		if (!tap_write_one(t, nbs[k]))
			break;
	return k;
}

static int tap_rx_fd(struct netdev *dev)
{
	return tap_of(dev)->fd;
}

/* Every waiting frame makes the fd readable. */
static bool tap_rx_pending(struct netdev *dev)
{
	return false;
}

static void tap_destroy(struct netdev *dev)
{
	struct tap *t = tap_of(dev);

	close(t->fd);
	free(t);
}

static const struct netdev_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.rx_fd = tap_rx_fd,
	.rx_pending = tap_rx_pending,
	.destroy = tap_destroy,
};

/*
 * Sets the offloads the kernel may hand us. None for now, set explicitly
 * because a persistent TAP remembers its last owner's choice. With
 * IFF_VNET_HDR (asked for in tap_attach) this becomes TUN_F_CSUM |
 * TUN_F_TSO4 | TUN_F_TSO6, and every frame carries a virtio_net_hdr.
 */
static int tap_set_offloads(int fd)
{
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0)
		return -errno;
	return 0;
}

/* Creates the device, or attaches to the persistent one of that name;
 * the name the kernel chose goes into name. */
static int tap_attach(int fd, char name[IFNAMSIZ])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return 0;
}

/* Sets IFF_UP on the kernel side of the device; s is any AF_INET socket. */
static int tap_bring_up(int s, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

static int tap_read_mtu(int s, struct netdev *dev)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev->name, IFNAMSIZ);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	dev->mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

static int tap_configure_link(struct netdev *dev, bool bring_up)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (s < 0)
		return -errno;
	if (bring_up)
		err = tap_bring_up(s, dev->name);
	if (!err)
		err = tap_read_mtu(s, dev);
	close(s);
	return err;
}

/* Whether the pool has a buffer that holds a frame of the device's MTU:
 * without one every frame would wait in the kernel for ever. */
static int tap_check_pool(const struct netdev *dev)
{
	struct nbuf *nb = nbuf_alloc(dev->env.pool, NETDEV_RX_HEADROOM + dev->mtu + FRAME_OVERHEAD);

	if (!nb)
		return -EMSGSIZE;
	nbuf_free(nb);
	return 0;
}

static int tap_setup(struct tap *t, const struct tap_config *cfg)
{
	int err;

	t->fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	if (cfg->name)
		snprintf(t->dev.name, IFNAMSIZ, "%s", cfg->name);
	err = tap_attach(t->fd, t->dev.name);
	if (!err)
		err = tap_set_offloads(t->fd);
	if (!err)
		err = tap_configure_link(&t->dev, cfg->bring_up);
	if (!err)
		err = tap_check_pool(&t->dev);
	return err;
}

struct netdev *tap_open(const struct tap_config *cfg, const struct netdev_env *env, int *err)
{
	struct tap *t;

	if (!cfg || !env || !env->pool) {
		*err = -EINVAL;
		return NULL;
	}
	if (cfg->name && strlen(cfg->name) >= IFNAMSIZ) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->dev.ops = &tap_ops;
	t->dev.env = *env;
	t->dev.priv = t;
	t->fd = -1;
	*err = tap_setup(t, cfg);
	if (*err) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return &t->dev;
}
