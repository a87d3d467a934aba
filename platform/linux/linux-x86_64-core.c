/* SPDX-License-Identifier: MIT */
/*
 * The x86_64 register layout shared by the two Linux sources of registers: a ptrace-stopped
 * thread (PTRACE_GETREGSET, linux-x86_64.c) and an ELF core's NT_PRSTATUS (pr_reg is the same
 * user_regs_struct) with its FXSAVE image from NT_X86_XSTATE or NT_PRFPREG (linux-core.h).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/user.h>

#include "linux-arch.h"
#include "linux-core.h"

_Static_assert(sizeof(md_xmm_save_area32) == MD_CORE_FXSAVE_SIZE, "flt_save size");

void md_linux_arch_context_from_regs(const struct user_regs_struct *regs, const uint8_t *fx,
                                     struct md_context *ret)
{
	md_context_amd64 *c = &ret->u.amd64;

	memset(ret, 0, sizeof(*ret));
	/* Breakpad's flags for a thread read by a debugger: control, integer, floating point
	 * and segments. The debug registers are not read, so their bit stays clear. */
	c->context_flags = MD_CONTEXT_AMD64_FULL | MD_CONTEXT_AMD64_SEGMENTS;
	c->cs = (uint16_t)regs->cs;
	c->ds = (uint16_t)regs->ds;
	c->es = (uint16_t)regs->es;
	c->fs = (uint16_t)regs->fs;
	c->gs = (uint16_t)regs->gs;
	c->ss = (uint16_t)regs->ss;
	c->eflags = (uint32_t)regs->eflags;
	c->rax = regs->rax;
	c->rcx = regs->rcx;
	c->rdx = regs->rdx;
	c->rbx = regs->rbx;
	c->rsp = regs->rsp;
	c->rbp = regs->rbp;
	c->rsi = regs->rsi;
	c->rdi = regs->rdi;
	c->r8 = regs->r8;
	c->r9 = regs->r9;
	c->r10 = regs->r10;
	c->r11 = regs->r11;
	c->r12 = regs->r12;
	c->r13 = regs->r13;
	c->r14 = regs->r14;
	c->r15 = regs->r15;
	c->rip = regs->rip;
	/* The kernel's FXSAVE bytes go in unchanged; mx_csr is repeated in the header. */
	if (fx) {
		memcpy(&c->flt_save, fx, MD_CORE_FXSAVE_SIZE);
		c->mx_csr = c->flt_save.mx_csr;
	}
	ret->size = sizeof(md_context_amd64);
}

uint16_t md_linux_arch_elf_machine(void)
{
	return EM_X86_64;
}

int md_linux_arch_core_context(const struct md_core_thread *t, struct md_context *ret,
                               uint64_t *ret_sp, uint64_t *ret_pc)
{
	struct user_regs_struct regs;

	memset(ret, 0, sizeof(*ret));
	if (t->gregs_len < sizeof(regs))
		return -EBADMSG;
	memcpy(&regs, t->gregs, sizeof(regs));
	md_linux_arch_context_from_regs(&regs, t->has_fx ? t->fx : NULL, ret);
	*ret_sp = regs.rsp;
	*ret_pc = regs.rip;
	return 0;
}
