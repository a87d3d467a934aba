/* SPDX-License-Identifier: MIT */
/*
 * Stacks for the report of each saved dump, added after the app has its reply, never on the
 * crash path. The job queue hands the report over once it has answered the app and posted the
 * journal line; the reports wait here (at most MDD_DAEMON_SYMBOLIZE_PENDING, past that a report
 * keeps no stack and the log says why) and go one at a time to the thread pool, so a slow
 * symbolizer never takes the threads captures need. There md-symbolize runs in its sandbox
 * (md-symbolize-run.c; md-sandbox.c, or with symbolize.socket systemd's instance of
 * minidumpd-symbolize@.service: the daemon never parses ELF or DWARF itself), its stack,
 * threads and symbolizer objects go into the report, and the report beside the dump is written
 * again (temporary name, then rename). A symbolizer that fails, hangs or prints garbage leaves
 * the report with the reason and no stack. The loop thread logs the crashing function.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "md-daemon.h"
#include "md-store.h"
#if HAVE_SYMBOLIZER
#include "md-sandbox.h"
#include "md-symbolize-run.h"
#endif

struct item {
	struct md_report report;
	char *crashed_in; /* "crash_segv() at crash-app.c:102", or NULL */
	int error;        /* writing the report again failed: -errno */
};

struct mdd_symbolize_queue {
	struct mdd_daemon *d;
	struct item *pending[MDD_DAEMON_SYMBOLIZE_PENDING];
	size_t n_pending;
	bool busy; /* one item is on the thread pool */
	uv_work_t work;
	struct item *current;
};

bool mdd_symbolize_enabled(const struct mdd_config *cfg)
{
#if HAVE_SYMBOLIZER
	if (cfg->symbolize >= 0)
		return cfg->symbolize == 1;
	/* systemd's helper service is the sandbox (minidumpd-symbolize.socket): always there */
	if (cfg->symbolize_socket)
		return true;
	/* else: where the helper is installed and we can sandbox it */
	return access(mdd_symbolize_helper(cfg->symbolize_helper), X_OK) == 0 &&
	       mdd_sandbox_available();
#else
	return false;
#endif
}

static void item_free(struct item *it)
{
	if (!it)
		return;
	md_report_done(&it->report);
	free(it->crashed_in);
	free(it);
}

#if HAVE_SYMBOLIZER
/* The thread pool's part: the helper, then the report written again beside the dump. */
static void work(uv_work_t *req)
{
	struct mdd_symbolize_queue *q = req->data;
	const struct mdd_config *cfg = q->d->cfg;
	struct item *it = q->current;
	struct md_report *r = &it->report;
	const struct mdd_symbolize_opts opts = {
	    .all_threads = cfg->symbolize_all_threads,
	    .budget_ms = cfg->symbolize_budget_ms,
	    .helper = cfg->symbolize_helper,
	    .debuginfod_urls = cfg->symbolize_debuginfod,
	    .socket = cfg->symbolize_socket,
	};
	char name[MD_STORE_NAME_MAX], *text;
	json_t *j = mdd_symbolize_report(r->path, &opts, &it->crashed_in);

	r->stack = json_incref(json_object_get(j, "stack"));
	r->thread_stacks = json_incref(json_object_get(j, "threads"));
	r->symbolizer = json_incref(json_object_get(j, "symbolizer"));
	json_decref(j);
	if (!r->symbolizer) {
		it->error = -ENOMEM;
		return;
	}
	if (md_store_name(r->id, MD_STORE_REPORT, name) < 0) {
		it->error = -EINVAL;
		return;
	}
	text = md_report_to_text(r);
	it->error =
	    text ? mdd_capture_write_file(cfg->dump_dir, name, text, cfg->dump_gid, true) : -ENOMEM;
	free(text);
}

static void start_next(struct mdd_symbolize_queue *q);

/* How a log line names the process: the name its hello gave, else its executable's file name. */
static const char *log_name(const struct md_report *r)
{
	const char *slash;

	if (r->process_name && r->process_name[0])
		return r->process_name;
	if (!r->executable || !r->executable[0])
		return "?";
	slash = strrchr(r->executable, '/');
	return slash ? slash + 1 : r->executable;
}

static void done(uv_work_t *req, int status)
{
	struct mdd_symbolize_queue *q = req->data;
	struct item *it = q->current;
	const char *why = json_string_value(json_object_get(it->report.symbolizer, "error"));

	if (it->error < 0)
		mdd_log(MDD_LOG_WARNING,
		        "dump %s: its report could not be written with its stacks: %s",
		        it->report.id, md_os_strerror(-it->error));
	else if (why)
		mdd_log(MDD_LOG_WARNING, "dump %s: no stacks: %s", it->report.id, why);
	else if (it->crashed_in)
		mdd_log(MDD_LOG_NOTICE, "pid %u (%s) %s in %s", it->report.pid,
		        log_name(&it->report),
		        it->report.kind == MD_REPORT_KIND_CRASH ? "crashed" : "was dumped",
		        it->crashed_in);
	item_free(it);
	q->current = NULL;
	q->busy = false;
	start_next(q);
	if (q->d->stopping && !q->busy) { /* mdd_symbolize_stop left it to us */
		q->d->symbolize_queue = NULL;
		free(q);
	}
}

static void start_next(struct mdd_symbolize_queue *q)
{
	int r;

	if (q->busy || !q->n_pending || q->d->stopping)
		return;
	q->current = q->pending[0];
	memmove(q->pending, q->pending + 1, --q->n_pending * sizeof(q->pending[0]));
	q->work.data = q;
	r = uv_queue_work(q->d->loop, &q->work, work, done);
	if (r < 0) {
		mdd_log(MDD_LOG_WARNING, "dump %s: no stacks: %s", q->current->report.id,
		        uv_strerror(r));
		item_free(q->current);
		q->current = NULL;
		return;
	}
	q->busy = true;
}
#endif

void mdd_symbolize_post(struct mdd_daemon *d, struct md_report *r)
{
	struct mdd_symbolize_queue *q = d->symbolize_queue;
	struct item *it;

	if (!r->path || !r->id || d->stopping)
		return;
	if (!q) {
		q = d->symbolize_queue = calloc(1, sizeof(*q));
		if (!q)
			return;
		q->d = d;
	}
	if (q->n_pending >= MDD_DAEMON_SYMBOLIZE_PENDING) {
		mdd_log(MDD_LOG_WARNING,
		        "dump %s: no stacks: %u reports are already waiting for theirs", r->id,
		        (unsigned)q->n_pending);
		return;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->report = *r; /* taken over */
	md_report_init(r);
	q->pending[q->n_pending++] = it;
#if HAVE_SYMBOLIZER
	start_next(q);
#endif
}

void mdd_symbolize_stop(struct mdd_daemon *d)
{
	struct mdd_symbolize_queue *q = d->symbolize_queue;

	if (!q)
		return;
	for (size_t i = 0; i < q->n_pending; i++)
		item_free(q->pending[i]);
	q->n_pending = 0;
	if (!q->busy) {
		free(q);
		d->symbolize_queue = NULL;
	}
}
