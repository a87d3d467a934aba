/* SPDX-License-Identifier: MIT */
/*
 * mdctl's connection to the daemon on Windows (platform/md-os.h): the client end of the
 * daemon's named pipe, opened for overlapped I/O so that every send and receive is bounded by
 * a timeout (an overlapped operation that runs out of time is cancelled and waited for).
 */
#include <windows.h>

#include <errno.h>
#include <stdlib.h>

#include "md-os.h"
#include "win-os.h"

#define PIPE_BUSY_WAIT_MS 2000 /* how long to wait for a free instance of a busy pipe */

struct md_platform_conn {
	HANDLE pipe;
	HANDLE event;
};

int md_platform_conn_open(const char *endpoint, struct md_platform_conn **ret_conn)
{
	wchar_t name[MD_WIN_PATH_MAX];
	struct md_platform_conn *c;
	int r = md_win_utf16(endpoint, name, sizeof(name) / sizeof(name[0]));

	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (!c->event) {
		free(c);
		return -ENOMEM;
	}
	for (int attempt = 0;; attempt++) {
		c->pipe = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
		                      FILE_FLAG_OVERLAPPED, NULL);
		if (c->pipe != INVALID_HANDLE_VALUE)
			break;
		if (GetLastError() != ERROR_PIPE_BUSY || attempt > 0 ||
		    !WaitNamedPipeW(name, PIPE_BUSY_WAIT_MS)) {
			r = md_win_last_error();
			c->pipe = NULL;
			md_platform_conn_close(c);
			return r;
		}
	}
	*ret_conn = c;
	return 0;
}

/* Runs one overlapped read or write to completion or timeout. Returns bytes or -errno. */
static int overlapped(struct md_platform_conn *c, void *rbuf, const void *wbuf, size_t len,
                      int timeout_ms)
{
	OVERLAPPED ov = {.hEvent = c->event};
	DWORD n = 0, chunk = len > 0x10000000u ? 0x10000000u : (DWORD)len;
	BOOL ok;

	ResetEvent(c->event);
	ok = rbuf ? ReadFile(c->pipe, rbuf, chunk, NULL, &ov)
	          : WriteFile(c->pipe, wbuf, chunk, NULL, &ov);
	if (!ok && GetLastError() != ERROR_IO_PENDING)
		return md_win_last_error();
	if (WaitForSingleObject(c->event, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms) !=
	    WAIT_OBJECT_0) {
		CancelIo(c->pipe);
		GetOverlappedResult(c->pipe, &ov, &n, TRUE); /* the buffer is ours again */
		return -ETIMEDOUT;
	}
	if (!GetOverlappedResult(c->pipe, &ov, &n, FALSE))
		return md_win_last_error();
	return (int)n;
}

int md_platform_conn_send(struct md_platform_conn *c, const void *buf, size_t len, int timeout_ms)
{
	size_t off = 0;

	while (off < len) {
		int n = overlapped(c, NULL, (const char *)buf + off, len - off, timeout_ms);

		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return 0;
}

int md_platform_conn_recv(struct md_platform_conn *c, void *buf, size_t len, int timeout_ms)
{
	int n = overlapped(c, buf, NULL, len, timeout_ms);

	return n == 0 ? -ECONNRESET : n;
}

void md_platform_conn_close(struct md_platform_conn *c)
{
	if (!c)
		return;
	if (c->pipe && c->pipe != INVALID_HANDLE_VALUE)
		CloseHandle(c->pipe);
	if (c->event)
		CloseHandle(c->event);
	free(c);
}
