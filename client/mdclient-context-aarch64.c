/* SPDX-License-Identifier: MIT */
/*
 * The aarch64 Linux register context the crash handler sends (MD_CTX_LINUX_AARCH64): x0-x30,
 * sp, pc and pstate of the signal's ucontext (8 bytes each), then fpsr and fpcr (4 bytes each)
 * and v0-v31 (16 bytes each) from the FP/SIMD record the kernel puts in the __reserved area of
 * the mcontext, all little-endian: 792 bytes. This is the only file of the client that knows
 * the layout. It is async-signal-safe and must stay so.
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#include "mdclient-internal.h"

#define GREGS_COUNT   34u /* x0-x30, sp, pc, pstate */
#define GREG_BYTES    8u
#define VREGS_COUNT   32u
#define VREG_BYTES    16u
#define CONTEXT_BYTES (GREGS_COUNT * GREG_BYTES + 4u + 4u + VREGS_COUNT * VREG_BYTES)

/* The records of mcontext_t.__reserved, as the kernel's <asm/sigcontext.h> (through <signal.h>)
 * declares them: each starts with a struct _aarch64_ctx (u32 magic, u32 size of the whole
 * record); a record with magic 0 ends the list. The FP/SIMD one is struct fpsimd_context. */
#define RECORD_HEADER_BYTES sizeof(struct _aarch64_ctx)

_Static_assert(sizeof(((mcontext_t *)0)->regs) == 31 * GREG_BYTES, "x0-x30 in mcontext_t");
_Static_assert(sizeof(((struct fpsimd_context *)0)->vregs) == VREGS_COUNT * VREG_BYTES, "v0-v31");
_Static_assert(CONTEXT_BYTES == 792u, "the MD_CTX_LINUX_AARCH64 layout is 792 bytes");
_Static_assert(CONTEXT_BYTES <= MD_SHIM_CONTEXT_MAX, "the context fits the protocol limit");

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned b = 0; b < bytes; b++)
		p[b] = (uint8_t)(v >> (8 * b));
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The FP/SIMD record in area (size bytes), or NULL when the kernel wrote none. */
static const unsigned char *find_fpsimd(const unsigned char *area, size_t size)
{
	size_t off = 0;

	while (off + RECORD_HEADER_BYTES <= size) {
		uint32_t magic = get_u32(area + off), len = get_u32(area + off + 4);

		if (magic == 0 || len < RECORD_HEADER_BYTES || len > size - off)
			return NULL;
		if (magic == FPSIMD_MAGIC)
			return len >= sizeof(struct fpsimd_context) ? area + off : NULL;
		off += len;
	}
	return NULL;
}

/*
 * Async-signal-safe. Copies the registers of ucontext (a ucontext_t from an SA_SIGINFO
 * handler) into buf. Returns the context kind and sets *ret_len to the bytes written, or
 * returns MD_CTX_NONE with *ret_len 0 when there is no context or buf is too small. A missing
 * FP/SIMD record is sent as zeros.
 */
uint32_t md_shim_context_fill(const void *ucontext, uint8_t *buf, size_t size, size_t *ret_len)
{
	const ucontext_t *uc = ucontext;
	const mcontext_t *mc;
	const unsigned char *fp;
	uint8_t *p = buf;

	*ret_len = 0;
	if (!uc || size < CONTEXT_BYTES)
		return MD_CTX_NONE;
	mc = &uc->uc_mcontext;
	for (unsigned i = 0; i < 31; i++, p += GREG_BYTES)
		put_le(p, mc->regs[i], GREG_BYTES);
	put_le(p, mc->sp, GREG_BYTES);
	p += GREG_BYTES;
	put_le(p, mc->pc, GREG_BYTES);
	p += GREG_BYTES;
	put_le(p, mc->pstate, GREG_BYTES);
	p += GREG_BYTES;
	fp = find_fpsimd(mc->__reserved, sizeof(mc->__reserved));
	if (fp) {
		/* read by offset: the record in __reserved is not necessarily aligned for the
		 * struct */
		put_le(p, get_u32(fp + offsetof(struct fpsimd_context, fpsr)), 4);
		put_le(p + 4, get_u32(fp + offsetof(struct fpsimd_context, fpcr)), 4);
		/* v0-v31 as the kernel stores them: little-endian 128-bit values */
		memcpy(p + 8, fp + offsetof(struct fpsimd_context, vregs),
		       VREGS_COUNT * VREG_BYTES);
	} else {
		memset(p, 0, 8 + VREGS_COUNT * VREG_BYTES);
	}
	*ret_len = CONTEXT_BYTES;
	return MD_CTX_LINUX_AARCH64;
}
