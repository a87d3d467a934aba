/* SPDX-License-Identifier: MIT */
/*
 * `mdctl info`'s output: the report, upload state, crashing thread, stack and modules as text
 * (fields aligned, like coredumpctl info) or as one JSON object. Text from the report and the
 * dump is untrusted: it is printed with control characters replaced (mdctl_put_safe).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "mdctl-info.h"
#include "mdctl.h"

static void field(const char *name, const char *value)
{
	printf("%14s: ", name);
	mdctl_put_safe(stdout, value && *value ? value : "-");
	putchar('\n');
}

static const char *str(json_t *report, const char *key)
{
	return json_string_value(json_object_get(report, key));
}

/* The uploader's state of the dump, as one line. */
static void print_upload(const struct mdctl_info *in)
{
	char buf[PATH_MAX + 512];
	json_t *att = json_object_get(in->upload, "attempts");
	const char *state = str(in->upload, "state"), *sid = str(in->upload, "server_id"),
	           *reason = str(in->upload, "reason"), *t = str(in->upload, "time");
	int n;

	if (!in->upload) {
		field("Upload", NULL);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%s", state ? state : "?");
	if (sid && *sid && n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", server id %s", sid);
	if (reason && *reason && n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", reason);
	if (json_is_integer(att) && n >= 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		              " (%" JSON_INTEGER_FORMAT " attempt%s)", json_integer_value(att),
		              json_integer_value(att) == 1 ? "" : "s");
	if (t && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, " at %s", t);
	field("Upload", buf);
}

/* The report's fields, the files and the upload state. */
static void print_report(const struct mdctl_info *in, bool utc)
{
	const struct md_report *rep = &in->e->rep;
	json_t *v;
	char buf[PATH_MAX + 512], when[64];
	struct tm tm;

	field("ID", in->e->id);
	if (utc)
		gmtime_r(&in->e->time, &tm);
	else
		localtime_r(&in->e->time, &tm);
	strftime(when, sizeof(when), utc ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M:%S %Z", &tm);
	field("Time", when);
	field("Kind", md_report_kind_to_string(rep->kind));
	snprintf(buf, sizeof(buf), "%u", rep->pid);
	field("PID", buf);
	if (rep->has_uid)
		snprintf(buf, sizeof(buf), "%u", rep->uid);
	else
		snprintf(buf, sizeof(buf), "-");
	field("UID", buf);
	field("Executable", rep->executable);
	field("Process name", rep->process_name);
	if (rep->has_crash) {
		snprintf(buf, sizeof(buf), "%s (%u), si_code %d, address 0x%llx",
		         rep->crash.signal[0] ? rep->crash.signal : "?", rep->crash.code,
		         (int)rep->crash.si_code, (unsigned long long)rep->crash.address);
		field("Signal", buf);
	} else {
		field("Signal", NULL);
	}
	if (rep->rate_limited)
		field("Dump", "none: the crash loop limit was reached, only this report was kept");
	else if (in->e->dump_name[0]) {
		snprintf(buf, sizeof(buf), "%s/%s (%" PRIu64 " bytes)%s", in->store->dir,
		         in->e->dump_name, in->e->dump_bytes, rep->partial ? ", partial" : "");
		field("Dump", buf);
	} else {
		field("Dump", "none: the dump file is gone");
	}
	{
		char name[MD_STORE_NAME_MAX];

		md_store_name(in->e->id, MD_STORE_REPORT, name);
		snprintf(buf, sizeof(buf), "%s/%s", in->store->dir, name);
		field("Report", buf);
	}
	print_upload(in);
	if (rep->n_annotations) {
		printf("%14s:\n", "Annotations");
		for (size_t i = 0; i < rep->n_annotations; i++) {
			fputs("                ", stdout);
			mdctl_put_safe(stdout, rep->keys[i]);
			fputs(" = ", stdout);
			mdctl_put_safe(stdout, rep->values[i]);
			putchar('\n');
		}
	}
	/* the problems as the report has them, one JSON object a line */
	v = json_object_get(in->e->report, "errors");
	if (json_array_size(v)) {
		size_t i;
		json_t *err;

		printf("%14s:\n", "Errors");
		json_array_foreach(v, i, err)
		{
			char *s = json_is_string(err) ? NULL : json_dumps(err, JSON_COMPACT);

			fputs("                ", stdout);
			mdctl_put_safe(stdout, s ? s : json_string_value(err));
			putchar('\n');
			free(s);
		}
	}
	if (in->dump_error[0]) {
		fputs("\nThe dump cannot be read: ", stdout);
		mdctl_put_safe(stdout, in->dump_error);
		putchar('\n');
	}
}

/* One frame: module!function + offset [file:line] (minidump_stackwalk's), or pc and sp. */
static void print_frame(json_t *fr)
{
	const char *mod = str(fr, "module"), *fn = str(fr, "function"), *file = str(fr, "file"),
	           *line = str(fr, "line"), *off = str(fr, "offset");

	printf("  #%-3" JSON_INTEGER_FORMAT " ", json_integer_value(json_object_get(fr, "frame")));
	if (json_is_integer(json_object_get(fr, "pc"))) {
		/* raw: pc, sp, and module + offset */
		printf("pc 0x%016" PRIx64 "  sp 0x%016" PRIx64,
		       (uint64_t)json_integer_value(json_object_get(fr, "pc")),
		       (uint64_t)json_integer_value(json_object_get(fr, "sp")));
		if (mod) {
			fputs("  ", stdout);
			mdctl_put_safe(stdout, mod);
			printf(" + 0x%" PRIx64,
			       (uint64_t)json_integer_value(json_object_get(fr, "offset")));
		}
		putchar('\n');
		return;
	}
	mdctl_put_safe(stdout, mod && *mod ? mod : "???");
	if (fn && *fn) {
		putchar('!');
		mdctl_put_safe(stdout, fn);
	}
	if (off && *off) {
		fputs(" + ", stdout);
		mdctl_put_safe(stdout, off);
	}
	if (file && *file) {
		fputs("  [", stdout);
		mdctl_put_safe(stdout, file);
		if (line && *line) {
			putchar(':');
			mdctl_put_safe(stdout, line);
		}
		putchar(']');
	}
	putchar('\n');
}

/* The crashing thread and its stack. */
static void print_stack(const struct mdctl_info *in)
{
	const struct md_report *rep = &in->e->rep;

	putchar('\n');
	if (in->has_thread) {
		printf("%s thread: %" PRIu32, rep->has_crash ? "Crashing" : "Requesting", in->tid);
		if (in->thread_name) {
			fputs(" \"", stdout);
			mdctl_put_safe(stdout, in->thread_name);
			putchar('"');
		}
		putchar('\n');
	} else {
		puts("Crashing thread: unknown (the dump has no exception stream)");
	}
	printf("Stack (%s, %s):\n",
	       strcmp(in->stack_source, "dump") == 0 ? "frame 0 read from the dump"
	                                             : "walked by minidump_stackwalk",
	       in->stack_note);
	if (json_array_size(in->frames) == 0)
		puts("  (no frames)");
	for (size_t i = 0; i < json_array_size(in->frames); i++)
		print_frame(json_array_get(in->frames, i));
}

/* The modules of the dump with their build ids. */
static void print_modules(const struct mdctl_info *in)
{
	if (!in->modules)
		return;
	printf("\nModules (%zu):\n", in->modules->count);
	for (size_t i = 0; i < in->modules->count; i++) {
		const struct md_reader_module *m = &in->modules->modules[i];
		const char *name = mdctl_info_base_name(m->name);
		size_t len = strlen(name);

		printf("  0x%016" PRIx64 "  ", m->base);
		mdctl_put_safe(stdout, name);
		printf("%*s  %s  ", len < 24 ? (int)(24 - len) : 0, "",
		       m->code_id[0] ? m->code_id : "(no build id)");
		mdctl_put_safe(stdout, m->name);
		putchar('\n');
	}
}

void mdctl_info_print(const struct mdctl_info *in, bool utc)
{
	print_report(in, utc);
	if (!in->r)
		return;
	print_stack(in);
	print_modules(in);
#if HAVE_SYMBOLIZER
	/* every thread's stack, like coredumpctl info */
	if (in->symbolized) {
		putchar('\n');
		mdctl_print_stacks(in->symbolized, stdout);
	} else if (in->symbolize_error[0]) {
		printf("\nNo symbolized stacks: %s\n", in->symbolize_error);
	}
#endif
}

json_t *mdctl_info_to_json(const struct mdctl_info *in)
{
	json_t *o = json_deep_copy(in->e->report), *mods = json_array();
	char *dump = NULL;

	if (in->e->dump_name[0] && asprintf(&dump, "%s/%s", in->store->dir, in->e->dump_name) < 0)
		dump = NULL;
	json_object_set_new(o, "id", json_string(in->e->id));
	json_object_set_new(o, "dump_file", dump ? json_string(dump) : json_null());
	json_object_set_new(o, "dump_bytes",
	                    dump ? json_integer((json_int_t)in->e->dump_bytes) : json_null());
	json_object_set_new(o, "upload", in->upload ? json_incref(in->upload) : json_null());
	if (in->dump_error[0])
		json_object_set_new(o, "dump_error", json_string(in->dump_error));
	json_object_set_new(o, "crashing_thread",
	                    in->has_thread ? json_pack("{s:I, s:s?}", "tid", (json_int_t)in->tid,
	                                               "name", in->thread_name)
	                                   : json_null());
	for (size_t i = 0; in->modules && i < in->modules->count; i++) {
		const struct md_reader_module *m = &in->modules->modules[i];

		json_array_append_new(
		    mods, json_pack("{s:I, s:I, s:s, s:s, s:s}", "base", (json_int_t)m->base,
		                    "size", (json_int_t)m->size, "name", m->name ? m->name : "",
		                    "code_id", m->code_id, "debug_id", m->debug_id));
	}
	json_object_set_new(o, "module_list", mods);
	json_object_set_new(o, "stack",
	                    json_pack("{s:s, s:s, s:O}", "source", in->stack_source, "note",
	                              in->stack_note, "frames", in->frames));
	if (in->symbolized) {
		json_object_set(o, "threads", json_object_get(in->symbolized, "threads"));
		json_object_set(o, "symbolizer", json_object_get(in->symbolized, "symbolizer"));
	} else if (in->symbolize_error[0]) {
		json_object_set_new(o, "symbolizer",
		                    json_pack("{s:s}", "error", in->symbolize_error));
	}
	free(dump);
	return o;
}
