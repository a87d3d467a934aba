/* SPDX-License-Identifier: MIT */
/*
 * The daemon's system log on POSIX (daemon/md-daemon.h): syslog, facility daemon, with the
 * pid. md-log.c formats the line; this file only hands it over.
 */
#include <syslog.h>

#include "md-daemon.h"

void mdd_syslog_open(void)
{
	openlog("minidumpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void mdd_syslog(int priority, const char *line)
{
	syslog(priority, "%s", line);
}
