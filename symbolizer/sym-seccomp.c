/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's seccomp filter: an allow list of what computing on already-open files needs
 * (read, mmap, memory management, exit). open() fails with EACCES instead of killing, because
 * libdwfl probes paths on its own and must simply find nothing; anything else not listed kills
 * the process (SIGSYS), which the sandbox runner reports. Never used outside the helper.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "config.h"
#include "sym-seccomp.h"

#if HAVE_SECCOMP
#include <seccomp.h>

/* What the helper does on its fds. */
static const int allowed[] = {
    SCMP_SYS(read),         SCMP_SYS(pread64),
    SCMP_SYS(readv),        SCMP_SYS(write),
    SCMP_SYS(writev),       SCMP_SYS(lseek),
    SCMP_SYS(close),        SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),   SCMP_SYS(statx),
    SCMP_SYS(fcntl),        SCMP_SYS(dup),
    SCMP_SYS(mmap),         SCMP_SYS(munmap),
    SCMP_SYS(mremap),       SCMP_SYS(mprotect),
    SCMP_SYS(brk),          SCMP_SYS(madvise),
    SCMP_SYS(futex),        SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
    SCMP_SYS(gettid),       SCMP_SYS(getrandom),
    SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
    SCMP_SYS(exit),         SCMP_SYS(exit_group),
    SCMP_SYS(sched_yield),  SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),    SCMP_SYS(sysinfo),
};

/* What libdebuginfod adds: a socket to the server, its cache under $DEBUGINFOD_CACHE_PATH,
 * curl's resolver thread. */
static const int network[] = {
    SCMP_SYS(socket),
    SCMP_SYS(connect),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(bind),
    SCMP_SYS(shutdown),
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(rmdir),
    SCMP_SYS(symlink),
    SCMP_SYS(chmod),
    SCMP_SYS(utime),
    SCMP_SYS(utimes),
    SCMP_SYS(statfs),
    SCMP_SYS(fstatfs),
    SCMP_SYS(link),
    SCMP_SYS(creat),
    SCMP_SYS(renameat2),
    SCMP_SYS(fchmod),
    SCMP_SYS(utimensat),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(readlink),
    SCMP_SYS(getdents64),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(uname),
    SCMP_SYS(pipe2),
    SCMP_SYS(eventfd2),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(sysinfo),
    SCMP_SYS(ioctl),
    SCMP_SYS(flock),
    SCMP_SYS(getcwd),
    SCMP_SYS(fchown),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(mincore),
};

/* Path lookups libdwfl makes on its own (debuglink, /proc/self/fd names): they fail with
 * EACCES, as if nothing were there. */
static const int refused[] = {
    SCMP_SYS(openat), SCMP_SYS(open),   SCMP_SYS(readlink),  SCMP_SYS(readlinkat), SCMP_SYS(stat),
    SCMP_SYS(lstat),  SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(getcwd),
};

/* AddressSanitizer's exit-time leak check stops the world with a thread and ptrace, and reads
 * its own /proc files: only in sanitizer builds (where path lookups are then allowed too). */
static const int sanitizer[] = {
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(prctl),
    SCMP_SYS(openat),
    SCMP_SYS(getdents64),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(readlink),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(getppid),
    SCMP_SYS(kill),
    SCMP_SYS(tgkill),
    SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(ioctl),
    SCMP_SYS(uname),
    SCMP_SYS(mincore),
    SCMP_SYS(open),
    SCMP_SYS(getdents),
};

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static int allow(scmp_filter_ctx ctx, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, list[i], 0);

		/* a syscall this kernel or architecture does not have is simply not allowed */
		if (r < 0 && r != -EDOM && r != -EFAULT)
			return r;
	}
	return 0;
}

int sym_seccomp_lock(bool net)
{
	scmp_filter_ctx ctx;
	int r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	r = allow(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]));
	if (r == 0 && net)
		r = allow(ctx, network, sizeof(network) / sizeof(network[0]));
	if (r == 0 && SANITIZED)
		r = allow(ctx, sanitizer, sizeof(sanitizer) / sizeof(sanitizer[0]));
	/* paths libdwfl probes on its own find nothing; isatty() on stdout says no */
	for (size_t i = 0; r == 0 && !net && !SANITIZED && i < sizeof(refused) / sizeof(refused[0]);
	     i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), refused[i], 0);
	if (r == 0 && !net && !SANITIZED)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
#else
int sym_seccomp_lock(bool net)
{
	(void)net;
	return -EOPNOTSUPP;
}
#endif
