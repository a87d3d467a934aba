/* SPDX-License-Identifier: MIT */
/*
 * mdupload's metrics in the Prometheus text exposition format, written whole to a temporary
 * file and renamed over metrics_file, for node_exporter's textfile collector: nothing of the
 * uploader listens on a port. Counters start at zero when mdupload starts, as Prometheus
 * counters may.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdupload.h"

#define METRICS_MAX (256 * 1024) /* bytes of the metrics text */

static const char *const outcome_names[] = {
    [MD_OUTCOME_UPLOADED] = "uploaded",         [MD_OUTCOME_RETRY] = "retry",
    [MD_OUTCOME_RATE_LIMITED] = "rate_limited", [MD_OUTCOME_FAILED] = "failed",
    [MD_OUTCOME_SKIPPED] = "skipped",
};

const char *mdu_outcome_to_string(enum mdu_outcome o)
{
	return (size_t)o < MD_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

struct text {
	char *p;
	size_t len;
	bool full;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, METRICS_MAX - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= METRICS_MAX - t->len)
		t->full = true;
	else
		t->len += (size_t)n;
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
	add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The per-server byte counters (uint64_t members of struct mdu_server). */
struct server_counter {
	const char *name, *help;
	size_t offset; /* of the counter in struct mdu_server */
};

static const struct server_counter byte_counters[] = {
    {"mdupload_request_bytes_total",
     "Request body bytes sent (after compression), successful or not.",
     offsetof(struct mdu_server, request_bytes)},
    {"mdupload_uploaded_dump_bytes_total", "Minidump bytes (uncompressed) delivered.",
     offsetof(struct mdu_server, uploaded_dump_bytes)},
};

static void per_server(struct text *t, const struct mdu_service *svc,
                       const struct server_counter *c)
{
	head(t, c->name, "counter", c->help);
	for (size_t i = 0; i < svc->n_servers; i++) {
		const struct mdu_server *s = &svc->servers[i];
		uint64_t v;

		memcpy(&v, (const char *)s + c->offset, sizeof(v));
		add(t, "%s{server=\"%s\"} %llu\n", c->name, s->cfg->name, (unsigned long long)v);
	}
}

int mdu_metrics_write(struct mdu_service *svc)
{
	const char *path = svc->cfg->metrics_file;
	struct text t = {0};
	char *dir_copy = NULL, *base_copy = NULL;
	size_t pending = 0, invalid = 0;
	int64_t oldest = 0, now_ms = mdu_mono_ms();
	int r;

	if (!path)
		return 0;
	t.p = malloc(METRICS_MAX);
	dir_copy = strdup(path);
	base_copy = strdup(path);
	if (!t.p || !dir_copy || !base_copy) {
		r = -ENOMEM;
		goto out;
	}
	for (struct mdu_ticket *k = svc->tickets; k; k = k->next) {
		if (k->invalid) {
			invalid++;
			continue;
		}
		pending++;
		if (oldest == 0 || k->queued_ms < oldest)
			oldest = k->queued_ms;
	}

	head(&t, "mdupload_uploads_total", "counter",
	     "Upload requests and decisions by server and outcome.");
	for (size_t i = 0; i < svc->n_servers; i++)
		for (int o = 0; o < MD_OUTCOME_COUNT; o++)
			add(&t, "mdupload_uploads_total{server=\"%s\",outcome=\"%s\"} %llu\n",
			    svc->servers[i].cfg->name, outcome_names[o],
			    (unsigned long long)svc->servers[i].outcomes[o]);
	for (size_t k = 0; k < sizeof(byte_counters) / sizeof(byte_counters[0]); k++)
		per_server(&t, svc, &byte_counters[k]);
	head(&t, "mdupload_request_duration_seconds", "summary",
	     "Duration of upload requests that got an answer or timed out.");
	for (size_t i = 0; i < svc->n_servers; i++) {
		add(&t, "mdupload_request_duration_seconds_sum{server=\"%s\"} %.6f\n",
		    svc->servers[i].cfg->name, svc->servers[i].duration_sum_s);
		add(&t, "mdupload_request_duration_seconds_count{server=\"%s\"} %llu\n",
		    svc->servers[i].cfg->name, (unsigned long long)svc->servers[i].duration_count);
	}
	head(&t, "mdupload_last_success_timestamp_seconds", "gauge",
	     "Unix time of the latest delivered upload, 0 if none since start.");
	for (size_t i = 0; i < svc->n_servers; i++)
		add(&t, "mdupload_last_success_timestamp_seconds{server=\"%s\"} %lld\n",
		    svc->servers[i].cfg->name, (long long)svc->servers[i].last_success_s);
	head(&t, "mdupload_queue_length", "gauge", "Tickets in the outbox not yet delivered.");
	add(&t, "mdupload_queue_length %zu\n", pending);
	head(&t, "mdupload_queue_oldest_seconds", "gauge",
	     "Age of the oldest pending ticket since mdupload found it, 0 if none.");
	add(&t, "mdupload_queue_oldest_seconds %.3f\n",
	    oldest ? (double)(now_ms - oldest) / 1e3 : 0.0);
	head(&t, "mdupload_tickets_invalid", "gauge",
	     "Tickets in the outbox that cannot be read or parsed (left in place).");
	add(&t, "mdupload_tickets_invalid %zu\n", invalid);
	head(&t, "mdupload_tickets_done_total", "counter",
	     "Tickets removed from the outbox after a final result.");
	add(&t, "mdupload_tickets_done_total %llu\n", (unsigned long long)svc->tickets_done);
	head(&t, "mdupload_consent", "gauge", "1 when uploading is consented to in the config.");
	add(&t, "mdupload_consent %d\n", svc->cfg->consent ? 1 : 0);
	head(&t, "mdupload_outbox_scan_errors_total", "counter", "Failed listings of the outbox.");
	add(&t, "mdupload_outbox_scan_errors_total %llu\n", (unsigned long long)svc->scan_errors);
	head(&t, "mdupload_start_time_seconds", "gauge", "Unix time mdupload started.");
	add(&t, "mdupload_start_time_seconds %lld\n", (long long)svc->start_s);
	if (t.full) {
		r = -EFBIG;
		goto out;
	}
	r = md_upload_write_atomic(dirname(dir_copy), basename(base_copy), t.p, t.len, 0644);
	if (r >= 0) {
		svc->metrics_dirty = false;
		svc->metrics_written_ms = now_ms;
	}
out:
	free(dir_copy);
	free(base_copy);
	free(t.p);
	return r;
}
