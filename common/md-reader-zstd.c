/* SPDX-License-Identifier: MIT */
/*
 * Opening a dump whether it is stored plain or zstd-compressed: md_store_expand() (the store's
 * one way to expand a dump, with its one size cap) decompresses a compressed one, streaming,
 * into a temporary file, which the reader then reads like any other and which is unlinked at
 * once (the reader keeps it open). Memory does not grow with the dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "md-reader.h"
#include "md-store.h"

int md_reader_open_path(const char *path, struct md_reader_error *err, struct md_reader **ret)
{
	char why[sizeof(err->message)], *tmp = NULL;
	int r;

	r = md_store_expand(path, &tmp, why, sizeof(why));
	if (r < 0) {
		if (err)
			snprintf(err->message, sizeof(err->message), "%s", why);
		return r;
	}
	r = md_reader_open_file(tmp ? tmp : path, err, ret);
	if (tmp) {
		unlink(tmp); /* the reader keeps it open; it goes away with the reader */
		free(tmp);
	}
	return r;
}
