/* SPDX-License-Identifier: MIT */
/*
 * What the uploader's suites (check-upload*.c) share (upload-util.c): the folders and
 * processes of a test (E), the test HTTP server and what it received, queued dumps and
 * tickets, mdupload's configuration, log, state and metrics.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "daemon-util.h"
#include "integration-util.h"
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

extern struct env E;

void write_file(const char *path, const void *data, size_t len);

bool exists(const char *path);

void setup(void);

int stop(pid_t *pid, int sig);

void teardown(void);

void server_start(int port);

void server_plan(const char *plan);

/* Every request the server recorded, in order. */
json_t *requests(void);

const char *field(json_t *req, const char *name);

int count_for(json_t *reqs, const char *id);

/* A real dump of tests/target-threads made by mdctl, once per test; later dumps are copies
 * with a distinct trailer, so a mixed-up upload shows. */
char *make_dump(const char *id);

/* Queues id the way minidumpd does: its report, written elsewhere, renamed into the outbox.
 * annotations is stolen. Returns the report (owned). */
json_t *queue_ticket(const char *id, json_t *annotations);

bool ticket_present(const char *id);

json_t *base_config(void);

json_t *server_cfg(const char *name, const char *path);

/* One breakpad server at /submit with extra settings merged in (may be NULL, stolen). */
json_t *one_server_config(json_t *extra);

/* Starts mdupload with cfg (stolen); its stderr is appended to E.log. */
void uploader_start(json_t *cfg);

const char *ulog(void);

/* Waits until id's state is final (not pending). Returns 0 or -ETIMEDOUT. */
int wait_final(const char *id, int timeout_ms, struct md_upload_state *ret);

void wait_gone(const char *id);

/* The value of one sample line of the metrics file, or -1 when absent. */
double metric(const char *sample);

/* Waits until the metrics file shows sample == want, or >= want with at_least (the file is
 * written at most once a second). */
void wait_metric_cmp(const char *sample, double want, bool at_least);

void wait_metric(const char *sample, double want);

/* The fields a collector must receive for report with the server's configured fields, as
 * docs/upload.md defines them. */
json_t *expected_fields(json_t *report, json_t *configured);

/* The request req carries report's dump byte for byte and exactly the expected fields. */
void check_request(json_t *req, json_t *report, json_t *configured);
