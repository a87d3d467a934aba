/* SPDX-License-Identifier: MIT */
/*
 * The uploader's suite: the real mdupload against a real HTTP server (tests/upload-server, on
 * 127.0.0.1 only) that parses every multipart body (and gzip) and records what it received.
 * Each test queues tickets the way minidumpd does (a real dump from mdctl, its report renamed
 * into the outbox), then checks what an operator and a collector would see: every field and
 * every byte of the dump as received, the state file mdctl shows, the outbox emptying, the
 * metrics file; through server outages, 500s, 429 with Retry-After, slow answers, restarts and
 * size limits. The last test runs minidumpd itself with uploads enabled. Backoffs are short
 * (config), so the suite stays well under two minutes. Every process started here is killed
 * and reaped by its test.
 */
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

#define READY_MS   5000  /* ms the test server may take to listen */
#define DELIVER_MS 15000 /* ms a dump may take to be delivered in these tests */
#define QUIET_MS   800   /* ms of watching that nothing is sent when nothing may be */
#define INITIAL_MS 100   /* retry.initial_ms of the tests */
#define MAX_MS     400   /* retry.max_ms of the tests */

struct env {
	char *root;
	char outbox[512], state[512], dumps[512], srv[512], metrics[512], cfg[512], log[512];
	char base_dump[512];
	pid_t uploader, server;
	int port;
};

static struct env E;

/* ---- files ---- */

static void write_file(const char *path, const void *data, size_t len)
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

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- setup ---- */

static void setup(void)
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

static int stop(pid_t *pid, int sig)
{
	int st = 0;

	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, &st, 0);
		*pid = 0;
	}
	return st;
}

static void teardown(void)
{
	stop(&E.uploader, SIGKILL);
	stop(&E.server, SIGKILL);
	if (!getenv("IT_KEEP"))
		it_rmtree(E.root);
	free(E.root);
}

/* ---- the test server ---- */

static void server_start(int port)
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

static void server_plan(const char *plan)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/plan", E.srv);
	write_file(path, plan, strlen(plan));
}

/* Every request the server recorded, in order. */
static json_t *requests(void)
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

static const char *field(json_t *req, const char *name)
{
	return json_string_value(json_object_get(json_object_get(req, "fields"), name));
}

static int count_for(json_t *reqs, const char *id)
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
static char *make_dump(const char *id)
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
static json_t *queue_ticket(const char *id, json_t *annotations)
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

static bool ticket_present(const char *id)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s.json", E.outbox, id);
	return exists(path);
}

/* ---- mdupload ---- */

static json_t *base_config(void)
{
	return json_pack("{s:s, s:s, s:b, s:i, s:{s:i, s:i}, s:s+, s:[]}", "outbox", E.outbox,
	                 "state_dir", E.state, "consent", 1, "scan_interval_ms", 50, "retry",
	                 "initial_ms", INITIAL_MS, "max_ms", MAX_MS, "metrics_file", E.metrics,
	                 "/mdupload.prom", "servers");
}

static json_t *server_cfg(const char *name, const char *path)
{
	char url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", E.port, path);
	return json_pack("{s:s, s:s, s:i, s:i}", "name", name, "url", url, "timeout_ms", 5000,
	                 "rate_per_minute", 0);
}

/* One breakpad server at /submit with extra settings merged in (may be NULL, stolen). */
static json_t *one_server_config(json_t *extra)
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
static void uploader_start(json_t *cfg)
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

static const char *ulog(void)
{
	static char *text;

	free(text);
	text = it_read_file(E.log, NULL);
	return text ? text : "(no log)";
}

/* Waits until id's state is final (not pending). Returns 0 or -ETIMEDOUT. */
static int wait_final(const char *id, int timeout_ms, struct md_upload_state *ret)
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

static void wait_gone(const char *id)
{
	int64_t deadline = it_now_ms() + DELIVER_MS;

	while (ticket_present(id)) {
		ck_assert_msg(it_now_ms() < deadline, "ticket %s still in the outbox: %s", id,
		              ulog());
		usleep(10000);
	}
}

/* The value of one sample line of the metrics file, or -1 when absent. */
static double metric(const char *sample)
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
static void wait_metric_cmp(const char *sample, double want, bool at_least)
{
	int64_t deadline = it_now_ms() + 5000;

	while (at_least ? metric(sample) < want : metric(sample) != want) {
		ck_assert_msg(it_now_ms() < deadline, "metric %s is %g, want %g", sample,
		              metric(sample), want);
		usleep(20000);
	}
}

static void wait_metric(const char *sample, double want)
{
	wait_metric_cmp(sample, want, false);
}

/* The fields a collector must receive for report with the server's configured fields, as
 * docs/upload.md defines them. */
static json_t *expected_fields(json_t *report, json_t *configured)
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
static void check_request(json_t *req, json_t *report, json_t *configured)
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

/* ---- tests ---- */

START_TEST(every_field_and_byte_reaches_the_collector)
{
	json_t *ann = json_pack("{s:s, s:s, s:s, s:s, s:s}", "version", "2.5.1", "guid",
	                        "0f3c2a9e-55d1-4c7e-9b0b-1f2e3d4c5b6a", "note",
	                        "line 1\r\n--not-a-boundary\r\nContent-Disposition: x\r\n\r\nend",
	                        "größe", "✓ ünïcode", "bad\"key", "dropped");
	json_t *fields = json_pack("{s:s, s:s}", "channel", "beta", "sentry[tags][fleet]", "eu");
	json_t *report, *reqs, *req;
	struct md_upload_state st;
	char path[600];

	server_start(0);
	report = queue_ticket("fleet-app.4242.20261128T095651Z.4242", ann);
	uploader_start(one_server_config(json_pack("{s:O}", "fields", fields)));
	ck_assert_msg(wait_final("fleet-app.4242.20261128T095651Z.4242", DELIVER_MS, &st) == 0,
	              "not delivered: %s", ulog());
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 1);
	req = json_array_get(reqs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(req, "path")), "/submit");
	ck_assert_ptr_null(json_string_value(json_object_get(req, "content_encoding")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(req, "content_type")),
	                             "multipart/form-data; boundary="));
	check_request(req, report, fields);

	/* what mdctl shows: uploaded, with the collector's own report id */
	ck_assert_str_eq(md_upload_status_to_string(st.state), "uploaded");
	ck_assert_str_eq(st.server_id, json_string_value(json_object_get(req, "response_id")));
	ck_assert_uint_eq(st.attempts, 1);
	ck_assert_uint_eq(st.n_servers, 1);
	ck_assert_str_eq(st.servers[0].name, "main");
	wait_gone("fleet-app.4242.20261128T095651Z.4242");
	/* the report in the store is untouched: mdupload cannot write there */
	snprintf(path, sizeof(path), "%s/fleet-app.4242.20261128T095651Z.4242.json", E.dumps);
	ck_assert(exists(path));
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"uploaded\"}", 1);
	wait_metric("mdupload_queue_length", 0);
	ck_assert_int_eq(metric("mdupload_uploads_total{server=\"main\",outcome=\"retry\"}"), 0);
	ck_assert_int_gt(metric("mdupload_request_bytes_total{server=\"main\"}"), 1000);
	json_decref(reqs);
	json_decref(report);
	json_decref(fields);
}
END_TEST

START_TEST(gzip_body_decodes_to_the_same_bytes)
{
	json_t *report, *reqs, *req;
	struct md_upload_state st;

	server_start(0);
	report = queue_ticket("gz.1.20261128T095651Z.1", json_pack("{s:s}", "ver", "7"));
	uploader_start(one_server_config(json_pack("{s:b}", "gzip", 1)));
	ck_assert_msg(wait_final("gz.1.20261128T095651Z.1", DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 1);
	req = json_array_get(reqs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(req, "content_encoding")), "gzip");
	/* compressed on the wire, and the server's inflated body is the full form */
	ck_assert_int_lt(json_integer_value(json_object_get(req, "body_bytes")),
	                 json_integer_value(json_object_get(req, "decoded_bytes")));
	check_request(req, report, NULL);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(sentry_dsn_and_a_second_server_both_get_it)
{
	json_t *cfg = base_config(), *report, *reqs, *sentry = NULL, *bp = NULL, *r;
	struct md_upload_state st;
	char dsn[256];
	size_t i;

	server_start(0);
	snprintf(dsn, sizeof(dsn), "http://0123abcdef@127.0.0.1:%d/42", E.port);
	json_array_append_new(json_object_get(cfg, "servers"),
	                      json_pack("{s:s, s:s, s:i}", "name", "sentry", "sentry_dsn", dsn,
	                                "rate_per_minute", 0));
	json_array_append_new(json_object_get(cfg, "servers"), server_cfg("socorro", "/submit"));
	report = queue_ticket("two.1.20261128T095651Z.1", NULL);
	uploader_start(cfg);
	ck_assert_msg(wait_final("two.1.20261128T095651Z.1", DELIVER_MS, &st) == 0, "%s", ulog());
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 2);
	json_array_foreach(reqs, i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "path")), "/submit") == 0)
			bp = r;
		else
			sentry = r;
	}
	ck_assert_ptr_nonnull(bp);
	ck_assert_ptr_nonnull(sentry);
	/* Sentry's minidump endpoint, derived from the DSN */
	ck_assert_str_eq(json_string_value(json_object_get(sentry, "path")), "/api/42/minidump/");
	ck_assert_str_eq(json_string_value(json_object_get(sentry, "query")),
	                 "sentry_key=0123abcdef");
	check_request(sentry, report, NULL);
	check_request(bp, report, NULL);
	/* each server's own report id, per server in the state */
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	ck_assert_uint_eq(st.n_servers, 2);
	ck_assert_str_eq(st.servers[0].name, "sentry");
	ck_assert_str_eq(st.servers[0].server_id,
	                 json_string_value(json_object_get(sentry, "response_id")));
	ck_assert_str_eq(st.servers[1].server_id,
	                 json_string_value(json_object_get(bp, "response_id")));
	ck_assert_int_eq(st.servers[1].state, MD_UPLOAD_UPLOADED);
	wait_gone("two.1.20261128T095651Z.1");
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(server_down_then_up_is_delivered_after_recovery)
{
	const char *id = "down.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report, *reqs;
	int64_t deadline;
	int port;

	/* a port that certainly had a server, now closed */
	server_start(0);
	port = E.port;
	stop(&E.server, SIGTERM);
	report = queue_ticket(id, NULL);
	uploader_start(one_server_config(NULL));
	/* it keeps trying, and says why */
	deadline = it_now_ms() + DELIVER_MS;
	for (;;) {
		ck_assert_msg(it_now_ms() < deadline, "no failed attempts recorded: %s", ulog());
		if (md_upload_state_read(E.state, id, &st) == 0 && st.attempts >= 2)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(st.state, MD_UPLOAD_PENDING);
	ck_assert_msg(st.reason[0] != '\0', "a pending retry has a reason");
	ck_assert(ticket_present(id));
	server_start(port);
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "not delivered after recovery: %s",
	              ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	ck_assert_str_eq(st.reason, "");
	reqs = requests();
	ck_assert_int_eq(count_for(reqs, id), 1);
	check_request(json_array_get(reqs, 0), report, NULL);
	wait_gone(id);
	wait_metric_cmp("mdupload_uploads_total{server=\"main\",outcome=\"retry\"}", 2, true);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(http_500_is_retried_with_growing_backoff)
{
	const char *id = "e500.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report, *reqs;
	long long t[3];

	server_start(0);
	server_plan("status 500\nstatus 500\nok\n");
	report = queue_ticket(id, NULL);
	uploader_start(one_server_config(NULL));
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	ck_assert_uint_eq(st.attempts, 3);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 3);
	for (int i = 0; i < 3; i++)
		t[i] = json_integer_value(json_object_get(json_array_get(reqs, (size_t)i), "t_ms"));
	/* equal jitter: at least half of initial_ms, then at least half of twice that */
	ck_assert_msg(t[1] - t[0] >= INITIAL_MS / 2, "first retry after %lld ms", t[1] - t[0]);
	ck_assert_msg(t[2] - t[1] >= INITIAL_MS, "second retry after %lld ms", t[2] - t[1]);
	ck_assert_msg(t[2] - t[0] < 3 * MAX_MS, "retries took %lld ms", t[2] - t[0]);
	ck_assert_str_eq(st.server_id, json_string_value(json_object_get(json_array_get(reqs, 2),
	                                                                 "response_id")));
	check_request(json_array_get(reqs, 2), report, NULL);
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"retry\"}", 2);
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"uploaded\"}", 1);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(http_429_waits_for_retry_after)
{
	const char *id = "e429.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report, *reqs;
	long long gap;

	server_start(0);
	server_plan("status 429 retry-after=2\nok\n");
	report = queue_ticket(id, NULL);
	uploader_start(one_server_config(NULL));
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 2);
	gap = json_integer_value(json_object_get(json_array_get(reqs, 1), "t_ms")) -
	      json_integer_value(json_object_get(json_array_get(reqs, 0), "t_ms"));
	/* the backoff alone (max_ms 400) would have retried much sooner */
	ck_assert_msg(gap >= 2000 && gap < 3500, "retried %lld ms after a 429 with Retry-After: 2",
	              gap);
	check_request(json_array_get(reqs, 1), report, NULL);
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"rate_limited\"}", 1);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(slow_response_times_out_and_is_retried)
{
	const char *id = "slow.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report, *reqs;
	long long gap;

	server_start(0);
	server_plan("slow 5000\nok\n");
	report = queue_ticket(id, NULL);
	uploader_start(one_server_config(json_pack("{s:i}", "timeout_ms", 300)));
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	ck_assert_uint_eq(st.attempts, 2);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 2);
	gap = json_integer_value(json_object_get(json_array_get(reqs, 1), "t_ms")) -
	      json_integer_value(json_object_get(json_array_get(reqs, 0), "t_ms"));
	ck_assert_msg(gap >= 300 && gap < 5000, "retry %lld ms after a request timing out at 300",
	              gap);
	/* the id is the one of the answer that arrived, not of the abandoned one */
	ck_assert_str_eq(st.server_id, json_string_value(json_object_get(json_array_get(reqs, 1),
	                                                                 "response_id")));
	ck_assert_ptr_nonnull(strstr(ulog(), "within 300 ms"));
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"retry\"}", 1);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

#define RESTART_TICKETS 6

START_TEST(restart_mid_queue_loses_nothing_and_resends_nothing_delivered)
{
	char ids[RESTART_TICKETS][64];
	bool before[RESTART_TICKETS] = {0};
	json_t *reports[RESTART_TICKETS], *reqs;
	struct md_upload_state st;
	int64_t deadline;
	int done = 0, total = 0;

	server_start(0);
	server_plan("slow 150\n");
	for (int i = 0; i < RESTART_TICKETS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "queue.%d.20261128T095651Z.%d", 100 + i, 100 + i);
		reports[i] = queue_ticket(ids[i], json_pack("{s:s}", "n", ids[i]));
	}
	uploader_start(one_server_config(NULL));
	deadline = it_now_ms() + DELIVER_MS;
	while (done < 2) {
		ck_assert_msg(it_now_ms() < deadline, "not two uploads: %s", ulog());
		done = 0;
		for (int i = 0; i < RESTART_TICKETS; i++)
			done += md_upload_state_read(E.state, ids[i], &st) == 0 &&
			        st.state == MD_UPLOAD_UPLOADED;
		usleep(5000);
	}
	/* killed without warning, most likely with a request in flight */
	stop(&E.uploader, SIGKILL);
	done = 0;
	for (int i = 0; i < RESTART_TICKETS; i++) {
		before[i] = md_upload_state_read(E.state, ids[i], &st) == 0 &&
		            st.state == MD_UPLOAD_UPLOADED;
		done += before[i];
	}
	ck_assert_int_lt(done, RESTART_TICKETS);
	uploader_start(one_server_config(NULL));
	for (int i = 0; i < RESTART_TICKETS; i++) {
		ck_assert_msg(wait_final(ids[i], DELIVER_MS, &st) == 0, "%s lost: %s", ids[i],
		              ulog());
		ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
		wait_gone(ids[i]);
	}
	reqs = requests();
	for (int i = 0; i < RESTART_TICKETS; i++) {
		int n = count_for(reqs, ids[i]);

		ck_assert_msg(n >= 1, "%s never reached the server", ids[i]);
		if (before[i])
			ck_assert_msg(n == 1, "%s was uploaded before the restart and sent again",
			              ids[i]);
		total += n;
	}
	/* at most the one request in flight at the kill is repeated */
	ck_assert_int_le(total, RESTART_TICKETS + 1);
	for (int i = 0; i < RESTART_TICKETS; i++)
		json_decref(reports[i]);
	json_decref(reqs);
}
END_TEST

START_TEST(uploaded_state_with_a_leftover_ticket_is_not_resent)
{
	const char *id = "left.1.20261128T095651Z.1";
	struct md_upload_state st = {0}, after;
	json_t *report, *reqs;

	server_start(0);
	report = queue_ticket(id, NULL);
	/* as if mdupload died after recording the upload, before removing the ticket */
	ck_assert_int_eq(mkdir(E.state, 0755), 0);
	snprintf(st.id, sizeof(st.id), "%s", id);
	st.n_servers = 1;
	snprintf(st.servers[0].name, sizeof(st.servers[0].name), "main");
	st.servers[0].state = MD_UPLOAD_UPLOADED;
	snprintf(st.servers[0].server_id, sizeof(st.servers[0].server_id), "bp-earlier");
	st.servers[0].attempts = 1;
	md_upload_time_now(st.servers[0].time);
	md_upload_state_summarize(&st);
	ck_assert_int_eq(md_upload_state_write(E.state, &st), 0);
	uploader_start(one_server_config(NULL));
	wait_gone(id);
	usleep(QUIET_MS * 1000);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 0);
	ck_assert_int_eq(md_upload_state_read(E.state, id, &after), 0);
	ck_assert_str_eq(after.server_id, "bp-earlier");
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(dump_over_the_size_limit_is_skipped_not_retried)
{
	const char *id = "big.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report, *reqs;

	server_start(0);
	report = queue_ticket(id, NULL);
	uploader_start(one_server_config(json_pack("{s:i}", "max_bytes", 1000)));
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_str_eq(md_upload_status_to_string(st.state), "skipped");
	ck_assert_ptr_nonnull(strstr(st.reason, "max_bytes 1000"));
	wait_gone(id);
	usleep(QUIET_MS * 1000);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 0);
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"skipped\"}", 1);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(without_consent_nothing_is_sent_and_tickets_stay)
{
	const char *id = "noconsent.1.20261128T095651Z.1";
	struct md_upload_state st;
	int64_t deadline = it_now_ms() + DELIVER_MS;
	json_t *cfg, *report, *reqs;

	server_start(0);
	cfg = one_server_config(NULL);
	json_object_del(cfg, "consent"); /* the default is no consent */
	report = queue_ticket(id, NULL);
	uploader_start(cfg);
	while (md_upload_state_read(E.state, id, &st) != 0) {
		ck_assert_msg(it_now_ms() < deadline, "no state: %s", ulog());
		usleep(10000);
	}
	usleep(QUIET_MS * 1000);
	ck_assert_int_eq(md_upload_state_read(E.state, id, &st), 0);
	ck_assert_str_eq(md_upload_status_to_string(st.state), "pending");
	ck_assert_ptr_nonnull(strstr(st.reason, "consent"));
	ck_assert(ticket_present(id));
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 0);
	wait_metric("mdupload_consent", 0);
	wait_metric("mdupload_queue_length", 1);
	json_decref(reqs);
	json_decref(report);
}
END_TEST

START_TEST(invalid_ticket_is_reported_and_kept_while_others_go)
{
	const char *good = "good.1.20261128T095651Z.1", *bad = "bad.1.20261128T095651Z.1";
	struct md_upload_state st;
	json_t *report;
	char path[600];

	server_start(0);
	snprintf(path, sizeof(path), "%s/%s.json", E.outbox, bad);
	write_file(path, "{\"id\": \"bad.1", 13);
	report = queue_ticket(good, NULL);
	uploader_start(one_server_config(NULL));
	ck_assert_msg(wait_final(good, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	ck_assert_msg(wait_final(bad, DELIVER_MS, &st) == 0, "%s", ulog());
	ck_assert_str_eq(md_upload_status_to_string(st.state), "failed");
	ck_assert_ptr_nonnull(strstr(st.reason, "not a JSON object"));
	ck_assert(ticket_present(bad)); /* left for the operator */
	wait_metric("mdupload_tickets_invalid", 1);
	json_decref(report);
}
END_TEST

START_TEST(config_errors_name_the_key)
{
	const char *exe = it_env("MDUPLOAD");
	struct it_result res;
	char text[512];

	snprintf(text, sizeof(text),
	         "{\"consent\": true, \"servers\": [{\"name\": \"x\", \"url\": \"http://h/\", "
	         "\"gzipp\": true}]}");
	write_file(E.cfg, text, strlen(text));
	{
		const char *argv[] = {exe, "--check-config", "--config", E.cfg, NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
	}
	ck_assert_msg(res.exited && res.code == 1, "%s", it_result_status(&res));
	ck_assert_ptr_nonnull(strstr(res.err, "servers[0].gzipp: unknown key"));
	it_result_done(&res);
	snprintf(text, sizeof(text),
	         "{\"servers\": [{\"name\": \"s\", \"sentry_dsn\": "
	         "\"https://abc@o1.ingest.example.com/77\", \"gzip\": true}]}");
	write_file(E.cfg, text, strlen(text));
	{
		const char *argv[] = {exe, "--check-config", "--config", E.cfg, NULL};

		ck_assert_int_eq(it_run(argv, NULL, 10000, &res), 0);
	}
	ck_assert_msg(res.exited && res.code == 0, "%s %s", it_result_status(&res), res.err);
	ck_assert_ptr_nonnull(
	    strstr(res.out, "https://o1.ingest.example.com/api/77/minidump/?sentry_key=abc"));
	ck_assert_ptr_nonnull(strstr(res.out, "consent false"));
	it_result_done(&res);
}
END_TEST

/* Pure functions: Sentry DSNs, Retry-After, the collectors' answers. */
START_TEST(parsers_read_what_servers_and_operators_write)
{
	char *url, id[64];
	long s;

	ck_assert_int_eq(md_upload_sentry_url("https://k1@sentry.example.com/prefix/9", &url), 0);
	ck_assert_str_eq(url, "https://sentry.example.com/prefix/api/9/minidump/?sentry_key=k1");
	free(url);
	ck_assert_int_eq(md_upload_sentry_url("http://pub:secret@127.0.0.1:9000/3", &url), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:9000/api/3/minidump/?sentry_key=pub");
	free(url);
	ck_assert_int_lt(md_upload_sentry_url("https://sentry.example.com/9", &url), 0);
	ck_assert_int_lt(md_upload_sentry_url("ftp://k@h/9", &url), 0);

	ck_assert_int_eq(md_upload_retry_after("120", 0, &s), 0);
	ck_assert_int_eq(s, 120);
	ck_assert_int_eq(md_upload_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111717, &s), 0);
	ck_assert_int_eq(s, 60);
	ck_assert_int_lt(md_upload_retry_after("soon", 0, &s), 0);

	md_upload_response_id("CrashID=bp-6b8f1d2e-aa\n", 23, id, sizeof(id));
	ck_assert_str_eq(id, "bp-6b8f1d2e-aa");
	md_upload_response_id("{\"id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\"}", 41, id, sizeof(id));
	ck_assert_str_eq(id, "fc6d8c0c43fc4630ad850ee518f1b9d0");
	md_upload_response_id("{\"response\":\"ok\",\"_rxid\":\"0a000000-ab\"}", 39, id,
	                      sizeof(id));
	ck_assert_str_eq(id, "0a000000-ab");
	md_upload_response_id("3f2c1b0a9e8d7c6b\n", 17, id, sizeof(id));
	ck_assert_str_eq(id, "3f2c1b0a9e8d7c6b");
	md_upload_response_id("<html>thanks</html>", 19, id, sizeof(id));
	ck_assert_str_eq(id, "");
}
END_TEST

/* End to end: minidumpd with uploads enabled drops the ticket; mdupload delivers the dump. */
START_TEST(minidumpd_crash_reaches_the_collector)
{
	char text[1024], id[256];
	struct md_upload_state st;
	struct app_run run;
	json_t *report, *reqs;
	char *rpath;

	server_start(0);
	snprintf(text, sizeof(text), "{\"upload\": {\"enabled\": true, \"outbox\": \"%s\"}}",
	         E.outbox);
	daemon_start_opts(&(struct daemon_opts){.config = text});
	uploader_start(one_server_config(NULL));
	run = run_app("segv", "version=3.1.4", NULL, NULL);
	ck_assert_msg(!run.res.exited && run.res.sig == SIGSEGV, "crash-app: %s",
	              it_result_status(&run.res));
	rpath = find_dump(run.pid, "json");
	ck_assert_msg(rpath != NULL, "no report: %s", it_read_file(D.log, NULL));
	report = load_json(rpath);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(report, "id")));
	ck_assert_msg(wait_final(id, DELIVER_MS, &st) == 0, "%s\n%s", ulog(),
	              it_read_file(D.log, NULL));
	ck_assert_int_eq(st.state, MD_UPLOAD_UPLOADED);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), 1);
	check_request(json_array_get(reqs, 0), report, NULL);
	ck_assert_str_eq(field(json_array_get(reqs, 0), "ver"), "3.1.4");
	ck_assert_str_eq(field(json_array_get(reqs, 0), "minidumpd_signal"), "SIGSEGV");
	wait_gone(id);
	/* the operator's view: mdctl info shows the upload state and the collector's id */
	{
		const char *argv[] = {it_env("MDCTL"),  "info",  id,       "--dump-dir",  D.dumps,
		                      "--upload-state", E.state, "--json", "--raw-stack", NULL};
		struct it_result res;
		json_t *info, *up;

		ck_assert_int_eq(it_run(argv, NULL, 60000, &res), 0);
		ck_assert_msg(res.exited && res.code == 0, "mdctl info: %s %s",
		              it_result_status(&res), res.err);
		info = json_loads(res.out, 0, NULL);
		ck_assert_ptr_nonnull(info);
		up = json_object_get(info, "upload");
		ck_assert_str_eq(json_string_value(json_object_get(up, "state")), "uploaded");
		ck_assert_str_eq(json_string_value(json_object_get(up, "server_id")), st.server_id);
		json_decref(info);
		it_result_done(&res);
	}
	it_result_done(&run.res);
	free(rpath);
	json_decref(reqs);
	json_decref(report);
	daemon_stop();
}
END_TEST

static Suite *upload_suite(void)
{
	Suite *s = suite_create("upload");
	TCase *tc = tcase_create("uploader");
	TCase *unit = tcase_create("parsers");
	TCase *e2e = tcase_create("minidumpd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_field_and_byte_reaches_the_collector);
	tcase_add_test(tc, gzip_body_decodes_to_the_same_bytes);
	tcase_add_test(tc, sentry_dsn_and_a_second_server_both_get_it);
	tcase_add_test(tc, server_down_then_up_is_delivered_after_recovery);
	tcase_add_test(tc, http_500_is_retried_with_growing_backoff);
	tcase_add_test(tc, http_429_waits_for_retry_after);
	tcase_add_test(tc, slow_response_times_out_and_is_retried);
	tcase_add_test(tc, restart_mid_queue_loses_nothing_and_resends_nothing_delivered);
	tcase_add_test(tc, uploaded_state_with_a_leftover_ticket_is_not_resent);
	tcase_add_test(tc, dump_over_the_size_limit_is_skipped_not_retried);
	tcase_add_test(tc, without_consent_nothing_is_sent_and_tickets_stay);
	tcase_add_test(tc, invalid_ticket_is_reported_and_kept_while_others_go);
	tcase_add_test(tc, config_errors_name_the_key);
	suite_add_tcase(s, tc);
	tcase_add_test(unit, parsers_read_what_servers_and_operators_write);
	suite_add_tcase(s, unit);
	tcase_add_checked_fixture(e2e, setup, teardown);
	tcase_add_checked_fixture(e2e, NULL, daemon_teardown);
	tcase_set_timeout(e2e, 60);
	tcase_add_test(e2e, minidumpd_crash_reaches_the_collector);
	suite_add_tcase(s, e2e);
	return s;
}

CHECK_IT_SUITE("upload", upload_suite, "TARGET_THREADS");
