/*
 * conf.h: netd's configuration, from netd.conf(5) and the command line of
 * netd(8). The file and the flags fill the same struct; errors name the
 * file, the line and what was expected.
 */
#ifndef NETD_CONF_H
#define NETD_CONF_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../drivers/netdev.h"
#include "ctl.h"
#include "netif.h"
#include "stack.h"

#define CONF_MAX_ROUTES 64
#define CONF_ERRLEN 512

enum conf_if_kind { CONF_IF_TAP, CONF_IF_PACKET };

struct conf_iface {
	enum conf_if_kind kind;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	bool has_mac;
	unsigned mtu;			/* 0: the default, 1500 */
	struct {
		uint32_t addr;
		unsigned plen;
	} addrs[NETIF_MAX_ADDRS];
	unsigned naddrs;
	char capture[PATH_MAX];		/* "" for none */
	bool has_fault;
	struct fault_config fault;
};

struct conf_route {
	uint32_t dst;
	unsigned plen;
	uint32_t gw;
};

struct netd_config {
	struct conf_iface ifaces[NETIF_MAX];
	unsigned nifaces;
	uint32_t gateway;		/* 0: none */
	struct conf_route routes[CONF_MAX_ROUTES];
	unsigned nroutes;
	unsigned services;		/* SERVICE_* bits of services.h */
	int log_level;			/* enum log_level */
	struct stack_params params;	/* forwarding and tunables */
	struct ctl_config ctl;		/* control socket and client limits */
};

/* Defaults: no interface, log level info, stack_params_default(). */
void conf_init(struct netd_config *c);
/* Reads a netd.conf(5) file into c. 0, or -1 with "file:line: reason" in err. */
int conf_load_file(struct netd_config *c, const char *path, char *err, size_t errlen);
/* The command-line pieces, each applied as the flag is met. Interface
 * settings apply to the interface named last (or the only one). 0, or -1
 * with a reason in err. */
int conf_add_iface(struct netd_config *c, const char *spec, char *err, size_t errlen);
int conf_set_addr(struct netd_config *c, const char *prefix, char *err, size_t errlen);
int conf_set_gateway(struct netd_config *c, const char *addr, char *err, size_t errlen);
int conf_add_route(struct netd_config *c, const char *spec, char *err, size_t errlen);
int conf_set_mac(struct netd_config *c, const char *mac, char *err, size_t errlen);
int conf_set_mtu(struct netd_config *c, const char *mtu, char *err, size_t errlen);
int conf_set_capture(struct netd_config *c, const char *path, char *err, size_t errlen);
int conf_set_fault(struct netd_config *c, const char *spec, char *err, size_t errlen);
/* The control socket's path (-S, control-socket). */
int conf_set_control_socket(struct netd_config *c, const char *path, char *err, size_t errlen);
/* Adds the built-in services of a list such as "echo,discard,chargen". */
int conf_add_services(struct netd_config *c, const char *list, char *err, size_t errlen);
/* Checks the whole: at least one interface, the gateway on a connected
 * subnet, routes through reachable gateways. Fills default MACs. */
int conf_finish(struct netd_config *c, char *err, size_t errlen);
/* A stable locally administered MAC for ifname on this machine. */
void conf_default_mac(const char *ifname, uint8_t mac[6]);

#endif
