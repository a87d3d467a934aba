/* SPDX-License-Identifier: MIT */
/*
 * Safe creation of dump files on Windows (common/md-output.h): a fresh temporary file
 * created with CREATE_NEW (never an existing file) in the destination folder, with a
 * protected DACL that grants access to our user, SYSTEM and Administrators only (the
 * counterpart of mode 0600, win-os.h), flushed, closed, and then moved to its final name with
 * MoveFileEx, which fails rather than replacing an existing file unless asked.
 */
#include <windows.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "md-output.h"
#include "md-os.h"
#include "win-os.h"

#define TMP_TRIES 16 /* attempts at an unused temporary name */
static int join(const char *dir, const char *name, wchar_t *out, size_t count)
{
	char path[MD_WIN_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s\\%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return md_win_utf16(path, out, count);
}

int md_output_open(struct md_output *o, const char *dir)
{
	SECURITY_ATTRIBUTES sa = {.nLength = sizeof(sa)};
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t path[MD_WIN_PATH_MAX];
	DWORD attrs;
	int r = -EIO;

	o->fd = -1;
	o->dirfd = -1;
	o->tmp_name[0] = '\0';
	o->dir = NULL;
	attrs = GetFileAttributesA(dir);
	if (attrs == INVALID_FILE_ATTRIBUTES)
		return md_win_last_error();
	if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
		return -ENOTDIR;
	o->dir = strdup(dir);
	if (!o->dir)
		return -ENOMEM;
	r = md_win_private_descriptor(false, &sd);
	if (r < 0) {
		free(o->dir);
		o->dir = NULL;
		return r; /* never a dump file that others could read */
	}
	sa.lpSecurityDescriptor = sd;
	for (int i = 0; i < TMP_TRIES; i++) {
		LARGE_INTEGER t;
		HANDLE h;

		QueryPerformanceCounter(&t);
		snprintf(o->tmp_name, sizeof(o->tmp_name), ".md-%lu-%08lx.tmp",
		         (unsigned long)GetCurrentProcessId(),
		         (unsigned long)((uint64_t)t.QuadPart ^ (uint64_t)i * 2654435761u) &
		             0xFFFFFFFFul);
		r = join(dir, o->tmp_name, path, sizeof(path) / sizeof(path[0]));
		if (r < 0)
			break;
		h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, &sa,
		                CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
		if (h == INVALID_HANDLE_VALUE) {
			r = md_win_last_error();
			if (r == -EEXIST)
				continue;
			break;
		}
		o->fd = _open_osfhandle((intptr_t)h, _O_BINARY);
		if (o->fd < 0) {
			CloseHandle(h);
			DeleteFileW(path);
			r = -EMFILE;
			break;
		}
		o->dirfd = 0; /* open; there is no folder handle on Windows */
		r = 0;
		break;
	}
	if (sd)
		LocalFree(sd);
	if (r < 0) {
		o->tmp_name[0] = '\0';
		free(o->dir);
		o->dir = NULL;
	}
	return r;
}

int md_output_check(const struct md_output *o, const char *name, bool replace)
{
	wchar_t path[MD_WIN_PATH_MAX];
	int r;

	if (replace)
		return 0;
	r = join(o->dir ? o->dir : ".", name, path, sizeof(path) / sizeof(path[0]));
	if (r < 0)
		return r;
	if (GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES)
		return -EEXIST;
	r = md_win_last_error();
	return r == -ENOENT ? 0 : r;
}

int md_output_commit(struct md_output *o, const char *name, bool replace)
{
	wchar_t from[MD_WIN_PATH_MAX], to[MD_WIN_PATH_MAX];
	int r;

	if (!o->dir || !o->tmp_name[0])
		return -EBADF;
	if (o->fd >= 0) {
		r = md_os_fsync(o->fd);
		if (r < 0)
			return r;
		close(o->fd);
		o->fd = -1;
	}
	r = join(o->dir, o->tmp_name, from, sizeof(from) / sizeof(from[0]));
	if (r >= 0)
		r = join(o->dir, name, to, sizeof(to) / sizeof(to[0]));
	if (r < 0)
		return r;
	if (!MoveFileExW(from, to,
	                 MOVEFILE_WRITE_THROUGH | (replace ? MOVEFILE_REPLACE_EXISTING : 0)))
		return md_win_last_error(); /* -EEXIST: the caller may try another name */
	o->tmp_name[0] = '\0';
	md_output_abort(o);
	return 0;
}

void md_output_abort(struct md_output *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->dir && o->tmp_name[0]) {
		wchar_t path[MD_WIN_PATH_MAX];

		if (join(o->dir, o->tmp_name, path, sizeof(path) / sizeof(path[0])) == 0)
			DeleteFileW(path);
	}
	o->tmp_name[0] = '\0';
	free(o->dir);
	o->dir = NULL;
	o->dirfd = -1;
}
