/* SPDX-License-Identifier: MIT */
/*
 * Text that came from a client or a target (process and thread names, annotations, paths),
 * made safe to show: one line, no terminal escapes, valid UTF-8. The daemon's log and mdctl's
 * human output go through it; JSON keeps control characters (jansson escapes them) and only
 * needs invalid UTF-8 replaced.
 */
#pragma once

#include <stddef.h>

enum md_escape_flags {
	/* Control characters (C0, DEL, C1) and backslash are kept: for text that goes into JSON,
	 * whose encoder escapes them itself. */
	MD_ESCAPE_KEEP_CONTROLS = 1 << 0,
};

/* Bytes md_escape() may write for len bytes of text, the NUL included (each byte at most
 * "\xHH"). */
#define MD_ESCAPE_SIZE(len) ((len)*4 + 1)

/*
 * Copies the len bytes of text into out as printable, valid UTF-8: valid UTF-8 is kept;
 * control characters become \n, \r, \t or \xHH, a backslash becomes \\ (so an escape cannot be
 * faked), and each byte that is not part of valid UTF-8 (overlong forms, surrogates and code
 * points past U+10FFFF included) becomes \xHH. With MD_ESCAPE_KEEP_CONTROLS only invalid UTF-8
 * is escaped. Writes at most size bytes, always NUL-terminated when size > 0, cut only between
 * whole characters or escapes. Returns out. Async-signal-safe; never fails.
 */
char *md_escape(const char *text, size_t len, char *out, size_t size, unsigned flags);
