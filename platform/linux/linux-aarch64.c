/* SPDX-License-Identifier: MIT */
/*
 * Everything of the Linux backend that knows aarch64: reading a stopped thread's registers
 * with PTRACE_GETREGSET (NT_PRSTATUS for x0-x30, sp, pc and pstate, NT_PRFPREG for v0-v31,
 * fpsr and fpcr) into the minidump ARM64_OLD context (Breakpad's Linux layout, the one both
 * minidump_stackwalk and LLDB read: docs/dumper.md), and the ARM fields of /proc/cpuinfo.
 * Nothing else in platform/linux may depend on this layout.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "linux-arch.h"
#include "linux-internal.h"

#define MD_ARM64_MAX_CPUS 255 /* number_of_processors is a u8 */

/* The kernel's regsets (<asm/ptrace.h>: user_pt_regs, user_fpsimd_state), as glibc's
 * <sys/user.h> names them. */
_Static_assert(sizeof(struct user_regs_struct) == 34 * 8, "NT_PRSTATUS: x0-x30, sp, pc, pstate");
_Static_assert(sizeof(struct user_fpsimd_struct) == 32 * 16 + 16, "NT_PRFPREG: v0-v31, fpsr, fpcr");
_Static_assert(sizeof(((md_context_arm64_old *)0)->fregs) == 32 * 16, "32 vector registers");

static int get_regset(pid_t tid, int type, void *buf, size_t size)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size};

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(long)type, &iov) < 0)
		return -errno;
	return iov.iov_len < size ? -EIO : 0;
}

int md_linux_arch_read_context(pid_t tid, struct md_context *ret, uint64_t *ret_sp,
                               uint64_t *ret_pc)
{
	struct user_regs_struct regs;
	struct user_fpsimd_struct fp;
	md_context_arm64_old *c = &ret->u.arm64;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = get_regset(tid, NT_PRSTATUS, &regs, sizeof(regs));
	if (r < 0)
		return r;
	r = get_regset(tid, NT_PRFPREG, &fp, sizeof(fp));
	if (r < 0)
		return r;

	/* Breakpad's flags for an ARM64_OLD context: integer and floating point registers. */
	c->context_flags = MD_CONTEXT_ARM64_OLD_FULL;
	memcpy(c->iregs, regs.regs, sizeof(regs.regs)); /* x0-x30 */
	c->iregs[31] = regs.sp;
	c->pc = regs.pc;
	c->cpsr = (uint32_t)regs.pstate;
	c->fpsr = fp.fpsr;
	c->fpcr = fp.fpcr;
	memcpy(c->fregs, fp.vregs, sizeof(c->fregs));

	ret->size = sizeof(md_context_arm64_old);
	*ret_sp = regs.sp;
	*ret_pc = regs.pc;
	return 0;
}

uint16_t md_linux_arch_processor_architecture(void)
{
	/* Breakpad's Linux value, which goes with the ARM64_OLD context (12 is Windows' ARM64) */
	return MD_CPU_ARCHITECTURE_ARM64_OLD;
}

struct cpu_scan {
	long max_processor;
	/* from the first processor block; -1 until seen */
	long implementer, variant, part, revision, architecture;
};

/* "CPU implementer : 0x41" and the like: hexadecimal with 0x, decimal otherwise. */
static void take(long *field, const char *value)
{
	char *end;
	long v;

	if (*field >= 0)
		return;
	v = strtol(value, &end, 0);
	if (end != value && v >= 0)
		*field = v;
}

static int on_cpuinfo(void *ctx, const char *key, const char *value)
{
	struct cpu_scan *c = ctx;

	if (!strcmp(key, "processor")) {
		char *end;
		long v = strtol(value, &end, 10);

		if (end != value && v > c->max_processor)
			c->max_processor = v;
	} else if (!strcmp(key, "CPU implementer")) {
		take(&c->implementer, value);
	} else if (!strcmp(key, "CPU variant")) {
		take(&c->variant, value);
	} else if (!strcmp(key, "CPU part")) {
		take(&c->part, value);
	} else if (!strcmp(key, "CPU revision")) {
		take(&c->revision, value);
	} else if (!strcmp(key, "CPU architecture")) {
		take(&c->architecture, value); /* "8"; 32-bit kernels say "7" or "AArch64" */
	}
	return 0;
}

int md_linux_arch_cpu_info(struct md_system *sys)
{
	struct cpu_scan c = {.max_processor = -1,
	                     .implementer = -1,
	                     .variant = -1,
	                     .part = -1,
	                     .revision = -1,
	                     .architecture = -1};
	int r;

	r = md_linux_cpuinfo_foreach(on_cpuinfo, &c);
	if (r < 0)
		return r;
	/* Breakpad's cpuid: implementer << 24 | variant << 20 | part << 4 | revision, the MIDR
	 * fields without the architecture nibble. */
	if (c.implementer >= 0 && c.part >= 0)
		sys->arm_cpuid = (uint32_t)(c.implementer & 0xff) << 24 |
		                 (uint32_t)(c.variant < 0 ? 0 : c.variant & 0xf) << 20 |
		                 (uint32_t)(c.part & 0xfff) << 4 |
		                 (uint32_t)(c.revision < 0 ? 0 : c.revision & 0xf);
	sys->processor_level = (uint16_t)(c.architecture >= 0 ? c.architecture : 8);
	if (c.max_processor >= 0)
		sys->number_of_processors =
		    (uint8_t)(c.max_processor + 1 > MD_ARM64_MAX_CPUS ? MD_ARM64_MAX_CPUS
		                                                      : c.max_processor + 1);
	return 0;
}
