/*
 * json.h: a small JSON writer for netdctl -j. Values are written as they
 * come, inside objects and arrays the caller opens and closes; the writer
 * places the commas. Strings are escaped (RFC 8259 section 7), and bytes
 * that are not valid UTF-8 (a program name is whatever the process chose)
 * become U+FFFD, so the output always parses.
 */
#ifndef NETD_JSON_H
#define NETD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	unsigned depth;
	bool first[JSON_MAX_DEPTH + 1];	/* nothing written yet at this depth */
};

void json_init(struct json *j, FILE *f);
/* Each value takes a key inside an object, NULL inside an array or at the
 * top. */
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *s);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

/* Writes s as a JSON string literal, quotes included. */
void json_write_string(FILE *f, const char *s);

#endif
