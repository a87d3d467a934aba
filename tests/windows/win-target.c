/* SPDX-License-Identifier: MIT */
/*
 * The Windows test target (tests/windows/run-under-wine). Linked with mdclient.dll.
 *   win-target crash av|av-write|div0|overflow   init the shim, then fault in a known function
 *   win-target threads N SECONDS                 N named threads parked in known functions
 *   win-target dump-now                          ask the daemon for a dump of ourselves
 * Each mode prints "ready PID" (the Windows process id) once it is set up. The crash modes
 * fault in functions whose names the test looks up in the executable's symbol table, so it can
 * check that minidump_stackwalk puts the crash inside them.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdclient.h"

#define THREADS_MAX 64 /* threads the threads mode starts at most */

static volatile LONG stop;

/* Not static, so that their names are in the symbol table the test reads. */
int md_test_crash_read(volatile int *p);
void md_test_crash_write(volatile int *p);
int md_test_crash_div(volatile int num, volatile int den);
int md_test_recurse(volatile int depth);
void md_test_park(void);

__attribute__((noinline)) int md_test_crash_read(volatile int *p)
{
	return *p; /* p is 0x10: an access violation reading */
}

__attribute__((noinline)) void md_test_crash_write(volatile int *p)
{
	*p = 42; /* p is 0x20: an access violation writing */
}

__attribute__((noinline)) int md_test_crash_div(volatile int num, volatile int den)
{
	return num / den; /* den is 0: integer division by zero */
}

__attribute__((noinline)) int md_test_recurse(volatile int depth)
{
	volatile char pad[4096];

	pad[0] = (char)depth;
	if (depth < 0)
		return 0; /* never: keeps the compiler from calling the recursion infinite */
	return md_test_recurse(depth + 1) + pad[0]; /* until the stack overflows */
}

__attribute__((noinline)) void md_test_park(void)
{
	while (!stop)
		Sleep(50);
}

typedef HRESULT(WINAPI *set_description_fn)(HANDLE, PCWSTR);

/* SetThreadDescription (Windows 10 1607 on), looked up: older headers do not declare it. */
static void name_thread(const wchar_t *name)
{
	HMODULE k = GetModuleHandleW(L"kernelbase.dll");
	FARPROC f = k ? GetProcAddress(k, "SetThreadDescription") : NULL;

	if (!f && (k = GetModuleHandleW(L"kernel32.dll")))
		f = GetProcAddress(k, "SetThreadDescription");
	if (f)
		((set_description_fn)(void (*)(void))f)(GetCurrentThread(), name);
}

static DWORD WINAPI worker(void *arg)
{
	wchar_t name[32];

	swprintf(name, 32, L"worker-%d", (int)(intptr_t)arg);
	name_thread(name);
	md_test_park();
	return 0;
}

static int init_client(void)
{
	int r = md_client_init(NULL);

	if (r < 0) {
		fprintf(stderr, "win-target: md_client_init: %d\n", r);
		return 1;
	}
	md_client_annotate("test", "win-target");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "crash") == 0) {
		if (init_client())
			return 1;
		printf("ready %lu\n", GetCurrentProcessId());
		fflush(stdout);
		if (strcmp(argv[2], "av") == 0)
			return md_test_crash_read((volatile int *)0x10);
		if (strcmp(argv[2], "av-write") == 0)
			md_test_crash_write((volatile int *)0x20);
		else if (strcmp(argv[2], "div0") == 0)
			return md_test_crash_div(7, 0);
		else if (strcmp(argv[2], "overflow") == 0)
			return md_test_recurse(0);
		fprintf(stderr, "win-target: unknown crash %s\n", argv[2]);
		return 2;
	}
	if (argc >= 4 && strcmp(argv[1], "threads") == 0) {
		int n = atoi(argv[2]), seconds = atoi(argv[3]);
		HANDLE h[THREADS_MAX];

		if (n < 0 || n > THREADS_MAX)
			return 2;
		name_thread(L"main");
		for (int i = 0; i < n; i++)
			h[i] = CreateThread(NULL, 0, worker, (void *)(intptr_t)(i + 1), 0, NULL);
		Sleep(200); /* the workers name themselves */
		printf("ready %lu\n", GetCurrentProcessId());
		fflush(stdout);
		Sleep((DWORD)seconds * 1000u);
		stop = 1;
		WaitForMultipleObjects((DWORD)n, h, TRUE, 5000);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "dump-now") == 0) {
		char report[4096];
		int r;

		if (init_client())
			return 1;
		printf("ready %lu\n", GetCurrentProcessId());
		fflush(stdout);
		r = md_client_dump_now_report(report, sizeof(report));
		if (r < 0) {
			fprintf(stderr, "win-target: md_client_dump_now: %d\n", r);
			return 1;
		}
		printf("%s\n", report);
		md_client_shutdown();
		return 0;
	}
	fprintf(stderr, "usage: win-target crash av|av-write|div0|overflow | threads N SECONDS | "
	                "dump-now\n");
	return 2;
}
