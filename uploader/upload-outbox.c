/* SPDX-License-Identifier: MIT */
/*
 * The outbox side of the queue: finding tickets (`<id>.json`, the daemon's report of a dump,
 * named and checked by common/md-store.h), reading each as a typed report with a size limit,
 * merging it with what an earlier run recorded in the state dir, and forgetting tickets that
 * were removed. A ticket that cannot be used is left in place with a failed state saying why.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "md-store.h"
#include "mdupload.h"

int mdu_queue_read_all(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = pread(fd, (char *)buf + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank while read: the store is removing it */
		off += (size_t)n;
	}
	return 0;
}

static void insert_sorted(struct mdu_service *svc, struct mdu_ticket *k)
{
	struct mdu_ticket **p = &svc->tickets;

	while (*p && ((*p)->mtime_s < k->mtime_s ||
	              ((*p)->mtime_s == k->mtime_s && strcmp((*p)->id, k->id) < 0)))
		p = &(*p)->next;
	k->next = *p;
	*p = k;
	svc->n_tickets++;
}

/* Fills k->st from the configured servers and what an earlier run recorded. */
static void merge_state(struct mdu_service *svc, struct mdu_ticket *k, bool *ret_changed)
{
	struct md_upload_state old;
	bool have_old = md_upload_state_read(svc->cfg->state_dir, k->id, &old) >= 0;
	struct md_upload_state *st = &k->st;

	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "%s", k->id);
	*ret_changed = !have_old;
	for (size_t i = 0; i < svc->n_servers; i++) {
		struct md_upload_server_state *ss = &st->servers[i];
		size_t j;

		for (j = 0; have_old && j < old.n_servers; j++)
			if (strcmp(old.servers[j].name, svc->servers[i].cfg->name) == 0)
				break;
		if (have_old && j < old.n_servers) {
			*ss = old.servers[j];
		} else {
			snprintf(ss->name, sizeof(ss->name), "%s", svc->servers[i].cfg->name);
			ss->state = MD_UPLOAD_PENDING;
			md_upload_time_now(ss->time);
			*ret_changed = true;
		}
		st->n_servers++;
	}
	/* final results for servers no longer configured are kept, for the record */
	for (size_t j = 0; have_old && j < old.n_servers; j++) {
		bool configured = false;

		for (size_t i = 0; i < svc->n_servers; i++)
			configured |= strcmp(old.servers[j].name, svc->servers[i].cfg->name) == 0;
		if (!configured && old.servers[j].state != MD_UPLOAD_PENDING &&
		    st->n_servers < MD_UPLOAD_SERVERS_MAX)
			st->servers[st->n_servers++] = old.servers[j];
	}
	if (have_old)
		memcpy(st->time, old.time, sizeof(st->time));
	else
		md_upload_time_now(st->time);
}

static int read_ticket(int dirfd, const char *name, struct md_report *ret_report,
                       int64_t *ret_mtime, char *err, size_t err_size)
{
	struct stat st;
	char *text = NULL;
	json_t *j = NULL;
	json_error_t je;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, err_size, "cannot open the ticket: %s", strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MD_UPLOAD_TICKET_MAX) {
		snprintf(err, err_size, "the ticket is not a regular file of at most %d bytes",
		         MD_UPLOAD_TICKET_MAX);
		r = -EINVAL;
		goto out;
	}
	*ret_mtime = (int64_t)st.st_mtime;
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		r = -ENOMEM;
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	r = mdu_queue_read_all(fd, text, (size_t)st.st_size);
	if (r < 0) {
		snprintf(err, err_size, "cannot read the ticket: %s", strerror(-r));
		goto out;
	}
	j = json_loadb(text, (size_t)st.st_size, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		snprintf(err, err_size, "the ticket is not a JSON object (line %d: %s)", je.line,
		         j ? "not an object" : je.text);
		r = -EINVAL;
	} else if ((r = md_report_from_json(j, ret_report)) < 0) {
		snprintf(err, err_size, "cannot read the ticket's report: %s", strerror(-r));
	}
	json_decref(j);
out:
	free(text);
	close(fd);
	return r;
}

static void load_ticket(struct mdu_service *svc, int dirfd, const char *name, const char *id)
{
	struct mdu_ticket *k = calloc(1, sizeof(*k));
	char err[256] = "";
	bool changed = false;
	const char *rid;

	if (!k) {
		mdu_ulog(LOG_ERR, "%s: out of memory", id);
		return;
	}
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->queued_ms = mdu_mono_ms();
	k->seen = true;
	if (read_ticket(dirfd, name, &k->report, &k->mtime_s, err, sizeof(err)) >= 0) {
		k->has_report = true;
		rid = k->report.id;
		if (!rid || strcmp(rid, id) != 0)
			snprintf(err, sizeof(err),
			         "the ticket's report has id \"%s\", not its name",
			         rid ? rid : "(none)");
	}
	merge_state(svc, k, &changed);
	if (err[0]) {
		/* left in place for the operator; its state says why it is not uploaded */
		k->invalid = true;
		for (size_t i = 0; i < k->st.n_servers; i++)
			mdu_queue_set_server_state(k, i, MD_UPLOAD_FAILED, NULL, err);
		mdu_ulog(LOG_ERR, "%s: invalid ticket in %s, left in place: %s", id,
		         svc->cfg->outbox, err);
		mdu_queue_save_state(svc, k);
		insert_sorted(svc, k);
		return;
	}
	insert_sorted(svc, k);
	if (mdu_queue_all_final(k)) {
		/* an earlier run recorded the result but stopped before removing the ticket */
		mdu_ulog(
		    LOG_INFO, "%s: already %s before a restart; not sent again", id,
		    md_upload_status_to_string((md_upload_state_summarize(&k->st), k->st.state)));
		mdu_queue_finish_ticket(svc, k);
		return;
	}
	if (!svc->cfg->consent || svc->n_servers == 0) {
		const char *why = svc->n_servers ? "waiting for consent (\"consent\": false)"
		                                 : "no upload server is configured";

		for (size_t i = 0; i < k->st.n_servers; i++)
			if (k->st.servers[i].state == MD_UPLOAD_PENDING &&
			    strcmp(k->st.servers[i].reason, why) != 0) {
				snprintf(k->st.servers[i].reason, sizeof(k->st.servers[i].reason),
				         "%s", why);
				changed = true;
			}
		if (svc->n_servers == 0) {
			snprintf(k->st.reason, sizeof(k->st.reason), "%s", why);
			changed = true;
		}
	}
	if (changed)
		mdu_queue_save_state(svc, k);
	if (svc->n_servers == 0) /* summarize() leaves the reason empty without servers */
		snprintf(k->st.reason, sizeof(k->st.reason), "no upload server is configured");
	mdu_ulog(LOG_INFO, "%s: queued", id);
	svc->metrics_dirty = true;
}

void mdu_outbox_scan(struct mdu_service *svc)
{
	DIR *d = opendir(svc->cfg->outbox);
	struct dirent *e;

	if (!d) {
		svc->scan_errors++;
		if (!svc->warned_scan)
			mdu_ulog(LOG_ERR, "cannot list the outbox %s: %s (retrying every %u ms)",
			         svc->cfg->outbox, strerror(errno), svc->cfg->scan_interval_ms);
		svc->warned_scan = true;
		svc->metrics_dirty = true;
		return;
	}
	svc->warned_scan = false;
	for (struct mdu_ticket *k = svc->tickets; k; k = k->next)
		k->seen = false;
	while ((e = readdir(d))) {
		char id[MD_UPLOAD_ID_MAX];
		enum md_store_kind kind;
		struct mdu_ticket *k;

		/* "<id>.json" with a valid id: not hidden or temporary files */
		if (md_store_parse_name(e->d_name, id, &kind) < 0 || kind != MD_STORE_REPORT)
			continue;
		for (k = svc->tickets; k && strcmp(k->id, id) != 0; k = k->next)
			;
		if (k) {
			k->seen = true;
			continue;
		}
		if (svc->n_tickets >= MD_UPLOAD_QUEUE_MAX)
			continue; /* picked up once the queue shrinks */
		load_ticket(svc, dirfd(d), e->d_name, id);
	}
	closedir(d);
	/* a ticket someone else removed (an operator, the store's cleanup) is forgotten */
	for (struct mdu_ticket **p = &svc->tickets; *p;) {
		struct mdu_ticket *k = *p;
		bool busy = false;

		for (size_t i = 0; i < MD_UPLOAD_SERVERS_MAX; i++)
			busy |= k->busy[i];
		if (k->seen || busy) {
			p = &k->next;
			continue;
		}
		mdu_ulog(LOG_INFO, "%s: its ticket was removed from the outbox; forgotten", k->id);
		*p = k->next;
		svc->n_tickets--;
		mdu_queue_ticket_free(k);
		svc->metrics_dirty = true;
	}
}
