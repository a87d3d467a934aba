/* SPDX-License-Identifier: MIT */
/*
 * A crash of a program in a crash loop (md-crashloop.c decides) is not dumped: it is counted,
 * the app is released at once with a short report ("rate_limited": true), and the journal
 * records that report and keeps it as the program's summary, `<exe>.<file id>.crashloop.json`
 * in the store, holding its latest suppressed crash. Summaries are store items: they count
 * against the store's byte and age limits and are pruned with the dumps. Event loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "md-daemon.h"
#include "md-format.h"
#include "md-store.h"

static int fill(struct md_report *r, const struct mdd_conn *c, const struct md_proto_msg *m,
                uint32_t tid, const char *exe, const struct mdd_loop_entry *e)
{
	const struct mdd_config *cfg = c->d->cfg;
	const char *sig = md_linux_signal_to_string(m->signo);
	time_t now = time(NULL);
	struct tm tm;
	int rr = 0;

	r->pid = c->peer.pid;
	r->has_uid = true;
	r->uid = c->peer.user.id;
	r->kind = MD_REPORT_KIND_CRASH;
	r->rate_limited = true;
	gmtime_r(&now, &tm);
	strftime(r->time, sizeof(r->time), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(r->signal, sizeof(r->signal), "%s", sig ? sig : "");
	r->has_crash = true;
	r->crash.thread_id = tid;
	r->crash.code = m->signo;
	r->crash.flags = (uint32_t)m->si_code;
	r->crash.si_code = m->si_code;
	r->crash.address = m->fault_addr;
	snprintf(r->crash.signal, sizeof(r->crash.signal), "%s", sig ? sig : "");
	r->suppressed = e->suppressed;
	r->suppressed_total = e->suppressed_total;
	r->max_crashes = cfg->loop_max_crashes;
	r->window_s = cfg->loop_window_s;
	rr |= md_report_set(&r->executable, exe);
	rr |= md_report_set(&r->process_name, c->name);
	/* the hello's annotations, overridden by the crash message's */
	for (size_t i = 0; i < c->n_annotations; i++)
		rr |= md_report_annotate(r, c->keys[i], c->values[i]);
	for (size_t i = 0; i < m->n_annotations; i++)
		rr |= md_report_annotate(r, m->annotations[i].key, m->annotations[i].value);
	return rr;
}

bool mdd_crashloop_handle(struct mdd_conn *c, const struct md_proto_msg *m, uint32_t tid)
{
	struct mdd_daemon *d = c->d;
	struct mdd_loop_entry *e;
	char exe[MDD_LOOP_EXE_MAX], id[MD_STORE_ID_MAX + 1];
	struct md_report r;
	uint64_t file_id;

	if (c->has_exe) {
		snprintf(exe, sizeof(exe), "%s", c->exe);
		file_id = c->exe_id;
	} else if (mdd_privsep_process_exe(c->peer.pid, c->pidfd >= 0 ? c->pidfd : -1, exe,
	                                   sizeof(exe), &file_id) < 0) {
		return false; /* cannot tell which program: dump it */
	}
	if (!mdd_loop_check(d->loops, exe, file_id, md_now_ms() / 1000.0, &e))
		return false;
	d->counters.rate_limited++;
	md_report_init(&r);
	if (fill(&r, c, m, tid, exe, e) < 0) {
		mdd_conn_send_error(c, -EBUSY, "crash loop: not dumped", false);
		mdd_journal_post(d, NULL, NULL);
	} else {
		mdd_conn_send_report(c, &r);
		md_store_make_loop_id(exe, file_id, id);
		mdd_journal_post(d, &r, id);
	}
	mdd_log(MDD_LOG_NOTICE,
	        "pid %u (%s) crashed (signal %u), not dumped: %u crashes within %u s (%llu "
	        "suppressed in a row)",
	        c->peer.pid, exe, m->signo, d->cfg->loop_max_crashes, d->cfg->loop_window_s,
	        (unsigned long long)e->suppressed);
	md_report_done(&r);
	return true;
}
