/* SPDX-License-Identifier: MIT */
/*
 * Names and identifiers shared by the writer, the reader and the reports: stream type names
 * and the code id / debug id strings Breakpad derives from a module's build id, so that what
 * we print matches what minidump_stackwalk and dump_syms print.
 */
#include <stdio.h>
#include <string.h>

#include "md-dump.h"
#include "md-format.h"

const char *md_stream_type_to_string(uint32_t type)
{
	switch (type) {
	case MD_STREAM_UNUSED:
		return "Unused";
	case MD_STREAM_THREAD_LIST:
		return "ThreadList";
	case MD_STREAM_MODULE_LIST:
		return "ModuleList";
	case MD_STREAM_MEMORY_LIST:
		return "MemoryList";
	case MD_STREAM_EXCEPTION:
		return "Exception";
	case MD_STREAM_SYSTEM_INFO:
		return "SystemInfo";
	case MD_STREAM_MEMORY64_LIST:
		return "Memory64List";
	case MD_STREAM_HANDLE_DATA:
		return "HandleData";
	case MD_STREAM_MISC_INFO:
		return "MiscInfo";
	case MD_STREAM_MEMORY_INFO_LIST:
		return "MemoryInfoList";
	case MD_STREAM_THREAD_NAMES:
		return "ThreadNames";
	case MD_STREAM_BREAKPAD_INFO:
		return "BreakpadInfo";
	case MD_STREAM_LINUX_CPU_INFO:
		return "LinuxCpuInfo";
	case MD_STREAM_LINUX_PROC_STATUS:
		return "LinuxProcStatus";
	case MD_STREAM_LINUX_LSB_RELEASE:
		return "LinuxLsbRelease";
	case MD_STREAM_LINUX_CMD_LINE:
		return "LinuxCmdLine";
	case MD_STREAM_LINUX_ENVIRON:
		return "LinuxEnviron";
	case MD_STREAM_LINUX_AUXV:
		return "LinuxAuxv";
	case MD_STREAM_LINUX_MAPS:
		return "LinuxMaps";
	case MD_STREAM_LINUX_DSO_DEBUG:
		return "LinuxDsoDebug";
	case MD_STREAM_CRASHPAD_INFO:
		return "CrashpadInfo";
	case MD_STREAM_MINIDUMPD_DIAGNOSTICS:
		return "MinidumpdDiagnostics";
	case MD_STREAM_MINIDUMPD_ANNOTATIONS:
		return "MinidumpdAnnotations";
	default:
		return NULL;
	}
}

void md_module_code_id(const uint8_t *id, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && o + 2 < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%02x", id[i]);
	out[o] = '\0';
}

void md_module_debug_id(const uint8_t *id, size_t len, uint32_t age, char *out, size_t size)
{
	uint8_t g[16] = {0};

	/* the first 16 bytes, zero-padded, read as a GUID whose first three fields are LE */
	memcpy(g, id, len < 16 ? len : 16);
	snprintf(out, size, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%x",
	         g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
	         g[13], g[14], g[15], age);
}

const char *md_linux_signal_to_string(uint32_t code)
{
	/* MD_EXCEPTION_CODE_LIN_* equal the Linux signal numbers */
	static const char *const names[] = {
	    NULL,       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP",   "SIGABRT",
	    "SIGBUS",   "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2",   "SIGPIPE",
	    "SIGALRM",  "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",   "SIGTSTP",
	    "SIGTTIN",  "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
	    "SIGWINCH", "SIGIO",   "SIGPWR",    "SIGSYS",
	};

	if (code == MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED)
		return "DUMP_REQUESTED";
	if (code < sizeof(names) / sizeof(names[0]))
		return names[code];
	return NULL;
}
