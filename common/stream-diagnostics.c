/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics writer (our user stream 0x6D640001, documented in docs/dumper.md): a UTF-8 JSON
 * document listing the status of every stream written before it and every thread, module,
 * memory range or stream that could not be captured, with the reason. It is the last stream,
 * so it sees everything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-escape.h"
#include "md-os.h"
#include "md-streams.h"

/* The document is written here by hand, not with a JSON library: this writer runs in the
 * privileged capture worker, which links none (docs/security.md). The output is what jansson's
 * compact form would be: keys in order, no spaces, control characters as \uXXXX (or \n, \t,
 * ...), invalid UTF-8 as the text "\xHH" (md_escape), other UTF-8 as it is. */
struct text {
	char *buf;
	size_t len, size;
	bool failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->size) {
		size_t size = (t->len + n + 1) * 2;
		char *b = realloc(t->buf, size);

		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->size = size;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void lit(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void putf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct text *t, const char *fmt, ...)
{
	char b[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	put(t, b, n < 0 ? 0 : (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* A JSON string of text (NULL: ""), its invalid UTF-8 escaped first. */
static void put_string(struct text *t, const char *text)
{
	size_t len = text ? strlen(text) : 0;
	char *safe = malloc(MD_ESCAPE_SIZE(len));

	if (!safe) {
		t->failed = true;
		return;
	}
	md_escape(text ? text : "", len, safe, MD_ESCAPE_SIZE(len), MD_ESCAPE_KEEP_CONTROLS);
	lit(t, "\"");
	for (const unsigned char *c = (const unsigned char *)safe; *c; c++) {
		static const char special[] = "\"\\\b\f\n\r\t", named[] = "\"\\bfnrt";
		const char *at = strchr(special, *c);

		if (at) {
			const char seq[3] = {'\\', named[at - special], '\0'};

			lit(t, seq);
		} else if (*c < 0x20) {
			putf(t, "\\u%04X", *c);
		} else {
			put(t, (const char *)c, 1);
		}
	}
	lit(t, "\"");
	free(safe);
}

static void put_problems(struct text *t, const struct md_diag *d)
{
	lit(t, "[");
	for (size_t i = 0; i < d->count; i++) {
		const struct md_diag_entry *e = &d->entries[i];

		lit(t, i ? ",{\"kind\":" : "{\"kind\":");
		put_string(t, md_diag_kind_to_string(e->kind));
		putf(t, ",\"id\":%lld,\"errno\":%d,\"error\":", (long long)e->id, -e->error);
		put_string(t, md_os_strerror(-e->error));
		lit(t, ",\"message\":");
		put_string(t, e->message);
		lit(t, "}");
	}
	lit(t, "]");
}

int md_stream_diagnostics(struct md_dump_ctx *c, unsigned arg, md_location *ret_loc,
                          enum md_stream_status *ret_status)
{
	const struct md_dump_result *res = c->result;
	struct text t = {0};
	uint32_t rva;
	int r;

	lit(&t, "{\"writer\":\"minidumpd\",\"version\":1,\"streams\":[");
	for (size_t i = 0; i < res->n_streams; i++) {
		lit(&t, i ? ",{\"name\":" : "{\"name\":");
		put_string(&t, res->streams[i].name);
		putf(&t, ",\"type\":%lld,\"status\":", (long long)res->streams[i].type);
		put_string(&t, md_stream_status_to_string(res->streams[i].status));
		lit(&t, "}");
	}
	lit(&t, "],\"problems\":");
	put_problems(&t, &c->s->diag);
	putf(&t, ",\"dropped\":%lld,\"target_gone\":%s}", (long long)c->s->diag.dropped,
	     c->s->target_gone ? "true" : "false");
	if (t.failed) {
		free(t.buf);
		return -ENOMEM;
	}
	r = md_writer_append(c->w, t.buf, t.len, &rva);
	free(t.buf);
	if (r < 0)
		return r;
	*ret_loc = (md_location){.data_size = (uint32_t)t.len, .rva = rva};
	*ret_status = MD_STREAM_OK;
	return 0;
}
