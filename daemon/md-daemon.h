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

#define MDD_DAEMON_MAX_CONNECTIONS 512 /* open client connections; more are refused */
#define MDD_DAEMON_MAX_CONNECTIONS_PER_UID                                                         \
	256                             /* of them, one non-root user's; more are refused          \
	                                 */
#define MDD_DAEMON_MAX_QUEUED      1024 /* requests waiting for a dump slot */
#define MDD_DAEMON_MESSAGE_MS      5000 /* time a peer has to finish a message it started */
#define MDD_DAEMON_JOURNAL_PENDING 4096 /* report lines waiting for the journal; more dropped */
#define MDD_DAEMON_LOG_LINE        1024 /* bytes per log line */
#define MDD_DAEMON_GROUPS_MAX      256  /* supplementary groups of a requester we look at */

enum mdd_job_kind {
	MDD_JOB_CRASH,    /* a client crashed: dump the peer with its fault context */
	MDD_JOB_DUMP_NOW, /* a client asked for a dump of itself */
	MDD_JOB_REQUEST,  /* mdctl asked for a dump of some pid */
	MDD_JOB_COREDUMP, /* the kernel's coredump socket or pipe (md-coredump.c) */
	MDD_JOB_KINDS,
};

struct mdd_coredump_job; /* md-coredump.c */

struct mdd_conn;
struct mdd_daemon;
struct mdd_journal;

struct mdd_job {
	uv_work_t work;
	uv_timer_t budget;
	struct mdd_daemon *d;
	struct mdd_conn *conn; /* NULL once the peer has gone */
	enum mdd_job_kind kind;
	uint32_t pid;
	int pidfd;
	struct md_peer requester;
	struct md_principal
	    owner;         /* MDD_JOB_REQUEST: the owner the policy allowed; it must stay so */
	bool not_dumpable; /* root had a dump of a process not dumpable by its own user */
	char process_name[MD_PROTO_NAME_MAX + 1];
	struct md_crash_info crash;
	bool has_crash;
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	volatile sig_atomic_t cancel;
	double queued_ms;
	bool counted; /* in its user's figures (struct mdd_fair_user) */
	/* results, written by the worker */
	int error;
	char message[256];
	bool has_report; /* the dump was saved: report holds what is known about it */
	struct md_report report;
	struct mdd_coredump_job
	    *core; /* MDD_JOB_COREDUMP: the kernel's connection (md-coredump.c) */
	struct mdd_job *next_queued;
};

struct mdd_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct mdd_daemon *d;
	struct md_peer peer;
	char who[MD_PRINCIPAL_STRING_MAX]; /* the peer's user as logs show it */
	int pidfd;
	bool has_peer;
	bool closing;
	struct mdd_job *job; /* the request in flight on this connection */
	char name[MD_PROTO_NAME_MAX + 1];
	/* the peer's executable, looked up at its hello (off the crash path: through the capture
	 * worker when split) for the crash-loop check; has_exe false: look it up at the crash */
	bool has_exe;
	char exe[MDD_LOOP_EXE_MAX];
	uint64_t exe_id;
	size_t n_annotations;
	char *keys[MD_PROTO_ANNOTATIONS_MAX];
	char *values[MD_PROTO_ANNOTATIONS_MAX];
	unsigned open_handles; /* pipe and timer: freed when both are closed */
	size_t len;
	uint8_t *buf; /* MD_PROTO_MAX_MESSAGE bytes, only while a message is arriving */
	struct mdd_conn *prev, *next;
};

/* Events counted by kind, for tests and operators: in the status reply ("events") and the
 * metrics file (minidumpd_events_total{event=...}); names in mdd_event_to_string(). Each is
 * counted where the daemon logs it. */
enum mdd_event {
	MDD_EVENT_BAD_HEADER,       /* a header that is not our protocol */
	MDD_EVENT_BAD_VERSION,      /* a header with a protocol version we do not speak */
	MDD_EVENT_OVERSIZED,        /* a header announcing a message over the size limit */
	MDD_EVENT_UNKNOWN_TYPE,     /* a header with a message type that does not exist */
	MDD_EVENT_MALFORMED,        /* a whole message whose fields do not decode */
	MDD_EVENT_DAEMON_ONLY_TYPE, /* a message type only the daemon sends */
	MDD_EVENT_TRUNCATED,        /* connection closed in the middle of a message */
	MDD_EVENT_TIMED_OUT,        /* message not completed within MDD_DAEMON_MESSAGE_MS */
	MDD_EVENT_FOREIGN_PID,      /* a peer claimed another pid (ignored) */
	MDD_EVENT_FOREIGN_THREAD,   /* a peer named a thread not its own (its own pid used) */
	MDD_EVENT_REGISTERED,       /* a client's hello */
	MDD_EVENT_PARTIAL,          /* a dump kept though the target exited during it */
	MDD_EVENT_FAILED_READ_ONLY, /* a dump failed: EROFS */
	MDD_EVENT_FAILED_NO_SPACE,  /* a dump failed: ENOSPC or EDQUOT */
	MDD_EVENT_COUNT,
};

struct mdd_counters {
	uint64_t events[MDD_EVENT_COUNT];
	uint64_t connections;
	uint64_t refused;
	uint64_t requests;
	uint64_t bad_messages;
	uint64_t dumps_ok;
	uint64_t dumps_failed;
	uint64_t rate_limited;
	uint64_t by_kind[MDD_JOB_KINDS]; /* successful dumps by enum mdd_job_kind */
	uint64_t bytes_written;
	double duration_ms_sum;
	double suspended_ms_sum;
};

/* One user's figures for the per-user limits (md-fair.h); forgotten when idle with a full
 * bucket. */
struct mdd_fair_user {
	struct md_principal user;
	struct mdd_fair_usage usage;
	struct mdd_fair_bucket bucket;
};

struct mdd_daemon {
	uv_loop_t *loop;
	const struct mdd_config *cfg;
	uv_pipe_t server;
	uv_signal_t sigterm, sigint;
	bool stopping;
	unsigned n_conns;
	struct mdd_conn *conns;
	unsigned running; /* jobs on the thread pool */
	struct mdd_job *queue_head, *queue_tail;
	unsigned queued;
	struct mdd_fair_user *users; /* n_users of them: users with requests or a bucket not full */
	size_t n_users;
	double started_ms;
	bool socket_inherited; /* from systemd/launchd, not created by us */
	struct mdd_counters counters;
	struct mdd_loop_table *loops; /* crash-loop limiting */
	uv_timer_t store_timer;       /* periodic store limits and metrics */
	bool store_busy;              /* a periodic pass is on the thread pool */
	struct mdd_journal *journal;  /* reports.jsonl and the metrics file, off the loop thread */
	bool symbolize;               /* stacks go into reports (mdd_symbolize_enabled) */
	struct mdd_symbolize_queue *symbolize_queue; /* reports waiting for their stacks */
	struct mdd_coredump *coredump; /* the kernel's coredump socket, when configured */
};

/* md-log.c. Priorities are syslog's (RFC 5424 severities), named here so that no OS header
 * is needed to log. */
enum mdd_log_priority {
	MDD_LOG_ERR = 3,
	MDD_LOG_WARNING = 4,
	MDD_LOG_NOTICE = 5,
	MDD_LOG_INFO = 6,
	MDD_LOG_DEBUG = 7,
};
void mdd_log_init(bool foreground);
void mdd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs a saved dump's line; in the journal with MESSAGE_ID and MINIDUMPD_* fields taken from
 * report (NULL: the line alone). */
void mdd_log_dump(const struct md_report *report, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* md-syslog-posix.c (syslog), md-syslog-windows.c (the Application event log, source
 * "minidumpd"): the system log the daemon writes to when not in the foreground. */
void mdd_syslog_open(void);
void mdd_syslog(int priority, const char *line);

/* md-listen-posix.c (a Unix socket, created or inherited from systemd/launchd; with a second
 * inherited socket named "coredump", that one is the kernel's coredump socket),
 * md-listen-windows.c (a named pipe). */
extern int mdd_listen_coredump_fd;
int mdd_listen_inherited(int *ret_fd);
int mdd_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd);
/* Makes server listen on what mdd_listen_* returned (POSIX: opens the socket fd in it;
 * Windows: binds the named pipe). */
int mdd_listen_attach(uv_pipe_t *server, int listen_fd);
/* The identity of the peer of an accepted connection, from the OS. */
int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer);
/* Pins that peer (md_platform_pin_peer): returns a pidfd, -ENOSYS where the OS has none, or
 * another -errno when the peer cannot be pinned (it has exited: serve it nothing). */
int mdd_listen_pin_peer(uv_pipe_t *conn, struct md_peer *peer);

/* md-access.h: checks at the time of the dump (docs/security.md); md-capture.c: */
/* Whether job's requester may have job's target as it is now (call before attaching and again
 * once it is stopped): 0, with job->not_dumpable set when root gets a target not dumpable by
 * its user; or -EPERM/-ESRCH/-errno with job->error and job->message set. */
int mdd_access_check(struct mdd_job *job);

/* md-server.c: the listening endpoint's lifetime. */
int mdd_server_start(struct mdd_daemon *d, int listen_fd);
void mdd_server_stop(struct mdd_daemon *d);

/* md-conn.c: connections and framing. */
void mdd_conn_accept(uv_stream_t *server, int status);
void mdd_conn_close(struct mdd_conn *c);
void mdd_conn_send_error(struct mdd_conn *c, int error, const char *text, bool close_after);
/* Sends text as a message of type with one text field. */
void mdd_conn_send_text(struct mdd_conn *c, enum md_proto_type type, const char *text);
/* Sends a report as a RESULT: whole if it fits a message, else without its stream and problem
 * lists ("truncated": true; the file has them all). */
void mdd_conn_send_report(struct mdd_conn *c, const struct md_report *r);
void mdd_conn_send_pong(struct mdd_conn *c);
void mdd_conn_free_annotations(size_t *n, char **keys, char **values);

/* md-dispatch.c: decodes a framed message, authorizes it and acts on it. */
void mdd_dispatch_message(struct mdd_conn *c, const uint8_t *buf, size_t len);

/* md-jobs.c: the capture queue with its concurrency limit and time budget. */
struct mdd_job *mdd_job_new(struct mdd_conn *c, enum mdd_job_kind kind, uint32_t pid,
                            const struct md_proto_msg *m);
void mdd_job_submit(struct mdd_conn *c, struct mdd_job *job);
void mdd_job_discard(struct mdd_job *job);
/* Queues a job that no client connection waits for (a coredump), as a crash; takes it. */
void mdd_server_submit(struct mdd_daemon *d, struct mdd_job *job);
/* Takes one of the peer's tokens for a dump-now or dump request: 0, or -EBUSY (sent to the peer
 * and logged) when its user has used up its rate. Root has no rate. */
int mdd_job_take_token(struct mdd_conn *c);
/* The per-user limits in force (max_running resolved from the workers). */
struct mdd_fair_limits mdd_job_limits(const struct mdd_config *cfg);

/* md-crashloop-report.c: a crash of a program in a crash loop is summarized, not dumped.
 * Returns true when the crash was handled so (the app has its reply). */
bool mdd_crashloop_handle(struct mdd_conn *c, const struct md_proto_msg *m, uint32_t tid);

/* md-journal.c: reports.jsonl (rotated at MD_STORE_JOURNAL_MAX, one old file kept) and the
 * metrics file, written on the thread pool in order; and the periodic store pass. */
int mdd_journal_start(struct mdd_daemon *d);
/* Appends r's line to the journal (r may be NULL: the metrics only) and, with summary_id, keeps
 * r as the crash-loop summary <summary_id>.json; then rewrites the metrics file from the
 * counters as they are now. Never blocks; never fails (a failure is logged). */
void mdd_journal_post(struct mdd_daemon *d, const struct md_report *r, const char *summary_id);
void mdd_journal_stop(struct mdd_daemon *d);
/* After the loop has run dry. */
void mdd_journal_free(struct mdd_daemon *d);

/* md-coredump.c: the kernel's coredump socket (docs/coredump.md). */
int mdd_coredump_start(struct mdd_daemon *d);
void mdd_coredump_stop(struct mdd_daemon *d);
/* A client's crash of pid was dumped through the shim: the kernel's call that follows when
 * the app dies by its signal is answered with a reject (one crash, one dump). */
void mdd_coredump_note_client_crash(struct mdd_daemon *d, uint32_t pid);
/* On the worker: the kernel's side of a coredump job (request, ack), then the capture's
 * backend options; returns 0 to dump, 1 when the job was answered without a dump, -errno. */
int mdd_coredump_prepare(struct mdd_job *job, struct md_backend_options *opts);
/* Adds core_pattern_mode, the namespace pid, the cgroup and why the dump is private. Returns 0
 * or -ENOMEM. */
int mdd_coredump_report(const struct mdd_job *job, struct md_report *r);
void mdd_coredump_job_free(struct mdd_job *job);
/* Closes the kernel's connection (and the helper's pipe) once the dump is written: the task
 * dies while the report is saved. The rest goes with mdd_coredump_job_free. */
void mdd_coredump_release(struct mdd_job *job);
/* The snapshot backend of a coredump job (the core stream's). */
const struct md_backend_ops *mdd_coredump_backend(void);

/* md-capture.c: runs on the thread pool; fills job->error/message/report. */
void mdd_capture_run(struct mdd_job *job);
void mdd_job_free(struct mdd_job *job);
/* Writes text as dir/name, 0600 (0640 with group gid >= 0), through a temporary file;
 * replace: over an existing file. Returns 0 or -errno. Any thread. */
int mdd_capture_write_file(const char *dir, const char *name, const char *text, int64_t gid,
                           bool replace);

/* md-symbolize-job.c: each saved dump's stacks, added to its report after the app was
 * released, one dump at a time on the thread pool (docs/symbolizer.md). */
#define MDD_DAEMON_SYMBOLIZE_PENDING 64 /* reports waiting for their stacks; more get none */
/* Whether the daemon symbolizes (cfg->symbolize, or on when the helper is there). */
bool mdd_symbolize_enabled(const struct mdd_config *cfg);
/* Takes r over (it is emptied): its stacks are added and its file rewritten later. */
void mdd_symbolize_post(struct mdd_daemon *d, struct md_report *r);
/* Drops what has not started; called when the daemon stops. */
void mdd_symbolize_stop(struct mdd_daemon *d);

/* md-metrics.c: writes path (the metrics file) from a copy of the counters. Returns 0 or
 * -errno. Any thread. */
struct mdd_metrics_view {
	struct mdd_counters counters;
	unsigned connections;
	unsigned in_flight; /* dumps running or queued */
};
int mdd_metrics_write(const char *path, const struct mdd_metrics_view *v);
const char *mdd_event_to_string(enum mdd_event e);
/* The event of a header md_proto_header() refused with r (-errno). */
enum mdd_event mdd_event_of_header_error(int r);
/* The events as a JSON object {name: count}, or NULL without memory. */
json_t *mdd_events_to_json(const struct mdd_counters *k);
/* The event of a failed dump's job->error, or MDD_EVENT_COUNT when it has none. */
enum mdd_event mdd_event_of_dump_error(int error);

/* md-notify-posix.c: sd_notify's protocol to $NOTIFY_SOCKET ("READY=1\nSTATUS=..."); 1 sent,
 * 0 none. md-notify-windows.c: nothing to notify yet. */
int mdd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Connects to the service manager's socket ahead of mdd_notify(), while the daemon may still
 * reach it (before it drops its privileges). Nothing to connect to: nothing done. */
void mdd_notify_open(void);
