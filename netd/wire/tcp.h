/*
 * tcp.h: TCP headers (RFC 9293 3.1) and their options: MSS, window scale
 * and timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018),
 * parsed to a host-order struct after the checksum over the pseudo-header
 * is checked, and emitted in the exact layouts Linux uses, so that netd's
 * segments look like Linux's on the wire.
 */
#ifndef NETD_WIRE_TCP_H
#define NETD_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_HLEN 20
#define TCP_MAX_HLEN 60
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

#define TCP_MAX_WSCALE 14
#define TCP_MAX_SACK 4		/* blocks in one segment (3 with timestamps) */

struct tcp_sack_block {
	uint32_t start, end;
};

struct tcp_opts {
	bool mss_ok;
	uint16_t mss;
	bool ws_ok;
	uint8_t wscale;		/* as sent; the receiver clamps to 14 */
	bool sack_ok;		/* SACK permitted */
	bool ts_ok;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;		/* header length in bytes, options included */
	uint8_t flags;
	uint16_t win;		/* as on the wire, not scaled */
	uint16_t urg;
	struct tcp_opts opts;
};

/* Checks len >= 20, data offset within [20, len], the checksum over the
 * pseudo-header (src, dst in host order) and the segment, and that every
 * option's length stays in the header; fills h. Unknown options are
 * skipped; a known option with the wrong length is ignored as Linux does.
 * 0, DROP_TCP_SHORT, DROP_TCP_HDRLEN, DROP_TCP_CSUM or DROP_TCP_OPTIONS. */
int tcp_parse(const uint8_t *seg, size_t len, uint32_t src, uint32_t dst, struct tcp_hdr *h);

/* Bytes the options of h take when emitted (a multiple of 4). */
size_t tcp_opts_len(const struct tcp_hdr *h);
/* Writes the header and options of h at buf (doff is computed and stored
 * in h), then the checksum over them and the plen payload bytes that
 * already follow at buf + doff. Returns the header length. Option layouts
 * follow Linux: a SYN is "mss, sackOK, TS, nop, wscale" (MSS; SACK-permitted
 * fused with the timestamp; NOP and window scale), or without timestamps
 * "mss, nop, nop, sackOK, nop, wscale"; other segments carry "nop, nop,
 * TS" and then "nop, nop, SACK blocks". MSS, window scale and
 * SACK-permitted go only on segments with SYN set; elsewhere they are
 * ignored. */
size_t tcp_emit(uint8_t *buf, struct tcp_hdr *h, size_t plen, uint32_t src, uint32_t dst);

#endif
