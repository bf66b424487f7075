/*
 * main.c: the netd daemon: reads the configuration (netd.conf(5) and the
 * flags of netd(8)), opens each interface's device (TAP or AF_PACKET,
 * wrapped by the pcap tee and the fault injector when asked), builds the
 * stack and runs the loop until SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "services.h"
#include "stack.h"
#include "wire/eth.h"

#define NETD_CONF_DEFAULT SYSCONFDIR "/netd/netd.conf"
#define OPTSTRING "a:dFf:g:hi:M:m:nr:S:s:Vvw:x:"

static const struct option long_options[] = {
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct options {
	const char *conf_file;
	bool foreground, check_only;
	int verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netd [-dFhnVv] [-a address/len] [-f file] [-g gateway] [-i kind:ifname]\n"
		"            [-M mtu] [-m mac] [-r dst/len,gateway] [-S socket] [-s services]\n"
		"            [-w file] [-x faults]\n"
		"  -a address/len      address of the last -i interface (repeatable)\n"
		"  -d                  stay in the foreground and log to stderr\n"
		"  -F                  forward packets between interfaces\n"
		"  -f file             configuration file (default " NETD_CONF_DEFAULT ")\n"
		"  -g gateway          default gateway\n"
		"  -h, --help          print this help and exit\n"
		"  -i tap:NAME         run on a TAP device, created if absent\n"
		"  -i packet:NAME      run on an existing interface through AF_PACKET\n"
		"  -M mtu              MTU of the last -i interface\n"
		"  -m mac              MAC of the last -i interface\n"
		"  -n                  check the configuration and exit\n"
		"  -r dst/len,gateway  static route (repeatable)\n"
		"  -S path             control socket (default " CTL_DEFAULT_SOCKET ")\n"
		"  -s services         built-in services: echo,discard,chargen\n"
		"  -V, --version       print the version and exit\n"
		"  -v                  more verbose (repeatable; -vv logs every drop)\n"
		"  -w file             capture the last -i interface's frames to a pcap file\n"
		"  -x faults           inject faults on the last -i interface, e.g.\n"
		"                      drop=1%%,duplicate=1%%,reorder=1%%,corrupt=0.1%%,delay=5ms,seed=1\n");
}

/* First pass: the flags that decide how the rest is read. */
static void parse_global_flags(int argc, char **argv, struct options *o, bool *have_iface)
{
	int ch;
	while ((ch = getopt_long(argc, argv, OPTSTRING, long_options, NULL)) != -1) {
		switch (ch) {
		case 'd': o->foreground = true; break;
		case 'f': o->conf_file = optarg; break;
		case 'n': o->check_only = true; break;
		case 'v': o->verbose++; break;
		case 'i': *have_iface = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("netd %s\n", PACKAGE_VERSION); exit(0);
		case '?': usage(stderr); exit(2);
		default: break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

/* Second pass: the flags that add to the configuration, in order. */
static int apply_flags(int argc, char **argv, struct netd_config *c, char *err, size_t len)
{
	int ch, rc = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, OPTSTRING, long_options, NULL)) != -1) {
		switch (ch) {
		case 'a': rc = conf_set_addr(c, optarg, err, len); break;
		case 'F': c->params.forwarding = true; break;
		case 'g': rc = conf_set_gateway(c, optarg, err, len); break;
		case 'i': rc = conf_add_iface(c, optarg, err, len); break;
		case 'M': rc = conf_set_mtu(c, optarg, err, len); break;
		case 'm': rc = conf_set_mac(c, optarg, err, len); break;
		case 'r': rc = conf_add_route(c, optarg, err, len); break;
		case 'S': rc = conf_set_control_socket(c, optarg, err, len); break;
		case 's': rc = conf_add_services(c, optarg, err, len); break;
		case 'w': rc = conf_set_capture(c, optarg, err, len); break;
		case 'x': rc = conf_set_fault(c, optarg, err, len); break;
		default: break;
		}
	}
	return rc;
}

static void load_config(int argc, char **argv, struct options *o, struct netd_config *c)
{
	char err[CONF_ERRLEN] = "";
	bool have_iface = false;

	parse_global_flags(argc, argv, o, &have_iface);
	conf_init(c);
	if (o->conf_file || !have_iface) {
		const char *path = o->conf_file ? o->conf_file : NETD_CONF_DEFAULT;
		if (conf_load_file(c, path, err, sizeof(err)) < 0)
			log_fatal("%s", err);
	}
	if (apply_flags(argc, argv, c, err, sizeof(err)) < 0 || conf_finish(c, err, sizeof(err)) < 0)
		log_fatal("%s", err);
	c->log_level += o->verbose;
}

static struct netdev *open_device(const struct conf_iface *ci, const struct netdev_env *env)
{
	struct netdev *dev;
	int err = 0;

	if (ci->kind == CONF_IF_TAP) {
		struct tap_config tc = {.name = ci->ifname, .bring_up = true};
		dev = tap_open(&tc, env, &err);
	} else {
		struct packet_config pc = {.ifname = ci->ifname};
		dev = packet_open(&pc, env, &err);
	}
	if (!dev)
		log_fatal("%s: cannot open: %s", ci->ifname, strerror(-err));
	if (ci->capture[0] && !(dev = pcap_wrap(dev, ci->capture, &err)))
		log_fatal("%s: capture to %s: %s", ci->ifname, ci->capture, strerror(-err));
	if (ci->has_fault && !(dev = fault_wrap(dev, &ci->fault, &err)))
		log_fatal("%s: fault injector: %s", ci->ifname, strerror(-err));
	return dev;
}

static struct netif *setup_iface(struct stack *st, struct loop *l, const struct conf_iface *ci)
{
	struct netdev_env env;
	stack_dev_env(st, &env, &l->ring);
	struct netdev *dev = open_device(ci, &env);
	const uint8_t *mac = ci->has_mac || eth_is_zero(dev->mac) ? ci->mac : dev->mac;
	unsigned mtu = ci->mtu ? ci->mtu : dev->mtu ? dev->mtu : 1500;
	struct netif *nif = netif_add(st, dev, mac, mtu);
	if (!nif)
		log_fatal("%s: too many interfaces", ci->ifname);
	for (unsigned i = 0; i < ci->naddrs; i++) {
		int err = netif_add_addr(nif, ci->addrs[i].addr, ci->addrs[i].plen);
		if (err)
			log_fatal("%s: address: %s", ci->ifname, strerror(-err));
	}
	return nif;
}

static void add_route(struct stack *st, uint32_t dst, unsigned plen, uint32_t gw)
{
	const struct route *via = route_lookup(&st->routes, gw);
	struct route r = {.dst = dst, .plen = (uint8_t)plen, .gw = gw, .origin = ROUTE_STATIC};
	if (!via || via->gw)
		log_fatal("gateway of route %08x/%u is not on a connected subnet", dst, plen);
	r.nif = via->nif;
	int err = route_add(&st->routes, &r);
	if (err)
		log_fatal("route %08x/%u: %s", dst, plen, strerror(-err));
}

static void setup_stack(struct stack *st, struct loop *l, const struct netd_config *c)
{
	for (unsigned i = 0; i < c->nifaces; i++)
		setup_iface(st, l, &c->ifaces[i]);
	for (unsigned i = 0; i < c->nroutes; i++)
		add_route(st, c->routes[i].dst, c->routes[i].plen, c->routes[i].gw);
	if (c->gateway)
		add_route(st, 0, 0, c->gateway);
}

int main(int argc, char **argv)
{
	struct options o = {0};
	static struct netd_config conf;
	struct loop loop;
	int err;

	log_init(1, LOG_LVL_INFO);
	load_config(argc, argv, &o, &conf);
	if (o.check_only) {
		printf("configuration OK\n");
		return 0;
	}
	log_init(o.foreground, conf.log_level);
	if (!o.foreground && daemon(0, 0) < 0)
		log_fatal("daemon: %s", strerror(errno));
	struct stack *st = stack_create(&conf.params, false, &err);
	if (!st)
		log_fatal("cannot create the stack: %s", strerror(-err));
	st->trace = conf.log_level > LOG_LVL_DEBUG;	/* -vv */
	if ((err = loop_init(&loop, st)) < 0)
		log_fatal("io_uring: %s", strerror(-err));
	setup_stack(st, &loop, &conf);
	if ((err = loop_watch_devices(&loop)) < 0)
		log_fatal("io_uring: %s", strerror(-err));
	for (unsigned i = 0; i < st->nifs; i++)
		netif_up(st->ifs[i]);
	if ((err = services_start(st, conf.services)) < 0)
		log_fatal("services: %s", strerror(-err));
	if (!(loop.ctl = ctl_create(&loop, st, &conf.ctl, &err)))
		log_fatal("control socket %s: %s", conf.ctl.path, strerror(-err));
	log_info("running on %u interface(s), control socket %s", st->nifs, conf.ctl.path);
	notify_send("READY=1");
	err = loop_run(&loop);
	notify_send("STOPPING=1");
	ctl_destroy(loop.ctl);
	loop_destroy(&loop);
	stack_destroy(st);
	return err < 0 ? 1 : 0;
}
