/* SPDX-License-Identifier: MIT */
/*
 * The x86_64 crash context end to end without a daemon: the client's md_shim_context_fill
 * (client/mdclient-context-x86_64.c) on a ucontext_t, then the daemon's converter
 * md_platform_client_context (platform/linux/linux-x86_64-client.c), checked register by
 * register in the minidump AMD64 context the dump will carry. Built for x86_64 only
 * (tests/meson.build's per-cpu dict).
 */
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "check-main.h"
#include "context-util.h"
#include "md-proto.h"

/* A ucontext with gregs[i] = 0x1000 + i (REG_CSGSFS packing cs 0x33, gs 0x2b, fs 0x63) and,
 * unless fp is NULL, an FXSAVE area whose byte k is k ^ 0x5a, with mxcsr 0x1f80 | rounding. */
static void make_ucontext(ucontext_t *uc, struct _libc_fpstate *fp)
{
	memset(uc, 0, sizeof(*uc));
	for (unsigned i = 0; i < NGREG; i++)
		uc->uc_mcontext.gregs[i] = 0x1000 + i;
	uc->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | 0x2bll << 16 | 0x63ll << 32;
	uc->uc_mcontext.fpregs = fp;
	if (fp) {
		uint8_t *b = (uint8_t *)fp;

		for (unsigned k = 0; k < sizeof(*fp); k++)
			b[k] = (uint8_t)(k ^ 0x5a);
		fp->mxcsr = 0x1f80 | 0x6000;
	}
}

static void convert(const ucontext_t *uc, struct md_context *ctx)
{
	context_convert(uc, ctx);
	ck_assert_uint_eq(ctx->u.amd64.context_flags, MD_CONTEXT_AMD64_FULL);
}

START_TEST(registers_and_fxsave_reach_the_minidump_context)
{
	struct _libc_fpstate fp;
	struct md_context ctx;
	const md_context_amd64 *c = &ctx.u.amd64;
	ucontext_t uc;

	make_ucontext(&uc, &fp);
	convert(&uc, &ctx);
	ck_assert_uint_eq(c->rax, 0x1000 + REG_RAX);
	ck_assert_uint_eq(c->rbx, 0x1000 + REG_RBX);
	ck_assert_uint_eq(c->rcx, 0x1000 + REG_RCX);
	ck_assert_uint_eq(c->rdx, 0x1000 + REG_RDX);
	ck_assert_uint_eq(c->rsi, 0x1000 + REG_RSI);
	ck_assert_uint_eq(c->rdi, 0x1000 + REG_RDI);
	ck_assert_uint_eq(c->rbp, 0x1000 + REG_RBP);
	ck_assert_uint_eq(c->rsp, 0x1000 + REG_RSP);
	ck_assert_uint_eq(c->r8, 0x1000 + REG_R8);
	ck_assert_uint_eq(c->r9, 0x1000 + REG_R9);
	ck_assert_uint_eq(c->r10, 0x1000 + REG_R10);
	ck_assert_uint_eq(c->r11, 0x1000 + REG_R11);
	ck_assert_uint_eq(c->r12, 0x1000 + REG_R12);
	ck_assert_uint_eq(c->r13, 0x1000 + REG_R13);
	ck_assert_uint_eq(c->r14, 0x1000 + REG_R14);
	ck_assert_uint_eq(c->r15, 0x1000 + REG_R15);
	ck_assert_uint_eq(c->rip, 0x1000 + REG_RIP);
	ck_assert_uint_eq(c->eflags, 0x1000 + REG_EFL);
	ck_assert_uint_eq(c->cs, 0x33);
	ck_assert_uint_eq(c->gs, 0x2b);
	ck_assert_uint_eq(c->fs, 0x63);
	ck_assert_mem_eq(&c->flt_save, &fp, sizeof(fp));
	ck_assert_uint_eq(c->mx_csr, 0x7f80);
}
END_TEST

START_TEST(missing_fpu_area_gives_zeros)
{
	static const uint8_t zero[512];
	struct md_context ctx;
	ucontext_t uc;

	make_ucontext(&uc, NULL);
	convert(&uc, &ctx);
	ck_assert_uint_eq(ctx.u.amd64.rip, 0x1000 + REG_RIP);
	ck_assert_mem_eq(&ctx.u.amd64.flt_save, zero, sizeof(zero));
	ck_assert_uint_eq(ctx.u.amd64.mx_csr, 0);
}
END_TEST

static void full_ucontext(ucontext_t *uc)
{
	static struct _libc_fpstate fp;

	make_ucontext(uc, &fp);
}

/* A real signal frame: the rounding mode set before the signal (MXCSR.RC, bits 14:13) and the
 * stack pointer near the raising frame must come through. */
static void check_signal(const struct md_context *ctx, uint64_t here)
{
	ck_assert_uint_eq((ctx->u.amd64.mx_csr >> 13) & 3, 3); /* RC: toward zero */
	ck_assert_uint_lt(ctx->u.amd64.rsp, here);
	ck_assert_uint_gt(ctx->u.amd64.rsp, here - 64 * 1024);
	ck_assert_uint_ne(ctx->u.amd64.rip, 0);
}

const struct context_arch context_arch = {
    .kind = MD_CTX_LINUX_X86_64,
    .other_kind = MD_CTX_LINUX_AARCH64,
    .bytes = 23u * 8u + 512u, /* the MD_CTX_LINUX_X86_64 layout */
    .md_size = sizeof(md_context_amd64),
    .full_ucontext = full_ucontext,
    .check_signal = check_signal,
};

Suite *context_suite(void)
{
	return CHECK_SUITE_OF(
	    "context", CHECK_CASE_PLAIN(
	                   "x86_64", CHECK_TEST(registers_and_fxsave_reach_the_minidump_context),
	                   CHECK_TEST(missing_fpu_area_gives_zeros),
	                   CHECK_TEST(context_refusals_test()), CHECK_TEST(context_signal_test())));
}
