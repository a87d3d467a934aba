/* SPDX-License-Identifier: MIT */
/*
 * <syslog.h> for the Windows build: the priorities the daemon's log uses, and openlog/syslog
 * writing to the Windows event log (Application log, source "minidumpd") through
 * ReportEvent. Only found on the Windows include path (platform/windows/meson.build).
 */
#pragma once

#define LOG_EMERG   0
#define LOG_ALERT   1
#define LOG_CRIT    2
#define LOG_ERR     3
#define LOG_WARNING 4
#define LOG_NOTICE  5
#define LOG_INFO    6
#define LOG_DEBUG   7

#define LOG_PID    0x01
#define LOG_NDELAY 0x08
#define LOG_DAEMON (3 << 3)

void openlog(const char *ident, int option, int facility);
void syslog(int priority, const char *fmt, ...) __attribute__((format(gnu_printf, 2, 3)));
void closelog(void);
