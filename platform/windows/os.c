/* SPDX-License-Identifier: MIT */
/*
 * The OS layer's files, time and signals on Windows (platform/md-os.h), each named for what it
 * guarantees and built on the Win32 call that gives it, not on a POSIX name with other
 * behaviour: positioned I/O with an OVERLAPPED offset that puts the file pointer back,
 * MoveFileExW for an atomic replace, a protected DACL for private files and folders, reparse
 * points never followed where the POSIX side uses O_NOFOLLOW or lstat. Errors are errno values
 * mingw's <errno.h> defines (win-error.c). No state, no logging.
 */
#include <windows.h>

#include <sddl.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "md-os.h"
#include "win-os.h"

#define IO_CHUNK_MAX   0x40000000u          /* bytes per ReadFile or WriteFile call */
#define SDDL_MAX       320u                 /* UTF-16 units of the security descriptor string */
#define TOKEN_USER_MAX 256u                 /* bytes of a TOKEN_USER with its SID */
#define FILETIME_1970  116444736000000000ll /* 100 ns ticks from 1601 to 1970 */

int md_win_private_descriptor(bool folder, PSECURITY_DESCRIPTOR *ret_sd)
{
	union {
		TOKEN_USER tu;
		uint8_t bytes[TOKEN_USER_MAX];
	} u;
	const wchar_t *inherit = folder ? L"OICI" : L"";
	wchar_t sddl[SDDL_MAX], *sid = NULL;
	HANDLE token;
	DWORD len = 0;
	int r = 0;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
		return md_win_last_error();
	if (!GetTokenInformation(token, TokenUser, &u, sizeof(u), &len) ||
	    !ConvertSidToStringSidW(u.tu.User.Sid, &sid))
		r = md_win_last_error();
	CloseHandle(token);
	if (r < 0)
		return r;
	/* P: protected, nothing inherited from the parent; FA: full access; SY: SYSTEM;
	 * BA: the Administrators group */
	swprintf(sddl, SDDL_MAX, L"D:P(A;%ls;FA;;;%ls)(A;%ls;FA;;;SY)(A;%ls;FA;;;BA)", inherit, sid,
	         inherit, inherit);
	LocalFree(sid);
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, ret_sd,
	                                                          NULL))
		return md_win_last_error();
	return 0;
}

static int wide_path(const char *path, wchar_t *out, size_t count)
{
	return md_win_utf16(path, out, count);
}

/* Wraps a file handle in a C runtime fd, closing the handle if that fails. */
static int handle_to_fd(HANDLE h, int flags)
{
	int fd = _open_osfhandle((intptr_t)h, flags | _O_BINARY | _O_NOINHERIT);

	if (fd < 0) {
		CloseHandle(h);
		return -EMFILE;
	}
	return fd;
}

/* Opens path with CreateFileW. With FILE_FLAG_OPEN_REPARSE_POINT in flags a symbolic link at
 * path is opened itself, for the caller to refuse; with ret_attributes, the file's attributes
 * are read too (the handle is closed if that fails). */
static int open_handle(const char *path, DWORD access, DWORD share, SECURITY_ATTRIBUTES *sa,
                       DWORD disposition, DWORD flags, HANDLE *ret_h, DWORD *ret_attributes)
{
	BY_HANDLE_FILE_INFORMATION info;
	wchar_t w[MD_WIN_PATH_MAX];
	HANDLE h;
	int r = wide_path(path, w, MD_WIN_PATH_MAX);

	if (r < 0)
		return r;
	h = CreateFileW(w, access, share, sa, disposition, FILE_ATTRIBUTE_NORMAL | flags, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return md_win_last_error();
	if (ret_attributes) {
		r = GetFileInformationByHandle(h, &info) ? 0 : md_win_last_error();
		if (r < 0) {
			CloseHandle(h);
			return r;
		}
		*ret_attributes = info.dwFileAttributes;
	}
	*ret_h = h;
	return 0;
}

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

int md_os_open_read(const char *path)
{
	HANDLE h;
	int r = open_handle(path, GENERIC_READ, SHARE_ALL, NULL, OPEN_EXISTING, 0, &h, NULL);

	return r < 0 ? r : handle_to_fd(h, _O_RDONLY);
}

int md_os_open_regular(const char *path)
{
	DWORD attributes;
	HANDLE h;
	int r = open_handle(path, GENERIC_READ, SHARE_ALL, NULL, OPEN_EXISTING,
	                    FILE_FLAG_OPEN_REPARSE_POINT, &h, &attributes);

	if (r < 0)
		return r;
	if (attributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) {
		CloseHandle(h);
		return attributes & FILE_ATTRIBUTE_REPARSE_POINT ? -ELOOP : -EISDIR;
	}
	if (GetFileType(h) != FILE_TYPE_DISK) { /* a pipe or a device */
		CloseHandle(h);
		return -EINVAL;
	}
	return handle_to_fd(h, _O_RDONLY);
}

int md_os_open_write(const char *path, enum md_os_write_mode how, unsigned mode)
{
	SECURITY_ATTRIBUTES sa = {.nLength = sizeof(sa)};
	PSECURITY_DESCRIPTOR sd = NULL;
	DWORD attributes;
	HANDLE h;
	int r;

	if ((mode & 077) == 0) {
		r = md_win_private_descriptor(false, &sd);
		if (r < 0)
			return r; /* never a private file that others could read */
		sa.lpSecurityDescriptor = sd;
	}
	r = open_handle(path, GENERIC_WRITE | FILE_READ_ATTRIBUTES,
	                FILE_SHARE_READ | FILE_SHARE_DELETE, &sa, OPEN_ALWAYS,
	                FILE_FLAG_OPEN_REPARSE_POINT, &h, &attributes);
	if (sd)
		LocalFree(sd);
	if (r < 0)
		return r;
	if (attributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) {
		CloseHandle(h);
		return attributes & FILE_ATTRIBUTE_DIRECTORY ? -EISDIR : -ELOOP;
	}
	if (how == MD_OS_TRUNCATE && !SetEndOfFile(h)) {
		r = md_win_last_error();
		CloseHandle(h);
		return r;
	}
	return handle_to_fd(h, how == MD_OS_APPEND ? _O_WRONLY | _O_APPEND : _O_WRONLY);
}

/* One ReadFile or WriteFile at offset. With an OVERLAPPED offset on a synchronous handle
 * Windows moves the file pointer past the bytes transferred, so it is read before and put
 * back after: the fd's offset is what it was (as with pread; libuv does the same). */
static int64_t positioned(int fd, void *rbuf, const void *wbuf, size_t len, uint64_t offset)
{
	HANDLE h = (HANDLE)_get_osfhandle(fd);
	LARGE_INTEGER zero = {.QuadPart = 0}, pos;
	DWORD n = 0, chunk = len > IO_CHUNK_MAX ? IO_CHUNK_MAX : (DWORD)len;
	OVERLAPPED ov;
	BOOL ok;
	int r = 0;

	if (h == INVALID_HANDLE_VALUE)
		return -EBADF;
	if (offset > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (!SetFilePointerEx(h, zero, &pos, FILE_CURRENT))
		return md_win_last_error();
	memset(&ov, 0, sizeof(ov));
	ov.Offset = (DWORD)(offset & 0xFFFFFFFFu);
	ov.OffsetHigh = (DWORD)(offset >> 32);
	ok = rbuf ? ReadFile(h, rbuf, chunk, &n, &ov) : WriteFile(h, wbuf, chunk, &n, &ov);
	if (!ok) {
		DWORD e = GetLastError();

		if (rbuf && e == ERROR_HANDLE_EOF)
			n = 0;
		else
			r = md_win_error(e);
	}
	if (!SetFilePointerEx(h, pos, NULL, FILE_BEGIN) && r == 0)
		r = md_win_last_error();
	return r < 0 ? r : (int64_t)n;
}

int64_t md_os_pread(int fd, void *buf, size_t len, uint64_t offset)
{
	return positioned(fd, buf, NULL, len, offset);
}

int64_t md_os_pwrite(int fd, const void *buf, size_t len, uint64_t offset)
{
	return positioned(fd, NULL, buf, len, offset);
}

int64_t md_os_read(int fd, void *buf, size_t len)
{
	int n = _read(fd, buf, (unsigned)(len > IO_CHUNK_MAX ? IO_CHUNK_MAX : len));

	return n < 0 ? -errno : (int64_t)n;
}

int64_t md_os_write(int fd, const void *buf, size_t len)
{
	int n = _write(fd, buf, (unsigned)(len > IO_CHUNK_MAX ? IO_CHUNK_MAX : len));

	return n < 0 ? -errno : (int64_t)n;
}

int md_os_fsync(int fd)
{
	HANDLE h = (HANDLE)_get_osfhandle(fd);

	if (h == INVALID_HANDLE_VALUE)
		return -EBADF;
	return FlushFileBuffers(h) ? 0 : md_win_last_error();
}

int md_os_replace_file(const char *from, const char *to)
{
	wchar_t wf[MD_WIN_PATH_MAX], wt[MD_WIN_PATH_MAX];
	int r = wide_path(from, wf, MD_WIN_PATH_MAX);

	if (r >= 0)
		r = wide_path(to, wt, MD_WIN_PATH_MAX);
	if (r < 0)
		return r;
	if (!MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
		return md_win_last_error();
	return 0;
}

int md_os_make_private_dir(const char *path)
{
	SECURITY_ATTRIBUTES sa = {.nLength = sizeof(sa)};
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t w[MD_WIN_PATH_MAX];
	int r = wide_path(path, w, MD_WIN_PATH_MAX);

	if (r < 0)
		return r;
	r = md_win_private_descriptor(true, &sd);
	if (r < 0)
		return r;
	sa.lpSecurityDescriptor = sd;
	if (!CreateDirectoryW(w, &sa))
		r = md_win_last_error();
	LocalFree(sd);
	return r;
}

int md_os_stat_nofollow(const char *path, struct md_os_stat *ret_stat)
{
	WIN32_FILE_ATTRIBUTE_DATA a;
	wchar_t w[MD_WIN_PATH_MAX];
	int64_t t;
	int r = wide_path(path, w, MD_WIN_PATH_MAX);

	/* the attributes of the name itself: a reparse point is not followed */
	if (r >= 0 && !GetFileAttributesExW(w, GetFileExInfoStandard, &a))
		r = md_win_last_error();
	if (r < 0)
		return r;
	t = (int64_t)(((uint64_t)a.ftLastWriteTime.dwHighDateTime << 32) |
	              a.ftLastWriteTime.dwLowDateTime);
	ret_stat->size = ((uint64_t)a.nFileSizeHigh << 32) | a.nFileSizeLow;
	ret_stat->mtime_s = (t - FILETIME_1970) / 10000000;
	ret_stat->mtime_ns = (t - FILETIME_1970) * 100; /* FILETIME counts 100 ns */
	ret_stat->is_link = (a.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
	ret_stat->is_dir = !ret_stat->is_link && (a.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY);
	ret_stat->is_file = !ret_stat->is_link && !ret_stat->is_dir;
	return 0;
}

int md_os_realpath(const char *path, char **ret_path)
{
	wchar_t w[MD_WIN_PATH_MAX], full[MD_WIN_PATH_MAX];
	char out[MD_WIN_PATH_MAX], *p;
	DWORD n;
	int r = wide_path(path, w, MD_WIN_PATH_MAX);

	if (r < 0)
		return r;
	n = GetFullPathNameW(w, MD_WIN_PATH_MAX, full, NULL);
	if (n == 0)
		return md_win_last_error();
	if (n >= MD_WIN_PATH_MAX)
		return -ENAMETOOLONG;
	if (GetFileAttributesW(full) == INVALID_FILE_ATTRIBUTES)
		return md_win_last_error(); /* as with realpath, the name must exist */
	r = md_win_utf8(full, out, sizeof(out));
	if (r < 0)
		return r;
	p = strdup(out);
	if (!p)
		return -ENOMEM;
	*ret_path = p;
	return 0;
}

int md_os_dup(int fd)
{
	int r = _dup(fd);

	return r < 0 ? -errno : r;
}

/* The POSIX values mingw's <errno.h> defines past the C runtime's own (which stop at 42 and
 * which its strerror describes): msvcrt calls all of these "Unknown error". */
static const struct {
	int err;
	const char *text;
} posix_errors[] = {
    {EADDRINUSE, "Address already in use"},
    {EADDRNOTAVAIL, "Cannot assign requested address"},
    {EAFNOSUPPORT, "Address family not supported by protocol"},
    {EALREADY, "Operation already in progress"},
    {EBADMSG, "Bad message"},
    {ECANCELED, "Operation canceled"},
    {ECONNABORTED, "Software caused connection abort"},
    {ECONNREFUSED, "Connection refused"},
    {ECONNRESET, "Connection reset by peer"},
    {EDESTADDRREQ, "Destination address required"},
    {EHOSTUNREACH, "No route to host"},
    {EIDRM, "Identifier removed"},
    {EINPROGRESS, "Operation now in progress"},
    {EISCONN, "Transport endpoint is already connected"},
    {ELOOP, "Too many levels of symbolic links"},
    {EMSGSIZE, "Message too long"},
    {ENETDOWN, "Network is down"},
    {ENETRESET, "Network dropped connection on reset"},
    {ENETUNREACH, "Network is unreachable"},
    {ENOBUFS, "No buffer space available"},
    {ENODATA, "No data available"},
    {ENOLINK, "Link has been severed"},
    {ENOMSG, "No message of desired type"},
    {ENOPROTOOPT, "Protocol not available"},
    {ENOSR, "Out of streams resources"},
    {ENOSTR, "Device not a stream"},
    {ENOTCONN, "Transport endpoint is not connected"},
    {ENOTRECOVERABLE, "State not recoverable"},
    {ENOTSOCK, "Socket operation on non-socket"},
    {ENOTSUP, "Operation not supported"},
    {EOPNOTSUPP, "Operation not supported"},
    {EOVERFLOW, "Value too large for defined data type"},
    {EOWNERDEAD, "Owner died"},
    {EPROTO, "Protocol error"},
    {EPROTONOSUPPORT, "Protocol not supported"},
    {EPROTOTYPE, "Protocol wrong type for socket"},
    {ETIME, "Timer expired"},
    {ETIMEDOUT, "Connection timed out"},
    {ETXTBSY, "Text file busy"},
    {EWOULDBLOCK, "Resource temporarily unavailable"},
};

const char *md_os_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(posix_errors) / sizeof(posix_errors[0]); i++)
		if (posix_errors[i].err == err)
			return posix_errors[i].text;
	return strerror(err);
}

bool md_os_error_is_out_of_space(int err)
{
	return err == -ENOSPC || err == -EFBIG; /* Windows reports quotas as ENOSPC */
}

int64_t md_os_now_ns(void)
{
	LARGE_INTEGER now, freq;

	QueryPerformanceCounter(&now);
	QueryPerformanceFrequency(&freq);
	return (int64_t)(now.QuadPart / freq.QuadPart) * 1000000000 +
	       (int64_t)(now.QuadPart % freq.QuadPart) * 1000000000 / freq.QuadPart;
}

int64_t md_os_realtime_ns(void)
{
	FILETIME ft;
	int64_t t;

	GetSystemTimePreciseAsFileTime(&ft);
	t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
	return (t - FILETIME_1970) * 100;
}

void md_os_sleep_ms(unsigned ms)
{
	Sleep(ms ? ms : 1);
}

int md_os_on_interrupt(void (*handler)(int))
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGBREAK};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (signal(sigs[i], handler) == SIG_ERR)
			return -errno;
	return 0;
}

void md_os_ignore_sigpipe(void)
{
	/* Windows has no SIGPIPE: a write to a closed pipe fails with ERROR_NO_DATA */
}
