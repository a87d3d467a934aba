/* SPDX-License-Identifier: MIT */
/*
 * The privilege split of minidumpd (docs/security.md, "Privilege separation"): the front end
 * (connections, the protocol decoder, policy, store, reports, JSON, libuv) runs as an
 * unprivileged user with no capabilities; the capture worker, md-capture-worker, keeps root's
 * CAP_SYS_PTRACE and friends and links only the OS layer, the snapshot backend and the
 * writers. This header is their whole interface: fixed-size binary messages over a socketpair,
 * with descriptors as SCM_RIGHTS, each field bounded and checked by the side that receives it.
 * It includes nothing of libuv, jansson or the wire protocol.
 *
 * A capture: the front end sends a struct mdd_privsep_request on the worker's SOCK_SEQPACKET
 * socket with, in this order, the reply socket (one end of a fresh SOCK_STREAM socketpair),
 * the target's pidfd (MDD_PRIVSEP_HAS_PIDFD) and the core stream (MDD_PRIVSEP_OP_CORE). The
 * worker runs the capture on a thread of its own, writes the dump into the dump folder it was
 * given at start (never one named by a request), and answers one struct mdd_privsep_result on
 * the reply socket, then closes it. A reply socket that ends without a whole result means the
 * worker died; the target was resumed by the kernel when its tracer died.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md-diag.h"
#include "md-dump.h"
#include "md-output.h"
#include "md-snapshot.h"

#define MDD_PRIVSEP_MAGIC          0x5350444Du /* "MDPS" as the first four bytes */
#define MDD_PRIVSEP_VERSION        1u
#define MDD_PRIVSEP_WORKER         "md-capture-worker" /* installed in libexecdir/minidumpd */
#define MDD_PRIVSEP_CAPTURES_MAX   64u   /* captures running at once in the worker (--max-dumps) */
#define MDD_PRIVSEP_ANNOTATIONS    32u   /* = MD_PROTO_ANNOTATIONS_MAX, checked in md-capture.c */
#define MDD_PRIVSEP_KEY_MAX        65u   /* bytes of a key, NUL included (MD_PROTO_KEY_MAX + 1) */
#define MDD_PRIVSEP_VALUE_MAX      1025u /* bytes of a value, NUL included */
#define MDD_PRIVSEP_NAME_MAX       257u  /* bytes of the process name the client gave */
#define MDD_PRIVSEP_MESSAGE_MAX    256u  /* bytes of the worker's sentence about a failure */
#define MDD_PRIVSEP_STREAM_NAME    48u   /* bytes of a stream's name */
#define MDD_PRIVSEP_REPLY_GRACE_MS 10000 /* past the budget, how long the front end waits */
#define MDD_PRIVSEP_FDS_MAX        3     /* descriptors with one request */

enum mdd_privsep_op {
	MDD_PRIVSEP_OP_LIVE = 1, /* a live process, stopped with ptrace while it is read */
	MDD_PRIVSEP_OP_CORE = 2, /* a crashing task from the kernel's core stream */
	MDD_PRIVSEP_OP_EXE = 3,  /* no dump: the executable of a pinned process */
};

/* mdd_privsep_request.flags */
#define MDD_PRIVSEP_HAS_PIDFD   (1u << 0) /* a pidfd of the target comes after the reply socket */
#define MDD_PRIVSEP_HAS_CRASH   (1u << 1) /* crash holds the client's fault */
#define MDD_PRIVSEP_CHECK       (1u << 2) /* apply mdd_access_decide() once the target is stopped */
#define MDD_PRIVSEP_CHECK_GID   (1u << 3) /* ... with the gid check of a process's own dump */
#define MDD_PRIVSEP_ROOT_ASKS   (1u << 4) /* ... for root: a non-dumpable target is dumped */
#define MDD_PRIVSEP_PRIVATE     (1u << 5) /* the dump is root's alone whatever the worker finds */
#define MDD_PRIVSEP_COMPRESS    (1u << 6) /* stored as zstd */
#define MDD_PRIVSEP_FLAGS_KNOWN ((1u << 7) - 1)

struct mdd_privsep_request {
	uint32_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct mdd_privsep_request) */
	uint32_t op;   /* enum mdd_privsep_op */
	uint32_t flags;
	uint32_t pid;
	uint32_t budget_ms; /* the whole dump; stopping gets half */
	/* the check once stopped (md-access.h) */
	uint32_t requester_uid;
	uint32_t uid;
	uint32_t gid;
	uint64_t caps;
	uint64_t max_bytes; /* byte budget of the dump, 0: none */
	struct md_crash_info crash;
	char exe_hint[MDD_PRIVSEP_NAME_MAX]; /* names the file when the snapshot has no exe */
	uint32_t n_annotations;
	char keys[MDD_PRIVSEP_ANNOTATIONS][MDD_PRIVSEP_KEY_MAX];
	char values[MDD_PRIVSEP_ANNOTATIONS][MDD_PRIVSEP_VALUE_MAX];
};

/* mdd_privsep_result.flags */
#define MDD_PRIVSEP_R_NOT_DUMPABLE (1u << 0) /* root had a target not dumpable by its user */
#define MDD_PRIVSEP_R_PRIVATE      (1u << 1) /* the file is root's alone, 0600 */
#define MDD_PRIVSEP_R_TARGET_GONE  (1u << 2)
#define MDD_PRIVSEP_R_HAS_CRASH    (1u << 3) /* crash_* are the snapshot's crash */
#define MDD_PRIVSEP_R_PARTIAL      (1u << 4)
#define MDD_PRIVSEP_R_BUDGET_CUT   (1u << 5)

struct mdd_privsep_stream {
	uint32_t type;
	int32_t status; /* enum md_stream_status */
	int32_t error;
	uint32_t pad;
	uint64_t bytes;
	char name[MDD_PRIVSEP_STREAM_NAME];
};

struct mdd_privsep_diag {
	uint32_t kind; /* enum md_diag_kind */
	int32_t error;
	uint64_t id;
	char message[MD_DIAG_MSG_MAX];
};

struct mdd_privsep_result {
	uint32_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct mdd_privsep_result) */
	int32_t error; /* 0, or the -errno of step */
	uint32_t step; /* enum md_capture_step */
	uint32_t flags;
	char message[MDD_PRIVSEP_MESSAGE_MAX]; /* the access check's, or the core stream's */
	/* the file */
	char name[MD_OUTPUT_NAME_MAX];
	int64_t time;
	double started_ms, duration_ms, suspended_ms; /* md_now_ms(), the same clock here */
	uint64_t bytes_on_disk;
	/* what the writer wrote (struct md_dump_result) */
	uint64_t bytes;
	uint32_t threads, modules, memory_ranges, n_streams;
	uint64_t memory_bytes;
	struct mdd_privsep_stream streams[MD_STREAMS_MAX];
	/* what the report takes from the snapshot */
	uint32_t pid, uid, requesting_tid;
	uint32_t crash_tid, crash_code, crash_flags;
	uint64_t crash_address;
	char exe[sizeof(((struct md_process_info *)0)->exe)];
	uint64_t file_id; /* MDD_PRIVSEP_OP_EXE: the executable's identity */
	uint32_t n_diag;
	uint32_t pad;
	uint64_t diag_dropped;
	struct mdd_privsep_diag diag[MD_DIAG_MAX];
};

/* Whether a request read from the socket is well formed: magic, version, size, op, flags, the
 * descriptors that came with it (n_fds), bounded counts and NUL-terminated strings. Returns 0
 * or -EBADMSG, with what is wrong in why. Used by the worker. */
int mdd_privsep_request_check(const struct mdd_privsep_request *q, size_t len, unsigned n_fds,
                              char *why, size_t size);
/* The same for a result read by the front end. */
int mdd_privsep_result_check(const struct mdd_privsep_result *res, size_t len);

/* ---- the front end's side (md-privsep-linux.c; md-privsep-none.c where there is no split) */

struct mdd_config;

/* Called by minidumpd as root once its sockets are made: gives the dump folder (and the outbox)
 * to cfg->user, starts the worker for dump_dir, waits until it is ready, and drops this process
 * to cfg->user with no capabilities and no new privileges. Returns 1 when split, 0 when there is
 * no split (not started as root, "user": "root", or an OS without one), or -errno with the
 * reason in err. */
int mdd_privsep_start(const struct mdd_config *cfg, const char *dump_dir, char *err, size_t size);
/* Whether captures go to the worker. */
bool mdd_privsep_active(void);
/* The worker's socket (the loop watches it: the worker never speaks after it is ready, so any
 * event means it has gone) and its pid; -1 without a split. */
int mdd_privsep_socket(void);
int mdd_privsep_worker_pid(void);
/* Once its socket has closed: how the worker ended ("was killed by signal 9", "has exited with
 * status 1"), waiting a moment for its status (the socket closes before it is a zombie). */
void mdd_privsep_worker_gone(char *how, size_t size);
/* At exit, the dumps in flight done: closes the worker's socket, which ends it, and reaps it
 * (waiting at most a moment). */
void mdd_privsep_stop(void);
/* 0 when this process (as its user, after the drop) may write in folder, else -errno. */
int mdd_privsep_check_folder(const char *folder);
/* Sends request q (with pidfd and stream when >= 0) and waits for its result, at most the
 * request's budget and MDD_PRIVSEP_REPLY_GRACE_MS. Any thread. Returns 0 with *ret checked, or
 * -errno with the reason in why (the worker has gone, did not answer, answered garbage). */
int mdd_privsep_call(struct mdd_privsep_request *q, int pidfd, int stream,
                     struct mdd_privsep_result *ret, char *why, size_t size);
/* The executable of pid (pinned by pidfd when >= 0) and its file's identity: through the
 * worker when split (reading another user's /proc/PID/exe takes ptrace's rights), else
 * md_platform_process_exe(). */
int mdd_privsep_process_exe(uint32_t pid, int pidfd, char *buf, size_t size, uint64_t *ret_id);
