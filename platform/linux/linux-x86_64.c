/* SPDX-License-Identifier: MIT */
/*
 * Everything of the Linux backend that knows x86_64: reading a stopped thread's registers
 * with PTRACE_GETREGSET (NT_PRSTATUS for the integer registers, NT_X86_XSTATE or NT_PRFPREG
 * for the FXSAVE image) into the minidump AMD64 context, and the x86 fields of /proc/cpuinfo.
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

#define MD_X86_FXSAVE_SIZE 512  /* bytes of the legacy FXSAVE area at the start of XSAVE */
#define MD_X86_XSTATE_MAX  8192 /* bytes we accept from NT_X86_XSTATE (AVX-512 needs ~2.7 KiB) */
#define MD_X86_MAX_CPUS    255  /* number_of_processors is a u8 */

_Static_assert(sizeof(struct user_fpregs_struct) == MD_X86_FXSAVE_SIZE, "FXSAVE image size");

static int get_regset(pid_t tid, int type, void *buf, size_t *len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = *len};

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(long)type, &iov) < 0)
		return -errno;
	*len = iov.iov_len;
	return 0;
}

/* The FXSAVE image: the first 512 bytes of the XSAVE area, or NT_PRFPREG on kernels or CPUs
 * without XSAVE. */
static int read_fxsave(pid_t tid, uint8_t ret[MD_X86_FXSAVE_SIZE])
{
	uint8_t *xstate;
	size_t len;
	int r;

	xstate = malloc(MD_X86_XSTATE_MAX);
	if (xstate) {
		len = MD_X86_XSTATE_MAX;
		r = get_regset(tid, NT_X86_XSTATE, xstate, &len);
		if (r == 0 && len >= MD_X86_FXSAVE_SIZE) {
			memcpy(ret, xstate, MD_X86_FXSAVE_SIZE);
			free(xstate);
			return 0;
		}
		free(xstate);
	}
	len = MD_X86_FXSAVE_SIZE;
	r = get_regset(tid, NT_PRFPREG, ret, &len);
	if (r == 0 && len < MD_X86_FXSAVE_SIZE)
		r = -EIO;
	return r;
}

int md_linux_arch_read_context(pid_t tid, struct md_context *ret, uint64_t *ret_sp,
                               uint64_t *ret_pc)
{
	uint8_t fx[MD_X86_FXSAVE_SIZE];
	struct user_regs_struct regs;
	size_t len = sizeof(regs);
	int r;

	memset(ret, 0, sizeof(*ret));
	r = get_regset(tid, NT_PRSTATUS, &regs, &len);
	if (r == 0 && len < sizeof(regs))
		r = -EIO;
	if (r < 0)
		return r;
	r = read_fxsave(tid, fx);
	if (r < 0)
		return r;

	md_linux_arch_context_from_regs(&regs, fx, ret);
	*ret_sp = regs.rsp;
	*ret_pc = regs.rip;
	return 0;
}

uint16_t md_linux_arch_processor_architecture(void)
{
	return MD_CPU_ARCHITECTURE_AMD64;
}

struct cpu_scan {
	struct md_system *sys;
	long max_processor;
	long family, model, stepping; /* from the first processor block; -1 until seen */
};

static int on_cpuinfo(void *ctx, const char *key, const char *value)
{
	struct cpu_scan *c = ctx;
	char *end;
	long v;

	if (!strcmp(key, "vendor_id")) {
		if (!c->sys->cpu_vendor[0])
			strncpy(c->sys->cpu_vendor, value, sizeof(c->sys->cpu_vendor) - 1);
		return 0;
	}
	v = strtol(value, &end, 10);
	if (end == value)
		return 0;
	if (!strcmp(key, "processor")) {
		if (v > c->max_processor)
			c->max_processor = v;
	} else if (!strcmp(key, "cpu family") && c->family < 0) {
		c->family = v;
	} else if (!strcmp(key, "model") && c->model < 0) {
		c->model = v;
	} else if (!strcmp(key, "stepping") && c->stepping < 0) {
		c->stepping = v;
	}
	return 0;
}

int md_linux_arch_cpu_info(struct md_system *sys)
{
	struct cpu_scan c = {
	    .sys = sys, .max_processor = -1, .family = -1, .model = -1, .stepping = -1};
	int r;

	r = md_linux_cpuinfo_foreach(on_cpuinfo, &c);
	if (r < 0)
		return r;
	if (c.family >= 0)
		sys->processor_level = (uint16_t)c.family;
	if (c.model >= 0 && c.stepping >= 0)
		sys->processor_revision = (uint16_t)((c.model & 0xff) << 8 | (c.stepping & 0xff));
	if (c.max_processor >= 0)
		sys->number_of_processors =
		    (uint8_t)(c.max_processor + 1 > MD_X86_MAX_CPUS ? MD_X86_MAX_CPUS
		                                                    : c.max_processor + 1);
	return 0;
}
