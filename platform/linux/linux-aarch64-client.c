/* SPDX-License-Identifier: MIT */
/*
 * Converts the registers an aarch64 Linux client sends from its signal handler
 * (MD_CTX_LINUX_AARCH64, client/mdclient-context-aarch64.c: x0-x30, sp, pc, pstate as u64,
 * fpsr and fpcr as u32, v0-v31 as 16 bytes each, little-endian) into a minidump ARM64_OLD
 * context. The values are the app's registers at the fault, not the handler's.
 */
#include <errno.h>
#include <string.h>

#include "md-proto.h"
#include "md-backend.h"

#define GREGS_COUNT 34u /* x0-x30, sp, pc, pstate */
#define G_SP        31u
#define G_PC        32u
#define G_PSTATE    33u
#define VREGS_BYTES (32u * 16u)
#define CONTEXT_LEN (GREGS_COUNT * 8u + 4u + 4u + VREGS_BYTES)

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned b = 0; b < bytes; b++)
		v |= (uint64_t)p[b] << (8 * b);
	return v;
}

int md_platform_client_context(uint32_t kind, const void *data, size_t len,
                               struct md_context *ret_ctx)
{
	const uint8_t *d = data;
	md_context_arm64_old *c = &ret_ctx->u.arm64;

	if (kind != MD_CTX_LINUX_AARCH64)
		return -EPROTONOSUPPORT;
	if (len != CONTEXT_LEN)
		return -EBADMSG;
	memset(ret_ctx, 0, sizeof(*ret_ctx));
	ret_ctx->size = sizeof(md_context_arm64_old);
	c->context_flags = MD_CONTEXT_ARM64_OLD_FULL;
	for (unsigned i = 0; i < 31; i++)
		c->iregs[i] = get_le(d + i * 8, 8);
	c->iregs[31] = get_le(d + G_SP * 8, 8);
	c->pc = get_le(d + G_PC * 8, 8);
	c->cpsr = (uint32_t)get_le(d + G_PSTATE * 8, 8);
	c->fpsr = (uint32_t)get_le(d + GREGS_COUNT * 8, 4);
	c->fpcr = (uint32_t)get_le(d + GREGS_COUNT * 8 + 4, 4);
	memcpy(c->fregs, d + GREGS_COUNT * 8 + 8, VREGS_BYTES);
	return 0;
}
