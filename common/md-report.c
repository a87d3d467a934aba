/* SPDX-License-Identifier: MIT */
/*
 * Builds the JSON report of a dump from the snapshot it came from and the writer's result.
 * It reads only; it never touches the target or the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-escape.h"
#include "md-report.h"

json_t *md_report_text(const char *text)
{
	size_t len = strlen(text ? text : "");
	json_t *j = json_stringn(text ? text : "", len);
	char *safe;

	if (j)
		return j; /* valid UTF-8, kept as it is */
	safe = malloc(MD_ESCAPE_SIZE(len));
	if (!safe)
		return NULL;
	j = json_string(md_escape(text, len, safe, MD_ESCAPE_SIZE(len), MD_ESCAPE_KEEP_CONTROLS));
	free(safe);
	return j;
}

int md_report_set_text(json_t *obj, const char *key, const char *value)
{
	json_t *k = md_report_text(key);
	int r;

	if (!k)
		return -ENOMEM;
	r = json_object_set_new(obj, json_string_value(k), md_report_text(value));
	json_decref(k);
	return r < 0 ? -ENOMEM : 0;
}

static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *crash_json(const struct md_snapshot *s)
{
	const struct md_crash_info *c = s->crash;

	if (!c)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:o}", "thread_id", (json_int_t)c->tid, "code",
			 (json_int_t)c->code, "flags", (json_int_t)c->flags, "address",
			 hex(c->address));
}

json_t *md_report_dump(const struct md_snapshot *s, const struct md_dump_result *res,
		       const char *path, const struct md_report_times *times)
{
	json_t *streams = json_array();

	for (size_t i = 0; streams && i < res->n_streams; i++) {
		const struct md_stream_result *sr = &res->streams[i];
		char type[16];

		snprintf(type, sizeof(type), "0x%x", sr->type);
		json_array_append_new(
			streams, json_pack("{s:s, s:s, s:s, s:I}", "name", sr->name, "type", type,
					   "status", md_stream_status_to_string(sr->status),
					   "bytes", (json_int_t)sr->bytes));
	}
	return json_pack("{s:s?, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b, s:o, s:o*, "
			 "s:o*, s:I}",
			 "path", path, "pid", (json_int_t)s->process.pid, "uid",
			 (json_int_t)s->process.uid, "executable", md_report_text(s->process.exe),
			 "bytes", (json_int_t)res->bytes, "threads", (json_int_t)res->threads, "modules",
			 (json_int_t)res->modules, "memory_ranges", (json_int_t)res->memory_ranges,
			 "memory_bytes", (json_int_t)res->memory_bytes, "duration_ms",
			 times ? times->duration_ms : 0.0, "suspended_ms",
			 times ? times->suspended_ms : 0.0, "partial", res->partial, "crash",
			 crash_json(s), "streams", streams, "errors", md_diag_to_json(&s->diag),
			 "errors_dropped", (json_int_t)s->diag.dropped);
}
