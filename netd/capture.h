/*
 * capture.h: live capture for netdctl. A capture is a tap on the stack's
 * interfaces (netif.h) that writes frames in the pcap format of
 * drivers/pcap.c to a file descriptor a client handed over: every frame,
 * or only the TCP and UDP frames of the sockets one process owns. It ends
 * after count frames (an Ok goes to the control connection that asked),
 * when writing fails (an Error goes), or when that connection closes.
 */
#ifndef NETD_CAPTURE_H
#define NETD_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct stack;

/* Writes the pcap header to fd and starts capturing: frames of pid's
 * sockets (0: every frame), at most count (0: no limit). Takes fd (made
 * non-blocking: a reader that falls behind loses frames, never stalls
 * netd) on success; 0, -EBADF (not open for writing), -ENOMEM, or the
 * header's write error. */
int capture_start(struct stack *st, int fd, pid_t pid, uint64_t count, int conn_fd);
/* Ends the captures conn_fd asked for, without an answer (it is closing). */
void capture_stop(struct stack *st, int conn_fd);
bool capture_running(const struct stack *st, int conn_fd);

#endif
