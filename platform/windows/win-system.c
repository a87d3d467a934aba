/* SPDX-License-Identifier: MIT */
/*
 * System and process information on Windows: the CPU (GetNativeSystemInfo and CPUID), the OS
 * version from RtlGetVersion (GetVersionEx lies to programs without a manifest), and the
 * process's executable, times and user. The user is reduced to the relative id (RID) of the
 * token's user SID, which stands in for the uid that the daemon's policy compares.
 */
#include <windows.h>

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "win-internal.h"

#define FILETIME_UNIX_EPOCH 116444736000000000ull /* 100 ns ticks from 1601 to 1970 */
#define FILETIME_PER_SECOND 10000000ull           /* 100 ns ticks per second */
#define TOKEN_USER_MAX      256u                  /* bytes of a TOKEN_USER with its SID */

typedef LONG(WINAPI *rtl_get_version_fn)(OSVERSIONINFOW *);

int md_win_read_system_info(struct md_system *ret)
{
	SYSTEM_INFO si;
	OSVERSIONINFOW v = {.dwOSVersionInfoSize = sizeof(v)};
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
	rtl_get_version_fn get_version =
	    ntdll ? (rtl_get_version_fn)(void (*)(void))GetProcAddress(ntdll, "RtlGetVersion")
	          : NULL;
	unsigned a, b, c, d;

	memset(ret, 0, sizeof(*ret));
	GetNativeSystemInfo(&si);
	if (si.wProcessorArchitecture != PROCESSOR_ARCHITECTURE_AMD64)
		return -ENOTSUP; /* this backend reads AMD64 contexts only */
	ret->processor_architecture = MD_CPU_ARCHITECTURE_AMD64;
	ret->processor_level = si.wProcessorLevel;
	ret->processor_revision = si.wProcessorRevision;
	ret->number_of_processors =
	    si.dwNumberOfProcessors > 255 ? 255 : (uint8_t)si.dwNumberOfProcessors;
	ret->platform_id = MD_OS_WIN32_NT;
	if (get_version && get_version(&v) == 0) {
		ret->os_major = v.dwMajorVersion;
		ret->os_minor = v.dwMinorVersion;
		ret->os_build = v.dwBuildNumber;
		md_win_utf8(v.szCSDVersion, ret->os_version, sizeof(ret->os_version));
	}
	if (__get_cpuid(0, &a, &b, &c, &d)) {
		memcpy(ret->cpu_vendor, &b, 4);
		memcpy(ret->cpu_vendor + 4, &d, 4);
		memcpy(ret->cpu_vendor + 8, &c, 4);
		ret->cpu_vendor[12] = '\0';
	}
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		ret->cpu_version_information = a;
		ret->cpu_feature_information = d;
	}
	return 0;
}

static int64_t filetime_to_unix(FILETIME ft)
{
	uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;

	return t > FILETIME_UNIX_EPOCH ? (int64_t)((t - FILETIME_UNIX_EPOCH) / FILETIME_PER_SECOND)
	                               : 0;
}

static uint32_t filetime_seconds(FILETIME ft)
{
	uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;

	return (uint32_t)(t / FILETIME_PER_SECOND);
}

int md_win_process_user_rid(HANDLE process, uint32_t *ret_rid)
{
	union {
		TOKEN_USER tu;
		uint8_t bytes[TOKEN_USER_MAX];
	} u;
	HANDLE token;
	DWORD len = 0;
	PUCHAR count;
	int r = 0;

	if (!OpenProcessToken(process, TOKEN_QUERY, &token))
		return md_win_last_error();
	if (!GetTokenInformation(token, TokenUser, &u, sizeof(u), &len)) {
		r = md_win_last_error();
		goto out;
	}
	count = GetSidSubAuthorityCount(u.tu.User.Sid);
	if (!count || *count == 0) {
		r = -EINVAL;
		goto out;
	}
	*ret_rid = (uint32_t)*GetSidSubAuthority(u.tu.User.Sid, *count - 1u);
out:
	CloseHandle(token);
	return r;
}

int md_win_read_process_info(HANDLE process, DWORD pid, struct md_process_info *ret,
                             struct md_diag *diag)
{
	FILETIME created, exited, kernel, user;
	wchar_t exe[MD_WIN_PATH_MAX / 2];
	DWORD len = (DWORD)(sizeof(exe) / sizeof(exe[0]));

	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	if (GetProcessTimes(process, &created, &exited, &kernel, &user)) {
		ret->start_time = filetime_to_unix(created);
		ret->user_time = filetime_seconds(user);
		ret->kernel_time = filetime_seconds(kernel);
	} else {
		md_diag_add(diag, MD_DIAG_PROCESS, pid, md_win_last_error(),
		            "cannot read the process times: error %lu",
		            (unsigned long)GetLastError());
	}
	if (QueryFullProcessImageNameW(process, 0, exe, &len))
		md_win_utf8(exe, ret->exe, sizeof(ret->exe));
	else
		md_diag_add(diag, MD_DIAG_PROCESS, pid, md_win_last_error(),
		            "cannot read the executable's path: error %lu",
		            (unsigned long)GetLastError());
	if (md_win_process_user_rid(process, &ret->uid) < 0)
		ret->uid = UINT32_MAX;
	return 0;
}
