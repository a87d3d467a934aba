/* SPDX-License-Identifier: MIT */
/*
 * `mdctl inspect FILE [--json]`: shows what a minidump holds (system, process, exception,
 * threads, modules, streams, annotations and our diagnostics), as text or as one JSON object.
 * The file is untrusted: everything goes through the bounds-checked reader, and strings from
 * the file are printed with control characters replaced, so a hostile dump cannot drive the
 * terminal. A malformed stream is reported and the rest is still shown; the exit code is then 7.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistd.h> /* optind */

#include "md-escape.h"
#include "md-format.h"
#include "md-os.h"
#include "md-reader.h"
#include "mdctl.h"

#define ERRORS_MAX 16 /* malformed-stream messages kept for one file */

struct inspect {
	const char *path;
	struct md_reader *r;
	char errors[ERRORS_MAX][MD_READER_ERROR_MAX];
	size_t n_errors;
	/* Views; NULL when absent or malformed. */
	const struct md_reader_system_info *si;
	const struct md_reader_thread_list *threads;
	const struct md_reader_module_list *modules;
	const struct md_reader_exception *exception;
	const struct md_reader_crashpad_info *crashpad;
	bool has_pid;
	uint32_t pid;
	char *diag; /* diagnostics stream bytes, NUL-terminated */
	size_t diag_size;
};

static void usage(FILE *f)
{
	fputs("Usage: mdctl inspect FILE [--json]\n"
	      "\n"
	      "Show what the minidump FILE holds: system, process, exception, threads, modules,\n"
	      "streams, annotations and minidumpd's diagnostics.\n"
	      "\n"
	      "      --json  print one JSON object instead of text\n"
	      "  -h, --help  this text\n"
	      "\n"
	      "Exit codes: 0 ok, 2 usage, 7 FILE is unreadable or not a valid minidump.\n",
	      f);
}

/* Loads a view; -ENOENT means the stream is absent, anything else is recorded as an error. */
static bool view(struct inspect *in, int ret)
{
	if (ret >= 0)
		return true;
	if (ret != -ENOENT && in->n_errors < ERRORS_MAX)
		snprintf(in->errors[in->n_errors++], MD_READER_ERROR_MAX, "%s",
		         md_reader_error(in->r));
	return false;
}

static void load(struct inspect *in)
{
	const struct md_reader_thread_names *names;
	const struct md_reader_memory_list *mem;
	const struct md_reader_memory_info_list *mil;
	const struct md_reader_misc_info *misc;

	if (!view(in, md_reader_system_info(in->r, &in->si)))
		in->si = NULL;
	if (!view(in, md_reader_threads(in->r, &in->threads)))
		in->threads = NULL;
	view(in, md_reader_thread_names(in->r, &names));
	if (!view(in, md_reader_modules(in->r, &in->modules)))
		in->modules = NULL;
	view(in, md_reader_memory_list(in->r, &mem));
	view(in, md_reader_memory_info(in->r, &mil));
	if (!view(in, md_reader_exception(in->r, &in->exception)))
		in->exception = NULL;
	view(in, md_reader_misc_info(in->r, &misc));
	if (!view(in, md_reader_crashpad_info(in->r, &in->crashpad)))
		in->crashpad = NULL;
	in->has_pid = md_reader_pid(in->r, &in->pid) == 0;
	if (!view(in, md_reader_stream_data(in->r, MD_STREAM_MINIDUMPD_DIAGNOSTICS, &in->diag,
	                                    &in->diag_size)))
		in->diag = NULL;
}

/* ---- Names ---- */

struct code_name {
	uint32_t code;
	const char *name;
};

/* SystemInfo's processor_architecture */
static const struct code_name arch_names[] = {
    {MD_CPU_ARCHITECTURE_X86, "x86"},         {MD_CPU_ARCHITECTURE_ARM, "arm"},
    {MD_CPU_ARCHITECTURE_AMD64, "amd64"},     {MD_CPU_ARCHITECTURE_ARM64, "arm64"},
    {MD_CPU_ARCHITECTURE_ARM64_OLD, "arm64"},
};

/* SystemInfo's platform_id */
static const struct code_name os_names[] = {
    {MD_OS_LINUX, "Linux"},
    {MD_OS_ANDROID, "Android"},
    {MD_OS_WIN32_NT, "Windows NT"},
    {MD_OS_MAC_OS_X, "Mac OS X"},
};

/* The name of code in table (n entries), or "unknown". */
static const char *name_of(const struct code_name *table, size_t n, uint32_t code)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].code == code)
			return table[i].name;
	return "unknown";
}

static const char *arch_name(uint16_t arch)
{
	return name_of(arch_names, sizeof(arch_names) / sizeof(arch_names[0]), arch);
}

static const char *os_name(uint32_t platform_id)
{
	return name_of(os_names, sizeof(os_names) / sizeof(os_names[0]), platform_id);
}

static bool is_linux(const struct inspect *in)
{
	return !in->si || in->si->platform_id == MD_OS_LINUX ||
	       in->si->platform_id == MD_OS_ANDROID;
}

/* The exception code as Breakpad names it on Linux ("SIGSEGV", "DUMP_REQUESTED"), or NULL. */
static const char *code_name(const struct inspect *in, uint32_t code)
{
	return is_linux(in) ? md_linux_signal_to_string(code) : NULL;
}

static const char *stream_name(uint32_t type)
{
	const char *name = md_stream_type_to_string(type);

	return name ? name : "unknown";
}

/* ---- Text output ---- */

/* Prints a string from the file with control characters (terminal escapes) replaced. */
/* Writes text from the dump escaped (md_escape); with keep_newlines (our own pretty-printed
 * JSON), line by line. */
static void put_safe(const char *s, bool keep_newlines)
{
	while (*s) {
		size_t len = keep_newlines ? strcspn(s, "\n") : strlen(s);
		char *out = malloc(MD_ESCAPE_SIZE(len));

		fputs(out ? md_escape(s, len, out, MD_ESCAPE_SIZE(len), 0) : "?", stdout);
		free(out);
		s += len;
		if (*s == '\n') {
			putchar('\n');
			s++;
		}
	}
}

static void print_text(struct inspect *in)
{
	const md_header *h = md_reader_header(in->r);
	uint32_t n_streams = md_reader_stream_count(in->r);

	printf("File:       %s\n", in->path);
	printf("Size:       %" PRIu64 " bytes, %u streams, written %u (Unix time)\n",
	       md_reader_file_size(in->r), n_streams, h->time_date_stamp);

	printf("System:     ");
	if (in->si) {
		printf("%s, %s, %u CPUs", arch_name(in->si->arch), os_name(in->si->platform_id),
		       in->si->cpus);
		if (in->si->cpu_vendor[0])
			printf(", %s", in->si->cpu_vendor);
		if (in->si->csd[0]) {
			printf("\n            ");
			put_safe(in->si->csd, false);
		}
		putchar('\n');
	} else {
		printf("(no SystemInfo)\n");
	}

	if (in->has_pid)
		printf("Process:    pid %u\n", in->pid);
	else
		printf("Process:    (no pid)\n");

	printf("Exception:  ");
	if (in->exception) {
		const char *name = code_name(in, in->exception->code);

		if (name)
			printf("%s", name);
		else
			printf("code 0x%08x", in->exception->code);
		printf(" (flags 0x%x) at 0x%016" PRIx64 " in thread %u\n", in->exception->flags,
		       in->exception->address, in->exception->thread_id);
	} else {
		printf("none\n");
	}

	if (in->threads) {
		printf("\nThreads (%zu):\n", in->threads->count);
		printf("  %-8s %-16s %-18s %-18s %s\n", "TID", "NAME", "PC", "SP", "STACK");
		for (size_t i = 0; i < in->threads->count; i++) {
			const struct md_reader_thread *t = &in->threads->threads[i];
			const char *name = md_reader_thread_name(in->r, t->tid);
			int pad;

			printf("  %-8u ", t->tid);
			put_safe(name ? name : "-", false);
			pad = 16 - (int)strlen(name ? name : "-");
			printf("%*s ", pad > 0 ? pad : 0, "");
			if (t->cpu == MD_READER_CPU_NONE)
				printf("%-18s %-18s ", "-", "-");
			else
				printf("0x%016" PRIx64 " 0x%016" PRIx64 " ", t->pc, t->sp);
			printf("%u bytes at 0x%" PRIx64 "\n", t->stack_size, t->stack_start);
		}
	}

	if (in->modules) {
		printf("\nModules (%zu):\n", in->modules->count);
		printf("  %-18s %-10s %-40s %-33s %s\n", "BASE", "SIZE", "CODE ID", "DEBUG ID",
		       "NAME");
		for (size_t i = 0; i < in->modules->count; i++) {
			const struct md_reader_module *m = &in->modules->modules[i];

			printf("  0x%016" PRIx64 " 0x%08x %-40s %-33s ", m->base, m->size,
			       m->code_id[0] ? m->code_id : "-",
			       m->debug_id[0] ? m->debug_id : "-");
			put_safe(m->name, false);
			putchar('\n');
		}
	}

	printf("\nStreams (%u):\n", n_streams);
	for (uint32_t i = 0; i < n_streams; i++) {
		const md_directory *d = md_reader_stream_entry(in->r, i);

		printf("  %-22s 0x%08x %10u bytes at 0x%x\n", stream_name(d->stream_type),
		       d->stream_type, d->location.data_size, d->location.rva);
	}

	if (in->crashpad && in->crashpad->n_annotations > 0) {
		printf("\nAnnotations (%zu):\n", in->crashpad->n_annotations);
		for (size_t i = 0; i < in->crashpad->n_annotations; i++) {
			printf("  ");
			put_safe(in->crashpad->annotations[i].key, false);
			printf(" = ");
			put_safe(in->crashpad->annotations[i].value, false);
			putchar('\n');
		}
	}

	if (in->diag) {
		json_error_t jerr;
		json_t *j = json_loadb(in->diag, in->diag_size, 0, &jerr);
		char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		printf("\nDiagnostics:\n");
		put_safe(pretty ? pretty : in->diag, true);
		putchar('\n');
		free(pretty);
		json_decref(j);
	}
}

/* ---- JSON output ---- */

static json_t *hex_json(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

/* A JSON string from text that may not be valid UTF-8 (only the raw diagnostics bytes). */
static json_t *text_json(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *copy;

	if (j)
		return j;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (s[i] > 0 && (unsigned char)s[i] < 0x80) ? s[i] : '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *build_json(struct inspect *in)
{
	json_t *o = json_object(), *a;
	uint32_t n_streams = md_reader_stream_count(in->r);

	json_object_set_new(o, "path", text_json(in->path, strlen(in->path)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)md_reader_file_size(in->r)));

	if (in->si) {
		json_t *s = json_object();

		json_object_set_new(s, "arch", json_string(arch_name(in->si->arch)));
		json_object_set_new(s, "os", json_string(os_name(in->si->platform_id)));
		json_object_set_new(s, "os_version", json_string(in->si->csd));
		json_object_set_new(s, "cpus", json_integer(in->si->cpus));
		json_object_set_new(s, "cpu_vendor", str_or_null(in->si->cpu_vendor));
		json_object_set_new(o, "system", s);
	} else {
		json_object_set_new(o, "system", json_null());
	}

	json_object_set_new(o, "pid", in->has_pid ? json_integer(in->pid) : json_null());

	if (in->exception) {
		json_t *e = json_object();
		const char *name = code_name(in, in->exception->code);

		json_object_set_new(e, "thread_id", json_integer(in->exception->thread_id));
		json_object_set_new(e, "code", json_integer(in->exception->code));
		json_object_set_new(e, "code_name", name ? json_string(name) : json_null());
		json_object_set_new(e, "flags", json_integer(in->exception->flags));
		json_object_set_new(e, "address", hex_json(in->exception->address));
		json_object_set_new(o, "exception", e);
	} else {
		json_object_set_new(o, "exception", json_null());
	}

	a = json_array();
	for (size_t i = 0; in->threads && i < in->threads->count; i++) {
		const struct md_reader_thread *t = &in->threads->threads[i];
		bool regs = t->cpu != MD_READER_CPU_NONE;
		json_t *j = json_object();

		json_object_set_new(j, "tid", json_integer(t->tid));
		json_object_set_new(j, "name", str_or_null(md_reader_thread_name(in->r, t->tid)));
		json_object_set_new(j, "pc", regs ? hex_json(t->pc) : json_null());
		json_object_set_new(j, "sp", regs ? hex_json(t->sp) : json_null());
		json_object_set_new(j, "stack_start", hex_json(t->stack_start));
		json_object_set_new(j, "stack_bytes", json_integer(t->stack_size));
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "threads", a);

	a = json_array();
	for (size_t i = 0; in->modules && i < in->modules->count; i++) {
		const struct md_reader_module *m = &in->modules->modules[i];
		json_t *j = json_object();

		json_object_set_new(j, "base", hex_json(m->base));
		json_object_set_new(j, "size", json_integer(m->size));
		json_object_set_new(j, "name", json_string(m->name));
		json_object_set_new(j, "code_id", str_or_null(m->code_id));
		json_object_set_new(j, "debug_id", str_or_null(m->debug_id));
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "modules", a);

	a = json_array();
	for (uint32_t i = 0; i < n_streams; i++) {
		const md_directory *d = md_reader_stream_entry(in->r, i);
		json_t *j = json_object();

		json_object_set_new(j, "type", json_integer(d->stream_type));
		json_object_set_new(j, "name", json_string(stream_name(d->stream_type)));
		json_object_set_new(j, "bytes", json_integer(d->location.data_size));
		json_array_append_new(a, j);
	}
	json_object_set_new(o, "streams", a);

	a = json_object();
	for (size_t i = 0; in->crashpad && i < in->crashpad->n_annotations; i++)
		json_object_set_new(a, in->crashpad->annotations[i].key,
		                    json_string(in->crashpad->annotations[i].value));
	json_object_set_new(o, "annotations", a);

	if (in->diag) {
		json_t *d = json_loadb(in->diag, in->diag_size, JSON_DECODE_ANY, NULL);

		json_object_set_new(o, "diagnostics", d ? d : text_json(in->diag, in->diag_size));
	} else {
		json_object_set_new(o, "diagnostics", json_null());
	}

	a = json_array();
	for (size_t i = 0; i < in->n_errors; i++)
		json_array_append_new(a, text_json(in->errors[i], strlen(in->errors[i])));
	json_object_set_new(o, "errors", a);
	return o;
}

int mdctl_inspect_main(int argc, char **argv)
{
	struct inspect in = {0};
	struct md_reader_error err;
	bool json = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_SET("json", 0, &json),
	    MD_CMDLINE_END,
	};
	int ret, status = MDCTL_EXIT_OK;

	if (!mdctl_parse_options(argc, argv, opts, usage, &status))
		return status;
	in.path = argv[optind];

	ret = md_reader_open_path(in.path, &err, &in.r);
	if (ret < 0) {
		fprintf(stderr, "mdctl: %s: %s\n", in.path, err.message);
		return MDCTL_EXIT_BAD_FILE;
	}
	load(&in);

	if (json) {
		json_t *o = build_json(&in);

		if (!o || json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			fprintf(stderr, "mdctl: %s: cannot write JSON\n", in.path);
			status = MDCTL_EXIT_FAILURE;
		}
		putchar('\n');
		json_decref(o);
	} else {
		print_text(&in);
	}
	if (fflush(stdout) != 0 && status == MDCTL_EXIT_OK) {
		fprintf(stderr, "mdctl: %s: cannot write output: %s\n", in.path,
		        md_os_strerror(errno));
		status = MDCTL_EXIT_FAILURE;
	}
	for (size_t i = 0; i < in.n_errors; i++)
		fprintf(stderr, "mdctl: %s: %s\n", in.path, in.errors[i]);
	if (in.n_errors > 0 && status == MDCTL_EXIT_OK)
		status = MDCTL_EXIT_BAD_FILE;

	free(in.diag);
	md_reader_free(in.r);
	return status;
}
