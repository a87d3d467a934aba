/* SPDX-License-Identifier: MIT */
/*
 * `mdctl rm ID...`: removes dumps from minidumpd's store: for each id, its dump (`<id>.dmp`
 * or `<id>.dmp.zst`) and its report (`<id>.json`). The line in the history reports.jsonl
 * stays. Only whole ids are accepted, never prefixes, and an id must have the shape the
 * daemon gives ids (md_store_id_valid()), so no argument can name a file outside the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md-os.h"
#include "mdctl-store.h"
#include "mdctl.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: mdctl rm [OPTIONS] ID...\n"
	    "\n"
	    "Remove dumps from minidumpd's store: each ID's dump file and JSON report. IDs are\n"
	    "whole ids as 'mdctl list' shows them (no prefixes). The history in reports.jsonl\n"
	    "is kept.\n"
	    "\n"
	    "  -v, --verbose       say what was removed\n"
	    "%s"
	    "  -h, --help          this text\n"
	    "\n"
	    "Exit codes: 0 all removed, 1 failure, 2 usage (an ID that cannot be a dump id),\n"
	    "4 permission denied, 8 no dump has one of the ids (the others are still removed).\n",
	    mdctl_store_options_help);
}

int mdctl_rm_main(int argc, char **argv)
{
	struct mdctl_store_opts so = {0};
	struct mdctl_store store;
	bool verbose = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_SET("verbose", 'v', &verbose),
	    MDCTL_STORE_OPTS(&so),
	    MD_CMDLINE_END,
	};
	int dirfd, ret = MDCTL_EXIT_OK;

	if (!mdctl_parse_options(argc, argv, opts, usage, &ret))
		return ret;
	/* every argument is checked before anything is removed */
	for (int i = optind; i < argc; i++) {
		if (!md_store_id_valid(argv[i])) {
			fputs("mdctl rm: '", stderr);
			mdctl_put_safe(stderr, argv[i]);
			fputs("' is not a dump id\n", stderr);
			return MDCTL_EXIT_USAGE;
		}
	}
	mdctl_store_locate(&so, &store);
	dirfd = open(store.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return mdctl_store_fail("rm", &store, -errno);
	close(dirfd);
	for (int i = optind; i < argc; i++) {
		int r = md_store_remove(store.dir, argv[i]);

		if (r == 0) {
			fprintf(stderr, "mdctl rm: %s: no such dump in %s\n", argv[i], store.dir);
			if (ret == MDCTL_EXIT_OK)
				ret = MDCTL_EXIT_NO_DUMP;
		} else if (r < 0) {
			fprintf(stderr, "mdctl rm: %s: %s\n", argv[i], md_os_strerror(-r));
			if (r == -EACCES || r == -EPERM) {
				if (ret == MDCTL_EXIT_OK || ret == MDCTL_EXIT_NO_DUMP)
					ret = MDCTL_EXIT_PERMISSION;
			} else {
				ret = MDCTL_EXIT_FAILURE;
			}
		} else if (verbose) {
			printf("removed %s (%d file%s)\n", argv[i], r, r == 1 ? "" : "s");
		}
	}
	return ret;
}
