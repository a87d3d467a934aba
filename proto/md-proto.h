/* SPDX-License-Identifier: MIT */
/*
 * The minidumpd wire protocol, shared by the client shim, the daemon and mdctl (documented in
 * docs/protocol.md). A message is a 16-byte header (magic, version, type, payload length)
 * followed by a payload of tagged fields, all little-endian. The decoder trusts no length:
 * every field is checked against the payload and every message against MD_PROTO_MAX_MESSAGE.
 *
 * The encoder is async-signal-safe (no allocation, no locks, no stdio): the client's crash
 * handler builds its message with it into a buffer prepared at init. The decoder is too, but
 * only the daemon uses it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the daemon listens unless told otherwise ($MINIDUMPD_SOCKET overrides it for clients).
 * The Windows build sets its named pipe, \\.\pipe\minidumpd, from platform/windows/meson.build. */
#ifndef MD_PROTO_SOCKET_DEFAULT
#define MD_PROTO_SOCKET_DEFAULT "/run/minidumpd/minidumpd.sock"
#endif

#define MD_PROTO_MAGIC       0x3150444Du /* "MDP1" on disk */
#define MD_PROTO_VERSION     1u
#define MD_PROTO_HEADER_SIZE 16u
#define MD_PROTO_MAX_MESSAGE (64u * 1024u) /* bytes, header included: hard limit both ways */
#define MD_PROTO_MAX_PAYLOAD (MD_PROTO_MAX_MESSAGE - MD_PROTO_HEADER_SIZE)

/* Limits on what a client may send, each enforced by the decoder. */
#define MD_PROTO_ANNOTATIONS_MAX 32u   /* key/value pairs per message */
#define MD_PROTO_KEY_MAX         64u   /* bytes of a key, NUL excluded */
#define MD_PROTO_VALUE_MAX       1024u /* bytes of a value, NUL excluded */
#define MD_PROTO_NAME_MAX        256u  /* bytes of a process name, NUL excluded */
#define MD_PROTO_CONTEXT_MAX     4096u /* bytes of a raw register context */
#define MD_PROTO_TEXT_MAX        (MD_PROTO_MAX_PAYLOAD - 64u) /* JSON result / error text */

enum md_proto_type {
	MD_MSG_HELLO = 1,        /* client -> daemon: registration */
	MD_MSG_CRASH = 2,        /* client -> daemon: I crashed, dump me */
	MD_MSG_DUMP_REQUEST = 3, /* mdctl -> daemon: dump process PID */
	MD_MSG_RESULT = 4,       /* daemon -> peer: JSON report */
	MD_MSG_ERROR = 5,        /* daemon -> peer: errno and text */
	MD_MSG_PING = 6,
	MD_MSG_PONG = 7,
	MD_MSG_DUMP_NOW = 8,       /* client -> daemon: dump me, I keep running */
	MD_MSG_STATUS_REQUEST = 9, /* mdctl -> daemon */
	MD_MSG_STATUS = 10,        /* daemon -> mdctl: JSON */
	MD_MSG_TYPE_MAX = MD_MSG_STATUS,
};

/* Field tags. Each field is: u16 tag, u16 flags (0), u32 length, then length bytes, padded
 * with zeros to a multiple of 4 bytes. */
enum md_proto_tag {
	MD_TAG_PID = 1,          /* u32 */
	MD_TAG_TID = 2,          /* u32 */
	MD_TAG_SIGNO = 3,        /* u32 */
	MD_TAG_SI_CODE = 4,      /* i32 */
	MD_TAG_FAULT_ADDR = 5,   /* u64 */
	MD_TAG_CONTEXT_KIND = 6, /* u32, enum md_proto_context_kind */
	MD_TAG_CONTEXT = 7,      /* bytes, layout per kind */
	MD_TAG_NAME = 8,         /* UTF-8 process name */
	MD_TAG_ANNOTATION = 9,   /* "key\0value" (repeatable) */
	MD_TAG_TEXT = 10,        /* UTF-8 text (JSON for RESULT/STATUS, message for ERROR) */
	MD_TAG_ERRNO = 11,       /* i32, a negative errno */
	MD_TAG_FLAGS = 12,       /* u32, request options */
	MD_TAG_VERSION = 13,     /* u32, the sender's protocol version */
	MD_TAG_MAX = MD_TAG_VERSION,
};

/* How the registers in MD_TAG_CONTEXT are laid out: the client sends what its signal handler
 * has, and the daemon's platform code converts it. */
enum md_proto_context_kind {
	MD_CTX_NONE = 0,
	MD_CTX_LINUX_X86_64 = 1, /* mcontext_t gregs[23] (u64 each) then the 512-byte FXSAVE area */
	MD_CTX_LINUX_AARCH64 = 2, /* x0-x30, sp, pc, pstate (u64 each), fpsr, fpcr (u32), v0-v31 */
	MD_CTX_WIN_AMD64 = 3,     /* Windows x64 CONTEXT, as mdclient.dll sends it */
};

struct md_proto_annotation {
	const char *key; /* points into the decoded buffer */
	const char *value;
};

/* A decoded message. Pointers point into the buffer given to md_proto_decode(). */
struct md_proto_msg {
	enum md_proto_type type;
	uint32_t fields; /* bit (1 << tag) for each tag present */
	uint32_t pid, tid, signo, context_kind, flags, version;
	int32_t si_code, error;
	uint64_t fault_addr;
	const uint8_t *context;
	uint32_t context_len;
	const char *name;
	const char *text;
	uint32_t text_len;
	size_t n_annotations;
	struct md_proto_annotation annotations[MD_PROTO_ANNOTATIONS_MAX];
};

#define MD_PROTO_HAS(msg, tag) (((msg)->fields >> (tag)) & 1u)

/* Encoder over a caller-owned buffer. Async-signal-safe. Errors are sticky: check once at
 * md_proto_finish(). */
struct md_proto_enc {
	uint8_t *buf;
	size_t size; /* capacity */
	size_t len;
	int error;
};

void md_proto_begin(struct md_proto_enc *e, void *buf, size_t size, enum md_proto_type type);
void md_proto_put_u32(struct md_proto_enc *e, enum md_proto_tag tag, uint32_t v);
void md_proto_put_u64(struct md_proto_enc *e, enum md_proto_tag tag, uint64_t v);
void md_proto_put_bytes(struct md_proto_enc *e, enum md_proto_tag tag, const void *data,
                        size_t len);
void md_proto_put_str(struct md_proto_enc *e, enum md_proto_tag tag, const char *s);
void md_proto_put_annotation(struct md_proto_enc *e, const char *key, const char *value);
/* Fills in the payload length. Returns the message size, or -EMSGSIZE/-EINVAL. */
int md_proto_finish(struct md_proto_enc *e);

/*
 * Reads a header. Returns the payload length (>= 0) when the header is valid, or -EBADMSG
 * (bad magic), -EPROTONOSUPPORT (other version), -EMSGSIZE (payload over the limit),
 * -ENOMSG (unknown type). ret_type is written only on success.
 */
int md_proto_header(const void *hdr, enum md_proto_type *ret_type);

/* Decodes a whole message (header and payload, exactly len bytes). Returns 0 or -EBADMSG and
 * the like; on error, why (if not NULL) gets a static explanation. */
int md_proto_decode(const void *buf, size_t len, struct md_proto_msg *ret_msg, const char **why);

const char *md_proto_type_to_string(uint32_t type);
