/* SPDX-License-Identifier: MIT */
/*
 * What the crash context suites (check-context-<cpu>.c) share (context-util.c): the client's
 * md_shim_context_fill and the daemon's md_platform_client_context run on a ucontext, the
 * converter's refusals, and the context of a real signal. Each suite defines context_arch.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

#include "md-backend.h"

struct context_arch {
	uint32_t kind;       /* this cpu's MD_CTX_LINUX_* */
	uint32_t other_kind; /* another cpu's kind, which the converter must refuse */
	size_t bytes;        /* the length of this cpu's layout on the wire */
	uint32_t md_size;    /* the size of the minidump context it becomes */
};

/* Defined by each check-context-<cpu>.c. */
extern const struct context_arch context_arch;

/* Fills the wire context from uc, which must give this cpu's kind and length, and converts it
 * into ctx, which must succeed with the minidump context's size. */
void context_convert(const ucontext_t *uc, struct md_context *ctx);

/* Checks that uc's wire context is refused as another cpu's kind, one byte short and one byte
 * long; that a buffer one byte short of the layout gets nothing; and that no ucontext gets
 * nothing. */
void check_converter_refusals(const ucontext_t *uc);

/* Raises SIGUSR1 with the rounding mode set toward zero; the handler converts its own ucontext
 * into ret_ctx (which must succeed). ret_here is the address of a local of the frame that
 * raised, so the signal's stack pointer lies a little below it. */
void context_of_a_signal(struct md_context *ret_ctx, uint64_t *ret_here);
