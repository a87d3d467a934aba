/* SPDX-License-Identifier: MIT */
/*
 * One HTTP(S) POST of an upload body with libevent's evhttp client, TLS through
 * libevent-openssl with certificate and host name verification. The whole request (connect,
 * TLS handshake, send, response) has one deadline. The response body is kept up to
 * MD_HTTP_RESPONSE_MAX bytes; only its status, Retry-After and body reach the caller.
 */
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "upload-config.h"
#include "upload-form.h"

#define MD_HTTP_RESPONSE_MAX 65536 /* bytes of a response body kept (and accepted) */
#define MD_HTTP_HEADERS_MAX  32768 /* bytes of response headers accepted */

struct mdu_http_result {
	int error;            /* 0: an HTTP response arrived (see status); else -errno */
	char error_text[256]; /* when error: what went wrong, for logs and the state file */
	int status;           /* HTTP status code when !error */
	long retry_after_s;   /* Retry-After in seconds, -1 when absent or unparsable */
	const char *body;     /* response body (NUL-terminated), valid during the callback */
	size_t body_len;
	double duration_ms; /* from the start of the request */
};

/* Called once per request, from the event loop, unless mdu_http_cancel() came first. The
 * request is freed right after it returns. */
typedef void (*md_http_done_fn)(void *userdata, const struct mdu_http_result *res);

struct mdu_http;

/* Creates the TLS context for one server: system trust store (or ca_file), peer verification,
 * TLS 1.2 or newer. Returns 0 or -errno with err explaining. */
int mdu_http_tls_new(const char *ca_file, SSL_CTX **ret_ctx, char *err, size_t err_size);

/* Starts POSTing body to srv. body must stay valid until done is called or the request is
 * cancelled. ssl_ctx is required for https servers. Returns 0 or -errno (*ret_http is then
 * untouched and done will not be called). */
int mdu_http_post(struct event_base *base, struct evdns_base *dns, SSL_CTX *ssl_ctx,
                  const struct mdu_upload_server *srv, const struct mdu_upload_body *body,
                  md_http_done_fn done, void *userdata, struct mdu_http **ret_http);

/* Aborts a request in flight without calling its callback and frees it. NULL is fine. */
void mdu_http_cancel(struct mdu_http *h);
