/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's log: one line per event, to stderr in the foreground and otherwise to the system
 * log (md-syslog-posix.c, md-syslog-windows.c), or, when built with libsystemd and the journal
 * is there, as journal entries: the line is MESSAGE=, the log level PRIORITY=, and each saved
 * dump's entry also carries MINIDUMPD_* fields and a fixed MESSAGE_ID an operator can filter on
 * (docs/systemd.md). Lines are bounded (MDD_DAEMON_LOG_LINE) and written with one call, so
 * concurrent jobs never interleave within a line. Every line is escaped whole (md_escape):
 * names, annotations and paths a client or target supplied cannot start a line of their own (a
 * forged journal entry) or reach a terminal as escape sequences. Logging never fails the
 * caller: a line that cannot be written is dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "config.h"
#include "md-daemon.h"
#include "md-escape.h"
#include "md-os.h"

#if HAVE_LIBSYSTEMD
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

/* MESSAGE_ID of "dump saved" entries: fixed for good, made once with `systemd-id128 new` */
#define DUMP_SAVED_MESSAGE_ID "f2693d0f7123426b8e6d16aedce24e4c"
#define DUMP_FIELDS_MAX       12 /* journal fields of one dump entry, MESSAGE included */
#define DUMP_FIELD_BYTES      (MDD_DAEMON_LOG_LINE + 32) /* bytes of one "NAME=value" */
#endif

enum log_sink {
	SINK_STDERR,
	SINK_SYSLOG,
	SINK_JOURNAL,
};

static enum log_sink sink = SINK_STDERR;

#if HAVE_LIBSYSTEMD
/*
 * True when systemd connected our stderr to the journal: $JOURNAL_STREAM is "DEV:INODE" of
 * that stream (systemd.exec(5)), and stderr must still be it (not redirected since).
 */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
#endif

void mdd_log_init(bool foreground)
{
#if HAVE_LIBSYSTEMD
	/* journald's native socket, from systemd-journald.socket */
	if (stderr_is_journal() ||
	    (!foreground && access("/run/systemd/journal/socket", F_OK) == 0)) {
		sink = SINK_JOURNAL;
		return;
	}
#endif
	sink = foreground ? SINK_STDERR : SINK_SYSLOG;
	if (sink == SINK_SYSLOG)
		mdd_syslog_open();
}

/* Writes one escaped line to the sink (the journal: without extra fields). */
static void log_line(int priority, const char *line)
{
	char out[MDD_DAEMON_LOG_LINE + 64];
	static const char *const level[] = {"emerg",   "alert",  "crit", "error",
	                                    "warning", "notice", "info", "debug"};
	int64_t now_ns;
	time_t now_s;
	struct tm tm;
	int len;

#if HAVE_LIBSYSTEMD
	/* if the journal went away: stderr, which systemd connects to it as well */
	if (sink == SINK_JOURNAL && sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", priority & 7,
	                                            "SYSLOG_IDENTIFIER=minidumpd", NULL) >= 0)
		return;
#endif
	if (sink == SINK_SYSLOG) {
		mdd_syslog(priority, line);
		return;
	}
	now_ns = md_os_realtime_ns();
	now_s = (time_t)(now_ns / 1000000000);
	gmtime_r(&now_s, &tm);
	len = snprintf(out, sizeof(out), "%02d:%02d:%02d.%03ld minidumpd[%d] %s: %s\n", tm.tm_hour,
	               tm.tm_min, tm.tm_sec, (long)(now_ns % 1000000000 / 1000000), (int)getpid(),
	               level[priority & 7], line);
	if (len > (int)sizeof(out))
		len = (int)sizeof(out);
	md_os_write_full(STDERR_FILENO, out, (size_t)len);
}

/* Formats fmt into line (MDD_DAEMON_LOG_LINE bytes), escaped whole. Returns < 0 on a bad
 * format. */
static int format_line(char *line, const char *fmt, va_list ap)
{
	char raw[MDD_DAEMON_LOG_LINE];
	int n = vsnprintf(raw, sizeof(raw) - 1, fmt, ap);

	if (n < 0)
		return n;
	md_escape(raw, strnlen(raw, sizeof(raw)), line, MDD_DAEMON_LOG_LINE, 0);
	return 0;
}

#if HAVE_LIBSYSTEMD
struct fields {
	struct iovec iov[DUMP_FIELDS_MAX];
	char text[DUMP_FIELDS_MAX][DUMP_FIELD_BYTES];
	int n;
};

/* Adds NAME=value; a value that does not fit is cut, a field past the limit dropped. */
static void __attribute__((format(printf, 2, 3))) field_add(struct fields *f, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (f->n >= DUMP_FIELDS_MAX)
		return;
	va_start(ap, fmt);
	len = vsnprintf(f->text[f->n], DUMP_FIELD_BYTES, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (len >= DUMP_FIELD_BYTES)
		len = DUMP_FIELD_BYTES - 1;
	f->iov[f->n].iov_base = f->text[f->n];
	f->iov[f->n].iov_len = (size_t)len;
	f->n++;
}

#endif

/* Sends a saved dump's line to the journal with its report's fields. Returns 0 when the
 * journal took it, < 0 when the line must go to the plain sink instead. */
static int log_dump_fields(const struct md_report *report, int priority, const char *line)
{
#if HAVE_LIBSYSTEMD
	if (sink == SINK_JOURNAL) {
		/* static: the fields take 13 KiB, and only the event loop's thread logs dumps */
		static struct fields f;

		f.n = 0;
		field_add(&f, "MESSAGE=%s", line);
		field_add(&f, "PRIORITY=%d", priority & 7);
		field_add(&f, "SYSLOG_IDENTIFIER=minidumpd");
		field_add(&f, "MESSAGE_ID=%s", DUMP_SAVED_MESSAGE_ID);
		if (report) {
			const char *kind = md_report_kind_to_string(report->kind);

			if (report->id)
				field_add(&f, "MINIDUMPD_ID=%s", report->id);
			if (report->executable)
				field_add(&f, "MINIDUMPD_EXE=%s", report->executable);
			field_add(&f, "MINIDUMPD_PID=%u", report->pid);
			if (report->has_uid)
				field_add(&f, "MINIDUMPD_UID=%u", report->uid);
			if (report->signal[0])
				field_add(&f, "MINIDUMPD_SIGNAL=%s", report->signal);
			if (kind)
				field_add(&f, "MINIDUMPD_KIND=%s", kind);
			if (report->path)
				field_add(&f, "MINIDUMPD_DUMP=%s", report->path);
			if (report->report_path)
				field_add(&f, "MINIDUMPD_REPORT=%s", report->report_path);
		}
		return sd_journal_sendv(f.iov, f.n);
	}
#else
	(void)report;
	(void)priority;
	(void)line;
#endif
	return -ENOSYS;
}

/* Formats and escapes a line, then logs it: for a saved dump (dump set) with report's fields
 * where the journal takes them. */
static void log_va(int priority, bool dump, const struct md_report *report, const char *fmt,
                   va_list ap)
{
	char line[MDD_DAEMON_LOG_LINE];

	if (format_line(line, fmt, ap) < 0)
		return;
	if (dump && log_dump_fields(report, priority, line) >= 0)
		return;
	log_line(priority, line);
}

void mdd_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(priority, false, NULL, fmt, ap);
	va_end(ap);
}

void mdd_log_dump(const struct md_report *report, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(priority, true, report, fmt, ap);
	va_end(ap);
}
