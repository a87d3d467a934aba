/* SPDX-License-Identifier: MIT */
/*
 * The dump's part of a report, from the snapshot it came from and the writer's result (apart
 * from md-report.c so that readers of reports, such as the uploader, do not link the writer).
 * It reads only; it never touches the target or the file.
 */
#include <errno.h>
#include <stdlib.h>

#include "md-format.h"
#include "md-report.h"

int md_report_from_snapshot(struct md_report *r, const struct md_snapshot *s,
                            const struct md_dump_result *res, const char *path,
                            const struct md_report_times *times)
{
	const struct md_crash_info *c = s->crash;

	r->pid = s->process.pid;
	r->has_uid = true;
	r->uid = s->process.uid;
	r->has_dump = true;
	r->bytes = res->bytes;
	r->threads = res->threads;
	r->modules = res->modules;
	r->memory_ranges = res->memory_ranges;
	r->memory_bytes = res->memory_bytes;
	r->duration_ms = times ? times->duration_ms : 0.0;
	r->suspended_ms = times ? times->suspended_ms : 0.0;
	r->partial = res->partial;
	r->budget_cut = res->budget_cut;
	r->has_crash = c != NULL;
	if (c) {
		r->crash.thread_id = c->tid;
		r->crash.code = c->code;
		r->crash.flags = c->flags;
		r->crash.si_code = (int32_t)c->flags;
		r->crash.address = c->address;
		md_report_copy_name(r->crash.signal, sizeof(r->crash.signal),
		                    md_linux_signal_to_string(c->code));
	}
	r->errors_dropped = s->diag.dropped;
	if (md_report_set(&r->executable, s->process.exe) < 0 || md_report_set(&r->path, path) < 0)
		return -ENOMEM;
	r->streams = calloc(res->n_streams ? res->n_streams : 1, sizeof(*r->streams));
	r->errors = calloc(s->diag.count ? s->diag.count : 1, sizeof(*r->errors));
	if (!r->streams || !r->errors)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_streams; i++) {
		struct md_report_stream *st = &r->streams[i];

		md_report_copy_name(st->name, sizeof(st->name), res->streams[i].name);
		st->type = res->streams[i].type;
		md_report_copy_name(st->status, sizeof(st->status),
		                    md_stream_status_to_string(res->streams[i].status));
		st->bytes = res->streams[i].bytes;
	}
	r->n_streams = res->n_streams;
	for (size_t i = 0; i < s->diag.count; i++) {
		const struct md_diag_entry *e = &s->diag.entries[i];
		struct md_report_error *er = &r->errors[i];

		md_report_copy_name(er->kind, sizeof(er->kind), md_diag_kind_to_string(e->kind));
		er->id = e->id;
		er->error = e->error;
		md_report_copy_name(er->message, sizeof(er->message), e->message);
	}
	r->n_errors = s->diag.count;
	return 0;
}

json_t *md_report_dump(const struct md_snapshot *s, const struct md_dump_result *res,
                       const char *path, const struct md_report_times *times)
{
	struct md_report r;
	json_t *j = NULL;

	md_report_init(&r);
	if (md_report_from_snapshot(&r, s, res, path, times) == 0)
		j = md_report_to_json(&r);
	md_report_done(&r);
	return j;
}
