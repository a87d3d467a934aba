/* SPDX-License-Identifier: MIT */
/*
 * The aarch64 crash context end to end without a daemon: the client's md_shim_context_fill
 * (client/mdclient-context-aarch64.c) on a ucontext_t, then the daemon's converter
 * md_platform_client_context (platform/linux/linux-aarch64-client.c), checked register by
 * register in the minidump ARM64_OLD context the dump will carry. Built for aarch64 only
 * (tests/meson.build's per-cpu dict); tests/aarch64/run runs it under qemu-aarch64-static,
 * whose signal frames have the kernel's layout.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "check-main.h"
#include "context-util.h"
#include "md-proto.h"

#define ESR_BYTES 16u /* sizeof(struct esr_context), magic ESR_MAGIC (<asm/sigcontext.h>) */

/* A ucontext with x_i = 0x1000 + i, sp, pc, pstate, and (unless fp_at < 0) an FP/SIMD record
 * at byte fp_at of __reserved with fpsr, fpcr and v_i = bytes (i, 0x80 | i, ...). An ESR
 * record comes first when fp_at > 0, so the walk must step over it. */
static void make_ucontext(ucontext_t *uc, int fp_at)
{
	memset(uc, 0, sizeof(*uc));
	for (unsigned i = 0; i < 31; i++)
		uc->uc_mcontext.regs[i] = 0x1000 + i;
	uc->uc_mcontext.sp = 0x7ffff000;
	uc->uc_mcontext.pc = 0x400123;
	uc->uc_mcontext.pstate = 0x60001000;
	if (fp_at < 0)
		return;
	if (fp_at > 0) {
		struct _aarch64_ctx esr = {.magic = ESR_MAGIC, .size = (uint32_t)fp_at};

		memcpy(uc->uc_mcontext.__reserved, &esr, sizeof(esr));
	}
	struct fpsimd_context fp = {.head = {.magic = FPSIMD_MAGIC, .size = sizeof(fp)},
	                            .fpsr = 0x8000001f,
	                            .fpcr = 0x00c00000};

	for (unsigned i = 0; i < 32; i++) {
		uint8_t v[16];

		for (unsigned b = 0; b < 16; b++)
			v[b] = (uint8_t)(b % 2 ? 0x80 | i : i);
		memcpy(&fp.vregs[i], v, sizeof(v));
	}
	memcpy(uc->uc_mcontext.__reserved + fp_at, &fp, sizeof(fp));
}

static void convert(const ucontext_t *uc, struct md_context *ctx)
{
	context_convert(uc, ctx);
	ck_assert_uint_eq(ctx->u.arm64.context_flags, MD_CONTEXT_ARM64_OLD_FULL);
}

static void assert_gregs(const md_context_arm64_old *c)
{
	for (unsigned i = 0; i < 31; i++)
		ck_assert_uint_eq(c->iregs[i], 0x1000 + i);
	ck_assert_uint_eq(c->iregs[31], 0x7ffff000); /* sp */
	ck_assert_uint_eq(c->pc, 0x400123);
	ck_assert_uint_eq(c->cpsr, 0x60001000);
}

/* Loop over where the FP/SIMD record sits: first (as the kernel writes it), after a 16-byte
 * record, after a 32-byte one. */
START_TEST(registers_and_vectors_reach_the_minidump_context)
{
	static const int at[] = {0, ESR_BYTES, 32};
	struct md_context ctx;
	ucontext_t uc;

	make_ucontext(&uc, at[_i]);
	convert(&uc, &ctx);
	assert_gregs(&ctx.u.arm64);
	ck_assert_uint_eq(ctx.u.arm64.fpsr, 0x8000001f);
	ck_assert_uint_eq(ctx.u.arm64.fpcr, 0x00c00000);
	for (unsigned i = 0; i < 32; i++) {
		const uint8_t *v = (const uint8_t *)&ctx.u.arm64.fregs[i];

		ck_assert_uint_eq(v[0], i);
		ck_assert_uint_eq(v[1], 0x80 | i);
		ck_assert_uint_eq(v[15], 0x80 | i);
	}
}
END_TEST

/* No FP/SIMD record, or a record list that lies about sizes: the integer registers still
 * arrive, the vector part is zeros, and nothing is read past __reserved. */
START_TEST(missing_or_broken_fp_record_gives_zeros)
{
	struct md_context ctx;
	ucontext_t uc;
	struct _aarch64_ctx bad = {.magic = ESR_MAGIC, .size = 0};
	static const uint8_t zero[32 * 16];

	for (int variant = 0; variant < 3; variant++) {
		make_ucontext(&uc, -1);
		if (variant == 1) { /* a zero-sized record would loop forever */
			memcpy(uc.uc_mcontext.__reserved, &bad, sizeof(bad));
		} else if (variant == 2) { /* a record claiming more than __reserved holds */
			bad.size = sizeof(uc.uc_mcontext.__reserved) + 16;
			memcpy(uc.uc_mcontext.__reserved, &bad, sizeof(bad));
		}
		convert(&uc, &ctx);
		assert_gregs(&ctx.u.arm64);
		ck_assert_uint_eq(ctx.u.arm64.fpsr, 0);
		ck_assert_uint_eq(ctx.u.arm64.fpcr, 0);
		ck_assert_mem_eq(ctx.u.arm64.fregs, zero, sizeof(zero));
	}
}
END_TEST

static void full_ucontext(ucontext_t *uc)
{
	make_ucontext(uc, 0);
}

/* A real signal frame: the handler converts its own ucontext. The rounding mode set before
 * the signal (FPCR.RMode, bits 23:22) and the stack pointer near the raising frame must come
 * through, so the FP/SIMD record was found where the kernel (or qemu) put it. */
static void check_signal(const struct md_context *ctx, uint64_t here)
{
	ck_assert_uint_eq((ctx->u.arm64.fpcr >> 22) & 3, 3); /* RMode: toward zero */
	/* raise() runs below the raising frame: sp is under its local, within a few pages */
	ck_assert_uint_lt(ctx->u.arm64.iregs[31], here);
	ck_assert_uint_gt(ctx->u.arm64.iregs[31], here - 64 * 1024);
	ck_assert_uint_ne(ctx->u.arm64.pc, 0);
}

const struct context_arch context_arch = {
    .kind = MD_CTX_LINUX_AARCH64,
    .other_kind = MD_CTX_LINUX_X86_64,
    .bytes = 792u, /* the MD_CTX_LINUX_AARCH64 layout */
    .md_size = sizeof(md_context_arm64_old),
    .full_ucontext = full_ucontext,
    .check_signal = check_signal,
};

Suite *context_suite(void)
{
	return CHECK_SUITE_OF(
	    "context",
	    CHECK_CASE_PLAIN(
	        "aarch64", CHECK_LOOP(registers_and_vectors_reach_the_minidump_context, 3),
	        CHECK_TEST(missing_or_broken_fp_record_gives_zeros),
	        CHECK_TEST(context_refusals_test()), CHECK_TEST(context_signal_test())));
}
