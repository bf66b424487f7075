/*
 * services.h: diagnostic services built into netd, on their standard
 * ports: echo (RFC 862, port 7), discard (RFC 863, port 9) and chargen
 * (RFC 864, port 19). They let a user test the stack from the kernel side
 * with nc or socat before any client program exists.
 */
#ifndef NETD_SERVICES_H
#define NETD_SERVICES_H

struct stack;

enum {
	SERVICE_ECHO = 1 << 0,
	SERVICE_DISCARD = 1 << 1,
	SERVICE_CHARGEN = 1 << 2,
};

/* Parses "echo,discard,chargen" (any subset, any order) into bits; -1 on
 * an unknown name, with the name copied to bad. */
int services_parse(const char *list, unsigned *mask, char *bad, size_t badlen);
/* Opens the services in mask on every address. 0 or -errno. */
int services_start(struct stack *st, unsigned mask);
/* Closes them; the stack's teardown would free them all the same. */
void services_stop(struct stack *st);

#endif
