/* SPDX-License-Identifier: MIT */
/*
 * The daemon's answer to a dump request as both shims hand it to the caller
 * (mdclient-reply.h), and md_client_dump_now(), which asks without wanting the report. Plain C,
 * no OS calls, never on the crash path.
 */
#include <string.h>

#include "mdclient-reply.h"
#include "mdclient.h"

void md_shim_report_copy(char *ret_report, size_t report_size, const char *text, size_t text_len)
{
	size_t n;

	if (report_size == 0)
		return;
	n = text_len < report_size - 1 ? text_len : report_size - 1;
	if (n > 0)
		memcpy(ret_report, text, n);
	ret_report[n] = '\0';
}

int md_client_dump_now(void)
{
	return md_client_dump_now_report(NULL, 0);
}
