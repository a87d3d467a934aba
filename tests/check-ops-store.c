/* SPDX-License-Identifier: MIT */
/*
 * Operations suite, the store: mdctl list, info and rm are run against a store made by the
 * real daemon from real crashes of tests/crash-app, and judged against the files, the reports,
 * nm and Breakpad's tools. Every process started here is reaped by the test that started it.
 */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "daemon-util.h"
#include "integration-util.h"
#include "ops-util.h"

/* ---- dumps ---- */

/* The id of pid's dump (the report's file name without .json). */
static char *dump_id(pid_t pid)
{
	char *report = find_dump(pid, "json"), *slash, *id;

	ck_assert_msg(report != NULL, "no report for pid %d; log: %s", (int)pid,
	              it_read_file(D.log, NULL));
	slash = strrchr(report, '/');
	id = strndup(slash + 1, strlen(slash + 1) - 5);
	free(report);
	return id;
}

/* ---- mdctl against a store made by the daemon ---- */

static pid_t P_SEGV, P_ABORT, P_NOW;

static void store_setup(void)
{
	struct app_run run;

	daemon_start();
	run = run_app("segv", "test.key=ops-segv", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGSEGV);
	P_SEGV = run.pid;
	it_result_done(&run.res);
	run = run_app_opts("abort", NULL, NULL);
	ck_assert_int_eq(run.res.sig, SIGABRT);
	P_ABORT = run.pid;
	it_result_done(&run.res);
	run = run_app_opts("dump-now", NULL, NULL);
	ck_assert_msg(run.res.exited && run.res.code == 0, "dump-now: %s",
	              it_result_status(&run.res));
	P_NOW = run.pid;
	it_result_done(&run.res);
}

/* Runs mdctl with args (NULL-terminated) and extra env (NULL-terminated, may be NULL). */

/* Rows of a tab-separated table (header first); returns the count, fields in ret. */
#define MAX_ROWS 64
static int table(char *out, char *ret[MAX_ROWS][7])
{
	char *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(out, "\n", &save); line && n < MAX_ROWS;
	     line = strtok_r(NULL, "\n", &save), n++) {
		char *f, *fsave = NULL;
		int k = 0;

		for (f = strtok_r(line, "\t", &fsave); f && k < 7; f = strtok_r(NULL, "\t", &fsave))
			ret[n][k++] = f;
		ck_assert_msg(k == 7 && !f, "row %d has %d fields", n, k);
	}
	return n;
}

static int row_of(char *rows[MAX_ROWS][7], int n, pid_t pid)
{
	char want[16];

	snprintf(want, sizeof(want), "%d", (int)pid);
	for (int i = 1; i < n; i++)
		if (strcmp(rows[i][1], want) == 0)
			return i;
	return -1;
}

START_TEST(list_shows_every_dump_through_the_daemon)
{
	/* no --dump-dir: mdctl asks the daemon where the store is */
	struct it_result r = MDCTL("list", "--socket", D.sock);
	char *rows[MAX_ROWS][7];
	const struct {
		pid_t pid;
		const char *sig;
	} want[] = {{P_SEGV, "SIGSEGV"}, {P_ABORT, "SIGABRT"}, {P_NOW, "-"}};
	int n;

	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	n = table(r.out, rows);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(rows[0][0], "TIME");
	ck_assert_str_eq(rows[0][6], "ID");
	for (size_t i = 0; i < 3; i++) {
		int k = row_of(rows, n, want[i].pid);
		char uid[16], *dmp = find_dump(want[i].pid, "dmp"), *id = dump_id(want[i].pid),
		              size[32];
		struct stat st;

		ck_assert_msg(k > 0, "pid %d not listed", (int)want[i].pid);
		snprintf(uid, sizeof(uid), "%d", (int)getuid());
		ck_assert_str_eq(rows[k][2], uid);
		ck_assert_str_eq(rows[k][3], want[i].sig);
		ck_assert_str_eq(rows[k][4], it_env("CRASH_APP"));
		ck_assert_int_eq(stat(dmp, &st), 0);
		snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
		ck_assert_str_eq(rows[k][5], size);
		ck_assert_str_eq(rows[k][6], id);
		free(dmp);
		free(id);
	}
	/* oldest first */
	ck_assert_int_lt(row_of(rows, n, P_SEGV), row_of(rows, n, P_NOW));
	it_result_done(&r);
}
END_TEST

START_TEST(list_filters_and_json)
{
	char pid[16];
	struct it_result r;
	char *rows[MAX_ROWS][7];
	json_t *j;

	snprintf(pid, sizeof(pid), "%d", (int)P_ABORT);
	r = MDCTL("list", "--dump-dir", D.dumps, "--pid", pid, "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(table(r.out, rows), 1);
	ck_assert_str_eq(rows[0][1], pid);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", "crash-app", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", it_env("CRASH_APP"), "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--exe", "/usr/bin/true", "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "1h", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "2099-01-01", "--no-legend");
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--until", "2000-01-01T00:00Z", "--no-legend");
	ck_assert_str_eq(r.out, "");
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--since", "yesterday-ish");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--kind", "dump-now", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 1);
	snprintf(pid, sizeof(pid), "%d", (int)P_NOW);
	ck_assert_str_eq(rows[0][1], pid);
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "-n", "1", "-r", "--no-legend");
	ck_assert_int_eq(table(r.out, rows), 1);
	ck_assert_str_eq(rows[0][1], pid); /* the newest */
	it_result_done(&r);

	r = MDCTL("list", "--dump-dir", D.dumps, "--json");
	ck_assert_int_eq(r.code, 0);
	j = json_loads(r.out, 0, NULL);
	ck_assert_msg(json_is_array(j), "not a JSON array: %s", r.out);
	ck_assert_int_eq(json_array_size(j), 3);
	{
		json_t *e = json_array_get(j, 0);
		char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp");

		ck_assert_str_eq(json_string_value(json_object_get(e, "id")), id);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "pid")), P_SEGV);
		ck_assert_str_eq(json_string_value(json_object_get(e, "signal")), "SIGSEGV");
		ck_assert_str_eq(json_string_value(json_object_get(e, "kind")), "crash");
		ck_assert_str_eq(json_string_value(json_object_get(e, "dump")), dmp);
		ck_assert(json_is_null(json_object_get(e, "upload")));
		free(id);
		free(dmp);
	}
	json_decref(j);
	it_result_done(&r);

	r = MDCTL("list", "--pid", "abc");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
}
END_TEST

START_TEST(list_survives_junk_and_shows_records_without_dumps)
{
	char path[512], *rows[MAX_ROWS][7];
	struct it_result r;
	FILE *f;
	int n, k = -1;

	/* a broken report, a temporary file, and a crash-loop record with no dump */
	snprintf(path, sizeof(path), "%s/broken.json", D.dumps);
	f = fopen(path, "w");
	fputs("{\"pid\": ", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/.md-1-0000.tmp", D.dumps);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/loop.77.20261128T000000Z.77.json", D.dumps);
	f = fopen(path, "w");
	fputs(
	    "{\"id\": \"loop.77.20261128T000000Z.77\", \"kind\": \"crash\", \"rate_limited\": true,"
	    " \"pid\": 77, \"uid\": 0, \"signal\": \"SIGSEGV\", \"time\": \"2026-11-28T00:00:00Z\","
	    " \"executable\": \"/opt/x\\u001b[31mred\"}",
	    f);
	fclose(f);

	r = MDCTL("list", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "broken.json"));
	ck_assert_ptr_null(strchr(r.out, '\x1b')); /* no escape sequence reaches the terminal */
	n = table(r.out, rows);
	ck_assert_int_eq(n, 5);
	for (int i = 1; i < n; i++)
		if (strcmp(rows[i][1], "77") == 0)
			k = i;
	ck_assert_int_gt(k, 0);
	ck_assert_str_eq(rows[k][5], "-");
	ck_assert_str_eq(rows[k][4], "/opt/x\\x1b[31mred");
	it_result_done(&r);
}
END_TEST

/* The value and size of a function symbol of the binary, from nm. */
static void symbol_range(const char *bin, const char *fn, uint64_t *ret_start, uint64_t *ret_size)
{
	const char *argv[] = {"nm", "-S", "--defined-only", bin, NULL};
	struct it_result r;
	char *line, *save = NULL;
	bool found = false;

	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &r), 0);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v, s;
		char type, name[256];

		if (sscanf(line, "%llx %llx %c %255s", &v, &s, &type, name) == 4 &&
		    strcmp(name, fn) == 0) {
			*ret_start = v;
			*ret_size = s;
			found = true;
		}
	}
	ck_assert_msg(found, "%s not in nm %s", fn, bin);
	it_result_done(&r);
}

START_TEST(info_with_stackwalk_names_the_crashing_function)
{
	char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp"), symroot[512], walker[600],
	     build_id[128];
	char *tool = it_tool("minidump_stackwalk");
	const char *env[] = {walker, NULL};
	struct it_result r;
	json_t *j, *stack, *frame0, *mods, *m;
	size_t i;
	bool found = false;

	snprintf(symroot, sizeof(symroot), "%s/symbols", D.dir);
	mkdir(symroot, 0755);
	ck_assert_int_ge(it_make_symbols(dmp, symroot), 1);
	snprintf(walker, sizeof(walker), "MINIDUMP_STACKWALK=%s", tool);

	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--symbols", symroot, "--json");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	j = json_loads(r.out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(j, "crashing_thread"), "tid")),
	    P_SEGV);
	stack = json_object_get(j, "stack");
	ck_assert_str_eq(json_string_value(json_object_get(stack, "source")), "minidump_stackwalk");
	frame0 = json_array_get(json_object_get(stack, "frames"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "function")), "crash_segv");
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "module")), "crash-app");
	/* modules with build ids, as readelf sees them */
	ck_assert_int_eq(it_build_id(it_env("CRASH_APP"), build_id, sizeof(build_id)), 0);
	mods = json_object_get(j, "module_list");
	json_array_foreach(mods, i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "name")), it_env("CRASH_APP")) ==
		    0) {
			ck_assert_str_eq(json_string_value(json_object_get(m, "code_id")),
			                 build_id);
			found = true;
		}
	}
	ck_assert_msg(found, "crash-app not among the modules");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "annotations"), "test.key")),
	    "ops-segv");
	json_decref(j);
	it_result_done(&r);

	/* the text says the same, and says which way the stack was read */
	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--symbols", symroot);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "walked by minidump_stackwalk"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app!crash_segv"));
	ck_assert_ptr_nonnull(strstr(r.out, "SIGSEGV (11)"));
	ck_assert_ptr_nonnull(strstr(r.out, "test.key = ops-segv"));
	ck_assert_ptr_nonnull(strstr(r.out, build_id));
	ck_assert_ptr_nonnull(strstr(r.out, "Upload: -"));
	it_result_done(&r);
	free(id);
	free(dmp);
	free(tool);
}
END_TEST

START_TEST(info_without_stackwalk_reads_frame0_from_the_dump)
{
	char *id = dump_id(P_SEGV);
	const char *env[] = {"MINIDUMP_STACKWALK=/nonexistent/minidump_stackwalk", NULL};
	struct it_result r;
	uint64_t start = 0, size = 0, off;
	json_t *j, *stack, *frame0;

	symbol_range(it_env("CRASH_APP"), "crash_segv", &start, &size);
	r = MDCTL_ENV(env, "info", id, "--dump-dir", D.dumps, "--json");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	j = json_loads(r.out, 0, NULL);
	stack = json_object_get(j, "stack");
	ck_assert_str_eq(json_string_value(json_object_get(stack, "source")), "dump");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(stack, "note")), "not executable"));
	frame0 = json_array_get(json_object_get(stack, "frames"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(frame0, "module")), "crash-app");
	off = (uint64_t)json_integer_value(json_object_get(frame0, "offset"));
	ck_assert_msg(off >= start && off < start + size,
	              "frame 0 at crash-app+0x%llx, crash_segv is 0x%llx..0x%llx",
	              (unsigned long long)off, (unsigned long long)start,
	              (unsigned long long)(start + size));
	ck_assert_int_ne(json_integer_value(json_object_get(frame0, "sp")), 0);
	json_decref(j);
	it_result_done(&r);

	r = MDCTL("info", id, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "frame 0 read from the dump"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app + 0x"));
	it_result_done(&r);
	free(id);
}
END_TEST

START_TEST(info_ids_prefixes_and_upload_state)
{
	char *id = dump_id(P_ABORT), prefix[64], state_dir[512], path[700];
	struct it_result r;
	FILE *f;

	/* a unique prefix, an ambiguous one, an unknown one */
	snprintf(prefix, sizeof(prefix), "crash-app.%d.", (int)P_ABORT);
	r = MDCTL("info", prefix, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, id));
	ck_assert_ptr_nonnull(strstr(r.out, "SIGABRT"));
	it_result_done(&r);
	r = MDCTL("info", "crash-app.", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "several"));
	it_result_done(&r);
	r = MDCTL("info", "nosuch.1.2.3", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	r = MDCTL("info", "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);

	/* the uploader's state file */
	snprintf(state_dir, sizeof(state_dir), "%s/state", D.dir);
	ck_assert_int_eq(mkdir(state_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s.json", state_dir, id);
	f = fopen(path, "w");
	fprintf(f,
	        "{\"id\": \"%s\", \"state\": \"uploaded\", \"server_id\": \"srv-42\", "
	        "\"reason\": null, \"attempts\": 2, \"time\": \"2026-11-28T10:00:00Z\"}",
	        id);
	fclose(f);
	r = MDCTL("info", id, "--dump-dir", D.dumps, "--upload-state", state_dir, "--raw-stack");
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Upload: uploaded, server id srv-42 (2 attempts)"));
	it_result_done(&r);
	r = MDCTL("list", "--dump-dir", D.dumps, "--upload-state", state_dir, "--json");
	ck_assert_ptr_nonnull(strstr(r.out, "\"upload\": \"uploaded\""));
	it_result_done(&r);
	free(id);
}
END_TEST

START_TEST(rm_removes_one_dump_and_never_escapes_the_store)
{
	char *id = dump_id(P_SEGV), *dmp = find_dump(P_SEGV, "dmp"),
	     *json = find_dump(P_SEGV, "json");
	char outside[512], jsonl[512], *other = find_dump(P_ABORT, "dmp");
	struct it_result r;
	struct stat st;
	FILE *f;

	/* a file beside the store that a path-like id would reach */
	snprintf(outside, sizeof(outside), "%s/victim.json", D.dir);
	f = fopen(outside, "w");
	fputs("{}", f);
	fclose(f);
	r = MDCTL("rm", "--dump-dir", D.dumps, "../victim");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, "/etc/passwd");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, ".hidden");
	ck_assert_int_eq(r.code, 2);
	it_result_done(&r);
	ck_assert_int_eq(stat(outside, &st), 0);

	/* through the daemon's store discovery */
	r = MDCTL("rm", "--socket", D.sock, "-v", id);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "removed"));
	it_result_done(&r);
	ck_assert_int_ne(stat(dmp, &st), 0);
	ck_assert_int_ne(stat(json, &st), 0);
	ck_assert_int_eq(stat(other, &st), 0);
	snprintf(jsonl, sizeof(jsonl), "%s/reports.jsonl", D.dumps);
	ck_assert_int_eq(stat(jsonl, &st), 0);
	{
		char *history = it_read_file(jsonl, NULL);

		ck_assert_ptr_nonnull(strstr(history, id)); /* history is kept */
		free(history);
	}

	r = MDCTL("list", "--dump-dir", D.dumps, "--no-legend");
	ck_assert_ptr_null(strstr(r.out, id));
	it_result_done(&r);
	r = MDCTL("rm", "--dump-dir", D.dumps, id);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	r = MDCTL("info", id, "--dump-dir", D.dumps);
	ck_assert_int_eq(r.code, 8);
	it_result_done(&r);
	free(id);
	free(dmp);
	free(json);
	free(other);
}
END_TEST

START_TEST(store_without_daemon_needs_dump_dir)
{
	char sock[512];
	struct it_result r;
	char *rows[MAX_ROWS][7];

	snprintf(sock, sizeof(sock), "%s", D.sock);
	ck_assert_int_eq(WEXITSTATUS(daemon_stop()), 0);
	/* with --dump-dir the store is read as before */
	r = MDCTL("list", "--dump-dir", D.dumps, "--socket", sock, "--no-legend");
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_eq(table(r.out, rows), 3);
	it_result_done(&r);
	/* without it, the default folder, and the error names it */
	r = MDCTL("list", "--socket", sock, "--no-legend");
	/* the build's localstatedir (/var for prefix /usr) */
	if (access(MD_LOCALSTATEDIR "/lib/minidumpd/dumps", F_OK) != 0) {
		ck_assert_int_eq(r.code, 1);
		ck_assert_ptr_nonnull(strstr(r.err, MD_LOCALSTATEDIR "/lib/minidumpd/dumps"));
	}
	it_result_done(&r);
}
END_TEST

START_TEST(compressed_dumps_are_listed_and_read)
{
	/* a dump stored compressed (<id>.dmp.zst), as store compression leaves it */
	char *dmp = find_dump(P_SEGV, "dmp"), *id = dump_id(P_SEGV), zst[600], size[32];
	const char *zstd_argv[] = {"zstd", "-q", "--rm", dmp, NULL};
	struct it_result r;
	char *rows[MAX_ROWS][7];
	struct stat st;
	int n, k;

	ck_assert_int_eq(it_run(zstd_argv, NULL, MDCTL_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exited && r.code == 0, "zstd: %s %s", it_result_status(&r), r.err);
	it_result_done(&r);
	snprintf(zst, sizeof(zst), "%s.zst", dmp);
	ck_assert_int_eq(stat(zst, &st), 0);
	ck_assert_int_ne(access(dmp, F_OK), 0);

	r = MDCTL("list", "--dump-dir", D.dumps);
	n = table(r.out, rows);
	k = row_of(rows, n, P_SEGV);
	ck_assert_int_gt(k, 0);
	snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
	ck_assert_str_eq(rows[k][5], size);
	it_result_done(&r);

	r = MDCTL("info", id, "--dump-dir", D.dumps, "--raw-stack");
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, ".dmp.zst"));
	ck_assert_ptr_nonnull(strstr(r.out, "crash-app + 0x"));
	ck_assert_ptr_nonnull(strstr(r.out, "Modules ("));
	it_result_done(&r);

	r = MDCTL("rm", "--dump-dir", D.dumps, id);
	ck_assert_int_eq(r.code, 0);
	ck_assert_int_ne(access(zst, F_OK), 0);
	it_result_done(&r);
	free(dmp);
	free(id);
}
END_TEST

CHECK_SUITE_FN(ops_store_suite, "ops-store",
               CHECK_CASE("store", store_setup, daemon_teardown, 300,
                          CHECK_TEST(list_shows_every_dump_through_the_daemon),
                          CHECK_TEST(list_filters_and_json),
                          CHECK_TEST(list_survives_junk_and_shows_records_without_dumps),
                          CHECK_TEST(info_with_stackwalk_names_the_crashing_function),
                          CHECK_TEST(info_without_stackwalk_reads_frame0_from_the_dump),
                          CHECK_TEST(info_ids_prefixes_and_upload_state),
                          CHECK_TEST(rm_removes_one_dump_and_never_escapes_the_store),
                          CHECK_TEST(store_without_daemon_needs_dump_dir),
                          CHECK_TEST(compressed_dumps_are_listed_and_read)));

CHECK_IT_SUITE("ops-store", ops_store_suite, "CRASH_APP");
