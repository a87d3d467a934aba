/* SPDX-License-Identifier: MIT */
/*
 * Building the multipart/form-data body of an upload (RFC 7578) and compressing it with zlib,
 * and reading the server's answer. The boundary is random and checked against every part, so
 * no content can end a part early. Nothing here touches files or the network.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "upload-form.h"

#define BOUNDARY_TRIES 16 /* fresh boundaries tried before giving up on a body */

static bool field_name_ok(const char *s)
{
	if (!s[0] || strlen(s) >= MD_UPLOAD_FIELD_KEY_MAX || strcmp(s, "upload_file_minidump") == 0)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f)
			return false;
	return true;
}

static int set_str(json_t *o, const char *key, const char *value)
{
	return json_object_set_new(o, key, json_string(value)) == 0 ? 0 : -ENOMEM;
}

json_t *mdu_upload_form_fields(const struct mdu_upload_server *srv, const struct md_report *report,
                               size_t *ret_dropped)
{
	json_t *fields = json_object();
	const char *prod = report->process_name, *exe = report->executable, *id = report->id;
	const char *kind = md_report_kind_to_string(report->kind);
	const char *sig = report->signal[0] ? report->signal : NULL, *version = NULL;
	size_t dropped = 0;

	if (!fields)
		return NULL;
	if ((!prod || !prod[0]) && exe && exe[0])
		prod = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	if (set_str(fields, "prod", prod && prod[0] ? prod : "unknown") < 0)
		goto fail;
	for (size_t i = 0; i < report->n_annotations; i++)
		if (strcmp(report->keys[i], "version") == 0)
			version = report->values[i];
	if (version && set_str(fields, "ver", version) < 0)
		goto fail;
	if (id && set_str(fields, "minidumpd_id", id) < 0)
		goto fail;
	if (kind && set_str(fields, "minidumpd_kind", kind) < 0)
		goto fail;
	if (sig && set_str(fields, "minidumpd_signal", sig) < 0)
		goto fail;
	for (size_t i = 0; i < report->n_annotations; i++) {
		if (!field_name_ok(report->keys[i])) {
			dropped++;
			continue;
		}
		if (set_str(fields, report->keys[i], report->values[i]) < 0)
			goto fail;
	}
	for (size_t i = 0; i < srv->n_fields; i++)
		if (set_str(fields, srv->field_keys[i], srv->field_values[i]) < 0)
			goto fail;
	*ret_dropped = dropped;
	return fields;
fail:
	json_decref(fields);
	return NULL;
}

/* A growing byte buffer that stops at MD_UPLOAD_BODY_HARD_MAX. */
struct buf {
	unsigned char *p;
	size_t len, cap;
	int error;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->error)
		return;
	if (len > MD_UPLOAD_BODY_HARD_MAX - b->len) {
		b->error = -EFBIG;
		return;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->error = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void new_boundary(char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[MD_UPLOAD_BOUNDARY_HEX / 2];
	size_t n = 0;

	arc4random_buf(rnd, sizeof(rnd)); /* glibc 2.36, macOS, the BSDs */
	n = (size_t)snprintf(out, size, "mdupload-");
	for (size_t i = 0; i < sizeof(rnd) && n + 2 < size; i++) {
		out[n++] = hex[rnd[i] >> 4];
		out[n++] = hex[rnd[i] & 15];
	}
	out[n] = '\0';
}

static bool contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

static int gzip_body(const unsigned char *in, size_t len, unsigned char **ret, size_t *ret_len)
{
	z_stream z = {0};
	unsigned char *out;
	uLong cap;
	int r;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, (uLong)len);
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	r = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	*ret_len = (size_t)(cap - z.avail_out);
	return 0;
}

int mdu_upload_form_build(const struct mdu_upload_server *srv, const struct md_report *report,
                          const void *dump, size_t dump_len, struct mdu_upload_body *ret_body)
{
	const char *id = report->id;
	char boundary[16 + MD_UPLOAD_BOUNDARY_HEX], line[MD_UPLOAD_FIELD_KEY_MAX + 160];
	struct buf b = {0};
	json_t *fields, *v;
	const char *key;
	size_t dropped = 0;
	int r, tries;

	if (dump_len > UINT32_MAX && srv->gzip)
		return -EFBIG; /* zlib takes a 32-bit length in one call */
	fields = mdu_upload_form_fields(srv, report, &dropped);
	if (!fields)
		return -ENOMEM;
	for (tries = 0; tries < BOUNDARY_TRIES; tries++) {
		bool clash;

		new_boundary(boundary, sizeof(boundary));
		clash = contains(dump, dump_len, boundary);
		json_object_foreach(fields, key, v) clash =
		    clash || contains(key, strlen(key), boundary) ||
		    contains(json_string_value(v), json_string_length(v), boundary);
		if (!clash)
			break;
	}
	if (tries == BOUNDARY_TRIES) {
		r = -EAGAIN;
		goto out;
	}
	json_object_foreach(fields, key, v)
	{
		snprintf(line, sizeof(line),
		         "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n", boundary,
		         key);
		puts_(&b, line);
		put(&b, json_string_value(v), json_string_length(v));
		puts_(&b, "\r\n");
	}
	snprintf(line, sizeof(line),
	         "--%s\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; "
	         "filename=\"%.128s.dmp\"\r\nContent-Type: application/octet-stream\r\n\r\n",
	         boundary, id && md_store_id_valid(id) ? id : "minidump");
	puts_(&b, line);
	put(&b, dump, dump_len);
	snprintf(line, sizeof(line), "\r\n--%s--\r\n", boundary);
	puts_(&b, line);
	r = b.error;
	if (r < 0)
		goto out;
	memset(ret_body, 0, sizeof(*ret_body));
	ret_body->raw_len = b.len;
	ret_body->n_fields = json_object_size(fields);
	ret_body->n_dropped = dropped;
	snprintf(ret_body->content_type, sizeof(ret_body->content_type),
	         "multipart/form-data; boundary=%s", boundary);
	if (srv->gzip) {
		r = gzip_body(b.p, b.len, &ret_body->data, &ret_body->len);
		if (r < 0)
			goto out;
		ret_body->gzip = true;
	} else {
		ret_body->data = b.p;
		ret_body->len = b.len;
		b.p = NULL;
	}
out:
	free(b.p);
	json_decref(fields);
	return r;
}

void mdu_upload_body_done(struct mdu_upload_body *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* Copies a token, keeping only printable ASCII other than quotes and backslashes. */
static void copy_token(const char *s, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		if (s[i] > ' ' && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			buf[n++] = s[i];
	buf[n] = '\0';
}

void mdu_upload_response_id(const char *body, size_t len, char *buf, size_t size)
{
	const char *p, *end = body + len;
	json_t *j;

	buf[0] = '\0';
	if (!body || !len || !size)
		return;
	j = json_loadb(body, len, 0, NULL);
	if (json_is_object(j)) {
		static const char *const keys[] = {"id", "_rxid", "crash_id", "uuid"};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !buf[0]; i++) {
			json_t *v = json_object_get(j, keys[i]);

			if (json_is_string(v))
				copy_token(json_string_value(v), json_string_length(v), buf, size);
		}
		json_decref(j);
		return;
	}
	json_decref(j);
	p = memmem(body, len, "CrashID=", 8);
	if (p) {
		const char *q = p + 8;

		while (q < end && !isspace((unsigned char)*q))
			q++;
		copy_token(p + 8, (size_t)(q - p - 8), buf, size);
		return;
	}
	/* a bare token on the first line: Crashpad's servers answer with just the id */
	for (p = body; p < end && isspace((unsigned char)*p); p++)
		;
	{
		const char *q = p;

		while (q < end && *q != '\n' && *q != '\r')
			q++;
		while (q > p && isspace((unsigned char)q[-1]))
			q--;
		if (q > p && (size_t)(q - p) < size && (size_t)(q - p) <= 128) {
			for (const char *c = p; c < q; c++)
				if (*c <= ' ' || *c >= 0x7f || *c == '<')
					return; /* a sentence or HTML, not an id */
			copy_token(p, (size_t)(q - p), buf, size);
		}
	}
}

int mdu_upload_retry_after(const char *value, time_t now, long *ret_seconds)
{
	struct tm tm = {0};
	const char *end;
	long s = 0;

	if (!value)
		return -EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		for (end = value; isdigit((unsigned char)*end); end++)
			if (s <= MD_UPLOAD_RETRY_AFTER_MAX)
				s = s * 10 + (*end - '0');
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			return -EINVAL;
	} else {
		/* IMF-fixdate, the form RFC 9110 requires senders to use */
		end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (!end || *end)
			return -EINVAL;
		s = (long)(timegm(&tm) - now);
	}
	if (s < 0)
		s = 0;
	if (s > MD_UPLOAD_RETRY_AFTER_MAX)
		s = MD_UPLOAD_RETRY_AFTER_MAX;
	*ret_seconds = s;
	return 0;
}
