/* SPDX-License-Identifier: MIT */
/*
 * minidumpd's requests: decodes a whole message, and for each type decides what the peer may
 * have. A crash or dump-now is always about the peer itself (its pid from the kernel, whatever
 * the message says); a dump of another process is checked against the policy with the
 * requester's kernel-provided credentials and the target's owner, pinned first. Event loop
 * thread only; every refusal is logged once here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "md-daemon.h"

static char *dupstr(const char *s)
{
	return strdup(s ? s : "");
}

static void handle_hello(struct mdd_conn *c, const struct md_proto_msg *m)
{
	mdd_conn_free_annotations(&c->n_annotations, c->keys, c->values);
	snprintf(c->name, sizeof(c->name), "%s", m->name ? m->name : "");
	for (size_t i = 0; i < m->n_annotations; i++) {
		c->keys[i] = dupstr(m->annotations[i].key);
		c->values[i] = dupstr(m->annotations[i].value);
		c->n_annotations++;
	}
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid)
		mdd_log(MDD_LOG_WARNING, "pid %u (uid %s) says it is pid %u; ignored", c->peer.pid,
		        c->who, m->pid);
	/* a client's connection does not outlive an exec (the shim's socket is close-on-exec) */
	c->has_exe = mdd_privsep_process_exe(c->peer.pid, c->pidfd >= 0 ? c->pidfd : -1, c->exe,
	                                     sizeof(c->exe), &c->exe_id) == 0;
	c->d->counters.events[MDD_EVENT_REGISTERED]++;
	mdd_log(MDD_LOG_INFO, "client registered: pid %u uid %s name '%s', %zu annotations",
	        c->peer.pid, c->who, c->name, c->n_annotations);
}

static void handle_crash(struct mdd_conn *c, const struct md_proto_msg *m, bool crashed)
{
	uint32_t tid = MD_PROTO_HAS(m, MD_TAG_TID) ? m->tid : c->peer.pid;
	struct mdd_job *job;

	/* always the peer itself, whatever the message claims */
	if (MD_PROTO_HAS(m, MD_TAG_PID) && m->pid != c->peer.pid) {
		c->d->counters.events[MDD_EVENT_FOREIGN_PID]++;
		mdd_log(MDD_LOG_WARNING,
		        "pid %u (uid %s) claims to be pid %u in a %s message; dumping pid %u",
		        c->peer.pid, c->who, m->pid, md_proto_type_to_string(m->type), c->peer.pid);
	}
	if (md_platform_thread_of(c->peer.pid, tid) != 1) {
		c->d->counters.events[MDD_EVENT_FOREIGN_THREAD]++;
		mdd_log(MDD_LOG_WARNING,
		        "pid %u names thread %u, which is not one of its own; using %u",
		        c->peer.pid, tid, c->peer.pid);
		tid = c->peer.pid;
	}
	if (crashed && mdd_crashloop_handle(c, m, tid))
		return;
	job = mdd_job_new(c, crashed ? MDD_JOB_CRASH : MDD_JOB_DUMP_NOW, c->peer.pid, m);
	if (!job) {
		mdd_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	job->pidfd = c->pidfd >= 0 ? md_os_dup(c->pidfd) : c->pidfd;
	if (crashed) {
		job->has_crash = true;
		job->crash.tid = tid;
		job->crash.code = m->signo;
		job->crash.flags = (uint32_t)m->si_code;
		job->crash.address = m->fault_addr;
		if (m->context) {
			int r = md_platform_client_context(m->context_kind, m->context,
			                                   m->context_len, &job->crash.context);

			if (r < 0) {
				mdd_log(
				    MDD_LOG_WARNING,
				    "pid %u: unusable register context (kind %u, %u bytes): %s; "
				    "using the thread's own",
				    c->peer.pid, m->context_kind, m->context_len,
				    md_os_strerror(-r));
				job->crash.context.size = 0;
			}
		}
		mdd_log(MDD_LOG_NOTICE,
		        "pid %u (uid %s, '%s') crashed: signal %u code %d at 0x%llx, thread %u",
		        c->peer.pid, c->who, c->name, m->signo, m->si_code,
		        (unsigned long long)m->fault_addr, tid);
		mdd_coredump_note_client_crash(c->d, c->peer.pid);
	}
	mdd_job_submit(c, job);
}

static void handle_dump_request(struct mdd_conn *c, const struct md_proto_msg *m)
{
	struct md_principal owner, owner_group, groups[MDD_DAEMON_GROUPS_MAX + 1];
	char owner_text[MD_PRINCIPAL_STRING_MAX];
	struct mdd_job *job;
	char why[200 + 2 * MD_PRINCIPAL_STRING_MAX];
	int pidfd, n_groups, r;

	if (m->pid == 0 || m->pid == (uint32_t)getpid()) {
		mdd_conn_send_error(c, -EINVAL, "not a process that can be dumped", false);
		return;
	}
	/* pin the target first, so the owner we check is the owner of what we will dump */
	pidfd = md_platform_pin_process(m->pid);
	if (pidfd < 0 && pidfd != -ENOSYS) {
		snprintf(why, sizeof(why), "no process %u", m->pid);
		mdd_conn_send_error(c, pidfd == -ESRCH ? -ESRCH : pidfd, why, false);
		return;
	}
	r = md_platform_process_owner(m->pid, &owner, &owner_group);
	if (r < 0) {
		if (pidfd >= 0)
			close(pidfd);
		snprintf(why, sizeof(why), "no process %u", m->pid);
		mdd_conn_send_error(c, r, why, false);
		return;
	}
	/* the requester's groups: primary from SO_PEERCRED, supplementary from the OS */
	groups[0] = c->peer.group;
	n_groups = md_platform_process_groups(c->peer.pid, groups + 1, MDD_DAEMON_GROUPS_MAX);
	n_groups = n_groups < 0 ? 1 : n_groups + 1;
	md_principal_to_string(&owner, owner_text, sizeof(owner_text));
	if (!mdd_policy_allows(&c->d->cfg->policy, &c->peer.user, groups, (size_t)n_groups, &owner,
	                       &owner_group)) {
		if (pidfd >= 0)
			close(pidfd);
		c->d->counters.refused++;
		mdd_log(MDD_LOG_WARNING,
		        "refused: uid %s (pid %u) asked for a dump of pid %u owned by uid %s",
		        c->who, c->peer.pid, m->pid, owner_text);
		snprintf(why, sizeof(why),
		         "uid %s may not dump process %u (owned by uid %s): the policy%s%s does "
		         "not allow it",
		         c->who, m->pid, owner_text, c->d->cfg->policy_path ? " in " : "",
		         c->d->cfg->policy_path ? c->d->cfg->policy_path : "");
		mdd_conn_send_error(c, -EPERM, why, false);
		return;
	}
	job = mdd_job_new(c, MDD_JOB_REQUEST, m->pid, NULL);
	if (!job) {
		if (pidfd >= 0)
			close(pidfd);
		mdd_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	job->process_name[0] = '\0';
	job->pidfd = pidfd;
	job->owner = owner;
	mdd_log(MDD_LOG_INFO, "uid %s (pid %u) requested a dump of pid %u", c->who, c->peer.pid,
	        m->pid);
	mdd_job_submit(c, job);
}

static void handle_status(struct mdd_conn *c)
{
	struct mdd_daemon *d = c->d;
	json_t *j = json_pack(
	    "{s:s, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "version",
	    MD_VERSION_STRING, "uptime_s", (md_now_ms() - d->started_ms) / 1000.0, "connections",
	    (json_int_t)d->n_conns, "connections_total", (json_int_t)d->counters.connections,
	    "requests", (json_int_t)d->counters.requests, "bad_messages",
	    (json_int_t)d->counters.bad_messages, "dumps_ok", (json_int_t)d->counters.dumps_ok,
	    "dumps_failed", (json_int_t)d->counters.dumps_failed, "bytes_written",
	    (json_int_t)d->counters.bytes_written, "in_flight", (json_int_t)d->running, "queued",
	    (json_int_t)d->queued, "dump_dir", d->cfg->dump_dir);

	if (j &&
	    (json_object_set_new(j, "refused", json_integer((json_int_t)d->counters.refused)) < 0 ||
	     json_object_set_new(j, "socket_inherited", json_boolean(d->socket_inherited)) < 0 ||
	     json_object_set_new(j, "events", mdd_events_to_json(&d->counters)) < 0)) {
		json_decref(j);
		j = NULL;
	}
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		mdd_conn_send_error(c, -ENOMEM, "out of memory", false);
		return;
	}
	mdd_conn_send_text(c, MD_MSG_STATUS, text);
	free(text);
}

void mdd_dispatch_message(struct mdd_conn *c, const uint8_t *buf, size_t len)
{
	struct md_proto_msg m;
	const char *why = NULL;
	char why_buf[200];
	int r;

	c->d->counters.requests++;
	r = md_proto_decode(buf, len, &m, &why);
	if (r < 0) {
		char text[160];

		c->d->counters.bad_messages++;
		c->d->counters.events[MDD_EVENT_MALFORMED]++;
		snprintf(text, sizeof(text), "malformed message: %s",
		         why ? why : md_os_strerror(-r));
		mdd_log(MDD_LOG_WARNING, "pid %u (uid %s): %s", c->peer.pid, c->who, text);
		mdd_conn_send_error(c, r, text, true);
		return;
	}
	if (m.type == MD_MSG_PING) {
		mdd_conn_send_pong(c);
		return;
	}
	if (m.type == MD_MSG_HELLO) {
		handle_hello(c, &m);
		return;
	}
	if (m.type == MD_MSG_STATUS_REQUEST) {
		handle_status(c);
		return;
	}
	if (m.type != MD_MSG_CRASH && m.type != MD_MSG_DUMP_NOW && m.type != MD_MSG_DUMP_REQUEST) {
		c->d->counters.bad_messages++;
		c->d->counters.events[MDD_EVENT_DAEMON_ONLY_TYPE]++;
		mdd_log(MDD_LOG_WARNING, "pid %u sent a %s message, which only the daemon sends",
		        c->peer.pid, md_proto_type_to_string(m.type));
		mdd_conn_send_error(c, -EBADMSG, "unexpected message type", true);
		return;
	}
	if (c->job) {
		mdd_conn_send_error(c, -EBUSY,
		                    "a request is already in progress on this connection", false);
		return;
	}
	if (mdd_access_peer_pinned(c->pidfd, c->peer.pid, why_buf, sizeof(why_buf)) < 0) {
		mdd_log(MDD_LOG_WARNING, "uid %s: %s", c->who, why_buf);
		mdd_conn_send_error(c, -ESRCH, why_buf, true);
		return;
	}
	/* dump-now and dump requests are rate-limited per user; crashes are not (the crash-loop
	 * limit bounds them) */
	if (m.type != MD_MSG_CRASH && mdd_job_take_token(c) < 0)
		return;
	if (m.type == MD_MSG_DUMP_REQUEST)
		handle_dump_request(c, &m);
	else
		handle_crash(c, &m, m.type == MD_MSG_CRASH);
}
