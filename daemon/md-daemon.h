/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's internal interfaces: configuration, the libuv server with its connections, and
 * capture jobs that run on libuv's thread pool. Every resource a peer can consume has a named
 * limit here.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "md-config.h"
#include "md-crashloop.h"
#include "md-defaults.h"
#include "md-proto.h"
#include "md-report.h"
#include "md-snapshot.h"
#include "md-backend.h"
#include "md-os.h"
#include "md-peer.h"

#define MD_DAEMON_MAX_CONNECTIONS   512   /* open client connections; more are refused */
#define MD_DAEMON_MAX_CONNECTIONS_PER_UID 256   /* of them, one non-root user's; more are refused */
#define MD_DAEMON_MAX_QUEUED              1024  /* requests waiting for a dump slot */
#define MD_DAEMON_MESSAGE_MS        5000  /* time a peer has to finish a message it started */
#define MD_DAEMON_JOURNAL_PENDING         4096 /* report lines waiting for the journal; more dropped */
#define MD_DAEMON_LOG_LINE          1024  /* bytes per log line */
#define MD_DAEMON_GROUPS_MAX        256   /* supplementary groups of a requester we look at */


enum md_job_kind {
	MD_JOB_CRASH,    /* a client crashed: dump the peer with its fault context */
	MD_JOB_DUMP_NOW, /* a client asked for a dump of itself */
	MD_JOB_REQUEST,  /* mdctl asked for a dump of some pid */
};

struct md_conn;
struct md_daemon;
struct md_journal;

struct md_job {
	uv_work_t work;
	uv_timer_t budget;
	struct md_daemon *d;
	struct md_conn *conn; /* NULL once the peer has gone */
	enum md_job_kind kind;
	uint32_t pid;
	int pidfd;
	struct md_peer requester;
	bool expect_owner; /* the target must still belong to owner_uid once it is stopped */
	uint32_t owner_uid;
	char process_name[MD_PROTO_NAME_MAX + 1];
	struct md_crash_info crash;
	bool has_crash;
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	volatile sig_atomic_t cancel;
	double queued_ms;
	/* results, written by the worker */
	int error;
	char message[256];
	bool has_report; /* the dump was saved: report holds what is known about it */
	struct md_report report;
	struct md_job *next_queued;
};

struct md_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct md_daemon *d;
	struct md_peer peer;
	int pidfd;
	bool has_peer;
	bool closing;
	struct md_job *job; /* the request in flight on this connection */
	char name[MD_PROTO_NAME_MAX + 1];
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	unsigned open_handles; /* pipe and timer: freed when both are closed */
	size_t len;
	uint8_t *buf; /* MD_PROTO_MAX_MESSAGE bytes, only while a message is arriving */
	struct md_conn *prev, *next;
};

struct md_counters {
	uint64_t connections;
	uint64_t refused;
	uint64_t requests;
	uint64_t bad_messages;
	uint64_t dumps_ok;
	uint64_t dumps_failed;
	uint64_t rate_limited;
	uint64_t by_kind[3]; /* successful dumps by enum md_job_kind */
	uint64_t bytes_written;
	double duration_ms_sum;
	double suspended_ms_sum;
};

struct md_daemon {
	uv_loop_t *loop;
	const struct md_config *cfg;
	uv_pipe_t server;
	uv_signal_t sigterm, sigint;
	bool stopping;
	unsigned n_conns;
	struct md_conn *conns;
	unsigned running; /* jobs on the thread pool */
	struct md_job *queue_head, *queue_tail;
	unsigned queued;
	double started_ms;
	struct md_counters counters;
	struct md_loop_table *loops; /* crash-loop limiting */
	uv_timer_t store_timer;      /* periodic store limits and metrics */
	bool store_busy;             /* a periodic pass is on the thread pool */
	struct md_journal *journal;  /* reports.jsonl and the metrics file, off the loop thread */
};

/* md-log.c */
void md_log_init(bool foreground);
void md_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* md-listen.c: the listening socket, created or inherited from systemd/launchd. */
int md_listen_inherited(int *ret_fd);
int md_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd);
/* Makes server listen on what md_listen_* returned (POSIX: opens the socket fd in it;
 * Windows: binds the named pipe; platform/windows/md-listen-windows.c). */
int md_listen_attach(uv_pipe_t *server, int listen_fd);
/* The identity of the peer of an accepted connection, from the OS. */
int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer);

/* md-server.c: the listening endpoint's lifetime. */
int md_server_start(struct md_daemon *d, int listen_fd);
void md_server_stop(struct md_daemon *d);

/* md-conn.c: connections and framing. */
void md_conn_accept(uv_stream_t *server, int status);
void md_conn_close(struct md_conn *c);
void md_conn_send_error(struct md_conn *c, int error, const char *text, bool close_after);
/* Sends text as a message of type with one text field. */
void md_conn_send_text(struct md_conn *c, enum md_proto_type type, const char *text);
/* Sends a report as a RESULT: whole if it fits a message, else without its stream and problem
 * lists ("truncated": true; the file has them all). */
void md_conn_send_report(struct md_conn *c, const struct md_report *r);
void md_conn_send_pong(struct md_conn *c);
void md_conn_free_annotations(size_t *n, char **keys, char **values);

/* md-dispatch.c: decodes a framed message, authorizes it and acts on it. */
void md_dispatch_message(struct md_conn *c, const uint8_t *buf, size_t len);

/* md-jobs.c: the capture queue with its concurrency limit and time budget. */
struct md_job *md_job_new(struct md_conn *c, enum md_job_kind kind, uint32_t pid,
                          const struct md_proto_msg *m);
void md_job_submit(struct md_conn *c, struct md_job *job);
void md_job_discard(struct md_job *job);

/* md-crashloop-report.c: a crash of a program in a crash loop is summarized, not dumped.
 * Returns true when the crash was handled so (the app has its reply). */
bool md_crashloop_handle(struct md_conn *c, const struct md_proto_msg *m, uint32_t tid);

/* md-journal.c: reports.jsonl (rotated at MD_STORE_JOURNAL_MAX, one old file kept) and the
 * metrics file, written on the thread pool in order; and the periodic store pass. */
int md_journal_start(struct md_daemon *d);
/* Appends r's line to the journal (r may be NULL: the metrics only) and, with summary_id, keeps
 * r as the crash-loop summary <summary_id>.json; then rewrites the metrics file from the
 * counters as they are now. Never blocks; never fails (a failure is logged). */
void md_journal_post(struct md_daemon *d, const struct md_report *r, const char *summary_id);
void md_journal_stop(struct md_daemon *d);
/* After the loop has run dry. */
void md_journal_free(struct md_daemon *d);

/* md-capture.c: runs on the thread pool; fills job->error/message/report. */
void md_capture_run(struct md_job *job);
void md_job_free(struct md_job *job);

double md_now_ms(void);

/* md-metrics.c: writes path (the metrics file) from a copy of the counters. Returns 0 or
 * -errno. Any thread. */
struct md_metrics_view {
	struct md_counters counters;
	unsigned connections;
	unsigned in_flight; /* dumps running or queued */
};
int md_metrics_write(const char *path, const struct md_metrics_view *v);

/* md-notify.c: sd_notify's protocol to $NOTIFY_SOCKET ("READY=1\nSTATUS=..."); 1 sent, 0 none. */
int md_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
