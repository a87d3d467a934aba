/* SPDX-License-Identifier: MIT */
/*
 * The integration helpers around Breakpad's tools and ELF files: a file's build id (readelf),
 * the threads of a dump (minidump_dump) and symbol files for minidump_stackwalk (dump_syms)
 * (see integration-util.h).
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integration-util.h"

#define TOOL_TIMEOUT_MS 120000 /* ms for readelf, dump_syms and minidump_dump */

int it_build_id(const char *path, char *buf, size_t size)
{
	const char *argv[] = {"readelf", "-n", path, NULL};
	struct it_result res;
	const char *p;
	int r = it_run(argv, NULL, TOOL_TIMEOUT_MS, &res);

	if (r < 0)
		return r;
	p = strstr(res.out, "Build ID: ");
	if (!res.exited || res.code != 0 || !p) {
		r = -ENOENT;
		goto out;
	}
	p += strlen("Build ID: ");
	size_t n = strspn(p, "0123456789abcdef");

	if (n == 0 || n + 1 > size) {
		r = -ERANGE;
		goto out;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	r = 0;
out:
	it_result_done(&res);
	return r;
}

/* Runs minidump_dump on a dump and returns its stdout (owned) or NULL. */
static char *dump_text(const char *dump)
{
	char *tool = it_tool("minidump_dump");
	const char *argv[] = {tool, dump, NULL};
	struct it_result res;
	char *text = NULL;

	if (it_run(argv, NULL, TOOL_TIMEOUT_MS, &res) == 0) {
		if (!res.timed_out) {
			text = res.out;
			res.out = NULL;
		}
		it_result_done(&res);
	}
	free(tool);
	return text;
}

int it_dump_tids(const char *dump, uint32_t **ret_tids)
{
	char *text = dump_text(dump);
	uint32_t *tids = NULL;
	size_t n = 0;
	bool in_thread = false;

	if (!text)
		return -EIO;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned tid;

		/* Thread ids also appear in the thread-name and exception records; only the
		 * thread_id right after an "MDRawThread" header belongs to the thread list. */
		if (strcmp(line, "MDRawThread") == 0) {
			in_thread = true;
		} else if (in_thread && sscanf(line, " thread_id = 0x%x", &tid) == 1) {
			tids = realloc(tids, (n + 1) * sizeof(*tids));
			if (!tids)
				ck_abort_msg("out of memory");
			tids[n++] = tid;
			in_thread = false;
		}
	}
	free(text);
	*ret_tids = tids;
	return (int)n;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Runs dump_syms on one file and stores its output in the symbol tree. Returns 1 when a
 * symbol file was written, 0 when dump_syms could not read the file, or -errno. */
static int symbolize(const char *file, const char *symroot)
{
	char *tool = it_tool("dump_syms");
	const char *argv[] = {tool, file, NULL};
	char os[32], arch[32], id[64], name[256];
	char *dir = NULL, *sym = NULL;
	struct it_result res;
	FILE *f;
	int r = it_run(argv, NULL, TOOL_TIMEOUT_MS, &res);

	free(tool);
	if (r < 0)
		return r;
	/* The first line names where the symbols belong: MODULE <os> <arch> <debug-id> <name>. */
	if (!res.exited || res.code != 0 ||
	    sscanf(res.out, "MODULE %31s %31s %63s %255[^\n]", os, arch, id, name) != 4) {
		r = 0;
		goto out;
	}
	if (asprintf(&dir, "%s/%s/%s", symroot, name, id) < 0 ||
	    asprintf(&sym, "%s/%s.sym", dir, name) < 0)
		ck_abort_msg("out of memory");
	r = mkdir_p(dir);
	if (r < 0)
		goto out;
	f = fopen(sym, "we");
	if (!f) {
		r = -errno;
		goto out;
	}
	if (fwrite(res.out, 1, res.out_len, f) != res.out_len)
		r = -EIO;
	if (fclose(f) != 0 && r >= 0)
		r = -EIO;
	if (r >= 0)
		r = 1;
out:
	free(sym);
	free(dir);
	it_result_done(&res);
	return r;
}

int it_make_symbols(const char *dump, const char *symroot)
{
	char *text = dump_text(dump);
	int added = 0, r = 0;

	if (!text)
		return -EIO;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char file[4096];
		struct stat st;

		if (sscanf(line, " (code_file) = \"%4095[^\"]\"", file) != 1)
			continue;
		if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
			continue; /* [vdso] and the like have no file to read */
		r = symbolize(file, symroot);
		if (r < 0)
			break;
		added += r;
	}
	free(text);
	return r < 0 ? r : added;
}
