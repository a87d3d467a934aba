/* SPDX-License-Identifier: MIT */
/* Every view of the minidump reader, each called once (reader-views.h). */
#include <string.h>

#include "reader-views.h"

/* Keeps a view's result, and whether a failure left a message (valid only until the next
 * call on r). */
static void got(struct md_reader *r, struct reader_views *v, enum reader_view view, int ret)
{
	v->ret[view] = ret;
	v->message[view] = ret < 0 && md_reader_error(r)[0] != '\0';
}

void reader_views_read(struct md_reader *r, struct reader_views *v)
{
	memset(v, 0, sizeof(*v));
	got(r, v, VIEW_SYSTEM_INFO, md_reader_system_info(r, &v->si));
	got(r, v, VIEW_THREADS, md_reader_threads(r, &v->tl));
	got(r, v, VIEW_THREAD_NAMES, md_reader_thread_names(r, &v->tn));
	got(r, v, VIEW_MODULES, md_reader_modules(r, &v->ml));
	got(r, v, VIEW_MEMORY_LIST, md_reader_memory_list(r, &v->mem));
	got(r, v, VIEW_MEMORY_INFO, md_reader_memory_info(r, &v->mil));
	got(r, v, VIEW_EXCEPTION, md_reader_exception(r, &v->ex));
	got(r, v, VIEW_MISC_INFO, md_reader_misc_info(r, &v->misc));
	got(r, v, VIEW_BREAKPAD_INFO, md_reader_breakpad_info(r, &v->bpi));
	got(r, v, VIEW_CRASHPAD_INFO, md_reader_crashpad_info(r, &v->cpi));
	got(r, v, VIEW_PID, md_reader_pid(r, &v->pid));
}
