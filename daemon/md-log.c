/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's log: one line per event, to stderr in the foreground and to syslog otherwise.
 * Lines are bounded (MD_DAEMON_LOG_LINE) and written with one call, so concurrent jobs never
 * interleave within a line. Every line is escaped whole (md_escape): names, annotations and
 * paths a client or target supplied cannot start a line of their own (a forged entry under
 * systemd's journal) or reach a terminal as escape sequences.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-escape.h"

static bool to_stderr = true;

void md_log_init(bool foreground)
{
	to_stderr = foreground;
	if (!foreground)
		openlog("minidumpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void md_log(int priority, const char *fmt, ...)
{
	char raw[MD_DAEMON_LOG_LINE], line[MD_DAEMON_LOG_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	md_escape(raw, strnlen(raw, sizeof(raw)), line, sizeof(line), 0);
	if (!to_stderr) {
		syslog(priority, "%s", line);
		return;
	}
	{
		char out[MD_DAEMON_LOG_LINE + 64];
		static const char *const level[] = {"emerg", "alert", "crit", "error",
						    "warning", "notice", "info", "debug"};
		struct timespec ts;
		struct tm tm;
		int len;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		len = snprintf(out, sizeof(out), "%02d:%02d:%02d.%03ld minidumpd[%d] %s: %s\n",
			       tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(),
			       level[priority & 7], line);
		if (len > (int)sizeof(out))
			len = (int)sizeof(out);
		if (write(STDERR_FILENO, out, (size_t)len) < 0)
			return;
	}
}
