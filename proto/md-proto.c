/* SPDX-License-Identifier: MIT */
/*
 * Encoder and strict decoder of the minidumpd wire protocol (see md-proto.h and
 * docs/protocol.md). Everything here is async-signal-safe: no allocation, no stdio, no locks,
 * no errno-dependent library calls. It must never read or write outside the buffers given.
 */
#include <errno.h>
#include <string.h>

#include "md-proto.h"

#define FIELD_HEADER 8u

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static size_t cstrlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void md_proto_begin(struct md_proto_enc *e, void *buf, size_t size, enum md_proto_type type)
{
	e->buf = buf;
	e->size = size > MD_PROTO_MAX_MESSAGE ? MD_PROTO_MAX_MESSAGE : size;
	e->len = 0;
	e->error = 0;
	if (e->size < MD_PROTO_HEADER_SIZE) {
		e->error = -EMSGSIZE;
		return;
	}
	put_le32(e->buf, MD_PROTO_MAGIC);
	e->buf[4] = (uint8_t)MD_PROTO_VERSION;
	e->buf[5] = (uint8_t)(MD_PROTO_VERSION >> 8);
	e->buf[6] = (uint8_t)type;
	e->buf[7] = (uint8_t)((unsigned)type >> 8);
	put_le32(e->buf + 8, 0);
	put_le32(e->buf + 12, 0);
	e->len = MD_PROTO_HEADER_SIZE;
}

/* Appends one field made of up to two pieces (a annotation is key\0 value\0). */
static void put_field(struct md_proto_enc *e, enum md_proto_tag tag, const void *a, size_t alen,
                      const void *b, size_t blen)
{
	size_t len = alen + blen, padded = (len + 3u) & ~(size_t)3u;

	if (e->error)
		return;
	if (len > MD_PROTO_MAX_PAYLOAD || e->len + FIELD_HEADER + padded > e->size) {
		e->error = -EMSGSIZE;
		return;
	}
	e->buf[e->len] = (uint8_t)tag;
	e->buf[e->len + 1] = (uint8_t)((unsigned)tag >> 8);
	e->buf[e->len + 2] = 0;
	e->buf[e->len + 3] = 0;
	put_le32(e->buf + e->len + 4, (uint32_t)len);
	e->len += FIELD_HEADER;
	if (alen)
		memcpy(e->buf + e->len, a, alen);
	if (blen)
		memcpy(e->buf + e->len + alen, b, blen);
	memset(e->buf + e->len + len, 0, padded - len);
	e->len += padded;
}

void md_proto_put_u32(struct md_proto_enc *e, enum md_proto_tag tag, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	put_field(e, tag, b, 4, NULL, 0);
}

void md_proto_put_u64(struct md_proto_enc *e, enum md_proto_tag tag, uint64_t v)
{
	uint8_t b[8];

	put_le32(b, (uint32_t)v);
	put_le32(b + 4, (uint32_t)(v >> 32));
	put_field(e, tag, b, 8, NULL, 0);
}

void md_proto_put_bytes(struct md_proto_enc *e, enum md_proto_tag tag, const void *data, size_t len)
{
	put_field(e, tag, data, len, NULL, 0);
}

void md_proto_put_str(struct md_proto_enc *e, enum md_proto_tag tag, const char *s)
{
	/* strings travel with their terminator, so the decoder can hand out pointers */
	put_field(e, tag, s, cstrlen(s) + 1, NULL, 0);
}

void md_proto_put_annotation(struct md_proto_enc *e, const char *key, const char *value)
{
	put_field(e, MD_TAG_ANNOTATION, key, cstrlen(key) + 1, value, cstrlen(value) + 1);
}

int md_proto_finish(struct md_proto_enc *e)
{
	if (e->error)
		return e->error;
	put_le32(e->buf + 8, (uint32_t)(e->len - MD_PROTO_HEADER_SIZE));
	return (int)e->len;
}

int md_proto_header(const void *hdr, enum md_proto_type *ret_type)
{
	const uint8_t *h = hdr;
	uint32_t type, len;

	if (get_le32(h) != MD_PROTO_MAGIC)
		return -EBADMSG;
	if (get_le16(h + 4) != MD_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	len = get_le32(h + 8);
	if (len > MD_PROTO_MAX_PAYLOAD)
		return -EMSGSIZE;
	type = get_le16(h + 6);
	if (type == 0 || type > MD_MSG_TYPE_MAX || get_le32(h + 12) != 0)
		return -ENOMSG;
	*ret_type = (enum md_proto_type)type;
	return (int)len;
}

/* Which tags each message type accepts, and which it requires. */
#define T(tag) (1u << (tag))
static const struct {
	uint32_t allowed, required;
} rules[MD_MSG_TYPE_MAX + 1] = {
    [MD_MSG_HELLO] = {T(MD_TAG_VERSION) | T(MD_TAG_PID) | T(MD_TAG_NAME) | T(MD_TAG_ANNOTATION),
                      T(MD_TAG_VERSION)},
    [MD_MSG_CRASH] = {T(MD_TAG_PID) | T(MD_TAG_TID) | T(MD_TAG_SIGNO) | T(MD_TAG_SI_CODE) |
                          T(MD_TAG_FAULT_ADDR) | T(MD_TAG_CONTEXT_KIND) | T(MD_TAG_CONTEXT) |
                          T(MD_TAG_ANNOTATION),
                      T(MD_TAG_TID) | T(MD_TAG_SIGNO) | T(MD_TAG_SI_CODE) | T(MD_TAG_FAULT_ADDR)},
    [MD_MSG_DUMP_REQUEST] = {T(MD_TAG_PID) | T(MD_TAG_FLAGS), T(MD_TAG_PID)},
    [MD_MSG_RESULT] = {T(MD_TAG_TEXT), T(MD_TAG_TEXT)},
    [MD_MSG_ERROR] = {T(MD_TAG_ERRNO) | T(MD_TAG_TEXT), T(MD_TAG_ERRNO) | T(MD_TAG_TEXT)},
    [MD_MSG_PING] = {T(MD_TAG_VERSION), 0},
    [MD_MSG_PONG] = {T(MD_TAG_VERSION), 0},
    [MD_MSG_DUMP_NOW] = {T(MD_TAG_TID) | T(MD_TAG_ANNOTATION), 0},
    [MD_MSG_STATUS_REQUEST] = {0, 0},
    [MD_MSG_STATUS] = {T(MD_TAG_TEXT), T(MD_TAG_TEXT)},
};
#undef T

/* A string field: terminated by its last byte, no NUL before. Returns 0 or -EBADMSG. */
static int check_string(const uint8_t *p, uint32_t len, uint32_t max)
{
	if (len == 0 || len - 1 > max || p[len - 1] != 0)
		return -EBADMSG;
	for (uint32_t i = 0; i + 1 < len; i++)
		if (p[i] == 0)
			return -EBADMSG;
	return 0;
}

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		if (why)                                                                           \
			*why = (msg);                                                              \
		return -EBADMSG;                                                                   \
	} while (0)

int md_proto_decode(const void *buf, size_t len, struct md_proto_msg *ret_msg, const char **why)
{
	const uint8_t *p = buf;
	struct md_proto_msg m;
	enum md_proto_type type;
	size_t off = MD_PROTO_HEADER_SIZE;
	int r;

	if (why)
		*why = NULL;
	if (len < MD_PROTO_HEADER_SIZE) {
		if (why)
			*why = "shorter than a header";
		return -EBADMSG;
	}
	r = md_proto_header(p, &type);
	if (r < 0) {
		if (why)
			*why = r == -EBADMSG           ? "bad magic"
			       : r == -EPROTONOSUPPORT ? "unsupported protocol version"
			       : r == -EMSGSIZE        ? "payload over the size limit"
			                               : "unknown message type";
		return r;
	}
	if ((size_t)r != len - MD_PROTO_HEADER_SIZE)
		FAIL("payload length does not match the message");

	memset(&m, 0, sizeof(m));
	m.type = type;
	while (off < len) {
		uint32_t tag, flen, padded;
		const uint8_t *v;

		if (len - off < FIELD_HEADER)
			FAIL("truncated field header");
		tag = get_le16(p + off);
		flen = get_le32(p + off + 4);
		if (get_le16(p + off + 2) != 0)
			FAIL("field flags must be 0");
		off += FIELD_HEADER;
		if (flen > len - off)
			FAIL("field runs past the end of the message");
		padded = (flen + 3u) & ~3u;
		if (padded > len - off)
			FAIL("field padding runs past the end of the message");
		v = p + off;
		off += padded;
		if (tag == 0 || tag > MD_TAG_MAX || !((rules[type].allowed >> tag) & 1u))
			FAIL("field not allowed in this message type");
		if (tag != MD_TAG_ANNOTATION && ((m.fields >> tag) & 1u))
			FAIL("field repeated");
		m.fields |= 1u << tag;
		switch (tag) {
		case MD_TAG_PID:
		case MD_TAG_TID:
		case MD_TAG_SIGNO:
		case MD_TAG_SI_CODE:
		case MD_TAG_CONTEXT_KIND:
		case MD_TAG_ERRNO:
		case MD_TAG_FLAGS:
		case MD_TAG_VERSION: {
			uint32_t x;

			if (flen != 4)
				FAIL("integer field is not 4 bytes");
			x = get_le32(v);
			if (tag == MD_TAG_PID)
				m.pid = x;
			else if (tag == MD_TAG_TID)
				m.tid = x;
			else if (tag == MD_TAG_SIGNO)
				m.signo = x;
			else if (tag == MD_TAG_SI_CODE)
				m.si_code = (int32_t)x;
			else if (tag == MD_TAG_CONTEXT_KIND)
				m.context_kind = x;
			else if (tag == MD_TAG_ERRNO)
				m.error = (int32_t)x;
			else if (tag == MD_TAG_FLAGS)
				m.flags = x;
			else
				m.version = x;
			break;
		}
		case MD_TAG_FAULT_ADDR:
			if (flen != 8)
				FAIL("address field is not 8 bytes");
			m.fault_addr = (uint64_t)get_le32(v) | (uint64_t)get_le32(v + 4) << 32;
			break;
		case MD_TAG_CONTEXT:
			if (flen > MD_PROTO_CONTEXT_MAX)
				FAIL("register context too large");
			m.context = v;
			m.context_len = flen;
			break;
		case MD_TAG_NAME:
			if (check_string(v, flen, MD_PROTO_NAME_MAX) < 0)
				FAIL("bad process name");
			m.name = (const char *)v;
			break;
		case MD_TAG_TEXT:
			if (check_string(v, flen, MD_PROTO_TEXT_MAX) < 0)
				FAIL("bad text");
			m.text = (const char *)v;
			m.text_len = flen - 1;
			break;
		case MD_TAG_ANNOTATION: {
			uint32_t klen = 0;

			if (m.n_annotations >= MD_PROTO_ANNOTATIONS_MAX)
				FAIL("too many annotations");
			while (klen < flen && v[klen])
				klen++;
			if (klen == 0 || klen > MD_PROTO_KEY_MAX || klen + 1 >= flen)
				FAIL("bad annotation key");
			if (check_string(v + klen + 1, flen - klen - 1, MD_PROTO_VALUE_MAX) < 0)
				FAIL("bad annotation value");
			m.annotations[m.n_annotations].key = (const char *)v;
			m.annotations[m.n_annotations].value = (const char *)v + klen + 1;
			m.n_annotations++;
			break;
		}
		default:
			FAIL("unknown field");
		}
		/* padding must be zero, so a message has one encoding */
		for (uint32_t i = flen; i < padded; i++)
			if (v[i] != 0)
				FAIL("non-zero padding");
	}
	if ((m.fields & rules[type].required) != rules[type].required)
		FAIL("a required field is missing");
	if (MD_PROTO_HAS(&m, MD_TAG_CONTEXT) != MD_PROTO_HAS(&m, MD_TAG_CONTEXT_KIND))
		FAIL("register context without its kind, or the reverse");
	*ret_msg = m;
	return 0;
}

const char *md_proto_type_to_string(uint32_t type)
{
	static const char *const names[MD_MSG_TYPE_MAX + 1] = {
	    [MD_MSG_HELLO] = "hello",
	    [MD_MSG_CRASH] = "crash",
	    [MD_MSG_DUMP_REQUEST] = "dump-request",
	    [MD_MSG_RESULT] = "result",
	    [MD_MSG_ERROR] = "error",
	    [MD_MSG_PING] = "ping",
	    [MD_MSG_PONG] = "pong",
	    [MD_MSG_DUMP_NOW] = "dump-now",
	    [MD_MSG_STATUS_REQUEST] = "status-request",
	    [MD_MSG_STATUS] = "status",
	};

	return type <= MD_MSG_TYPE_MAX && names[type] ? names[type] : "unknown";
}
