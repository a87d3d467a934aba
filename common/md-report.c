/* SPDX-License-Identifier: MIT */
/*
 * The typed report and its JSON (see md-report.h): the one place that spells the report's
 * keys. Building a report reads the snapshot and the writer's result only; it never touches the
 * target or the file. Reading one is lenient, as reports come from files anyone with access to
 * the store may have edited: a key that is missing or of the wrong type is taken as absent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-escape.h"
#include "md-format.h"
#include "md-os.h"
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

static const char *const kind_names[] = {
    [MD_REPORT_KIND_NONE] = NULL,           [MD_REPORT_KIND_CRASH] = "crash",
    [MD_REPORT_KIND_DUMP_NOW] = "dump-now", [MD_REPORT_KIND_REQUEST] = "request",
    [MD_REPORT_KIND_COREDUMP] = "coredump",
};

const char *md_report_kind_to_string(enum md_report_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind]
	                                                                   : NULL;
}

/* The report's numbers, flags and strings kept at the top level, by type: numbers and flags
 * under their members' names. */
struct field {
	const char *key;
	size_t at; /* offsetof(struct md_report, member) */
};
/* 0, and a compile error (a negative array size) unless the member has that type */
#define HAS_TYPE(member, type)                                                                     \
	(0 * sizeof(char[_Generic(((struct md_report *)0)->member, type : 1, default : -1)]))
#define FIELD(member, type)                                                                        \
	{                                                                                          \
		.key = #member, .at = offsetof(struct md_report, member) + HAS_TYPE(member, type)  \
	}
static const struct field u32_fields[] = {
    FIELD(pid, uint32_t),      FIELD(uid, uint32_t),           FIELD(threads, uint32_t),
    FIELD(modules, uint32_t),  FIELD(memory_ranges, uint32_t), FIELD(max_crashes, uint32_t),
    FIELD(window_s, uint32_t),
};
static const struct field u64_fields[] = {
    FIELD(bytes, uint64_t),          FIELD(memory_bytes, uint64_t),
    FIELD(errors_dropped, uint64_t), FIELD(bytes_on_disk, uint64_t),
    FIELD(suppressed, uint64_t),     FIELD(suppressed_total, uint64_t),
};
static const struct field real_fields[] = {
    FIELD(duration_ms, double),
    FIELD(suspended_ms, double),
    FIELD(queued_ms, double),
};
/* The strings a report owns, with their keys. */
#define STRING(name, member)                                                                       \
	{                                                                                          \
		.key = name, .at = offsetof(struct md_report, member) + HAS_TYPE(member, char *)   \
	}
static const struct field string_fields[] = {
    STRING("executable", executable),
    STRING("path", path),
    STRING("process_name", process_name),
    STRING("id", id),
    STRING("report", report_path),
    STRING("core_pattern_mode", core_pattern_mode),
    STRING("nspid", nspid),
    STRING("cgroup", cgroup),
    STRING("private_because", private_because),
};
static const struct field bool_fields[] = {
    FIELD(partial, bool),    FIELD(truncated, bool),    FIELD(compressed, bool),
    FIELD(budget_cut, bool), FIELD(rate_limited, bool),
};

void md_report_init(struct md_report *r)
{
	memset(r, 0, sizeof(*r));
}

void md_report_pairs_free(char **keys, char **values, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

void md_report_done(struct md_report *r)
{
	json_decref(r->stack);
	json_decref(r->thread_stacks);
	json_decref(r->symbolizer);
	for (size_t i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++)
		free(*(char **)((char *)r + string_fields[i].at));
	free(r->streams);
	free(r->errors);
	md_report_pairs_free(r->keys, r->values, r->n_annotations);
	md_report_init(r);
}

int md_report_set(char **member, const char *s)
{
	char *copy = NULL;

	if (s && !(copy = strdup(s)))
		return -ENOMEM;
	free(*member);
	*member = copy;
	return 0;
}

int md_report_annotate(struct md_report *r, const char *key, const char *value)
{
	char **keys, **values;
	size_t i;

	for (i = 0; i < r->n_annotations; i++)
		if (strcmp(r->keys[i], key) == 0)
			return md_report_set(&r->values[i], value ? value : "");
	keys = realloc(r->keys, (i + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	r->keys = keys;
	values = realloc(r->values, (i + 1) * sizeof(*values));
	if (!values)
		return -ENOMEM;
	r->values = values;
	keys[i] = strdup(key);
	values[i] = strdup(value ? value : "");
	if (!keys[i] || !values[i]) {
		free(keys[i]);
		free(values[i]);
		return -ENOMEM;
	}
	r->n_annotations++;
	return 0;
}

void md_report_copy_name(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* ---- to JSON ---- */

static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *crash_json(const struct md_report *r)
{
	const struct md_report_crash *c = &r->crash;

	if (!r->has_crash)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:o, s:o, s:i}", "thread_id", (json_int_t)c->thread_id,
	                 "code", (json_int_t)c->code, "flags", (json_int_t)c->flags, "address",
	                 hex(c->address), "signal", str_or_null(c->signal), "si_code",
	                 (int)c->si_code);
}

static json_t *stream_json(const struct md_report *r, size_t i)
{
	const struct md_report_stream *st = &r->streams[i];
	char type[16];

	snprintf(type, sizeof(type), "0x%x", st->type);
	return json_pack("{s:s, s:s, s:s, s:I}", "name", st->name, "type", type, "status",
	                 st->status, "bytes", (json_int_t)st->bytes);
}

static json_t *error_json(const struct md_report *r, size_t i)
{
	const struct md_report_error *e = &r->errors[i];

	return json_pack("{s:s, s:I, s:i, s:s, s:o}", "kind", e->kind, "id", (json_int_t)e->id,
	                 "errno", -e->error, "error", md_os_strerror(-e->error), "message",
	                 md_report_text(e->message));
}

/* An array of n items, item(r, i) each; NULL if any of them fails. */
static json_t *array_json(const struct md_report *r, size_t n,
                          json_t *(*item)(const struct md_report *r, size_t i))
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, item(r, i)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *annotations_json(const struct md_report *r)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < r->n_annotations; i++) {
		if (md_report_set_text(o, r->keys[i], r->values[i]) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *md_report_to_json(const struct md_report *r)
{
	json_t *j = json_object();
	int e = 0;

	if (!j)
		return NULL;
	if (r->has_dump)
		e |= set(j, "path", str_or_null(r->path));
	e |= set(j, "pid", json_integer(r->pid));
	if (r->has_uid)
		e |= set(j, "uid", json_integer(r->uid));
	e |= set(j, "executable", md_report_text(r->executable));
	if (r->has_dump) {
		e |= set(j, "bytes", json_integer((json_int_t)r->bytes));
		e |= set(j, "threads", json_integer(r->threads));
		e |= set(j, "modules", json_integer(r->modules));
		e |= set(j, "memory_ranges", json_integer(r->memory_ranges));
		e |= set(j, "memory_bytes", json_integer((json_int_t)r->memory_bytes));
		e |= set(j, "duration_ms", json_real(r->duration_ms));
		e |= set(j, "suspended_ms", json_real(r->suspended_ms));
		e |= set(j, "partial", json_boolean(r->partial));
	}
	if (r->has_dump || r->rate_limited)
		e |= set(j, "crash", crash_json(r));
	if (r->has_dump && !r->truncated) {
		e |= set(j, "streams", array_json(r, r->n_streams, stream_json));
		e |= set(j, "errors", array_json(r, r->n_errors, error_json));
	}
	if (r->has_dump)
		e |= set(j, "errors_dropped", json_integer((json_int_t)r->errors_dropped));
	if (r->id) {
		e |= set(j, "id", json_string(r->id));
		e |= set(j, "compressed", json_boolean(r->compressed));
		e |= set(j, "bytes_on_disk", json_integer((json_int_t)r->bytes_on_disk));
	}
	if (r->kind != MD_REPORT_KIND_NONE) {
		e |= set(j, "kind", json_string(md_report_kind_to_string(r->kind)));
		e |= set(j, "time", json_string(r->time));
	}
	if (r->id) {
		e |= set(j, "report", str_or_null(r->report_path));
		e |= set(j, "requested_by",
		         json_pack("{s:I, s:I}", "pid", (json_int_t)r->requested_by_pid, "uid",
		                   (json_int_t)r->requested_by_uid));
		e |= set(j, "queued_ms", json_real(r->queued_ms));
		e |= set(j, "budget_cut", json_boolean(r->budget_cut));
		e |= set(j, "dumpable", json_boolean(!r->not_dumpable));
	}
	if (r->kind != MD_REPORT_KIND_NONE) {
		e |= set(j, "process_name", md_report_text(r->process_name));
		e |= set(j, "annotations", annotations_json(r));
		e |= set(j, "signal", str_or_null(r->signal));
	}
	if (r->rate_limited) {
		e |= set(j, "rate_limited", json_true());
		e |= set(j, "suppressed", json_integer((json_int_t)r->suppressed));
		e |= set(j, "suppressed_total", json_integer((json_int_t)r->suppressed_total));
		e |= set(j, "max_crashes", json_integer(r->max_crashes));
		e |= set(j, "window_s", json_integer(r->window_s));
	}
	if (r->core_pattern_mode) {
		e |= set(j, "core_pattern_mode", json_string(r->core_pattern_mode));
		if (r->nspid)
			e |= set(j, "nspid", md_report_text(r->nspid));
		if (r->cgroup)
			e |= set(j, "cgroup", md_report_text(r->cgroup));
		if (r->private_because)
			e |= set(j, "private_because", md_report_text(r->private_because));
	}
	if (r->symbolizer) {
		if (r->stack)
			e |= set(j, "stack", json_incref(r->stack));
		if (r->thread_stacks)
			e |= set(j, "thread_stacks", json_incref(r->thread_stacks));
		e |= set(j, "symbolizer", json_incref(r->symbolizer));
	}
	if (r->truncated)
		e |= set(j, "truncated", json_true());
	if (e) {
		json_decref(j);
		return NULL;
	}
	return j;
}

char *md_report_to_text(const struct md_report *r)
{
	json_t *j = md_report_to_json(r);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return text;
}

/* ---- from JSON ---- */

static uint64_t get_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
	                                                        : 0;
}

static uint32_t get_u32(json_t *o, const char *key)
{
	return (uint32_t)get_u64(o, key);
}

static double get_real(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static bool get_bool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static int get_str(json_t *o, const char *key, char **member)
{
	return md_report_set(member, json_string_value(json_object_get(o, key)));
}

static void get_name(json_t *o, const char *key, char *buf, size_t size)
{
	md_report_copy_name(buf, size, json_string_value(json_object_get(o, key)));
}

static void crash_from_json(json_t *c, struct md_report *r)
{
	const char *addr = json_string_value(json_object_get(c, "address"));
	json_t *si = json_object_get(c, "si_code");

	r->has_crash = json_is_object(c);
	if (!r->has_crash)
		return;
	r->crash.thread_id = get_u32(c, "thread_id");
	r->crash.code = get_u32(c, "code");
	r->crash.flags = get_u32(c, "flags");
	r->crash.si_code =
	    json_is_integer(si) ? (int32_t)json_integer_value(si) : (int32_t)r->crash.flags;
	r->crash.address = addr ? strtoull(addr, NULL, 16) : 0;
	get_name(c, "signal", r->crash.signal, sizeof(r->crash.signal));
}

static int arrays_from_json(json_t *j, struct md_report *r)
{
	json_t *streams = json_object_get(j, "streams"), *errors = json_object_get(j, "errors");
	size_t ns = json_array_size(streams), ne = json_array_size(errors);

	r->streams = calloc(ns ? ns : 1, sizeof(*r->streams));
	r->errors = calloc(ne ? ne : 1, sizeof(*r->errors));
	if (!r->streams || !r->errors)
		return -ENOMEM;
	for (size_t i = 0; i < ns; i++) {
		json_t *s = json_array_get(streams, i);
		const char *type = json_string_value(json_object_get(s, "type"));
		struct md_report_stream *st = &r->streams[r->n_streams];

		if (!json_is_object(s))
			continue;
		get_name(s, "name", st->name, sizeof(st->name));
		st->type = type ? (uint32_t)strtoul(type, NULL, 16) : 0;
		get_name(s, "status", st->status, sizeof(st->status));
		st->bytes = get_u64(s, "bytes");
		r->n_streams++;
	}
	for (size_t i = 0; i < ne; i++) {
		json_t *e = json_array_get(errors, i);
		struct md_report_error *er = &r->errors[r->n_errors];

		if (!json_is_object(e))
			continue;
		get_name(e, "kind", er->kind, sizeof(er->kind));
		er->id = get_u64(e, "id");
		er->error = -(int)get_u32(e, "errno");
		get_name(e, "message", er->message, sizeof(er->message));
		r->n_errors++;
	}
	return 0;
}

int md_report_from_json(json_t *j, struct md_report *r)
{
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *ann = json_object_get(j, "annotations"), *by = json_object_get(j, "requested_by");
	const char *key;
	json_t *v;
	int e = 0;

	md_report_init(r);
	if (!json_is_object(j))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(u32_fields) / sizeof(u32_fields[0]); i++)
		*(uint32_t *)((char *)r + u32_fields[i].at) = get_u32(j, u32_fields[i].key);
	for (size_t i = 0; i < sizeof(u64_fields) / sizeof(u64_fields[0]); i++)
		*(uint64_t *)((char *)r + u64_fields[i].at) = get_u64(j, u64_fields[i].key);
	for (size_t i = 0; i < sizeof(real_fields) / sizeof(real_fields[0]); i++)
		*(double *)((char *)r + real_fields[i].at) = get_real(j, real_fields[i].key);
	for (size_t i = 0; i < sizeof(bool_fields) / sizeof(bool_fields[0]); i++)
		*(bool *)((char *)r + bool_fields[i].at) = get_bool(j, bool_fields[i].key);
	for (size_t i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++)
		e |= get_str(j, string_fields[i].key, (char **)((char *)r + string_fields[i].at));
	r->has_uid = json_is_integer(json_object_get(j, "uid"));
	r->has_dump = json_is_integer(json_object_get(j, "bytes"));
	crash_from_json(json_object_get(j, "crash"), r);
	for (size_t k = 1; kind && k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (strcmp(kind, kind_names[k]) == 0)
			r->kind = (enum md_report_kind)k;
	get_name(j, "time", r->time, sizeof(r->time));
	get_name(j, "signal", r->signal, sizeof(r->signal));
	r->requested_by_pid = get_u32(by, "pid");
	r->requested_by_uid = get_u32(by, "uid");
	r->not_dumpable = json_is_false(json_object_get(j, "dumpable"));
	if (json_is_object(json_object_get(j, "symbolizer"))) {
		r->symbolizer = json_incref(json_object_get(j, "symbolizer"));
		r->stack = json_incref(json_object_get(j, "stack"));
		r->thread_stacks = json_incref(json_object_get(j, "thread_stacks"));
	}
	if (json_is_object(ann)) {
		json_object_foreach(ann, key, v)
		{
			if (json_is_string(v))
				e |= md_report_annotate(r, key, json_string_value(v));
		}
	}
	if (e || arrays_from_json(j, r) < 0) {
		md_report_done(r);
		return -ENOMEM;
	}
	return 0;
}
