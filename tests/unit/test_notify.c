/*
 * test_notify.c: netd's sd_notify: the datagram reaches a socket named by
 * a path or by an abstract name ('@'), nothing is sent without
 * NOTIFY_SOCKET, and addresses netd cannot use are refused.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netd/notify.h"
#include "tests/harness.h"

static char dir[64];
static int rx = -1;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/netd-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	unsetenv("NOTIFY_SOCKET");
}

static void teardown(void)
{
	char path[128];
	if (rx >= 0)
		close(rx);
	rx = -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

/* A datagram socket bound to name (abstract when it starts with '@'). */
static void listen_at(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	rx = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(rx, 0);
	ck_assert_int_eq(bind(rx, (struct sockaddr *)&sun,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
	setenv("NOTIFY_SOCKET", name, 1);
}

static void expect_datagram(const char *want)
{
	char got[64];
	ssize_t n = recv(rx, got, sizeof(got) - 1, MSG_DONTWAIT);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	got[n] = '\0';
	ck_assert_str_eq(got, want);
}

START_TEST(path_socket)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/notify", dir);
	listen_at(path);
	ck_assert_int_eq(notify_send("READY=1"), 0);
	ck_assert_int_eq(notify_send("STOPPING=1"), 0);
	expect_datagram("READY=1");
	expect_datagram("STOPPING=1");
}
END_TEST

START_TEST(abstract_socket)
{
	char name[64];
	snprintf(name, sizeof(name), "@netd-notify-test-%d", (int)getpid());
	listen_at(name);
	ck_assert_int_eq(notify_send("READY=1"), 0);
	expect_datagram("READY=1");
}
END_TEST

START_TEST(unset_sends_nothing)
{
	ck_assert_int_eq(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(notify_send("READY=1"), 0);
}
END_TEST

START_TEST(bad_addresses)
{
	char longname[200];
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	ck_assert_int_eq(notify_send("READY=1"), -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_int_eq(notify_send("READY=1"), -EAFNOSUPPORT);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	ck_assert_int_eq(notify_send("READY=1"), -EINVAL);
	snprintf(longname, sizeof(longname), "%s/nobody-listens", dir);
	setenv("NOTIFY_SOCKET", longname, 1);
	ck_assert_int_eq(notify_send("READY=1"), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("sd_notify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, path_socket);
	tcase_add_test(tc, abstract_socket);
	tcase_add_test(tc, unset_sends_nothing);
	tcase_add_test(tc, bad_addresses);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
