/*
 * netdctl.c: the administration tool of netd. It connects to the control
 * socket (-S, else $NETD_SOCKET, else /run/netd/netd.sock), says Hello,
 * sends one request of proto/netd.proto and prints the answer for people
 * (aligned columns, as ss and ip print theirs) or as JSON (-j: the answer's
 * fields under their names in netd.proto, walked through protobuf-c's
 * descriptors so every message prints the same way). A capture passes the
 * file it opened to netd (SCM_RIGHTS) and waits until netd says the count
 * is reached or Ctrl-C ends it. Errors from netd print "netdctl: reason"
 * and exit 1; usage errors exit 2.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netd/ctl.h"
#include "netd/json.h"
#include "proto/netd.pb-c.h"

#define EXIT_USAGE 2

struct ctx {
	const char *path;
	bool json;
	int fd;
};

struct command {
	const char *name;
	void (*run)(struct ctx *c, int argc, char **argv);
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netdctl [-j] [-S socket] command [args]\n"
		"  -j                  print JSON\n"
		"  -S socket           control socket (default $NETD_SOCKET, else "
		CTL_DEFAULT_SOCKET ")\n"
		"  -h, --help          print this help and exit\n"
		"commands:\n"
		"  status                            the daemon: version, uptime, counts\n"
		"  interfaces                        interfaces, addresses, frame counters\n"
		"  routes                            the routing table\n"
		"  routes add DST/LEN GATEWAY        add a route (root or admin group)\n"
		"  routes del DST/LEN                delete a route (root or admin group)\n"
		"  neighbours                        the ARP cache\n"
		"  sockets [-i]                      every socket; -i adds TCP_INFO fields\n"
		"  counters                          counters and drop reasons\n"
		"  capture FILE [-p PID] [-c COUNT]  write frames (of PID's sockets) to FILE\n"
		"                                    as pcap until COUNT frames or Ctrl-C\n");
}

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;
	fputs("netdctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static _Noreturn __attribute__((format(printf, 1, 2))) void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("netdctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(EXIT_USAGE);
}

/* ---- talking to netd ---- */

static void connect_netd(struct ctx *c)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(c->path) >= sizeof(sun.sun_path))
		die("cannot connect to %s: %s", c->path, strerror(ENAMETOOLONG));
	strcpy(sun.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		die("cannot connect to %s: %s", c->path, strerror(errno));
}

/* Sends req, with fd as SCM_RIGHTS when it is not -1. */
static void send_request(struct ctx *c, const Netd__Request *req, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	size_t len = netd__request__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		die("%s", strerror(ENOMEM));
	netd__request__pack(req, buf);
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(c->fd, &m, MSG_NOSIGNAL) < 0)
		die("sending to netd: %s", strerror(errno));
	free(buf);
}

/* The next Response; an Error from netd ends netdctl with its reason. */
static Netd__Response *recv_response(struct ctx *c)
{
	ssize_t n = recv(c->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n == 0)
		die("netd closed the connection");
	if (n < 0)
		die("reading from netd: %s", strerror(errno));
	uint8_t *buf = malloc((size_t)n);
	if (!buf)
		die("%s", strerror(ENOMEM));
	if (recv(c->fd, buf, (size_t)n, 0) != n)
		die("reading from netd: %s", strerror(errno));
	Netd__Response *r = netd__response__unpack(NULL, (size_t)n, buf);
	free(buf);
	if (!r)
		die("netd sent a malformed answer");
	if (r->body_case == NETD__RESPONSE__BODY_ERROR)
		die("%s", r->error->reason && r->error->reason[0] ? r->error->reason :
			  strerror(r->error->errno_value));
	return r;
}

static Netd__Response *call(struct ctx *c, const Netd__Request *req, Netd__Response__BodyCase want)
{
	send_request(c, req, -1);
	Netd__Response *r = recv_response(c);
	if (r->body_case != want)
		die("netd sent an unexpected answer (%d)", (int)r->body_case);
	return r;
}

static void hello(struct ctx *c)
{
	Netd__Hello h = NETD__HELLO__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	h.version_min = CTL_PROTOCOL_VERSION;
	h.version_max = CTL_PROTOCOL_VERSION;
	h.program = "netdctl";
	req.body_case = NETD__REQUEST__BODY_HELLO;
	req.hello = &h;
	netd__response__free_unpacked(call(c, &req, NETD__RESPONSE__BODY_WELCOME), NULL);
}

/* ---- JSON: any message, through its descriptor ---- */

static void json_message(struct json *j, const char *key, const ProtobufCMessage *m);

static size_t field_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void json_field_value(struct json *j, const char *key, const ProtobufCFieldDescriptor *fd,
			     const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		json_uint(j, key, *(const uint32_t *)p); break;
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		json_int(j, key, *(const int32_t *)p); break;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		json_uint(j, key, *(const uint64_t *)p); break;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		json_int(j, key, *(const int64_t *)p); break;
	case PROTOBUF_C_TYPE_BOOL:
		json_bool(j, key, *(const protobuf_c_boolean *)p); break;
	case PROTOBUF_C_TYPE_STRING:
		json_string(j, key, *(char *const *)p); break;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)p)
			json_message(j, key, *(ProtobufCMessage *const *)p);
		else
			json_null(j, key);
		break;
	default:
		json_null(j, key);
	}
}

static void json_field(struct json *j, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)m;
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
		return;
	if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
		json_field_value(j, fd->name, fd, base + fd->offset);
		return;
	}
	size_t n = *(const size_t *)(base + fd->quantifier_offset);
	const char *items = *(const char *const *)(base + fd->offset);
	json_begin_array(j, fd->name);
	for (size_t i = 0; i < n; i++)
		json_field_value(j, NULL, fd, items + i * field_size(fd));
	json_end_array(j);
}

static void json_message(struct json *j, const char *key, const ProtobufCMessage *m)
{
	json_begin_object(j, key);
	for (unsigned i = 0; i < m->descriptor->n_fields; i++)
		json_field(j, m, &m->descriptor->fields[i]);
	json_end_object(j);
}

/* Prints the message in the Response's body. */
static void print_json(const Netd__Response *r)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(r->base.descriptor, r->body_case);
	struct json j;
	json_init(&j, stdout);
	if (!fd)
		die("netd sent an empty answer");
	json_field_value(&j, NULL, fd, (const char *)r + fd->offset);
}

/* ---- tables for people ---- */

struct table {
	unsigned ncols, ncells, cap;
	char **cells;
};

static void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("%s", strerror(ENOMEM));
	va_end(ap);
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if (!(t->cells = realloc(t->cells, sizeof(char *) * t->cap)))
			die("%s", strerror(ENOMEM));
	}
	t->cells[t->ncells++] = s;
}

/* Starts a table with its header row: ncols names. */
static void table_init(struct table *t, unsigned ncols, const char *const *headers)
{
	*t = (struct table){.ncols = ncols};
	for (unsigned i = 0; i < ncols; i++)
		table_cell(t, "%s", headers[i]);
}

/* Prints the rows with two blanks between columns, and frees them. */
static void table_print(struct table *t)
{
	size_t width[32] = {0};
	for (unsigned i = 0; i < t->ncells; i++) {
		size_t len = strlen(t->cells[i]);
		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	for (unsigned i = 0; i < t->ncells; i++) {
		unsigned col = i % t->ncols;
		if (col + 1 < t->ncols)
			printf("%-*s  ", (int)width[col], t->cells[i]);
		else
			printf("%s\n", t->cells[i]);
		free(t->cells[i]);
	}
	free(t->cells);
}

/* ---- the commands ---- */

static void no_arguments(int argc, char **argv)
{
	if (argc > 1)
		usage_error("%s takes no arguments", argv[0]);
}

static Netd__Response *request(struct ctx *c, Netd__Request__BodyCase which, void *body,
			       Netd__Response__BodyCase want)
{
	Netd__Request req = NETD__REQUEST__INIT;
	req.body_case = which;
	req.status = body;	/* the body is a union: any member will do */
	Netd__Response *r = call(c, &req, want);
	if (c->json) {
		print_json(r);
		netd__response__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

static void print_uptime(uint64_t ms)
{
	uint64_t s = ms / 1000;
	printf("%-11s ", "uptime");
	if (s >= 86400)
		printf("%" PRIu64 "d ", s / 86400);
	if (s >= 3600)
		printf("%" PRIu64 "h ", s / 3600 % 24);
	if (s >= 60)
		printf("%" PRIu64 "m ", s / 60 % 60);
	printf("%" PRIu64 ".%03" PRIu64 "s\n", s % 60, ms % 1000);
}

static void cmd_status(struct ctx *c, int argc, char **argv)
{
	Netd__StatusRequest body = NETD__STATUS_REQUEST__INIT;
	no_arguments(argc, argv);
	Netd__Response *r = request(c, NETD__REQUEST__BODY_STATUS, &body,
				    NETD__RESPONSE__BODY_STATUS);
	if (!r)
		return;
	const Netd__Status *s = r->status;
	printf("%-11s %s\n", "version", s->netd_version);
	printf("%-11s %u\n", "pid", s->pid);
	print_uptime(s->uptime_ms);
	printf("%-11s %u\n%-11s %u\n", "clients", s->clients, "sockets", s->sockets);
	printf("%-11s %u\n%-11s %u\n", "interfaces", s->interfaces, "routes", s->routes);
	printf("%-11s %" PRIu64 " of %" PRIu64 " in use\n", "buffers", s->buffers_in_use,
	       s->buffers_total);
	netd__response__free_unpacked(r, NULL);
}

static void interface_row(struct table *t, const Netd__Interface *i)
{
	char addrs[256] = "";
	for (size_t k = 0; k < i->n_addresses; k++) {
		size_t len = strlen(addrs);
		snprintf(addrs + len, sizeof(addrs) - len, "%s%s", k ? "," : "", i->addresses[k]);
	}
	table_cell(t, "%u", i->index);
	table_cell(t, "%s", i->name);
	table_cell(t, "%s", i->mac);
	table_cell(t, "%u", i->mtu);
	table_cell(t, "%s", addrs[0] ? addrs : "-");
	table_cell(t, "%" PRIu64, i->rx_frames);
	table_cell(t, "%" PRIu64, i->tx_frames);
	table_cell(t, "%" PRIu64, i->rx_errors);
	table_cell(t, "%" PRIu64, i->tx_errors);
}

static void cmd_interfaces(struct ctx *c, int argc, char **argv)
{
	static const char *const head[] = {"INDEX", "NAME", "MAC", "MTU", "ADDRESSES",
					   "RX", "TX", "RX-ERR", "TX-ERR"};
	Netd__InterfacesRequest body = NETD__INTERFACES_REQUEST__INIT;
	struct table t;
	no_arguments(argc, argv);
	Netd__Response *r = request(c, NETD__REQUEST__BODY_INTERFACES, &body,
				    NETD__RESPONSE__BODY_INTERFACES);
	if (!r)
		return;
	table_init(&t, 9, head);
	for (size_t i = 0; i < r->interfaces->n_interfaces; i++)
		interface_row(&t, r->interfaces->interfaces[i]);
	table_print(&t);
	netd__response__free_unpacked(r, NULL);
}

/* The name of interface index, asked of netd (routes and neighbours name
 * interfaces by index); the index itself when netd does not know it. */
struct if_names {
	Netd__Response *r;
	char buf[16];
};

static void if_names_load(struct ctx *c, struct if_names *n)
{
	Netd__InterfacesRequest body = NETD__INTERFACES_REQUEST__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	req.body_case = NETD__REQUEST__BODY_INTERFACES;
	req.interfaces = &body;
	n->r = call(c, &req, NETD__RESPONSE__BODY_INTERFACES);
}

static const char *if_name(struct if_names *n, uint32_t index)
{
	for (size_t i = 0; i < n->r->interfaces->n_interfaces; i++)
		if (n->r->interfaces->interfaces[i]->index == index)
			return n->r->interfaces->interfaces[i]->name;
	snprintf(n->buf, sizeof(n->buf), "%u", index);
	return n->buf;
}

static void routes_show(struct ctx *c)
{
	static const char *const head[] = {"DESTINATION", "GATEWAY", "INTERFACE", "ORIGIN"};
	Netd__RoutesRequest body = NETD__ROUTES_REQUEST__INIT;
	struct if_names names;
	struct table t;
	Netd__Response *r = request(c, NETD__REQUEST__BODY_ROUTES, &body,
				    NETD__RESPONSE__BODY_ROUTES);
	if (!r)
		return;
	if_names_load(c, &names);
	table_init(&t, 4, head);
	for (size_t i = 0; i < r->routes->n_routes; i++) {
		const Netd__Route *rt = r->routes->routes[i];
		table_cell(&t, "%s", rt->destination);
		table_cell(&t, "%s", rt->gateway[0] ? rt->gateway : "-");
		table_cell(&t, "%s", if_name(&names, rt->interface));
		table_cell(&t, "%s", rt->origin);
	}
	table_print(&t);
	netd__response__free_unpacked(names.r, NULL);
	netd__response__free_unpacked(r, NULL);
}

static void routes_change(struct ctx *c, bool add, const char *dst, const char *gw)
{
	Netd__RouteChange body = NETD__ROUTE_CHANGE__INIT;
	body.add = add;
	body.destination = (char *)dst;
	body.gateway = (char *)(gw ? gw : "");
	Netd__Response *r = request(c, NETD__REQUEST__BODY_ROUTE_CHANGE, &body,
				    NETD__RESPONSE__BODY_OK);
	if (r)
		netd__response__free_unpacked(r, NULL);
}

static void cmd_routes(struct ctx *c, int argc, char **argv)
{
	if (argc == 1)
		routes_show(c);
	else if (strcmp(argv[1], "add") == 0 && argc == 4)
		routes_change(c, true, argv[2], argv[3]);
	else if (strcmp(argv[1], "del") == 0 && argc == 3)
		routes_change(c, false, argv[2], NULL);
	else
		usage_error("usage: routes [add DST/LEN GATEWAY | del DST/LEN]");
}

static void cmd_neighbours(struct ctx *c, int argc, char **argv)
{
	static const char *const head[] = {"ADDRESS", "MAC", "STATE", "INTERFACE"};
	Netd__NeighboursRequest body = NETD__NEIGHBOURS_REQUEST__INIT;
	struct if_names names;
	struct table t;
	no_arguments(argc, argv);
	Netd__Response *r = request(c, NETD__REQUEST__BODY_NEIGHBOURS, &body,
				    NETD__RESPONSE__BODY_NEIGHBOURS);
	if (!r)
		return;
	if_names_load(c, &names);
	table_init(&t, 4, head);
	for (size_t i = 0; i < r->neighbours->n_neighbours; i++) {
		const Netd__Neighbour *n = r->neighbours->neighbours[i];
		table_cell(&t, "%s", n->address);
		table_cell(&t, "%s", n->mac[0] ? n->mac : "-");
		table_cell(&t, "%s", n->state);
		table_cell(&t, "%s", if_name(&names, n->interface));
	}
	table_print(&t);
	netd__response__free_unpacked(names.r, NULL);
	netd__response__free_unpacked(r, NULL);
}

/* ss's process column: users:(("program",pid=N,uid=N)), netd's own
 * sockets as "netd", orphans empty. */
static void socket_process(struct table *t, const Netd__Socket *s)
{
	if (s->pid)
		table_cell(t, "users:((\"%s\",pid=%u,uid=%u))", s->program, s->pid, s->uid);
	else
		table_cell(t, "%s", s->program);
}

/* TCP_INFO's fields as netd sends them: times in microseconds, cwnd in
 * segments. */
static void socket_info(struct table *t, const Netd__Socket *s)
{
	if (strcmp(s->protocol, "tcp") != 0) {
		for (int i = 0; i < 8; i++)
			table_cell(t, "-");
		return;
	}
	table_cell(t, "%u", s->rto_us);
	table_cell(t, "%u", s->rtt_us);
	table_cell(t, "%u", s->rttvar_us);
	table_cell(t, "%u", s->snd_cwnd);
	table_cell(t, "%u", s->snd_mss);
	table_cell(t, "%u", s->retrans);
	table_cell(t, "%" PRIu64, s->bytes_acked);
	table_cell(t, "%" PRIu64, s->bytes_received);
}

static bool sockets_options(int argc, char **argv)
{
	bool info = false;
	int ch;
	optind = 0;
	while ((ch = getopt(argc, argv, "i")) != -1) {
		if (ch != 'i')
			usage_error("usage: sockets [-i]");
		info = true;
	}
	if (optind < argc)
		usage_error("usage: sockets [-i]");
	return info;
}

static void cmd_sockets(struct ctx *c, int argc, char **argv)
{
	static const char *const head[] = {
		"Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
		"RTO(us)", "RTT(us)", "RTTVAR(us)", "CWND", "MSS", "RETRANS", "BYTES-ACKED",
		"BYTES-RECEIVED", "Process"};
	static const char *const head_short[] = {
		"Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
		"Process"};
	Netd__SocketsRequest body = NETD__SOCKETS_REQUEST__INIT;
	bool info = sockets_options(argc, argv);
	struct table t;
	Netd__Response *r = request(c, NETD__REQUEST__BODY_SOCKETS, &body,
				    NETD__RESPONSE__BODY_SOCKETS);
	if (!r)
		return;
	table_init(&t, info ? 15 : 7, info ? head : head_short);
	for (size_t i = 0; i < r->sockets->n_sockets; i++) {
		const Netd__Socket *s = r->sockets->sockets[i];
		table_cell(&t, "%s", s->protocol);
		table_cell(&t, "%s", s->state);
		table_cell(&t, "%u", s->recv_q);
		table_cell(&t, "%u", s->send_q);
		table_cell(&t, "%s", s->local);
		table_cell(&t, "%s", s->peer);
		if (info)
			socket_info(&t, s);
		socket_process(&t, s);
	}
	table_print(&t);
	netd__response__free_unpacked(r, NULL);
}

static void counters_table(const char *title, Netd__Counter **list, size_t n)
{
	const char *head[] = {title, "VALUE"};
	struct table t;
	table_init(&t, 2, head);
	for (size_t i = 0; i < n; i++) {
		table_cell(&t, "%s", list[i]->name);
		table_cell(&t, "%" PRIu64, list[i]->value);
	}
	table_print(&t);
}

static void cmd_counters(struct ctx *c, int argc, char **argv)
{
	Netd__CountersRequest body = NETD__COUNTERS_REQUEST__INIT;
	no_arguments(argc, argv);
	Netd__Response *r = request(c, NETD__REQUEST__BODY_COUNTERS, &body,
				    NETD__RESPONSE__BODY_COUNTERS);
	if (!r)
		return;
	counters_table("COUNTER", r->counters->counters, r->counters->n_counters);
	putchar('\n');
	counters_table("DROP REASON", r->counters->drops, r->counters->n_drops);
	netd__response__free_unpacked(r, NULL);
}

/* ---- capture ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t parse_count(const char *s, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-')
		usage_error("%s must be a whole number: '%s'", what, s);
	return v;
}

static void capture_options(int argc, char **argv, Netd__CaptureStart *cs, const char **file)
{
	uint64_t pid;
	int ch;
	optind = 0;
	while ((ch = getopt(argc, argv, "p:c:")) != -1) {
		switch (ch) {
		case 'p':
			if ((pid = parse_count(optarg, "PID")) > INT32_MAX)
				usage_error("PID out of range: '%s'", optarg);
			cs->pid = (uint32_t)pid;
			break;
		case 'c': cs->count = parse_count(optarg, "COUNT"); break;
		default: usage_error("usage: capture FILE [-p PID] [-c COUNT]");
		}
	}
	if (optind != argc - 1)
		usage_error("usage: capture FILE [-p PID] [-c COUNT]");
	*file = argv[optind];
}

/* Blocks SIGINT and SIGTERM but for ppoll, which they interrupt. */
static void catch_signals(sigset_t *during_poll)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, during_poll);
	sigdelset(during_poll, SIGINT);
	sigdelset(during_poll, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Waits for netd's answer (the count is reached) or a signal. */
static void capture_wait(struct ctx *c)
{
	sigset_t during_poll;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	catch_signals(&during_poll);
	while (!interrupted) {
		if (ppoll(&p, 1, NULL, &during_poll) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		Netd__Response *r = recv_response(c);	/* an Error ends here */
		if (c->json)
			print_json(r);
		netd__response__free_unpacked(r, NULL);
		return;
	}
}

static void cmd_capture(struct ctx *c, int argc, char **argv)
{
	Netd__CaptureStart cs = NETD__CAPTURE_START__INIT;
	Netd__Request req = NETD__REQUEST__INIT;
	const char *file;
	capture_options(argc, argv, &cs, &file);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", file, strerror(errno));
	req.body_case = NETD__REQUEST__BODY_CAPTURE;
	req.capture = &cs;
	send_request(c, &req, fd);
	close(fd);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "capturing to %s (Ctrl-C stops)\n", file);
	capture_wait(c);
}

static const struct command commands[] = {
	{"status", cmd_status},
	{"interfaces", cmd_interfaces},
	{"routes", cmd_routes},
	{"neighbours", cmd_neighbours},
	{"sockets", cmd_sockets},
	{"counters", cmd_counters},
	{"capture", cmd_capture},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	usage_error("unknown command '%s'", name);
}

static void parse_global(int argc, char **argv, struct ctx *c)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "+hjS:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage(stdout); exit(0);
		case 'j': c->json = true; break;
		case 'S': c->path = optarg; break;
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind >= argc)
		usage_error("no command given");
}

int main(int argc, char **argv)
{
	struct ctx c = {.path = getenv("NETD_SOCKET"), .fd = -1};
	parse_global(argc, argv, &c);
	if (!c.path || !c.path[0])
		c.path = CTL_DEFAULT_SOCKET;
	const struct command *cmd = find_command(argv[optind]);
	connect_netd(&c);
	hello(&c);
	cmd->run(&c, argc - optind, argv + optind);
	if (fflush(stdout) != 0)
		die("writing the output: %s", strerror(errno));
	close(c.fd);
	return 0;
}
