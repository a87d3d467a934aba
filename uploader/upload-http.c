/* SPDX-License-Identifier: MIT */
/*
 * The evhttp client request behind mdu_http_post(). evhttp frees a request after its callback
 * and must not have its connection freed from inside that callback, so a finished request
 * hands its result to the caller and frees the connection from a zero-delay event. A timeout
 * frees the connection directly, which drops the request without calling back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "md-os.h"
#include "upload-http.h"

struct mdu_http {
	struct event_base *base;
	struct evhttp_connection *conn;
	struct bufferevent *bev; /* the TLS bufferevent, owned by conn; NULL for http */
	struct event *timer;
	struct event *reaper;
	md_http_done_fn done;
	void *userdata;
	unsigned timeout_ms;
	enum evhttp_request_error req_error;
	bool have_error;
	int64_t start_ns;
};

static double elapsed_ms(int64_t start_ns)
{
	return (double)(md_os_now_ns() - start_ns) / 1e6;
}

int mdu_http_tls_new(const char *ca_file, SSL_CTX **ret_ctx, char *err, size_t err_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(err, err_size, "cannot create a TLS context");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
	            : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, err_size, "cannot load the trusted certificates%s%s: %s",
		         ca_file ? " from " : "", ca_file ? ca_file : "",
		         ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	*ret_ctx = ctx;
	return 0;
}

static void http_free(struct mdu_http *h)
{
	if (h->conn)
		evhttp_connection_free(h->conn);
	if (h->timer)
		event_free(h->timer);
	if (h->reaper)
		event_free(h->reaper);
	free(h);
}

static void reap(evutil_socket_t fd, short what, void *arg)
{
	http_free(arg);
}

static const char *req_error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "the server did not answer in time";
	case EVREQ_HTTP_EOF:
		return "the connection failed or closed before a response";
	case EVREQ_HTTP_INVALID_HEADER:
		return "the response headers are invalid";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "the connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "the request was cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "the response is too large";
	}
	return "the request failed";
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct mdu_http *h = arg;

	h->req_error = e;
	h->have_error = true;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct mdu_http *h = arg;
	struct mdu_http_result res = {.retry_after_s = -1};
	char *body = NULL;
	int code = req ? evhttp_request_get_response_code(req) : 0;

	event_del(h->timer);
	res.duration_ms = elapsed_ms(h->start_ns);
	if (code <= 0) {
		unsigned long tls_err = h->bev ? bufferevent_get_openssl_error(h->bev) : 0;

		res.error = h->have_error && h->req_error == EVREQ_HTTP_TIMEOUT ? -ETIMEDOUT
		                                                                : -ECONNABORTED;
		if (tls_err) {
			char e[160];

			ERR_error_string_n(tls_err, e, sizeof(e));
			snprintf(res.error_text, sizeof(res.error_text), "TLS: %s", e);
		} else if (res.error == -ETIMEDOUT) {
			snprintf(res.error_text, sizeof(res.error_text),
			         "no complete response within %u ms", h->timeout_ms);
		} else {
			snprintf(res.error_text, sizeof(res.error_text), "%s",
			         h->have_error ? req_error_text(h->req_error)
			                       : "the connection failed before a response");
		}
	} else {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		const char *ra =
		    evhttp_find_header(evhttp_request_get_input_headers(req), "Retry-After");
		size_t len = evbuffer_get_length(in);
		long s;

		if (len > MD_HTTP_RESPONSE_MAX)
			len = MD_HTTP_RESPONSE_MAX;
		body = malloc(len + 1);
		if (body) {
			evbuffer_copyout(in, body, len);
			body[len] = '\0';
			res.body = body;
			res.body_len = len;
		}
		res.status = code;
		if (ra && mdu_upload_retry_after(ra, time(NULL), &s) == 0)
			res.retry_after_s = s;
	}
	h->done(h->userdata, &res);
	free(body);
	/* the connection cannot be freed from inside its own callback */
	h->reaper = evtimer_new(h->base, reap, h);
	if (h->reaper) {
		static const struct timeval zero = {0, 0};

		evtimer_add(h->reaper, &zero);
	}
	/* without a reaper the connection is leaked rather than freed under evhttp's feet */
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mdu_http *h = arg;
	struct mdu_http_result res = {.error = -ETIMEDOUT, .retry_after_s = -1};

	res.duration_ms = elapsed_ms(h->start_ns);
	snprintf(res.error_text, sizeof(res.error_text), "no complete response within %u ms",
	         h->timeout_ms);
	evhttp_connection_free(h->conn); /* drops the request without calling back */
	h->conn = NULL;
	h->done(h->userdata, &res);
	http_free(h);
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int mdu_http_post(struct event_base *base, struct evdns_base *dns, SSL_CTX *ssl_ctx,
                  const struct mdu_upload_server *srv, const struct mdu_upload_body *body,
                  md_http_done_fn done, void *userdata, struct mdu_http **ret_http)
{
	struct mdu_http *h = calloc(1, sizeof(*h));
	struct evhttp_request *req = NULL;
	struct evkeyvalq *hdr;
	char host_hdr[300], len_hdr[32];
	struct timeval tv;
	int r = -ENOMEM;

	if (!h)
		return -ENOMEM;
	h->base = base;
	h->done = done;
	h->userdata = userdata;
	h->timeout_ms = srv->timeout_ms;
	h->start_ns = md_os_now_ns();
	if (srv->tls) {
		SSL *ssl;

		if (!ssl_ctx) {
			r = -EINVAL;
			goto fail;
		}
		ssl = SSL_new(ssl_ctx);
		if (!ssl)
			goto fail;
		/* SNI, and the name (or address) the certificate must carry */
		if (is_ip_literal(srv->host)) {
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), srv->host);
		} else {
			SSL_set_tlsext_host_name(ssl, srv->host);
			SSL_set1_host(ssl, srv->host);
		}
		h->bev =
		    bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
		                                   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!h->bev) {
			SSL_free(ssl);
			goto fail;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(h->bev, 1);
		h->conn = evhttp_connection_base_bufferevent_new(base, dns, h->bev, srv->host,
		                                                 (unsigned short)srv->port);
		if (!h->conn) {
			bufferevent_free(h->bev);
			goto fail;
		}
	} else {
		h->conn =
		    evhttp_connection_base_new(base, dns, srv->host, (unsigned short)srv->port);
		if (!h->conn)
			goto fail;
	}
	tv.tv_sec = srv->timeout_ms / 1000;
	tv.tv_usec = (srv->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(h->conn, &tv);
	evhttp_connection_set_retries(h->conn, 0);
	evhttp_connection_set_max_body_size(h->conn, MD_HTTP_RESPONSE_MAX);
	evhttp_connection_set_max_headers_size(h->conn, MD_HTTP_HEADERS_MAX);
	h->timer = evtimer_new(base, on_timeout, h);
	if (!h->timer)
		goto fail;

	req = evhttp_request_new(on_done, h);
	if (!req)
		goto fail;
	evhttp_request_set_error_cb(req, on_error);
	hdr = evhttp_request_get_output_headers(req);
	if (strchr(srv->host, ':'))
		snprintf(host_hdr, sizeof(host_hdr), "[%s]", srv->host);
	else
		snprintf(host_hdr, sizeof(host_hdr), "%s", srv->host);
	if (srv->port != (srv->tls ? 443 : 80))
		snprintf(host_hdr + strlen(host_hdr), sizeof(host_hdr) - strlen(host_hdr), ":%d",
		         srv->port);
	snprintf(len_hdr, sizeof(len_hdr), "%zu", body->len);
	if (evhttp_add_header(hdr, "Host", host_hdr) < 0 ||
	    evhttp_add_header(hdr, "User-Agent", "mdupload/" MD_VERSION_STRING) < 0 ||
	    evhttp_add_header(hdr, "Content-Type", body->content_type) < 0 ||
	    evhttp_add_header(hdr, "Content-Length", len_hdr) < 0 ||
	    evhttp_add_header(hdr, "Accept", "*/*") < 0 ||
	    evhttp_add_header(hdr, "Connection", "close") < 0 ||
	    (body->gzip && evhttp_add_header(hdr, "Content-Encoding", "gzip") < 0))
		goto fail;
	if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), body->data, body->len,
	                           NULL, NULL) < 0)
		goto fail;
	tv.tv_sec = srv->timeout_ms / 1000;
	tv.tv_usec = (srv->timeout_ms % 1000) * 1000;
	if (evtimer_add(h->timer, &tv) < 0)
		goto fail;
	r = evhttp_make_request(h->conn, req, EVHTTP_REQ_POST, srv->path);
	req = NULL; /* evhttp owns it now, and has freed it on failure */
	if (r < 0) {
		r = -ECONNABORTED;
		goto fail;
	}
	*ret_http = h;
	return 0;
fail:
	if (req)
		evhttp_request_free(req);
	http_free(h);
	return r;
}

void mdu_http_cancel(struct mdu_http *h)
{
	if (h)
		http_free(h); /* freeing the connection drops its request without calling back */
}
