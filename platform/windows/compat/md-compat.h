/* SPDX-License-Identifier: MIT */
/*
 * The few POSIX names the shared code (common/, daemon/, mdctl) uses that mingw-w64's C
 * library lacks, for the Windows build only: meson force-includes this header there
 * (platform/windows/meson.build), so the shared files carry no #ifdefs. Each shim does what
 * the shared code needs of the POSIX call, no more; their bodies are in md-compat.c. Things
 * with real OS differences (output files, the daemon's endpoint, mdctl's connection) are not
 * here but behind platform functions.
 */
#pragma once

#ifndef _POSIX_THREAD_SAFE_FUNCTIONS
#define _POSIX_THREAD_SAFE_FUNCTIONS 200112L /* gmtime_r and localtime_r in <time.h> */
#endif

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/*
 * Every file this project opens is binary data and private to the process: on Windows both
 * go with O_CLOEXEC, which the shared code passes to every open() (text mode would turn each
 * 0x0A byte of a dump into 0x0D 0x0A).
 */
#define O_CLOEXEC (_O_NOINHERIT | _O_BINARY)
#define O_NOFOLLOW 0 /* CreateFile follows no POSIX symlinks; reparse points are not checked */

/* errno values of POSIX that mingw-w64 does not define; strerror() below knows them. */
#ifndef ESHUTDOWN
#define ESHUTDOWN 2001
#endif
#ifndef ESOCKTNOSUPPORT
#define ESOCKTNOSUPPORT 2002
#endif
#ifndef ENOTSUP
#define ENOTSUP 129
#endif
#ifndef EDQUOT
#define EDQUOT 2003
#endif
#ifndef ENOTUNIQ
#define ENOTUNIQ 2004
#endif

/* Signals the shared code names; signal() refuses the ones Windows does not have. */
#ifndef SIGHUP
#define SIGHUP 1
#endif
#ifndef SIGPIPE
#define SIGPIPE 13
#endif

/* sigaction() as far as mdctl uses it: a plain handler, no mask, no flags. */
typedef int md_compat_sigset_t;
struct sigaction {
	void (*sa_handler)(int);
	md_compat_sigset_t sa_mask;
	int sa_flags;
};
#define sigset_t md_compat_sigset_t
int md_compat_sigemptyset(md_compat_sigset_t *set);
int md_compat_sigaction(int sig, const struct sigaction *sa, struct sigaction *old);
#define sigemptyset md_compat_sigemptyset
#define sigaction(sig, sa, old) md_compat_sigaction(sig, sa, old)

/* Positioned reads and writes, on the file's handle with an OVERLAPPED offset. */
ssize_t md_compat_pread(int fd, void *buf, size_t len, int64_t offset);
ssize_t md_compat_pwrite(int fd, const void *buf, size_t len, int64_t offset);
#define pread md_compat_pread
#define pwrite md_compat_pwrite

/* clock_gettime for CLOCK_REALTIME and CLOCK_MONOTONIC, without winpthreads. */
#ifndef CLOCK_REALTIME
#define CLOCK_REALTIME 0
#endif
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC 1
#endif
int md_compat_clock_gettime(int clock, struct timespec *ts);
int md_compat_nanosleep(const struct timespec *req, struct timespec *rem);
#define clock_gettime md_compat_clock_gettime
#define nanosleep md_compat_nanosleep

/* realpath() through GetFullPathName; the result must exist, as with POSIX. */
char *md_compat_realpath(const char *path, char *resolved);
#define realpath md_compat_realpath

/* lstat(): stat() of anything but a reparse point (an NTFS symbolic link or junction), which
 * is reported as neither a file nor a folder (st_mode without a type) so that code that only
 * acts on regular files never follows one. */
int md_compat_lstat(const char *path, struct stat *st);
#define lstat md_compat_lstat

/* mkdir() takes no mode on Windows; folders get their parent's ACL. */
#define mkdir(path, mode) _mkdir(path)

/* fcntl() only ever duplicates pidfds in the shared code, and Windows has none. */
#define F_DUPFD_CLOEXEC 1030
int md_compat_fcntl(int fd, int cmd, int arg);
#define fcntl md_compat_fcntl

/* strerror() that also names the POSIX errno values msvcrt does not know. */
const char *md_compat_strerror(int err);
#define strerror md_compat_strerror

/* fsync() is _commit() on Windows. */
#define fsync _commit
