/* SPDX-License-Identifier: MIT */
/*
 * The OS layer the programs use: the connection to the daemon's endpoint (a Unix socket on
 * POSIX, a named pipe on Windows) and the few file-system and process-limit calls the daemon's
 * store and configuration need. One implementation per OS family: platform/posix/,
 * platform/windows/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Gives the open file fd to group gid and makes it readable by that group (mode 0640 on
 * POSIX). Returns 0 or -errno; -EOPNOTSUPP, whatever fd is, where files have no owning group
 * (Windows), so a caller may ask with fd -1 whether this OS can do it at all. */
int md_platform_set_file_group(int fd, int64_t gid);


/* Bytes that an unprivileged user may still write on the filesystem holding path. */
int md_platform_free_space(const char *path, uint64_t *ret_bytes);

/* Raises this process's soft limit on open files towards want, never past the hard limit, and
 * stores the limit now in effect (UINT64_MAX where the OS has no such limit). Returns 0, or
 * -errno when the limit cannot even be read. */
int md_platform_raise_fd_limit(uint64_t want, uint64_t *ret_limit);

/* Whether path is absolute on this OS: "/..." on POSIX; "C:\...", "C:/..." or "\\..." on
 * Windows. */
bool md_platform_path_is_absolute(const char *path);
