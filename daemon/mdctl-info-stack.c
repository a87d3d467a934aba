/* SPDX-License-Identifier: MIT */
/*
 * `mdctl info`'s stack of the crashing thread: walked by Breakpad's minidump_stackwalk when it
 * can be found ($MINIDUMP_STACKWALK, else PATH), symbolized with --symbols; otherwise frame 0,
 * the crash-time program counter and stack pointer, read from the dump itself. The tool's
 * output is untrusted like the dump: at most STACK_FRAMES_MAX frames of it are kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "mdctl-info.h"
#include "mdctl.h"

#define STACKWALK_TIMEOUT_MS 120000                /* ms minidump_stackwalk may take */
#define STACKWALK_OUTPUT_MAX (64u * 1024u * 1024u) /* bytes of its output kept */
#define STACK_FRAMES_MAX     256                   /* frames shown for the crashing thread */

/* The module holding addr, or NULL. */
static const struct md_reader_module *module_at(const struct mdctl_info *in, uint64_t addr)
{
	for (size_t i = 0; in->modules && i < in->modules->count; i++) {
		const struct md_reader_module *m = &in->modules->modules[i];

		if (addr >= m->base && addr - m->base < m->size)
			return m;
	}
	return NULL;
}

const char *mdctl_info_base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

/* Frame 0 from the dump: the exception's context (the registers at the fault), else the
 * thread's own context. */
static void raw_stack(struct mdctl_info *in)
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
			json_object_set_new(frame, "module",
			                    json_string(mdctl_info_base_name(m->name)));
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
static int stackwalk(struct mdctl_info *in, const char *tool, const char *symbols)
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

void mdctl_info_load_stack(struct mdctl_info *in, bool raw, const char *symbols)
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
