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

#include <check.h>

#include "md-backend.h"

struct context_arch {
	uint32_t kind;       /* this cpu's MD_CTX_LINUX_* */
	uint32_t other_kind; /* another cpu's kind, which the converter must refuse */
	size_t bytes;        /* the length of this cpu's layout on the wire */
	uint32_t md_size;    /* the size of the minidump context it becomes */
	/* Fills uc with every register set (and its FP state, which lives as long as the test). */
	void (*full_ucontext)(ucontext_t *uc);
	/* This cpu's checks of a real signal's context: the rounding mode set toward zero, the
	 * stack pointer a little below here (the address of a local of the raising frame), a
	 * program counter. */
	void (*check_signal)(const struct md_context *ctx, uint64_t here);
};

/* Defined by each check-context-<cpu>.c: what its cpu is, and the suite (its own tests, then
 * context_refusals_test and context_signal_test). context-util.c defines check_suite. */
extern const struct context_arch context_arch;
Suite *context_suite(void);

/* Fills the wire context from uc, which must give this cpu's kind and length, and converts it
 * into ctx, which must succeed with the minidump context's size. */
void context_convert(const ucontext_t *uc, struct md_context *ctx);

/* The tests every cpu's suite runs, driven by context_arch, for its CHECK_CASE:
 * converter_refuses_other_kinds_and_lengths (the wire context of full_ucontext is refused as
 * the other kind, one byte short or long, into a buffer one byte short, or without a
 * ucontext) and context_of_a_real_signal (the handler of a raised SIGUSR1 converts its own
 * ucontext; check_signal judges it). */
const TTest *context_refusals_test(void);
const TTest *context_signal_test(void);
