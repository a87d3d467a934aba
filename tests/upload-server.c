/* SPDX-License-Identifier: MIT */
/*
 * A crash collector for the upload tests: a real HTTP/1.1 server (libevent's evhttp) on
 * 127.0.0.1 that accepts POSTs, undoes Content-Encoding: gzip, parses multipart/form-data
 * strictly (RFC 7578: a malformed body is answered 400 and recorded as an error), and records
 * every request as DIR/req-N.json plus one file per uploaded file part (DIR/req-N.<field>),
 * so the tests can compare each byte with what they queued. How it answers the Nth request
 * comes from line N of DIR/plan (the last line repeats; no plan means "ok"):
 *   ok                                 200, Breakpad's "CrashID=bp-..." or Sentry's {"id": ...}
 *   status CODE [retry-after=VALUE]    that status, with a Retry-After header if given
 *   slow MS                            "ok", but only after MS milliseconds
 * It listens on --port (default: any free port) and writes the port to DIR/port. Test use only:
 * it binds to the loopback address and nothing else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define BODY_MAX         (256u * 1024 * 1024) /* bytes of a request body, compressed or not */
#define PLAN_LINE        256                  /* bytes of one plan line */
#define PARTS_MAX        256                  /* parts of one multipart body */
#define SERVER_TIMEOUT_S 30                   /* s evhttp waits on an idle connection */

static const char *dir;
static struct event_base *base;
static unsigned count;

struct delayed {
	struct evhttp_request *req;
	struct event *ev;
	int code;
	char *body;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_atomic(const char *name, const void *data, size_t len)
{
	char path[4096], tmp[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "wb");
	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* Line n (1-based) of the plan, or its last line; "ok" without a plan. */
static void plan_for(unsigned n, char *out, size_t size)
{
	char path[4096], line[PLAN_LINE];
	unsigned i = 0;
	FILE *f;

	snprintf(out, size, "ok");
	snprintf(path, sizeof(path), "%s/plan", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(out, size, "%s", line);
		if (++i == n)
			break;
	}
	fclose(f);
}

static int gunzip(const unsigned char *in, size_t len, unsigned char **ret, size_t *ret_len)
{
	z_stream z = {0};
	size_t cap = len * 4 + 1024, n = 0;
	unsigned char *out = malloc(cap);
	int r;

	if (!out || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	do {
		if (n == cap) {
			unsigned char *p;

			if (cap >= BODY_MAX) {
				r = Z_MEM_ERROR;
				break;
			}
			cap *= 2;
			p = realloc(out, cap);
			if (!p) {
				r = Z_MEM_ERROR;
				break;
			}
			out = p;
		}
		z.next_out = out + n;
		z.avail_out = (uInt)(cap - n);
		r = inflate(&z, Z_NO_FLUSH);
		n = cap - z.avail_out;
	} while (r == Z_OK);
	/* exactly one gzip member and nothing after it */
	if (r != Z_STREAM_END || z.avail_in != 0) {
		inflateEnd(&z);
		free(out);
		return -EINVAL;
	}
	inflateEnd(&z);
	*ret = out;
	*ret_len = n;
	return 0;
}

/* The value of parameter name in a header value such as `form-data; name="x"`; quoted or
 * token. Returns an owned string or NULL. */
static char *header_param(const char *value, const char *name)
{
	size_t nl = strlen(name);
	const char *p = value;

	while ((p = strchr(p, ';'))) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			p += nl + 1;
			if (*p == '"') {
				const char *end = strchr(p + 1, '"');

				return end ? strndup(p + 1, (size_t)(end - p - 1)) : NULL;
			}
			return strndup(p, strcspn(p, "; \t"));
		}
	}
	return NULL;
}

static const unsigned char *find(const unsigned char *hay, size_t len, const char *needle,
                                 size_t nlen)
{
	return memmem(hay, len, needle, nlen);
}

/* Parses a multipart/form-data body. Fields go to fields (name -> value); file parts are
 * saved as DIR/req-N.<name> and described in files. Returns NULL or an error sentence. */
static const char *parse_multipart(const unsigned char *b, size_t len, const char *boundary,
                                   unsigned n, json_t *fields, json_t *files)
{
	char delim[256], closing[260];
	size_t dl;
	const unsigned char *p = b, *end = b + len;
	int parts = 0;

	if (!boundary || !boundary[0] || strlen(boundary) > 70)
		return "no usable boundary in Content-Type";
	dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
	snprintf(closing, sizeof(closing), "\r\n--%s", boundary);
	if (len < dl + 2 || memcmp(p, delim, dl) != 0 || memcmp(p + dl, "\r\n", 2) != 0)
		return "the body does not start with the boundary line";
	p += dl + 2;
	for (;;) {
		const unsigned char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4), *cend;
		char *headers, *name = NULL, *filename = NULL, *ctype = NULL, *line, *save;

		if (!hend)
			return "a part has no end of headers";
		if (++parts > PARTS_MAX)
			return "too many parts";
		headers = strndup((const char *)p, (size_t)(hend - p));
		for (line = strtok_r(headers, "\r\n", &save); line;
		     line = strtok_r(NULL, "\r\n", &save)) {
			if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
				const char *v = line + 20;

				while (*v == ' ')
					v++;
				if (strncmp(v, "form-data;", 10) != 0) {
					free(headers);
					return "a part is not form-data";
				}
				name = header_param(v, "name");
				filename = header_param(v, "filename");
			} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
				ctype = strdup(line + 13 + strspn(line + 13, " "));
			} else {
				free(headers);
				free(name);
				free(filename);
				free(ctype);
				return "a part has an unexpected header";
			}
		}
		free(headers);
		if (!name) {
			free(filename);
			free(ctype);
			return "a part has no name";
		}
		p = hend + 4;
		cend = find(p, (size_t)(end - p), closing, strlen(closing));
		if (!cend) {
			free(name);
			free(filename);
			free(ctype);
			return "a part is not closed by the boundary";
		}
		if (json_object_get(fields, name) || json_object_get(files, name)) {
			free(name);
			free(filename);
			free(ctype);
			return "a field name appears twice";
		}
		if (filename) {
			char fname[512];

			snprintf(fname, sizeof(fname), "req-%u.%s", n, name);
			write_atomic(fname, p, (size_t)(cend - p));
			json_object_set_new(files, name,
			                    json_pack("{s:s, s:s?, s:I, s:s}", "filename", filename,
			                              "content_type", ctype, "bytes",
			                              (json_int_t)(cend - p), "file", fname));
		} else {
			json_object_set_new(fields, name,
			                    json_stringn((const char *)p, (size_t)(cend - p)));
		}
		free(name);
		free(filename);
		free(ctype);
		p = cend + strlen(closing);
		if (end - p >= 2 && memcmp(p, "--", 2) == 0) {
			p += 2;
			if (end - p == 2 && memcmp(p, "\r\n", 2) == 0)
				return NULL;
			return end == p ? NULL : "data after the closing boundary";
		}
		if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
			return "a boundary line is not followed by CRLF";
		p += 2;
	}
}

static void send_later(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, d->body, strlen(d->body));
	evhttp_send_reply(d->req, d->code, "OK", out);
	evbuffer_free(out);
	event_free(d->ev);
	free(d->body);
	free(d);
}

static void handle(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *in_h = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *out = evbuffer_new();
	const char *ctype = evhttp_find_header(in_h, "Content-Type");
	const char *cenc = evhttp_find_header(in_h, "Content-Encoding");
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
	size_t raw_len = evbuffer_get_length(in), len = raw_len;
	unsigned char *raw = evbuffer_pullup(in, -1), *body = raw, *plain = NULL;
	json_t *rec = json_object(), *fields = json_object(), *files = json_object();
	char plan[PLAN_LINE], id[64], name[64], *boundary = NULL, *text;
	const char *error = NULL, *reason = "OK";
	unsigned n = ++count;
	int code = 200, delay = 0;
	char retry_after[64] = "", resp[256];
	uint8_t rnd[16];

	plan_for(n, plan, sizeof(plan));
	json_object_set_new(rec, "n", json_integer(n));
	json_object_set_new(rec, "t_ms", json_integer(now_ms()));
	json_object_set_new(
	    rec, "method",
	    json_string(evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "OTHER"));
	json_object_set_new(rec, "uri", json_string(evhttp_request_get_uri(req)));
	json_object_set_new(rec, "path", path ? json_string(path) : json_null());
	json_object_set_new(rec, "query", query ? json_string(query) : json_null());
	json_object_set_new(rec, "content_type", ctype ? json_string(ctype) : json_null());
	json_object_set_new(rec, "content_encoding", cenc ? json_string(cenc) : json_null());
	json_object_set_new(rec, "host",
	                    evhttp_find_header(in_h, "Host")
	                        ? json_string(evhttp_find_header(in_h, "Host"))
	                        : json_null());
	json_object_set_new(rec, "user_agent",
	                    evhttp_find_header(in_h, "User-Agent")
	                        ? json_string(evhttp_find_header(in_h, "User-Agent"))
	                        : json_null());
	json_object_set_new(rec, "body_bytes", json_integer((json_int_t)raw_len));
	json_object_set_new(rec, "plan", json_string(plan));

	if (cenc && strcmp(cenc, "gzip") == 0) {
		if (gunzip(raw, raw_len, &plain, &len) < 0)
			error = "the body is not valid gzip";
		body = plain;
	} else if (cenc) {
		error = "unknown Content-Encoding";
	}
	if (!error && (!ctype || strncmp(ctype, "multipart/form-data", 19) != 0))
		error = "Content-Type is not multipart/form-data";
	if (!error) {
		boundary = header_param(ctype, "boundary");
		error = parse_multipart(body, len, boundary, n, fields, files);
		json_object_set_new(rec, "decoded_bytes", json_integer((json_int_t)len));
	}
	json_object_set_new(rec, "fields", fields);
	json_object_set_new(rec, "files", files);
	json_object_set_new(rec, "error", error ? json_string(error) : json_null());

	arc4random_buf(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, sizeof(id) - 2 * i, "%02x", rnd[i]);
	if (error) {
		code = 400;
		reason = "Bad Request";
		snprintf(resp, sizeof(resp), "malformed upload: %s\n", error);
	} else if (strncmp(plan, "status ", 7) == 0) {
		const char *ra = strstr(plan, "retry-after=");

		code = atoi(plan + 7);
		reason = "Planned";
		if (ra)
			snprintf(retry_after, sizeof(retry_after), "%s", ra + 12);
		snprintf(resp, sizeof(resp), "planned status %d\n", code);
	} else {
		if (strncmp(plan, "slow ", 5) == 0)
			delay = atoi(plan + 5);
		if (path && strncmp(path, "/api/", 5) == 0) {
			snprintf(name, sizeof(name), "%s", id);
			snprintf(resp, sizeof(resp), "{\"id\":\"%s\"}", name);
		} else {
			snprintf(name, sizeof(name), "bp-%.8s-%.8s-%u", id, id + 8, n);
			snprintf(resp, sizeof(resp), "CrashID=%s\n", name);
		}
		json_object_set_new(rec, "response_id", json_string(name));
	}
	json_object_set_new(rec, "status", json_integer(code));
	text = json_dumps(rec, JSON_INDENT(1));
	{
		char fname[64];

		snprintf(fname, sizeof(fname), "req-%u.json", n);
		write_atomic(fname, text, strlen(text));
	}
	free(text);
	json_decref(rec);
	free(plain);
	free(boundary);

	if (retry_after[0])
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
		                  retry_after);
	if (delay > 0) {
		struct delayed *d = calloc(1, sizeof(*d));
		struct timeval tv = {delay / 1000, (delay % 1000) * 1000};

		d->req = req;
		d->code = code;
		d->body = strdup(resp);
		d->ev = evtimer_new(base, send_later, d);
		evtimer_add(d->ev, &tv);
		evbuffer_free(out);
		return;
	}
	evbuffer_add(out, resp, strlen(resp));
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
	struct evhttp_bound_socket *bound;
	struct evhttp *http;
	struct event *term;
	int port = 0;
	char buf[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else
			dir = NULL;
	}
	if (!dir) {
		fprintf(stderr, "usage: upload-server --dir DIR [--port PORT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_max_body_size(http, BODY_MAX);
	evhttp_set_timeout(http, SERVER_TIMEOUT_S);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_gencb(http, handle, NULL);
	bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port);
	if (!bound) {
		fprintf(stderr, "upload-server: cannot listen on 127.0.0.1:%d: %s\n", port,
		        strerror(errno));
		return 1;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(buf, sizeof(buf), "%d\n", port);
	write_atomic("port", buf, strlen(buf));
	term = evsignal_new(base, SIGTERM, on_term, NULL);
	evsignal_add(term, NULL);
	event_base_dispatch(base);
	event_free(term);
	evhttp_free(http);
	event_base_free(base);
	return 0;
}
