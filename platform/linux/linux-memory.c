/* SPDX-License-Identifier: MIT */
/*
 * Reads the target's memory for the read_ranges operation: process_vm_readv with as many
 * ranges per call as the kernel takes, else pread on /proc/<pid>/mem (one fd kept for the
 * snapshot's life), else PTRACE_PEEKDATA word by word. It reads only what it is asked for,
 * straight into the caller's buffers, so memory use never grows with the target's size. An
 * unreadable range is reported in its got/err; only a vanished target fails the call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "linux-internal.h"
#include "md-os.h"

#define MD_LINUX_IOV_BATCH 1024 /* ranges per process_vm_readv call (the kernel's UIO_MAXIOV) */

#if defined(IOV_MAX) && IOV_MAX < MD_LINUX_IOV_BATCH
#error "IOV_MAX is smaller than MD_LINUX_IOV_BATCH"
#endif

#if HAVE_PROCESS_VM_READV
/*
 * One pass over the ranges with process_vm_readv. The kernel stops a call at the first fault
 * and returns the bytes copied so far (possibly in the middle of a range), so a short result
 * marks that range partial and the next call starts with the range after it.
 * Returns 0, -ESRCH (target gone), or -ENOSYS/-EPERM (use another reader).
 */
static int read_vm(pid_t pid, struct md_mem_range *ranges, size_t n)
{
	struct iovec local[MD_LINUX_IOV_BATCH], remote[MD_LINUX_IOV_BATCH];
	size_t idx[MD_LINUX_IOV_BATCH];
	size_t i = 0;

	while (i < n) {
		size_t k = 0, j, next;
		ssize_t got;

		for (j = i; j < n && k < MD_LINUX_IOV_BATCH; j++) {
			if (!ranges[j].len)
				continue;
			local[k] =
			    (struct iovec){.iov_base = ranges[j].buf, .iov_len = ranges[j].len};
			remote[k] = (struct iovec){.iov_base = (void *)(uintptr_t)ranges[j].addr,
			                           .iov_len = ranges[j].len};
			idx[k++] = j;
		}
		if (!k)
			break;
		next = j;
		got = process_vm_readv(pid, local, k, remote, k, 0);
		if (got < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == ESRCH || e == ENOSYS || e == EPERM)
				return -e;
			/* Nothing was copied: the first range of the batch failed at its start. */
			ranges[idx[0]].err = -e;
			i = idx[0] + 1;
			continue;
		}
		for (j = 0; j < k; j++) {
			struct md_mem_range *r = &ranges[idx[j]];

			if ((size_t)got >= r->len) {
				r->got = r->len;
				got -= (ssize_t)r->len;
				continue;
			}
			r->got = (size_t)got;
			r->err = -EFAULT;
			next = idx[j] + 1;
			break;
		}
		i = next;
	}
	return 0;
}
#endif

/* Reads each range with pread on /proc/<pid>/mem, which stops at the first unmapped page. */
static void read_proc_mem(int fd, struct md_mem_range *ranges, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct md_mem_range *r = &ranges[i];

		while (r->got < r->len) {
			int64_t got;

			if (r->addr + r->got > (uint64_t)INT64_MAX) {
				r->err = -EFAULT;
				break;
			}
			got = md_os_pread(fd, (char *)r->buf + r->got, r->len - r->got,
			                  r->addr + r->got);
			if (got <= 0) {
				/* 0 means the address space is gone (the process is exiting). */
				r->err = got < 0 ? (int)got : -EIO;
				break;
			}
			r->got += (size_t)got;
		}
	}
}

/* Reads each range one aligned word at a time through a stopped thread. */
static int read_peek(pid_t tid, struct md_mem_range *ranges, size_t n)
{
	const size_t word = sizeof(long);
	size_t i;

	for (i = 0; i < n; i++) {
		struct md_mem_range *r = &ranges[i];

		while (r->got < r->len) {
			uint64_t at = r->addr + r->got;
			uint64_t aligned = at & ~(uint64_t)(word - 1);
			size_t skip = (size_t)(at - aligned);
			size_t take = word - skip;
			long v;

			errno = 0;
			v = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)aligned, NULL);
			if (v == -1 && errno) {
				if (errno == ESRCH)
					return -ESRCH;
				r->err = -errno;
				break;
			}
			if (take > r->len - r->got)
				take = r->len - r->got;
			memcpy((char *)r->buf + r->got, (char *)&v + skip, take);
			r->got += take;
		}
	}
	return 0;
}

static void reset(struct md_mem_range *ranges, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ranges[i].got = 0;
		ranges[i].err = 0;
	}
}

int md_linux_read_ranges(struct md_snapshot *s, struct md_mem_range *ranges, size_t n)
{
	struct md_linux_snapshot *ls = md_linux_snapshot_from_pub(s);
	char path[MD_LINUX_PATH_MAX];
	int r;

	if (s->target_gone)
		return -ESRCH;
	reset(ranges, n);
#if HAVE_PROCESS_VM_READV
	if (ls->mem_method == MD_LINUX_MEM_VM_READV) {
		r = read_vm(ls->pid, ranges, n);
		if (r == -ESRCH)
			goto gone;
		if (r == 0)
			return 0;
		/* Not available here (old kernel, seccomp, LSM): fall back for good. */
		ls->mem_method = MD_LINUX_MEM_PROC_MEM;
		reset(ranges, n);
	}
#else
	if (ls->mem_method == MD_LINUX_MEM_VM_READV)
		ls->mem_method = MD_LINUX_MEM_PROC_MEM;
#endif
	if (ls->mem_method == MD_LINUX_MEM_PROC_MEM) {
		if (ls->mem_fd < 0) {
			snprintf(path, sizeof(path), "/proc/%d/mem", (int)ls->pid);
			ls->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
			if (ls->mem_fd < 0 && errno == ENOENT)
				goto gone;
		}
		if (ls->mem_fd >= 0) {
			read_proc_mem(ls->mem_fd, ranges, n);
			return 0;
		}
		ls->mem_method = MD_LINUX_MEM_PEEK;
	}
	if (!ls->tracees.n)
		return -ESRCH; /* PTRACE_PEEKDATA needs a stopped thread */
	r = read_peek(ls->tracees.t[0].tid, ranges, n);
	if (r == -ESRCH)
		goto gone;
	return 0;
gone:
	s->target_gone = true;
	return -ESRCH;
}
