/*
 * test_route.c: longest-prefix match, add/delete rules and node reuse.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "netd/route.h"
#include "tests/harness.h"

static struct route_table t;
static struct netif *if_a = (struct netif *)0x1000, *if_b = (struct netif *)0x2000;

static void setup(void)
{
	ck_assert_int_eq(route_table_init(&t, 8), 0);
}

static void teardown(void)
{
	route_table_destroy(&t);
}

static int add(uint32_t dst, unsigned plen, uint32_t gw, struct netif *nif)
{
	struct route r = {.dst = dst, .plen = (uint8_t)plen, .gw = gw, .nif = nif};
	return route_add(&t, &r);
}

START_TEST(longest_prefix_wins)
{
	ck_assert_int_eq(add(0, 0, IPV4(10, 0, 0, 1), if_a), 0);
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 8, 0, if_a), 0);
	ck_assert_int_eq(add(IPV4(10, 1, 0, 0), 16, 0, if_b), 0);
	ck_assert_int_eq(add(IPV4(10, 1, 2, 3), 32, IPV4(10, 0, 0, 9), if_a), 0);
	ck_assert_uint_eq(route_lookup(&t, IPV4(10, 1, 2, 3))->plen, 32);
	ck_assert_uint_eq(route_lookup(&t, IPV4(10, 1, 2, 4))->plen, 16);
	ck_assert_ptr_eq(route_lookup(&t, IPV4(10, 1, 200, 1))->nif, if_b);
	ck_assert_uint_eq(route_lookup(&t, IPV4(10, 2, 0, 1))->plen, 8);
	ck_assert_uint_eq(route_lookup(&t, IPV4(192, 168, 1, 1))->plen, 0);
	ck_assert_uint_eq(route_lookup(&t, IPV4(192, 168, 1, 1))->gw, IPV4(10, 0, 0, 1));
}
END_TEST

START_TEST(no_default_no_match)
{
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 24, 0, if_a), 0);
	ck_assert_ptr_null(route_lookup(&t, IPV4(10, 0, 1, 1)));
	ck_assert_ptr_nonnull(route_lookup(&t, IPV4(10, 0, 0, 255)));
}
END_TEST

START_TEST(add_rejects_duplicates_bad_prefixes_and_overflow)
{
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 24, 0, if_a), 0);
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 24, 0, if_b), -EEXIST);
	ck_assert_int_eq(add(IPV4(10, 0, 0, 1), 24, 0, if_a), -EINVAL);	/* host bits set */
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 33, 0, if_a), -EINVAL);
	for (unsigned i = 1; i < 8; i++)
		ck_assert_int_eq(add(IPV4(20, i, 0, 0), 16, 0, if_a), 0);
	ck_assert_int_eq(add(IPV4(30, 0, 0, 0), 8, 0, if_a), -ENOSPC);
}
END_TEST

START_TEST(delete_falls_back_and_reuses_nodes)
{
	ck_assert_int_eq(add(IPV4(10, 0, 0, 0), 8, 0, if_a), 0);
	ck_assert_int_eq(add(IPV4(10, 1, 0, 0), 16, 0, if_b), 0);
	ck_assert_int_eq(route_del(&t, IPV4(10, 1, 0, 0), 16), 0);
	ck_assert_uint_eq(route_lookup(&t, IPV4(10, 1, 0, 1))->plen, 8);
	ck_assert_int_eq(route_del(&t, IPV4(10, 1, 0, 0), 16), -ESRCH);
	/* many add/delete cycles must not exhaust the node pool */
	for (unsigned i = 0; i < 1000; i++) {
		ck_assert_int_eq(add(IPV4(172, 16, i & 0xff, 0), 24, 0, if_a), 0);
		ck_assert_int_eq(route_del(&t, IPV4(172, 16, i & 0xff, 0), 24), 0);
	}
	ck_assert_uint_eq(t.nroutes, 1);
}
END_TEST

static unsigned walked[8], nwalked;
static void collect(const struct route *r, void *arg)
{
	(void)arg;
	walked[nwalked++] = r->plen;
}

START_TEST(walk_most_specific_first_and_flush)
{
	add(0, 0, IPV4(10, 0, 0, 1), if_a);
	add(IPV4(10, 0, 0, 0), 24, 0, if_a);
	add(IPV4(10, 9, 0, 0), 16, 0, if_b);
	nwalked = 0;
	route_walk(&t, collect, NULL);
	ck_assert_uint_eq(nwalked, 3);
	ck_assert_uint_eq(walked[0], 24);
	ck_assert_uint_eq(walked[2], 0);
	route_flush_netif(&t, if_a);
	ck_assert_uint_eq(t.nroutes, 1);
	ck_assert_ptr_eq(route_lookup(&t, IPV4(10, 9, 1, 1))->nif, if_b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("lpm");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, longest_prefix_wins);
	tcase_add_test(tc, no_default_no_match);
	tcase_add_test(tc, add_rejects_duplicates_bad_prefixes_and_overflow);
	tcase_add_test(tc, delete_falls_back_and_reuses_nodes);
	tcase_add_test(tc, walk_most_specific_first_and_flush);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
