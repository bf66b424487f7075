/*
 * test_conf.c: the configuration parser of conf.h. Each test writes a
 * netd.conf(5) text to a file in a private temporary directory, loads it,
 * and checks either the struct it filled or the exact "file:line: reason"
 * it gave; the flag setters of netd(8) are checked the same way, as are
 * the fault settings, the whole-configuration checks of conf_finish() and
 * the default MACs. The directory and its files go away at the end.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netd/conf.h"
#include "netd/services.h"
#include "netd/log.h"
#include "netd/wire/ipv4.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static char tmpdir[] = "/tmp/test_conf.XXXXXX";
static char path[PATH_MAX];
static char err[CONF_ERRLEN];

/* Writes text to name in the temporary directory; the file's path in path. */
static const char *write_conf(const char *name, const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Loads text into a fresh c and asserts that it is accepted. */
static void load_ok(struct netd_config *c, const char *text)
{
	conf_init(c);
	err[0] = '\0';
	ck_assert_msg(conf_load_file(c, write_conf("ok.conf", text), err, sizeof(err)) == 0,
		      "rejected: %s", err);
}

/* Loads text and asserts the error is exactly "file:line: reason". */
static void load_fails(const char *text, unsigned line, const char *reason)
{
	static struct netd_config c;
	char want[PATH_MAX + CONF_ERRLEN];

	conf_init(&c);
	write_conf("bad.conf", text);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, reason);
	ck_assert_int_eq(conf_load_file(&c, path, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
}

/* A config with one tap interface, tap0, for the flag tests. */
static void with_tap0(struct netd_config *c)
{
	conf_init(c);
	ck_assert_int_eq(conf_add_iface(c, "tap:tap0", err, sizeof(err)), 0);
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
	static struct netd_config c;
	struct stack_params p;

	conf_init(&c);
	stack_params_default(&p);
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(c.nifaces, 0);
	ck_assert_uint_eq(c.nroutes, 0);
	ck_assert_uint_eq(c.gateway, 0);
	ck_assert_int_eq(memcmp(&c.params, &p, sizeof(p)), 0);
}
END_TEST

/* ---- the file: every keyword ---- */

static const char full_conf[] =
	"# netd.conf with every keyword\n"
	"\n"
	"interface tap:tap0 {\n"
	"\taddress 10.0.0.2/24\n"
	"\taddress 10.1.0.2/16   # a second subnet\n"
	"\tmac 02:aa:bb:cc:dd:ee\n"
	"\tmtu 9000\n"
	"\tcapture /var/tmp/tap0.pcap\n"
	"\tfault drop 0.5 duplicate 2% reorder 0.25 corrupt 0.1% delay 5ms seed 42 "
	"direction rx\n"
	"}\n"
	"interface packet:veth1 {\r\n"
	"  address 192.168.1.1/24\r\n"
	"}\n"
	"gateway 10.0.0.1\n"
	"route 172.16.0.0/12 via 10.0.0.254\n"
	"route 0.0.0.0/0 via 192.168.1.254\n"
	"forwarding yes\n"
	"log-level debug\n"
	"icmp-rate 200\n"
	"icmp-ratelimit 250ms\n"
	"arp-reachable 45s\n"
	"arp-queue 16\n"
	"reassembly-timeout 15s\n"
	"reassembly-memory 8M\n"
	"buffers 4096";		/* no newline at the end */

START_TEST(test_file_interfaces)
{
	static struct netd_config c;
	const struct conf_iface *t, *p;

	load_ok(&c, full_conf);
	ck_assert_uint_eq(c.nifaces, 2);
	t = &c.ifaces[0];
	p = &c.ifaces[1];
	ck_assert_int_eq(t->kind, CONF_IF_TAP);
	ck_assert_str_eq(t->ifname, "tap0");
	ck_assert_uint_eq(t->naddrs, 2);
	ck_assert_uint_eq(t->addrs[0].addr, IP(10, 0, 0, 2));
	ck_assert_uint_eq(t->addrs[0].plen, 24);
	ck_assert_uint_eq(t->addrs[1].addr, IP(10, 1, 0, 2));
	ck_assert_uint_eq(t->addrs[1].plen, 16);
	ck_assert(t->has_mac);
	ck_assert_mem_eq(t->mac, "\x02\xaa\xbb\xcc\xdd\xee", 6);
	ck_assert_uint_eq(t->mtu, 9000);
	ck_assert_str_eq(t->capture, "/var/tmp/tap0.pcap");
	ck_assert_int_eq(p->kind, CONF_IF_PACKET);
	ck_assert_str_eq(p->ifname, "veth1");
	ck_assert_uint_eq(p->naddrs, 1);
	ck_assert_uint_eq(p->addrs[0].addr, IP(192, 168, 1, 1));
	ck_assert(!p->has_mac);
	ck_assert_uint_eq(p->mtu, 0);
	ck_assert_str_eq(p->capture, "");
	ck_assert(!p->has_fault);
}
END_TEST

START_TEST(test_file_fault)
{
	static struct netd_config c;
	const struct fault_config *f;

	load_ok(&c, full_conf);
	ck_assert(c.ifaces[0].has_fault);
	f = &c.ifaces[0].fault;
	ck_assert_double_eq_tol(f->drop, 0.5, 1e-12);
	ck_assert_double_eq_tol(f->duplicate, 0.02, 1e-12);
	ck_assert_double_eq_tol(f->reorder, 0.25, 1e-12);
	ck_assert_double_eq_tol(f->corrupt, 0.001, 1e-12);
	ck_assert_uint_eq(f->delay_ns, 5000000);
	ck_assert_uint_eq(f->seed, 42);
	ck_assert(f->rx);
	ck_assert(!f->tx);
}
END_TEST

START_TEST(test_file_globals)
{
	static struct netd_config c;

	load_ok(&c, full_conf);
	ck_assert_uint_eq(c.gateway, IP(10, 0, 0, 1));
	ck_assert_uint_eq(c.nroutes, 2);
	ck_assert_uint_eq(c.routes[0].dst, IP(172, 16, 0, 0));
	ck_assert_uint_eq(c.routes[0].plen, 12);
	ck_assert_uint_eq(c.routes[0].gw, IP(10, 0, 0, 254));
	ck_assert_uint_eq(c.routes[1].dst, 0);
	ck_assert_uint_eq(c.routes[1].plen, 0);
	ck_assert_uint_eq(c.routes[1].gw, IP(192, 168, 1, 254));
	ck_assert(c.params.forwarding);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	ck_assert_uint_eq(c.params.icmp_msgs_per_sec, 200);
	ck_assert_uint_eq(c.params.icmp_ratelimit_ms, 250);
	ck_assert_uint_eq(c.params.arp_reachable_ms, 45000);
	ck_assert_uint_eq(c.params.arp_queue_len, 16);
	ck_assert_uint_eq(c.params.reasm_timeout_ms, 15000);
	ck_assert_uint_eq(c.params.reasm_mem_limit, 8u << 20);
	ck_assert_uint_eq(c.params.pool_small, 4096);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_busy_poll_and_services)
{
	static struct netd_config c;

	load_ok(&c, "busy-poll 20us\nservices echo chargen\n");
	ck_assert_uint_eq(c.params.busy_poll_us, 20);
	ck_assert_uint_eq(c.services, SERVICE_ECHO | SERVICE_CHARGEN);
	load_ok(&c, "busy-poll 2ms\nservices discard,echo\n");
	ck_assert_uint_eq(c.params.busy_poll_us, 2000);
	ck_assert_uint_eq(c.services, SERVICE_ECHO | SERVICE_DISCARD);
	load_ok(&c, "busy-poll 0us\n");
	ck_assert_uint_eq(c.params.busy_poll_us, 0);
	load_fails("busy-poll 20ms\n", 1,
		   "expected a duration from 0ms to 10ms for busy-poll, got '20ms'");
	load_fails("busy-poll soon\n", 1,
		   "expected a duration such as 50us or 0us for busy-poll, got 'soon'");
	load_fails("services echo daytime\n", 1,
		   "unknown service 'daytime': expected echo, discard or chargen");
}
END_TEST

START_TEST(test_file_values)
{
	static struct netd_config c;

	load_ok(&c, "forwarding no\nlog-level error\nreassembly-memory 512k\n"
		"icmp-ratelimit 0ms\nicmp-rate 0\n");
	ck_assert(!c.params.forwarding);
	ck_assert_int_eq(c.log_level, LOG_LVL_ERR);
	ck_assert_uint_eq(c.params.reasm_mem_limit, 512 * 1024);
	ck_assert_uint_eq(c.params.icmp_ratelimit_ms, 0);
	ck_assert_uint_eq(c.params.icmp_msgs_per_sec, 0);
	load_ok(&c, "log-level warn\nreassembly-memory 65536\nlog-level info\n");
	ck_assert_int_eq(c.log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(c.params.reasm_mem_limit, 65536);
	load_ok(&c, "reassembly-memory 96K\narp-reachable 1500ms\n");
	ck_assert_uint_eq(c.params.reasm_mem_limit, 96 * 1024);
	ck_assert_uint_eq(c.params.arp_reachable_ms, 1500);
}
END_TEST

START_TEST(test_file_comments_only)
{
	static struct netd_config c;
	struct stack_params p;

	load_ok(&c, "# nothing here\n\n   \t\n#interface tap:tap0 {\n");
	stack_params_default(&p);
	ck_assert_uint_eq(c.nifaces, 0);
	ck_assert_int_eq(memcmp(&c.params, &p, sizeof(p)), 0);
	load_ok(&c, "interface tap:tap0 {#open\nmtu 1500#no blank before\n}#closed\n");
	ck_assert_uint_eq(c.ifaces[0].mtu, 1500);
}
END_TEST

START_TEST(test_file_capture_relative)
{
	static struct netd_config c;
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/cap.pcap", cwd);
	load_ok(&c, "interface tap:tap0 {\ncapture cap.pcap\n}\n");
	ck_assert_str_eq(c.ifaces[0].capture, want);
}
END_TEST

START_TEST(test_file_fault_accumulates)
{
	static struct netd_config c;
	const struct fault_config *f;

	load_ok(&c, "interface tap:tap0 {\nfault drop 10%\nfault seed 7 direction tx\n}\n");
	f = &c.ifaces[0].fault;
	ck_assert_double_eq_tol(f->drop, 0.1, 1e-12);
	ck_assert_uint_eq(f->seed, 7);
	ck_assert(!f->rx);
	ck_assert(f->tx);
}
END_TEST

/* ---- the file: every kind of error, with its line ---- */

START_TEST(test_err_open)
{
	static struct netd_config c;
	char want[PATH_MAX + 64];

	conf_init(&c);
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_int_eq(conf_load_file(&c, path, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_err_unknown_keyword)
{
	load_fails("# comment\n\ninterface tap:tap0 {\n    adress 10.0.0.2/24\n}\n", 4,
		   "unknown keyword 'adress'; did you mean 'address'?");
	load_fails("\n\nfrobnicate yes\n", 3, "unknown keyword 'frobnicate'");
	load_fails("gatway 10.0.0.1\n", 1, "unknown keyword 'gatway'; did you mean 'gateway'?");
}
END_TEST

START_TEST(test_err_address)
{
	const char *pre = "# 1\n# 2\n# 3\ninterface tap:tap0 {\n# 5\n# 6\n";
	char text[256];

	snprintf(text, sizeof(text), "%saddress 10.0.0.300/24\n}\n", pre);
	load_fails(text, 7, "expected an address with prefix length such as 10.0.0.2/24, "
		   "got '10.0.0.300/24'");
	snprintf(text, sizeof(text), "%saddress 10.0.0.2\n}\n", pre);
	load_fails(text, 7, "expected an address with prefix length such as 10.0.0.2/24, "
		   "got '10.0.0.2'");
	snprintf(text, sizeof(text), "%saddress 10.0.0.2/33\n}\n", pre);
	load_fails(text, 7, "expected an address with prefix length such as 10.0.0.2/24, "
		   "got '10.0.0.2/33'");
	snprintf(text, sizeof(text), "%saddress 224.0.0.1/24\n}\n", pre);
	load_fails(text, 7, "expected a unicast address with prefix length such as "
		   "10.0.0.2/24, got '224.0.0.1/24'");
	snprintf(text, sizeof(text), "%saddress 10.0.0.255/24\n}\n", pre);
	load_fails(text, 7, "expected a host address, got '10.0.0.255/24', the broadcast "
		   "address of its subnet");
	snprintf(text, sizeof(text), "%saddress 10.0.0.0/24\n}\n", pre);
	load_fails(text, 7, "expected a host address, got '10.0.0.0/24', the network address "
		   "of its subnet");
}
END_TEST

START_TEST(test_err_blocks)
{
	load_fails("gateway 10.0.0.1\n\n\n\n\n\n\n\n}\n", 9,
		   "'}' without an open interface block");
	load_fails("# a\n\n\ninterface tap:tap0 {\n address 10.0.0.2/24\n\n\n\n\n\n\n"
		   "# the end\n", 12,
		   "missing '}' for the interface block opened at line 4");
	load_fails("interface tap:tap0 {\ninterface tap:tap1 {\n}\n", 2,
		   "expected '}' to close the interface block opened at line 1 before "
		   "'interface'");
	load_fails("interface tap:tap0 {\n gateway 10.0.0.1\n}\n", 2,
		   "expected '}' to close the interface block opened at line 1 before "
		   "'gateway'");
	load_fails("\naddress 10.0.0.2/24\n", 2,
		   "expected 'address' inside an interface block, got it outside one");
	load_fails("interface tap:tap0 {\n}\n}\n", 3, "'}' without an open interface block");
	load_fails("interface tap:tap0 {\n} extra\n", 2,
		   "expected end of line after '}', got 'extra'");
}
END_TEST

START_TEST(test_err_interface_line)
{
	load_fails("interface tap:tap0\n{\n}\n", 1,
		   "expected 'interface KIND:NAME {', got end of line after 'tap:tap0'");
	load_fails("interface tap:tap0 x\n", 1,
		   "expected '{' after 'interface tap:tap0', got 'x'");
	load_fails("interface tap:tap0 { mtu 1500\n", 1,
		   "expected end of line after '{', got 'mtu'");
	load_fails("\n{\n", 2,
		   "expected '{' at the end of an 'interface KIND:NAME' line, got it alone");
	load_fails("interface eth:eth0 {\n}\n", 1,
		   "expected an interface such as tap:tap0 or packet:veth1, got 'eth:eth0'");
	load_fails("interface tap: {\n}\n", 1,
		   "expected an interface such as tap:tap0 or packet:veth1, got 'tap:'");
	load_fails("interface tap:abcdefghijklmnop {\n}\n", 1,
		   "expected an interface name of at most 15 characters, got "
		   "'abcdefghijklmnop' (16)");
	load_fails("interface packet:a/b {\n}\n", 1,
		   "expected an interface name without '/', ':' or blanks, got 'a/b'");
}
END_TEST

START_TEST(test_err_duplicates_and_limits)
{
	char text[4096];
	size_t n = 0;

	load_fails("interface tap:tap0 {\n}\ninterface packet:tap0 {\n}\n", 3,
		   "duplicate interface tap0: it is already configured");
	for (int i = 0; i < NETIF_MAX + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "interface tap:t%d {\n}\n", i);
	load_fails(text, 2 * NETIF_MAX + 1,
		   "too many interfaces: at most 8, got 'tap:t8' as one more");
	load_fails("interface tap:tap0 {\naddress 10.0.0.2/24\naddress 10.0.0.2/16\n}\n", 3,
		   "duplicate address: tap0 already has '10.0.0.2/16'");
	n = (size_t)snprintf(text, sizeof(text), "interface tap:tap0 {\n");
	for (int i = 0; i < NETIF_MAX_ADDRS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "address 10.%d.0.2/24\n", i);
	snprintf(text + n, sizeof(text) - n, "}\n");
	load_fails(text, NETIF_MAX_ADDRS + 2,
		   "too many addresses on tap0: at most 4, got '10.4.0.2/24' as one more");
}
END_TEST

START_TEST(test_err_routes)
{
	static char text[CONF_MAX_ROUTES * 48 + 64];
	size_t n = 0;

	for (int i = 0; i < CONF_MAX_ROUTES + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "route 172.16.%d.0/24 via 10.0.0.1\n", i);
	load_fails(text, CONF_MAX_ROUTES + 1,
		   "too many routes: at most 64, got one more to 172.16.64.0/24");
	load_fails("route 10.1.0.0/16 via 10.0.0.1\nroute 10.1.0.0/16 via 10.0.0.9\n", 2,
		   "duplicate route: one to 10.1.0.0/16 is already configured");
	load_fails("route 10.0.0.0/8 through 10.0.0.1\n", 1,
		   "expected 'via' after 'route 10.0.0.0/8', got 'through'");
	load_fails("route 10.0.0.0/8 via\n", 1,
		   "expected 'route A.B.C.D/LEN via A.B.C.D', got end of line after 'via'");
	load_fails("route 192.168.5.1/24 via 10.0.0.1\n", 1,
		   "expected a destination without host bits such as 192.168.5.0/24, got "
		   "'192.168.5.1/24'");
	load_fails("route 192.168.5.0 via 10.0.0.1\n", 1,
		   "expected a destination with prefix length such as 192.168.5.0/24, got "
		   "'192.168.5.0'");
	load_fails("route 192.168.5.0/24 via 10.0.0.x\n", 1,
		   "expected an address such as 10.0.0.1 for the route's gateway, got "
		   "'10.0.0.x'");
}
END_TEST

START_TEST(test_err_interface_values)
{
	load_fails("interface tap:tap0 {\nmac 01:00:5e:00:00:01\n}\n", 2,
		   "expected a unicast MAC such as 02:00:00:00:00:01, got '01:00:5e:00:00:01'");
	load_fails("interface tap:tap0 {\nmac 02:00:00:00:00\n}\n", 2,
		   "expected a unicast MAC such as 02:00:00:00:00:01, got '02:00:00:00:00'");
	load_fails("interface tap:tap0 {\nmac 00:00:00:00:00:00\n}\n", 2,
		   "expected a unicast MAC such as 02:00:00:00:00:01, got '00:00:00:00:00:00'");
	load_fails("interface tap:tap0 {\nmtu 67\n}\n", 2,
		   "expected a number from 68 to 9000 for the MTU, got '67'");
	load_fails("interface tap:tap0 {\nmtu 9001\n}\n", 2,
		   "expected a number from 68 to 9000 for the MTU, got '9001'");
	load_fails("interface tap:tap0 {\nmtu 1500x\n}\n", 2,
		   "expected a number from 68 to 9000 for the MTU, got '1500x'");
	load_fails("interface tap:tap0 {\nmtu -1\n}\n", 2,
		   "expected a number from 68 to 9000 for the MTU, got '-1'");
	load_fails("interface tap:tap0 {\nmtu 1500 1600\n}\n", 2,
		   "expected end of line after '1500', got '1600'");
	load_fails("interface tap:tap0 {\nmtu\n}\n", 2,
		   "expected 'mtu N', got end of line after 'mtu'");
}
END_TEST

START_TEST(test_err_fault)
{
	load_fails("interface tap:tap0 {\nfault\n}\n", 2,
		   "expected settings such as 'fault drop 1%' after 'fault', got end of line");
	load_fails("interface tap:tap0 {\nfault seed 1 drop\n}\n", 2,
		   "expected a value after fault setting 'drop', got end of line");
	load_fails("interface tap:tap0 {\nfault drop 2\n}\n", 2,
		   "expected a probability from 0 to 1 or a percentage such as 2% for drop, "
		   "got '2'");
	load_fails("interface tap:tap0 {\nfault corrupt 101%\n}\n", 2,
		   "expected a probability from 0 to 1 or a percentage such as 2% for corrupt, "
		   "got '101%'");
	load_fails("interface tap:tap0 {\nfault jitter 5ms\n}\n", 2,
		   "expected drop, duplicate, reorder, corrupt, delay, seed or direction in "
		   "the fault settings, got 'jitter'");
	load_fails("interface tap:tap0 {\nfault delay 5\n}\n", 2,
		   "expected a duration such as 500ms or 30s for delay, got '5'");
	load_fails("interface tap:tap0 {\nfault direction up\n}\n", 2,
		   "expected rx, tx or both for direction, got 'up'");
	load_fails("interface tap:tap0 {\nfault seed -1\n}\n", 2,
		   "expected a whole number such as 42 for seed, got '-1'");
}
END_TEST

START_TEST(test_err_globals)
{
	load_fails("gateway 10.0.0\n", 1,
		   "expected an address such as 10.0.0.1 for the gateway, got '10.0.0'");
	load_fails("gateway 224.0.0.1\n", 1,
		   "expected a unicast address for the gateway, got '224.0.0.1'");
	load_fails("forwarding maybe\n", 1, "expected yes or no for forwarding, got 'maybe'");
	load_fails("log-level loud\n", 1,
		   "expected error, warn, info or debug for log-level, got 'loud'");
	load_fails("icmp-rate 1000001\n", 1,
		   "expected a number from 0 to 1000000 for icmp-rate, got '1000001'");
	load_fails("arp-queue 0\n", 1, "expected a number from 1 to 10000 for arp-queue, got '0'");
	load_fails("buffers 10\n", 1,
		   "expected a number from 256 to 1048576 for buffers, got '10'");
	load_fails("buffers 99999999999999999999999\n", 1,
		   "expected a number from 256 to 1048576 for buffers, got "
		   "'99999999999999999999999'");
}
END_TEST

START_TEST(test_err_units)
{
	load_fails("arp-reachable 30\n", 1,
		   "expected a duration such as 500ms or 30s for arp-reachable, got '30'");
	load_fails("arp-reachable 30min\n", 1,
		   "expected a duration such as 500ms or 30s for arp-reachable, got '30min'");
	load_fails("arp-reachable 0s\n", 1,
		   "expected a duration from 1ms to 3600s for arp-reachable, got '0s'");
	load_fails("reassembly-timeout 3601s\n", 1,
		   "expected a duration from 1ms to 3600s for reassembly-timeout, got '3601s'");
	load_fails("icmp-ratelimit 99999999999999999999999s\n", 1,
		   "expected a duration from 0s to 3600s for icmp-ratelimit, got "
		   "'99999999999999999999999s'");
	load_fails("reassembly-memory 4G\n", 1,
		   "expected a size such as 4M or 512k for reassembly-memory, got '4G'");
	load_fails("reassembly-memory 1k\n", 1,
		   "expected a size from 64k to 1024M for reassembly-memory, got '1k'");
	load_fails("reassembly-memory 2048M\n", 1,
		   "expected a size from 64k to 1024M for reassembly-memory, got '2048M'");
}
END_TEST

START_TEST(test_err_long_line)
{
	char text[256] = "interface tap:tap0 {\nfault";

	for (int i = 0; i < 20; i++)
		strcat(text, " seed 1");
	strcat(text, "\n}\n");
	load_fails(text, 2, "expected at most 32 words on a line, got more");
}
END_TEST

/* ---- the command-line setters ---- */

START_TEST(test_flags_need_interface)
{
	static struct netd_config c;

	conf_init(&c);
	ck_assert_int_eq(conf_set_addr(&c, "10.0.0.2/24", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-a needs an interface: give -i first");
	ck_assert_int_eq(conf_set_mac(&c, "02:00:00:00:00:01", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-m needs an interface: give -i first");
	ck_assert_int_eq(conf_set_mtu(&c, "1500", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-M needs an interface: give -i first");
	ck_assert_int_eq(conf_set_capture(&c, "/tmp/x.pcap", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-w needs an interface: give -i first");
	ck_assert_int_eq(conf_set_fault(&c, "drop=0.1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "-x needs an interface: give -i first");
}
END_TEST

START_TEST(test_flags_apply_to_last)
{
	static struct netd_config c;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_addr(&c, "10.0.0.2/24", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_add_iface(&c, "packet:veth1", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_addr(&c, "10.0.1.2/24", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_mac(&c, "02:00:00:00:00:09", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_mtu(&c, "1400", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_capture(&c, "/tmp/v.pcap", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nifaces, 2);
	ck_assert_uint_eq(c.ifaces[0].naddrs, 1);
	ck_assert(!c.ifaces[0].has_mac);
	ck_assert_uint_eq(c.ifaces[0].mtu, 0);
	ck_assert_int_eq(c.ifaces[1].kind, CONF_IF_PACKET);
	ck_assert_str_eq(c.ifaces[1].ifname, "veth1");
	ck_assert_uint_eq(c.ifaces[1].addrs[0].addr, IP(10, 0, 1, 2));
	ck_assert_mem_eq(c.ifaces[1].mac, "\x02\0\0\0\0\x09", 6);
	ck_assert_uint_eq(c.ifaces[1].mtu, 1400);
	ck_assert_str_eq(c.ifaces[1].capture, "/tmp/v.pcap");
}
END_TEST

START_TEST(test_flags_errors)
{
	static struct netd_config c;

	with_tap0(&c);
	ck_assert_int_eq(conf_add_iface(&c, "tun:tun0", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected an interface such as tap:tap0 or packet:veth1, "
			 "got 'tun:tun0'");
	ck_assert_int_eq(conf_add_iface(&c, "tap:tap0", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "duplicate interface tap0: it is already configured");
	ck_assert_int_eq(conf_set_addr(&c, "10.0.0.300/24", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected an address with prefix length such as 10.0.0.2/24, "
			 "got '10.0.0.300/24'");
	ck_assert_int_eq(conf_set_gateway(&c, "10.0.0.1", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_gateway(&c, "bogus", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected an address such as 10.0.0.1 for the gateway, "
			 "got 'bogus'");
	ck_assert_int_eq(conf_set_gateway(&c, "255.255.255.255", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a unicast address for the gateway, "
			 "got '255.255.255.255'");
	ck_assert_uint_eq(c.gateway, IP(10, 0, 0, 1));	/* a rejected value changes nothing */
	ck_assert_int_eq(conf_set_mac(&c, "ff:ff:ff:ff:ff:ff", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a unicast MAC such as 02:00:00:00:00:01, "
			 "got 'ff:ff:ff:ff:ff:ff'");
	ck_assert_int_eq(conf_set_mtu(&c, "", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a number from 68 to 9000 for the MTU, got ''");
	ck_assert_int_eq(conf_set_capture(&c, "", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a file name for the capture, got ''");
	ck_assert_int_eq(conf_set_mac(&c, "02:00:00:00:00:05", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_mac(&c, "03:00:00:00:00:05", err, sizeof(err)), -1);
	ck_assert_mem_eq(c.ifaces[0].mac, "\x02\0\0\0\0\x05", 6);
	ck_assert_uint_eq(c.ifaces[0].naddrs, 0);
}
END_TEST

START_TEST(test_flags_gateway_route)
{
	static struct netd_config c;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_gateway(&c, "10.0.0.1", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.gateway, IP(10, 0, 0, 1));
	ck_assert_int_eq(conf_add_route(&c, "192.168.5.0/24,10.0.0.254", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nroutes, 1);
	ck_assert_uint_eq(c.routes[0].dst, IP(192, 168, 5, 0));
	ck_assert_uint_eq(c.routes[0].plen, 24);
	ck_assert_uint_eq(c.routes[0].gw, IP(10, 0, 0, 254));
	ck_assert_int_eq(conf_add_route(&c, "192.168.6.0/24", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a route such as 192.168.5.0/24,10.0.0.254, "
			 "got '192.168.6.0/24'");
	ck_assert_int_eq(conf_add_route(&c, "x,10.0.0.1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a destination with prefix length such as "
			 "192.168.5.0/24, got 'x'");
	ck_assert_int_eq(conf_add_route(&c, "192.168.6.0/24,10.0.0.300", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected an address such as 10.0.0.1 for the route's gateway, "
			 "got '10.0.0.300'");
	ck_assert_int_eq(conf_add_route(&c, "192.168.5.0/24,10.0.0.9", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "duplicate route: one to 192.168.5.0/24 is already configured");
	ck_assert_uint_eq(c.nroutes, 1);
}
END_TEST

/* ---- fault settings of -x ---- */

START_TEST(test_fault_spec)
{
	static struct netd_config c;
	const struct fault_config *f = &c.ifaces[0].fault;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_fault(&c, "drop=0.01,duplicate=0.01,reorder=0.01,"
					"corrupt=0.001,delay=5ms,seed=42,direction=both",
					err, sizeof(err)), 0);
	ck_assert(c.ifaces[0].has_fault);
	ck_assert_double_eq_tol(f->drop, 0.01, 1e-12);
	ck_assert_double_eq_tol(f->duplicate, 0.01, 1e-12);
	ck_assert_double_eq_tol(f->reorder, 0.01, 1e-12);
	ck_assert_double_eq_tol(f->corrupt, 0.001, 1e-12);
	ck_assert_uint_eq(f->delay_ns, 5000000);
	ck_assert_uint_eq(f->seed, 42);
	ck_assert(f->rx && f->tx);
}
END_TEST

START_TEST(test_fault_defaults_and_values)
{
	static struct netd_config c;
	const struct fault_config *f = &c.ifaces[0].fault;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_fault(&c, "drop=2%", err, sizeof(err)), 0);
	ck_assert_double_eq_tol(f->drop, 0.02, 1e-12);
	ck_assert(f->rx && f->tx);
	ck_assert_double_eq(f->duplicate, 0);
	ck_assert_uint_eq(f->delay_ns, 0);
	ck_assert_int_eq(conf_set_fault(&c, "direction=tx,delay=1s,corrupt=.5,reorder=100%",
					err, sizeof(err)), 0);
	ck_assert_double_eq_tol(f->drop, 0.02, 1e-12);	/* kept from before */
	ck_assert(!f->rx && f->tx);
	ck_assert_uint_eq(f->delay_ns, 1000000000);
	ck_assert_double_eq_tol(f->corrupt, 0.5, 1e-12);
	ck_assert_double_eq_tol(f->reorder, 1.0, 1e-12);
	ck_assert_int_eq(conf_set_fault(&c, "direction=rx,drop=0,duplicate=1", err,
					sizeof(err)), 0);
	ck_assert(f->rx && !f->tx);
	ck_assert_double_eq(f->drop, 0);
	ck_assert_double_eq(f->duplicate, 1);
}
END_TEST

START_TEST(test_fault_errors)
{
	static struct netd_config c;
	const struct fault_config *f = &c.ifaces[0].fault;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_fault(&c, "drop=0.1", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_fault(&c, "duplicate=0.2,drop", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected key=value such as drop=0.01 in the fault settings, "
			 "got 'drop'");
	/* A rejected list changes nothing. */
	ck_assert_double_eq(f->duplicate, 0);
	ck_assert_double_eq_tol(f->drop, 0.1, 1e-12);
	ck_assert_int_eq(conf_set_fault(&c, "drop=0.1,", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected key=value such as drop=0.01 in the fault settings, "
			 "got ''");
	ck_assert_int_eq(conf_set_fault(&c, "=1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected key=value such as drop=0.01 in the fault settings, "
			 "got '=1'");
	ck_assert_int_eq(conf_set_fault(&c, "loss=1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected drop, duplicate, reorder, corrupt, delay, seed or "
			 "direction in the fault settings, got 'loss'");
	ck_assert_int_eq(conf_set_fault(&c, "drop=abc", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a probability from 0 to 1 or a percentage such as 2% "
			 "for drop, got 'abc'");
	ck_assert_int_eq(conf_set_fault(&c, "reorder=nan", err, sizeof(err)), -1);
	ck_assert_int_eq(conf_set_fault(&c, "duplicate=-0.1", err, sizeof(err)), -1);
	ck_assert_int_eq(conf_set_fault(&c, "delay=61s", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a duration from 0s to 60s for delay, got '61s'");
	ck_assert_int_eq(conf_set_fault(&c, "seed=1x", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected a whole number such as 42 for seed, got '1x'");
}
END_TEST

/* ---- conf_finish ---- */

START_TEST(test_finish_no_interface)
{
	static struct netd_config c;

	conf_init(&c);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no interface: give -i tap:NAME or packet:NAME, or an interface "
			 "block in netd.conf");
}
END_TEST

START_TEST(test_finish_gateway)
{
	static struct netd_config c;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_addr(&c, "10.0.0.2/24", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_gateway(&c, "10.9.9.9", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "gateway 10.9.9.9 is not on a connected subnet");
	ck_assert_int_eq(conf_set_gateway(&c, "10.0.0.2", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "gateway 10.0.0.2 is our own address on tap0");
	ck_assert_int_eq(conf_add_iface(&c, "packet:veth1", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_addr(&c, "172.16.0.1/12", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_set_gateway(&c, "172.31.255.254", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_finish_routes)
{
	static struct netd_config c;

	with_tap0(&c);
	ck_assert_int_eq(conf_set_addr(&c, "10.0.0.2/24", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_add_route(&c, "192.168.5.0/24,10.0.0.254", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_add_route(&c, "192.168.6.0/24,10.9.9.9", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "gateway 10.9.9.9 of the route to 192.168.6.0/24 is not on a "
			 "connected subnet");
}
END_TEST

START_TEST(test_finish_same_address_twice)
{
	static struct netd_config c;

	load_ok(&c, "interface tap:tap0 {\naddress 10.0.0.2/24\n}\n"
		"interface tap:tap1 {\naddress 10.0.0.2/16\n}\n");
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "address 10.0.0.2 is on both tap0 and tap1");
}
END_TEST

START_TEST(test_finish_macs)
{
	static struct netd_config c;
	uint8_t mac[6];

	load_ok(&c, "interface tap:tap0 {\n}\ninterface tap:tap1 {\nmac 02:00:00:00:00:07\n}\n"
		"interface packet:veth1 {\n}\nforwarding yes\n");
	ck_assert_int_eq(conf_finish(&c, err, sizeof(err)), 0);
	conf_default_mac("tap0", mac);
	ck_assert(c.ifaces[0].has_mac);
	ck_assert_mem_eq(c.ifaces[0].mac, mac, 6);
	ck_assert_mem_eq(c.ifaces[1].mac, "\x02\0\0\0\0\x07", 6);
	ck_assert(!c.ifaces[2].has_mac);	/* the device's own MAC */
	ck_assert(c.params.forwarding);
}
END_TEST

/* ---- default MACs ---- */

START_TEST(test_default_mac)
{
	uint8_t a[6], b[6], d[6];
	const char *names[] = { "tap0", "tap1", "veth1", "t", "abcdefghijklmno" };

	conf_default_mac("tap0", a);
	conf_default_mac("tap0", b);
	ck_assert_mem_eq(a, b, 6);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		conf_default_mac(names[i], d);
		ck_assert_int_eq(d[0] & 0x03, 0x02);	/* local, unicast */
		for (size_t j = 0; j < i; j++) {
			conf_default_mac(names[j], b);
			ck_assert_int_ne(memcmp(b, d, 6), 0);
		}
	}
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *file = tcase_create("file");
	TCase *errors = tcase_create("errors");
	TCase *flags = tcase_create("flags");
	TCase *whole = tcase_create("whole");

	tcase_add_test(file, test_defaults);
	tcase_add_test(file, test_file_interfaces);
	tcase_add_test(file, test_file_fault);
	tcase_add_test(file, test_file_globals);
	tcase_add_test(file, test_file_values);
	tcase_add_test(file, test_busy_poll_and_services);
	tcase_add_test(file, test_file_comments_only);
	tcase_add_test(file, test_file_capture_relative);
	tcase_add_test(file, test_file_fault_accumulates);
	tcase_add_test(errors, test_err_open);
	tcase_add_test(errors, test_err_unknown_keyword);
	tcase_add_test(errors, test_err_address);
	tcase_add_test(errors, test_err_blocks);
	tcase_add_test(errors, test_err_interface_line);
	tcase_add_test(errors, test_err_duplicates_and_limits);
	tcase_add_test(errors, test_err_routes);
	tcase_add_test(errors, test_err_interface_values);
	tcase_add_test(errors, test_err_fault);
	tcase_add_test(errors, test_err_globals);
	tcase_add_test(errors, test_err_units);
	tcase_add_test(errors, test_err_long_line);
	tcase_add_test(flags, test_flags_need_interface);
	tcase_add_test(flags, test_flags_apply_to_last);
	tcase_add_test(flags, test_flags_errors);
	tcase_add_test(flags, test_flags_gateway_route);
	tcase_add_test(flags, test_fault_spec);
	tcase_add_test(flags, test_fault_defaults_and_values);
	tcase_add_test(flags, test_fault_errors);
	tcase_add_test(whole, test_finish_no_interface);
	tcase_add_test(whole, test_finish_gateway);
	tcase_add_test(whole, test_finish_routes);
	tcase_add_test(whole, test_finish_same_address_twice);
	tcase_add_test(whole, test_finish_macs);
	tcase_add_test(whole, test_default_mac);
	suite_add_tcase(s, file);
	suite_add_tcase(s, errors);
	suite_add_tcase(s, flags);
	suite_add_tcase(s, whole);
	return s;
}

/* Removes the temporary directory and whatever the tests left in it. */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	int status = run_suite(conf_suite());
	remove_tmpdir();
	return status;
}
