/* SPDX-License-Identifier: MIT */
/*
 * What the broker learns about processes on Windows, always from the OS: a process's owner
 * (its token's user and primary group SIDs, as principals compared with EqualSid),
 * whether a thread belongs to it, its executable, and the registers a client sent (the
 * Windows CONTEXT, whose AMD64 layout is the minidump's). A named pipe's peer is found by the
 * daemon's listen code with GetNamedPipeClientProcessId; there is no pidfd on Windows.
 */
#include <windows.h>

#include <errno.h>
#include <string.h>

#include "md-proto.h"
#include "md-backend.h"
#include "md-peer.h"
#include "win-internal.h"

#define TOKEN_INFO_MAX 256u /* bytes of a TOKEN_USER or TOKEN_PRIMARY_GROUP with its SID */

int md_platform_peer_credentials(int fd, struct md_peer *ret_peer)
{
	return -ENOTSUP; /* a named pipe is not an fd: see md_listen_peer in md-listen-windows.c */
}

int md_platform_pin_process(uint32_t pid)
{
	return -ENOSYS;
}

int md_platform_pin_peer(int fd, struct md_peer *peer)
{
	return -ENOSYS;
}

int md_platform_pinned(int pidfd, uint32_t pid)
{
	return -ENOSYS;
}

int md_platform_process_creds(uint32_t pid, int pidfd, struct md_process_creds *ret_creds)
{
	return -ENOSYS; /* no set-uid or dumpable flag: tokens are checked by OpenProcess */
}

/* The user and primary group SIDs of the process's token. */
static int token_principals(HANDLE process, struct md_principal *ret_user,
                            struct md_principal *ret_group)
{
	union {
		TOKEN_USER u;
		TOKEN_PRIMARY_GROUP g;
		uint8_t bytes[TOKEN_INFO_MAX];
	} u;
	HANDLE token;
	DWORD len = 0;
	int r;

	if (!OpenProcessToken(process, TOKEN_QUERY, &token))
		return md_win_last_error();
	if (!GetTokenInformation(token, TokenUser, &u, sizeof(u), &len)) {
		r = md_win_last_error();
		goto out;
	}
	r = md_win_principal_from_sid(u.u.User.Sid, ret_user);
	if (r < 0)
		goto out;
	if (!GetTokenInformation(token, TokenPrimaryGroup, &u, sizeof(u), &len) ||
	    md_win_principal_from_sid(u.g.PrimaryGroup, ret_group) < 0)
		*ret_group = md_principal_from_id(UINT32_MAX); /* equal to no group's SID */
out:
	CloseHandle(token);
	return r;
}

int md_platform_process_owner(uint32_t pid, struct md_principal *ret_user,
                              struct md_principal *ret_group)
{
	HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	int r;

	if (!h)
		return md_win_last_error();
	r = token_principals(h, ret_user, ret_group);
	CloseHandle(h);
	return r;
}

int md_platform_process_groups(uint32_t pid, struct md_principal *groups, size_t max)
{
	return 0; /* the token's other groups are not looked at yet */
}

int md_platform_thread_of(uint32_t pid, uint32_t tid)
{
	HANDLE h = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, tid);
	DWORD owner;

	if (!h)
		return GetLastError() == ERROR_INVALID_PARAMETER ? 0 : md_win_last_error();
	owner = GetProcessIdOfThread(h);
	CloseHandle(h);
	return owner == pid ? 1 : 0;
}

int md_platform_client_context(uint32_t kind, const void *data, size_t len,
                               struct md_context *ret_ctx)
{
	if (kind != MD_CTX_WIN_AMD64)
		return -EPROTONOSUPPORT;
	if (len != sizeof(md_context_amd64))
		return -EBADMSG;
	memset(ret_ctx, 0, sizeof(*ret_ctx));
	ret_ctx->size = sizeof(md_context_amd64);
	memcpy(&ret_ctx->u.amd64, data, len);
	if ((ret_ctx->u.amd64.context_flags & MD_CONTEXT_CPU_MASK) != MD_CONTEXT_AMD64)
		return -EBADMSG;
	return 0;
}

int md_platform_process_exe(uint32_t pid, char *buf, size_t size, uint64_t *ret_file_id)
{
	HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid), f;
	wchar_t exe[MD_WIN_PATH_MAX / 2];
	DWORD len = (DWORD)(sizeof(exe) / sizeof(exe[0]));
	BY_HANDLE_FILE_INFORMATION info;
	int r;

	if (!h)
		return md_win_last_error();
	if (!QueryFullProcessImageNameW(h, 0, exe, &len)) {
		r = md_win_last_error();
		CloseHandle(h);
		return r;
	}
	CloseHandle(h);
	r = md_win_utf8(exe, buf, size);
	if (r < 0)
		return r;
	/* the file's identity: volume serial number and file index, and its last write time */
	f = CreateFileW(exe, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
	                OPEN_EXISTING, 0, NULL);
	if (f == INVALID_HANDLE_VALUE)
		return md_win_last_error();
	r = GetFileInformationByHandle(f, &info) ? 0 : md_win_last_error();
	CloseHandle(f);
	if (r < 0)
		return r;
	*ret_file_id = ((uint64_t)info.dwVolumeSerialNumber << 40) ^
	               (((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow) ^
	               ((uint64_t)info.ftLastWriteTime.dwLowDateTime << 20);
	return 0;
}
