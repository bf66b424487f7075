/*
 * packet.c: an existing interface (a veth end, a NIC) through an AF_PACKET
 * socket with TPACKET_V3 rings, which cost the reader about 0.04 us a frame
 * against 2.4 us for recv() (DESIGN.md 7). One mmap holds the receive ring
 * (blocks the kernel fills and hands over whole) followed by the transmit
 * ring (fixed slots we fill and the kernel sends on one send()).
 *
 * The rings are shared with the kernel, so every status word is read with
 * acquire and written with release ordering, and every offset and length
 * the kernel wrote is checked against the block before it is used.
 * Frames are copied out of the ring into pool buffers, so a block goes back
 * to the kernel as soon as it is read and the stack never holds ring memory.
 *
 * Outgoing frames are not looped back to us (PACKET_IGNORE_OUTGOING, and
 * PACKET_OUTGOING frames are skipped where the kernel lacks it); the
 * interface is put in promiscuous mode, as a NIC owned by a stack would be.
 * Malformed transmit slots are skipped by the kernel (PACKET_LOSS) rather
 * than stalling the ring.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../netd/nbuf.h"
#include "../netd/stats.h"
#include "../netd/util.h"
#include "netdev.h"

#define PKT_BLOCK_SIZE (256u << 10)
#define PKT_BLOCK_NR 8u
#define PKT_FRAME_SIZE 2048u
#define PKT_RETIRE_MS 1u	/* a partly filled block is handed over after this */
#define FRAME_OVERHEAD (14 + 4)	/* Ethernet header and one VLAN tag */
#define ETH_ADDRS_LEN 12	/* destination and source MAC: a VLAN tag goes after */
/* Where the kernel takes a transmitted frame from, without PACKET_TX_HAS_OFF. */
#define TX_DATA_OFF (TPACKET3_HDRLEN - sizeof(struct sockaddr_ll))
#define SLL_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

struct ring {
	uint8_t *base;
	unsigned block_size, block_nr;
	unsigned frame_size, frame_nr, frames_per_block;
};

struct packet {
	struct netdev dev;
	int fd;
	uint8_t *map;
	size_t map_len;
	struct ring rx, tx;
	/* Receive position: the block being read, and within it, once
	 * opened, the packets left and the offset of the next one. */
	unsigned rx_block;
	bool rx_open;
	unsigned rx_left;
	size_t rx_off;
	unsigned tx_head;	/* next transmit slot to fill */
	size_t tx_max;		/* longest frame a slot and the MTU allow */
};

static struct packet *packet_of(struct netdev *dev)
{
	return dev->priv;
}

static uint32_t status_load(const uint32_t *status)
{
	return __atomic_load_n(status, __ATOMIC_ACQUIRE);
}

static void status_store(uint32_t *status, uint32_t v)
{
	__atomic_store_n(status, v, __ATOMIC_RELEASE);
}

/* ---- Receive ring ---- */

static struct tpacket_block_desc *rx_desc(struct packet *p)
{
	return (struct tpacket_block_desc *)(p->rx.base + (size_t)p->rx_block * p->rx.block_size);
}

/* Opens the current block if the kernel has handed it over; false if not. */
static bool rx_open_block(struct packet *p)
{
	struct tpacket_block_desc *bd = rx_desc(p);

	if (p->rx_open)
		return true;
	if (!(status_load(&bd->hdr.bh1.block_status) & TP_STATUS_USER))
		return false;
	p->rx_left = bd->hdr.bh1.num_pkts;
	p->rx_off = bd->hdr.bh1.offset_to_first_pkt;
	p->rx_open = true;
	return true;
}

/* Gives the current block back to the kernel and moves to the next. */
static void rx_close_block(struct packet *p)
{
	status_store(&rx_desc(p)->hdr.bh1.block_status, TP_STATUS_KERNEL);
	p->rx_open = false;
	p->rx_block = (p->rx_block + 1) % p->rx.block_nr;
}

/* The packet header at rx_off, or NULL if it or its frame would reach
 * outside the block. */
static const struct tpacket3_hdr *rx_frame(const struct packet *p)
{
	const uint8_t *block = p->rx.base + (size_t)p->rx_block * p->rx.block_size;
	size_t room = p->rx.block_size;
	size_t off = p->rx_off;

	if (off < sizeof(struct tpacket_block_desc) || off % 4 || off > room - TPACKET3_HDRLEN)
		return NULL;
	const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)(block + off);
	if (h->tp_mac < TPACKET3_HDRLEN || (size_t)h->tp_mac + h->tp_snaplen > room - off)
		return NULL;
	return h;
}

/* Steps past h; false if the kernel's link to the next packet is bad. */
static bool rx_advance(struct packet *p, const struct tpacket3_hdr *h)
{
	if (--p->rx_left == 0) {
		rx_close_block(p);
		return true;
	}
	if (h->tp_next_offset < (uint32_t)h->tp_mac + h->tp_snaplen)
		return false;
	p->rx_off += h->tp_next_offset;
	return true;
}

/* Copies the frame into nb, putting back the VLAN tag the kernel took off. */
static void rx_copy(struct nbuf *nb, const struct tpacket3_hdr *h)
{
	const uint8_t *frame = (const uint8_t *)h + h->tp_mac;
	size_t len = h->tp_snaplen;

	if ((h->tp_status & TP_STATUS_VLAN_VALID) && len >= ETH_ADDRS_LEN) {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
				h->hv1.tp_vlan_tpid : ETH_P_8021Q;
		memcpy(nbuf_put(nb, ETH_ADDRS_LEN), frame, ETH_ADDRS_LEN);
		put_be16(nbuf_put(nb, 2), tpid);
		put_be16(nbuf_put(nb, 2), (uint16_t)h->hv1.tp_vlan_tci);
		frame += ETH_ADDRS_LEN;
		len -= ETH_ADDRS_LEN;
	}
	memcpy(nbuf_put(nb, len), frame, len);
}

/* One received frame into *out: 1, 0 when it is skipped (our own, truncated
 * or too long: counted), -ENOBUFS when the pool is dry. */
static int rx_take(struct packet *p, const struct tpacket3_hdr *h, struct nbuf **out)
{
	struct netdev *dev = &p->dev;
	const struct sockaddr_ll *sll = (const void *)((const uint8_t *)h + SLL_OFF);
	size_t room = (size_t)dev->mtu + FRAME_OVERHEAD;

	size_t len = h->tp_snaplen + ((h->tp_status & TP_STATUS_VLAN_VALID) ? 4 : 0);

	if (sll->sll_pkttype == PACKET_OUTGOING)
		return 0;
	if (h->tp_snaplen < h->tp_len || len > room) {
		dev->stats.rx_errors++;
		return 0;
	}
	struct nbuf *nb = nbuf_alloc(dev->env.pool, NETDEV_RX_HEADROOM + room);
	if (!nb)
		return -ENOBUFS;
	nbuf_reserve(nb, NETDEV_RX_HEADROOM);
	rx_copy(nb, h);
	/* Sent by this host's kernel with the checksum left for offload: it
	 * never crossed a wire, so its transport checksum need not be checked
	 * (and must be completed if the frame is forwarded). */
	nb->csum_verified = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += nbuf_len(nb);
	*out = nb;
	return 1;
}

static int packet_rx_burst(struct netdev *dev, struct nbuf **nbs, int max)
{
	struct packet *p = packet_of(dev);
	int n = 0;

	while (n < max && rx_open_block(p)) {
		if (p->rx_left == 0) {
			rx_close_block(p);
			continue;
		}
		const struct tpacket3_hdr *h = rx_frame(p);
		int got = h ? rx_take(p, h, &nbs[n]) : 0;
		if (got < 0) {
			/* The frame stays in the ring for a later turn. */
			dev->stats.rx_dropped++;
			break;
		}
		n += got;
		if (!h || !rx_advance(p, h)) {
			dev->stats.rx_errors++;
			rx_close_block(p);
		}
	}
	return n;
}

static bool packet_rx_pending(struct netdev *dev)
{
	struct packet *p = packet_of(dev);

	/* An open block always has packets left: it is closed on the last. */
	return p->rx_open || (status_load(&rx_desc(p)->hdr.bh1.block_status) & TP_STATUS_USER);
}

/* ---- Transmit ring ---- */

static struct tpacket3_hdr *tx_slot(struct packet *p, unsigned i)
{
	const struct ring *r = &p->tx;
	size_t block = i / r->frames_per_block, slot = i % r->frames_per_block;

	return (struct tpacket3_hdr *)(r->base + block * r->block_size + slot * r->frame_size);
}

/* Copies nb into the next free slot: 1 taken (queued, or refused as
 * malformed and reported), 0 when the ring is full and the caller keeps
 * nb. Consumes nb when it returns 1. */
static int tx_put(struct packet *p, struct nbuf *nb)
{
	struct netdev *dev = &p->dev;
	size_t len = nbuf_len(nb);
	struct tpacket3_hdr *h = tx_slot(p, p->tx_head);

	if (len < ETH_HLEN || len > p->tx_max) {
		dev->stats.tx_errors++;
		netdev_drop(dev, nb, DROP_DEV_TX_ERROR);
		return 1;
	}
	if (status_load(&h->tp_status) != TP_STATUS_AVAILABLE)
		return 0;
	memcpy((uint8_t *)h + TX_DATA_OFF, nb->data, len);
	h->tp_next_offset = 0;
	h->tp_len = (uint32_t)len;
	h->tp_snaplen = (uint32_t)len;
	status_store(&h->tp_status, TP_STATUS_SEND_REQUEST);
	p->tx_head = (p->tx_head + 1) % p->tx.frame_nr;
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	nbuf_free(nb);
	return 1;
}

/* Asks the kernel to send every slot marked SEND_REQUEST. */
static void tx_kick(struct packet *p)
{
	if (send(p->fd, NULL, 0, MSG_DONTWAIT) >= 0 || errno == EAGAIN)
		return;
	/* ENOBUFS: the qdisc dropped a frame; anything else lost one too. */
	if (errno == ENOBUFS)
		p->dev.stats.tx_dropped++;
	else
		p->dev.stats.tx_errors++;
}

static int packet_tx_burst(struct netdev *dev, struct nbuf **nbs, int n)
{
	struct packet *p = packet_of(dev);
	int k;

	for (k = 0; k < n; k++)
		if (!tx_put(p, nbs[k]))
			break;
	if (k > 0)
		tx_kick(p);
	return k;
}

static int packet_rx_fd(struct netdev *dev)
{
	return packet_of(dev)->fd;
}

static void packet_destroy(struct netdev *dev)
{
	struct packet *p = packet_of(dev);

	if (p->map)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

static const struct netdev_ops packet_ops = {
	.kind = "packet",
	.rx_burst = packet_rx_burst,
	.tx_burst = packet_tx_burst,
	.rx_fd = packet_rx_fd,
	.rx_pending = packet_rx_pending,
	.destroy = packet_destroy,
};

/* ---- Setup ---- */

/* Reads the interface's MAC (it must be Ethernet) and MTU. */
static int packet_read_link(struct packet *p)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->dev.name, IFNAMSIZ);
	if (ioctl(p->fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPFNOSUPPORT;
	memcpy(p->dev.mac, ifr.ifr_hwaddr.sa_data, sizeof(p->dev.mac));
	if (ioctl(p->fd, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	p->dev.mtu = (unsigned)ifr.ifr_mtu;
	return 0;
}

/* Whether the pool has a buffer that holds a frame of the device's MTU:
 * without one every frame would wait in the ring for ever. */
static int packet_check_pool(const struct netdev *dev)
{
	struct nbuf *nb = nbuf_alloc(dev->env.pool, NETDEV_RX_HEADROOM + dev->mtu + FRAME_OVERHEAD);

	if (!nb)
		return -EMSGSIZE;
	nbuf_free(nb);
	return 0;
}

static int ring_geometry(struct ring *r, unsigned block_size, unsigned block_nr,
			 unsigned frame_size)
{
	long page = sysconf(_SC_PAGESIZE);

	if (block_size % (unsigned long)page || frame_size % TPACKET_ALIGNMENT ||
	    frame_size < TPACKET3_HDRLEN || frame_size > block_size || block_nr == 0)
		return -EINVAL;
	r->block_size = block_size;
	r->block_nr = block_nr;
	r->frame_size = frame_size;
	r->frames_per_block = block_size / frame_size;
	r->frame_nr = r->frames_per_block * block_nr;
	return 0;
}

/* Sizes both rings from cfg; transmit slots grow to hold an MTU-sized frame. */
static int packet_geometry(struct packet *p, const struct packet_config *cfg)
{
	unsigned bs = cfg->block_size ? cfg->block_size : PKT_BLOCK_SIZE;
	unsigned nr = cfg->block_count ? cfg->block_count : PKT_BLOCK_NR;
	unsigned fs = cfg->frame_size ? cfg->frame_size : PKT_FRAME_SIZE;
	unsigned tx_fs = MAX(fs, (unsigned)ALIGN_UP(TX_DATA_OFF + p->dev.mtu + FRAME_OVERHEAD,
						    TPACKET_ALIGNMENT));
	int err = ring_geometry(&p->rx, bs, nr, fs);

	if (!err)
		err = ring_geometry(&p->tx, bs, nr, tx_fs);
	if (!err)
		p->tx_max = MIN(p->tx.frame_size - TX_DATA_OFF,
				(size_t)p->dev.mtu + FRAME_OVERHEAD);
	return err;
}

static int set_opt(int fd, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, SOL_PACKET, name, val, len) < 0 ? -errno : 0;
}

static int set_ring(int fd, int name, const struct ring *r, unsigned retire_ms)
{
	struct tpacket_req3 req = {
		.tp_block_size = r->block_size,
		.tp_block_nr = r->block_nr,
		.tp_frame_size = r->frame_size,
		.tp_frame_nr = r->frame_nr,
		.tp_retire_blk_tov = retire_ms,
	};

	return set_opt(fd, name, &req, sizeof(req));
}

/* Asks for V3 rings, creates both and maps them, receive ring first. */
static int packet_map_rings(struct packet *p)
{
	int version = TPACKET_V3, one = 1;
	int err = set_opt(p->fd, PACKET_VERSION, &version, sizeof(version));

	if (!err)
		err = set_opt(p->fd, PACKET_LOSS, &one, sizeof(one));
	if (!err)
		err = set_ring(p->fd, PACKET_RX_RING, &p->rx, PKT_RETIRE_MS);
	if (!err)
		err = set_ring(p->fd, PACKET_TX_RING, &p->tx, 0);
	if (err)
		return err;
	size_t rx_len = (size_t)p->rx.block_size * p->rx.block_nr;
	size_t tx_len = (size_t)p->tx.block_size * p->tx.block_nr;
	void *map = mmap(NULL, rx_len + tx_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, p->fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	p->map = map;
	p->map_len = rx_len + tx_len;
	p->rx.base = p->map;
	p->tx.base = p->map + rx_len;
	return 0;
}

/* Binds to the interface for every protocol, promiscuous, deaf to itself. */
static int packet_bind(struct packet *p, int ifindex)
{
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC };
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	int one = 1;
	int err = set_opt(p->fd, PACKET_IGNORE_OUTGOING, &one, sizeof(one));

	if (err == -ENOPROTOOPT)	/* before Linux 4.20: rx_take skips them */
		err = 0;
	if (!err)
		err = set_opt(p->fd, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
	if (!err && bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	return err;
}

static int packet_setup(struct packet *p, const struct packet_config *cfg)
{
	int ifindex = (int)if_nametoindex(cfg->ifname);

	if (ifindex == 0)
		return -errno;
	/* Protocol 0: nothing is queued to us before the bind. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	int err = packet_read_link(p);
	if (!err)
		err = packet_check_pool(&p->dev);
	if (!err)
		err = packet_geometry(p, cfg);
	if (!err)
		err = packet_map_rings(p);
	if (!err)
		err = packet_bind(p, ifindex);
	return err;
}

struct netdev *packet_open(const struct packet_config *cfg, const struct netdev_env *env,
			   int *err)
{
	struct packet *p;

	if (!cfg || !cfg->ifname || !env || !env->pool) {
		*err = -EINVAL;
		return NULL;
	}
	if (strlen(cfg->ifname) >= IFNAMSIZ) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->fd = -1;
	p->dev.ops = &packet_ops;
	p->dev.env = *env;
	p->dev.priv = p;
	snprintf(p->dev.name, IFNAMSIZ, "%s", cfg->ifname);
	*err = packet_setup(p, cfg);
	if (*err) {
		packet_destroy(&p->dev);
		return NULL;
	}
	return &p->dev;
}
