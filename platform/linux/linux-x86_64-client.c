/* SPDX-License-Identifier: MIT */
/*
 * Converts the registers an x86_64 Linux client sends from its signal handler (the ucontext's
 * 23 general registers in the kernel's REG_* order, then the 512-byte FXSAVE area) into a
 * minidump AMD64 context. The values are the app's registers at the fault, not the handler's.
 */
#include <errno.h>
#include <string.h>

#include "md-proto.h"
#include "md-backend.h"

/* gregs[] indices (the kernel's REG_* order in <sys/ucontext.h>) */
enum {
	G_R8,
	G_R9,
	G_R10,
	G_R11,
	G_R12,
	G_R13,
	G_R14,
	G_R15,
	G_RDI,
	G_RSI,
	G_RBP,
	G_RBX,
	G_RDX,
	G_RAX,
	G_RCX,
	G_RSP,
	G_RIP,
	G_EFL,
	G_CSGSFS,
	G_ERR,
	G_TRAPNO,
	G_OLDMASK,
	G_CR2,
	G_COUNT
};

#define FXSAVE_SIZE 512u

int md_platform_client_context(uint32_t kind, const void *data, size_t len,
                               struct md_context *ret_ctx)
{
	uint64_t g[G_COUNT];
	md_context_amd64 *c = &ret_ctx->u.amd64;

	if (kind != MD_CTX_LINUX_X86_64)
		return -EPROTONOSUPPORT;
	if (len != sizeof(g) + FXSAVE_SIZE)
		return -EBADMSG;
	memcpy(g, data, sizeof(g));
	memset(ret_ctx, 0, sizeof(*ret_ctx));
	ret_ctx->size = sizeof(md_context_amd64);
	/* from a signal frame: no ds/es, cs/gs/fs packed in one word (as Breakpad does) */
	c->context_flags = MD_CONTEXT_AMD64_FULL;
	c->cs = (uint16_t)(g[G_CSGSFS] & 0xFFFF);
	c->gs = (uint16_t)((g[G_CSGSFS] >> 16) & 0xFFFF);
	c->fs = (uint16_t)((g[G_CSGSFS] >> 32) & 0xFFFF);
	c->eflags = (uint32_t)g[G_EFL];
	c->rax = g[G_RAX];
	c->rcx = g[G_RCX];
	c->rdx = g[G_RDX];
	c->rbx = g[G_RBX];
	c->rsp = g[G_RSP];
	c->rbp = g[G_RBP];
	c->rsi = g[G_RSI];
	c->rdi = g[G_RDI];
	c->r8 = g[G_R8];
	c->r9 = g[G_R9];
	c->r10 = g[G_R10];
	c->r11 = g[G_R11];
	c->r12 = g[G_R12];
	c->r13 = g[G_R13];
	c->r14 = g[G_R14];
	c->r15 = g[G_R15];
	c->rip = g[G_RIP];
	memcpy(&c->flt_save, (const uint8_t *)data + sizeof(g), FXSAVE_SIZE);
	c->mx_csr = c->flt_save.mx_csr;
	return 0;
}
