/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the wire protocol (proto/md-proto.c): round trips of every message type, the
 * exact header layout on the wire, and rejection of every malformed input we can think of,
 * plus random corruption of valid messages (fixed seed) that must never crash the decoder.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "md-proto.h"

static uint8_t buf[MD_PROTO_MAX_MESSAGE];

static int make_crash(void)
{
	struct md_proto_enc e;
	uint8_t ctx[23 * 8 + 512];

	for (size_t i = 0; i < sizeof(ctx); i++)
		ctx[i] = (uint8_t)i;
	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_CRASH);
	md_proto_put_u32(&e, MD_TAG_PID, 4242);
	md_proto_put_u32(&e, MD_TAG_TID, 4243);
	md_proto_put_u32(&e, MD_TAG_SIGNO, 11);
	md_proto_put_u32(&e, MD_TAG_SI_CODE, (uint32_t)-6);
	md_proto_put_u64(&e, MD_TAG_FAULT_ADDR, 0x1122334455667788ull);
	md_proto_put_u32(&e, MD_TAG_CONTEXT_KIND, MD_CTX_LINUX_X86_64);
	md_proto_put_bytes(&e, MD_TAG_CONTEXT, ctx, sizeof(ctx));
	md_proto_put_annotation(&e, "version", "1.2.3");
	md_proto_put_annotation(&e, "channel", "");
	return md_proto_finish(&e);
}

START_TEST(crash_round_trip)
{
	struct md_proto_msg m;
	const char *why;
	int n = make_crash();

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(n % 4, 0);
	/* the header on the wire: magic, version, type, payload length, reserved */
	ck_assert_mem_eq(buf, "MDP1", 4);
	ck_assert_uint_eq(buf[4] | buf[5] << 8, 1);
	ck_assert_uint_eq(buf[6] | buf[7] << 8, MD_MSG_CRASH);
	ck_assert_uint_eq((uint32_t)(buf[8] | buf[9] << 8 | buf[10] << 16), (uint32_t)n - 16);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, &why), 0);
	ck_assert_int_eq(m.type, MD_MSG_CRASH);
	ck_assert_uint_eq(m.pid, 4242);
	ck_assert_uint_eq(m.tid, 4243);
	ck_assert_uint_eq(m.signo, 11);
	ck_assert_int_eq(m.si_code, -6);
	ck_assert_uint_eq(m.fault_addr, 0x1122334455667788ull);
	ck_assert_uint_eq(m.context_kind, MD_CTX_LINUX_X86_64);
	ck_assert_uint_eq(m.context_len, 23 * 8 + 512);
	ck_assert_uint_eq(m.context[100], 100);
	ck_assert_uint_eq(m.n_annotations, 2);
	ck_assert_str_eq(m.annotations[0].key, "version");
	ck_assert_str_eq(m.annotations[0].value, "1.2.3");
	ck_assert_str_eq(m.annotations[1].value, "");
}
END_TEST

START_TEST(other_types_round_trip)
{
	struct md_proto_enc e;
	struct md_proto_msg m;
	int n;

	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_HELLO);
	md_proto_put_u32(&e, MD_TAG_VERSION, MD_PROTO_VERSION);
	md_proto_put_str(&e, MD_TAG_NAME, "demo-app");
	n = md_proto_finish(&e);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, NULL), 0);
	ck_assert_str_eq(m.name, "demo-app");

	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_ERROR);
	md_proto_put_u32(&e, MD_TAG_ERRNO, (uint32_t)-EPERM);
	md_proto_put_str(&e, MD_TAG_TEXT, "not allowed");
	n = md_proto_finish(&e);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, NULL), 0);
	ck_assert_int_eq(m.error, -EPERM);
	ck_assert_str_eq(m.text, "not allowed");
	ck_assert_uint_eq(m.text_len, 11);

	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_STATUS_REQUEST);
	n = md_proto_finish(&e);
	ck_assert_int_eq(n, 16);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, NULL), 0);
}
END_TEST

START_TEST(header_errors)
{
	enum md_proto_type t;
	int n = make_crash();
	uint8_t h[16];

	memcpy(h, buf, 16);
	h[0] ^= 1;
	ck_assert_int_eq(md_proto_header(h, &t), -EBADMSG);
	memcpy(h, buf, 16);
	h[4] = 2;
	ck_assert_int_eq(md_proto_header(h, &t), -EPROTONOSUPPORT);
	memcpy(h, buf, 16);
	h[10] = 0x01; /* 64 KiB + payload */
	ck_assert_int_eq(md_proto_header(h, &t), -EMSGSIZE);
	memcpy(h, buf, 16);
	h[6] = 99;
	ck_assert_int_eq(md_proto_header(h, &t), -ENOMSG);
	memcpy(h, buf, 16);
	h[12] = 1; /* reserved must be zero */
	ck_assert_int_eq(md_proto_header(h, &t), -ENOMSG);
	ck_assert_int_gt(n, 16);
}
END_TEST

/* One field of a hand-made message: a u32, a u64, or bytes (when bytes is set). */
struct field {
	uint16_t tag;
	bool u64;
	uint64_t value;
	const char *bytes;
	size_t len;
};

#define U32(t, v)                                                                                  \
	{                                                                                          \
		.tag = (t), .value = (v)                                                           \
	}
#define U64(t, v)                                                                                  \
	{                                                                                          \
		.tag = (t), .u64 = true, .value = (v)                                              \
	}
#define BYTES(t, b, n)                                                                             \
	{                                                                                          \
		.tag = (t), .bytes = (b), .len = (n)                                               \
	}

/* Messages the decoder must refuse with -EBADMSG; each list of fields ends with tag 0. */
static const struct {
	const char *what;
	uint32_t type;
	struct field fields[6];
} malformed[] = {
    {"a missing required field", MD_MSG_CRASH, {U32(MD_TAG_TID, 1)}},
    {"a field another type owns", MD_MSG_DUMP_REQUEST, {U32(MD_TAG_PID, 1), U32(MD_TAG_SIGNO, 11)}},
    {"a repeated field", MD_MSG_DUMP_REQUEST, {U32(MD_TAG_PID, 1), U32(MD_TAG_PID, 2)}},
    {"an integer of the wrong width", MD_MSG_DUMP_REQUEST, {U64(MD_TAG_PID, 1)}},
    {"a string without its terminator",
     MD_MSG_HELLO,
     {U32(MD_TAG_VERSION, 1), BYTES(MD_TAG_NAME, "abc", 3)}},
    {"a string with a NUL inside",
     MD_MSG_HELLO,
     {U32(MD_TAG_VERSION, 1), BYTES(MD_TAG_NAME, "a\0c", 4)}},
    {"context without its kind",
     MD_MSG_CRASH,
     {U32(MD_TAG_TID, 1), U32(MD_TAG_SIGNO, 11), U32(MD_TAG_SI_CODE, 1), U64(MD_TAG_FAULT_ADDR, 0),
      BYTES(MD_TAG_CONTEXT, "xxxx", 4)}},
};

START_TEST(decoder_rejects_malformed_payloads)
{
	struct md_proto_msg m;
	struct md_proto_enc e;
	const char *why;
	int n = make_crash();

	/* every truncation of a valid message */
	for (int cut = 0; cut < n; cut++)
		ck_assert_int_lt(md_proto_decode(buf, (size_t)cut, &m, NULL), 0);
	/* a length field pointing past the end */
	{
		uint8_t copy[4096];

		memcpy(copy, buf, (size_t)n);
		copy[16 + 4] = 0xFF;
		copy[16 + 5] = 0xFF;
		ck_assert_int_eq(md_proto_decode(copy, (size_t)n, &m, &why), -EBADMSG);
		ck_assert_ptr_nonnull(why);
	}
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		md_proto_begin(&e, buf, sizeof(buf), malformed[i].type);
		for (const struct field *f = malformed[i].fields; f->tag; f++) {
			if (f->bytes)
				md_proto_put_bytes(&e, f->tag, f->bytes, f->len);
			else if (f->u64)
				md_proto_put_u64(&e, f->tag, f->value);
			else
				md_proto_put_u32(&e, f->tag, (uint32_t)f->value);
		}
		n = md_proto_finish(&e);
		ck_assert_msg(md_proto_decode(buf, (size_t)n, &m, &why) == -EBADMSG,
		              "%s: not refused", malformed[i].what);
	}
}
END_TEST

START_TEST(limits_are_enforced)
{
	struct md_proto_enc e;
	struct md_proto_msg m;
	char big[MD_PROTO_VALUE_MAX + 2];
	int n;

	/* too many annotations */
	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_DUMP_NOW);
	for (unsigned i = 0; i <= MD_PROTO_ANNOTATIONS_MAX; i++)
		md_proto_put_annotation(&e, "k", "v");
	n = md_proto_finish(&e);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, NULL), -EBADMSG);
	/* a value over its limit */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	md_proto_begin(&e, buf, sizeof(buf), MD_MSG_DUMP_NOW);
	md_proto_put_annotation(&e, "k", big);
	n = md_proto_finish(&e);
	ck_assert_int_eq(md_proto_decode(buf, (size_t)n, &m, NULL), -EBADMSG);
	/* the encoder refuses to overflow a small buffer */
	{
		uint8_t small[40];

		md_proto_begin(&e, small, sizeof(small), MD_MSG_HELLO);
		md_proto_put_str(&e, MD_TAG_NAME, "a name that does not fit in forty bytes");
		ck_assert_int_eq(md_proto_finish(&e), -EMSGSIZE);
	}
}
END_TEST

START_TEST(random_corruption_never_crashes)
{
	uint8_t copy[4096];
	struct md_proto_msg m;
	unsigned seed = 12345;
	int n = make_crash(), accepted = 0;

	for (int round = 0; round < 20000; round++) {
		memcpy(copy, buf, (size_t)n);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % (unsigned)n] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		if (md_proto_decode(copy, (size_t)n, &m, NULL) == 0) {
			accepted++;
			/* whatever was accepted is internally consistent */
			for (size_t i = 0; i < m.n_annotations; i++) {
				ck_assert(m.annotations[i].key >= (const char *)copy);
				ck_assert(m.annotations[i].value < (const char *)copy + n);
			}
			if (m.context)
				ck_assert(m.context + m.context_len <= copy + n);
		}
	}
	/* flips inside the register bytes are legitimately accepted */
	ck_assert_int_gt(accepted, 0);
}
END_TEST

CHECK_SUITE_FN(proto_suite, "proto",
               CHECK_CASE_PLAIN("codec", CHECK_TEST(crash_round_trip),
                                CHECK_TEST(other_types_round_trip), CHECK_TEST(header_errors),
                                CHECK_TEST(decoder_rejects_malformed_payloads),
                                CHECK_TEST(limits_are_enforced),
                                CHECK_TEST(random_corruption_never_crashes)));

CHECK_SUITE("proto", proto_suite);
