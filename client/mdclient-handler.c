/* SPDX-License-Identifier: MIT */
/*
 * The crash handler of libmdclient and its installation. Everything in this file that runs
 * in a signal handler is async-signal-safe: it uses only static buffers prepared before the
 * handler is installed, system calls, the protocol encoder and atomics; never malloc, stdio,
 * locks or anything that could block without a deadline. At a crash it sends the daemon one
 * CRASH message (pid, tid, signal, si_code, fault address, registers, annotations), waits for
 * the reply no longer than the configured timeout, and then lets the process die by its
 * original signal (or chains to the handler that was installed before ours). It must never
 * swallow a fatal signal.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mdclient-internal.h"

#define WAIT_SLICE_NS 10000000 /* ns between checks of another crash report */
#define WAIT_GRACE_MS 1000     /* ms a second crashing thread waits beyond the timeout */

const int md_shim_signals[MD_SHIM_N_SIGNALS] = {
    SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS,
};

/* The tid of the thread reporting a crash, 0 when none. Taken with a compare-and-swap so that
 * only one crash is reported; kept until the process dies (see handler()). */
static int crashing_tid;

/* Buffers of the crash path, static so that nothing is allocated at crash time. Only the
 * thread holding crashing_tid uses them. */
static uint8_t crash_buf[MD_PROTO_MAX_MESSAGE];
static uint8_t reply_buf[MD_PROTO_MAX_MESSAGE];
static uint8_t context_buf[MD_SHIM_CONTEXT_MAX];
static char key_scratch[MD_PROTO_KEY_MAX + 1];
static char value_scratch[MD_PROTO_VALUE_MAX + 1];

/*
 * Async-signal-safe. The calling thread's kernel id.
 */
static pid_t get_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Async-signal-safe. Builds the CRASH message in crash_buf. Returns its size or a negative
 * errno from the encoder.
 */
static int encode_crash(int sig, const siginfo_t *si, const void *uc, pid_t tid)
{
	struct md_proto_enc e;
	uint32_t kind;
	size_t ctx_len;

	md_proto_begin(&e, crash_buf, sizeof(crash_buf), MD_MSG_CRASH);
	md_proto_put_u32(&e, MD_TAG_PID, (uint32_t)getpid());
	md_proto_put_u32(&e, MD_TAG_TID, (uint32_t)tid);
	md_proto_put_u32(&e, MD_TAG_SIGNO, (uint32_t)sig);
	md_proto_put_u32(&e, MD_TAG_SI_CODE, (uint32_t)si->si_code);
	/* si_addr means something only for a fault; a sent signal has the sender's pid there. */
	md_proto_put_u64(&e, MD_TAG_FAULT_ADDR,
	                 si->si_code > 0 ? (uint64_t)(uintptr_t)si->si_addr : 0);
	kind = md_shim_context_fill(uc, context_buf, sizeof(context_buf), &ctx_len);
	if (kind != MD_CTX_NONE) {
		md_proto_put_u32(&e, MD_TAG_CONTEXT_KIND, kind);
		md_proto_put_bytes(&e, MD_TAG_CONTEXT, context_buf, ctx_len);
	}
	md_shim_annotations_put(md_shim_state.annotations, &e, key_scratch, value_scratch);
	return md_proto_finish(&e);
}

/*
 * Async-signal-safe. Sends the crash report and waits for the daemon's answer, all before one
 * deadline. The connection made at init is used first; if it is dead (the daemon restarted)
 * or missing, or belongs to the parent of this forked process, a new one is made, once.
 * Every failure just ends the report: the process dies either way.
 */
static void report(int sig, const siginfo_t *si, const void *uc, pid_t tid)
{
	struct md_proto_msg reply;
	int64_t deadline = md_shim_now_ms() + md_shim_state.timeout_ms;
	int fd = -1, len, r = -ENOTCONN;

	len = encode_crash(sig, si, uc, tid);
	if (len < 0)
		return;

	if (__atomic_load_n(&md_shim_state.fd_pid, __ATOMIC_ACQUIRE) == getpid())
		fd = __atomic_load_n(&md_shim_state.fd, __ATOMIC_ACQUIRE);
	if (fd >= 0) {
		(void)md_shim_allow_ptrace(fd);
		r = md_shim_drain(fd, reply_buf, sizeof(reply_buf));
		if (r == 0)
			r = md_shim_send(fd, crash_buf, (size_t)len, deadline);
		if (r == -ETIMEDOUT)
			return;
		if (r < 0) {
			/* Dead connection: forget it so nobody uses it again. */
			__atomic_store_n(&md_shim_state.fd, -1, __ATOMIC_RELEASE);
			md_shim_close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		fd = md_shim_connect(&md_shim_state.addr, md_shim_state.addr_len);
		if (fd < 0)
			return;
		/* A new connection may be a new daemon: allow that one to ptrace us. */
		(void)md_shim_allow_ptrace(fd);
		r = md_shim_send(fd, crash_buf, (size_t)len, deadline);
		if (r < 0) {
			md_shim_close(fd);
			return;
		}
		/* Kept open, like the one from init, in case a chained handler lets us live. */
		if (__atomic_load_n(&md_shim_state.fd, __ATOMIC_ACQUIRE) < 0) {
			__atomic_store_n(&md_shim_state.fd_pid, getpid(), __ATOMIC_RELEASE);
			__atomic_store_n(&md_shim_state.fd, fd, __ATOMIC_RELEASE);
		}
	}
	/* The answer only tells us the dump is done; its text has nobody to go to. */
	(void)md_shim_recv_reply(fd, reply_buf, sizeof(reply_buf), deadline, &reply);
}

/*
 * Async-signal-safe. True for a signal the kernel raised because of the instruction at the
 * faulting address, which runs again when the handler returns and faults again. SIGTRAP
 * (int3 leaves rip after the breakpoint) and SIGSYS (seccomp returns from the system call)
 * do not repeat, so they are re-raised instead, like signals sent by abort(), raise or kill.
 */
static bool repeats_on_return(int sig, const siginfo_t *si)
{
	if (si->si_code <= 0)
		return false;
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

/*
 * Async-signal-safe. Puts back the action that was installed before ours and passes the
 * signal on: to that handler if it is a function, else back to the kernel's default action,
 * by returning into the faulting instruction or by re-sending the signal to this thread (it
 * stays blocked until our handler returns, and then kills the process). Returns true when a
 * chained handler returned.
 */
static bool pass_on(int sig, siginfo_t *si, void *uc, int idx, pid_t tid)
{
	const struct sigaction *old = &md_shim_state.old_actions[idx];
	struct sigaction dfl;

	if (old->sa_handler == SIG_IGN && si->si_code > 0) {
		/* The kernel does not let a fault be ignored: it kills with the default action,
		 * and so do we. */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		old = &dfl;
	}
	(void)sigaction(sig, old, NULL);
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		if (old->sa_flags & SA_SIGINFO)
			old->sa_sigaction(sig, si, uc);
		else
			old->sa_handler(sig);
		return true;
	}
	if (!repeats_on_return(sig, si))
		(void)syscall(SYS_tgkill, getpid(), tid, sig);
	return false;
}

/*
 * Async-signal-safe. Takes the report slot, sleeping while another thread reports its crash,
 * for at most the timeout plus a grace period (after which that thread must be stuck in a
 * handler we chained to). Returns true if this thread took the slot.
 */
static bool take_report_slot(pid_t tid)
{
	const struct timespec slice = {.tv_sec = 0, .tv_nsec = WAIT_SLICE_NS};
	int64_t give_up = md_shim_now_ms() + md_shim_state.timeout_ms + WAIT_GRACE_MS;

	for (;;) {
		int expected = 0;

		if (__atomic_compare_exchange_n(&crashing_tid, &expected, (int)tid, false,
		                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return true;
		if (expected == (int)tid) {
			/* A fault inside our own report, or in a handler we chained to: do not
			 * report again. */
			return false;
		}
		if (md_shim_now_ms() >= give_up)
			return false;
		(void)nanosleep(&slice, NULL);
	}
}

/*
 * Async-signal-safe. The handler of every signal in md_shim_signals. One crash is reported at
 * a time: a second thread that crashes meanwhile waits (the process normally dies from the
 * first crash before it wakes) and then passes its own signal on unreported. The report slot
 * stays taken when the signal goes to the default action, so that nothing else is reported
 * while the process dies; it is given back only after a chained handler returns, in case
 * that handler lets the process live.
 */
static void handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	pid_t tid = get_tid();
	int idx = -1;
	bool took;

	for (int i = 0; i < MD_SHIM_N_SIGNALS; i++)
		if (md_shim_signals[i] == sig)
			idx = i;
	if (idx < 0)
		goto out;

	/* A signal sent while the application had it ignored is not a crash: ignore it, as the
	 * application asked. (abort() is reported: it kills the process even then.) */
	if (si->si_code <= 0 && sig != SIGABRT &&
	    md_shim_state.old_actions[idx].sa_handler == SIG_IGN)
		goto out;

	took = take_report_slot(tid);
	if (took)
		report(sig, si, uc, tid);
	if (pass_on(sig, si, uc, idx, tid) && took)
		__atomic_store_n(&crashing_tid, 0, __ATOMIC_RELEASE);
out:
	errno = saved_errno;
}

/*
 * Calls, once and harmlessly, every libc function the handler may call, so that a dynamic
 * linker binding lazily (an application linked with the static library without -z now)
 * resolves them now rather than in the crash handler. The shared library is linked with
 * -z now and needs none of this.
 */
static void warm_up(void)
{
	const struct timespec zero = {0, 0};
	struct sigaction sa;
	uint8_t b = 0;
	int one = 0;
	socklen_t len = sizeof(one);

	(void)md_shim_now_ms();
	(void)get_tid();
	(void)getpid();
	(void)poll(NULL, 0, 0);
	(void)nanosleep(&zero, NULL);
	(void)send(-1, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)recv(-1, &b, 1, MSG_DONTWAIT);
	(void)getsockopt(-1, SOL_SOCKET, SO_TYPE, &one, &len);
	(void)prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
	(void)socket(-1, SOCK_STREAM, 0);
	(void)connect(-1, NULL, 0);
	(void)close(-1);
	(void)sigaction(SIGSEGV, NULL, &sa);
	memset(context_buf, 0, sizeof(context_buf));
	memcpy(key_scratch, "", 1);
}

/*
 * Installs the handler for every signal in md_shim_signals, keeping the previous actions.
 * The previous actions are read first, so that a crash during installation finds them.
 * Returns 0, or -errno with every handler put back as it was.
 */
int md_shim_handlers_install(void)
{
	struct sigaction sa;
	int r = 0;

	warm_up();
	for (int i = 0; i < MD_SHIM_N_SIGNALS; i++)
		if (sigaction(md_shim_signals[i], NULL, &md_shim_state.old_actions[i]) < 0)
			return -errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < MD_SHIM_N_SIGNALS; i++) {
		if (sigaction(md_shim_signals[i], &sa, NULL) < 0) {
			r = -errno;
			md_shim_handlers_remove();
			return r;
		}
		md_shim_state.installed[i] = true;
	}
	return 0;
}

/*
 * Puts back the previous action of every signal whose handler is still ours; a handler the
 * application installed over ours is left in place.
 */
void md_shim_handlers_remove(void)
{
	for (int i = 0; i < MD_SHIM_N_SIGNALS; i++) {
		struct sigaction cur;

		if (!md_shim_state.installed[i])
			continue;
		if (sigaction(md_shim_signals[i], NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_sigaction == handler)
			(void)sigaction(md_shim_signals[i], &md_shim_state.old_actions[i], NULL);
		md_shim_state.installed[i] = false;
	}
}
