/* SPDX-License-Identifier: MIT */
/* The symbolize suites' helpers (symbolize-util.h). */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize-util.h"

json_t *mdctl_stack(const char *dump, const char *const *extra, const char *const *env,
                    struct mres *ret_res)
{
	const char *argv[16] = {it_env("MDCTL"), "stack", dump, "--json", "--all-threads"};
	struct it_result r;
	int n = 5;
	json_error_t jerr;
	json_t *j = NULL;

	for (int i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ck_assert_int_eq(it_run(argv, env, MDCTL_TIMEOUT_MS, &r), 0);
	ck_assert_msg(r.exited, "mdctl stack %s: %s (%s)", dump, it_result_status(&r), r.err);
	ret_res->code = r.code;
	ret_res->duration = r.duration;
	snprintf(ret_res->err, sizeof(ret_res->err), "%s", r.err ? r.err : "");
	if (r.code == 0) {
		j = json_loads(r.out, 0, &jerr);
		ck_assert_msg(j, "mdctl stack --json: %s", jerr.text);
	}
	it_result_done(&r);
	return j;
}

json_t *crashed_thread(json_t *answer)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(answer, "threads"), i, t)
	{
		if (json_is_true(json_object_get(t, "crashed")))
			return t;
	}
	return NULL;
}

json_t *crashed_frames(json_t *answer)
{
	return json_object_get(crashed_thread(answer), "frames");
}

const char *fstr(json_t *frame, const char *key)
{
	return json_string_value(json_object_get(frame, key));
}

int index_of(json_t *frames, const char *fn, int from)
{
	for (size_t i = (size_t)from; i < json_array_size(frames); i++) {
		const char *f = fstr(json_array_get(frames, i), "function");

		if (f && strcmp(f, fn) == 0)
			return (int)i;
	}
	return -1;
}

const char *app_path(int variant)
{
	return it_env(variant ? "CRASH_APP_O2" : "CRASH_APP");
}

char *crash(const char *app, const char *mode, pid_t *ret_pid)
{
	struct app_run run = run_app_opts(mode, NULL, &(struct app_opts){.exe = app});
	char *dump;

	ck_assert_msg(!run.res.exited, "crash-app %s did not crash: %s", mode,
	              it_result_status(&run.res));
	dump = find_dump_any(run.pid, "dmp");
	ck_assert_msg(dump, "no dump for crash-app %s; log: %s", mode, log_tail());
	if (ret_pid)
		*ret_pid = run.pid;
	it_result_done(&run.res);
	return dump;
}

char *app_copy(const char *src, const char *name)
{
	char *dst;
	const char *argv[] = {"cp", src, NULL, NULL};

	ck_assert_int_ge(asprintf(&dst, "%s/%s", D.dir, name), 0);
	argv[2] = dst;
	run_ok(argv);
	chmod(dst, 0755);
	return dst;
}

void run_ok(const char *const *argv)
{
	struct it_result res;

	ck_assert_int_eq(it_run(argv, NULL, TOOL_TIMEOUT_MS, &res), 0);
	ck_assert_msg(res.exited && res.code == 0, "%s: %s %s", argv[0], it_result_status(&res),
	              res.err);
	it_result_done(&res);
}

void split_debug(const char *app, const char *dbg)
{
	const char *keep[] = {"objcopy", "--only-keep-debug", app, dbg, NULL};
	const char *strip[] = {"strip", "--strip-debug", "--strip-unneeded", app, NULL};

	run_ok(keep);
	run_ok(strip);
}

void write_bytes(const char *path, const void *bytes, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0); /* whatever the umask */
	close(fd);
}
