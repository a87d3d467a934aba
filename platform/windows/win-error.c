/* SPDX-License-Identifier: MIT */
/*
 * Windows errors in the project's error space: every fallible function of the backend returns
 * -errno, as on Linux, so that callers (mdctl's exit codes, the daemon's replies) need no
 * Windows knowledge. Also the UTF-16 <-> UTF-8 conversions the backend uses for paths.
 */
#include <errno.h>

#include "win-os.h"

int md_win_error(DWORD error)
{
	switch (error) {
	case ERROR_SUCCESS:
		return 0;
	case ERROR_INVALID_PARAMETER: /* OpenProcess of a pid that does not exist */
	case ERROR_INVALID_HANDLE:
		return -ESRCH;
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
		return -EACCES;
	case ERROR_PARTIAL_COPY:
	case ERROR_NOACCESS:
		return -EFAULT;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -ENOMEM;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return -ENOENT;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return -EEXIST;
	case ERROR_PIPE_BUSY:
		return -EAGAIN;
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:
	case ERROR_PIPE_NOT_CONNECTED:
		return -ECONNRESET;
	case ERROR_SEM_TIMEOUT:
	case WAIT_TIMEOUT:
		return -ETIMEDOUT;
	case ERROR_OPERATION_ABORTED:
		return -ECANCELED;
	case ERROR_BAD_LENGTH:
	case ERROR_INSUFFICIENT_BUFFER:
		return -ENOBUFS;
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED:
		return -ENOTSUP;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return -ENOSPC;
	case ERROR_FILENAME_EXCED_RANGE:
		return -ENAMETOOLONG;
	case ERROR_NO_MORE_FILES:
		return -ENOENT;
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
		return -EBUSY;
	case ERROR_DIR_NOT_EMPTY:
		return -ENOTEMPTY;
	case ERROR_NOT_SAME_DEVICE:
		return -EXDEV;
	case ERROR_DIRECTORY:
		return -ENOTDIR;
	case ERROR_CANT_RESOLVE_FILENAME:
		return -ELOOP;
	case ERROR_WRITE_PROTECT:
		return -EROFS;
	default:
		return -EIO;
	}
}

int md_win_last_error(void)
{
	return md_win_error(GetLastError());
}

int md_win_utf8(const wchar_t *in, char *out, size_t size)
{
	int n;

	if (size == 0 || size > INT32_MAX)
		return -EINVAL;
	n = WideCharToMultiByte(CP_UTF8, 0, in, -1, out, (int)size, NULL, NULL);
	if (n > 0)
		return 0;
	out[0] = '\0';
	return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? -ENAMETOOLONG : -EILSEQ;
}

int md_win_utf16(const char *in, wchar_t *out, size_t count)
{
	int n;

	if (count == 0 || count > INT32_MAX)
		return -EINVAL;
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, in, -1, out, (int)count);
	if (n > 0)
		return 0;
	out[0] = L'\0';
	return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? -ENAMETOOLONG : -EILSEQ;
}
