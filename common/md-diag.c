/* SPDX-License-Identifier: MIT */
/*
 * The bounded problem list behind the diagnostics stream. It must never fail its caller:
 * whatever cannot be stored is counted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "md-diag.h"

void md_diag_add(struct md_diag *d, enum md_diag_kind kind, uint64_t id, int error, const char *fmt,
                 ...)
{
	struct md_diag_entry *e;
	va_list ap;

	if (d->count >= MD_DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (!d->entries) {
		d->entries = calloc(MD_DIAG_MAX, sizeof(*d->entries));
		if (!d->entries) {
			d->dropped++;
			return;
		}
	}
	e = &d->entries[d->count++];
	e->kind = kind;
	e->id = id;
	e->error = error;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

void md_diag_done(struct md_diag *d)
{
	free(d->entries);
	d->entries = NULL;
	d->count = 0;
	d->dropped = 0;
}

const char *md_diag_kind_to_string(enum md_diag_kind kind)
{
	static const char *const names[] = {
	    [MD_DIAG_THREAD] = "thread", [MD_DIAG_MODULE] = "module",   [MD_DIAG_MEMORY] = "memory",
	    [MD_DIAG_STREAM] = "stream", [MD_DIAG_PROCESS] = "process",
	};
	if ((unsigned)kind < sizeof(names) / sizeof(names[0]) && names[kind])
		return names[kind];
	return "unknown";
}
