/* SPDX-License-Identifier: MIT */
/*
 * The one backend interface. Each platform/<os>/ folder implements these functions once;
 * meson builds exactly one of them. A backend stops the target, fills an md_snapshot
 * (common/md-snapshot.h) and resumes the target on every path. It never logs.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "md-snapshot.h"

struct md_platform_options {
	/* Polled between steps; when it becomes non-zero the backend stops what it is doing,
	 * resumes the target and returns -ECANCELED. May be NULL. */
	volatile sig_atomic_t *cancel;
	/* Crash details sent by the client, copied into the snapshot; NULL for a live dump. */
	const struct md_crash_info *crash;
	/* For a broker: an fd that pins the target's identity (Linux pidfd); -1 if none. */
	int pidfd;
};

/*
 * Stops every thread of pid and captures threads, registers, mappings, modules, system and
 * process info. On success the target stays stopped until md_platform_snapshot_resume() or
 * md_platform_snapshot_free(). Errors: -ESRCH no such process; -EPERM/-EACCES not allowed to
 * trace it; -ECANCELED cancelled; others -errno. The target is never left stopped on error.
 */
int md_platform_snapshot_new(uint32_t pid, const struct md_platform_options *opts,
			     struct md_snapshot **ret_snapshot);

/* Resumes every thread still stopped. Safe to call twice. Returns how long the target was
 * stopped, in microseconds. */
uint64_t md_platform_snapshot_resume(struct md_snapshot *s);

/* Resumes the target if needed and frees everything. Accepts NULL. */
void md_platform_snapshot_free(struct md_snapshot *s);

/* A sentence for the user about why pid cannot be traced, naming what is needed (root,
 * CAP_SYS_PTRACE, the ptrace_scope setting). Writes at most size bytes. */
void md_platform_explain_permission(uint32_t pid, char *buf, size_t size);

/* ---- What the broker needs to know about its peers (all from the kernel, never from a
 * message). ---- */

struct md_peer {
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
};

/* Credentials of the process at the other end of a connected local socket. */
int md_platform_peer_credentials(int fd, struct md_peer *ret_peer);

/* An fd that pins pid's identity (Linux pidfd), so pid reuse cannot redirect a dump. Returns
 * the fd, or -errno (-ENOSYS where the OS has no such thing: callers go on without). */
int md_platform_pin_process(uint32_t pid);

/* The effective uid and gid of pid, from the OS. */
int md_platform_process_owner(uint32_t pid, uint32_t *ret_uid, uint32_t *ret_gid);

/* The supplementary groups of pid, from the OS. Returns how many were stored (at most max) or
 * -errno. */
int md_platform_process_groups(uint32_t pid, uint32_t *gids, size_t max);

/* Returns 1 if tid is a thread of pid, 0 if not, -errno on error. */
int md_platform_thread_of(uint32_t pid, uint32_t tid);

/* Converts registers a client sent (proto's md_proto_context_kind layout) into a minidump
 * context. -EPROTONOSUPPORT for a kind this build does not know, -EBADMSG for a bad size. */
int md_platform_client_context(uint32_t kind, const void *data, size_t len,
			       struct md_context *ret_ctx);

/* The executable of pid: its path, and an identity of the file itself (device and inode
 * folded), so a rebuilt binary at the same path counts as another program. */
int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id);

/* ---- Added for Windows: mdctl's connection to the daemon, a Unix socket on POSIX
 * (platform/posix/posix-conn.c) and a named pipe on Windows (platform/windows/win-conn.c), so
 * that daemon/ needs no socket calls. ---- */

struct md_platform_conn;

/* Connects to the daemon's endpoint (a socket path, or a pipe name such as
 * \\.\pipe\minidumpd). -ENOENT/-ECONNREFUSED: nobody listens; -EAGAIN: the daemon is busy. */
int md_platform_conn_open(const char *endpoint, struct md_platform_conn **ret_conn);

/* Sends all len bytes, waiting at most timeout_ms. Returns 0 or -errno. */
int md_platform_conn_send(struct md_platform_conn *c, const void *buf, size_t len,
			  int timeout_ms);

/* Receives up to len bytes, waiting at most timeout_ms for some to arrive. Returns the count
 * (> 0), -ECONNRESET when the peer closed the connection, -ETIMEDOUT, or another -errno. */
int md_platform_conn_recv(struct md_platform_conn *c, void *buf, size_t len, int timeout_ms);

/* Closes the connection. Accepts NULL. */
void md_platform_conn_close(struct md_platform_conn *c);
