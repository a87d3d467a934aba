/* SPDX-License-Identifier: MIT */
/*
 * The register context for an architecture the protocol has no layout for yet: none. Crash
 * reports from such a build still carry the pid, thread, signal and fault address, and the
 * daemon reads the registers itself with ptrace. Async-signal-safe.
 */
#include "mdclient-internal.h"

/*
 * Async-signal-safe. Sends no registers: returns MD_CTX_NONE with *ret_len 0.
 */
uint32_t md_shim_context_fill(const void *ucontext, uint8_t *buf, size_t size, size_t *ret_len)
{
	*ret_len = 0;
	return MD_CTX_NONE;
}
