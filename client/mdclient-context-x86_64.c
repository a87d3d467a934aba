/* SPDX-License-Identifier: MIT */
/*
 * The x86_64 Linux register context the crash handler sends (MD_CTX_LINUX_X86_64): the 23
 * general registers of the signal's ucontext in the kernel's REG_* order, 8 bytes each, then
 * the 512-byte FXSAVE area. This is the only file that knows the register layout; another
 * architecture gets its own mdclient-context-<arch>.c, picked by client/meson.build. It is
 * async-signal-safe and must stay so.
 */
#include <string.h>
#include <ucontext.h>

#include "mdclient-internal.h"

#define GREGS_COUNT   23u  /* NGREG on x86_64 */
#define GREG_BYTES    8u   /* each register travels as a little-endian u64 */
#define FXSAVE_BYTES  512u /* struct _libc_fpstate, the legacy FXSAVE layout */
#define CONTEXT_BYTES (GREGS_COUNT * GREG_BYTES + FXSAVE_BYTES)

_Static_assert(NGREG == GREGS_COUNT, "mcontext_t has 23 general registers on x86_64");
_Static_assert(sizeof(struct _libc_fpstate) == FXSAVE_BYTES, "the FXSAVE area is 512 bytes");
_Static_assert(CONTEXT_BYTES <= MD_SHIM_CONTEXT_MAX, "the context fits the protocol limit");

/*
 * Async-signal-safe. Copies the registers of ucontext (a ucontext_t from an SA_SIGINFO
 * handler) into buf. Returns the context kind and sets *ret_len to the bytes written, or
 * returns MD_CTX_NONE with *ret_len 0 when there is no context or buf is too small. A missing
 * FPU area (fpregs NULL) is sent as zeros.
 */
uint32_t md_shim_context_fill(const void *ucontext, uint8_t *buf, size_t size, size_t *ret_len)
{
	const ucontext_t *uc = ucontext;

	*ret_len = 0;
	if (!uc || size < CONTEXT_BYTES)
		return MD_CTX_NONE;
	for (unsigned i = 0; i < GREGS_COUNT; i++) {
		uint64_t v = (uint64_t)uc->uc_mcontext.gregs[i];

		for (unsigned b = 0; b < GREG_BYTES; b++)
			buf[i * GREG_BYTES + b] = (uint8_t)(v >> (8 * b));
	}
	if (uc->uc_mcontext.fpregs)
		memcpy(buf + GREGS_COUNT * GREG_BYTES, uc->uc_mcontext.fpregs, FXSAVE_BYTES);
	else
		memset(buf + GREGS_COUNT * GREG_BYTES, 0, FXSAVE_BYTES);
	*ret_len = CONTEXT_BYTES;
	return MD_CTX_LINUX_X86_64;
}
