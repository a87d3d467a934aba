/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the wire protocol decoder, the code that reads what any local process
 * sends the privileged daemon. For every input it runs the header check and the decoder the
 * way the daemon does, then checks what a user of the decoder relies on: a rejected message
 * says why; an accepted one has every pointer inside the input, every string terminated
 * within its field and within its limit, and re-encoding its fields in the same order gives
 * the very same bytes, which decode to the same values (a message has exactly one encoding). It
 * must never find a crash, an over-read or an accepted message that disagrees with itself. Seeds
 * live in tests/corpus/proto/ (tests/fuzz/make-proto-seeds writes them); tests/fuzz/run-fuzzers
 * builds and runs it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t reencoded[MD_PROTO_MAX_MESSAGE];

static void check(int ok)
{
	if (!ok)
		abort();
}

/* The message's 32-bit fields: their tag and where the decoder keeps them (uint32_t or
 * int32_t, sent as a u32). */
static const struct {
	uint32_t tag;
	size_t off;
} u32_fields[] = {
    {MD_TAG_PID, offsetof(struct md_proto_msg, pid)},
    {MD_TAG_TID, offsetof(struct md_proto_msg, tid)},
    {MD_TAG_SIGNO, offsetof(struct md_proto_msg, signo)},
    {MD_TAG_SI_CODE, offsetof(struct md_proto_msg, si_code)},
    {MD_TAG_CONTEXT_KIND, offsetof(struct md_proto_msg, context_kind)},
    {MD_TAG_ERRNO, offsetof(struct md_proto_msg, error)},
    {MD_TAG_FLAGS, offsetof(struct md_proto_msg, flags)},
    {MD_TAG_VERSION, offsetof(struct md_proto_msg, version)},
};
#define N_U32_FIELDS (sizeof(u32_fields) / sizeof(u32_fields[0]))

static uint32_t u32_field(const struct md_proto_msg *m, size_t i)
{
	uint32_t v;

	memcpy(&v, (const char *)m + u32_fields[i].off, sizeof(v));
	return v;
}

/* Re-encodes m's 32-bit field of this tag; false if tag is not one. */
static bool put_u32_field(struct md_proto_enc *e, const struct md_proto_msg *m, uint32_t tag)
{
	for (size_t i = 0; i < N_U32_FIELDS; i++) {
		if (u32_fields[i].tag == tag) {
			md_proto_put_u32(e, tag, u32_field(m, i));
			return true;
		}
	}
	return false;
}

/* p points into [data, data + size) and so does the string it starts, NUL included. */
static size_t check_string(const uint8_t *data, size_t size, const char *s, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	check(p >= data && p < data + size);
	while (p + n < data + size && p[n])
		n++;
	check(p + n < data + size);
	check(n <= max);
	return n;
}

/* Encodes m again, its fields in the order the input has them (the input was accepted, so
 * its field headers can be walked without checks); returns the length or -errno. */
static int reencode(const uint8_t *data, size_t size, const struct md_proto_msg *m)
{
	struct md_proto_enc e;
	size_t off = MD_PROTO_HEADER_SIZE, annotation = 0;

	md_proto_begin(&e, reencoded, sizeof(reencoded), m->type);
	while (off + 8 <= size) {
		uint32_t tag = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8;
		uint32_t len = (uint32_t)data[off + 4] | (uint32_t)data[off + 5] << 8 |
		               (uint32_t)data[off + 6] << 16 | (uint32_t)data[off + 7] << 24;

		off += 8 + ((len + 3u) & ~3u);
		if (put_u32_field(&e, m, tag))
			continue;
		switch (tag) {
		case MD_TAG_FAULT_ADDR:
			md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, m->fault_addr);
			break;
		case MD_TAG_CONTEXT:
			md_proto_put_bytes(&e, MD_TAG_CONTEXT, m->context, m->context_len);
			break;
		case MD_TAG_NAME:
			md_proto_put_str(&e, MD_TAG_NAME, m->name);
			break;
		case MD_TAG_ANNOTATION:
			check(annotation < m->n_annotations);
			md_proto_put_annotation(&e, m->annotations[annotation].key,
			                        m->annotations[annotation].value);
			annotation++;
			break;
		case MD_TAG_TEXT:
			md_proto_put_str(&e, MD_TAG_TEXT, m->text);
			break;
		default:
			check(0); /* the decoder accepted a tag it does not know */
		}
	}
	check(off == size && annotation == m->n_annotations);
	return md_proto_finish(&e);
}

static void check_same(const struct md_proto_msg *a, const struct md_proto_msg *b)
{
	check(a->type == b->type && a->fields == b->fields);
	for (size_t i = 0; i < N_U32_FIELDS; i++)
		check(u32_field(a, i) == u32_field(b, i));
	check(a->fault_addr == b->fault_addr && a->context_len == b->context_len);
	check(a->n_annotations == b->n_annotations);
	if (a->context_len)
		check(memcmp(a->context, b->context, a->context_len) == 0);
	check(!a->name == !b->name && (!a->name || strcmp(a->name, b->name) == 0));
	check(!a->text == !b->text && (!a->text || strcmp(a->text, b->text) == 0));
	for (size_t i = 0; i < a->n_annotations; i++) {
		check(strcmp(a->annotations[i].key, b->annotations[i].key) == 0);
		check(strcmp(a->annotations[i].value, b->annotations[i].value) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_proto_msg m, again;
	enum md_proto_type type;
	const char *why = NULL;
	int hdr = -1, r, n;

	/* the daemon reads the header first, as soon as 16 bytes are there */
	if (size >= MD_PROTO_HEADER_SIZE) {
		hdr = md_proto_header(data, &type);
		check(hdr == -EBADMSG || hdr == -EPROTONOSUPPORT || hdr == -EMSGSIZE ||
		      hdr == -ENOMSG || (hdr >= 0 && (unsigned)hdr <= MD_PROTO_MAX_PAYLOAD));
	}

	r = md_proto_decode(data, size, &m, &why);
	if (r < 0) {
		check(why != NULL && why[0] != '\0');
		check(r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE || r == -ENOMSG);
		return 0;
	}

	/* accepted: the header agreed and the whole input is the message */
	check(hdr >= 0 && (size_t)hdr + MD_PROTO_HEADER_SIZE == size && type == m.type);
	check(size % 4 == 0 && size <= MD_PROTO_MAX_MESSAGE);
	check(m.n_annotations <= MD_PROTO_ANNOTATIONS_MAX);
	if (m.name)
		check_string(data, size, m.name, MD_PROTO_NAME_MAX);
	if (m.text)
		check(check_string(data, size, m.text, MD_PROTO_TEXT_MAX) == m.text_len);
	if (m.context) {
		check(m.context >= data && m.context + m.context_len <= data + size);
		check(m.context_len <= MD_PROTO_CONTEXT_MAX);
		check(MD_PROTO_HAS(&m, MD_TAG_CONTEXT_KIND));
	}
	for (size_t i = 0; i < m.n_annotations; i++) {
		size_t k = check_string(data, size, m.annotations[i].key, MD_PROTO_KEY_MAX);

		check(k > 0);
		check(m.annotations[i].value == m.annotations[i].key + k + 1);
		check_string(data, size, m.annotations[i].value, MD_PROTO_VALUE_MAX);
	}
	check(md_proto_type_to_string(m.type)[0] != '\0');

	/* the same fields in the same order encode to the same bytes, which decode the same */
	n = reencode(data, size, &m);
	check(n >= 0 && (size_t)n == size && memcmp(reencoded, data, size) == 0);
	check(md_proto_decode(reencoded, (size_t)n, &again, NULL) == 0);
	check_same(&m, &again);
	return 0;
}
