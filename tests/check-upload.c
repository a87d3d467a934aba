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

#include "upload-util.h"
#include "upload-config.h"
#include "upload-form.h"

/* Waits until id is final, which must be uploaded, and returns what the server received,
 * which must be n requests (owned). */
static json_t *uploaded(const char *id, struct md_upload_state *st, size_t n)
{
	json_t *reqs;

	ck_assert_msg(wait_final(id, DELIVER_MS, st) == 0, "%s not delivered: %s", id, ulog());
	ck_assert_int_eq(st->state, MD_UPLOAD_UPLOADED);
	reqs = requests();
	ck_assert_uint_eq(json_array_size(reqs), n);
	return reqs;
}

/* When the server received request i, in ms. */
static long long request_ms(json_t *reqs, size_t i)
{
	return json_integer_value(json_object_get(json_array_get(reqs, i), "t_ms"));
}

/* The report id the server answered request i with. */
static const char *response_id(json_t *reqs, size_t i)
{
	return json_string_value(json_object_get(json_array_get(reqs, i), "response_id"));
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
	reqs = uploaded("fleet-app.4242.20261128T095651Z.4242", &st, 1);
	req = json_array_get(reqs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(req, "path")), "/submit");
	ck_assert_ptr_null(json_string_value(json_object_get(req, "content_encoding")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(req, "content_type")),
	                             "multipart/form-data; boundary="));
	check_request(req, report, fields);

	/* what mdctl shows: uploaded, with the collector's own report id */
	ck_assert_str_eq(md_upload_status_to_string(st.state), "uploaded");
	ck_assert_str_eq(st.server_id, response_id(reqs, 0));
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
	reqs = uploaded("gz.1.20261128T095651Z.1", &st, 1);
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
	reqs = uploaded("two.1.20261128T095651Z.1", &st, 2);
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
	reqs = uploaded(id, &st, 3);
	ck_assert_uint_eq(st.attempts, 3);
	for (size_t i = 0; i < 3; i++)
		t[i] = request_ms(reqs, i);
	/* equal jitter: at least half of initial_ms, then at least half of twice that */
	ck_assert_msg(t[1] - t[0] >= INITIAL_MS / 2, "first retry after %lld ms", t[1] - t[0]);
	ck_assert_msg(t[2] - t[1] >= INITIAL_MS, "second retry after %lld ms", t[2] - t[1]);
	ck_assert_msg(t[2] - t[0] < 3 * MAX_MS, "retries took %lld ms", t[2] - t[0]);
	ck_assert_str_eq(st.server_id, response_id(reqs, 2));
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
	reqs = uploaded(id, &st, 2);
	gap = request_ms(reqs, 1) - request_ms(reqs, 0);
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
	reqs = uploaded(id, &st, 2);
	ck_assert_uint_eq(st.attempts, 2);
	gap = request_ms(reqs, 1) - request_ms(reqs, 0);
	ck_assert_msg(gap >= 300 && gap < 5000, "retry %lld ms after a request timing out at 300",
	              gap);
	/* the id is the one of the answer that arrived, not of the abandoned one */
	ck_assert_str_eq(st.server_id, response_id(reqs, 1));
	ck_assert_ptr_nonnull(strstr(ulog(), "within 300 ms"));
	wait_metric("mdupload_uploads_total{server=\"main\",outcome=\"retry\"}", 1);
	json_decref(reqs);
	json_decref(report);
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

/* The end-to-end case's fixture: the uploader's (upload-util.c) and the daemon's, torn down in
 * the reverse order (the daemon first). */
static void e2e_teardown(void)
{
	daemon_teardown();
	teardown();
}

CHECK_SUITE_FN(upload_suite, "upload",
               CHECK_CASE("uploader", setup, teardown, 60,
                          CHECK_TEST(every_field_and_byte_reaches_the_collector),
                          CHECK_TEST(gzip_body_decodes_to_the_same_bytes),
                          CHECK_TEST(sentry_dsn_and_a_second_server_both_get_it),
                          CHECK_TEST(server_down_then_up_is_delivered_after_recovery),
                          CHECK_TEST(http_500_is_retried_with_growing_backoff),
                          CHECK_TEST(http_429_waits_for_retry_after),
                          CHECK_TEST(slow_response_times_out_and_is_retried)),
               CHECK_CASE("minidumpd", setup, e2e_teardown, 60,
                          CHECK_TEST(minidumpd_crash_reaches_the_collector)));

CHECK_IT_SUITE("upload", upload_suite, "TARGET_THREADS");
