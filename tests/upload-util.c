/* SPDX-License-Identifier: MIT */
/* The uploader suites' helpers (upload-util.h). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon-util.h"
#include "integration-util.h"
#include "upload-config.h"
#include "upload-form.h"
#include "md-upload-state.h"
#include "upload-util.h"

struct env E;

/* ---- files ---- */

void write_file(const char *path, const void *data, size_t len)
{
	char tmp[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp-test", path);
	f = fopen(tmp, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- setup ---- */

void setup(void)
{
	memset(&E, 0, sizeof(E));
	E.root = it_tempdir(0755);
	ck_assert_ptr_nonnull(E.root);
	snprintf(E.outbox, sizeof(E.outbox), "%s/outbox", E.root);
	snprintf(E.state, sizeof(E.state), "%s/state", E.root);
	snprintf(E.dumps, sizeof(E.dumps), "%s/dumps", E.root);
	snprintf(E.srv, sizeof(E.srv), "%s/srv", E.root);
	snprintf(E.metrics, sizeof(E.metrics), "%s/metrics", E.root);
	snprintf(E.cfg, sizeof(E.cfg), "%s/mdupload.json", E.root);
	snprintf(E.log, sizeof(E.log), "%s/mdupload.log", E.root);
	ck_assert_int_eq(mkdir(E.outbox, 0770), 0);
	ck_assert_int_eq(mkdir(E.dumps, 0750), 0);
	ck_assert_int_eq(mkdir(E.srv, 0755), 0);
	ck_assert_int_eq(mkdir(E.metrics, 0755), 0);
}

int stop(pid_t *pid, int sig)
{
	int st = 0;

	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, &st, 0);
		*pid = 0;
	}
	return st;
}

void teardown(void)
{
	stop(&E.uploader, SIGKILL);
	stop(&E.server, SIGKILL);
	if (!getenv("IT_KEEP"))
		it_rmtree(E.root);
	free(E.root);
}

/* ---- the test server ---- */

void server_start(int port)
{
	const char *exe = it_env("UPLOAD_SERVER");
	char portfile[600], portarg[16], logpath[600];
	int64_t deadline = it_now_ms() + READY_MS;
	char *text;

	snprintf(portfile, sizeof(portfile), "%s/port", E.srv);
	snprintf(logpath, sizeof(logpath), "%s/server.log", E.root);
	snprintf(portarg, sizeof(portarg), "%d", port);
	unlink(portfile);
	E.server = fork();
	ck_assert_int_ge(E.server, 0);
	if (E.server == 0) {
		int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(log, 2);
		dup2(log, 1);
		execl(exe, exe, "--dir", E.srv, "--port", portarg, (char *)NULL);
		_exit(127);
	}
	while (!(text = it_read_file(portfile, NULL))) {
		ck_assert_msg(it_now_ms() < deadline, "upload-server did not start: %s",
		              it_read_file(logpath, NULL));
		usleep(5000);
	}
	E.port = atoi(text);
	free(text);
	ck_assert_int_gt(E.port, 0);
}

void server_plan(const char *plan)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/plan", E.srv);
	write_file(path, plan, strlen(plan));
}

/* Every request the server recorded, in order. */
json_t *requests(void)
{
	json_t *a = json_array();

	for (int n = 1;; n++) {
		char path[600];
		json_t *j;

		snprintf(path, sizeof(path), "%s/req-%d.json", E.srv, n);
		if (!exists(path))
			break;
		j = json_load_file(path, 0, NULL);
		ck_assert_msg(j != NULL, "%s is not JSON", path);
		json_array_append_new(a, j);
	}
	return a;
}

const char *field(json_t *req, const char *name)
{
	return json_string_value(json_object_get(json_object_get(req, "fields"), name));
}

int count_for(json_t *reqs, const char *id)
{
	size_t i;
	json_t *r;
	int n = 0;

	json_array_foreach(reqs, i, r)
	{
		const char *f = field(r, "minidumpd_id");

		n += f && strcmp(f, id) == 0;
	}
	return n;
}

/* ---- dumps and tickets ---- */

/* A real dump of tests/target-threads made by mdctl, once per test; later dumps are copies
 * with a distinct trailer, so a mixed-up upload shows. */
char *make_dump(const char *id)
{
	char *path = malloc(600), *bytes;
	size_t len;

	snprintf(path, 600, "%s/%s.dmp", E.dumps, id);
	if (!E.base_dump[0]) {
		struct it_target t;
		struct it_result res;
		char pid[16];

		snprintf(E.base_dump, sizeof(E.base_dump), "%s/base.dmp", E.root);
		ck_assert_int_eq(it_target_start(NULL, &t), 0);
		snprintf(pid, sizeof(pid), "%d", (int)t.pid);
		{
			const char *argv[] = {it_env("MDCTL"), "dump", pid, "--direct", "-o",
			                      E.base_dump,     NULL};

			ck_assert_int_eq(it_run(argv, NULL, 60000, &res), 0);
		}
		it_target_kill(&t);
		ck_assert_msg(res.exited && res.code == 0, "mdctl dump: %s %s",
		              it_result_status(&res), res.err);
		it_result_done(&res);
	}
	bytes = it_read_file(E.base_dump, &len);
	ck_assert_ptr_nonnull(bytes);
	ck_assert_uint_gt(len, 1000);
	ck_assert_int_eq(memcmp(bytes, "MDMP", 4), 0);
	{
		char *copy = malloc(len + 600);
		int n;

		memcpy(copy, bytes, len);
		n = snprintf(copy + len, 600, "\n# test copy %s\n", id);
		write_file(path, copy, len + (size_t)n);
		free(copy);
	}
	free(bytes);
	return path;
}

/* Queues id the way minidumpd does: its report, written elsewhere, renamed into the outbox.
 * annotations is stolen. Returns the report (owned). */
json_t *queue_ticket(const char *id, json_t *annotations)
{
	char *dump = make_dump(id), tpath[600], rpath[600];
	json_t *report;
	char *text;

	snprintf(rpath, sizeof(rpath), "%s/%s.json", E.dumps, id);
	report = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "id", id,
	                   "path", dump, "report", rpath, "pid", 4242, "uid", 1000, "executable",
	                   "/usr/bin/fleet-app", "process_name", "fleet-app", "kind", "crash",
	                   "time", "2026-11-28T09:56:51Z", "signal", "SIGSEGV", "annotations",
	                   annotations ? annotations : json_object());
	ck_assert_ptr_nonnull(report);
	text = json_dumps(report, JSON_COMPACT);
	write_file(rpath, text, strlen(text));
	snprintf(tpath, sizeof(tpath), "%s/%s.json", E.outbox, id);
	write_file(tpath, text, strlen(text));
	free(text);
	free(dump);
	return report;
}

bool ticket_present(const char *id)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s.json", E.outbox, id);
	return exists(path);
}

/* ---- mdupload ---- */

json_t *base_config(void)
{
	return json_pack("{s:s, s:s, s:b, s:i, s:{s:i, s:i}, s:s+, s:[]}", "outbox", E.outbox,
	                 "state_dir", E.state, "consent", 1, "scan_interval_ms", 50, "retry",
	                 "initial_ms", INITIAL_MS, "max_ms", MAX_MS, "metrics_file", E.metrics,
	                 "/mdupload.prom", "servers");
}

json_t *server_cfg(const char *name, const char *path)
{
	char url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", E.port, path);
	return json_pack("{s:s, s:s, s:i, s:i}", "name", name, "url", url, "timeout_ms", 5000,
	                 "rate_per_minute", 0);
}

/* One breakpad server at /submit with extra settings merged in (may be NULL, stolen). */
json_t *one_server_config(json_t *extra)
{
	json_t *cfg = base_config(), *srv = server_cfg("main", "/submit");

	if (extra) {
		json_object_update(srv, extra);
		json_decref(extra);
	}
	json_array_append_new(json_object_get(cfg, "servers"), srv);
	return cfg;
}

/* Starts mdupload with cfg (stolen); its stderr is appended to E.log. */
void uploader_start(json_t *cfg)
{
	const char *exe = it_env("MDUPLOAD");

	ck_assert_int_eq(json_dump_file(cfg, E.cfg, JSON_INDENT(2)), 0);
	json_decref(cfg);
	E.uploader = fork();
	ck_assert_int_ge(E.uploader, 0);
	if (E.uploader == 0) {
		int log = open(E.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(log, 2);
		dup2(log, 1);
		execl(exe, exe, "--config", E.cfg, "--verbose", (char *)NULL);
		_exit(127);
	}
}

const char *ulog(void)
{
	static char *text;

	free(text);
	text = it_read_file(E.log, NULL);
	return text ? text : "(no log)";
}

/* Waits until id's state is final (not pending). Returns 0 or -ETIMEDOUT. */
int wait_final(const char *id, int timeout_ms, struct md_upload_state *ret)
{
	int64_t deadline = it_now_ms() + timeout_ms;

	while (it_now_ms() < deadline) {
		int st;

		if (md_upload_state_read(E.state, id, ret) == 0 && ret->state != MD_UPLOAD_PENDING)
			return 0;
		ck_assert_msg(E.uploader <= 0 || waitpid(E.uploader, &st, WNOHANG) == 0,
		              "mdupload exited: %s", ulog());
		usleep(10000);
	}
	return -ETIMEDOUT;
}

void wait_gone(const char *id)
{
	int64_t deadline = it_now_ms() + DELIVER_MS;

	while (ticket_present(id)) {
		ck_assert_msg(it_now_ms() < deadline, "ticket %s still in the outbox: %s", id,
		              ulog());
		usleep(10000);
	}
}

/* The value of one sample line of the metrics file, or -1 when absent. */
double metric(const char *sample)
{
	char path[600], *text, *p;
	double v = -1;

	snprintf(path, sizeof(path), "%s/mdupload.prom", E.metrics);
	text = it_read_file(path, NULL);
	if (!text)
		return -1;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		size_t n = strlen(sample);

		if (strncmp(p, sample, n) == 0 && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	free(text);
	return v;
}

/* Waits until the metrics file shows sample == want, or >= want with at_least (the file is
 * written at most once a second). */
void wait_metric_cmp(const char *sample, double want, bool at_least)
{
	int64_t deadline = it_now_ms() + 5000;

	while (at_least ? metric(sample) < want : metric(sample) != want) {
		ck_assert_msg(it_now_ms() < deadline, "metric %s is %g, want %g", sample,
		              metric(sample), want);
		usleep(20000);
	}
}

void wait_metric(const char *sample, double want)
{
	wait_metric_cmp(sample, want, false);
}

/* The fields a collector must receive for report with the server's configured fields, as
 * docs/upload.md defines them. */
json_t *expected_fields(json_t *report, json_t *configured)
{
	json_t *ann = json_object_get(report, "annotations"), *e = json_object(), *v;
	const char *key;

	json_object_set(e, "prod", json_object_get(report, "process_name"));
	if (json_object_get(ann, "version"))
		json_object_set(e, "ver", json_object_get(ann, "version"));
	json_object_set(e, "minidumpd_id", json_object_get(report, "id"));
	json_object_set(e, "minidumpd_kind", json_object_get(report, "kind"));
	json_object_set(e, "minidumpd_signal", json_object_get(report, "signal"));
	json_object_foreach(ann, key, v) if (!strchr(key, '"')) json_object_set(e, key, v);
	json_object_foreach(configured, key, v) json_object_set(e, key, v);
	return e;
}

/* The request req carries report's dump byte for byte and exactly the expected fields. */
void check_request(json_t *req, json_t *report, json_t *configured)
{
	json_t *files = json_object_get(req, "files"),
	       *f = json_object_get(files, "upload_file_minidump");
	json_t *want = expected_fields(report, configured), *got = json_object_get(req, "fields");
	const char *id = json_string_value(json_object_get(report, "id"));
	char path[600], fname[300], *sent, *orig;
	size_t sent_len, orig_len;

	ck_assert_msg(json_is_null(json_object_get(req, "error")), "server: %s",
	              json_string_value(json_object_get(req, "error")));
	ck_assert_str_eq(json_string_value(json_object_get(req, "method")), "POST");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(json_object_size(files), 1);
	snprintf(fname, sizeof(fname), "%s.dmp", id);
	ck_assert_str_eq(json_string_value(json_object_get(f, "filename")), fname);
	ck_assert_str_eq(json_string_value(json_object_get(f, "content_type")),
	                 "application/octet-stream");
	snprintf(path, sizeof(path), "%s/%s", E.srv, json_string_value(json_object_get(f, "file")));
	sent = it_read_file(path, &sent_len);
	orig = it_read_file(json_string_value(json_object_get(report, "path")), &orig_len);
	ck_assert_ptr_nonnull(sent);
	ck_assert_ptr_nonnull(orig);
	ck_assert_uint_eq(sent_len, orig_len);
	ck_assert_msg(memcmp(sent, orig, orig_len) == 0, "the dump differs from what was sent");
	if (!json_equal(want, got)) {
		char *a = json_dumps(want, JSON_SORT_KEYS), *b = json_dumps(got, JSON_SORT_KEYS);

		ck_abort_msg("form fields differ:\nwant %s\ngot  %s", a, b);
	}
	free(sent);
	free(orig);
	json_decref(want);
}
