/* SPDX-License-Identifier: MIT */
/*
 * What the Linux and Windows shims do alike with the daemon's answer to a dump request
 * (mdclient-reply.c). Internal; never installed. Not called on the crash path.
 */
#pragma once

#include <stddef.h>

/* Copies the reply's report text (text_len bytes, no NUL counted) into ret_report, cut to
 * report_size - 1 bytes and NUL-terminated; nothing when report_size is 0. */
void md_shim_report_copy(char *ret_report, size_t report_size, const char *text, size_t text_len);
