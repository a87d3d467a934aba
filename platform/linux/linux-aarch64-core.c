/* SPDX-License-Identifier: MIT */
/*
 * The aarch64 registers of an ELF core's thread (linux-core.h): NT_PRSTATUS's pr_reg is the
 * kernel's user_pt_regs (x0-x30, sp, pc, pstate), and NT_PRFPREG, user_fpsimd_state, of which
 * the note parser keeps the first 512 bytes: v0-v31 (fpsr and fpcr, after them, are not kept
 * and stay 0). Into the same ARM64_OLD context as a ptrace-stopped thread (linux-aarch64.c).
 * Built and linked for aarch64; not yet exercised by a test (tests/aarch64 has no coredump
 * case).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/user.h>

#include "linux-arch.h"
#include "linux-core.h"

_Static_assert(sizeof(((md_context_arm64_old *)0)->fregs) <= MD_CORE_FXSAVE_SIZE,
               "v0-v31 fit in what the note parser keeps of NT_PRFPREG");

uint16_t md_linux_arch_elf_machine(void)
{
	return EM_AARCH64;
}

int md_linux_arch_core_context(const struct md_core_thread *t, struct md_context *ret,
                               uint64_t *ret_sp, uint64_t *ret_pc)
{
	struct user_regs_struct regs;
	md_context_arm64_old *c = &ret->u.arm64;

	memset(ret, 0, sizeof(*ret));
	if (t->gregs_len < sizeof(regs))
		return -EBADMSG;
	memcpy(&regs, t->gregs, sizeof(regs));
	c->context_flags = MD_CONTEXT_ARM64_OLD_FULL;
	memcpy(c->iregs, regs.regs, sizeof(regs.regs)); /* x0-x30 */
	c->iregs[31] = regs.sp;
	c->pc = regs.pc;
	c->cpsr = (uint32_t)regs.pstate;
	if (t->has_fx)
		memcpy(c->fregs, t->fx, sizeof(c->fregs));
	ret->size = sizeof(md_context_arm64_old);
	*ret_sp = regs.sp;
	*ret_pc = regs.pc;
	return 0;
}
