/* SPDX-License-Identifier: MIT */
/*
 * Integration suite: runs the real mdctl against real processes (tests/target-threads) and
 * judges the dumps with readers we did not write: Breakpad's minidump_stackwalk and
 * minidump_dump, lldb, and the kernel's own view of the target in /proc. Every test checks
 * what a user would check: the right threads in the right functions, the right names and build
 * ids, the right exit codes, no stray files, and a target that keeps running. Tests must never
 * leave a process behind: targets and temporary folders are cleaned up even when a check fails
 * (set IT_KEEP=1 to keep the folders for a post-mortem).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdctl-test-util.h"

START_TEST(test_dump_json_and_file)
{
	struct dumped d = dump_standard_target();
	struct stat st;
	json_t *streams, *errors, *s;
	double suspended, duration;
	size_t i;

	ck_assert_msg(stat(d.dump, &st) == 0, "no dump at %s", d.dump);
	ck_assert_msg(S_ISREG(st.st_mode), "the dump is not a regular file");
	ck_assert_msg((st.st_mode & 07777) == 0600, "the dump has mode %04o, want 0600",
	              (unsigned)(st.st_mode & 07777));
	ck_assert_msg(it_dir_count(d.dir) == 1, "the output folder holds %d entries, want 1",
	              it_dir_count(d.dir));

	ck_assert_str_eq(json_string_value(json_object_get(d.json, "path")), d.dump);
	ck_assert_int_eq(json_int_member(d.json, "pid"), d.target.pid);
	ck_assert_int_eq(json_int_member(d.json, "bytes"), st.st_size);
	ck_assert_int_eq(json_int_member(d.json, "threads"), DEFAULT_WORKERS + 1);
	/* The target binary, libc, ld.so and the vdso at least. */
	ck_assert_int_ge(json_int_member(d.json, "modules"), 3);
	duration = json_number_member(d.json, "duration_ms");
	suspended = json_number_member(d.json, "suspended_ms");
	ck_assert_msg(suspended >= 0 && suspended <= duration,
	              "suspended_ms %.3f does not fit in duration_ms %.3f", suspended, duration);
	ck_assert_msg(json_is_false(json_object_get(d.json, "partial")),
	              "a dump of a healthy target is marked partial");

	streams = json_object_get(d.json, "streams");
	ck_assert_msg(json_is_array(streams) && json_array_size(streams) > 0, "no streams listed");
	json_array_foreach(streams, i, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *status = json_string_value(json_object_get(s, "status"));

		ck_assert_msg(name && status, "stream %zu lacks a name or status", i);
		/* The type may be a number or its hex spelling ("0x3"). */
		ck_assert_msg((json_is_integer(json_object_get(s, "type")) ||
		               json_string_length(json_object_get(s, "type")) > 0) &&
		                  json_is_integer(json_object_get(s, "bytes")),
		              "stream %s lacks a type or byte count", name);
		ck_assert_msg(strcmp(status, "ok") == 0 || strcmp(status, "partial") == 0 ||
		                  strcmp(status, "skipped") == 0,
		              "stream %s has status \"%s\" in a dump of a healthy target", name,
		              status);
		ck_assert_msg(json_integer_value(json_object_get(s, "bytes")) < st.st_size,
		              "stream %s claims more bytes than the file has", name);
	}
	errors = json_object_get(d.json, "errors");
	ck_assert_msg(json_is_array(errors), "no errors array");

	/* The file is a minidump, and the target is running, complete and answering. */
	{
		char magic[4];
		int fd = open(d.dump, O_RDONLY);

		ck_assert(fd >= 0);
		ck_assert_int_eq(read(fd, magic, 4), 4);
		close(fd);
		ck_assert_msg(memcmp(magic, "MDMP", 4) == 0, "the dump does not start with MDMP");
	}
	{
		pid_t *after = NULL;
		int n = it_tasks(d.target.pid, &after);

		ck_assert_int_eq(n, d.n_tids);
		ck_assert_msg(memcmp(after, d.tids, (size_t)n * sizeof(*after)) == 0,
		              "the target's threads changed across the dump");
		free(after);
	}
	assert_target_healthy(&d.target, DEFAULT_WORKERS, "after the dump");
	json_decref(d.json);
}
END_TEST

START_TEST(test_dump_stackwalk)
{
	struct dumped d = dump_standard_target();
	char *symroot = path_in(d.dir, "symbols");

	assert_stacks(d.target.pid, d.dump, symroot);
	assert_target_healthy(&d.target, DEFAULT_WORKERS, "after the dump");
	json_decref(d.json);
}
END_TEST

START_TEST(test_dump_minidump_dump)
{
	struct dumped d = dump_standard_target();
	char *tool = tool_path("minidump_dump");
	const char *argv[] = {tool, d.dump, NULL};
	struct it_result res;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(!strstr(res.out, "ERROR") && !strstr(res.err, "ERROR"),
	              "minidump_dump reports errors: [%s]", res.err);
	assert_exit(&res, 0, "minidump_dump");
	it_result_done(&res);
	json_decref(d.json);
}
END_TEST

START_TEST(test_dump_lldb)
{
	struct dumped d = dump_standard_target();
	const char *argv[] = {"lldb", "--batch", "-c", d.dump, "-o", "thread list", NULL};
	struct it_result res;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "lldb thread list");
	for (int i = 0; i < d.n_tids; i++) {
		char want[32];

		snprintf(want, sizeof(want), "tid = %d,", (int)d.tids[i]);
		ck_assert_msg(strstr(res.out, want), "lldb does not list tid %d: [%s]",
		              (int)d.tids[i], res.out);
	}
	it_result_done(&res);
	json_decref(d.json);
}
END_TEST

START_TEST(test_dump_inspect)
{
	struct dumped d = dump_standard_target();
	const char *argv[] = {it_env("MDCTL"), "inspect", d.dump, "--json", NULL};
	const char *target_bin = it_env("TARGET_THREADS");
	struct it_result res;
	json_t *j, *threads, *modules, *t, *m;
	char build_id[128];
	bool module_found = false;
	size_t i;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "mdctl inspect --json");
	j = parse_json(&res, "mdctl inspect --json");

	/* Threads: the same tids as /proc/PID/task, each with the kernel's name for it. */
	threads = json_object_get(j, "threads");
	ck_assert_msg(json_is_array(threads), "inspect lists no threads");
	ck_assert_int_eq(json_array_size(threads), (size_t)d.n_tids);
	json_array_foreach(threads, i, t)
	{
		json_int_t tid = json_int_member(t, "tid");
		const char *name = json_string_value(json_object_get(t, "name"));
		char comm[32];
		bool listed = false;

		for (int k = 0; k < d.n_tids; k++)
			listed |= d.tids[k] == tid;
		ck_assert_msg(listed, "inspect lists tid %lld, which the target does not have",
		              (long long)tid);
		for (size_t k = 0; k < i; k++)
			ck_assert_msg(json_integer_value(json_object_get(json_array_get(threads, k),
			                                                 "tid")) != tid,
			              "inspect lists tid %lld twice", (long long)tid);
		ck_assert_int_eq(it_task_comm(d.target.pid, (pid_t)tid, comm, sizeof(comm)), 0);
		ck_assert_msg(name && strcmp(name, comm) == 0,
		              "tid %lld is named \"%s\" in the dump, \"%s\" by the kernel",
		              (long long)tid, name ? name : "(none)", comm);
	}

	/* Modules: the target binary with its GNU build id as the code id. */
	ck_assert_int_eq(it_build_id(target_bin, build_id, sizeof(build_id)), 0);
	modules = json_object_get(j, "modules");
	ck_assert_msg(json_is_array(modules), "inspect lists no modules");
	json_array_foreach(modules, i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *code_id = json_string_value(json_object_get(m, "code_id"));
		const char *base = name ? strrchr(name, '/') : NULL;

		base = base ? base + 1 : name;
		if (!base || strcmp(base, "target-threads") != 0)
			continue;
		module_found = true;
		ck_assert_msg(code_id && strcasecmp(code_id, build_id) == 0,
		              "module %s has code id %s; readelf says the build id is %s", name,
		              code_id ? code_id : "(none)", build_id);
	}
	ck_assert_msg(module_found, "the target binary is not in the module list");
	json_decref(j);
	it_result_done(&res);
	json_decref(d.json);
}
END_TEST

/* 2. An existing output file is kept without --force and replaced with it. */
START_TEST(test_existing_output)
{
	static const char keep[] = "not a dump; keep me\n";
	struct it_target t = start_target(NULL);
	char *dir = tempdir(0700);
	char *out = path_in(dir, "exists.dmp");
	struct it_result res;
	struct stat st;
	char *text;
	FILE *f = fopen(out, "we");

	ck_assert(f && fputs(keep, f) >= 0 && fclose(f) == 0);
	mdctl_dump(t.pid, out, NULL, NULL, &res);
	assert_exit(&res, EXIT_OUTPUT, "mdctl dump onto an existing file");
	it_result_done(&res);
	text = it_read_file(out, NULL);
	ck_assert_msg(text && strcmp(text, keep) == 0, "the existing file was changed");
	free(text);
	ck_assert_msg(it_dir_count(dir) == 1, "a temporary file was left: %d entries",
	              it_dir_count(dir));
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the refused dump");

	mdctl_dump(t.pid, out, "--force", NULL, &res);
	assert_exit(&res, 0, "mdctl dump --force");
	it_result_done(&res);
	text = it_read_file(out, NULL);
	ck_assert_msg(text && memcmp(text, "MDMP", 4) == 0, "--force did not replace the file");
	free(text);
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0600, "the replaced file has mode %04o",
	              (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(it_dir_count(dir), 1);
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the forced dump");
}
END_TEST

/* 2b. Without -o the dump is named as the daemon names it, the executable's name made safe: a
 * program called ".odd name;x" gives neither a hidden file nor a blank or a ';' in the name. */
START_TEST(test_default_name)
{
	char *dir = tempdir(0700);
	char *exe = path_in(dir, ".odd name;x");
	char *cmd, pidbuf[16], prefix[64];
	const char *argv[] = {it_env("MDCTL"), "dump", pidbuf, "--direct", "--json", NULL};
	const char *path;
	struct it_target t;
	struct it_result res;
	struct stat st;
	json_t *j;
	size_t len;

	ck_assert(asprintf(&cmd, "cp '%s' '%s'", it_env("TARGET_THREADS"), exe) > 0);
	ck_assert_int_eq(system(own(cmd)), 0);
	ck_assert_int_eq(setenv("TARGET_THREADS", exe, 1), 0);
	t = start_target(NULL);
	ck_assert_int_eq(chdir(dir), 0);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t.pid);
	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "mdctl dump --direct without -o");
	j = parse_json(&res, "mdctl dump --direct without -o");
	path = json_string_value(json_object_get(j, "path"));
	snprintf(prefix, sizeof(prefix), "_odd_name_x.%d.", (int)t.pid);
	len = path ? strlen(path) : 0;
	ck_assert_msg(path && strncmp(path, prefix, strlen(prefix)) == 0 && len > 4 &&
	                  strcmp(path + len - 4, ".dmp") == 0 && !strpbrk(path, " ;/"),
	              "the default name is [%s], want %s...dmp", path ? path : "(none)", prefix);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 07777) == 0600, "the dump has mode %04o",
	              (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(it_dir_count(dir), 2); /* the program and its dump, nothing hidden */
	json_decref(j);
	it_result_done(&res);
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the dump");
}
END_TEST

/* 3. A pid with no process behind it. */
START_TEST(test_no_such_process)
{
	char *dir = tempdir(0700);
	char *out = path_in(dir, "none.dmp");
	char pidtext[16];
	struct it_result res;
	pid_t gone = fork();

	/* A child that has exited and been reaped leaves a pid that is free right now. */
	ck_assert(gone >= 0);
	if (gone == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(gone, NULL, 0), gone);
	mdctl_dump(gone, out, NULL, NULL, &res);
	assert_exit(&res, EXIT_NO_PROCESS, "mdctl dump of a missing pid");
	snprintf(pidtext, sizeof(pidtext), "%d", (int)gone);
	ck_assert_msg(strstr(res.err, pidtext) &&
	                  (strcasestr(res.err, "no such process") ||
	                   strcasestr(res.err, "no process") || strcasestr(res.err, "not exist")),
	              "the message does not say which process is missing: [%s]", res.err);
	ck_assert_int_eq(it_dir_count(dir), 0);
	it_result_done(&res);
}
END_TEST

/* 4. The target is killed while mdctl holds it stopped: exit 5, and a readable partial dump. */
START_TEST(test_unprivileged)
{
	struct it_target t = start_target(NULL);
	char *dir = tempdir(0777);
	char *bindir = path_in(dir, "bin"), *outdir = path_in(dir, "out");
	char *bin = path_in(bindir, "mdctl"), *out = path_in(outdir, "denied.dmp");
	char uid_arg[32], gid_arg[32], pidbuf[16];
	const char *cp[] = {"cp", it_env("MDCTL"), bin, NULL};
	struct it_result res;

	ck_assert_msg(geteuid() == 0, "this test needs root (it runs mdctl as nobody)");
	/* The binary and the output folder must be reachable by nobody. */
	ck_assert_int_eq(mkdir(bindir, 0755), 0);
	ck_assert_int_eq(mkdir(outdir, 0777), 0);
	ck_assert_int_eq(chmod(outdir, 0777), 0);
	ck_assert_int_eq(it_run(cp, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "cp mdctl");
	it_result_done(&res);
	ck_assert_int_eq(chmod(bin, 0755), 0);

	snprintf(uid_arg, sizeof(uid_arg), "--reuid=%d", NOBODY_ID);
	snprintf(gid_arg, sizeof(gid_arg), "--regid=%d", NOBODY_ID);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)t.pid);
	const char *argv[] = {"setpriv",  uid_arg, gid_arg, "--clear-groups", bin, "dump", pidbuf,
	                      "--direct", "-o",    out,     "--json",         NULL};

	ck_assert_int_eq(it_run(argv, NULL, MDCTL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, EXIT_PERMISSION, "mdctl dump as nobody");
	ck_assert_msg(strstr(res.err, "CAP_SYS_PTRACE") || strstr(res.err, "root"),
	              "the message does not say what is needed: [%s]", res.err);
	ck_assert_msg(it_dir_count(outdir) == 0, "a file was left in the output folder");
	it_result_done(&res);
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the refused dump");
}
END_TEST

/* 7. SIGINT or SIGTERM while the target is stopped: mdctl gives up at once, cleanly. */

/* 9. Issue 15, item 6: every executable mapping of a file lies inside a module, even when the
 * binary has holes between its executable segments or remaps its code elsewhere (node does
 * both). Judged by our reader (mdctl inspect) and by Breakpad's minidump_dump. */
#define NODE_READY_MS 30000 /* ms node may take to start */

struct span {
	uint64_t start, end;
};

/* The executable mappings of files in /proc/PID/maps (owned). */
static size_t exec_file_mappings(pid_t pid, struct span **ret, char ***ret_paths)
{
	char path[64], *text, *line, *save = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	text = own(it_read_file(path, NULL));
	ck_assert_ptr_nonnull(text);
	*ret = own(calloc(strlen(text) / 32 + 1, sizeof(**ret)));
	*ret_paths = own(calloc(strlen(text) / 32 + 1, sizeof(**ret_paths)));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char perms[8];
		int off = 0;

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &a, &b, perms, &off) < 3 || !off)
			continue;
		if (perms[2] != 'x' || line[off] != '/')
			continue;
		(*ret)[n] = (struct span){a, b};
		(*ret_paths)[n] = line + off;
		n++;
	}
	return n;
}

/* Whether any mapping of pid holds addr. */
static bool mapped(pid_t pid, uint64_t addr)
{
	char path[64], *text, *line, *save = NULL;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	text = it_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;

		found = sscanf(line, "%llx-%llx", &a, &b) == 2 && a <= addr && addr < b;
	}
	free(text);
	return found;
}

static bool covered(const struct span *mods, size_t n, struct span m)
{
	for (size_t i = 0; i < n; i++)
		if (mods[i].start <= m.start && m.end <= mods[i].end)
			return true;
	return false;
}

/* Dumps pid with mdctl and checks both readers' module lists against its executable mappings. */
static void assert_exec_mappings_in_modules(pid_t pid, const char *what)
{
	char *dir = tempdir(0700), *out = path_in(dir, "modules.dmp");
	const char *inspect[] = {it_env("MDCTL"), "inspect", out, "--json", NULL};
	const char *mdump[] = {tool_path("minidump_dump"), out, NULL};
	struct span *maps, *mods;
	char **paths, *line, *save = NULL;
	size_t n_maps = exec_file_mappings(pid, &maps, &paths), n_mods = 0, i;
	struct it_result res;
	unsigned long long v;
	json_t *j, *m;

	ck_assert_msg(n_maps > 0, "%s: no executable file mappings", what);
	mdctl_dump(pid, out, NULL, NULL, &res);
	assert_exit(&res, 0, "mdctl dump");
	it_result_done(&res);

	/* our reader */
	ck_assert_int_eq(it_run(inspect, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "mdctl inspect --json");
	j = parse_json(&res, "mdctl inspect --json");
	mods = own(calloc(json_array_size(json_object_get(j, "modules")) + 1, sizeof(*mods)));
	json_array_foreach(json_object_get(j, "modules"), i, m)
	{
		const char *base = json_string_value(json_object_get(m, "base"));

		ck_assert_ptr_nonnull(base);
		v = strtoull(base, NULL, 16);
		mods[n_mods++] = (struct span){v, v + (uint64_t)json_int_member(m, "size")};
	}
	json_decref(j);
	it_result_done(&res);
	for (i = 0; i < n_maps; i++)
		ck_assert_msg(covered(mods, n_mods, maps[i]),
		              "%s: executable mapping %llx-%llx %s is in no module (mdctl inspect)",
		              what, (unsigned long long)maps[i].start,
		              (unsigned long long)maps[i].end, paths[i]);

	/* Breakpad's reader: base_of_image and size_of_image of each MDRawModule */
	ck_assert_int_eq(it_run(mdump, NULL, TOOL_TIMEOUT_MS, &res), 0);
	assert_exit(&res, 0, "minidump_dump");
	n_mods = 0;
	for (line = strtok_r(res.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, " base_of_image = %llx", &v) == 1)
			mods[n_mods].start = v;
		else if (sscanf(line, " size_of_image = %llx", &v) == 1)
			mods[n_mods].end = mods[n_mods].start + v, n_mods++;
	}
	it_result_done(&res);
	ck_assert_uint_gt(n_mods, 0);
	for (i = 0; i < n_maps; i++)
		ck_assert_msg(covered(mods, n_mods, maps[i]),
		              "%s: executable mapping %llx-%llx %s is in no module (minidump_dump)",
		              what, (unsigned long long)maps[i].start,
		              (unsigned long long)maps[i].end, paths[i]);
}

START_TEST(test_modules_cover_segments_past_a_hole)
{
	static const char *const args[] = {"--exit-after-ms", "120000", NULL};
	const char *gap_bin = it_env("TARGET_THREADS_GAP");
	struct span *maps;
	char **paths;
	struct it_target t;
	size_t n, i, holes = 0;

	/* it_target_start runs $TARGET_THREADS: this test process is a fork of its own */
	setenv("TARGET_THREADS", gap_bin, 1);
	t = start_target(args);
	/* the premise: two executable segments of the binary with an unmapped page between */
	n = exec_file_mappings(t.pid, &maps, &paths);
	for (i = 0; i + 1 < n; i++)
		if (maps[i + 1].start > maps[i].end && !strcmp(paths[i], paths[i + 1]) &&
		    !mapped(t.pid, maps[i].end))
			holes++;
	ck_assert_msg(holes > 0, "target-threads-gap has no hole between executable segments");
	assert_exec_mappings_in_modules(t.pid, "target-threads-gap");
	assert_target_healthy(&t, DEFAULT_WORKERS, "after the dump");
}
END_TEST

START_TEST(test_modules_cover_node)
{
	const char *argv[] = {it_env("NODE"), "-e",
	                      "console.log('ready'); setInterval(() => {}, 1000); "
	                      "setTimeout(() => process.exit(0), 120000);",
	                      NULL};
	int64_t end = it_now_ms() + NODE_READY_MS;
	char buf[64] = "";
	size_t got = 0;
	struct it_proc p;

	ck_assert_int_eq(it_spawn(argv, NULL, &p), 0);
	register_cleanup(p.pid, NULL);
	while (!strstr(buf, "ready\n") && got + 1 < sizeof(buf) && it_now_ms() < end) {
		struct pollfd pfd = {.fd = p.out_fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, (int)(end - it_now_ms())) <= 0)
			continue;
		r = read(p.out_fd, buf + got, sizeof(buf) - 1 - got);
		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	ck_assert_msg(strstr(buf, "ready\n"), "node did not start: [%s]", buf);
	assert_exec_mappings_in_modules(p.pid, "node");
}
END_TEST

CHECK_SUITE_FN(integration_suite, "integration",
               CHECK_CASE_PLAIN("dump", CHECK_TEST(test_dump_json_and_file),
                                CHECK_TEST(test_dump_stackwalk),
                                CHECK_TEST(test_dump_minidump_dump), CHECK_TEST(test_dump_lldb),
                                CHECK_TEST(test_dump_inspect)),
               CHECK_CASE_PLAIN("errors", CHECK_TEST(test_existing_output),
                                CHECK_TEST(test_default_name), CHECK_TEST(test_no_such_process),
                                CHECK_TEST(test_unprivileged)),
               CHECK_CASE_PLAIN("modules", CHECK_TEST(test_modules_cover_segments_past_a_hole),
                                CHECK_TEST(test_modules_cover_node)));

CHECK_IT_SUITE("integration", integration_suite, "TARGET_THREADS");
