/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's readiness notification on Windows (daemon/md-daemon.h): there is no sd_notify
 * there, and the daemon does not run as a Windows service yet (which would report through
 * SetServiceStatus), so nothing is sent.
 */
#include "md-daemon.h"

int mdd_notify(const char *fmt, ...)
{
	return 0;
}

void mdd_notify_open(void)
{
}
