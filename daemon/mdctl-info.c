/* SPDX-License-Identifier: MIT */
/*
 * `mdctl info ID`: one dump of minidumpd's store in full: the report (time, process, signal,
 * files, annotations, errors), the uploader's state, the crashing thread, the loaded modules
 * with their build ids, and the crashing thread's stack. The stack comes from Breakpad's
 * minidump_stackwalk when it can be found ($MINIDUMP_STACKWALK, else PATH), symbolized with
 * --symbols; otherwise the crash-time program counter and stack pointer are read from the dump
 * itself. The output says which. Report and dump are untrusted: text from them is printed
 * with control characters replaced.
 *
 * This file finds the dump and drives; mdctl-info-stack.c walks the stack and
 * mdctl-info-print.c prints (mdctl-info.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "md-os.h"
#include "mdctl-info.h"
#include "mdctl-store.h"
#include "mdctl.h"
#if HAVE_SYMBOLIZER
#include "md-symbolize-run.h"
#endif

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

/* The crashing (or requesting) thread: the exception's, else the report's. */
static void load_thread(struct mdctl_info *in)
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
	struct mdctl_info in;
	char *tmp = NULL;
	size_t count = 0;
	int r, idx, ret = MDCTL_EXIT_FAILURE;

	if (!mdctl_parse_options(argc, argv, opts, usage, &ret))
		return ret;
	query = argv[optind];
	ret = mdctl_store_open("info", &so, &store, &entries, &count);
	if (ret != MDCTL_EXIT_OK)
		return ret;
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
	mdctl_info_load_stack(&in, raw, symbols);
#if HAVE_SYMBOLIZER
	if (symbolize && in.r) {
		struct mdd_symbolize_opts so_sym = {.all_threads = true};

		if (mdd_symbolize_dump(in.dump_path, &so_sym, &in.symbolized, in.symbolize_error,
		                       sizeof(in.symbolize_error)) < 0)
			in.symbolized = NULL;
	}
#else
	(void)symbolize;
#endif
	if (as_json) {
		json_t *o = mdctl_info_to_json(&in);
		char *text = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);

		if (text)
			puts(text);
		free(text);
		json_decref(o);
	} else {
		mdctl_info_print(&in, utc);
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
