/* SPDX-License-Identifier: MIT */
/* Every view of the minidump reader, each called once (reader-views.h). */
#include <errno.h>
#include <string.h>

#include "reader-views.h"

int reader_view(struct md_reader *r, enum reader_view view, struct reader_views *v)
{
	int ret = -EINVAL; /* a view this file does not know */

	switch (view) {
	case VIEW_SYSTEM_INFO:
		ret = md_reader_system_info(r, &v->si);
		break;
	case VIEW_THREADS:
		ret = md_reader_threads(r, &v->tl);
		break;
	case VIEW_THREAD_NAMES:
		ret = md_reader_thread_names(r, &v->tn);
		break;
	case VIEW_MODULES:
		ret = md_reader_modules(r, &v->ml);
		break;
	case VIEW_MEMORY_LIST:
		ret = md_reader_memory_list(r, &v->mem);
		break;
	case VIEW_MEMORY_INFO:
		ret = md_reader_memory_info(r, &v->mil);
		break;
	case VIEW_EXCEPTION:
		ret = md_reader_exception(r, &v->ex);
		break;
	case VIEW_MISC_INFO:
		ret = md_reader_misc_info(r, &v->misc);
		break;
	case VIEW_BREAKPAD_INFO:
		ret = md_reader_breakpad_info(r, &v->bpi);
		break;
	case VIEW_CRASHPAD_INFO:
		ret = md_reader_crashpad_info(r, &v->cpi);
		break;
	case VIEW_PID:
		ret = md_reader_pid(r, &v->pid);
		break;
	default:
		return ret;
	}
	v->ret[view] = ret;
	/* the message is valid only until the next call on r */
	v->message[view] = ret < 0 && md_reader_error(r)[0] != '\0';
	return ret;
}

void reader_views_read(struct md_reader *r, struct reader_views *v)
{
	memset(v, 0, sizeof(*v));
	for (int i = 0; i < N_READER_VIEWS; i++)
		reader_view(r, (enum reader_view)i, v);
}
