/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's endpoint on Windows (daemon/md-daemon.h): a named pipe, \\.\pipe\minidumpd by
 * default, served by libuv, which keeps several instances of it waiting for clients. There is
 * no socket activation. Wine does not enforce FILE_FLAG_FIRST_PIPE_INSTANCE, so a running
 * daemon is detected by looking for an instance before binding. A client's identity is its
 * process id from GetNamedPipeClientProcessId, and its user and group are its token's SIDs.
 */
#include "md-daemon.h" /* first: uv.h brings winsock2.h, which must precede windows.h */

#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PIPE_PREFIX   "\\\\.\\pipe\\"
#define PIPE_NAME_MAX 256 /* bytes of a pipe name, NUL included (Windows: 256 UTF-16 units) */

static char pipe_name[PIPE_NAME_MAX];

int mdd_listen_inherited(int *ret_fd)
{
	return 0; /* no socket activation on Windows */
}

int mdd_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd)
{
	wchar_t name[PIPE_NAME_MAX];

	if (strncmp(path, PIPE_PREFIX, strlen(PIPE_PREFIX)) != 0 || !path[strlen(PIPE_PREFIX)])
		return -EINVAL; /* only a pipe name: \\.\pipe\NAME */
	if (strlen(path) >= sizeof(pipe_name))
		return -ENAMETOOLONG;
	if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, name, PIPE_NAME_MAX))
		return -EINVAL;
	/* an existing instance, free or busy, means another server owns the name */
	if (WaitNamedPipeW(name, 1) || GetLastError() == ERROR_SEM_TIMEOUT)
		return -EADDRINUSE;
	strcpy(pipe_name, path);
	*ret_fd = 0; /* a token: mdd_listen_attach binds the name kept above */
	return 0;
}

int mdd_listen_attach(uv_pipe_t *server, int listen_fd)
{
	if (!pipe_name[0])
		return UV_EINVAL;
	return uv_pipe_bind(server, pipe_name);
}

int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer)
{
	uv_os_fd_t h;
	ULONG pid = 0;
	int r;

	if (uv_fileno((uv_handle_t *)conn, &h) != 0)
		return -EBADF;
	if (!GetNamedPipeClientProcessId(h, &pid) || pid == 0)
		return -ENOTCONN; /* the client went away */
	memset(ret_peer, 0, sizeof(*ret_peer));
	ret_peer->pid = (uint32_t)pid;
	r = md_platform_process_owner(ret_peer->pid, &ret_peer->user, &ret_peer->group);
	return r < 0 ? r : 0;
}

int mdd_listen_pin_peer(uv_pipe_t *conn, struct md_peer *peer)
{
	return -ENOSYS; /* no pidfd on Windows: the peer is opened by pid when it is dumped */
}
