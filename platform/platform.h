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

/* ---- Added for minidumpd on Windows: the OS-specific pieces of the daemon's store,
 * configuration and start-up, so that daemon/ makes no POSIX-only calls. POSIX versions in
 * platform/posix/posix-daemon.c, Windows ones in platform/windows/win-daemon.c. ---- */

/* Gives the open file fd to group gid and makes it readable by that group (mode 0640 on
 * POSIX). Returns 0 or -errno; -EOPNOTSUPP, whatever fd is, where files have no owning group
 * (Windows), so a caller may ask with fd -1 whether this OS can do it at all. */
int md_platform_set_file_group(int fd, int64_t gid);

/* The uid of the user called name (Windows: the RID of the account's SID, the same stand-in
 * for a uid as md_platform_process_owner's). -ENOENT when there is no such user. */
int md_platform_user_by_name(const char *name, uint32_t *ret_uid);

/* The gid of the group called name (Windows: the RID of the group's SID). -ENOENT when there
 * is no such group. */
int md_platform_group_by_name(const char *name, uint32_t *ret_gid);

/* Bytes that an unprivileged user may still write on the filesystem holding path. */
int md_platform_free_space(const char *path, uint64_t *ret_bytes);

/* Raises this process's soft limit on open files towards want, never past the hard limit, and
 * stores the limit now in effect (UINT64_MAX where the OS has no such limit). Returns 0, or
 * -errno when the limit cannot even be read. */
int md_platform_raise_fd_limit(uint64_t want, uint64_t *ret_limit);

/* Whether path is absolute on this OS: "/..." on POSIX; "C:\...", "C:/..." or "\\..." on
 * Windows. */
bool md_platform_path_is_absolute(const char *path);
