/* SPDX-License-Identifier: MIT */
/*
 * zstd compression of whole dump files at rest, streaming with fixed buffers (memory does not
 * grow with the dump). Built only where libzstd is (HAVE_ZSTD); elsewhere every call returns
 * -EOPNOTSUPP.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MD_ZSTD_LEVEL 3 /* zstd's default: fast, and dumps (mostly zeros and code) shrink well */

/* Compresses everything in in_fd (from offset 0) into out_fd at its current offset. */
int md_zstd_compress_fd(int in_fd, int out_fd, uint64_t *ret_out_bytes);

/* Decompresses a zstd file into out_fd, at most max_out bytes (0: no limit). Returns 0 or
 * -errno (-EBADMSG: not zstd data; -EFBIG: it expands past max_out). */
int md_zstd_decompress_fd(int in_fd, int out_fd, uint64_t max_out);

/* Whether the first bytes are zstd's frame magic. */
bool md_zstd_is_compressed(const void *head, size_t len);

bool md_zstd_available(void);
