/*
 * udp.h: UDP (RFC 768, RFC 1122 4.1) over the sockets of sock.h.
 */
#ifndef NETD_UDP_H
#define NETD_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nbuf.h"
#include "sock.h"

struct stack;
struct ipv4_hdr;

/* Consumes nb; data at the UDP header, l3 marked at the IP header h. */
void udp_input(struct stack *st, struct nbuf *nb, const struct ipv4_hdr *h);
/* An ICMP error quoting one of our datagrams (see ip_icmp_error_deliver). */
void udp_err(struct stack *st, const uint8_t *quoted, size_t len, int err, bool hard);

/* The best socket for a datagram to (laddr, lport) from (raddr, rport). */
struct sock *udp_lookup(struct stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
			uint16_t rport);
int udp_connect(struct sock *sk, const struct sock_addr *a);
ssize_t udp_sendto(struct sock *sk, const void *buf, size_t len, int flags,
		   const struct sock_addr *dst);
ssize_t udp_recvfrom(struct sock *sk, void *buf, size_t len, int flags, struct sock_addr *src);
/* The same without looking at the pending error first: takes the next
 * datagram, or -EAGAIN when there is none, SHUT_RD or not (a
 * non-blocking recv on Linux). */
ssize_t udp_recv_datagram(struct sock *sk, void *buf, size_t len, int flags,
			  struct sock_addr *src);
/* Length of the next datagram's payload (SIOCINQ), 0 if none. */
int udp_next_len(const struct sock *sk);

#endif
