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
#include "md-proto.h"
#include "md-snapshot.h"
#include "md-backend.h"
#include "md-os.h"
#include "md-peer.h"

#define MD_DAEMON_SOCKET_DEFAULT   MD_PROTO_SOCKET_DEFAULT
#define MD_DAEMON_DUMP_DIR_DEFAULT "/var/lib/minidumpd/dumps"

#define MD_DAEMON_MAX_CONNECTIONS   512   /* open client connections; more are refused */
#define MD_DAEMON_MAX_CONNECTIONS_PER_UID 256 /* of them, one non-root user's; more are refused */
#define MD_DAEMON_MAX_DUMPS_DEFAULT 4     /* dumps in flight at once */
#define MD_DAEMON_MAX_QUEUED        1024  /* requests waiting for a dump slot */
#define MD_DAEMON_DUMP_BUDGET_MS    30000 /* time one dump may take before it is cancelled */
#define MD_DAEMON_MESSAGE_MS        5000  /* time a peer has to finish a message it started */
#define MD_DAEMON_LOG_LINE          1024  /* bytes per log line */
#define MD_DAEMON_GROUPS_MAX        256   /* supplementary groups of a requester we look at */


enum md_job_kind {
	MD_JOB_CRASH,    /* a client crashed: dump the peer with its fault context */
	MD_JOB_DUMP_NOW, /* a client asked for a dump of itself */
	MD_JOB_REQUEST,  /* mdctl asked for a dump of some pid */
};

struct md_conn;
struct md_daemon;

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
	char *report; /* JSON text, malloc'd */
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
};

/* md-log.c */
void md_log_init(bool foreground);
void md_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs a saved dump's line; in the journal with MESSAGE_ID and MINIDUMPD_* fields taken from
 * report (the dump's JSON report text; NULL: the line alone). */
void md_log_dump(const char *report, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* md-listen.c: the listening socket, created or inherited from systemd/launchd. */
int md_listen_inherited(int *ret_fd);
int md_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd);
/* Makes server listen on what md_listen_* returned (POSIX: opens the socket fd in it;
 * Windows: binds the named pipe; platform/windows/md-listen-windows.c). */
int md_listen_attach(uv_pipe_t *server, int listen_fd);
/* The identity of the peer of an accepted connection, from the OS. */
int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer);

/* md-server.c */
int md_server_start(struct md_daemon *d, int listen_fd);
void md_server_stop(struct md_daemon *d);
void md_server_job_done(struct md_job *job);

/* md-capture.c: runs on the thread pool; fills job->error/message/report. */
void md_capture_run(struct md_job *job);
void md_job_free(struct md_job *job);

double md_now_ms(void);

/* md-metrics.c: writes cfg->metrics_file (if set). Returns 0 or -errno. */
int md_metrics_write(struct md_daemon *d);

/* md-notify.c: sd_notify's protocol to $NOTIFY_SOCKET ("READY=1\nSTATUS=..."); 1 sent, 0 none. */
int md_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
