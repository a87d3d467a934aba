/* SPDX-License-Identifier: MIT */
/*
 * libmdclient on Windows (docs/windows.md): the same public API as on Linux (mdclient.h),
 * over the daemon's named pipe. md_client_init() installs an unhandled-exception filter and
 * starts a reporter thread. At a crash the filter hands the exception to the reporter thread
 * and waits: the report (exception code and parameters, thread id, the CONTEXT, annotations)
 * is built and sent from the reporter's own stack, so a stack overflow, which leaves the
 * crashing thread almost no stack, is reported like any other fault. The reporter waits for
 * the daemon's reply until one deadline, then the filter lets the process end with its
 * original exception code. Everything the crash path touches is static and prepared at init;
 * it neither allocates nor takes a lock.
 */
#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-proto.h"
#include "mdclient-annotations.h"
#include "mdclient-reply.h"
#include "mdclient-settings.h"
#include "mdclient.h"

#define PIPE_NAME_MAX       256u           /* UTF-16 units of a pipe name */
#define STACK_GUARANTEE     (64u * 1024u)  /* bytes kept for the filter after a stack overflow */
#define REPORTER_STACK      (256u * 1024u) /* bytes of the reporter thread's stack */
#define CRASH_WAIT_SLACK_MS 1000u          /* extra time a second crashing thread waits */

static struct {
	bool initialized;
	unsigned flags;
	int timeout_ms;
	wchar_t pipe[PIPE_NAME_MAX];
	LPTOP_LEVEL_EXCEPTION_FILTER previous;
	HANDLE reporter;        /* the reporter thread */
	HANDLE crash_event;     /* set by the filter: a crash is waiting */
	HANDLE done_event;      /* set by the reporter: the report is over */
	HANDLE io_event;        /* overlapped I/O of the reporter */
	volatile LONG crashing; /* 1 while a crash is being reported */
	volatile LONG stopping; /* md_client_shutdown(): the reporter exits */
	EXCEPTION_POINTERS *crash_ep;
	DWORD crash_tid;
	struct md_shim_annotation annotations[MD_PROTO_ANNOTATIONS_MAX];
} st;

static SRWLOCK lock = SRWLOCK_INIT;

/* The reporter's buffers: static, so the crash path never allocates. */
static uint8_t crash_msg[MD_PROTO_MAX_MESSAGE];
static uint8_t crash_reply[MD_PROTO_MAX_MESSAGE];
static char scratch_key[MD_PROTO_KEY_MAX + 1], scratch_value[MD_PROTO_VALUE_MAX + 1];
/* The HELLO that names us, built by md_client_init and sent first on every connection (the
 * crash report's and md_client_dump_now's), so that the daemon's reports carry our name. */
static uint8_t hello_msg[MD_PROTO_MAX_MESSAGE / 8];
static int hello_len;

static int win_errno(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return -ENOENT;
	case ERROR_PIPE_BUSY:
		return -EAGAIN;
	case ERROR_ACCESS_DENIED:
		return -EACCES;
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:
	case ERROR_PIPE_NOT_CONNECTED:
		return -ECONNRESET;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

struct settings {
	wchar_t pipe[PIPE_NAME_MAX];
	int timeout_ms;
	unsigned flags;
};

static int read_settings(const struct md_client_options *opts, struct settings *ret)
{
	const char *name = opts ? opts->socket_path : NULL;
	const char *v;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = md_shim_check_options(opts);
	if (r < 0)
		return r;
	if (opts)
		ret->flags = opts->flags;
	if (!name) {
		v = getenv("MINIDUMPD_SOCKET");
		name = v && *v ? v : MD_CLIENT_DEFAULT_SOCKET;
	}
	if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, ret->pipe, PIPE_NAME_MAX))
		return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? -ENAMETOOLONG : -EINVAL;
	r = md_shim_timeout(opts ? opts->timeout_ms : 0, getenv("MINIDUMPD_TIMEOUT_MS"),
	                    &ret->timeout_ms);
	if (r < 0)
		return r;
	return 0;
}

/* ---- named-pipe I/O bounded by a deadline (GetTickCount64 ms) ---- */

static int connect_pipe(const wchar_t *name, HANDLE *ret)
{
	HANDLE h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
	                       FILE_FLAG_OVERLAPPED, NULL);

	if (h == INVALID_HANDLE_VALUE)
		return win_errno(GetLastError());
	*ret = h;
	return 0;
}

static int io(HANDLE h, HANDLE ev, void *rbuf, const void *wbuf, DWORD len, ULONGLONG deadline)
{
	OVERLAPPED ov;
	ULONGLONG now = GetTickCount64();
	DWORD n = 0;
	BOOL ok;

	if (now >= deadline)
		return -ETIMEDOUT;
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = ev;
	ResetEvent(ev);
	ok = rbuf ? ReadFile(h, rbuf, len, NULL, &ov) : WriteFile(h, wbuf, len, NULL, &ov);
	if (!ok && GetLastError() != ERROR_IO_PENDING)
		return win_errno(GetLastError());
	if (WaitForSingleObject(ev, (DWORD)(deadline - now)) != WAIT_OBJECT_0) {
		CancelIo(h);
		GetOverlappedResult(h, &ov, &n, TRUE);
		return -ETIMEDOUT;
	}
	if (!GetOverlappedResult(h, &ov, &n, FALSE))
		return win_errno(GetLastError());
	if (rbuf && n == 0)
		return -ECONNRESET;
	return (int)n;
}

static int send_all(HANDLE h, HANDLE ev, const void *buf, size_t len, ULONGLONG deadline)
{
	size_t off = 0;

	while (off < len) {
		int n = io(h, ev, NULL, (const uint8_t *)buf + off, (DWORD)(len - off), deadline);

		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return 0;
}

/* Waits for a RESULT or ERROR message (others are skipped); decodes it into ret. */
static int recv_reply(HANDLE h, HANDLE ev, uint8_t *buf, size_t size, ULONGLONG deadline,
                      struct md_proto_msg *ret)
{
	for (;;) {
		size_t got = 0, want = MD_PROTO_HEADER_SIZE;
		enum md_proto_type type = 0;
		int r;

		while (got < want) {
			int n = io(h, ev, buf + got, NULL, (DWORD)(want - got), deadline);

			if (n < 0)
				return n;
			got += (size_t)n;
			if (got == MD_PROTO_HEADER_SIZE) {
				r = md_proto_header(buf, &type);
				if (r < 0)
					return -EPROTO;
				want += (size_t)r;
				if (want > size)
					return -EPROTO;
			}
		}
		if (type != MD_MSG_RESULT && type != MD_MSG_ERROR)
			continue;
		r = md_proto_decode(buf, got, ret, NULL);
		return r < 0 ? -EPROTO : 0;
	}
}

/* ---- the crash path ---- */

/* Builds and sends the CRASH message for st.crash_ep and waits for the reply. Runs on the
 * reporter thread. */
static void report_crash(void)
{
	const EXCEPTION_RECORD *er = st.crash_ep->ExceptionRecord;
	ULONGLONG deadline = GetTickCount64() + (ULONGLONG)st.timeout_ms;
	struct md_proto_msg reply;
	struct md_proto_enc e;
	uint64_t fault = (uint64_t)(uintptr_t)er->ExceptionAddress;
	HANDLE h;
	int n;

	/* The protocol's crash fields for a Windows exception (docs/windows.md). */
	if ((er->ExceptionCode == EXCEPTION_ACCESS_VIOLATION ||
	     er->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) &&
	    er->NumberParameters >= 2)
		fault = (uint64_t)er->ExceptionInformation[1];
	md_proto_begin(&e, crash_msg, sizeof(crash_msg), MD_MSG_CRASH);
	md_proto_put_u32(&e, MD_TAG_PID, GetCurrentProcessId());
	md_proto_put_u32(&e, MD_TAG_TID, st.crash_tid);
	md_proto_put_u32(&e, MD_TAG_SIGNO, er->ExceptionCode);
	md_proto_put_u32(&e, MD_TAG_SI_CODE,
	                 er->NumberParameters >= 1 ? (uint32_t)er->ExceptionInformation[0] : 0);
	md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, fault);
	md_proto_put_u32(&e, MD_TAG_CONTEXT_KIND, MD_CTX_WIN_AMD64);
	md_proto_put_bytes(&e, MD_TAG_CONTEXT, st.crash_ep->ContextRecord, sizeof(CONTEXT));
	md_shim_annotations_put(st.annotations, &e, scratch_key, scratch_value);
	n = md_proto_finish(&e);
	if (n < 0)
		return;
	if (connect_pipe(st.pipe, &h) < 0)
		return; /* no daemon: the process ends at once */
	if ((hello_len <= 0 ||
	     send_all(h, st.io_event, hello_msg, (size_t)hello_len, deadline) == 0) &&
	    send_all(h, st.io_event, crash_msg, (size_t)n, deadline) == 0)
		recv_reply(h, st.io_event, crash_reply, sizeof(crash_reply), deadline, &reply);
	CloseHandle(h);
}

static DWORD WINAPI reporter_main(void *arg)
{
	for (;;) {
		WaitForSingleObject(st.crash_event, INFINITE);
		if (__atomic_load_n(&st.stopping, __ATOMIC_ACQUIRE))
			return 0;
		report_crash();
		SetEvent(st.done_event);
	}
}

static LONG WINAPI filter(EXCEPTION_POINTERS *ep)
{
	LONG expected = 0;

	if (__atomic_compare_exchange_n(&st.crashing, &expected, 1, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE)) {
		st.crash_ep = ep;
		st.crash_tid = GetCurrentThreadId();
		SetEvent(st.crash_event);
		/* the reporter stops at the deadline itself; the slack covers the hand-over */
		WaitForSingleObject(st.done_event, (DWORD)st.timeout_ms + CRASH_WAIT_SLACK_MS);
	} else {
		/* another thread is reporting: the process normally dies of that crash */
		Sleep((DWORD)st.timeout_ms + CRASH_WAIT_SLACK_MS);
	}
	if (st.previous) {
		LONG r = st.previous(ep);

		if (r != EXCEPTION_CONTINUE_SEARCH)
			return r;
	}
	/* end the process with the exception code, without a further error report */
	return EXCEPTION_EXECUTE_HANDLER;
}

/* ---- the public API ---- */

static void process_name(char *buf, size_t size)
{
	wchar_t path[MAX_PATH];
	DWORD n = GetModuleFileNameW(NULL, path, MAX_PATH);
	const wchar_t *base = path;

	buf[0] = '\0';
	if (n == 0 || n >= MAX_PATH)
		return;
	for (const wchar_t *p = path; *p; p++)
		if (*p == L'\\' || *p == L'/')
			base = p + 1;
	if (!WideCharToMultiByte(CP_UTF8, 0, base, -1, buf, (int)size, NULL, NULL))
		buf[0] = '\0';
}

/* Builds hello_msg; called with the lock held exclusively. */
static void build_hello(void)
{
	char name[MD_PROTO_NAME_MAX + 1];
	struct md_proto_enc e;
	int n;

	process_name(name, sizeof(name));
	md_proto_begin(&e, hello_msg, sizeof(hello_msg), MD_MSG_HELLO);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	md_proto_put_u32(&e, MD_TAG_PID, GetCurrentProcessId());
	if (name[0])
		md_proto_put_str(&e, MD_TAG_NAME, name);
	n = md_proto_finish(&e);
	hello_len = n > 0 ? n : 0;
}

/* Sends a HELLO on a connection of its own, so that the daemon logs us; then closes it. */
static void hello(const struct settings *s)
{
	HANDLE h, ev;

	if (hello_len <= 0 || connect_pipe(s->pipe, &h) < 0)
		return; /* not running yet: the filter connects at crash time */
	ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (ev)
		send_all(h, ev, hello_msg, (size_t)hello_len,
		         GetTickCount64() + (ULONGLONG)s->timeout_ms);
	if (ev)
		CloseHandle(ev);
	CloseHandle(h);
}

int md_client_thread_init(void)
{
	ULONG size = STACK_GUARANTEE;

	/* room for the filter to run after a stack overflow in this thread */
	if (!SetThreadStackGuarantee(&size) && GetLastError() != ERROR_CALL_NOT_IMPLEMENTED)
		return win_errno(GetLastError());
	return 0;
}

void md_client_thread_done(void)
{
}

static void close_events(void)
{
	HANDLE *hs[] = {&st.crash_event, &st.done_event, &st.io_event};

	for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		if (*hs[i])
			CloseHandle(*hs[i]);
		*hs[i] = NULL;
	}
}

int md_client_init(const struct md_client_options *opts)
{
	struct settings s;
	int r;

	AcquireSRWLockExclusive(&lock);
	if (st.initialized) {
		r = -EALREADY;
		goto out;
	}
	r = read_settings(opts, &s);
	if (r < 0)
		goto out;
	memcpy(st.pipe, s.pipe, sizeof(st.pipe));
	st.timeout_ms = s.timeout_ms;
	st.flags = s.flags;
	st.crashing = 0;
	st.stopping = 0;
	build_hello();
	if (!(s.flags & MD_CLIENT_NO_CONNECT))
		hello(&s);
	if (!(s.flags & MD_CLIENT_NO_HANDLERS)) {
		st.crash_event = CreateEventW(NULL, FALSE, FALSE, NULL);
		st.done_event = CreateEventW(NULL, FALSE, FALSE, NULL);
		st.io_event = CreateEventW(NULL, TRUE, FALSE, NULL);
		if (!st.crash_event || !st.done_event || !st.io_event) {
			r = -ENOMEM;
			close_events();
			goto out;
		}
		st.reporter = CreateThread(NULL, REPORTER_STACK, reporter_main, NULL,
		                           STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
		if (!st.reporter) {
			r = win_errno(GetLastError());
			close_events();
			goto out;
		}
		st.previous = SetUnhandledExceptionFilter(filter);
		if (!(s.flags & MD_CLIENT_NO_ALTSTACK))
			md_client_thread_init();
	}
	st.initialized = true;
	r = 0;
out:
	ReleaseSRWLockExclusive(&lock);
	return r;
}

int md_client_annotate(const char *key, const char *value)
{
	int r;

	AcquireSRWLockExclusive(&lock);
	r = md_shim_annotation_set(st.annotations, key, value);
	ReleaseSRWLockExclusive(&lock);
	return r;
}

int md_client_dump_now_report(char *ret_report, size_t report_size)
{
	struct md_proto_msg reply;
	struct md_proto_enc e;
	struct settings s;
	ULONGLONG deadline;
	uint8_t *msg = NULL, *buf = NULL;
	HANDLE h = NULL, ev = NULL;
	int n, r, hello_n;

	if (!ret_report && report_size)
		return -EINVAL;
	AcquireSRWLockShared(&lock);
	if (st.initialized) {
		memcpy(s.pipe, st.pipe, sizeof(s.pipe));
		s.timeout_ms = st.timeout_ms;
		r = 0;
	} else {
		r = read_settings(NULL, &s);
	}
	ReleaseSRWLockShared(&lock);
	if (r < 0)
		return r;
	msg = malloc(MD_PROTO_MAX_MESSAGE);
	buf = malloc(MD_PROTO_MAX_MESSAGE);
	ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!msg || !buf || !ev) {
		r = -ENOMEM;
		goto out;
	}
	md_proto_begin(&e, msg, MD_PROTO_MAX_MESSAGE, MD_MSG_DUMP_NOW);
	md_proto_put_u32(&e, MD_TAG_TID, GetCurrentThreadId());
	AcquireSRWLockShared(&lock);
	md_shim_annotations_put(st.annotations, &e, scratch_key, scratch_value);
	hello_n = st.initialized ? hello_len : 0;
	if (hello_n > 0)
		memcpy(buf, hello_msg, (size_t)hello_n); /* buf holds the reply only later */
	ReleaseSRWLockShared(&lock);
	n = md_proto_finish(&e);
	if (n < 0) {
		r = n;
		goto out;
	}
	deadline = GetTickCount64() + (ULONGLONG)s.timeout_ms;
	r = connect_pipe(s.pipe, &h);
	if (r < 0) {
		h = NULL;
		goto out;
	}
	r = hello_n > 0 ? send_all(h, ev, buf, (size_t)hello_n, deadline) : 0;
	if (r < 0)
		goto out;
	r = send_all(h, ev, msg, (size_t)n, deadline);
	if (r < 0)
		goto out;
	r = recv_reply(h, ev, buf, MD_PROTO_MAX_MESSAGE, deadline, &reply);
	if (r < 0)
		goto out;
	if (reply.type == MD_MSG_ERROR) {
		r = reply.error < 0 ? reply.error : -EIO;
		goto out;
	}
	if (!reply.text) {
		r = -EPROTO;
		goto out;
	}
	md_shim_report_copy(ret_report, report_size, reply.text, reply.text_len);
	r = 0;
out:
	if (h)
		CloseHandle(h);
	if (ev)
		CloseHandle(ev);
	free(msg);
	free(buf);
	return r;
}

void md_client_shutdown(void)
{
	AcquireSRWLockExclusive(&lock);
	if (!st.initialized)
		goto out;
	if (st.reporter) {
		LPTOP_LEVEL_EXCEPTION_FILTER current = SetUnhandledExceptionFilter(st.previous);

		if (current != filter)
			SetUnhandledExceptionFilter(current); /* installed after ours: left alone */
		__atomic_store_n(&st.stopping, 1, __ATOMIC_RELEASE);
		SetEvent(st.crash_event);
		WaitForSingleObject(st.reporter, INFINITE);
		CloseHandle(st.reporter);
		st.reporter = NULL;
		close_events();
	}
	st.initialized = false;
out:
	ReleaseSRWLockExclusive(&lock);
}
