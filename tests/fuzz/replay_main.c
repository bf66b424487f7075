/*
 * replay_main.c: runs a fuzz target over saved inputs without libFuzzer,
 * so the corpus (seeds and every crash found, kept as regression inputs)
 * replays in every ordinary build. Each argument is a file, or a directory
 * whose files are all taken (not recursively), in name order. Output is
 * TAP: "1..N", then "ok K - FILE" per input run; an input that cannot be
 * read is "not ok". A crash kills the process, and the test driver sees
 * both the signal and the missing results.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct paths {
	char **v;
	size_t n, cap;
};

static void paths_add(struct paths *p, const char *dir, const char *name)
{
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *s = malloc(len);

	if (s && p->n == p->cap) {
		p->cap = p->cap * 2 + 16;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
	}
	if (!s || !p->v) {
		perror("replay_input");
		exit(EXIT_FAILURE);
	}
	snprintf(s, len, "%s%s%s", dir, *dir ? "/" : "", name);
	p->v[p->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every regular file in dir, sorted by name. */
static void paths_add_dir(struct paths *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = p->n;

	if (!d) {
		fprintf(stderr, "replay_input: %s: %s\n", dir, strerror(errno));
		exit(EXIT_FAILURE);
	}
	while ((de = readdir(d))) {
		struct stat sb;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			paths_add(p, dir, de->d_name);
	}
	closedir(d);
	qsort(p->v + first, p->n - first, sizeof(*p->v), cmp_str);
}

/* The whole file in a buffer of its exact size (as libFuzzer hands them
 * out, so ASan sees any read past the end); NULL when it cannot be read. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		*len = (size_t)n;
		buf = malloc(*len ? *len : 1);
		if (buf && fread(buf, 1, *len, f) != *len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct paths p = {0};
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			paths_add_dir(&p, argv[i]);
		else
			paths_add(&p, "", argv[i]);
	}
	printf("1..%zu\n", p.n);
	fflush(stdout);
	for (size_t k = 0; k < p.n; k++) {
		size_t len;
		uint8_t *data = read_file(p.v[k], &len);
		if (!data) {
			printf("not ok %zu - %s # cannot read it\n", k + 1, p.v[k]);
			failed = 1;
		} else {
			LLVMFuzzerTestOneInput(data, len);
			printf("ok %zu - %s\n", k + 1, p.v[k]);
		}
		fflush(stdout);
		free(data);
		free(p.v[k]);
	}
	free(p.v);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
