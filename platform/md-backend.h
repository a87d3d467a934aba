/* SPDX-License-Identifier: MIT */
/*
 * The snapshot backend of this OS: one implementation per OS under platform/<os>/, built by
 * meson for the host. It is a table of steps (common/md-snapshot-build.h) that the snapshot
 * builder runs: md_snapshot_build(&md_platform_live_backend, pid, &opts, &s) stops the target
 * and fills an md_snapshot; md_snapshot_resume() and md_snapshot_free() resume it. It never
 * logs.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "md-snapshot-build.h"

/* A live process of this OS, stopped while it is read (Linux: ptrace; Windows: the threads
 * suspended). Errors of md_snapshot_build through it: -ESRCH no such process; -EPERM/-EACCES
 * not allowed to trace it (see md_platform_explain_permission). */
extern const struct md_backend_ops md_platform_live_backend;

/* What the core-stream backend reads: the ELF core the kernel streams for a crashing task (the
 * coredump socket's connection, a core_pattern pipe) or a core file, at its first byte. */
struct md_core_source {
	int fd;      /* read up to the end of the notes; a file is also read at PT_LOAD offsets */
	char *error; /* when not NULL: why the stream was refused ("" if it was not) */
	size_t error_size;
};

/* Linux only: a crashing task from its core stream (md_backend_options.source is a struct
 * md_core_source). With a pid, the task is waiting in the kernel's coredump code and its
 * memory and /proc files are read live; with pid 0 (a core file) everything comes from the
 * file. Nothing is stopped or resumed. Errors: -EBADMSG/-E2BIG a stream that is not a core of
 * this architecture or breaks a bound; -EPIPE it ended early. */
extern const struct md_backend_ops md_platform_core_backend;

/* A sentence for the user about why pid cannot be traced, naming what is needed (root,
 * CAP_SYS_PTRACE, the ptrace_scope setting). Writes at most size bytes. */
void md_platform_explain_permission(uint32_t pid, char *buf, size_t size);

/* Converts registers a client sent (proto's md_proto_context_kind layout) into a minidump
 * context. -EPROTONOSUPPORT for a kind this build does not know, -EBADMSG for a bad size. */
int md_platform_client_context(uint32_t kind, const void *data, size_t len,
                               struct md_context *ret_ctx);
