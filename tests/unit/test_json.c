/*
 * test_json.c: netdctl's JSON writer: commas and nesting, string escapes,
 * and bytes that are not UTF-8 turned into U+FFFD so the output parses.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netd/json.h"
#include "tests/harness.h"

static char *buf;
static size_t len;
static FILE *f;

static void setup(void)
{
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
}

static void teardown(void)
{
	fclose(f);
	free(buf);
}

/* What s becomes as a JSON string literal. */
static const char *escaped(const char *s)
{
	rewind(f);
	json_write_string(f, s);
	fputc('\0', f);
	fflush(f);
	return buf;
}

START_TEST(nesting_and_commas)
{
	struct json j;
	json_init(&j, f);
	json_begin_object(&j, NULL);
	json_uint(&j, "a", 18446744073709551615ULL);
	json_begin_array(&j, "b");
	json_int(&j, NULL, -1);
	json_begin_object(&j, NULL);
	json_string(&j, "c", "x");
	json_end_object(&j);
	json_begin_array(&j, NULL);
	json_end_array(&j);
	json_end_array(&j);
	json_bool(&j, "d", true);
	json_null(&j, "e");
	json_end_object(&j);
	fflush(f);
	ck_assert_str_eq(buf, "{\"a\":18446744073709551615,\"b\":[-1,{\"c\":\"x\"},[]],"
			      "\"d\":true,\"e\":null}\n");
}
END_TEST

START_TEST(escapes)
{
	ck_assert_str_eq(escaped("plain"), "\"plain\"");
	ck_assert_str_eq(escaped("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
	ck_assert_str_eq(escaped("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
	ck_assert_str_eq(escaped("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
	ck_assert_str_eq(escaped(""), "\"\"");
	ck_assert_str_eq(escaped(NULL), "\"\"");
}
END_TEST

START_TEST(valid_utf8_passes)
{
	ck_assert_str_eq(escaped("caf\xc3\xa9"), "\"caf\xc3\xa9\"");		/* U+00E9 */
	ck_assert_str_eq(escaped("\xe2\x82\xac"), "\"\xe2\x82\xac\"");		/* U+20AC */
	ck_assert_str_eq(escaped("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");	/* U+1F600 */
	ck_assert_str_eq(escaped("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
}
END_TEST

START_TEST(invalid_utf8_becomes_replacement)
{
	ck_assert_str_eq(escaped("a\xff" "b"), "\"a\\ufffdb\"");
	ck_assert_str_eq(escaped("\xc0\x80"), "\"\\ufffd\\ufffd\"");		/* overlong NUL */
	ck_assert_str_eq(escaped("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");	/* overlong / */
	ck_assert_str_eq(escaped("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	ck_assert_str_eq(escaped("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	ck_assert_str_eq(escaped("\xe2\x82"), "\"\\ufffd\\ufffd\"");		/* cut short */
	ck_assert_str_eq(escaped("\xe2\x82" "x"), "\"\\ufffd\\ufffdx\"");
	ck_assert_str_eq(escaped("\x80"), "\"\\ufffd\"");			/* lone continuation */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("writer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, nesting_and_commas);
	tcase_add_test(tc, escapes);
	tcase_add_test(tc, valid_utf8_passes);
	tcase_add_test(tc, invalid_utf8_becomes_replacement);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
