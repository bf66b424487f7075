/*
 * test_capture.c: live capture (netd/capture.c) on the packet harness:
 * frames in and out written as pcap records with the virtual clock's
 * time, the Ok after count frames, a process filter that skips frames of
 * other owners, an end without answer when the connection goes, and a
 * pipe whose reader left ending the capture with EPIPE, not netd.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netd/capture.h"
#include "proto/netd.pb-c.h"
#include "tests/harness.h"

static struct harness h;
static int conn[2];	/* netd's end, netdctl's end */

static void setup(void)
{
	harness_init(&h);
	harness_learn_peer(&h);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, conn), 0);
}

static void teardown(void)
{
	capture_stop(h.st, conn[0]);
	close(conn[0]);
	close(conn[1]);
	harness_teardown(&h);
}

/* The peer pings us and takes the reply: one frame in, one out. */
static void ping(struct frame *req, struct frame *rep)
{
	req->len = build_echo(req, H_PEER_IP, H_OUR_IP, 7, 1, 32);
	harness_inject(&h, req->b, req->len);
	rep->len = harness_take(&h, rep);
	ck_assert_uint_gt(rep->len, 0);
}

/* The next answer on netdctl's end: its body case, 0 when none waits. */
static int answer(int *errno_value)
{
	uint8_t buf[512];
	ssize_t n = recv(conn[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0)
		return 0;
	Netd__Response *r = netd__response__unpack(NULL, (size_t)n, buf);
	ck_assert_ptr_nonnull(r);
	int body = r->body_case;
	if (body == NETD__RESPONSE__BODY_ERROR)
		*errno_value = r->error->errno_value;
	netd__response__free_unpacked(r, NULL);
	return body;
}

static void check_record(const uint8_t *rec, const struct frame *f)
{
	uint32_t hdr[4];
	uint64_t now = stack_now(h.st);
	memcpy(hdr, rec, sizeof(hdr));
	ck_assert_uint_eq(hdr[0], now / NSEC_PER_SEC);
	ck_assert_uint_eq(hdr[1], now % NSEC_PER_SEC);
	ck_assert_uint_eq(hdr[2], f->len);
	ck_assert_uint_eq(hdr[3], f->len);
	ck_assert_mem_eq(rec + PCAP_REC_HDR_LEN, f->b, f->len);
}

START_TEST(every_frame_until_count)
{
	struct frame req, rep;
	uint8_t file[4096];
	int err = 0, out = memfd_create("capture", MFD_CLOEXEC), keep = dup(out);
	ck_assert_int_eq(capture_start(h.st, out, 0, 2, conn[0]), 0);
	ck_assert(capture_running(h.st, conn[0]));
	ping(&req, &rep);
	ck_assert(!capture_running(h.st, conn[0]));
	ck_assert_ptr_null(h.st->taps);
	ck_assert_int_eq(answer(&err), NETD__RESPONSE__BODY_OK);

	ssize_t n = pread(keep, file, sizeof(file), 0);
	ck_assert_int_eq(n, PCAP_FILE_HDR_LEN + 2 * PCAP_REC_HDR_LEN + req.len + rep.len);
	ck_assert_uint_eq(*(uint32_t *)file, 0xa1b23c4du);
	check_record(file + PCAP_FILE_HDR_LEN, &req);
	check_record(file + PCAP_FILE_HDR_LEN + PCAP_REC_HDR_LEN + req.len, &rep);
	ping(&req, &rep);	/* nothing more is written */
	ck_assert_int_eq(lseek(keep, 0, SEEK_END), n);
	close(keep);
}
END_TEST

START_TEST(other_owners_frames_are_skipped)
{
	struct frame req, rep;
	struct stat sb;
	int err = 0, out = memfd_create("capture", MFD_CLOEXEC), keep = dup(out);
	ck_assert_int_eq(capture_start(h.st, out, 4242, 0, conn[0]), 0);
	ping(&req, &rep);	/* ICMP belongs to no socket */
	ck_assert_int_eq(fstat(keep, &sb), 0);
	ck_assert_int_eq(sb.st_size, PCAP_FILE_HDR_LEN);
	capture_stop(h.st, conn[0]);
	ck_assert(!capture_running(h.st, conn[0]));
	ck_assert_int_eq(answer(&err), 0);	/* the connection is going: no answer */
	ck_assert_int_eq(fcntl(out, F_GETFD), -1);	/* the capture closed its fd */
	close(keep);
}
END_TEST

START_TEST(pipe_reader_gone_is_an_error)
{
	struct frame req, rep;
	int p[2], err = 0;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(capture_start(h.st, p[1], 0, 0, conn[0]), 0);
	close(p[0]);
	ping(&req, &rep);	/* SIGPIPE would end this test */
	ck_assert(!capture_running(h.st, conn[0]));
	ck_assert_int_eq(answer(&err), NETD__RESPONSE__BODY_ERROR);
	ck_assert_int_eq(err, EPIPE);
}
END_TEST

START_TEST(unwritable_fd_is_refused)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(capture_start(h.st, fd, 0, 0, conn[0]), -EBADF);
	ck_assert(!capture_running(h.st, conn[0]));
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("capture");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_frame_until_count);
	tcase_add_test(tc, other_owners_frames_are_skipped);
	tcase_add_test(tc, pipe_reader_gone_is_an_error);
	tcase_add_test(tc, unwritable_fd_is_refused);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
