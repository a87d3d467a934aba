/* SPDX-License-Identifier: MIT */
/*
 * The OS layer every library and program uses (libmdos, below common/): files, time, signals,
 * the connection to the daemon's endpoint (a Unix socket on POSIX, a named pipe on Windows)
 * and the few file-system and process-limit calls the daemon's store and configuration need.
 * Each function is named for what it guarantees, and keeps that guarantee on every OS; no
 * POSIX name is redefined anywhere. One implementation per OS family: platform/posix/os.c and
 * platform/windows/os.c (with posix-*.c, win-*.c), and platform/os-io.c on top of either.
 * Nothing here logs; errors are -errno.
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
int md_platform_conn_send(struct md_platform_conn *c, const void *buf, size_t len, int timeout_ms);

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

/* Where path's last component starts, after its last separator ('/'; Windows: '/' or '\\'),
 * or NULL when it has none. *ret_dir_len is the length of the folder before it, a root's
 * separator kept: "/" for "/file" (Windows also "C:\\" for "C:\\file"). */
const char *md_platform_path_name(const char *path, size_t *ret_dir_len);

/*
 * Files. Every descriptor these functions return is a C runtime fd (POSIX: a plain fd;
 * Windows: an msvcrt fd over a file HANDLE), opened binary and not inherited by child
 * processes. Every function returns >= 0 on success and -errno on failure (Windows errors are
 * translated into errno values that mingw's <errno.h> defines; nothing is invented).
 */

#define MD_OS_PATH_MAX 4096 /* bytes of a path these functions accept, NUL included */

/* Opens path for reading. Returns the fd or -errno. */
int md_os_open_read(const char *path);

/* Opens path for reading if it is a regular file, for files others may have planted: a
 * symbolic link there is not followed (-ELOOP; Windows: a reparse point), a folder is -EISDIR, and
 * a FIFO or device is refused without waiting on it (-EINVAL). Returns the fd or -errno. */
int md_os_open_regular(const char *path);

enum md_os_write_mode {
	MD_OS_TRUNCATE, /* create or empty the file, then write from its start */
	MD_OS_APPEND,   /* create or keep the file; every write goes to its end */
};

/* Opens path for writing, creating it with mode (0600: private to this user; Windows: a
 * protected DACL for this user, SYSTEM and Administrators when mode has no group or other
 * bits, the folder's inherited ACL otherwise). Never follows a symbolic link at path (POSIX:
 * O_NOFOLLOW; Windows: a reparse point there is refused): -ELOOP. Returns the fd or -errno. */
int md_os_open_write(const char *path, enum md_os_write_mode how, unsigned mode);

/* Reads up to len bytes at offset. Never moves the file offset (POSIX pread; Windows ReadFile
 * with an OVERLAPPED offset on a handle opened for synchronous I/O, whose offset is then put
 * back). Retries on EINTR. Returns the count (0 at end of file) or -errno. */
int64_t md_os_pread(int fd, void *buf, size_t len, uint64_t offset);

/* Writes up to len bytes at offset, under the same guarantees as md_os_pread. Returns the
 * count or -errno. */
int64_t md_os_pwrite(int fd, const void *buf, size_t len, uint64_t offset);

/* Reads up to len bytes at the file offset, moving it (one read call; Windows: one _read).
 * Retries on EINTR. Returns the count (0 at end of file) or -errno. */
int64_t md_os_read(int fd, void *buf, size_t len);

/* Writes up to len bytes at the file offset (one write call). Retries on EINTR. Returns the
 * count or -errno. */
int64_t md_os_write(int fd, const void *buf, size_t len);

/* Reads len bytes at offset, short only at end of file. Returns the count read or -errno. */
int64_t md_os_pread_full(int fd, void *buf, size_t len, uint64_t offset);

/* Writes all len bytes at offset. Returns 0 or -errno (-EIO if the file takes no more). */
int md_os_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);

/* Reads len bytes from the file offset onwards, short only at end of file (or, on a pipe,
 * when the writer closes it). Retries on EINTR. Returns the count read or -errno. */
int64_t md_os_read_full(int fd, void *buf, size_t len);

/* Writes all len bytes at the file offset. Retries on EINTR and short writes. Returns 0 or
 * -errno. */
int md_os_write_full(int fd, const void *buf, size_t len);

/* Reads the whole of path into a new NUL-terminated buffer (the caller frees *ret_buf) and
 * stores its length without the NUL. -EFBIG when the file holds more than max bytes, so a
 * hostile or runaway file costs at most max + 1 bytes of memory. */
int md_os_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* As md_os_read_file, but a longer file is cut: the buffer holds its first max bytes. For
 * files whose start is all a caller needs, such as procfs files, which report size 0. */
int md_os_read_file_head(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* As md_os_read_file, opening path with md_os_open_regular(). */
int md_os_read_regular_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Reads the first line of the small text file path (a kernel setting such as
 * /proc/sys/kernel/core_pattern, whose size says 0) into buf, without its newline. Reads to
 * the end of the file, never trusting its size. -EFBIG when the file holds size bytes or more. */
int md_os_read_line(const char *path, char *buf, size_t size);

/* Writes all len bytes of data to path from its start, creating it with mode (as
 * md_os_open_write with MD_OS_TRUNCATE) or emptying it first; for a kernel setting, one write.
 * Not atomic: see md_os_replace_file. Returns 0 or -errno. */
int md_os_write_file(const char *path, const void *data, size_t len, unsigned mode);

/* Flushes fd's data and metadata to the disk (POSIX fsync; Windows FlushFileBuffers). */
int md_os_fsync(int fd);

/* Gives the file from the name to, replacing an existing file there atomically: a reader
 * sees the old file or the new one, never none (POSIX rename; Windows MoveFileExW with
 * MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH). Both must be on one volume. */
int md_os_replace_file(const char *from, const char *to);

/* Creates the folder path, private to this user (POSIX mode 0700; Windows: a protected DACL,
 * not inherited from the parent, granting full access to this user, SYSTEM and the
 * Administrators group only). Returns 0 when it was created, -EEXIST when something is
 * already there (which is left as it is), or another -errno. */
int md_os_make_private_dir(const char *path);

/* What md_os_stat_nofollow says about a name. */
struct md_os_stat {
	uint64_t size;    /* bytes */
	int64_t mtime_s;  /* last modification, seconds since 1970 (UTC) */
	int64_t mtime_ns; /* the same in nanoseconds, as precise as the file system keeps it */
	bool is_file;     /* a regular file */
	bool is_dir;
	bool is_link; /* a symbolic link (Windows: any reparse point), never followed */
};

/* Looks at path itself, not at what a symbolic link there points to (POSIX lstat; Windows:
 * GetFileAttributesEx, a reparse point reported as a link). */
int md_os_stat_nofollow(const char *path, struct md_os_stat *ret_stat);

/* The absolute path of the existing file or folder path, in a new string the caller frees
 * (POSIX realpath: symbolic links resolved; Windows GetFullPathNameW of an existing name). */
int md_os_realpath(const char *path, char **ret_path);

/* A duplicate of fd, not inherited by child processes. Returns the new fd or -errno. */
int md_os_dup(int fd);

/*
 * Errors, time, signals.
 */

/* A description of the errno value err (positive or negative), also for the POSIX values the
 * Windows C runtime defines but does not describe (ETIMEDOUT, ECANCELED, EOPNOTSUPP...).
 * Thread-safe: returns a static string. */
const char *md_os_strerror(int err);

/* Whether err (a negative errno) means the disk or the user's quota is full (ENOSPC, EFBIG,
 * and EDQUOT where the OS has it). */
bool md_os_error_is_out_of_space(int err);

/* The monotonic clock in nanoseconds since an arbitrary start (POSIX CLOCK_MONOTONIC;
 * Windows QueryPerformanceCounter): never goes back, not changed by setting the time. */
int64_t md_os_now_ns(void);

/* The wall clock, in nanoseconds since 1970 (UTC). */
int64_t md_os_realtime_ns(void);

/* Sleeps at least ms milliseconds (at least 1 on Windows, whose Sleep(0) only yields). */
void md_os_sleep_ms(unsigned ms);

/* Calls handler (which must be async-signal-safe) with the signal number when the user
 * interrupts the program: POSIX SIGINT, SIGTERM and SIGHUP (sigaction, no SA_RESTART, so slow
 * calls return EINTR); Windows Ctrl-C, Ctrl-Break and SIGTERM (the C runtime's signal()). */
int md_os_on_interrupt(void (*handler)(int));

/* Makes a write to a pipe or socket whose reader is gone fail with -EPIPE instead of killing
 * the process (POSIX: SIGPIPE ignored; Windows: already so). */
void md_os_ignore_sigpipe(void);
