/* SPDX-License-Identifier: MIT */
/*
 * `mdctl info ID`: one dump of minidumpd's store in full: the report (time, process, signal,
 * files, annotations, errors), the uploader's state, the crashing thread, the loaded modules
 * with their build ids, and the crashing thread's stack. The stack comes from Breakpad's
 * minidump_stackwalk when it can be found ($MINIDUMP_STACKWALK, else PATH), symbolized with
 * --symbols; otherwise the crash-time program counter and stack pointer are read from the dump
 * itself. The output says which. Report and dump are untrusted: text from them is printed
 * with control characters replaced.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "md-os.h"
#include "mdctl-store.h"
#include "mdctl.h"
#if HAVE_SYMBOLIZER
#include "md-symbolize-run.h"
#endif

#define STACKWALK_TIMEOUT_MS 120000                /* ms minidump_stackwalk may take */
#define STACKWALK_OUTPUT_MAX (64u * 1024u * 1024u) /* bytes of its output kept */
#define STACK_FRAMES_MAX     256                   /* frames shown for the crashing thread */

struct info {
	const struct mdctl_store *store;
	const struct mdctl_entry *e;
	json_t *upload;      /* the uploader's state, or NULL */
	struct md_reader *r; /* NULL without a readable dump */
	char *dump_path;     /* what the tools read (a temporary copy for .zst) */
	char dump_error[MD_READER_ERROR_MAX];
	/* the crashing (or requesting) thread */
	bool has_thread;
	uint32_t tid;
	const char *thread_name;
	const struct md_reader_module_list *modules;
	/* the stack */
	const char *stack_source; /* "minidump_stackwalk" or "dump" */
	char stack_note[256];     /* why the fallback, or which tool */
	json_t *frames;           /* [{frame, module, function, file, line, offset, pc, sp}] */
	/* every thread, by md-symbolize (issue 12); NULL with the reason in symbolize_error */
	json_t *symbolized;
	char symbolize_error[512];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: mdctl info ID [OPTIONS]\n"
	        "\n"
	        "Show one dump of minidumpd's store: its report, upload state, crashing thread,\n"
	        "modules with build ids, and the crashing thread's stack. ID is an id from\n"
	        "'mdctl list', or a prefix of exactly one.\n"
	        "\n"
	        "The stack is walked by Breakpad's minidump_stackwalk when it is found\n"
	        "($MINIDUMP_STACKWALK, else PATH); without it (or with --raw-stack) mdctl shows\n"
	        "the crash-time pc and sp read from the dump, with the module they point into.\n"
	        "\n"
	        "      --symbols DIR   Breakpad symbol folder for minidump_stackwalk\n"
	        "      --raw-stack     do not run minidump_stackwalk\n"
	        "      --no-symbolize  do not unwind every thread with md-symbolize\n"
	        "      --json          one JSON object: the report plus dump_file, upload,\n"
	        "                      crashing_thread, module_list and stack\n"
	        "      --utc           show the time in UTC instead of local time\n"
	        "%s"
	        "  -h, --help          this text\n"
	        "\n"
	        "Exit codes: 0 ok, 1 failure, 2 usage (or ID matches several dumps),\n"
	        "4 permission denied reading the store, 7 the dump file is not a valid minidump\n"
	        "(the report is still shown), 8 no dump has that id.\n",
	        mdctl_store_options_help);
}

/* ---- the dump ---- */

static void load_thread(struct info *in)
{
	const struct md_reader_exception *exc;

	if (md_reader_exception(in->r, &exc) == 0) {
		in->has_thread = true;
		in->tid = exc->thread_id;
	} else if (in->e->rep.has_crash) {
		in->has_thread = true;
		in->tid = in->e->rep.crash.thread_id;
	}
	if (in->has_thread)
		in->thread_name = md_reader_thread_name(in->r, in->tid);
}

/* The module holding addr, or NULL. */
static const struct md_reader_module *module_at(const struct info *in, uint64_t addr)
{
	for (size_t i = 0; in->modules && i < in->modules->count; i++) {
		const struct md_reader_module *m = &in->modules->modules[i];

		if (addr >= m->base && addr - m->base < m->size)
			return m;
	}
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

/* Frame 0 from the dump: the exception's context (the registers at the fault), else the
 * thread's own context. */
static void raw_stack(struct info *in)
{
	const struct md_reader_exception *exc;
	const struct md_reader_thread_list *threads;
	struct md_reader_context ctx;
	uint64_t pc = 0, sp = 0;
	bool found = false;
	json_t *frame;

	in->stack_source = "dump";
	if (!in->r || !in->has_thread)
		return;
	if (md_reader_exception(in->r, &exc) == 0 && exc->thread_id == in->tid &&
	    md_reader_context(in->r, exc->context, &ctx) == 0 && ctx.cpu != MD_READER_CPU_NONE) {
		pc = ctx.pc;
		sp = ctx.sp;
		found = true;
	} else if (md_reader_threads(in->r, &threads) == 0) {
		for (size_t i = 0; i < threads->count; i++) {
			if (threads->threads[i].tid != in->tid ||
			    threads->threads[i].cpu == MD_READER_CPU_NONE)
				continue;
			pc = threads->threads[i].pc;
			sp = threads->threads[i].sp;
			found = true;
			break;
		}
	}
	if (!found)
		return;
	frame =
	    json_pack("{s:i, s:I, s:I}", "frame", 0, "pc", (json_int_t)pc, "sp", (json_int_t)sp);
	{
		const struct md_reader_module *m = module_at(in, pc);

		if (m) {
			json_object_set_new(frame, "module", json_string(base_name(m->name)));
			json_object_set_new(frame, "offset",
			                    json_integer((json_int_t)(pc - m->base)));
		}
	}
	json_array_append_new(in->frames, frame);
}

/* Splits a '|'-separated line into at most max fields (in place). */
static int split_bars(char *line, char **fields, int max)
{
	int n = 0;

	while (n < max) {
		char *bar = strchr(line, '|');

		fields[n++] = line;
		if (!bar)
			break;
		*bar = '\0';
		line = bar + 1;
	}
	return n;
}

/* The crashing thread's frames from `minidump_stackwalk -m`. Returns 0 or -errno. */
static int stackwalk(struct info *in, const char *tool, const char *symbols)
{
	const struct md_reader_thread_list *threads;
	const char *argv[5] = {tool, "-m", in->dump_path, symbols, NULL};
	char *out = NULL, *line, *save = NULL;
	long index = -1;
	int r;

	if (!in->has_thread || md_reader_threads(in->r, &threads) < 0)
		return -ENOENT;
	for (size_t i = 0; i < threads->count; i++)
		if (threads->threads[i].tid == in->tid)
			index = (long)i;
	if (index < 0)
		return -ENOENT;
	r = mdctl_run_capture(argv, STACKWALK_TIMEOUT_MS, STACKWALK_OUTPUT_MAX, &out);
	if (r != 0) {
		free(out);
		return r < 0 ? r : -EPROTO;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7], *end;
		long thread, frame;

		/* thread|frame|module|function|file|line|offset */
		if (split_bars(line, f, 7) != 7)
			continue;
		thread = strtol(f[0], &end, 10);
		if (*end || end == f[0] || thread != index)
			continue;
		frame = strtol(f[1], &end, 10);
		if (*end || end == f[1] || json_array_size(in->frames) >= STACK_FRAMES_MAX)
			continue;
		json_array_append_new(in->frames,
		                      json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "frame",
		                                (int)frame, "module", f[2], "function", f[3],
		                                "file", f[4], "line", f[5], "offset", f[6]));
	}
	free(out);
	return json_array_size(in->frames) ? 0 : -ENODATA;
}

static void load_stack(struct info *in, bool raw, const char *symbols)
{
	const char *env = getenv("MINIDUMP_STACKWALK");
	char *tool = NULL;
	int r;

	in->frames = json_array();
	if (!in->r) {
		in->stack_source = "dump";
		snprintf(in->stack_note, sizeof(in->stack_note), "no readable dump");
		return;
	}
	if (raw) {
		snprintf(in->stack_note, sizeof(in->stack_note), "--raw-stack");
		raw_stack(in);
		return;
	}
	if (env && *env)
		tool = access(env, X_OK) == 0 ? strdup(env) : NULL;
	else
		tool = mdctl_find_program("minidump_stackwalk");
	if (!tool) {
		snprintf(in->stack_note, sizeof(in->stack_note), "minidump_stackwalk %s",
		         env && *env ? "at $MINIDUMP_STACKWALK is not executable" : "not in PATH");
		raw_stack(in);
		return;
	}
	r = stackwalk(in, tool, symbols);
	if (r < 0) {
		snprintf(in->stack_note, sizeof(in->stack_note), "%s failed: %s", tool,
		         r == -EPROTO ? "it exited with an error" : md_os_strerror(-r));
		json_array_clear(in->frames);
		raw_stack(in);
	} else {
		in->stack_source = "minidump_stackwalk";
		snprintf(in->stack_note, sizeof(in->stack_note), "%s%s%s", tool,
		         symbols ? ", symbols from " : ", no symbols", symbols ? symbols : "");
	}
	free(tool);
}

/* ---- output ---- */

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

static void print_text(struct info *in, bool utc)
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
	if (in->upload) {
		json_t *att = json_object_get(in->upload, "attempts");
		const char *state = str(in->upload, "state"), *sid = str(in->upload, "server_id"),
		           *reason = str(in->upload, "reason"), *t = str(in->upload, "time");
		int n = snprintf(buf, sizeof(buf), "%s", state ? state : "?");

		if (sid && *sid && n >= 0 && (size_t)n < sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", server id %s", sid);
		if (reason && *reason && n >= 0 && (size_t)n < sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", reason);
		if (json_is_integer(att) && n >= 0 && (size_t)n < sizeof(buf))
			n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			              " (%" JSON_INTEGER_FORMAT " attempt%s)",
			              json_integer_value(att),
			              json_integer_value(att) == 1 ? "" : "s");
		if (t && n >= 0 && (size_t)n < sizeof(buf))
			snprintf(buf + n, sizeof(buf) - (size_t)n, " at %s", t);
		field("Upload", buf);
	} else {
		field("Upload", NULL);
	}
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
	if (!in->r)
		return;

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
	for (size_t i = 0; i < json_array_size(in->frames); i++) {
		json_t *fr = json_array_get(in->frames, i);
		const char *mod = str(fr, "module"), *fn = str(fr, "function"),
		           *file = str(fr, "file"), *line = str(fr, "line"),
		           *off = str(fr, "offset");

		printf("  #%-3" JSON_INTEGER_FORMAT " ",
		       json_integer_value(json_object_get(fr, "frame")));
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
			continue;
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
	if (in->modules) {
		printf("\nModules (%zu):\n", in->modules->count);
		for (size_t i = 0; i < in->modules->count; i++) {
			const struct md_reader_module *m = &in->modules->modules[i];

			const char *name = base_name(m->name);
			size_t len = strlen(name);

			printf("  0x%016" PRIx64 "  ", m->base);
			mdctl_put_safe(stdout, name);
			printf("%*s  %s  ", len < 24 ? (int)(24 - len) : 0, "",
			       m->code_id[0] ? m->code_id : "(no build id)");
			mdctl_put_safe(stdout, m->name);
			putchar('\n');
		}
	}
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

static json_t *to_json(struct info *in)
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

int mdctl_info_main(int argc, char **argv)
{
	struct mdctl_store_opts so = {0};
	const char *symbols = NULL, *query;
	bool as_json = false, raw = false, utc = false, symbolize = true;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("symbols", 0, &symbols),
	    MD_CMDLINE_SET("raw-stack", 0, &raw),
	    MD_CMDLINE_CLEAR("no-symbolize", 0, &symbolize),
	    MD_CMDLINE_SET("json", 0, &as_json),
	    MD_CMDLINE_SET("utc", 0, &utc),
	    MDCTL_STORE_OPTS(&so),
	    MD_CMDLINE_END,
	};
	struct mdctl_entry *entries = NULL;
	struct mdctl_store store;
	struct info in;
	char *tmp = NULL;
	size_t count = 0;
	int r, idx, ret = MDCTL_EXIT_FAILURE;

	if (!mdctl_parse_options(argc, argv, opts, usage, &ret))
		return ret;
	query = argv[optind];
	mdctl_store_locate(&so, &store);
	r = mdctl_store_load(&store, &entries, &count);
	if (r < 0) {
		fprintf(stderr, "mdctl info: cannot read the store %s (%s): %s\n", store.dir,
		        store.source, md_os_strerror(-r));
		return r == -EACCES || r == -EPERM ? MDCTL_EXIT_PERMISSION : MDCTL_EXIT_FAILURE;
	}
	idx = mdctl_store_find(entries, count, query);
	if (idx < 0) {
		fprintf(stderr, "mdctl info: ");
		mdctl_put_safe(stderr, query);
		fprintf(stderr,
		        idx == -ENOTUNIQ ? ": matches several dumps in %s; give more of the id\n"
		                         : ": no such dump in %s\n",
		        store.dir);
		mdctl_store_free(entries, count);
		return idx == -ENOTUNIQ ? MDCTL_EXIT_USAGE : MDCTL_EXIT_NO_DUMP;
	}

	memset(&in, 0, sizeof(in));
	in.store = &store;
	in.e = &entries[idx];
	in.upload = mdctl_upload_state(so.upload_state ? so.upload_state : MD_DEFAULT_UPLOAD_STATE,
	                               in.e->id);
	if (in.e->dump_name[0]) {
		struct md_reader_error err = {{0}};

		r = mdctl_store_open_dump(&store, in.e, &err, &in.r, &in.dump_path, &tmp);
		if (r < 0) {
			snprintf(in.dump_error, sizeof(in.dump_error), "%s", err.message);
			in.r = NULL;
		}
	}
	if (in.r) {
		load_thread(&in);
		if (md_reader_modules(in.r, &in.modules) < 0)
			in.modules = NULL;
	}
	load_stack(&in, raw, symbols);
#if HAVE_SYMBOLIZER
	if (symbolize && in.r) {
		struct md_symbolize_opts so_sym = {.all_threads = true};

		if (md_symbolize_dump(in.dump_path, &so_sym, &in.symbolized, in.symbolize_error,
		                      sizeof(in.symbolize_error)) < 0)
			in.symbolized = NULL;
	}
#else
	(void)symbolize;
#endif
	if (as_json) {
		json_t *o = to_json(&in);
		char *text = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);

		if (text)
			puts(text);
		free(text);
		json_decref(o);
	} else {
		print_text(&in, utc);
	}
	ret = in.dump_error[0] ? MDCTL_EXIT_BAD_FILE : MDCTL_EXIT_OK;
	if (fflush(stdout) != 0)
		ret = MDCTL_EXIT_FAILURE;
	md_reader_free(in.r);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(in.dump_path);
	json_decref(in.frames);
	json_decref(in.symbolized);
	json_decref(in.upload);
	mdctl_store_free(entries, count);
	return ret;
}
