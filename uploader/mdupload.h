/* SPDX-License-Identifier: MIT */
/*
 * mdupload's internals shared by its files: the service (configuration, event loop, servers,
 * the queue of tickets) and its log. mdupload runs unprivileged; nothing here may need more
 * than reading the outbox and the dumps, writing its state dir and metrics file, and the
 * network.
 */
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "upload-config.h"
#include "upload-form.h"
#include "upload-http.h"
#include "md-upload-state.h"

#define MD_UPLOAD_TICKET_MAX     (1024 * 1024) /* bytes of a ticket (a report) read */
#define MD_UPLOAD_QUEUE_MAX      100000        /* tickets held in memory at once */
#define MD_UPLOAD_METRICS_MIN_MS 1000          /* ms between two writes of the metrics file */
#define MD_UPLOAD_LOG_LINE       1024          /* bytes of one log line */

/* Outcomes counted in mdupload_uploads_total{outcome=...}. */
enum mdu_outcome {
	MD_OUTCOME_UPLOADED,     /* 2xx: delivered */
	MD_OUTCOME_RETRY,        /* transient failure (network, timeout, 5xx...): retried later */
	MD_OUTCOME_RATE_LIMITED, /* 429: retried after Retry-After or a backoff */
	MD_OUTCOME_FAILED,       /* given up for good */
	MD_OUTCOME_SKIPPED,      /* too large: never sent */
	MD_OUTCOME_COUNT,
};

/* One dump waiting in the outbox. */
struct mdu_ticket {
	struct mdu_ticket *next;
	char id[MD_UPLOAD_ID_MAX];
	bool has_report;         /* false for a ticket that cannot be read */
	struct md_report report; /* the ticket's content */
	bool invalid;      /* unusable ticket: left in place, reported, not retried this run */
	bool seen;         /* listed by the latest outbox scan */
	int64_t queued_ms; /* monotonic time it was found */
	int64_t mtime_s;   /* the ticket file's mtime: the queue is in this order */
	unsigned
	    local_failures; /* the dump could not be read or sent: backoff without the server */
	struct md_upload_state st;              /* persisted in the state dir */
	int64_t next_at[MD_UPLOAD_SERVERS_MAX]; /* monotonic ms: no attempt before */
	bool busy[MD_UPLOAD_SERVERS_MAX];       /* a request to that server in flight */
};

/* A configured server at run time. */
struct mdu_server {
	struct mdu_service *svc;
	const struct mdu_upload_server *cfg;
	size_t index;
	SSL_CTX *ssl;
	struct mdu_http *http; /* the request in flight, at most one per server */
	struct mdu_ticket *ticket;
	struct mdu_upload_body body;
	uint64_t dump_bytes;   /* of the dump in flight */
	int64_t next_start_ms; /* monotonic: rate limit */
	int64_t blocked_until; /* monotonic: backoff after failures, or Retry-After */
	unsigned failures;     /* consecutive transient failures */
	/* metrics */
	uint64_t outcomes[MD_OUTCOME_COUNT];
	uint64_t request_bytes;
	uint64_t uploaded_dump_bytes;
	double duration_sum_s;
	uint64_t duration_count;
	int64_t last_success_s; /* wall clock, 0 = never */
};

struct mdu_service {
	struct mdu_upload_config *cfg;
	struct event_base *base;
	struct evdns_base *dns;
	struct event *scan_timer;
	struct event *pump_timer;
	struct event *metrics_timer;
	struct event *sig_term, *sig_int, *sig_hup;
	struct mdu_server *servers;
	size_t n_servers;
	struct mdu_ticket *tickets;
	size_t n_tickets;
	bool metrics_dirty;
	int64_t metrics_written_ms;
	int64_t start_s;
	uint64_t tickets_done; /* tickets removed after a final result */
	uint64_t scan_errors;
	bool warned_scan;
	bool verbose;
};

void mdu_ulog(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int64_t mdu_mono_ms(void);

/* Creates the service on an event loop; returns 0 or -errno (logged). */
int mdu_service_init(struct mdu_service *svc, struct mdu_upload_config *cfg);

/* upload-queue.c: what the outbox scan needs of the queue. */
void mdu_queue_set_server_state(struct mdu_ticket *k, size_t i, enum md_upload_status st,
                                const char *server_id, const char *reason);
int mdu_queue_save_state(struct mdu_service *svc, struct mdu_ticket *k);
bool mdu_queue_all_final(const struct mdu_ticket *k);
void mdu_queue_finish_ticket(struct mdu_service *svc, struct mdu_ticket *k);
void mdu_queue_ticket_free(struct mdu_ticket *k);
/* Reads exactly len bytes; -EIO when the file is shorter. */
int mdu_queue_read_all(int fd, void *buf, size_t len);
/* upload-outbox.c: lists the outbox, queues new tickets and forgets removed ones. */
void mdu_outbox_scan(struct mdu_service *svc);

/* Runs until SIGTERM or SIGINT; in-flight requests are then dropped (their dumps stay
 * pending). Returns 0 or -errno. */
int mdu_service_run(struct mdu_service *svc);

void mdu_service_done(struct mdu_service *svc);

/* Writes the metrics file now (when one is configured). Returns 0 or -errno. */
int mdu_metrics_write(struct mdu_service *svc);

const char *mdu_outcome_to_string(enum mdu_outcome o);
