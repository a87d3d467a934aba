/* SPDX-License-Identifier: MIT */
/*
 * libmdclient: the crash-reporting shim an application links to have minidumpd write a
 * minidump when it crashes (see docs/client.md). This is the library's only public header.
 * The shim installs handlers for the fatal signals; at a crash it hands the daemon the
 * process id, the crashing thread, the signal information and the registers over a Unix
 * socket, waits a bounded time for the dump, and then lets the process die by its original
 * signal. It depends on libc only, never allocates or locks on the crash path, and never
 * prints anything.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MD_CLIENT_BUILDING) && defined(_WIN32)
#define MD_CLIENT_EXPORT __declspec(dllexport)
#elif defined(MD_CLIENT_BUILDING) && defined(__GNUC__)
#define MD_CLIENT_EXPORT __attribute__((visibility("default")))
#else
#define MD_CLIENT_EXPORT
#endif

/* Where the daemon listens unless the options or $MINIDUMPD_SOCKET say otherwise: a Unix
 * socket, or on Windows a named pipe. */
#ifdef _WIN32
#define MD_CLIENT_DEFAULT_SOCKET "\\\\.\\pipe\\minidumpd"
#else
#define MD_CLIENT_DEFAULT_SOCKET "/run/minidumpd/minidumpd.sock"
#endif
/* ms the crash handler and md_client_dump_now() wait for the daemon, unless the options or
 * $MINIDUMPD_TIMEOUT_MS say otherwise. */
#define MD_CLIENT_DEFAULT_TIMEOUT_MS 5000
/* ms: the largest timeout accepted from the options or the environment. */
#define MD_CLIENT_MAX_TIMEOUT_MS (10 * 60 * 1000)

/* Flags for md_client_options.flags. */
enum md_client_flags {
	/* Do not install the signal handlers: only md_client_dump_now() and the annotations are
	 * used (for an application that reports crashes through its own handler). */
	MD_CLIENT_NO_HANDLERS = 1u << 0,
	/* Do not give the calling thread an alternate signal stack (it already has one, or the
	 * application manages them). */
	MD_CLIENT_NO_ALTSTACK = 1u << 1,
	/* Do not connect to the daemon at init; the crash handler connects at crash time. */
	MD_CLIENT_NO_CONNECT = 1u << 2,
};

/*
 * Options of md_client_init(). Zero-initialize the whole structure, then set what you need:
 * every zero member means "the default", and the reserved members must stay zero so that
 * later versions can give them a meaning.
 */
struct md_client_options {
	/* Path of the daemon's socket, copied at init (at most 107 bytes). NULL: the value of
	 * $MINIDUMPD_SOCKET if set and not empty, else MD_CLIENT_DEFAULT_SOCKET. */
	const char *socket_path;
	/* ms to wait for the daemon's reply at a crash or in md_client_dump_now(), 1 to
	 * MD_CLIENT_MAX_TIMEOUT_MS. 0: $MINIDUMPD_TIMEOUT_MS if set, else
	 * MD_CLIENT_DEFAULT_TIMEOUT_MS. */
	int timeout_ms;
	/* A bitwise OR of enum md_client_flags. */
	unsigned int flags;
	/* Must be zero. */
	void *reserved[4];
};

/*
 * Sets up crash reporting for this process. opts may be NULL for all defaults; it is not
 * kept after the call returns.
 *
 * Steps: reads the options and environment; prepares every buffer the crash handler needs;
 * connects to the daemon (a daemon that is not running is not an error: the handler tries
 * again at crash time), sends it a HELLO with the protocol version, pid, process name (from
 * /proc/self/comm) and the annotations set so far, and allows the daemon's process (found
 * with SO_PEERCRED) to ptrace this one under Yama with prctl(PR_SET_PTRACER). When not
 * connected, PR_SET_PTRACER_ANY is deliberately not used: the handler sets the daemon as
 * ptracer at crash time, once it is connected. Then installs handlers (SA_SIGINFO |
 * SA_ONSTACK) for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP and SIGSYS, keeping the
 * previous actions to chain to, and gives the calling thread an alternate signal stack (see
 * md_client_thread_init()).
 *
 * Returns 0 on success, or a negative errno: -EALREADY (already initialized), -EINVAL (bad
 * options, reserved members not zero, or $MINIDUMPD_TIMEOUT_MS not a number from 1 to
 * MD_CLIENT_MAX_TIMEOUT_MS), -ENAMETOOLONG (socket path too long for a Unix socket), or the
 * error of mmap/sigaltstack/sigaction. On failure nothing stays installed.
 *
 * Thread safety: may be called from any thread, once; other threads keep running. Call it
 * before starting threads where possible so that they can call md_client_thread_init().
 * Not async-signal-safe.
 */
MD_CLIENT_EXPORT int md_client_init(const struct md_client_options *opts);

/*
 * Gives the calling thread its own alternate signal stack (mmap'd, with a guard page below
 * it), so that a stack overflow in this thread can still be reported: the handler cannot run
 * on a stack that has no room left. Every thread other than the one that called
 * md_client_init() must call it itself; a thread that does not can still report every other
 * crash, but its stack overflows kill the process without a dump. A thread that already has
 * an alternate stack (set by the application or its runtime) keeps it, and this returns 0.
 * Call md_client_thread_done() before the thread exits to free the stack.
 *
 * Returns 0, or a negative errno from mmap/mprotect/sigaltstack (-ENOMEM...).
 * Thread safety: affects the calling thread only. Not async-signal-safe.
 */
MD_CLIENT_EXPORT int md_client_thread_init(void);

/*
 * Removes and frees the alternate signal stack md_client_thread_init() (or md_client_init())
 * gave the calling thread. Does nothing if the thread has no stack of ours, or is running on
 * it. Thread safety: affects the calling thread only. Not async-signal-safe.
 */
MD_CLIENT_EXPORT void md_client_thread_done(void);

/*
 * Sets, replaces or (value NULL) removes the annotation key. The pair is copied into a table
 * prepared at init and travels with every later crash or dump_now report (and with the HELLO
 * if set before md_client_init()). Keys are compared byte for byte.
 *
 * Returns 0, or -EINVAL (key NULL or empty), -E2BIG (key over 64 bytes or value over 1024
 * bytes: the protocol's MD_PROTO_KEY_MAX and MD_PROTO_VALUE_MAX), -ENOSPC (32 pairs, the
 * protocol's MD_PROTO_ANNOTATIONS_MAX, are already set), -ENOENT (removing a key that is not
 * set).
 *
 * Thread safety: any thread, at any time, even before md_client_init(); writers take a
 * mutex. A crash racing with a change may report the old value, the new one, or a mix of
 * the two, but never reads outside the table. Not async-signal-safe.
 */
MD_CLIENT_EXPORT int md_client_annotate(const char *key, const char *value);

/*
 * Asks the daemon to write a minidump of this process now, without crashing: opens a
 * connection of its own, allows the daemon to ptrace this process (PR_SET_PTRACER), sends a
 * DUMP_NOW with the calling thread's id and the annotations, and waits up to the configured
 * timeout for the reply. The process is stopped briefly while the daemon reads it.
 *
 * Returns 0 when the daemon reports a dump written; the daemon's negative errno when it
 * reports an error; -ETIMEDOUT when it did not answer in time; -EPROTO on a reply that is not
 * a valid result; -ECONNRESET when the daemon closed the connection without a reply; or the
 * error of connecting (-ENOENT or -ECONNREFUSED: no daemon; -EAGAIN: its backlog is full).
 *
 * Thread safety: any thread, concurrently with other calls. Works without md_client_init()
 * (then with the default options). Not async-signal-safe.
 */
MD_CLIENT_EXPORT int md_client_dump_now(void);

/*
 * Like md_client_dump_now(), and on success also copies the daemon's JSON report (which names
 * the dump file) into ret_report, a caller-owned buffer of report_size bytes; the text is
 * truncated to fit and always NUL-terminated. ret_report may be NULL when report_size is 0.
 * Same return values and thread safety as md_client_dump_now().
 */
MD_CLIENT_EXPORT int md_client_dump_now_report(char *ret_report, size_t report_size);

/*
 * Undoes md_client_init(): restores the previous action of every signal whose handler is
 * still ours (a handler the application installed after ours is left alone), closes the
 * connection, and frees the calling thread's alternate stack if it is ours. Annotations are
 * kept. md_client_init() may be called again afterwards. Does nothing when not initialized.
 *
 * Thread safety: call it when no other thread can crash any more (for example at the end of
 * main); a crash racing with shutdown may go unreported. Not async-signal-safe.
 */
MD_CLIENT_EXPORT void md_client_shutdown(void);

#ifdef __cplusplus
}
#endif
