/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize: unwinds every thread of a minidump and names its frames, with elfutils. It is
 * the only program of minidumpd that parses ELF and DWARF, and it treats them (and the dump) as
 * hostile: it runs sandboxed (daemon/md-sandbox.c starts it as an unprivileged user with
 * rlimits and namespaces; it locks itself in with seccomp, sym-seccomp.c, before it reads any
 * input), it opens no file itself, and it answers one JSON document on stdout. It must never be
 * run with privileges and never be linked into the daemon.
 *
 * Inputs are already-open read-only file descriptors: the dump (--dump-fd) and, per module of
 * the dump's module list, the file found at its path and the separate debug file
 * (/usr/lib/debug/.build-id/xx/rest.debug) the caller found for its build id
 * (--module INDEX:FD:DEBUGFD, -1 for none). A file is used only when its GNU build id equals
 * the one the dump recorded. With --debuginfod, libdebuginfod ($DEBUGINFOD_URLS) is asked for
 * what is still missing.
 *
 * This file reads the options, locks the process down, maps the dump and prints the answer;
 * sym-modules.c finds each module's symbols, sym-unwind.c walks the stacks (libdwfl, with a
 * stack scan where it stops), sym-frame.c names the frames.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "config.h"
#include "md-cmdline.h"
#include "md-os.h"
#include "sym-seccomp.h"
#include "sym.h"

#define BUDGET_MS_DEFAULT 5000 /* ms after which no further thread is walked */
/* KiB of DWARF on disk read for file:line (libc6-dbg's 3.8 MiB of compressed DWARF take 60 ms
 * to inflate) */
#define DWARF_MAX_KIB_DEFAULT 1024

struct options {
	unsigned dump_fd;               /* UINT_MAX: not given */
	struct sym_module_arg *modules; /* --module, at most SYM_MODULES_MAX */
	size_t n_modules;
	bool all_threads, seccomp, debuginfod;
	unsigned budget_ms;
	unsigned dwarf_max_kib;
};

static double now_ms(void)
{
	return (double)md_os_now_ns() / 1e6;
}

static void usage(FILE *f)
{
	fputs("Usage: md-symbolize --dump-fd FD [--module INDEX:FD:DEBUGFD]... [--all-threads]\n"
	      "                    [--budget-ms MS] [--debuginfod] [--no-seccomp]\n"
	      "                    [--dwarf-max-kib KIB (0: no limit; default 1024)]\n"
	      "Unwinds and symbolizes the threads of a minidump; prints JSON. Run by mdctl and\n"
	      "minidumpd inside their sandbox, not by hand.\n",
	      f);
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "md-symbolize: %s%s\n", what, detail);
	return 1;
}

/* --module INDEX:FD:DEBUGFD, added to the struct options at value. */
static int parse_module(const char *arg, void *value)
{
	struct options *o = value;
	struct sym_module_arg a;
	void *p;

	if (sscanf(arg, "%ld:%d:%d", &a.index, &a.fd, &a.debug_fd) != 3 || a.index < 0) {
		fail("bad --module: ", arg);
		return -EINVAL;
	}
	if (o->n_modules >= SYM_MODULES_MAX)
		return 0;
	p = realloc(o->modules, (o->n_modules + 1) * sizeof(*o->modules));
	if (!p) {
		fail("out of memory", "");
		return -ENOMEM;
	}
	o->modules = p;
	o->modules[o->n_modules++] = a;
	return 0;
}

/* Returns true when o is complete, else false with the exit code in *ret_exit. */
static bool parse_options(int argc, char **argv, struct options *o, int *ret_exit)
{
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_UINT("dump-fd", 0, &o->dump_fd, 0, INT_MAX),
	    MD_CMDLINE_CALL("module", 0, o, parse_module),
	    MD_CMDLINE_SET("all-threads", 0, &o->all_threads),
	    MD_CMDLINE_UINT("budget-ms", 0, &o->budget_ms, 0, UINT_MAX),
	    MD_CMDLINE_SET("debuginfod", 0, &o->debuginfod),
	    MD_CMDLINE_CLEAR("no-seccomp", 0, &o->seccomp),
	    MD_CMDLINE_UINT("dwarf-max-kib", 0, &o->dwarf_max_kib, 0, UINT_MAX),
	    MD_CMDLINE_END,
	};
	const struct md_cmdline cmdline = {
	    .program = "md-symbolize", .usage = usage, .opts = opts, .no_operands = true};

	*o = (struct options){.dump_fd = UINT_MAX,
	                      .seccomp = true,
	                      .budget_ms = BUDGET_MS_DEFAULT,
	                      .dwarf_max_kib = DWARF_MAX_KIB_DEFAULT};
	if (!md_cmdline_parse(&cmdline, argc, argv, ret_exit))
		return false;
	if (o->dump_fd == UINT_MAX) {
		usage(stderr);
		*ret_exit = 2;
		return false;
	}
	return true;
}

/* Maps the dump and opens it with the format reader. Returns -1, or the exit code. */
static int open_dump(struct sym *s, int fd)
{
	struct md_reader_error rerr;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return fail("the dump fd is not a non-empty regular file", "");
	s->map_size = (size_t)st.st_size;
	s->map = mmap(NULL, s->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return fail("mmap of the dump: ", strerror(errno));
	}
	if (md_reader_open_buffer(s->map, s->map_size, &rerr, &s->r) < 0)
		return fail("not a readable minidump: ", rerr.message);
	if (sym_memory_load(s) < 0)
		return fail("out of memory", "");
	if (md_reader_threads(s->r, &s->threads) < 0)
		return fail("no thread list: ", md_reader_error(s->r));
	return -1;
}

/* The crashing thread first, then (with --all-threads) the others in dump order, while the
 * budget lasts. Returns the threads as JSON. */
static json_t *walk_threads(struct sym *s, const struct options *o, double t0, bool has_crash,
                            uint32_t crashing_tid, size_t *ret_walked, bool *ret_truncated)
{
	json_t *threads = json_array();

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->threads->count; i++) {
			const struct md_reader_thread *t = &s->threads->threads[i];
			bool crashed = has_crash && t->tid == crashing_tid;
			bool first = crashed || (!has_crash && i == 0);
			const char *err = NULL, *name;
			json_t *frames, *th;

			if (pass == 0 ? !first : first)
				continue;
			if (pass == 1 && !o->all_threads)
				break;
			if (pass == 1 && now_ms() - t0 > (double)o->budget_ms * 0.8) {
				*ret_truncated = true;
				break;
			}
			frames = sym_unwind_thread(s, t, &err);
			(*ret_walked)++;
			th = json_pack("{s:I, s:b}", "tid", (json_int_t)t->tid, "crashed", crashed);
			name = md_reader_thread_name(s->r, t->tid);
			if (name)
				json_object_set_new(th, "name", json_string(name));
			json_object_set_new(th, "frames", frames ? frames : json_array());
			if (err)
				json_object_set_new(th, "error", json_string(err));
			json_array_append_new(threads, th);
		}
	}
	return threads;
}

static void sym_done(struct sym *s)
{
	if (s->dwfl)
		dwfl_end(s->dwfl);
	if (s->arch_elf)
		elf_end(s->arch_elf); /* libdwfl does not take it over */
	if (s->dclient)
		debuginfod_end(s->dclient);
	md_reader_free(s->r);
	free(s->by_base);
	free(s->modules);
	free(s->ranges);
	if (s->map)
		munmap((void *)s->map, s->map_size);
}

int main(int argc, char **argv)
{
	struct options o;
	struct sym s = {0};
	const struct md_reader_exception *exc = NULL;
	double t0 = now_ms();
	uint32_t crashing_tid = 0;
	bool has_crash = false, truncated = false;
	json_t *out = NULL, *threads;
	size_t walked = 0;
	int ret;

	if (!parse_options(argc, argv, &o, &ret))
		goto out;
	s.debuginfod = o.debuginfod;
	s.dwarf_max = (uint64_t)o.dwarf_max_kib << 10;
	if (s.debuginfod) {
		/* before the lock-down: libdebuginfod reads its configuration now */
		s.dclient = debuginfod_begin();
	}
	/* Nothing untrusted has been read yet; from here on the process may only compute on
	 * the fds it was given (and, with debuginfod, talk to the network). */
	if (o.seccomp) {
		ret = sym_seccomp_lock(s.debuginfod);
		if (ret < 0) {
			ret = fail("seccomp: ", strerror(-ret));
			goto out;
		}
	}
	ret = open_dump(&s, (int)o.dump_fd);
	if (ret >= 0)
		goto out;
	if (md_reader_exception(s.r, &exc) == 0 &&
	    exc->code != MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED) {
		crashing_tid = exc->thread_id;
		has_crash = true;
	}
	ret = sym_modules_load(&s, o.modules, o.n_modules);
	if (ret == -ENOMEM) {
		ret = fail("out of memory", "");
		goto out;
	}
	if (ret < 0) {
		ret = fail("dwfl_begin: ", dwfl_errmsg(-1));
		goto out;
	}
	if (sym_unwind_attach(&s) < 0) {
		ret = fail("dwfl_attach_state: ", dwfl_errmsg(-1));
		goto out;
	}

	threads = walk_threads(&s, &o, t0, has_crash, crashing_tid, &walked, &truncated);
	out = json_object();
	json_object_set_new(
	    out, "symbolizer",
	    json_pack("{s:s, s:s, s:f, s:I, s:I, s:b, s:o}", "version", MD_VERSION_STRING,
	              "elfutils", dwfl_version(s.dwfl) ? dwfl_version(s.dwfl) : "", "elapsed_ms",
	              now_ms() - t0, "threads_walked", (json_int_t)walked, "threads_total",
	              (json_int_t)s.threads->count, "truncated", truncated, "missing",
	              sym_modules_missing(&s)));
	if (has_crash)
		json_object_set_new(out, "crashing_tid", json_integer(crashing_tid));
	json_object_set_new(out, "threads", threads);
	ret = json_dumpf(out, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF &&
	              fflush(stdout) == 0
	          ? 0
	          : 1;
out:
	json_decref(out);
	sym_done(&s);
	free(o.modules);
	return ret;
}
