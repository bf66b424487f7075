/*
 * shm.h: the layout of a client's shared region, defined once for netd and
 * libnetclient. netd creates one region per client session (a memfd, sealed
 * against resizing) and hands it over with the session's doorbell eventfd.
 *
 * The region holds, at offsets the header gives:
 *   - the command ring (client -> netd): fixed 64-byte records, one per
 *     per-socket operation (socket, bind, connect, accept, options, close,
 *     and the "data waits in a ring" kicks);
 *   - the reply table: one record per blocking call in flight, chosen by
 *     the client; netd writes the result and wakes the caller's futex;
 *   - the slot table: one slot per socket, with the events netd publishes
 *     (epoll bits) and two data rings, rx (netd -> client) and tx (client ->
 *     netd): plain bytes for stream sockets, framed datagrams (struct
 *     ncs_dgram, then the payload padded to 8 bytes) for datagram sockets.
 *
 * Every ring is single-producer single-consumer with free-running 32-bit
 * indices (used = head - tail) over a power-of-two area. The producer
 * writes the data, then stores head with release order; the consumer loads
 * head with acquire order, copies, then stores tail with release order.
 * Each side keeps its own index privately and only publishes it: netd never
 * reads back an index it owns, and every index it reads from the client is
 * loaded once and checked (head - tail no larger than the ring).
 *
 * Wakeups are asked for, never assumed. A side about to wait sets the
 * ring's waiting flag, issues a full fence and looks again; the other side
 * publishes, fences, and kicks only if the flag is set (after clearing it).
 * netd's kicks to a client are the socket's eventfd (the client's file
 * descriptor for the socket) and FUTEX_WAKE on a reply's state word; the
 * client's kick to netd is a command record and, if netd said it sleeps,
 * the session's doorbell eventfd.
 */
#ifndef NETD_PROTO_SHM_H
#define NETD_PROTO_SHM_H

#include <stddef.h>
#include <stdint.h>

#define NCS_MAGIC 0x4e455444u		/* "NETD" */
#define NCS_VERSION 1u
#define NCS_CACHELINE 64

/* Sizes netd uses unless the configuration says otherwise. */
#define NCS_CMD_ENTRIES 1024u
#define NCS_REPLY_ENTRIES 256u
#define NCS_DATA_RING_SIZE (256u * 1024u)

/* A ring's indices and wakeup flags, each on its own cache line. */
struct ncs_ring {
	uint32_t head;			/* written by the producer only */
	uint8_t pad0[NCS_CACHELINE - 4];
	uint32_t tail;			/* written by the consumer only */
	uint8_t pad1[NCS_CACHELINE - 4];
	uint32_t consumer_waiting;	/* set by the consumer: kick me on data */
	uint32_t producer_waiting;	/* set by the producer: kick me on space */
	uint8_t pad2[NCS_CACHELINE - 8];
};

/* header.netd_state */
#define NCS_NETD_RUNNING 1u
#define NCS_NETD_STOPPING 2u

struct ncs_header {
	uint32_t magic, version;
	uint64_t size;			/* of the whole region */
	uint32_t max_slots;
	uint32_t cmd_entries;		/* power of two */
	uint32_t reply_entries;
	uint32_t data_ring_size;	/* bytes per direction per slot, power of two */
	uint64_t cmd_off, reply_off, slot_off, data_off;
	uint32_t netd_state;
	uint32_t netd_sleeping;		/* netd waits: write the doorbell */
	uint8_t pad[NCS_CACHELINE - 8];
	struct ncs_ring cmd;
};

/* Command operations (struct ncs_cmd.op). "a" means the cmd's a[] args. */
enum ncs_op {
	NCS_OP_NONE,
	NCS_OP_SOCKET,		/* a[0] type, a[1] protocol; slot's eventfd registered */
	NCS_OP_BIND,		/* addr, port */
	NCS_OP_LISTEN,		/* a[0] backlog */
	NCS_OP_CONNECT,		/* addr, port; a[0] 1: AF_UNSPEC (dissolve) */
	NCS_OP_ACCEPT,		/* slot: listener; a[0] the child's slot (registered);
				 * reply: peer addr, port */
	NCS_OP_SHUTDOWN,	/* a[0] how */
	NCS_OP_CLOSE,		/* the slot and its eventfd are free after the reply */
	NCS_OP_SETSOCKOPT,	/* a[0] level, a[1] name, a[2] len; value in data */
	NCS_OP_GETSOCKOPT,	/* a[0] level, a[1] name, a[2] len; reply value in data */
	NCS_OP_GETNAME,		/* a[0] 0: local, 1: peer; reply addr, port */
	NCS_OP_IOCTL,		/* a[0] request (SIOCINQ, SIOCOUTQ); reply a[0] value */
	NCS_OP_TX,		/* the tx ring has data (the consumer was waiting) */
	NCS_OP_RX,		/* the rx ring has space (the producer was waiting) */
	NCS_OP_SENDCHECK,	/* may data be sent now? 0 or the errno send gives */
	NCS_OP_RECVCHECK,	/* the rx ring is empty: -EAGAIN, 0 (end) or the errno */
	NCS_OP_MAX
};

#define NCS_NO_REPLY 0xffffu
#define NCS_CMD_DATA 36		/* inline option values up to this size */

struct ncs_cmd {
	uint16_t op;
	uint16_t reply;		/* reply record index, or NCS_NO_REPLY */
	uint32_t slot;
	int32_t a[3];
	uint32_t addr;		/* host order */
	uint16_t port;		/* host order */
	uint16_t flags;
	uint8_t data[NCS_CMD_DATA];
};

/* struct ncs_reply.state */
#define NCS_REPLY_FREE 0u
#define NCS_REPLY_PENDING 1u
#define NCS_REPLY_DONE 2u
#define NCS_REPLY_DATA 256	/* getsockopt values up to this size (TCP_INFO) */

struct ncs_reply {
	uint32_t state;		/* futex word: netd stores DONE and wakes */
	uint32_t waiting;	/* the client sleeps on state: FUTEX_WAKE needed */
	int32_t result;		/* 0, a count, or -errno */
	int32_t value;		/* IOCTL's value */
	uint32_t addr;
	uint16_t port;
	uint16_t pad;
	uint32_t len;		/* bytes of data */
	uint8_t pad2[36];
	uint8_t data[NCS_REPLY_DATA];
};

/* ncs_slot.flags, published by netd */
#define NCS_SLOT_OPEN 1u		/* netd holds a socket for this slot */
#define NCS_SLOT_STREAM 2u		/* rings carry bytes, not datagrams */
#define NCS_SLOT_LISTENING 4u
#define NCS_SLOT_CONNECTING 8u
#define NCS_SLOT_CONNECTED 16u		/* sending is allowed (no FIN sent, no error) */
#define NCS_SLOT_RX_EOF 32u		/* no more data will come after the rx ring */
#define NCS_SLOT_ERROR 64u		/* a pending error: ask netd (SENDCHECK, SO_ERROR) */
#define NCS_SLOT_ESTABLISHED 128u	/* a stream with a peer: data may still come */

/* ncs_slot.wake_mask: epoll bits, and this one for any change of flags */
#define NCS_WAKE_STATE (1u << 24)

struct ncs_slot {
	/* written by netd */
	uint32_t events;	/* epoll bits of netd's socket (EPOLLIN for a
				 * listener with a connection to accept) */
	uint32_t flags;		/* NCS_SLOT_* */
	uint32_t netd_rx_bytes;	/* received bytes not yet in the rx ring */
	uint32_t netd_tx_bytes;	/* bytes taken from the tx ring not yet acked */
	uint32_t tcp_state;	/* Linux's TCP state number (TCP_INFO's), 0 for UDP */
	uint8_t pad0[NCS_CACHELINE - 20];
	/* written by the client */
	uint32_t wake_mask;	/* events for which netd must write the eventfd */
	uint8_t pad1[NCS_CACHELINE - 4];
	struct ncs_ring rx;	/* netd -> client */
	struct ncs_ring tx;	/* client -> netd */
};

/* A datagram in a datagram socket's ring: this header, then len bytes,
 * the whole padded to NCS_DGRAM_ALIGN. */
struct ncs_dgram {
	uint32_t len;
	uint32_t addr;		/* rx: the sender; tx: the destination, 0 for the peer */
	uint16_t port;
	uint16_t flags;		/* tx: NCS_DGRAM_TO set when addr/port are given */
	uint32_t pad;
};

#define NCS_DGRAM_TO 1u
#define NCS_DGRAM_ALIGN 8u
#define NCS_DGRAM_MAX 65507u	/* the largest UDP payload over IPv4 */

static inline uint32_t ncs_dgram_space(uint32_t len)
{
	return (uint32_t)((sizeof(struct ncs_dgram) + len + NCS_DGRAM_ALIGN - 1) &
			  ~(NCS_DGRAM_ALIGN - 1));
}

_Static_assert(sizeof(struct ncs_cmd) == 64, "command records are 64 bytes");
_Static_assert(sizeof(struct ncs_reply) % NCS_CACHELINE == 0, "replies fill cache lines");
_Static_assert(sizeof(struct ncs_slot) % NCS_CACHELINE == 0, "slots fill cache lines");

/* Copies len bytes into (in) or out of a ring's data area at free-running
 * position pos, wrapping at size (a power of two). */
static inline void ncs_ring_copy(uint8_t *area, uint32_t size, uint32_t pos, void *buf,
				 uint32_t len, int in)
{
	uint32_t off = pos & (size - 1);
	uint32_t first = len < size - off ? len : size - off;
	uint8_t *b = (uint8_t *)buf;
	if (in) {
		__builtin_memcpy(area + off, b, first);
		__builtin_memcpy(area, b + first, len - first);
	} else {
		__builtin_memcpy(b, area + off, first);
		__builtin_memcpy(b + first, area, len - first);
	}
}

/* Offsets of the parts, for a region of max_slots slots. */
static inline uint64_t ncs_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

struct ncs_layout {
	uint32_t max_slots, cmd_entries, reply_entries, data_ring_size;
	uint64_t cmd_off, reply_off, slot_off, data_off, size;
};

static inline void ncs_layout_compute(struct ncs_layout *l)
{
	l->cmd_off = ncs_align(sizeof(struct ncs_header), 4096);
	l->reply_off = ncs_align(l->cmd_off + (uint64_t)l->cmd_entries * sizeof(struct ncs_cmd), 4096);
	l->slot_off = ncs_align(l->reply_off + (uint64_t)l->reply_entries * sizeof(struct ncs_reply),
				4096);
	l->data_off = ncs_align(l->slot_off + (uint64_t)l->max_slots * sizeof(struct ncs_slot), 4096);
	l->size = l->data_off + (uint64_t)l->max_slots * 2 * l->data_ring_size;
}

/* The rx ring of slot i starts at data_off + i * 2 * ring; tx follows it. */
static inline uint64_t ncs_rx_off(const struct ncs_layout *l, uint32_t slot)
{
	return l->data_off + (uint64_t)slot * 2 * l->data_ring_size;
}

static inline uint64_t ncs_tx_off(const struct ncs_layout *l, uint32_t slot)
{
	return ncs_rx_off(l, slot) + l->data_ring_size;
}

#endif
