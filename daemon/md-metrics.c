/* SPDX-License-Identifier: MIT */
/*
 * The daemon's metrics in the Prometheus text format, written atomically (a temporary file in
 * the same folder, then md_os_replace_file) for node_exporter's textfile collector, so no
 * privileged component listens on a network port. It reads a copy of the counters, so it runs on
 * the thread pool (md-journal.c), never making the event loop wait for the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "md-daemon.h"
#include "md-os.h"
#include "md-prune.h"

static const char *const event_names[MDD_EVENT_COUNT] = {
    [MDD_EVENT_BAD_HEADER] = "bad_header",
    [MDD_EVENT_BAD_VERSION] = "bad_version",
    [MDD_EVENT_OVERSIZED] = "oversized",
    [MDD_EVENT_UNKNOWN_TYPE] = "unknown_type",
    [MDD_EVENT_MALFORMED] = "malformed",
    [MDD_EVENT_DAEMON_ONLY_TYPE] = "daemon_only_type",
    [MDD_EVENT_TRUNCATED] = "truncated",
    [MDD_EVENT_TIMED_OUT] = "timed_out",
    [MDD_EVENT_FOREIGN_PID] = "foreign_pid",
    [MDD_EVENT_FOREIGN_THREAD] = "foreign_thread",
    [MDD_EVENT_REGISTERED] = "registered",
    [MDD_EVENT_PARTIAL] = "partial",
    [MDD_EVENT_FAILED_READ_ONLY] = "failed_read_only",
    [MDD_EVENT_FAILED_NO_SPACE] = "failed_no_space",
};

const char *mdd_event_to_string(enum mdd_event e)
{
	return (unsigned)e < MDD_EVENT_COUNT ? event_names[e] : "unknown";
}

enum mdd_event mdd_event_of_header_error(int r)
{
	switch (r) {
	case -EPROTONOSUPPORT:
		return MDD_EVENT_BAD_VERSION;
	case -EMSGSIZE:
		return MDD_EVENT_OVERSIZED;
	case -EBADMSG:
		return MDD_EVENT_BAD_HEADER;
	default:
		return MDD_EVENT_UNKNOWN_TYPE;
	}
}

enum mdd_event mdd_event_of_dump_error(int error)
{
	switch (error) {
	case -EROFS:
		return MDD_EVENT_FAILED_READ_ONLY;
	case -ENOSPC:
#ifdef EDQUOT /* not in every C library's errno.h (mingw's lacks it) */
	case -EDQUOT:
#endif
		return MDD_EVENT_FAILED_NO_SPACE;
	default:
		return MDD_EVENT_COUNT;
	}
}

json_t *mdd_events_to_json(const struct mdd_counters *k)
{
	json_t *j = json_object();

	for (size_t i = 0; j && i < MDD_EVENT_COUNT; i++) {
		if (json_object_set_new(j, event_names[i], json_integer((json_int_t)k->events[i])) <
		    0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

int mdd_metrics_write(const char *path, const struct mdd_metrics_view *v)
{
	const struct mdd_counters *k = &v->counters;
	struct mdd_store_stats st;
	char tmp[4096 + 16];
	FILE *f;
	int fd, r;

	if (!path)
		return 0;
	mdd_store_last(&st);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = md_os_open_write(tmp, MD_OS_TRUNCATE, 0644);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	fprintf(f,
	        "# HELP minidumpd_dumps_total Captures by result.\n"
	        "# TYPE minidumpd_dumps_total counter\n"
	        "minidumpd_dumps_total{result=\"ok\"} %llu\n"
	        "minidumpd_dumps_total{result=\"failed\"} %llu\n"
	        "minidumpd_dumps_total{result=\"rate_limited\"} %llu\n"
	        "# HELP minidumpd_dumps_by_kind_total Successful captures by kind.\n"
	        "# TYPE minidumpd_dumps_by_kind_total counter\n"
	        "minidumpd_dumps_by_kind_total{kind=\"crash\"} %llu\n"
	        "minidumpd_dumps_by_kind_total{kind=\"dump-now\"} %llu\n"
	        "minidumpd_dumps_by_kind_total{kind=\"request\"} %llu\n"
	        "minidumpd_dumps_by_kind_total{kind=\"coredump\"} %llu\n"
	        "# HELP minidumpd_dump_bytes_total Bytes of dumps written.\n"
	        "# TYPE minidumpd_dump_bytes_total counter\n"
	        "minidumpd_dump_bytes_total %llu\n"
	        "# HELP minidumpd_dump_duration_seconds Time from request to complete dump.\n"
	        "# TYPE minidumpd_dump_duration_seconds summary\n"
	        "minidumpd_dump_duration_seconds_sum %.6f\n"
	        "minidumpd_dump_duration_seconds_count %llu\n"
	        "# HELP minidumpd_suspended_seconds Time targets were kept stopped.\n"
	        "# TYPE minidumpd_suspended_seconds summary\n"
	        "minidumpd_suspended_seconds_sum %.6f\n"
	        "minidumpd_suspended_seconds_count %llu\n"
	        "# HELP minidumpd_requests_total Messages received.\n"
	        "# TYPE minidumpd_requests_total counter\n"
	        "minidumpd_requests_total %llu\n"
	        "# HELP minidumpd_bad_messages_total Malformed or unexpected messages.\n"
	        "# TYPE minidumpd_bad_messages_total counter\n"
	        "minidumpd_bad_messages_total %llu\n"
	        "# HELP minidumpd_refused_total Requests refused (limits, policy).\n"
	        "# TYPE minidumpd_refused_total counter\n"
	        "minidumpd_refused_total %llu\n"
	        "# HELP minidumpd_connections Open client connections.\n"
	        "# TYPE minidumpd_connections gauge\n"
	        "minidumpd_connections %u\n"
	        "# HELP minidumpd_dumps_in_flight Captures running or queued.\n"
	        "# TYPE minidumpd_dumps_in_flight gauge\n"
	        "minidumpd_dumps_in_flight %u\n"
	        "# HELP minidumpd_store_dumps Dumps in the store.\n"
	        "# TYPE minidumpd_store_dumps gauge\n"
	        "minidumpd_store_dumps %llu\n"
	        "# HELP minidumpd_store_bytes Bytes of dumps and reports in the store.\n"
	        "# TYPE minidumpd_store_bytes gauge\n"
	        "minidumpd_store_bytes %llu\n"
	        "# HELP minidumpd_store_removed_total Dumps removed to keep the store within its "
	        "limits.\n"
	        "# TYPE minidumpd_store_removed_total counter\n"
	        "minidumpd_store_removed_total %llu\n",
	        (unsigned long long)k->dumps_ok, (unsigned long long)k->dumps_failed,
	        (unsigned long long)k->rate_limited, (unsigned long long)k->by_kind[MDD_JOB_CRASH],
	        (unsigned long long)k->by_kind[MDD_JOB_DUMP_NOW],
	        (unsigned long long)k->by_kind[MDD_JOB_REQUEST],
	        (unsigned long long)k->by_kind[MDD_JOB_COREDUMP],
	        (unsigned long long)k->bytes_written, k->duration_ms_sum / 1e3,
	        (unsigned long long)k->dumps_ok, k->suspended_ms_sum / 1e3,
	        (unsigned long long)k->dumps_ok, (unsigned long long)k->requests,
	        (unsigned long long)k->bad_messages, (unsigned long long)k->refused, v->connections,
	        v->in_flight, (unsigned long long)st.dumps, (unsigned long long)st.bytes,
	        (unsigned long long)st.removed_total);
	fputs(
	    "# HELP minidumpd_events_total Events by kind (bad input, refused claims, failures).\n"
	    "# TYPE minidumpd_events_total counter\n",
	    f);
	for (size_t i = 0; i < MDD_EVENT_COUNT; i++)
		fprintf(f, "minidumpd_events_total{event=\"%s\"} %llu\n", event_names[i],
		        (unsigned long long)k->events[i]);
	r = fflush(f) != 0 ? -errno : md_os_fsync(fd);
	fclose(f);
	if (r >= 0)
		r = md_os_replace_file(tmp,
		                       path); /* the textfile collector never sees half a file */
	if (r < 0)
		unlink(tmp);
	return r;
}
