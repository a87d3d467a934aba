/* SPDX-License-Identifier: MIT */
/*
 * Text that comes out of a minidump, decoded without trusting it: UTF-16LE and UTF-8 turned
 * into valid UTF-8, and the Linux /proc text streams (LinuxProcStatus: /proc/<pid>/status)
 * read field by field. Pure functions over caller-owned buffers: no allocation, no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Converts n UTF-16LE units at in into NUL-terminated UTF-8 in out, which holds at least
 * 3*n+1 bytes. Unpaired surrogates and NULs become U+FFFD. */
void md_text_utf16le_to_utf8(const uint8_t *in, size_t n, char *out);

/* Copies n bytes of UTF-8 at in into NUL-terminated out (at least 3*n+1 bytes), replacing each
 * byte that does not start a valid, shortest-form sequence, and every NUL, with U+FFFD. */
void md_text_sanitize_utf8(const uint8_t *in, size_t n, char *out);

/* Finds the line "KEY:<blanks>DIGITS" in NUL-terminated /proc/<pid>/status text (key without
 * its colon, e.g. "Pid") and gives its value. Only the first line with that key counts.
 * Returns 0, -ENOENT when there is no such line, -EBADMSG when its value is not a decimal
 * number up to UINT32_MAX alone on its line. */
int md_text_proc_status_u32(const char *status, const char *key, uint32_t *ret_value);
