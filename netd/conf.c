/*
 * conf.c: reads netd.conf(5) and the flags of netd(8) into one struct
 * netd_config. Each kind of value (address, prefix, MAC, number, duration,
 * size, probability, fault list) has exactly one parser here, and both the
 * file reader and the flag setters go through it: the reader only splits a
 * line into words, looks the first one up in a table of keywords and puts
 * "file:line: " in front of the reason a parser gives. A reason says what
 * was expected and what was found. conf_finish() checks what only the
 * whole configuration can tell: that an interface exists and that every
 * gateway is on a connected subnet.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "services.h"
#include "log.h"
#include "util.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

#define MTU_MIN 68
#define MTU_MAX 9000
#define CONF_MAX_WORDS 32
#define BLANKS " \t\r\n\v\f"
#define MACHINE_ID_PATH "/etc/machine-id"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Writes the reason into err and is -1, for "return fail(...)"; a macro so
 * that the compiler sees the -1 at each call. */
#define fail(err, errlen, ...) (set_err((err), (errlen), __VA_ARGS__), -1)

/* ---- values: one parser for each kind, shared by file and flags ---- */

/* Decimal digits only: no sign, no blanks. *end is set past the digits. */
static int parse_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t x = 0;
	const char *p;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*end = p;
	*v = x;
	return 0;
}

static int parse_number(const char *s, uint64_t lo, uint64_t hi, const char *what,
			uint64_t *v, char *err, size_t errlen)
{
	const char *end;

	if (parse_digits(s, &end, v) < 0 || *end || *v < lo || *v > hi)
		return fail(err, errlen, "expected a number from %" PRIu64 " to %" PRIu64
			    " for %s, got '%s'", lo, hi, what, s);
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t mult;
};

static const struct unit time_units[] = { { "ms", 1 }, { "s", 1000 }, { NULL, 0 } };
static const struct unit us_units[] = { { "us", 1 }, { "ms", 1000 }, { NULL, 0 } };
static const struct unit size_units[] = {
	{ "", 1 }, { "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 }, { NULL, 0 }
};

/* A whole number with one of the suffixes, in the smallest unit: 0, -1 when
 * malformed, -2 when larger than max. */
static int parse_scaled(const char *s, const struct unit *units, uint64_t max, uint64_t *v)
{
	const char *end;
	uint64_t x;

	if (parse_digits(s, &end, &x) < 0)
		return isdigit((unsigned char)*s) ? -2 : -1;
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcmp(end, u->suffix) != 0)
			continue;
		if (x > max / u->mult)
			return -2;
		*v = x * u->mult;
		return 0;
	}
	return -1;
}

/* v in the largest unit that divides it: "30s", "500ms", "4M". */
static const char *format_scaled(char *buf, size_t len, uint64_t v, const struct unit *units)
{
	const struct unit *best = units;

	for (const struct unit *u = units; u->suffix; u++)
		if (v % u->mult == 0 && u->mult > best->mult)
			best = u;
	snprintf(buf, len, "%" PRIu64 "%s", v / best->mult, best->suffix);
	return buf;
}

/* A value with a unit (kind "duration" or "size") between lo and hi. */
static int parse_unit_value(const char *s, const struct unit *units, const char *kind,
			    const char *example, uint64_t lo, uint64_t hi, const char *what,
			    uint64_t *v, char *err, size_t errlen)
{
	char a[32], b[32];
	int r = parse_scaled(s, units, hi, v);

	if (r == -1)
		return fail(err, errlen, "expected a %s such as %s for %s, got '%s'", kind,
			    example, what, s);
	if (r == -2 || *v < lo)
		return fail(err, errlen, "expected a %s from %s to %s for %s, got '%s'", kind,
			    format_scaled(a, sizeof(a), lo, units),
			    format_scaled(b, sizeof(b), hi, units), what, s);
	return 0;
}

/* Milliseconds from "500ms" or "30s". */
static int parse_duration(const char *s, uint64_t lo_ms, uint64_t hi_ms, const char *what,
			  uint64_t *ms, char *err, size_t errlen)
{
	return parse_unit_value(s, time_units, "duration", "500ms or 30s", lo_ms, hi_ms, what,
				ms, err, errlen);
}

/* Bytes from "65536", "512k" or "4M" (1024-based). */
static int parse_size(const char *s, uint64_t lo, uint64_t hi, const char *what,
		      uint64_t *bytes, char *err, size_t errlen)
{
	return parse_unit_value(s, size_units, "size", "4M or 512k", lo, hi, what, bytes,
				err, errlen);
}

/* A probability "0.01" or a percentage "2%". */
static int parse_prob(const char *s, const char *what, double *p, char *err, size_t errlen)
{
	char *end;
	double x;

	if (!isdigit((unsigned char)*s) && *s != '.')
		goto bad;
	errno = 0;
	x = strtod(s, &end);
	if (end == s || errno)
		goto bad;
	if (end[0] == '%' && end[1] == '\0')
		x /= 100;
	else if (*end)
		goto bad;
	if (!(x >= 0 && x <= 1))
		goto bad;
	*p = x;
	return 0;
bad:
	return fail(err, errlen, "expected a probability from 0 to 1 or a percentage such as 2%%"
		    " for %s, got '%s'", what, s);
}

/* One of the words in names (NULL-terminated); its index in *v. */
static int parse_choice(const char *s, const char *const *names, const char *expected,
			const char *what, int *v, char *err, size_t errlen)
{
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			return 0;
		}
	}
	return fail(err, errlen, "expected %s for %s, got '%s'", expected, what, s);
}

static bool addr_is_unicast(uint32_t a)
{
	return a != 0 && !ipv4_is_multicast(a) && !ipv4_is_loopback(a) && (a >> 28) != 0xf;
}

/* A unicast host address, "10.0.0.1". */
static int parse_host(const char *s, const char *what, uint32_t *a, char *err, size_t errlen)
{
	if (ipv4_aton(s, a) < 0)
		return fail(err, errlen, "expected an address such as 10.0.0.1 for %s, got '%s'",
			    what, s);
	if (!addr_is_unicast(*a))
		return fail(err, errlen, "expected a unicast address for %s, got '%s'", what, s);
	return 0;
}

/* An interface address, "10.0.0.2/24": a unicast host on its subnet. */
static int parse_ifaddr(const char *s, uint32_t *a, unsigned *plen, char *err, size_t errlen)
{
	uint32_t host;

	if (!strchr(s, '/') || ipv4_parse_prefix(s, a, plen) < 0 || *plen == 0)
		return fail(err, errlen, "expected an address with prefix length such as "
			    "10.0.0.2/24, got '%s'", s);
	if (!addr_is_unicast(*a))
		return fail(err, errlen, "expected a unicast address with prefix length such as "
			    "10.0.0.2/24, got '%s'", s);
	host = *a & ~ipv4_mask(*plen);
	if (*plen <= 30 && host == 0)
		return fail(err, errlen, "expected a host address, got '%s', the network "
			    "address of its subnet", s);
	if (*plen <= 30 && host == ~ipv4_mask(*plen))
		return fail(err, errlen, "expected a host address, got '%s', the broadcast "
			    "address of its subnet", s);
	return 0;
}

/* A route destination, "192.168.5.0/24", without host bits. */
static int parse_route_dst(const char *s, uint32_t *a, unsigned *plen, char *err, size_t errlen)
{
	char net[IPV4_ADDR_STRLEN];

	if (!strchr(s, '/') || ipv4_parse_prefix(s, a, plen) < 0)
		return fail(err, errlen, "expected a destination with prefix length such as "
			    "192.168.5.0/24, got '%s'", s);
	if (*a & ~ipv4_mask(*plen))
		return fail(err, errlen, "expected a destination without host bits such as "
			    "%s/%u, got '%s'", ipv4_ntoa(*a & ipv4_mask(*plen), net), *plen, s);
	return 0;
}

/* A unicast MAC, "02:00:00:00:00:01". */
static int parse_mac(const char *s, uint8_t mac[6], char *err, size_t errlen)
{
	if (eth_aton(s, mac) < 0 || eth_is_multicast(mac) || eth_is_zero(mac))
		return fail(err, errlen, "expected a unicast MAC such as 02:00:00:00:00:01, "
			    "got '%s'", s);
	return 0;
}

static const struct {
	const char *prefix;
	enum conf_if_kind kind;
} if_kinds[] = {
	{ "tap:", CONF_IF_TAP },
	{ "packet:", CONF_IF_PACKET },
};

/* "tap:NAME" or "packet:NAME"; *name points into spec. */
static int parse_ifspec(const char *spec, enum conf_if_kind *kind, const char **name,
			char *err, size_t errlen)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(if_kinds); i++)
		if (strncmp(spec, if_kinds[i].prefix, strlen(if_kinds[i].prefix)) == 0)
			break;
	if (i == ARRAY_SIZE(if_kinds) || !spec[strlen(if_kinds[i].prefix)])
		return fail(err, errlen, "expected an interface such as tap:tap0 or "
			    "packet:veth1, got '%s'", spec);
	*kind = if_kinds[i].kind;
	*name = spec + strlen(if_kinds[i].prefix);
	n = strlen(*name);
	if (n > IFNAMSIZ - 1)
		return fail(err, errlen, "expected an interface name of at most %d characters, "
			    "got '%s' (%zu)", IFNAMSIZ - 1, *name, n);
	if (strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0 ||
	    strpbrk(*name, "/:" BLANKS))
		return fail(err, errlen, "expected an interface name without '/', ':' or "
			    "blanks, got '%s'", *name);
	return 0;
}

/* ---- the flag setters (and the file's interface keywords) ---- */

static struct conf_iface *find_iface(struct netd_config *c, const char *name)
{
	for (unsigned i = 0; i < c->nifaces; i++)
		if (strcmp(c->ifaces[i].ifname, name) == 0)
			return &c->ifaces[i];
	return NULL;
}

/* The interface that interface settings apply to: the last one added. */
static struct conf_iface *last_iface(struct netd_config *c, const char *flag, char *err,
				     size_t errlen)
{
	if (c->nifaces == 0) {
		set_err(err, errlen, "%s needs an interface: give -i first", flag);
		return NULL;
	}
	return &c->ifaces[c->nifaces - 1];
}

int conf_add_iface(struct netd_config *c, const char *spec, char *err, size_t errlen)
{
	enum conf_if_kind kind;
	const char *name;
	struct conf_iface *ifc;

	if (parse_ifspec(spec, &kind, &name, err, errlen) < 0)
		return -1;
	if (find_iface(c, name))
		return fail(err, errlen, "duplicate interface %s: it is already configured", name);
	if (c->nifaces == NETIF_MAX)
		return fail(err, errlen, "too many interfaces: at most %d, got '%s' as one more",
			    NETIF_MAX, spec);
	ifc = &c->ifaces[c->nifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->kind = kind;
	snprintf(ifc->ifname, sizeof(ifc->ifname), "%s", name);
	return 0;
}

int conf_set_addr(struct netd_config *c, const char *prefix, char *err, size_t errlen)
{
	struct conf_iface *ifc = last_iface(c, "-a", err, errlen);
	uint32_t a;
	unsigned plen;

	if (!ifc || parse_ifaddr(prefix, &a, &plen, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < ifc->naddrs; i++)
		if (ifc->addrs[i].addr == a)
			return fail(err, errlen, "duplicate address: %s already has '%s'",
				    ifc->ifname, prefix);
	if (ifc->naddrs == NETIF_MAX_ADDRS)
		return fail(err, errlen, "too many addresses on %s: at most %d, got '%s' as one "
			    "more", ifc->ifname, NETIF_MAX_ADDRS, prefix);
	ifc->addrs[ifc->naddrs].addr = a;
	ifc->addrs[ifc->naddrs].plen = plen;
	ifc->naddrs++;
	return 0;
}

int conf_set_gateway(struct netd_config *c, const char *addr, char *err, size_t errlen)
{
	uint32_t gw;

	if (parse_host(addr, "the gateway", &gw, err, errlen) < 0)
		return -1;
	c->gateway = gw;
	return 0;
}

int conf_add_services(struct netd_config *c, const char *list, char *err, size_t errlen)
{
	char bad[32];
	unsigned mask;

	if (services_parse(list, &mask, bad, sizeof(bad)) < 0) {
		snprintf(err, errlen, "unknown service '%s': expected echo, discard or chargen", bad);
		return -1;
	}
	c->services |= mask;
	return 0;
}

/* Adds the route dst via gw; shared by -r and the route keyword. */
static int add_route(struct netd_config *c, const char *dst, const char *gw, char *err,
		     size_t errlen)
{
	struct conf_route r;

	if (parse_route_dst(dst, &r.dst, &r.plen, err, errlen) < 0 ||
	    parse_host(gw, "the route's gateway", &r.gw, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < c->nroutes; i++)
		if (c->routes[i].dst == r.dst && c->routes[i].plen == r.plen)
			return fail(err, errlen, "duplicate route: one to %s is already "
				    "configured", dst);
	if (c->nroutes == CONF_MAX_ROUTES)
		return fail(err, errlen, "too many routes: at most %d, got one more to %s",
			    CONF_MAX_ROUTES, dst);
	c->routes[c->nroutes++] = r;
	return 0;
}

int conf_add_route(struct netd_config *c, const char *spec, char *err, size_t errlen)
{
	char dst[64];
	const char *comma = strchr(spec, ',');

	if (!comma || (size_t)(comma - spec) >= sizeof(dst))
		return fail(err, errlen, "expected a route such as 192.168.5.0/24,10.0.0.254, "
			    "got '%s'", spec);
	memcpy(dst, spec, (size_t)(comma - spec));
	dst[comma - spec] = '\0';
	return add_route(c, dst, comma + 1, err, errlen);
}

int conf_set_mac(struct netd_config *c, const char *mac, char *err, size_t errlen)
{
	struct conf_iface *ifc = last_iface(c, "-m", err, errlen);
	uint8_t m[6];

	if (!ifc || parse_mac(mac, m, err, errlen) < 0)
		return -1;
	memcpy(ifc->mac, m, sizeof(m));
	ifc->has_mac = true;
	return 0;
}

int conf_set_mtu(struct netd_config *c, const char *mtu, char *err, size_t errlen)
{
	struct conf_iface *ifc = last_iface(c, "-M", err, errlen);
	uint64_t v;

	if (!ifc || parse_number(mtu, MTU_MIN, MTU_MAX, "the MTU", &v, err, errlen) < 0)
		return -1;
	ifc->mtu = (unsigned)v;
	return 0;
}

/* A relative capture path is taken from the current directory now, so it
 * does not move when the daemon changes directory. */
int conf_set_capture(struct netd_config *c, const char *path, char *err, size_t errlen)
{
	struct conf_iface *ifc = last_iface(c, "-w", err, errlen);
	char cwd[PATH_MAX], full[PATH_MAX];
	int n;

	if (!ifc)
		return -1;
	if (!*path)
		return fail(err, errlen, "expected a file name for the capture, got ''");
	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return fail(err, errlen, "cannot make '%s' absolute: %s", path, strerror(errno));
	n = path[0] == '/' ? snprintf(full, sizeof(full), "%s", path)
			   : snprintf(full, sizeof(full), "%s/%s", cwd, path);
	if (n < 0 || (size_t)n >= sizeof(full))
		return fail(err, errlen, "expected a capture path of at most %d bytes, got '%s'",
			    PATH_MAX - 1, path);
	memcpy(ifc->capture, full, (size_t)n + 1);
	return 0;
}

/* ---- fault injection: "drop 1%" in the file, "drop=1%" in -x ---- */

static int fault_drop(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	return parse_prob(v, "drop", &f->drop, err, errlen);
}

static int fault_duplicate(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	return parse_prob(v, "duplicate", &f->duplicate, err, errlen);
}

static int fault_reorder(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	return parse_prob(v, "reorder", &f->reorder, err, errlen);
}

static int fault_corrupt(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	return parse_prob(v, "corrupt", &f->corrupt, err, errlen);
}

static int fault_delay(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration(v, 0, 60 * 1000, "delay", &ms, err, errlen) < 0)
		return -1;
	f->delay_ns = MSEC(ms);
	return 0;
}

static int fault_seed(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	const char *end;

	if (parse_digits(v, &end, &f->seed) < 0 || *end)
		return fail(err, errlen, "expected a whole number such as 42 for seed, got '%s'",
			    v);
	return 0;
}

static int fault_direction(struct fault_config *f, const char *v, char *err, size_t errlen)
{
	static const char *const names[] = { "rx", "tx", "both", NULL };
	int d;

	if (parse_choice(v, names, "rx, tx or both", "direction", &d, err, errlen) < 0)
		return -1;
	f->rx = d != 1;
	f->tx = d != 0;
	return 0;
}

static const struct {
	const char *name;
	int (*set)(struct fault_config *f, const char *v, char *err, size_t errlen);
} fault_opts[] = {
	{ "drop", fault_drop },
	{ "duplicate", fault_duplicate },
	{ "reorder", fault_reorder },
	{ "corrupt", fault_corrupt },
	{ "delay", fault_delay },
	{ "seed", fault_seed },
	{ "direction", fault_direction },
};

static int fault_set(struct fault_config *f, const char *key, const char *v, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(fault_opts); i++)
		if (strcmp(key, fault_opts[i].name) == 0)
			return fault_opts[i].set(f, v, err, errlen);
	return fail(err, errlen, "expected drop, duplicate, reorder, corrupt, delay, seed or "
		    "direction in the fault settings, got '%s'", key);
}

/* The fault settings of ifc so far, or the defaults: nothing, both ways. */
static struct fault_config fault_start(const struct conf_iface *ifc)
{
	struct fault_config f = { .rx = true, .tx = true };

	return ifc->has_fault ? ifc->fault : f;
}

static void fault_commit(struct conf_iface *ifc, const struct fault_config *f)
{
	ifc->fault = *f;
	ifc->has_fault = true;
}

/* Applies one "key=value" item of a -x list. */
static int fault_set_item(struct fault_config *f, char *item, char *err, size_t errlen)
{
	char *eq = strchr(item, '=');

	if (!eq || eq == item)
		return fail(err, errlen, "expected key=value such as drop=0.01 in the fault "
			    "settings, got '%s'", item);
	*eq = '\0';
	return fault_set(f, item, eq + 1, err, errlen);
}

int conf_set_fault(struct netd_config *c, const char *spec, char *err, size_t errlen)
{
	struct conf_iface *ifc = last_iface(c, "-x", err, errlen);
	struct fault_config f;
	char *copy, *item, *next;
	int rc = 0;

	if (!ifc)
		return -1;
	copy = strdup(spec);
	if (!copy)
		return fail(err, errlen, "out of memory");
	f = fault_start(ifc);
	for (item = copy; rc == 0 && item; item = next) {
		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		rc = fault_set_item(&f, item, err, errlen);
	}
	if (rc == 0)
		fault_commit(ifc, &f);
	free(copy);
	return rc;
}

/* ---- the file: words, keywords, blocks ---- */

struct reader {
	struct netd_config *c;
	unsigned lineno;	/* of the line being read, from 1 */
	unsigned block_line;	/* line of the open interface block; 0: none */
};

enum kw_scope { IN_TOP, IN_BLOCK, ANYWHERE };

typedef int kw_fn(struct reader *r, int argc, char **argv, char *err, size_t errlen);

struct keyword {
	const char *name;
	enum kw_scope scope;
	int nargs;		/* words after the keyword; -1: the handler checks */
	const char *usage;
	kw_fn *fn;
};

static int kw_interface(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	if (strcmp(argv[2], "{") != 0)
		return fail(err, errlen, "expected '{' after 'interface %s', got '%s'", argv[1],
			    argv[2]);
	if (conf_add_iface(r->c, argv[1], err, errlen) < 0)
		return -1;
	r->block_line = r->lineno;
	return 0;
}

static int kw_close(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	if (!r->block_line)
		return fail(err, errlen, "'}' without an open interface block");
	r->block_line = 0;
	return 0;
}

static int kw_open(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return fail(err, errlen, "expected '{' at the end of an 'interface KIND:NAME' line, "
		    "got it alone");
}

static int kw_address(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_addr(r->c, argv[1], err, errlen);
}

static int kw_mac(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_mac(r->c, argv[1], err, errlen);
}

static int kw_mtu(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_mtu(r->c, argv[1], err, errlen);
}

static int kw_capture(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_capture(r->c, argv[1], err, errlen);
}

static int kw_fault(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	struct conf_iface *ifc = &r->c->ifaces[r->c->nifaces - 1];
	struct fault_config f = fault_start(ifc);

	if (argc < 2)
		return fail(err, errlen, "expected settings such as 'fault drop 1%%' after "
			    "'fault', got end of line");
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 == argc)
			return fail(err, errlen, "expected a value after fault setting '%s', "
				    "got end of line", argv[i]);
		if (fault_set(&f, argv[i], argv[i + 1], err, errlen) < 0)
			return -1;
	}
	fault_commit(ifc, &f);
	return 0;
}

static int kw_gateway(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_gateway(r->c, argv[1], err, errlen);
}

static int kw_route(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	if (strcmp(argv[2], "via") != 0)
		return fail(err, errlen, "expected 'via' after 'route %s', got '%s'", argv[1],
			    argv[2]);
	return add_route(r->c, argv[1], argv[3], err, errlen);
}

static int kw_forwarding(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	static const char *const names[] = { "no", "yes", NULL };
	int v;

	if (parse_choice(argv[1], names, "yes or no", "forwarding", &v, err, errlen) < 0)
		return -1;
	r->c->params.forwarding = v;
	return 0;
}

static int kw_log_level(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	/* In the order of enum log_level. */
	static const char *const names[] = { "error", "warn", "info", "debug", NULL };

	return parse_choice(argv[1], names, "error, warn, info or debug", "log-level",
			    &r->c->log_level, err, errlen);
}

static int kw_icmp_rate(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_number(argv[1], 0, 1000000, "icmp-rate", &v, err, errlen) < 0)
		return -1;
	r->c->params.icmp_msgs_per_sec = (unsigned)v;
	return 0;
}

static int kw_icmp_ratelimit(struct reader *r, int argc, char **argv, char *err,
			     size_t errlen)
{
	uint64_t ms;

	if (parse_duration(argv[1], 0, 3600 * 1000, "icmp-ratelimit", &ms, err, errlen) < 0)
		return -1;
	r->c->params.icmp_ratelimit_ms = (unsigned)ms;
	return 0;
}

static int kw_arp_reachable(struct reader *r, int argc, char **argv, char *err,
			    size_t errlen)
{
	uint64_t ms;

	if (parse_duration(argv[1], 1, 3600 * 1000, "arp-reachable", &ms, err, errlen) < 0)
		return -1;
	r->c->params.arp_reachable_ms = (unsigned)ms;
	return 0;
}

static int kw_arp_queue(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_number(argv[1], 1, 10000, "arp-queue", &v, err, errlen) < 0)
		return -1;
	r->c->params.arp_queue_len = (unsigned)v;
	return 0;
}

static int kw_reasm_timeout(struct reader *r, int argc, char **argv, char *err,
			    size_t errlen)
{
	uint64_t ms;

	if (parse_duration(argv[1], 1, 3600 * 1000, "reassembly-timeout", &ms, err,
			   errlen) < 0)
		return -1;
	r->c->params.reasm_timeout_ms = (unsigned)ms;
	return 0;
}

static int kw_reasm_memory(struct reader *r, int argc, char **argv, char *err,
			   size_t errlen)
{
	uint64_t bytes;

	if (parse_size(argv[1], 64 * 1024, 1024 * 1024 * 1024, "reassembly-memory", &bytes,
		       err, errlen) < 0)
		return -1;
	r->c->params.reasm_mem_limit = (size_t)bytes;
	return 0;
}

static int kw_buffers(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_number(argv[1], 256, 1024 * 1024, "buffers", &v, err, errlen) < 0)
		return -1;
	r->c->params.pool_small = (unsigned)v;
	return 0;
}

static int kw_busy_poll(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_unit_value(argv[1], us_units, "duration", "50us or 0us", 0, 10000, "busy-poll",
			     &v, err, errlen) < 0)
		return -1;
	r->c->params.busy_poll_us = (unsigned)v;
	return 0;
}

static int kw_services(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	if (argc < 2) {
		snprintf(err, errlen, "expected 'services NAME...' with echo, discard or chargen");
		return -1;
	}
	for (int i = 1; i < argc; i++)
		if (conf_add_services(r->c, argv[i], err, errlen) < 0)
			return -1;
	return 0;
}

int conf_set_control_socket(struct netd_config *c, const char *path, char *err, size_t errlen)
{
	if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(err, errlen, "control socket '%s': expected an absolute path of at most %zu bytes",
			    path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	snprintf(c->ctl.path, sizeof(c->ctl.path), "%s", path);
	return 0;
}

static int kw_control_socket(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return conf_set_control_socket(r->c, argv[1], err, errlen);
}

static int kw_client_max_sockets(struct reader *r, int argc, char **argv, char *err,
				 size_t errlen)
{
	uint64_t v;

	if (parse_number(argv[1], 1, 65536, "client-max-sockets", &v, err, errlen) < 0)
		return -1;
	r->c->ctl.client_max_sockets = (unsigned)v;
	return 0;
}

static int kw_client_ring_size(struct reader *r, int argc, char **argv, char *err,
			       size_t errlen)
{
	uint64_t v;

	if (parse_size(argv[1], 16 * 1024, 4 * 1024 * 1024, "client-ring-size", &v, err, errlen) < 0)
		return -1;
	if (v & (v - 1))
		return fail(err, errlen, "client-ring-size: expected a power of two such as 256k, not '%s'",
			    argv[1]);
	r->c->ctl.client_ring_size = (unsigned)v;
	return 0;
}

static int parse_group(const char *name, const char *what, gid_t *gid, char *err, size_t errlen)
{
	struct group *g = getgrnam(name);
	if (!g)
		return fail(err, errlen, "%s: no group named '%s'", what, name);
	*gid = g->gr_gid;
	return 0;
}

static int kw_admin_group(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return parse_group(argv[1], "admin-group", &r->c->ctl.admin_gid, err, errlen);
}

static int kw_bind_group(struct reader *r, int argc, char **argv, char *err, size_t errlen)
{
	return parse_group(argv[1], "bind-group", &r->c->ctl.bind_gid, err, errlen);
}

static const struct keyword keywords[] = {
	{ "interface", IN_TOP, 2, "interface KIND:NAME {", kw_interface },
	{ "}", ANYWHERE, 0, "}", kw_close },
	{ "{", ANYWHERE, -1, "{", kw_open },
	{ "address", IN_BLOCK, 1, "address A.B.C.D/LEN", kw_address },
	{ "mac", IN_BLOCK, 1, "mac XX:XX:XX:XX:XX:XX", kw_mac },
	{ "mtu", IN_BLOCK, 1, "mtu N", kw_mtu },
	{ "capture", IN_BLOCK, 1, "capture PATH", kw_capture },
	{ "fault", IN_BLOCK, -1, "fault SETTING VALUE ...", kw_fault },
	{ "gateway", IN_TOP, 1, "gateway A.B.C.D", kw_gateway },
	{ "route", IN_TOP, 3, "route A.B.C.D/LEN via A.B.C.D", kw_route },
	{ "forwarding", IN_TOP, 1, "forwarding yes|no", kw_forwarding },
	{ "log-level", IN_TOP, 1, "log-level LEVEL", kw_log_level },
	{ "icmp-rate", IN_TOP, 1, "icmp-rate N", kw_icmp_rate },
	{ "icmp-ratelimit", IN_TOP, 1, "icmp-ratelimit DURATION", kw_icmp_ratelimit },
	{ "arp-reachable", IN_TOP, 1, "arp-reachable DURATION", kw_arp_reachable },
	{ "arp-queue", IN_TOP, 1, "arp-queue N", kw_arp_queue },
	{ "reassembly-timeout", IN_TOP, 1, "reassembly-timeout DURATION", kw_reasm_timeout },
	{ "reassembly-memory", IN_TOP, 1, "reassembly-memory SIZE", kw_reasm_memory },
	{ "buffers", IN_TOP, 1, "buffers N", kw_buffers },
	{ "services", IN_TOP, -1, "services NAME...", kw_services },
	{ "busy-poll", IN_TOP, 1, "busy-poll DURATION", kw_busy_poll },
	{ "control-socket", IN_TOP, 1, "control-socket PATH", kw_control_socket },
	{ "client-max-sockets", IN_TOP, 1, "client-max-sockets N", kw_client_max_sockets },
	{ "client-ring-size", IN_TOP, 1, "client-ring-size SIZE", kw_client_ring_size },
	{ "admin-group", IN_TOP, 1, "admin-group NAME", kw_admin_group },
	{ "bind-group", IN_TOP, 1, "bind-group NAME", kw_bind_group },
};

/* Levenshtein distance, for "did you mean"; large when b is long. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned row[32], prev, tmp;
	size_t lb = strlen(b);

	if (lb >= ARRAY_SIZE(row))
		return UINT32_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; a[i - 1]; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1),
				     prev + (a[i - 1] != b[j - 1]));
			prev = tmp;
		}
	}
	return row[lb];
}

static int unknown_keyword(const char *word, char *err, size_t errlen)
{
	const char *best = NULL;
	unsigned best_d = 3;	/* suggest only near misses */

	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
		unsigned d = edit_distance(word, keywords[i].name);
		if (strlen(keywords[i].name) > 1 && d < best_d) {
			best_d = d;
			best = keywords[i].name;
		}
	}
	if (best)
		return fail(err, errlen, "unknown keyword '%s'; did you mean '%s'?", word, best);
	return fail(err, errlen, "unknown keyword '%s'", word);
}

static const struct keyword *find_keyword(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
		if (strcmp(word, keywords[i].name) == 0)
			return &keywords[i];
	return NULL;
}

/* The keyword is allowed where the reader stands. */
static int check_scope(const struct reader *r, const struct keyword *kw, char *err,
		       size_t errlen)
{
	if (kw->scope == IN_BLOCK && !r->block_line)
		return fail(err, errlen, "expected '%s' inside an interface block, got it "
			    "outside one", kw->name);
	if (kw->scope == IN_TOP && r->block_line)
		return fail(err, errlen, "expected '}' to close the interface block opened at "
			    "line %u before '%s'", r->block_line, kw->name);
	return 0;
}

/* The line has as many words as the keyword takes. */
static int check_nargs(const struct keyword *kw, int argc, char **argv, char *err,
		       size_t errlen)
{
	if (kw->nargs < 0 || argc - 1 == kw->nargs)
		return 0;
	if (argc - 1 > kw->nargs)
		return fail(err, errlen, "expected end of line after '%s', got '%s'",
			    argv[kw->nargs], argv[kw->nargs + 1]);
	return fail(err, errlen, "expected '%s', got end of line after '%s'", kw->usage,
		    argv[argc - 1]);
}

/* Splits line into words at blanks, up to a '#'; the count or -1. */
static int split_words(char *line, char **words, int max)
{
	char *save, *w;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	for (w = strtok_r(line, BLANKS, &save); w; w = strtok_r(NULL, BLANKS, &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

static int read_line(struct reader *r, char *line, char *err, size_t errlen)
{
	char *words[CONF_MAX_WORDS];
	const struct keyword *kw;
	int n = split_words(line, words, CONF_MAX_WORDS);

	if (n < 0)
		return fail(err, errlen, "expected at most %d words on a line, got more",
			    CONF_MAX_WORDS);
	if (n == 0)
		return 0;
	kw = find_keyword(words[0]);
	if (!kw)
		return unknown_keyword(words[0], err, errlen);
	if (check_scope(r, kw, err, errlen) < 0 || check_nargs(kw, n, words, err, errlen) < 0)
		return -1;
	return kw->fn(r, n, words, err, errlen);
}

/* Reads every line of f; 0, or -1 with the reason in err. */
static int read_lines(struct reader *r, FILE *f, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		r->lineno++;
		rc = read_line(r, line, err, errlen);
	}
	free(line);
	if (rc == 0 && r->block_line)
		return fail(err, errlen, "missing '}' for the interface block opened at line %u",
			    r->block_line);
	return rc;
}

int conf_load_file(struct netd_config *c, const char *path, char *err, size_t errlen)
{
	struct reader r = { .c = c };
	char reason[CONF_ERRLEN];
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	errno = 0;
	rc = read_lines(&r, f, reason, sizeof(reason));
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
	else if (rc < 0)
		set_err(err, errlen, "%s:%u: %s", path, r.lineno, reason);
	fclose(f);
	return rc;
}

/* ---- the whole ---- */

void conf_init(struct netd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LVL_INFO;
	stack_params_default(&c->params);
	ctl_config_default(&c->ctl);
}

/* gw is on the subnet of one of our addresses and is not one of them; the
 * error names gw, followed by ctx ("" or " of the route to ..."). */
static int check_gateway(const struct netd_config *c, uint32_t gw, const char *ctx,
			 char *err, size_t errlen)
{
	char a[IPV4_ADDR_STRLEN];
	bool on_subnet = false;

	for (unsigned i = 0; i < c->nifaces; i++) {
		const struct conf_iface *ifc = &c->ifaces[i];
		for (unsigned j = 0; j < ifc->naddrs; j++) {
			uint32_t mask = ipv4_mask(ifc->addrs[j].plen);
			if (ifc->addrs[j].addr == gw)
				return fail(err, errlen, "gateway %s%s is our own address on %s",
					    ipv4_ntoa(gw, a), ctx, ifc->ifname);
			on_subnet |= (ifc->addrs[j].addr & mask) == (gw & mask);
		}
	}
	if (!on_subnet)
		return fail(err, errlen, "gateway %s%s is not on a connected subnet",
			    ipv4_ntoa(gw, a), ctx);
	return 0;
}

static int check_routes(const struct netd_config *c, char *err, size_t errlen)
{
	char ctx[64], a[IPV4_ADDR_STRLEN];

	for (unsigned i = 0; i < c->nroutes; i++) {
		const struct conf_route *rt = &c->routes[i];
		snprintf(ctx, sizeof(ctx), " of the route to %s/%u", ipv4_ntoa(rt->dst, a),
			 rt->plen);
		if (check_gateway(c, rt->gw, ctx, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The first interface from index `from` on that has addr, or NULL. */
static const struct conf_iface *addr_owner(const struct netd_config *c, uint32_t addr,
					   unsigned from)
{
	for (unsigned i = from; i < c->nifaces; i++)
		for (unsigned j = 0; j < c->ifaces[i].naddrs; j++)
			if (c->ifaces[i].addrs[j].addr == addr)
				return &c->ifaces[i];
	return NULL;
}

/* No address is configured on two interfaces. */
static int check_unique_addrs(const struct netd_config *c, char *err, size_t errlen)
{
	char a[IPV4_ADDR_STRLEN];

	for (unsigned i = 0; i < c->nifaces; i++) {
		const struct conf_iface *ifc = &c->ifaces[i];
		for (unsigned j = 0; j < ifc->naddrs; j++) {
			const struct conf_iface *other = addr_owner(c, ifc->addrs[j].addr, i + 1);
			if (other)
				return fail(err, errlen, "address %s is on both %s and %s",
					    ipv4_ntoa(ifc->addrs[j].addr, a), ifc->ifname,
					    other->ifname);
		}
	}
	return 0;
}

int conf_finish(struct netd_config *c, char *err, size_t errlen)
{
	if (c->nifaces == 0)
		return fail(err, errlen, "no interface: give -i tap:NAME or packet:NAME, or an "
			    "interface block in netd.conf");
	if (check_unique_addrs(c, err, errlen) < 0)
		return -1;
	if (c->gateway && check_gateway(c, c->gateway, "", err, errlen) < 0)
		return -1;
	if (check_routes(c, err, errlen) < 0)
		return -1;
	/* A packet interface keeps has_mac false: the daemon uses the device's MAC. */
	for (unsigned i = 0; i < c->nifaces; i++) {
		struct conf_iface *ifc = &c->ifaces[i];
		if (!ifc->has_mac && ifc->kind == CONF_IF_TAP) {
			conf_default_mac(ifc->ifname, ifc->mac);
			ifc->has_mac = true;
		}
	}
	return 0;
}

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

/* The machine id's bytes into buf; 0 when there is none to read. */
static size_t read_machine_id(char *buf, size_t len)
{
	int fd = open(MACHINE_ID_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, len);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

void conf_default_mac(const char *ifname, uint8_t mac[6])
{
	char id[128];
	size_t n = read_machine_id(id, sizeof(id));
	uint64_t h = fnv1a(FNV64_OFFSET, id, n);

	h = fnv1a(h, "", 1);	/* so that id and name cannot run into each other */
	h = fnv1a(h, ifname, strlen(ifname));
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] | 0x02) & ~0x01);	/* locally administered, unicast */
}
