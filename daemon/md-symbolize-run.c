/* SPDX-License-Identifier: MIT */
/*
 * Symbolizing a stored minidump with md-symbolize in the sandbox (see md-symbolize-run.h): our
 * own (md-sandbox.c), or systemd's (md-sandbox-socket.c, with opts->socket). This side reads only
 * the dump, with the defensive reader; the dump, module files and debug files are opened
 * read-only (regular files only, no controlling tty, non-blocking) and handed over unread. The
 * helper's answer is checked for shape before anyone uses it. Never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "md-reader.h"
#include "md-sandbox.h"
#include "md-symbolize-run.h"
#include "md-zstd.h"

#define ARG_MAX_BYTES 64 /* bytes of one "--module=INDEX:FD:FD" argument */

const char *mdd_symbolize_helper(const char *opt)
{
	const char *env = getenv("MD_SYMBOLIZE");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return MD_SYMBOLIZE_PATH;
}

/* A regular file opened read-only, or -1. */
static int open_regular(const char *path)
{
	struct stat st;
	int fd;

	if (!path || path[0] != '/')
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The dump as a plain file descriptor: the file itself, or a decompressed unlinked copy. */
static int open_dump(const char *path, char *reason, size_t reason_size)
{
	const char *tmpdir = getenv("TMPDIR");
	char head[4], tmp[4096];
	ssize_t n;
	int fd, out, r;

	fd = open_regular(path[0] == '/' ? path : NULL);
	if (fd < 0 && path[0] != '/')
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno ? -errno : -EINVAL;
		snprintf(reason, reason_size, "%s: %s", path, strerror(-r));
		return r;
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0 || !md_zstd_is_compressed(head, (size_t)n))
		return fd;
	snprintf(tmp, sizeof(tmp), "%s/md-symbolize-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		r = -errno;
		snprintf(reason, reason_size, "decompressing %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	unlink(tmp);
	r = md_zstd_decompress_fd(fd, out, MDD_SYMBOLIZE_ZSTD_MAX);
	close(fd);
	if (r < 0) {
		snprintf(reason, reason_size, "decompressing %s: %s", path, strerror(-r));
		close(out);
		return r;
	}
	/* the helper gets it read-only, as every other file (the socket's helper insists) */
	snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", out);
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	close(out);
	if (r < 0)
		snprintf(reason, reason_size, "decompressing %s: reopening: %s", path,
		         strerror(-r));
	return r < 0 ? r : fd;
}

/* The helper's answer must be an object with a "threads" array of objects with "frames". */
static bool answer_ok(json_t *j)
{
	json_t *threads = json_object_get(j, "threads"), *t;
	size_t i;

	if (!json_is_object(j) || !json_is_array(threads) ||
	    !json_is_object(json_object_get(j, "symbolizer")))
		return false;
	json_array_foreach(threads, i, t)
	{
		if (!json_is_object(t) || !json_is_array(json_object_get(t, "frames")) ||
		    !json_is_integer(json_object_get(t, "tid")))
			return false;
	}
	return true;
}

int mdd_symbolize_dump(const char *path, const struct mdd_symbolize_opts *opts, json_t **ret_json,
                       char *reason, size_t reason_size)
{
	const char *debug_dir = opts->debug_dir ? opts->debug_dir : MDD_SYMBOLIZE_DEBUG_DIR;
	bool dinfod = opts->debuginfod_urls && *opts->debuginfod_urls;
	const struct md_reader_module_list *mods = NULL;
	struct md_reader *rd = NULL;
	struct md_reader_error rerr;
	struct mdd_sandbox_result res = {0};
	int *fds = NULL;
	char **argv = NULL, *args = NULL, budget[32], urls[4200] = "";
	size_t n_fds = 0, n_argv = 0, n_mods = 0;
	json_error_t jerr;
	json_t *j = NULL;
	int dump_fd, r;

	reason[0] = 0;
	dump_fd = open_dump(path, reason, reason_size);
	if (dump_fd < 0)
		return dump_fd;
	{
		/* the reader reads the module list through its own descriptor of the same file */
		char self[64];

		snprintf(self, sizeof(self), "/proc/self/fd/%d", dump_fd);
		r = md_reader_open_file(self, &rerr, &rd);
	}
	if (r < 0) {
		snprintf(reason, reason_size, "not a readable minidump: %s", rerr.message);
		goto out;
	}
	if (md_reader_modules(rd, &mods) == 0)
		n_mods = mods->count;
	/* each module gives at most two descriptors; the dump is one */
	if (n_mods > (MDD_SANDBOX_FDS_MAX - 1) / 2)
		n_mods = (MDD_SANDBOX_FDS_MAX - 1) / 2;
	fds = calloc(1 + 2 * n_mods, sizeof(*fds));
	argv = calloc(10 + n_mods, sizeof(*argv));
	args = calloc(n_mods ? n_mods : 1, ARG_MAX_BYTES);
	if (!fds || !argv || !args) {
		r = -ENOMEM;
		snprintf(reason, reason_size, "out of memory");
		goto out;
	}
	fds[n_fds++] = dump_fd;
	argv[n_argv++] = (char *)"md-symbolize";
	argv[n_argv++] = (char *)"--dump-fd=3";
	snprintf(budget, sizeof(budget), "--budget-ms=%u",
	         opts->budget_ms ? opts->budget_ms : MDD_SYMBOLIZE_BUDGET_MS);
	argv[n_argv++] = budget;
	if (opts->all_threads)
		argv[n_argv++] = (char *)"--all-threads";
	if (dinfod && opts->socket) {
		/* the service's environment is its unit's: the servers go in the request */
		snprintf(urls, sizeof(urls), "--debuginfod-urls=%s", opts->debuginfod_urls);
		argv[n_argv++] = urls;
	} else if (dinfod) {
		argv[n_argv++] = (char *)"--debuginfod";
	}
	if (opts->full_debug)
		argv[n_argv++] = (char *)"--dwarf-max-kib=0";
	for (size_t i = 0; i < n_mods; i++) {
		const struct md_reader_module *m = &mods->modules[i];
		int fd = open_regular(m->name), dfd = -1, fd_no = -1, dfd_no = -1;

		if (m->cv == MD_READER_CV_ELF && m->build_id_len >= 2) {
			char p[4096];

			/* the code id is the build id in lowercase hex */
			snprintf(p, sizeof(p), "%s/.build-id/%.2s/%s.debug", debug_dir, m->code_id,
			         m->code_id + 2);
			dfd = open_regular(p);
		}
		if (fd < 0 && dfd < 0)
			continue;
		if (fd >= 0) {
			fd_no = 3 + (int)n_fds;
			fds[n_fds++] = fd;
		}
		if (dfd >= 0) {
			dfd_no = 3 + (int)n_fds;
			fds[n_fds++] = dfd;
		}
		snprintf(args + i * ARG_MAX_BYTES, ARG_MAX_BYTES, "--module=%zu:%d:%d", i, fd_no,
		         dfd_no);
		argv[n_argv++] = args + i * ARG_MAX_BYTES;
	}
	argv[n_argv] = NULL;
	{
		const char *env[3] = {NULL, NULL, NULL};
		struct mdd_sandbox sb = {
		    .program = mdd_symbolize_helper(opts->helper),
		    .argv = argv,
		    .fds = fds,
		    .n_fds = n_fds,
		    .budget_ms = opts->budget_ms ? opts->budget_ms : MDD_SYMBOLIZE_BUDGET_MS,
		    .user = opts->user,
		    .network = dinfod,
		    .env = env,
		};

		if (dinfod && !opts->socket) {
			snprintf(urls, sizeof(urls), "DEBUGINFOD_URLS=%s", opts->debuginfod_urls);
			env[0] = urls;
			/* the private /tmp of the sandbox (or the system's, unprivileged) */
			env[1] = "DEBUGINFOD_CACHE_PATH=/tmp/md-symbolize-debuginfod";
		}
		r = opts->socket ? mdd_sandbox_request(opts->socket, &sb, &res)
		                 : mdd_sandbox_run(&sb, &res);
		if (r < 0) {
			snprintf(reason, reason_size, "md-symbolize %s", res.reason);
			goto out;
		}
	}
	j = json_loadb(res.out, res.out_len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_string(json_object_get(j, "error")) && !json_object_get(j, "threads")) {
		/* the helper could not do it, and said why (the socket's helper answers so) */
		snprintf(reason, reason_size, "md-symbolize failed: %s",
		         json_string_value(json_object_get(j, "error")));
		json_decref(j);
		j = NULL;
		r = -ECHILD;
		goto out;
	}
	if (!j || !answer_ok(j)) {
		snprintf(reason, reason_size, "md-symbolize answered garbage: %s",
		         j ? "not the expected object" : jerr.text);
		json_decref(j);
		j = NULL;
		r = -EBADMSG;
		goto out;
	}
	/* the whole run as the caller saw it: sandbox set-up and exec included */
	json_object_set_new(json_object_get(j, "symbolizer"), "wall_ms", json_real(res.elapsed_ms));
	*ret_json = j;
	r = 0;
out:
	free(res.out);
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	if (n_fds == 0)
		close(dump_fd);
	free(fds);
	free(argv);
	free(args);
	md_reader_free(rd);
	return r;
}

void mdd_symbolize_frame_text(json_t *f, char *buf, size_t size)
{
	const char *fn = json_string_value(json_object_get(f, "function"));
	const char *mod = json_string_value(json_object_get(f, "module"));
	const char *file = json_string_value(json_object_get(f, "file"));
	json_int_t line = json_integer_value(json_object_get(f, "line"));
	json_int_t off = json_integer_value(json_object_get(f, "offset"));
	json_int_t pc = json_integer_value(json_object_get(f, "pc"));

	if (fn && file && line > 0) {
		const char *base = strrchr(file, '/');

		snprintf(buf, size, "%s() at %s:%lld", fn, base ? base + 1 : file, (long long)line);
	} else if (fn) {
		snprintf(
		    buf, size, "%s()+0x%llx", fn,
		    (unsigned long long)json_integer_value(json_object_get(f, "function_offset")));
	} else if (mod) {
		snprintf(buf, size, "%s + 0x%llx", mod, (unsigned long long)off);
	} else {
		snprintf(buf, size, "0x%llx", (unsigned long long)pc);
	}
}

json_t *mdd_symbolize_report(const char *path, const struct mdd_symbolize_opts *opts,
                             char **ret_crashed_in)
{
	struct mdd_symbolize_opts o = *opts;
	char reason[MDD_SYMBOLIZE_REASON_MAX];
	json_t *res = json_object(), *j = NULL, *threads, *t, *sym;
	size_t i;
	int r;

	*ret_crashed_in = NULL;
	o.all_threads = true;
	r = mdd_symbolize_dump(path, &o, &j, reason, sizeof(reason));
	if (r < 0) {
		json_object_set_new(
		    res, "symbolizer",
		    json_pack("{s:s, s:s}", "version", MD_VERSION_STRING, "error", reason));
		return res;
	}
	sym = json_object_get(j, "symbolizer");
	json_object_set(res, "symbolizer", sym);
	threads = json_array();
	json_array_foreach(json_object_get(j, "threads"), i, t)
	{
		json_t *frames = json_object_get(t, "frames");

		if (json_is_true(json_object_get(t, "crashed")) ||
		    (i == 0 && !json_object_get(j, "crashing_tid"))) {
			char text[512];

			json_object_set(res, "stack", frames);
			if (json_array_size(frames)) {
				mdd_symbolize_frame_text(json_array_get(frames, 0), text,
				                         sizeof(text));
				*ret_crashed_in = strdup(text);
			}
			continue;
		}
		json_array_append(threads, t);
	}
	json_object_set_new(res, "threads", threads);
	json_decref(j);
	return res;
}
