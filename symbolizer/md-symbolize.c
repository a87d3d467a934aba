/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize: unwinds every thread of a minidump and names its frames, with elfutils. It is
 * the only program of minidumpd that parses ELF and DWARF, and it treats them (and the dump) as
 * hostile: it runs sandboxed (daemon/md-sandbox.c starts it as an unprivileged user with
 * rlimits and namespaces; it locks itself in with seccomp, sym-seccomp.c, before it reads any
 * input), it opens no file itself, and it answers one JSON document on stdout. It must never be
 * run with privileges and never be linked into the daemon. Under systemd it is instead an
 * instance of minidumpd-symbolize@.service (--request-on-stdin): the unit is its sandbox, and
 * the daemon's request on the connection (sym-request.c) brings the arguments and descriptors
 * that exec brings otherwise.
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
 * stack scan where it stops), sym-frame.c names the frames. Windows dumps have nothing libdwfl
 * can unwind: their threads get frame 0 and a stack scan (sym-scan.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "md-cmdline.h"
#include "md-os.h"
#include "sym-request.h"
#include "sym-scan.h"
#include "sym-seccomp.h"
#include "sym.h"

#define BUDGET_MS_DEFAULT 5000 /* ms after which no further thread is walked */
/* KiB of DWARF on disk read for file:line (libc6-dbg's 3.8 MiB of compressed DWARF take 60 ms
 * to inflate) */
#define DWARF_MAX_KIB_DEFAULT 1024

struct options {
	int dump_fd;                    /* -1: not given */
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
	fputs(
	    "Usage: md-symbolize --dump-fd FD [--module INDEX:FD:DEBUGFD]... [--all-threads]\n"
	    "                    [--budget-ms MS] [--debuginfod] [--debuginfod-urls URLS]\n"
	    "                    [--no-seccomp] [--dwarf-max-kib KIB (0: no limit; default 1024)]\n"
	    "       md-symbolize --request-on-stdin\n"
	    "Unwinds and symbolizes the threads of a minidump; prints JSON. Run by mdctl and\n"
	    "minidumpd inside their sandbox, or by minidumpd-symbolize@.service with the\n"
	    "daemon's request on stdin (the arguments above, and the descriptors), not by hand.\n",
	    f);
}

/* With --request-on-stdin: failures are also answered, as {"error": "..."}, to the daemon. */
static bool answer_errors;
/* Descriptors the arguments may name: with --request-on-stdin only those the request brought
 * (3 up to this, exclusive). */
static int fd_end = INT_MAX;

static int fail(const char *what, const char *detail)
{
	static bool answered; /* the daemon reads one answer: the first failure's */

	fprintf(stderr, "md-symbolize: %s%s\n", what, detail);
	if (answer_errors && !answered) {
		answered = true;
		char text[1024];
		json_t *j;

		snprintf(text, sizeof(text), "%s%s", what, detail);
		j = json_pack("{s:s}", "error", text);
		if (j && json_dumpf(j, stdout, JSON_COMPACT) == 0)
			fputc('\n', stdout);
		fflush(stdout);
		json_decref(j);
	}
	return 1;
}

/* A number from the command line or the request: digits only (a leading '-' where negative ones
 * are allowed), within [min, max]. */
static bool parse_num(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && min < 0)))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* A descriptor number: 3 or more and one the request brought, or -1 (none) where none_ok. */
static bool parse_fd(const char *s, bool none_ok, int *ret)
{
	long v;

	if (!parse_num(s, -1, INT_MAX, &v) || (v == -1 && !none_ok) || (v != -1 && v < 3) ||
	    v >= fd_end)
		return false;
	*ret = (int)v;
	return true;
}

/* --dump-fd FD */
static int parse_dump_fd(const char *arg, void *value)
{
	if (!parse_fd(arg, false, value)) {
		fail("bad --dump-fd: ", arg);
		return -EINVAL;
	}
	return 0;
}

/* --debuginfod-urls URLS: the request's way of passing what the spawn path passes in the
 * environment; the cache goes to the instance's private /tmp */
static int parse_debuginfod_urls(const char *arg, void *value)
{
	if (!*arg || setenv("DEBUGINFOD_URLS", arg, 1) < 0 ||
	    setenv("DEBUGINFOD_CACHE_PATH", "/tmp/md-symbolize-debuginfod", 1) < 0) {
		fail("bad --debuginfod-urls", "");
		return -EINVAL;
	}
	*(bool *)value = true;
	return 0;
}

/* --module INDEX:FD:DEBUGFD, added to the struct options at value. */
static int parse_module(const char *arg, void *value)
{
	struct options *o = value;
	struct sym_module_arg a;
	char idx_s[16], fd_s[16], dfd_s[16];
	int n = 0;
	void *p;

	/* INDEX:FD:DEBUGFD, nothing more */
	if (sscanf(arg, "%15[0-9]:%15[-0-9]:%15[-0-9]%n", idx_s, fd_s, dfd_s, &n) != 3 ||
	    arg[n] != 0 || !parse_num(idx_s, 0, INT_MAX, &a.index) ||
	    !parse_fd(fd_s, true, &a.fd) || !parse_fd(dfd_s, true, &a.debug_fd)) {
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
	    MD_CMDLINE_CALL("dump-fd", 0, &o->dump_fd, parse_dump_fd),
	    MD_CMDLINE_CALL("module", 0, o, parse_module),
	    MD_CMDLINE_SET("all-threads", 0, &o->all_threads),
	    MD_CMDLINE_UINT("budget-ms", 0, &o->budget_ms, 1, 3600000),
	    MD_CMDLINE_SET("debuginfod", 0, &o->debuginfod),
	    MD_CMDLINE_CALL("debuginfod-urls", 0, &o->debuginfod, parse_debuginfod_urls),
	    MD_CMDLINE_CLEAR("no-seccomp", 0, &o->seccomp),
	    MD_CMDLINE_UINT("dwarf-max-kib", 0, &o->dwarf_max_kib, 0, UINT_MAX),
	    MD_CMDLINE_END,
	};
	const struct md_cmdline cmdline = {
	    .program = "md-symbolize", .usage = usage, .opts = opts, .no_operands = true};

	*o = (struct options){.dump_fd = -1,
	                      .seccomp = true,
	                      .budget_ms = BUDGET_MS_DEFAULT,
	                      .dwarf_max_kib = DWARF_MAX_KIB_DEFAULT};
	if (answer_errors) {
		/* a request: no usage text on the connection, and only what the daemon sends */
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
				return *ret_exit = fail("--help is not a request", ""), false;
	}
	if (!md_cmdline_parse(&cmdline, argc, argv, ret_exit)) {
		if (answer_errors)
			*ret_exit = fail("a request with a bad argument", "");
		return false;
	}
	if (o->dump_fd < 0) {
		if (answer_errors) {
			*ret_exit = fail("a request without --dump-fd", "");
			return false;
		}
		usage(stderr);
		*ret_exit = 2;
		return false;
	}
	/* the daemon never asks for it; only a person debugging the helper does */
	if (answer_errors && !o->seccomp) {
		*ret_exit = fail("--no-seccomp is refused in a request", "");
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
static json_t *walk_threads(struct sym *s, struct sym_scan *scan, const struct options *o,
                            double t0, const struct md_reader_exception *exc, bool has_crash,
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
			if (scan) {
				/* the crashing thread's registers at the fault are the exception's
				 * (Windows records the thread's own where the dump was written) */
				md_location ctx =
				    crashed && exc->context.data_size ? exc->context : t->context;

				frames = sym_scan_thread(scan, t, ctx, &err);
			} else {
				frames = sym_unwind_thread(s, t, &err);
			}
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
	struct sym_scan *scan = NULL;
	char **request_argv = NULL;
	int ret;

	o.modules = NULL;
	if (argc == 2 && strcmp(argv[1], "--request-on-stdin") == 0) {
		/* an instance of minidumpd-symbolize@.service: the arguments and descriptors come
		 * from the daemon, on the connection that is stdin and stdout */
		char err[256];
		unsigned n_fds;

		answer_errors = true;
		if (sym_request_receive(0, &argc, &request_argv, &n_fds, err, sizeof(err)) < 0)
			return fail(err, "");
		argv = request_argv;
		fd_end = 3 + (int)n_fds;
	}
	if (!parse_options(argc, argv, &o, &ret))
		goto out;
	if (answer_errors) {
		/* the budget holds here as in the spawn path, where the runner kills at its end */
		alarm(o.budget_ms / 1000 + 2);
	}
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
	if (sym_scan_wanted(s.r) && sym_scan_new(s.r, &scan) < 0) {
		ret = fail("out of memory", "");
		goto out;
	}
	ret = sym_modules_load(&s, o.modules, o.n_modules, scan ? SYM_SCAN_MISSING : NULL);
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

	threads = walk_threads(&s, scan, &o, t0, exc, has_crash, crashing_tid, &walked, &truncated);
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
	sym_scan_free(scan);
	sym_done(&s);
	free(o.modules);
	free(request_argv);
	return ret;
}
