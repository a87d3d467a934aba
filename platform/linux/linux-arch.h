/* SPDX-License-Identifier: MIT */
/*
 * The small per-architecture interface of the Linux backend. Exactly one linux-<arch>.c file
 * implements it (meson picks it from host_machine.cpu_family()); it is the only code that
 * knows a register layout or the arch-specific lines of /proc/cpuinfo. It must not reach
 * into the rest of the snapshot.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "md-snapshot.h"

/*
 * Reads the registers of a ptrace-stopped thread into the minidump context layout of this
 * architecture and returns its stack pointer and program counter. Returns 0 or -errno; on
 * failure *ret is left with size 0.
 */
int md_linux_arch_read_context(pid_t tid, struct md_context *ret, uint64_t *ret_sp,
                               uint64_t *ret_pc);

struct user_regs_struct;
/* Fills ret from the general registers (as PTRACE_GETREGSET and an ELF core's pr_reg give
 * them) and the 512-byte FXSAVE image (NULL: left zero). linux-<arch>-core.c. */
void md_linux_arch_context_from_regs(const struct user_regs_struct *regs, const uint8_t *fx,
                                     struct md_context *ret);

/* MD_CPU_ARCHITECTURE_* of this build. */
uint16_t md_linux_arch_processor_architecture(void);

/* Fills the CPU fields of sys (level, revision, count, vendor) from /proc/cpuinfo. Leaves the
 * other fields alone. Returns 0 or -errno (the fields stay 0 then). */
int md_linux_arch_cpu_info(struct md_system *sys);
