/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the Windows OS layer (libmdos: os.c, win-error.c, win-conn.c,
 * win-daemon.c, win-principal.c, md-output-windows.c), which the backend uses too: Win32
 * errors as -errno, UTF-8 <-> UTF-16 paths, the private security descriptor that stands in
 * for POSIX modes 0600 and 0700, and principals from SIDs. Nothing here knows the snapshot or
 * any program.
 */
#pragma once

#include <windows.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_WIN_PATH_MAX 4096 /* bytes of a UTF-8 path we keep (UTF-16 paths are at most 32767) */

/* win-error.c: a Win32 error code as a negative errno of the project's error space. */
int md_win_error(DWORD error);
/* The same for GetLastError(). */
int md_win_last_error(void);

/* UTF-16 to UTF-8, always NUL-terminated; returns 0 or -ENAMETOOLONG/-EILSEQ. */
int md_win_utf8(const wchar_t *in, char *out, size_t size);
/* UTF-8 to UTF-16, always NUL-terminated; returns 0 or -ENAMETOOLONG/-EILSEQ. */
int md_win_utf16(const char *in, wchar_t *out, size_t count);

/* os.c: a protected DACL (nothing inherited from the parent) that grants full access to the
 * user this process runs as, SYSTEM and the Administrators group only; for a folder, the same
 * entries are inherited by what is created in it. Free with LocalFree. */
int md_win_private_descriptor(bool folder, PSECURITY_DESCRIPTOR *ret_sd);

struct md_principal;
/* win-principal.c: a principal (md-principal.h) holding a copy of sid. */
int md_win_principal_from_sid(PSID sid, struct md_principal *ret);
