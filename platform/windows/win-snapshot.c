/* SPDX-License-Identifier: MIT */
/*
 * The Windows live-process backend of platform/md-backend.h: the steps the snapshot builder
 * (common/md-snapshot-build.c) runs. It opens the target, suspends every one of its threads
 * (re-reading a toolhelp thread snapshot until no new thread appears), reads each thread's
 * CONTEXT (whose AMD64 layout is the minidump's) and its name, the process and system info
 * (win-system.c), the committed memory regions (win-memory.c) and the modules with their
 * CodeView records (win-modules.c). The shared section writers in common/ then write the dump;
 * dbghelp's MiniDumpWriteDump is not used. The builder resumes the target (win_resume) on every
 * path.
 */
#include <windows.h>

#include <tlhelp32.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-backend.h"
#include "md-os.h"
#include "win-internal.h"

#define SUSPEND_PASSES_MAX 16 /* thread list re-reads before we give up on a thread storm */
#define THREADS_INITIAL    64 /* first capacity of the thread array */

_Static_assert(sizeof(CONTEXT) == sizeof(md_context_amd64),
               "the Windows CONTEXT is the minidump's AMD64 context");

static int win_read_blob(struct md_snapshot *s, enum md_blob blob, md_sink_fn sink, void *ctx)
{
	return -ENOENT; /* the raw Linux files have no Windows counterpart */
}

static const struct md_snapshot_ops win_ops = {
    .read_ranges = md_win_read_ranges,
    .read_blob = win_read_blob,
};

static bool have_thread(const struct md_win_snapshot *ws, DWORD tid)
{
	for (size_t i = 0; i < ws->n_threads; i++)
		if (ws->threads[i].tid == tid)
			return true;
	return false;
}

/* Opens and suspends tid, recording it. A thread that exited meanwhile is skipped. */
static int suspend_one(struct md_win_snapshot *ws, DWORD tid)
{
	struct md_win_thread *t;
	HANDLE h;

	if (ws->n_threads == ws->cap_threads) {
		size_t cap = ws->cap_threads ? ws->cap_threads * 2 : THREADS_INITIAL;
		struct md_win_thread *n = realloc(ws->threads, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ws->threads = n;
		ws->cap_threads = cap;
	}
	h = OpenThread(THREAD_SUSPEND_RESUME | THREAD_GET_CONTEXT |
	                   THREAD_QUERY_LIMITED_INFORMATION,
	               FALSE, tid);
	if (!h) {
		int r = md_win_last_error();

		if (r == -ESRCH)
			return 0; /* it exited between the list and the open */
		md_diag_add(&ws->pub.diag, MD_DIAG_THREAD, tid, r, "cannot open thread: error %lu",
		            (unsigned long)GetLastError());
		return r;
	}
	if (SuspendThread(h) == (DWORD)-1) {
		int r = md_win_last_error();

		CloseHandle(h);
		md_diag_add(&ws->pub.diag, MD_DIAG_THREAD, tid, r,
		            "cannot suspend thread: error %lu", (unsigned long)GetLastError());
		return r == -ESRCH ? 0 : r;
	}
	if (!ws->stopped) {
		ws->stop_ns = md_os_now_ns();
		ws->stopped = true;
	}
	t = &ws->threads[ws->n_threads++];
	t->tid = tid;
	t->handle = h;
	t->suspended = true;
	return 0;
}

/* Suspends every thread of the process until a full pass over the system's thread list finds
 * none we have not suspended yet. */
static int suspend_all(struct md_win_snapshot *ws, const struct md_backend_options *o)
{
	for (int pass = 0; pass < SUSPEND_PASSES_MAX; pass++) {
		THREADENTRY32 te = {.dwSize = sizeof(te)};
		bool found_new = false;
		HANDLE snap;
		int r = 0;

		if (o->cancel && *o->cancel)
			return -ECANCELED;
		snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
		if (snap == INVALID_HANDLE_VALUE)
			return md_win_last_error();
		for (BOOL ok = Thread32First(snap, &te); ok && r >= 0;
		     ok = Thread32Next(snap, &te)) {
			if (te.th32OwnerProcessID != ws->pid || have_thread(ws, te.th32ThreadID))
				continue;
			found_new = true;
			r = suspend_one(ws, te.th32ThreadID);
		}
		CloseHandle(snap);
		if (r < 0)
			return r;
		if (!found_new)
			return ws->n_threads ? 0 : -ESRCH;
	}
	md_diag_add(&ws->pub.diag, MD_DIAG_PROCESS, ws->pid, -EAGAIN,
	            "threads kept appearing after %d passes; later ones are missing",
	            SUSPEND_PASSES_MAX);
	return ws->n_threads ? 0 : -ESRCH;
}

static uint64_t resume_all(struct md_win_snapshot *ws)
{
	for (size_t i = 0; i < ws->n_threads; i++) {
		struct md_win_thread *t = &ws->threads[i];

		if (t->suspended)
			ResumeThread(t->handle);
		t->suspended = false;
	}
	if (!ws->stopped)
		return 0;
	ws->stopped = false;
	return (uint64_t)(md_os_now_ns() - ws->stop_ns) / 1000u;
}

typedef HRESULT(WINAPI *get_thread_description_fn)(HANDLE, PWSTR *);

/* GetThreadDescription exists from Windows 10 1607 on: looked up, not imported. */
static get_thread_description_fn thread_description_fn(void)
{
	HMODULE k = GetModuleHandleW(L"kernelbase.dll");
	FARPROC f = k ? GetProcAddress(k, "GetThreadDescription") : NULL;

	if (!f) {
		k = GetModuleHandleW(L"kernel32.dll");
		f = k ? GetProcAddress(k, "GetThreadDescription") : NULL;
	}
	return (get_thread_description_fn)(void (*)(void))f;
}

static int read_threads(struct md_win_snapshot *ws)
{
	struct md_snapshot *s = &ws->pub;
	get_thread_description_fn describe = thread_description_fn();
	CONTEXT *ctx = _aligned_malloc(sizeof(CONTEXT), 16);
	size_t gone = 0;

	if (!ctx)
		return -ENOMEM;
	s->threads = calloc(ws->n_threads, sizeof(*s->threads));
	if (!s->threads) {
		_aligned_free(ctx);
		return -ENOMEM;
	}
	s->n_threads = ws->n_threads;
	for (size_t i = 0; i < ws->n_threads; i++) {
		struct md_thread_info *t = &s->threads[i];
		PWSTR name = NULL;

		t->tid = ws->threads[i].tid;
		memset(ctx, 0, sizeof(*ctx));
		ctx->ContextFlags = CONTEXT_ALL;
		if (!GetThreadContext(ws->threads[i].handle, ctx)) {
			t->error = md_win_last_error();
			t->context.size = 0;
			md_diag_add(&s->diag, MD_DIAG_THREAD, t->tid, t->error,
			            "cannot read registers: error %lu",
			            (unsigned long)GetLastError());
			if (t->error == -ESRCH)
				gone++;
		} else {
			t->context.size = sizeof(md_context_amd64);
			memcpy(&t->context.u.amd64, ctx, sizeof(md_context_amd64));
			t->sp = ctx->Rsp;
			t->pc = ctx->Rip;
		}
		if (describe && SUCCEEDED(describe(ws->threads[i].handle, &name)) && name) {
			md_win_utf8(name, t->name, sizeof(t->name));
			LocalFree(name);
		}
	}
	_aligned_free(ctx);
	if (gone == ws->n_threads) {
		s->target_gone = true;
		return -ESRCH;
	}
	return 0;
}

static bool process_alive(HANDLE process)
{
	DWORD code;

	return GetExitCodeProcess(process, &code) && code == STILL_ACTIVE &&
	       WaitForSingleObject(process, 0) == WAIT_TIMEOUT;
}

/*
 * The protocol's crash fields carry a Windows exception this way (docs/windows.md): signo is
 * the exception code, si_code ExceptionInformation[0] and fault_addr ExceptionInformation[1]
 * for an access violation or in-page error, else the exception address. The record gets the
 * address of the faulting instruction.
 */
static void crash_to_exception(struct md_crash_info *c)
{
	uint32_t access = c->flags;
	uint64_t address = c->address;

	c->flags = 0;
	c->number_parameters = 0;
	memset(c->parameters, 0, sizeof(c->parameters));
	if (c->code == EXCEPTION_ACCESS_VIOLATION || c->code == EXCEPTION_IN_PAGE_ERROR) {
		c->number_parameters = 2;
		c->parameters[0] = access;
		c->parameters[1] = address;
		if (c->context.size == sizeof(md_context_amd64))
			c->address = c->context.u.amd64.rip;
	}
}

static int win_open(struct md_snapshot *s, uint32_t pid, const struct md_backend_options *o)
{
	struct md_win_snapshot *ws = md_win_snapshot_from_pub(s);

	if (pid == 0)
		return -ESRCH;
	if (pid == GetCurrentProcessId())
		return -EPERM; /* suspending our own threads would stop us too */
	ws->pid = pid;
	if (s->crash)
		crash_to_exception(&s->crash_copy);
	ws->process =
	    OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, FALSE, pid);
	if (!ws->process)
		return md_win_last_error();
	return process_alive(ws->process) ? 0 : -ESRCH;
}

static int win_stop(struct md_snapshot *s, const struct md_backend_options *o)
{
	struct md_win_snapshot *ws = md_win_snapshot_from_pub(s);
	int r;

	r = suspend_all(ws, o);
	if (r < 0)
		return r;
	/* the oldest thread: normally the main one */
	if (!s->requesting_tid)
		s->requesting_tid = ws->threads[0].tid;
	return 0;
}

static int win_threads(struct md_snapshot *s)
{
	return read_threads(md_win_snapshot_from_pub(s));
}

static int win_process(struct md_snapshot *s)
{
	struct md_win_snapshot *ws = md_win_snapshot_from_pub(s);

	return md_win_read_process_info(ws->process, ws->pid, &s->process, &s->diag);
}

static int win_system(struct md_snapshot *s)
{
	return md_win_read_system_info(&s->system);
}

static int win_mappings(struct md_snapshot *s)
{
	return md_win_read_regions(md_win_snapshot_from_pub(s));
}

static int win_modules(struct md_snapshot *s)
{
	return md_win_read_modules(md_win_snapshot_from_pub(s));
}

static int win_alive(struct md_snapshot *s)
{
	return process_alive(md_win_snapshot_from_pub(s)->process) ? 0 : -ESRCH;
}

static uint64_t win_resume(struct md_snapshot *s)
{
	return resume_all(md_win_snapshot_from_pub(s));
}

static void win_free(struct md_snapshot *s)
{
	struct md_win_snapshot *ws = md_win_snapshot_from_pub(s);

	for (size_t i = 0; i < ws->n_threads; i++)
		CloseHandle(ws->threads[i].handle);
	free(ws->threads);
	if (ws->process)
		CloseHandle(ws->process);
	md_win_modules_free(s->modules, s->n_modules);
	md_win_regions_free(s->mappings, s->n_mappings);
}

const struct md_backend_ops md_platform_live_backend =
    MD_BACKEND_OPS(struct md_win_snapshot, win, MD_LIVE_STEPS(win), .alive = win_alive);

void md_platform_explain_permission(uint32_t pid, char *buf, size_t size)
{
	HANDLE h;

	if (!size)
		return;
	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	if (!h) {
		if (GetLastError() == ERROR_INVALID_PARAMETER)
			snprintf(buf, size, "Process %u does not exist.", pid);
		else
			snprintf(buf, size,
			         "Process %u cannot even be queried: it may be a protected process "
			         "or belong to another session; run as Administrator.",
			         pid);
		return;
	}
	CloseHandle(h);
	snprintf(buf, size,
	         "Reading process %u needs PROCESS_VM_READ and suspending its threads "
	         "THREAD_SUSPEND_RESUME: run as the process's user, as Administrator, or with "
	         "SeDebugPrivilege enabled.",
	         pid);
}
