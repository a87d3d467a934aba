/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's internal interfaces: configuration, the libuv server with its connections, and
 * capture jobs that run on libuv's thread pool. Every resource a peer can consume has a named
 * limit here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "md-access.h"
#include "md-config.h"
#include "md-crashloop.h"
#include "md-fair.h"
#include "md-defaults.h"
#include "md-proto.h"
#include "md-report.h"
#include "md-snapshot.h"
#include "md-backend.h"
#include "md-os.h"
#include "md-peer.h"
#include "md-privsep.h"

#define MD_DAEMON_MAX_CONNECTIONS         512  /* open client connections; more are refused */
#define MD_DAEMON_MAX_CONNECTIONS_PER_UID 256  /* of them, one non-root user's; more are refused */
#define MD_DAEMON_MAX_QUEUED              1024 /* requests waiting for a dump slot */
#define MD_DAEMON_MESSAGE_MS              5000 /* time a peer has to finish a message it started */
#define MD_DAEMON_JOURNAL_PENDING         4096 /* report lines waiting for the journal; more dropped */
#define MD_DAEMON_LOG_LINE                1024 /* bytes per log line */
#define MD_DAEMON_GROUPS_MAX              256  /* supplementary groups of a requester we look at */

enum md_job_kind {
	MD_JOB_CRASH,    /* a client crashed: dump the peer with its fault context */
	MD_JOB_DUMP_NOW, /* a client asked for a dump of itself */
	MD_JOB_REQUEST,  /* mdctl asked for a dump of some pid */
	MD_JOB_COREDUMP, /* the kernel's coredump socket or pipe (md-coredump.c) */
	MD_JOB_KINDS,
};

struct md_coredump_job; /* md-coredump.c */

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
	struct md_principal
	    owner;         /* MD_JOB_REQUEST: the owner the policy allowed; it must stay so */
	bool not_dumpable; /* root had a dump of a process not dumpable by its own user */
	char process_name[MD_PROTO_NAME_MAX + 1];
	struct md_crash_info crash;
	bool has_crash;
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	volatile sig_atomic_t cancel;
	double queued_ms;
	bool counted; /* in its user's figures (struct md_fair_user) */
	/* results, written by the worker */
	int error;
	char message[256];
	bool has_report; /* the dump was saved: report holds what is known about it */
	struct md_report report;
	struct md_coredump_job *core; /* MD_JOB_COREDUMP: the kernel's connection (md-coredump.c) */
	struct md_job *next_queued;
};

struct md_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct md_daemon *d;
	struct md_peer peer;
	char who[MD_PRINCIPAL_STRING_MAX]; /* the peer's user as logs show it */
	int pidfd;
	bool has_peer;
	bool closing;
	struct md_job *job; /* the request in flight on this connection */
	char name[MD_PROTO_NAME_MAX + 1];
	/* the peer's executable, looked up at its hello (off the crash path: through the capture
	 * worker when split) for the crash-loop check; has_exe false: look it up at the crash */
	bool has_exe;
	char exe[MD_LOOP_EXE_MAX];
	uint64_t exe_id;
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	unsigned open_handles; /* pipe and timer: freed when both are closed */
	size_t len;
	uint8_t *buf; /* MD_PROTO_MAX_MESSAGE bytes, only while a message is arriving */
	struct md_conn *prev, *next;
};

/* Events counted by kind, for tests and operators: in the status reply ("events") and the
 * metrics file (minidumpd_events_total{event=...}); names in md_event_to_string(). Each is
 * counted where the daemon logs it. */
enum md_event {
	MD_EVENT_BAD_HEADER,       /* a header that is not our protocol */
	MD_EVENT_BAD_VERSION,      /* a header with a protocol version we do not speak */
	MD_EVENT_OVERSIZED,        /* a header announcing a message over the size limit */
	MD_EVENT_UNKNOWN_TYPE,     /* a header with a message type that does not exist */
	MD_EVENT_MALFORMED,        /* a whole message whose fields do not decode */
	MD_EVENT_DAEMON_ONLY_TYPE, /* a message type only the daemon sends */
	MD_EVENT_TRUNCATED,        /* connection closed in the middle of a message */
	MD_EVENT_TIMED_OUT,        /* message not completed within MD_DAEMON_MESSAGE_MS */
	MD_EVENT_FOREIGN_PID,      /* a peer claimed another pid (ignored) */
	MD_EVENT_FOREIGN_THREAD,   /* a peer named a thread not its own (its own pid used) */
	MD_EVENT_REGISTERED,       /* a client's hello */
	MD_EVENT_PARTIAL,          /* a dump kept though the target exited during it */
	MD_EVENT_FAILED_READ_ONLY, /* a dump failed: EROFS */
	MD_EVENT_FAILED_NO_SPACE,  /* a dump failed: ENOSPC or EDQUOT */
	MD_EVENT_COUNT,
};

struct md_counters {
	uint64_t events[MD_EVENT_COUNT];
	uint64_t connections;
	uint64_t refused;
	uint64_t requests;
	uint64_t bad_messages;
	uint64_t dumps_ok;
	uint64_t dumps_failed;
	uint64_t rate_limited;
	uint64_t by_kind[MD_JOB_KINDS]; /* successful dumps by enum md_job_kind */
	uint64_t bytes_written;
	double duration_ms_sum;
	double suspended_ms_sum;
};

/* One user's figures for the per-user limits (md-fair.h); forgotten when idle with a full
 * bucket. */
struct md_fair_user {
	struct md_principal user;
	struct md_fair_usage usage;
	struct md_fair_bucket bucket;
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
	struct md_fair_user *users; /* n_users of them: users with requests or a bucket not full */
	size_t n_users;
	double started_ms;
	bool socket_inherited; /* from systemd/launchd, not created by us */
	struct md_counters counters;
	struct md_loop_table *loops; /* crash-loop limiting */
	uv_timer_t store_timer;      /* periodic store limits and metrics */
	bool store_busy;             /* a periodic pass is on the thread pool */
	struct md_journal *journal;  /* reports.jsonl and the metrics file, off the loop thread */
	bool symbolize;              /* stacks go into reports (md_symbolize_enabled) */
	struct md_symbolize_queue *symbolize_queue; /* reports waiting for their stacks */
	struct md_coredump *coredump; /* the kernel's coredump socket, when configured */
};

/* md-log.c. Priorities are syslog's (RFC 5424 severities), named here so that no OS header
 * is needed to log. */
enum md_log_priority {
	MD_LOG_ERR = 3,
	MD_LOG_WARNING = 4,
	MD_LOG_NOTICE = 5,
	MD_LOG_INFO = 6,
	MD_LOG_DEBUG = 7,
};
void md_log_init(bool foreground);
void md_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs a saved dump's line; in the journal with MESSAGE_ID and MINIDUMPD_* fields taken from
 * report (NULL: the line alone). */
void md_log_dump(const struct md_report *report, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* md-syslog-posix.c (syslog), md-syslog-windows.c (the Application event log, source
 * "minidumpd"): the system log the daemon writes to when not in the foreground. */
void md_syslog_open(void);
void md_syslog(int priority, const char *line);

/* md-listen-posix.c (a Unix socket, created or inherited from systemd/launchd; with a second
 * inherited socket named "coredump", that one is the kernel's coredump socket),
 * md-listen-windows.c (a named pipe). */
extern int md_listen_coredump_fd;
int md_listen_inherited(int *ret_fd);
int md_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd);
/* Makes server listen on what md_listen_* returned (POSIX: opens the socket fd in it;
 * Windows: binds the named pipe). */
int md_listen_attach(uv_pipe_t *server, int listen_fd);
/* The identity of the peer of an accepted connection, from the OS. */
int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer);
/* Pins that peer (md_platform_pin_peer): returns a pidfd, -ENOSYS where the OS has none, or
 * another -errno when the peer cannot be pinned (it has exited: serve it nothing). */
int md_listen_pin_peer(uv_pipe_t *conn, struct md_peer *peer);

/* md-access.h: checks at the time of the dump (docs/security.md); md-capture.c: */
/* Whether job's requester may have job's target as it is now (call before attaching and again
 * once it is stopped): 0, with job->not_dumpable set when root gets a target not dumpable by
 * its user; or -EPERM/-ESRCH/-errno with job->error and job->message set. */
int md_access_check(struct md_job *job);

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
/* Queues a job that no client connection waits for (a coredump), as a crash; takes it. */
void md_server_submit(struct md_daemon *d, struct md_job *job);
/* Takes one of the peer's tokens for a dump-now or dump request: 0, or -EBUSY (sent to the peer
 * and logged) when its user has used up its rate. Root has no rate. */
int md_job_take_token(struct md_conn *c);
/* The per-user limits in force (max_running resolved from the workers). */
struct md_fair_limits md_job_limits(const struct md_config *cfg);

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

/* md-coredump.c: the kernel's coredump socket (docs/coredump.md). */
int md_coredump_start(struct md_daemon *d);
void md_coredump_stop(struct md_daemon *d);
/* A client's crash of pid was dumped through the shim: the kernel's call that follows when
 * the app dies by its signal is answered with a reject (one crash, one dump). */
void md_coredump_note_client_crash(struct md_daemon *d, uint32_t pid);
/* On the worker: the kernel's side of a coredump job (request, ack), then the capture's
 * backend options; returns 0 to dump, 1 when the job was answered without a dump, -errno. */
int md_coredump_prepare(struct md_job *job, struct md_backend_options *opts);
/* Adds core_pattern_mode, the namespace pid, the cgroup and why the dump is private. Returns 0
 * or -ENOMEM. */
int md_coredump_report(const struct md_job *job, struct md_report *r);
void md_coredump_job_free(struct md_job *job);
/* Closes the kernel's connection (and the helper's pipe) once the dump is written: the task
 * dies while the report is saved. The rest goes with md_coredump_job_free. */
void md_coredump_release(struct md_job *job);
/* The snapshot backend of a coredump job (the core stream's). */
const struct md_backend_ops *md_coredump_backend(void);

/* md-capture.c: runs on the thread pool; fills job->error/message/report. */
void md_capture_run(struct md_job *job);
void md_job_free(struct md_job *job);
/* Writes text as dir/name, 0600 (0640 with group gid >= 0), through a temporary file;
 * replace: over an existing file. Returns 0 or -errno. Any thread. */
int md_capture_write_file(const char *dir, const char *name, const char *text, int64_t gid,
                          bool replace);

/* md-symbolize-job.c: each saved dump's stacks, added to its report after the app was
 * released, one dump at a time on the thread pool (docs/symbolizer.md). */
#define MD_DAEMON_SYMBOLIZE_PENDING 64 /* reports waiting for their stacks; more get none */
/* Whether the daemon symbolizes (cfg->symbolize, or on when the helper is there). */
bool md_symbolize_enabled(const struct md_config *cfg);
/* Takes r over (it is emptied): its stacks are added and its file rewritten later. */
void md_symbolize_post(struct md_daemon *d, struct md_report *r);
/* Drops what has not started; called when the daemon stops. */
void md_symbolize_stop(struct md_daemon *d);

/* md-metrics.c: writes path (the metrics file) from a copy of the counters. Returns 0 or
 * -errno. Any thread. */
struct md_metrics_view {
	struct md_counters counters;
	unsigned connections;
	unsigned in_flight; /* dumps running or queued */
};
int md_metrics_write(const char *path, const struct md_metrics_view *v);
const char *md_event_to_string(enum md_event e);
/* The event of a header md_proto_header() refused with r (-errno). */
enum md_event md_event_of_header_error(int r);
/* The events as a JSON object {name: count}, or NULL without memory. */
json_t *md_events_to_json(const struct md_counters *k);
/* The event of a failed dump's job->error, or MD_EVENT_COUNT when it has none. */
enum md_event md_event_of_dump_error(int error);

/* md-notify-posix.c: sd_notify's protocol to $NOTIFY_SOCKET ("READY=1\nSTATUS=..."); 1 sent,
 * 0 none. md-notify-windows.c: nothing to notify yet. */
int md_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Connects to the service manager's socket ahead of md_notify(), while the daemon may still
 * reach it (before it drops its privileges). Nothing to connect to: nothing done. */
void md_notify_open(void);
