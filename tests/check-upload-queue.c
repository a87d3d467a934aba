/* SPDX-License-Identifier: MIT */
/*
 * The uploader's suite, the queue: a restart mid-queue, state left by an earlier run, size
 * limits, consent, invalid tickets, configuration errors and the parsers of what servers and
 * operators write. See check-upload.c.
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

/* Runs mdupload --check-config on text, which must exit with code; res is the caller's to
 * free. */
static void check_config(const char *text, int code, struct it_result *res)
{
	const char *argv[] = {it_env("MDUPLOAD"), "--check-config", "--config", E.cfg, NULL};

	write_file(E.cfg, text, strlen(text));
	ck_assert_int_eq(it_run(argv, NULL, 10000, res), 0);
	ck_assert_msg(res->exited && res->code == code, "%s %s", it_result_status(res), res->err);
}

START_TEST(config_errors_name_the_key)
{
	struct it_result res;

	check_config("{\"consent\": true, \"servers\": [{\"name\": \"x\", \"url\": \"http://h/\", "
	             "\"gzipp\": true}]}",
	             1, &res);
	ck_assert_ptr_nonnull(strstr(res.err, "servers[0].gzipp: unknown key"));
	it_result_done(&res);
	check_config("{\"servers\": [{\"name\": \"s\", \"sentry_dsn\": "
	             "\"https://abc@o1.ingest.example.com/77\", \"gzip\": true}]}",
	             0, &res);
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

	ck_assert_int_eq(mdu_upload_sentry_url("https://k1@sentry.example.com/prefix/9", &url), 0);
	ck_assert_str_eq(url, "https://sentry.example.com/prefix/api/9/minidump/?sentry_key=k1");
	free(url);
	ck_assert_int_eq(mdu_upload_sentry_url("http://pub:secret@127.0.0.1:9000/3", &url), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:9000/api/3/minidump/?sentry_key=pub");
	free(url);
	ck_assert_int_lt(mdu_upload_sentry_url("https://sentry.example.com/9", &url), 0);
	ck_assert_int_lt(mdu_upload_sentry_url("ftp://k@h/9", &url), 0);

	ck_assert_int_eq(mdu_upload_retry_after("120", 0, &s), 0);
	ck_assert_int_eq(s, 120);
	ck_assert_int_eq(mdu_upload_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111717, &s), 0);
	ck_assert_int_eq(s, 60);
	ck_assert_int_lt(mdu_upload_retry_after("soon", 0, &s), 0);

	mdu_upload_response_id("CrashID=bp-6b8f1d2e-aa\n", 23, id, sizeof(id));
	ck_assert_str_eq(id, "bp-6b8f1d2e-aa");
	mdu_upload_response_id("{\"id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\"}", 41, id, sizeof(id));
	ck_assert_str_eq(id, "fc6d8c0c43fc4630ad850ee518f1b9d0");
	mdu_upload_response_id("{\"response\":\"ok\",\"_rxid\":\"0a000000-ab\"}", 39, id,
	                       sizeof(id));
	ck_assert_str_eq(id, "0a000000-ab");
	mdu_upload_response_id("3f2c1b0a9e8d7c6b\n", 17, id, sizeof(id));
	ck_assert_str_eq(id, "3f2c1b0a9e8d7c6b");
	mdu_upload_response_id("<html>thanks</html>", 19, id, sizeof(id));
	ck_assert_str_eq(id, "");
}
END_TEST

CHECK_SUITE_FN(upload_queue_suite, "upload-queue",
               CHECK_CASE("queue", setup, teardown, 60,
                          CHECK_TEST(restart_mid_queue_loses_nothing_and_resends_nothing_delivered),
                          CHECK_TEST(uploaded_state_with_a_leftover_ticket_is_not_resent),
                          CHECK_TEST(dump_over_the_size_limit_is_skipped_not_retried),
                          CHECK_TEST(without_consent_nothing_is_sent_and_tickets_stay),
                          CHECK_TEST(invalid_ticket_is_reported_and_kept_while_others_go),
                          CHECK_TEST(config_errors_name_the_key)),
               CHECK_CASE_PLAIN("parsers",
                                CHECK_TEST(parsers_read_what_servers_and_operators_write)));

CHECK_IT_SUITE("upload-queue", upload_queue_suite, "TARGET_THREADS");
