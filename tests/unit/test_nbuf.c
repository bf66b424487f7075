/*
 * test_nbuf.c: packet buffer geometry, bounds, clones, pools and queues.
 */
#include "config.h"

#include <check.h>

#include "tests/harness.h"
#include <stdlib.h>
#include <string.h>

#include "netd/nbuf.h"

static struct nbuf_pool pool;

static void setup(void)
{
	struct nbuf_pool_config c = {.small_size = 2048, .small_count = 4,
				     .large_size = 65536, .large_count = 1};
	ck_assert_int_eq(nbuf_pool_init(&pool, &c), 0);
}

static void teardown(void)
{
	ck_assert_uint_eq(nbuf_pool_in_use(&pool), 0);
	nbuf_pool_destroy(&pool);
}

START_TEST(geometry_reserve_put_push_pull_trim)
{
	struct nbuf *nb = nbuf_alloc(&pool, 100);
	ck_assert_ptr_nonnull(nb);
	ck_assert_uint_eq(nbuf_len(nb), 0);
	nbuf_reserve(nb, 64);
	ck_assert_uint_eq(nbuf_headroom(nb), 64);
	memset(nbuf_put(nb, 10), 0xab, 10);
	ck_assert_uint_eq(nbuf_len(nb), 10);
	uint8_t *h = nbuf_push(nb, 4);
	ck_assert_ptr_eq(h, nb->data);
	ck_assert_uint_eq(nbuf_headroom(nb), 60);
	ck_assert_uint_eq(nbuf_len(nb), 14);
	ck_assert_ptr_nonnull(nbuf_pull(nb, 4));
	ck_assert_uint_eq(nb->data[0], 0xab);
	nbuf_trim(nb, 3);
	ck_assert_uint_eq(nbuf_len(nb), 3);
	nbuf_trim(nb, 50);	/* longer than the data: no change */
	ck_assert_uint_eq(nbuf_len(nb), 3);
	ck_assert(nb->head <= nb->data && nb->data <= nb->tail && nb->tail <= nb->end);
	nbuf_free(nb);
}
END_TEST

START_TEST(pull_beyond_data_returns_null)
{
	struct nbuf *nb = nbuf_alloc(&pool, 100);
	nbuf_put(nb, 8);
	ck_assert_ptr_null(nbuf_pull(nb, 9));
	ck_assert_uint_eq(nbuf_len(nb), 8);	/* unchanged */
	ck_assert_ptr_nonnull(nbuf_pull(nb, 8));
	ck_assert_uint_eq(nbuf_len(nb), 0);
	nbuf_free(nb);
}
END_TEST

START_TEST(size_classes_and_exhaustion)
{
	struct nbuf *small[4], *big, *none;
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(small[i] = nbuf_alloc(&pool, 1500));
	/* small class empty: a small request falls to the large class */
	big = nbuf_alloc(&pool, 1500);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_ge(nbuf_tailroom(big), 65536);
	none = nbuf_alloc(&pool, 10);
	ck_assert_ptr_null(none);
	ck_assert_uint_eq(pool.exhausted, 1);
	ck_assert_ptr_null(nbuf_alloc(&pool, 70000));	/* larger than any class */
	for (int i = 0; i < 4; i++)
		nbuf_free(small[i]);
	nbuf_free(big);
}
END_TEST

START_TEST(clone_shares_data_until_last_free)
{
	struct nbuf *nb = nbuf_alloc_tx(&pool, 100);
	memcpy(nbuf_put(nb, 5), "hello", 5);
	ck_assert(!nbuf_shared(nb));
	struct nbuf *c = nbuf_clone(nb);
	ck_assert_ptr_nonnull(c);
	ck_assert(nbuf_shared(nb) && nbuf_shared(c));
	ck_assert_ptr_eq(c->data, nb->data);
	nbuf_pull(c, 2);	/* own geometry */
	ck_assert_uint_eq(nbuf_len(nb), 5);
	nbuf_free(nb);
	ck_assert(!nbuf_shared(c));
	ck_assert_mem_eq(c->data, "llo", 3);
	nbuf_free(c);
}
END_TEST

START_TEST(copy_is_private_with_same_headroom)
{
	struct nbuf *nb = nbuf_alloc_tx(&pool, 100);
	memcpy(nbuf_put(nb, 3), "abc", 3);
	struct nbuf *c = nbuf_copy(nb);
	ck_assert_uint_eq(nbuf_headroom(c), nbuf_headroom(nb));
	c->data[0] = 'z';
	ck_assert_uint_eq(nb->data[0], 'a');
	nbuf_free(nb);
	nbuf_free(c);
}
END_TEST

START_TEST(unshare_copies_only_shared_data)
{
	struct nbuf *nb = nbuf_alloc_tx(&pool, 100);
	memcpy(nbuf_put(nb, 3), "abc", 3);
	ck_assert_ptr_eq(nbuf_unshare(nb), nb);	/* sole owner: itself */
	struct nbuf *c = nbuf_clone(nb);
	struct nbuf *u = nbuf_unshare(c);
	ck_assert_ptr_nonnull(u);
	ck_assert(!nbuf_shared(u) && !nbuf_shared(nb));
	u->data[0] = 'z';
	ck_assert_uint_eq(nb->data[0], 'a');
	ck_assert_mem_eq(u->data, "zbc", 3);
	nbuf_free(u);
	nbuf_free(nb);
}
END_TEST

START_TEST(unshare_without_buffers_frees_and_fails)
{
	struct nbuf *all[5];
	for (int i = 0; i < 5; i++)
		all[i] = nbuf_alloc(&pool, 10);	/* 4 small and the large one */
	struct nbuf *c = nbuf_clone(all[0]);
	ck_assert_ptr_null(nbuf_unshare(c));	/* c is freed */
	ck_assert(!nbuf_shared(all[0]));
	for (int i = 0; i < 5; i++)
		nbuf_free(all[i]);
}
END_TEST

START_TEST(queue_fifo_and_purge)
{
	struct nbuf_queue q = {0};
	struct nbuf *a = nbuf_alloc(&pool, 1), *b = nbuf_alloc(&pool, 1);
	nbuf_queue_push(&q, a);
	nbuf_queue_push(&q, b);
	ck_assert_uint_eq(q.len, 2);
	ck_assert_ptr_eq(nbuf_queue_pop(&q), a);
	nbuf_free(a);
	nbuf_queue_purge(&q);
	ck_assert_uint_eq(q.len, 0);
	ck_assert_ptr_null(nbuf_queue_pop(&q));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nbuf");
	TCase *tc = tcase_create("nbuf");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, geometry_reserve_put_push_pull_trim);
	tcase_add_test(tc, pull_beyond_data_returns_null);
	tcase_add_test(tc, size_classes_and_exhaustion);
	tcase_add_test(tc, clone_shares_data_until_last_free);
	tcase_add_test(tc, copy_is_private_with_same_headroom);
	tcase_add_test(tc, unshare_copies_only_shared_data);
	tcase_add_test(tc, unshare_without_buffers_frees_and_fails);
	tcase_add_test(tc, queue_fifo_and_purge);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
