/*
 * log.c: the log of log.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "log.h"

static int log_to_stderr = 1;
static int log_lvl = LOG_LVL_INFO;

void log_init(int foreground, int level)
{
	log_to_stderr = foreground;
	log_lvl = level;
	if (!foreground)
		openlog("netd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_level(void)
{
	return log_lvl;
}

__attribute__((format(printf, 2, 0)))
static void vlog(int level, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	if (level > log_lvl)
		return;
	if (log_to_stderr) {
		fputs("netd: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio[level], fmt, ap);
	}
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
