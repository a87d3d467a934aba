/* SPDX-License-Identifier: MIT */
/*
 * The annotation table of libmdclient, the same on every OS (mdclient-annotations.c): the
 * writer behind md_client_annotate() and the reader that copies the pairs into a CRASH,
 * DUMP_NOW or HELLO message. The reader runs on the crash path without a lock while a writer
 * may be changing a slot, so slots are written byte by byte with atomic stores under a
 * seqlock-style counter; the reader never allocates, locks or waits. Internal; never
 * installed.
 */
#pragma once

#include "md-proto.h"

/* One annotation slot. Both arrays keep a NUL in their last byte at all times, so a reader
 * that races with a writer sees a (possibly torn) string that ends inside the slot. seq is
 * odd while a writer changes the slot, so the crash handler can retry a torn copy. */
struct md_shim_annotation {
	int used;     /* 1 when the slot holds a pair; read with __atomic_load_n */
	unsigned seq; /* bumped before and after each change; read with __atomic_load_n */
	char key[MD_PROTO_KEY_MAX + 1];
	char value[MD_PROTO_VALUE_MAX + 1];
};

/* Sets key to value in table (MD_PROTO_ANNOTATIONS_MAX slots), replacing its value if it is
 * set, or removes it when value is NULL. The caller holds the lock that serializes writers;
 * readers need none. Returns 0, -EINVAL for an empty key, -E2BIG for a key or value over
 * MD_PROTO_KEY_MAX or MD_PROTO_VALUE_MAX bytes, -ENOENT to remove a key that is not set, or
 * -ENOSPC when all slots are taken. */
int md_shim_annotation_set(struct md_shim_annotation *table, const char *key, const char *value);

/* Async-signal-safe. Appends every annotation of table to e through the caller's scratch
 * buffers (MD_PROTO_KEY_MAX + 1 and MD_PROTO_VALUE_MAX + 1 bytes). */
void md_shim_annotations_put(const struct md_shim_annotation *table, struct md_proto_enc *e,
                             char *key_scratch, char *value_scratch);
