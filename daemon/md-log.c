/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's log: one line per event, to stderr in the foreground and otherwise to the system
 * log (md-syslog-posix.c, md-syslog-windows.c).
 * Lines are bounded (MD_DAEMON_LOG_LINE) and written with one call, so concurrent jobs never
 * interleave within a line. Every line is escaped whole (md_escape): names, annotations and
 * paths a client or target supplied cannot start a line of their own (a forged entry under
 * systemd's journal) or reach a terminal as escape sequences.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-escape.h"
#include "md-os.h"

static bool to_stderr = true;

void md_log_init(bool foreground)
{
	to_stderr = foreground;
	if (!foreground)
		md_syslog_open();
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
		md_syslog(priority, line);
		return;
	}
	{
		char out[MD_DAEMON_LOG_LINE + 64];
		static const char *const level[] = {"emerg", "alert", "crit", "error",
						    "warning", "notice", "info", "debug"};
		int64_t now_ns = md_os_realtime_ns();
		time_t now_s = (time_t)(now_ns / 1000000000);
		struct tm tm;
		int len;

		gmtime_r(&now_s, &tm);
		len = snprintf(out, sizeof(out), "%02d:%02d:%02d.%03ld minidumpd[%d] %s: %s\n",
		               tm.tm_hour, tm.tm_min, tm.tm_sec,
		               (long)(now_ns % 1000000000 / 1000000), (int)getpid(),
		               level[priority & 7], line);
		if (len > (int)sizeof(out))
			len = (int)sizeof(out);
		md_os_write_full(STDERR_FILENO, out, (size_t)len);
	}
}
