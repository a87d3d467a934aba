/* SPDX-License-Identifier: MIT */
/* The crash context suites' common steps (context-util.h). */
#include <check.h>
#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <string.h>

#include "check-main.h"
#include "context-util.h"
#include "md-proto.h"
#include "mdclient-internal.h"

static uint8_t buf[MD_SHIM_CONTEXT_MAX];

void context_convert(const ucontext_t *uc, struct md_context *ctx)
{
	size_t len = 1;
	uint32_t kind = md_shim_context_fill(uc, buf, sizeof(buf), &len);

	ck_assert_uint_eq(kind, context_arch.kind);
	ck_assert_uint_eq(len, context_arch.bytes);
	ck_assert_int_eq(md_platform_client_context(kind, buf, len, ctx), 0);
	ck_assert_uint_eq(ctx->size, context_arch.md_size);
}

START_TEST(converter_refuses_other_kinds_and_lengths)
{
	struct md_context ctx;
	ucontext_t full, *uc = &full;
	size_t len;

	context_arch.full_ucontext(uc);
	ck_assert_uint_eq(md_shim_context_fill(uc, buf, sizeof(buf), &len), context_arch.kind);
	ck_assert_int_eq(md_platform_client_context(context_arch.other_kind, buf, len, &ctx),
	                 -EPROTONOSUPPORT);
	ck_assert_int_eq(md_platform_client_context(context_arch.kind, buf, len - 1, &ctx),
	                 -EBADMSG);
	ck_assert_int_eq(md_platform_client_context(context_arch.kind, buf, len + 1, &ctx),
	                 -EBADMSG);
	/* a buffer too small for the layout: nothing is sent */
	ck_assert_uint_eq(md_shim_context_fill(uc, buf, context_arch.bytes - 1, &len), MD_CTX_NONE);
	ck_assert_uint_eq(len, 0);
	ck_assert_uint_eq(md_shim_context_fill(NULL, buf, sizeof(buf), &len), MD_CTX_NONE);
}
END_TEST

static struct md_context signal_ctx;
static int signal_result = -1;

static void on_signal(int signo, siginfo_t *si, void *ucontext)
{
	size_t len;
	uint32_t kind = md_shim_context_fill(ucontext, buf, sizeof(buf), &len);

	signal_result = md_platform_client_context(kind, buf, len, &signal_ctx);
}

START_TEST(context_of_a_real_signal)
{
	struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
	volatile char marker = 0;

	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(fesetround(FE_TOWARDZERO), 0);
	raise(SIGUSR1);
	fesetround(FE_TONEAREST);
	ck_assert_int_eq(signal_result, 0);
	context_arch.check_signal(&signal_ctx, (uint64_t)(uintptr_t)&marker);
}
END_TEST

const TTest *context_refusals_test(void)
{
	return converter_refuses_other_kinds_and_lengths;
}

const TTest *context_signal_test(void)
{
	return context_of_a_real_signal;
}

const struct check_suite check_suite = {.name = "context", .suite = context_suite};
