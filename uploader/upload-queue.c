/* SPDX-License-Identifier: MIT */
/*
 * The persistent queue and its delivery loop. The queue is the outbox itself: a ticket
 * `<id>.json` stays there until every configured server has a final result for it, and the
 * result is recorded durably in the state dir before the ticket is removed. So a crash or
 * restart at any point loses nothing, and a dump a server accepted (state "uploaded") is never
 * sent to it again; only a request whose answer was lost with the process is repeated
 * (at-least-once). Per server: one request in flight, a minimum spacing (rate_per_minute),
 * exponential backoff with jitter after failures, and Retry-After honoured on 429 and 503.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-os.h"
#include "mdupload.h"

int64_t mdu_mono_ms(void)
{
	return md_os_now_ns() / 1000000;
}

static void schedule(struct mdu_service *svc);
static void pump(struct mdu_service *svc);

/* ---- backoff ---- */

/* mdu_upload_backoff_ms() with a random jitter. */
static int64_t backoff_ms(const struct mdu_upload_config *cfg, unsigned n)
{
	return mdu_upload_backoff_ms(cfg, n, arc4random());
}

/* ---- state ---- */

int mdu_queue_save_state(struct mdu_service *svc, struct mdu_ticket *k)
{
	int r;

	md_upload_state_summarize(&k->st);
	r = md_upload_state_write(svc->cfg->state_dir, &k->st);
	if (r < 0)
		mdu_ulog(LOG_ERR, "%s: cannot write its state in %s: %s", k->id,
		         svc->cfg->state_dir, strerror(-r));
	return r;
}

/* Copies src into dst, cut to fit: reasons and ids are bounded, their sources are not. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n > size - 1)
		n = size - 1;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void mdu_queue_set_server_state(struct mdu_ticket *k, size_t i, enum md_upload_status st,
                                const char *server_id, const char *reason)
{
	struct md_upload_server_state *ss = &k->st.servers[i];

	ss->state = st;
	copy_str(ss->server_id, sizeof(ss->server_id), server_id);
	copy_str(ss->reason, sizeof(ss->reason), reason);
	md_upload_time_now(ss->time);
}

bool mdu_queue_all_final(const struct mdu_ticket *k)
{
	for (size_t i = 0; i < k->st.n_servers; i++)
		if (k->st.servers[i].state == MD_UPLOAD_PENDING)
			return false;
	return k->st.n_servers > 0;
}

void mdu_queue_ticket_free(struct mdu_ticket *k)
{
	if (!k)
		return;
	md_report_done(&k->report);
	free(k);
}

static void unlink_from_list(struct mdu_service *svc, struct mdu_ticket *k)
{
	for (struct mdu_ticket **p = &svc->tickets; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			svc->n_tickets--;
			return;
		}
	}
}

/* Every server has a final, durably recorded result: the ticket leaves the outbox. */
void mdu_queue_finish_ticket(struct mdu_service *svc, struct mdu_ticket *k)
{
	char name[MD_UPLOAD_ID_MAX + 8];
	int dirfd;

	snprintf(name, sizeof(name), "%s.json", k->id);
	dirfd = open(svc->cfg->outbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)) {
		/* it stays; the next scan sees its final state and tries again */
		mdu_ulog(LOG_ERR, "%s: cannot remove its ticket from %s: %s", k->id,
		         svc->cfg->outbox, strerror(errno));
	} else {
		fsync(dirfd);
		svc->tickets_done++;
		mdu_ulog(LOG_INFO, "%s: done (%s%s%s)", k->id,
		         md_upload_status_to_string(k->st.state), k->st.server_id[0] ? ", id " : "",
		         k->st.server_id);
	}
	if (dirfd >= 0)
		close(dirfd);
	unlink_from_list(svc, k);
	mdu_queue_ticket_free(k);
	svc->metrics_dirty = true;
}

/* ---- one upload ---- */

static void server_failure(struct mdu_service *svc, struct mdu_server *s, struct mdu_ticket *k,
                           enum mdu_outcome outcome, long retry_after_s, const char *reason)
{
	size_t i = s->index;
	struct md_upload_server_state *ss = &k->st.servers[i];
	int64_t now = mdu_mono_ms(), wait;
	char why[MD_UPLOAD_REASON_MAX + 96];

	s->outcomes[outcome]++;
	s->failures++;
	if (svc->cfg->retry_max_attempts && ss->attempts >= svc->cfg->retry_max_attempts) {
		snprintf(why, sizeof(why), "gave up after %u attempts: %s", ss->attempts, reason);
		mdu_queue_set_server_state(k, i, MD_UPLOAD_FAILED, NULL, why);
		s->outcomes[MD_OUTCOME_FAILED]++;
		mdu_ulog(LOG_ERR, "%s: %s: %s", k->id, s->cfg->name, why);
	} else {
		wait =
		    retry_after_s >= 0 ? retry_after_s * 1000 : backoff_ms(svc->cfg, s->failures);
		s->blocked_until = now + wait;
		/* the dump itself also waits, so one dump the server keeps refusing does not
		 * hold up the others behind it */
		if (retry_after_s < 0 && backoff_ms(svc->cfg, ss->attempts) > wait)
			wait = backoff_ms(svc->cfg, ss->attempts);
		k->next_at[i] = now + wait;
		snprintf(why, sizeof(why), "%s (attempt %u; next in %.1f s)", reason, ss->attempts,
		         (double)wait / 1e3);
		mdu_queue_set_server_state(k, i, MD_UPLOAD_PENDING, NULL, why);
		mdu_ulog(LOG_WARNING, "%s: %s: %s", k->id, s->cfg->name, why);
	}
}

/* A short printable excerpt of a response body, for reasons and logs. */
static void excerpt(const char *body, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; body && i < len && n + 1 < size && n < 120; i++) {
		char c = body[i];

		if (c == '\n' || c == '\r') {
			if (n)
				break;
			continue;
		}
		buf[n++] = c >= ' ' && c < 0x7f ? c : '?';
	}
	buf[n] = '\0';
}

static void upload_done(void *userdata, const struct mdu_http_result *res)
{
	struct mdu_server *s = userdata;
	struct mdu_service *svc = s->svc;
	struct mdu_ticket *k = s->ticket;
	size_t i = s->index;
	char reason[MD_UPLOAD_REASON_MAX], text[128];
	int r;

	s->http = NULL;
	s->ticket = NULL;
	k->busy[i] = false;
	k->st.servers[i].attempts++;
	s->request_bytes += s->body.len;
	s->duration_sum_s += res->duration_ms / 1e3;
	s->duration_count++;
	mdu_upload_body_done(&s->body);
	excerpt(res->body, res->body_len, text, sizeof(text));
	if (res->error) {
		server_failure(svc, s, k, MD_OUTCOME_RETRY, -1, res->error_text);
	} else if (res->status >= 200 && res->status < 300) {
		char id[MD_UPLOAD_SERVER_ID_MAX];

		mdu_upload_response_id(res->body, res->body_len, id, sizeof(id));
		mdu_queue_set_server_state(k, i, MD_UPLOAD_UPLOADED, id, NULL);
		s->failures = 0;
		s->outcomes[MD_OUTCOME_UPLOADED]++;
		s->uploaded_dump_bytes += s->dump_bytes;
		s->last_success_s = (int64_t)time(NULL);
		mdu_ulog(LOG_INFO, "%s: %s: uploaded in %.0f ms (HTTP %d%s%s)", k->id, s->cfg->name,
		         res->duration_ms, res->status, id[0] ? ", id " : "", id);
	} else if (res->status == 413) {
		snprintf(reason, sizeof(reason), "the server refused its size (HTTP 413)");
		mdu_queue_set_server_state(k, i, MD_UPLOAD_SKIPPED, NULL, reason);
		s->outcomes[MD_OUTCOME_SKIPPED]++;
		mdu_ulog(LOG_WARNING, "%s: %s: skipped: %s", k->id, s->cfg->name, reason);
	} else if (res->status == 429) {
		snprintf(reason, sizeof(reason), "HTTP 429 Too Many Requests%s",
		         res->retry_after_s >= 0 ? ", Retry-After honoured" : "");
		server_failure(svc, s, k, MD_OUTCOME_RATE_LIMITED, res->retry_after_s, reason);
	} else if (res->status == 400 || res->status == 410 || res->status == 415 ||
	           res->status == 422) {
		/* the server looked at this dump and will never take it */
		snprintf(reason, sizeof(reason), "the server rejected it: HTTP %d%s%s", res->status,
		         text[0] ? ": " : "", text);
		mdu_queue_set_server_state(k, i, MD_UPLOAD_FAILED, NULL, reason);
		s->outcomes[MD_OUTCOME_FAILED]++;
		mdu_ulog(LOG_ERR, "%s: %s: %s", k->id, s->cfg->name, reason);
	} else {
		/* 5xx, 408, and 401/403/404 (usually a configuration being fixed): retried */
		snprintf(reason, sizeof(reason), "HTTP %d%s%s", res->status, text[0] ? ": " : "",
		         text);
		server_failure(svc, s, k, MD_OUTCOME_RETRY,
		               res->status == 503 ? res->retry_after_s : -1, reason);
	}
	r = mdu_queue_save_state(svc, k);
	if (r >= 0 && mdu_queue_all_final(k))
		mdu_queue_finish_ticket(svc, k);
	svc->metrics_dirty = true;
	pump(svc);
}

/* A local problem with one dump (unreadable, no memory): it waits, the server does not. */
static void local_failure(struct mdu_service *svc, struct mdu_ticket *k, size_t i,
                          const char *reason)
{
	int64_t wait = backoff_ms(svc->cfg, ++k->local_failures);
	char why[MD_UPLOAD_REASON_MAX + 96];

	k->next_at[i] = mdu_mono_ms() + wait;
	snprintf(why, sizeof(why), "%s (next try in %.1f s)", reason, (double)wait / 1e3);
	mdu_queue_set_server_state(k, i, MD_UPLOAD_PENDING, NULL, why);
	mdu_ulog(LOG_WARNING, "%s: %s", k->id, why);
	mdu_queue_save_state(svc, k);
}

static void final_decision(struct mdu_service *svc, struct mdu_server *s, struct mdu_ticket *k,
                           enum md_upload_status st, const char *reason)
{
	mdu_queue_set_server_state(k, s->index, st, NULL, reason);
	s->outcomes[st == MD_UPLOAD_SKIPPED ? MD_OUTCOME_SKIPPED : MD_OUTCOME_FAILED]++;
	mdu_ulog(st == MD_UPLOAD_SKIPPED ? LOG_WARNING : LOG_ERR, "%s: %s: %s: %s", k->id,
	         s->cfg->name, md_upload_status_to_string(st), reason);
	svc->metrics_dirty = true;
	if (mdu_queue_save_state(svc, k) >= 0 && mdu_queue_all_final(k))
		mdu_queue_finish_ticket(svc, k);
}

/* Starts one request, or decides without one (skipped, failed, local failure). */
static void start_upload(struct mdu_service *svc, struct mdu_server *s, struct mdu_ticket *k)
{
	const struct mdu_upload_server *c = s->cfg;
	const char *path = k->report.path;
	uint64_t limit = c->max_bytes ? c->max_bytes : MD_UPLOAD_BODY_HARD_MAX;
	char reason[MD_UPLOAD_REASON_MAX];
	unsigned char *dump = NULL;
	struct stat st;
	int fd = -1, r;

	if (!path || !path[0]) {
		final_decision(svc, s, k, MD_UPLOAD_FAILED,
		               k->report.rate_limited ? "no dump was written (crash loop limit)"
		                                      : "the ticket names no dump file");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		snprintf(reason, sizeof(reason), "the dump %s is gone", path);
		final_decision(svc, s, k, MD_UPLOAD_FAILED, reason);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(reason, sizeof(reason), "cannot read the dump %s: %s", path,
		         fd < 0 || errno ? strerror(errno) : "not a regular file");
		if (fd >= 0 && !S_ISREG(st.st_mode))
			snprintf(reason, sizeof(reason), "%s is not a regular file", path);
		goto local;
	}
	if ((uint64_t)st.st_size > MD_UPLOAD_BODY_HARD_MAX ||
	    (!c->gzip && (uint64_t)st.st_size > limit)) {
		snprintf(reason, sizeof(reason), "the dump is %lld bytes, over max_bytes %llu",
		         (long long)st.st_size, (unsigned long long)limit);
		close(fd);
		final_decision(svc, s, k, MD_UPLOAD_SKIPPED, reason);
		return;
	}
	dump = malloc((size_t)st.st_size + 1);
	if (!dump) {
		snprintf(reason, sizeof(reason), "no memory for a dump of %lld bytes",
		         (long long)st.st_size);
		goto local;
	}
	r = mdu_queue_read_all(fd, dump, (size_t)st.st_size);
	if (r < 0) {
		snprintf(reason, sizeof(reason), "cannot read the dump %s: %s", path, strerror(-r));
		goto local;
	}
	close(fd);
	fd = -1;
	r = mdu_upload_form_build(c, &k->report, dump, (size_t)st.st_size, &s->body);
	free(dump);
	dump = NULL;
	if (r == -EFBIG || (r >= 0 && s->body.len > limit)) {
		snprintf(reason, sizeof(reason),
		         "the request would be %zu bytes%s, over max_bytes %llu",
		         r >= 0 ? s->body.len : (size_t)st.st_size, c->gzip ? " compressed" : "",
		         (unsigned long long)limit);
		mdu_upload_body_done(&s->body);
		final_decision(svc, s, k, MD_UPLOAD_SKIPPED, reason);
		return;
	}
	if (r < 0) {
		snprintf(reason, sizeof(reason), "cannot build the request: %s", strerror(-r));
		goto local;
	}
	if (s->body.n_dropped)
		mdu_ulog(LOG_NOTICE,
		         "%s: %zu annotations left out: their names cannot be form fields", k->id,
		         s->body.n_dropped);
	r = mdu_http_post(svc->base, svc->dns, s->ssl, c, &s->body, upload_done, s, &s->http);
	if (r < 0) {
		mdu_upload_body_done(&s->body);
		snprintf(reason, sizeof(reason), "cannot start a request to %s: %s", c->url,
		         strerror(-r));
		goto local;
	}
	s->ticket = k;
	s->dump_bytes = (uint64_t)st.st_size;
	k->busy[s->index] = true;
	s->next_start_ms =
	    mdu_mono_ms() + (c->rate_per_minute ? 60000 / (int64_t)c->rate_per_minute : 0);
	if (svc->verbose)
		mdu_ulog(LOG_DEBUG, "%s: %s: sending %zu bytes%s to %s", k->id, c->name,
		         s->body.len, s->body.gzip ? " (gzip)" : "", c->url);
	return;
local:
	if (fd >= 0)
		close(fd);
	free(dump);
	local_failure(svc, k, s->index, reason);
}

static struct mdu_ticket *next_for(struct mdu_service *svc, size_t i, int64_t now)
{
	for (struct mdu_ticket *k = svc->tickets; k; k = k->next)
		if (!k->invalid && i < k->st.n_servers &&
		    k->st.servers[i].state == MD_UPLOAD_PENDING && !k->busy[i] &&
		    k->next_at[i] <= now)
			return k;
	return NULL;
}

static void pump(struct mdu_service *svc)
{
	if (svc->cfg->consent) {
		for (size_t i = 0; i < svc->n_servers; i++) {
			struct mdu_server *s = &svc->servers[i];

			for (;;) {
				int64_t now = mdu_mono_ms();
				struct mdu_ticket *k;

				if (s->http || now < s->blocked_until || now < s->next_start_ms)
					break;
				k = next_for(svc, i, now);
				if (!k)
					break;
				start_upload(svc, s, k); /* may free k */
			}
		}
	}
	schedule(svc);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	pump(arg);
}

static void on_metrics(evutil_socket_t fd, short what, void *arg)
{
	struct mdu_service *svc = arg;
	int r = mdu_metrics_write(svc);

	if (r < 0)
		mdu_ulog(LOG_ERR, "cannot write the metrics file %s: %s", svc->cfg->metrics_file,
		         strerror(-r));
	svc->metrics_dirty = false; /* retried at the next change, not in a loop */
}

static void add_timer(struct event *ev, int64_t ms)
{
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

/* Arms the pump timer for the earliest moment a server could start a request. */
static void schedule(struct mdu_service *svc)
{
	int64_t now = mdu_mono_ms(), wake = -1;

	for (size_t i = 0; svc->cfg->consent && i < svc->n_servers; i++) {
		struct mdu_server *s = &svc->servers[i];
		int64_t gate =
		    s->blocked_until > s->next_start_ms ? s->blocked_until : s->next_start_ms;
		int64_t first = -1;

		if (s->http)
			continue;
		for (struct mdu_ticket *k = svc->tickets; k; k = k->next)
			if (!k->invalid && i < k->st.n_servers &&
			    k->st.servers[i].state == MD_UPLOAD_PENDING && !k->busy[i] &&
			    (first < 0 || k->next_at[i] < first))
				first = k->next_at[i];
		if (first < 0)
			continue;
		if (gate > first)
			first = gate;
		if (wake < 0 || first < wake)
			wake = first;
	}
	evtimer_del(svc->pump_timer);
	if (wake >= 0)
		add_timer(svc->pump_timer, wake > now ? wake - now : 0);
	if (svc->metrics_dirty && svc->cfg->metrics_file &&
	    !evtimer_pending(svc->metrics_timer, NULL)) {
		int64_t due = svc->metrics_written_ms + MD_UPLOAD_METRICS_MIN_MS;

		add_timer(svc->metrics_timer, due > now ? due - now : 0);
	}
}

static void on_scan(evutil_socket_t fd, short what, void *arg)
{
	struct mdu_service *svc = arg;

	mdu_outbox_scan(svc);
	pump(svc);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct mdu_service *svc = arg;

	mdu_ulog(LOG_INFO, "stopping (signal %d)", (int)fd);
	event_base_loopbreak(svc->base);
}

/* ---- the service ---- */

int mdu_service_init(struct mdu_service *svc, struct mdu_upload_config *cfg)
{
	struct timeval scan_tv = {.tv_sec = cfg->scan_interval_ms / 1000,
	                          .tv_usec = (cfg->scan_interval_ms % 1000) * 1000};
	int r;

	svc->cfg = cfg;
	svc->start_s = (int64_t)time(NULL);
	svc->base = event_base_new();
	if (!svc->base)
		return -ENOMEM;
	svc->dns = evdns_base_new(svc->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!svc->dns)
		mdu_ulog(LOG_WARNING, "no DNS resolver configuration; host names resolve blocking");
	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		mdu_ulog(LOG_ERR, "cannot create the state dir %s: %s", cfg->state_dir,
		         strerror(-r));
		return r;
	}
	if (access(cfg->state_dir, W_OK | X_OK) < 0) {
		r = -errno;
		mdu_ulog(LOG_ERR, "cannot write in the state dir %s: %s", cfg->state_dir,
		         strerror(-r));
		return r;
	}
	svc->servers = calloc(cfg->n_servers + 1, sizeof(*svc->servers));
	if (!svc->servers)
		return -ENOMEM;
	svc->n_servers = cfg->n_servers;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		struct mdu_server *s = &svc->servers[i];
		char err[256];

		s->svc = svc;
		s->cfg = &cfg->servers[i];
		s->index = i;
		if (s->cfg->tls &&
		    (r = mdu_http_tls_new(s->cfg->ca_file, &s->ssl, err, sizeof(err))) < 0) {
			mdu_ulog(LOG_ERR, "server %s: %s", s->cfg->name, err);
			return r;
		}
	}
	svc->scan_timer = event_new(svc->base, -1, EV_PERSIST, on_scan, svc);
	svc->pump_timer = evtimer_new(svc->base, on_pump, svc);
	svc->metrics_timer = evtimer_new(svc->base, on_metrics, svc);
	svc->sig_term = evsignal_new(svc->base, SIGTERM, on_stop, svc);
	svc->sig_int = evsignal_new(svc->base, SIGINT, on_stop, svc);
	svc->sig_hup = evsignal_new(svc->base, SIGHUP, on_scan, svc);
	if (!svc->scan_timer || !svc->pump_timer || !svc->metrics_timer || !svc->sig_term ||
	    !svc->sig_int || !svc->sig_hup || evtimer_add(svc->scan_timer, &scan_tv) < 0 ||
	    evsignal_add(svc->sig_term, NULL) < 0 || evsignal_add(svc->sig_int, NULL) < 0 ||
	    evsignal_add(svc->sig_hup, NULL) < 0)
		return -ENOMEM;
	return 0;
}

int mdu_service_run(struct mdu_service *svc)
{
	int r;

	mdu_ulog(LOG_INFO, "watching %s, state in %s, %zu server%s, consent %s", svc->cfg->outbox,
	         svc->cfg->state_dir, svc->n_servers, svc->n_servers == 1 ? "" : "s",
	         svc->cfg->consent ? "given" : "not given: nothing is uploaded");
	mdu_outbox_scan(svc);
	svc->metrics_dirty = true;
	on_metrics(-1, 0, svc);
	pump(svc);
	r = event_base_dispatch(svc->base) < 0 ? -EIO : 0;
	/* requests in flight are dropped: their dumps stay pending and go out after a restart */
	for (size_t i = 0; i < svc->n_servers; i++) {
		struct mdu_server *s = &svc->servers[i];

		if (s->http) {
			mdu_http_cancel(s->http);
			s->http = NULL;
			s->ticket->busy[i] = false;
			s->ticket = NULL;
			mdu_upload_body_done(&s->body);
		}
	}
	on_metrics(-1, 0, svc);
	return r;
}

void mdu_service_done(struct mdu_service *svc)
{
	struct event *events[] = {svc->scan_timer, svc->pump_timer, svc->metrics_timer,
	                          svc->sig_term,   svc->sig_int,    svc->sig_hup};

	while (svc->tickets) {
		struct mdu_ticket *k = svc->tickets;

		svc->tickets = k->next;
		mdu_queue_ticket_free(k);
	}
	for (size_t i = 0; svc->servers && i < svc->n_servers; i++)
		if (svc->servers[i].ssl)
			SSL_CTX_free(svc->servers[i].ssl);
	free(svc->servers);
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i])
			event_free(events[i]);
	if (svc->dns)
		evdns_base_free(svc->dns, 0);
	if (svc->base)
		event_base_free(svc->base);
}
