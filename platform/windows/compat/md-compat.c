/* SPDX-License-Identifier: MIT */
/*
 * Bodies of the POSIX shims of md-compat.h and of the event-log syslog of syslog.h, for the
 * Windows build of common/, the daemon and mdctl. Each is a thin wrapper over one Win32 call.
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>

#include "syslog.h"

#define SYSLOG_LINE_MAX 1024 /* bytes of one event-log message */

int md_compat_sigemptyset(md_compat_sigset_t *set)
{
	*set = 0;
	return 0;
}

int md_compat_sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
	void (*prev)(int) = signal(sig, sa ? sa->sa_handler : SIG_DFL);

	if (prev == SIG_ERR)
		return -1;
	if (old) {
		old->sa_handler = prev;
		old->sa_mask = 0;
		old->sa_flags = 0;
	}
	if (!sa)
		signal(sig, prev);
	return 0;
}

static ssize_t positioned(int fd, void *rbuf, const void *wbuf, size_t len, int64_t offset)
{
	HANDLE h = (HANDLE)_get_osfhandle(fd);
	OVERLAPPED ov;
	DWORD n = 0, chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len;
	BOOL ok;

	if (h == INVALID_HANDLE_VALUE || offset < 0) {
		errno = EBADF;
		return -1;
	}
	memset(&ov, 0, sizeof(ov));
	ov.Offset = (DWORD)((uint64_t)offset & 0xFFFFFFFFu);
	ov.OffsetHigh = (DWORD)((uint64_t)offset >> 32);
	ok = rbuf ? ReadFile(h, rbuf, chunk, &n, &ov) : WriteFile(h, wbuf, chunk, &n, &ov);
	if (!ok) {
		DWORD e = GetLastError();

		if (rbuf && e == ERROR_HANDLE_EOF)
			return 0;
		errno = e == ERROR_DISK_FULL || e == ERROR_HANDLE_DISK_FULL ? ENOSPC
			: e == ERROR_ACCESS_DENIED			    ? EACCES
									    : EIO;
		return -1;
	}
	return (ssize_t)n;
}

ssize_t md_compat_pread(int fd, void *buf, size_t len, int64_t offset)
{
	return positioned(fd, buf, NULL, len, offset);
}

ssize_t md_compat_pwrite(int fd, const void *buf, size_t len, int64_t offset)
{
	return positioned(fd, NULL, buf, len, offset);
}

int md_compat_clock_gettime(int clock, struct timespec *ts)
{
	if (clock == CLOCK_MONOTONIC) {
		LARGE_INTEGER now, freq;

		QueryPerformanceCounter(&now);
		QueryPerformanceFrequency(&freq);
		ts->tv_sec = (time_t)(now.QuadPart / freq.QuadPart);
		ts->tv_nsec = (long)((now.QuadPart % freq.QuadPart) * 1000000000 / freq.QuadPart);
		return 0;
	}
	if (clock == CLOCK_REALTIME) {
		FILETIME ft;
		uint64_t t;

		GetSystemTimePreciseAsFileTime(&ft);
		t = (((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime) -
		    116444736000000000ull; /* 100 ns ticks from 1601 to 1970 */
		ts->tv_sec = (time_t)(t / 10000000u);
		ts->tv_nsec = (long)(t % 10000000u) * 100;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int md_compat_nanosleep(const struct timespec *req, struct timespec *rem)
{
	uint64_t ms = (uint64_t)req->tv_sec * 1000u + (uint64_t)req->tv_nsec / 1000000u;

	Sleep(ms > 0xFFFFFFF0u ? 0xFFFFFFF0u : (DWORD)(ms ? ms : 1));
	if (rem)
		rem->tv_sec = 0, rem->tv_nsec = 0;
	return 0;
}

char *md_compat_realpath(const char *path, char *resolved)
{
	char buf[MAX_PATH * 4];
	DWORD attrs;

	if (!_fullpath(buf, path, sizeof(buf))) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	attrs = GetFileAttributesA(buf);
	if (attrs == INVALID_FILE_ATTRIBUTES) {
		errno = ENOENT;
		return NULL;
	}
	if (!resolved)
		return _strdup(buf);
	snprintf(resolved, MAX_PATH, "%s", buf);
	return resolved;
}

int md_compat_lstat(const char *path, struct stat *st)
{
	DWORD attrs = GetFileAttributesA(path);

	if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	return stat(path, st);
}

int md_compat_fcntl(int fd, int cmd, int arg)
{
	errno = ENOSYS;
	return -1;
}

#undef strerror
const char *md_compat_strerror(int err)
{
	switch (err) {
	case ESHUTDOWN: return "Cannot send after transport endpoint shutdown";
	case ESOCKTNOSUPPORT: return "Socket type not supported";
	case EDQUOT: return "Disk quota exceeded";
	case ENOTUNIQ: return "Name not unique on network";
	case ECANCELED: return "Operation canceled";
	case ETIMEDOUT: return "Connection timed out";
	case ECONNRESET: return "Connection reset by peer";
	case ECONNREFUSED: return "Connection refused";
	case EBADMSG: return "Bad message";
	case EPROTONOSUPPORT: return "Protocol not supported";
	case EPROTO: return "Protocol error";
	case EMSGSIZE: return "Message too long";
	case ENOTSUP: return "Operation not supported";
	case EOPNOTSUPP: return "Operation not supported";
	case ENOBUFS: return "No buffer space available";
	case EADDRINUSE: return "Address already in use";
	case EALREADY: return "Operation already in progress";
	case ENODATA: return "No data available";
	case ENOMSG: return "No message of desired type";
	case EOVERFLOW: return "Value too large for defined data type";
	default: return strerror(err);
	}
}

/* ---- syslog to the event log ---- */

static HANDLE event_source;

void openlog(const char *ident, int option, int facility)
{
	if (!event_source)
		event_source = RegisterEventSourceA(NULL, ident ? ident : "minidumpd");
}

void syslog(int priority, const char *fmt, ...)
{
	char line[SYSLOG_LINE_MAX];
	const char *strings[1] = {line};
	WORD type = (priority & 7) <= LOG_ERR	  ? EVENTLOG_ERROR_TYPE
		    : (priority & 7) == LOG_WARNING ? EVENTLOG_WARNING_TYPE
						    : EVENTLOG_INFORMATION_TYPE;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!event_source)
		openlog(NULL, 0, 0);
	if (event_source)
		ReportEventA(event_source, type, 0, 0, NULL, 1, 0, strings, NULL);
}

void closelog(void)
{
	if (event_source)
		DeregisterEventSource(event_source);
	event_source = NULL;
}
