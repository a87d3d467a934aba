/* SPDX-License-Identifier: MIT */
/*
 * The daemon's system log on Windows (daemon/md-daemon.h): the Application event log, source
 * "minidumpd", through ReportEventA; errors, warnings and the rest as information.
 * md-log.c formats the line; this file only hands it over.
 */
#include "md-daemon.h" /* first: uv.h brings winsock2.h, which must precede windows.h */

#include <windows.h>

static HANDLE event_source;

void mdd_syslog_open(void)
{
	if (!event_source)
		event_source = RegisterEventSourceA(NULL, "minidumpd");
}

void mdd_syslog(int priority, const char *line)
{
	const char *strings[1] = {line};
	WORD type = priority <= MDD_LOG_ERR       ? EVENTLOG_ERROR_TYPE
	            : priority == MDD_LOG_WARNING ? EVENTLOG_WARNING_TYPE
	                                          : EVENTLOG_INFORMATION_TYPE;

	mdd_syslog_open();
	if (event_source)
		ReportEventA(event_source, type, 0, 0, NULL, 1, 0, strings, NULL);
}
