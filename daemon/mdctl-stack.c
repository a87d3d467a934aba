/* SPDX-License-Identifier: MIT */
/*
 * mdctl stack FILE: every thread's stack of any minidump, unwound and symbolized by md-symbolize
 * in its sandbox (md-symbolize-run.c); printed like `coredumpctl info` or as the helper's JSON.
 * Also the printer `mdctl info` uses. mdctl never parses ELF or DWARF itself: a helper that
 * fails, hangs or answers garbage is an error message, never a crash of mdctl.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* optind */

#include "md-symbolize-run.h"
#include "mdctl.h"

static void usage(FILE *f)
{
	fputs("Usage: mdctl stack FILE [--json] [--all-threads] [--debuginfod] [--debug-dir DIR]\n"
	      "\n"
	      "Unwinds and symbolizes the threads of a minidump (the crashing one, or with\n"
	      "--all-threads every one) with md-symbolize, sandboxed. Module files are taken\n"
	      "from their paths when their build id matches the dump's, else from\n"
	      "DIR/.build-id/xx/rest.debug (default /usr/lib/debug), else, with --debuginfod,\n"
	      "from the servers in $DEBUGINFOD_URLS.\n"
	      "\n"
	      "  -j, --json          the helper's JSON answer\n"
	      "  -a, --all-threads   every thread, not only the crashing one\n"
	      "      --debuginfod    ask $DEBUGINFOD_URLS for missing files (network)\n"
	      "      --debug-dir DIR where .build-id/ debug files are\n"
	      "      --budget-ms MS  time the helper may take (default 10000)\n"
	      "      --full-debug    file:line from every module's DWARF, however large (by\n"
	      "                      default modules with over 1 MiB of it, like libc's, get\n"
	      "                      names from their symbol table only: inflating costs time)\n"
	      "  -h, --help          this text\n"
	      "\n"
	      "$MD_SYMBOLIZE names another helper program.\n",
	      f);
}

static void print_thread(json_t *t, FILE *f)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	const char *err = json_string_value(json_object_get(t, "error"));
	json_t *frames = json_object_get(t, "frames"), *fr;
	size_t i;

	fprintf(f, "Stack trace of thread %lld%s%s%s%s:\n",
	        (long long)json_integer_value(json_object_get(t, "tid")), name ? " (" : "",
	        name ? name : "", name ? ")" : "",
	        json_is_true(json_object_get(t, "crashed")) ? ", crashed" : "");
	if (err)
		fprintf(f, "  (not unwound: %s)\n", err);
	json_array_foreach(frames, i, fr)
	{
		const char *fn = json_string_value(json_object_get(fr, "function"));
		const char *mod = json_string_value(json_object_get(fr, "module"));
		const char *file = json_string_value(json_object_get(fr, "file"));
		const char *by = json_string_value(json_object_get(fr, "found_by"));
		const char *missing = json_string_value(json_object_get(fr, "missing"));
		json_int_t line = json_integer_value(json_object_get(fr, "line"));

		fprintf(f, "  #%-3zu 0x%016llx %s", i,
		        (unsigned long long)json_integer_value(json_object_get(fr, "pc")),
		        fn ? fn : "n/a");
		if (mod)
			fprintf(
			    f, " (%s + 0x%llx)", mod,
			    (unsigned long long)json_integer_value(json_object_get(fr, "offset")));
		if (file && line > 0) {
			const char *base = strrchr(file, '/');

			fprintf(f, " at %s:%lld", base ? base + 1 : file, (long long)line);
		}
		if (by && strcmp(by, "scan") == 0)
			fputs(" [found by stack scan]", f);
		if (!fn && missing)
			fprintf(f, " [%s]", missing);
		fputc('\n', f);
	}
	if (json_array_size(frames) == 0 && !err)
		fputs("  (no frames)\n", f);
}

void mdctl_print_stacks(json_t *answer, FILE *f)
{
	json_t *sym = json_object_get(answer, "symbolizer"), *t, *m;
	size_t i;

	json_array_foreach(json_object_get(answer, "threads"), i, t)
	{
		if (i)
			fputc('\n', f);
		print_thread(t, f);
	}
	if (json_array_size(json_object_get(sym, "missing")))
		fputs("\nMissing symbols:\n", f);
	json_array_foreach(json_object_get(sym, "missing"), i, m)
	    fprintf(f, "  %s: %s\n", json_string_value(json_object_get(m, "module")),
	            json_string_value(json_object_get(m, "reason")));
	if (json_is_true(json_object_get(sym, "truncated")))
		fputs("(more threads were not unwound: time budget)\n", f);
}

int mdctl_stack_main(int argc, char **argv)
{
	struct mdd_symbolize_opts o = {0};
	char reason[MDD_SYMBOLIZE_REASON_MAX];
	bool json = false, debuginfod = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_SET("json", 'j', &json),
	    MD_CMDLINE_SET("all-threads", 'a', &o.all_threads),
	    MD_CMDLINE_SET("debuginfod", 0, &debuginfod),
	    MD_CMDLINE_STRING("debug-dir", 0, &o.debug_dir),
	    MD_CMDLINE_UINT("budget-ms", 0, &o.budget_ms, 1, 600000),
	    MD_CMDLINE_SET("full-debug", 0, &o.full_debug),
	    MD_CMDLINE_END,
	};
	json_t *answer = NULL;
	int r;

	if (!mdctl_parse_options(argc, argv, opts, usage, &r))
		return r;
	if (debuginfod) {
		o.debuginfod_urls = getenv("DEBUGINFOD_URLS");
		if (!o.debuginfod_urls || !*o.debuginfod_urls) {
			fputs("mdctl stack: --debuginfod needs $DEBUGINFOD_URLS\n", stderr);
			return MDCTL_EXIT_USAGE;
		}
	}
	r = mdd_symbolize_dump(argv[optind], &o, &answer, reason, sizeof(reason));
	if (r < 0) {
		fprintf(stderr, "mdctl stack: %s\n", reason);
		return r == -EBADMSG && strstr(reason, "not a readable minidump")
		           ? MDCTL_EXIT_BAD_FILE
		       : r == -ENOENT || r == -EACCES || r == -EISDIR ? MDCTL_EXIT_BAD_FILE
		                                                      : MDCTL_EXIT_FAILURE;
	}
	if (json) {
		json_dumpf(answer, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		mdctl_print_stacks(answer, stdout);
	}
	json_decref(answer);
	return MDCTL_EXIT_OK;
}
