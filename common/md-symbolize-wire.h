/* SPDX-License-Identifier: MIT */
/*
 * The request minidumpd sends to md-symbolize over the socket of minidumpd-symbolize.socket
 * (Accept=yes: each connection is one md-symbolize, its stdin and stdout the connection; see
 * docs/symbolizer.md). The sender is daemon/md-sandbox-socket.c, the receiver
 * symbolizer/sym-request.c; this header is the one definition of the bytes between them. It
 * carries what the spawn path passes by exec: the arguments and the open descriptors, which the
 * helper puts at fds 3, 4, ... in the order sent, so the same arguments ("--dump-fd=3",
 * "--module=0:4:-1") mean the same descriptors. The answer is the helper's JSON document, then
 * EOF; on failure an object with only "error".
 *
 * On the stream, in order:
 *   1. struct md_symbolize_wire_header, with no descriptors;
 *   2. one byte (MD_SYMBOLIZE_WIRE_FD_BYTE) per batch of at most MD_SYMBOLIZE_WIRE_FDS_BATCH
 *      descriptors, each byte sent with its batch as SCM_RIGHTS; n_fds in all, in order;
 *   3. args_len bytes of arguments, each NUL-terminated (argv without argv[0]).
 * Both sides are the same machine: the integers are in its byte order.
 */
#pragma once

#include <stdint.h>

#define MD_SYMBOLIZE_WIRE_MAGIC     "MDSYMRQ1"    /* 8 bytes, no NUL */
#define MD_SYMBOLIZE_WIRE_FDS_MAX   1024          /* descriptors in one request */
#define MD_SYMBOLIZE_WIRE_FDS_BATCH 200           /* per message (the kernel takes at most 253) */
#define MD_SYMBOLIZE_WIRE_ARGS_MAX  (256u * 1024) /* bytes of arguments */
#define MD_SYMBOLIZE_WIRE_FD_BYTE   'F'

struct md_symbolize_wire_header {
	char magic[8];     /* MD_SYMBOLIZE_WIRE_MAGIC */
	uint32_t n_fds;    /* descriptors that follow, at most MD_SYMBOLIZE_WIRE_FDS_MAX */
	uint32_t args_len; /* bytes of arguments after them, at most MD_SYMBOLIZE_WIRE_ARGS_MAX */
};
