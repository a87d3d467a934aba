/* SPDX-License-Identifier: MIT */
/*
 * Test driver for mdd_symbolize_report() (daemon/md-symbolize-run.c), the function minidumpd
 * calls once the app is released: prints {"report": <its objects>, "crashed_in": "..."} for the
 * dump named on the command line. Usage: symbolize-report DUMP. Only the symbolize suite runs it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "md-symbolize-run.h"

int main(int argc, char **argv)
{
	struct mdd_symbolize_opts o = {0};
	char *crashed_in = NULL;
	json_t *r, *out;

	if (argc != 2) {
		fputs("usage: symbolize-report DUMP\n", stderr);
		return 2;
	}
	r = mdd_symbolize_report(argv[1], &o, &crashed_in);
	out = json_pack("{s:o, s:s?}", "report", r, "crashed_in", crashed_in);
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	free(crashed_in);
	return 0;
}
