/* SPDX-License-Identifier: MIT */
/*
 * The annotation table of libmdclient on every OS (see mdclient-annotations.h). The writer runs
 * in normal context under its caller's lock; the reader runs on the crash path (in a signal
 * handler on POSIX, on the reporter thread on Windows) and is async-signal-safe: relaxed and
 * acquire atomic loads into the caller's static scratch buffers, and the protocol encoder;
 * never malloc, locks or waiting for the writer, which may be the crashed thread.
 */
#include <errno.h>
#include <string.h>

#include "mdclient-annotations.h"

#define ANNOTATION_COPY_TRIES 4 /* copies of a slot being changed, then sent */

int md_shim_annotation_set(struct md_shim_annotation *table, const char *key, const char *value)
{
	struct md_shim_annotation *slot = NULL, *free_slot = NULL;
	size_t klen, vlen = 0;

	if (!key || !*key)
		return -EINVAL;
	klen = strlen(key);
	if (klen > MD_PROTO_KEY_MAX)
		return -E2BIG;
	if (value) {
		vlen = strlen(value);
		if (vlen > MD_PROTO_VALUE_MAX)
			return -E2BIG;
	}
	for (unsigned i = 0; i < MD_PROTO_ANNOTATIONS_MAX; i++) {
		struct md_shim_annotation *a = &table[i];

		if (!a->used) {
			if (!free_slot)
				free_slot = a;
		} else if (strcmp(a->key, key) == 0) {
			slot = a;
			break;
		}
	}
	if (!value) {
		if (!slot)
			return -ENOENT;
		__atomic_store_n(&slot->used, 0, __ATOMIC_RELEASE);
		return 0;
	}
	if (!slot) {
		if (!free_slot)
			return -ENOSPC;
		slot = free_slot;
	}
	/* Byte by byte with atomic stores, because the crash path may be reading the slot
	 * without a lock; seq is odd meanwhile, and the last byte of each array stays NUL. */
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (slot == free_slot)
		for (size_t i = 0; i <= klen; i++)
			__atomic_store_n(&slot->key[i], key[i], __ATOMIC_RELAXED);
	for (size_t i = 0; i <= vlen; i++)
		__atomic_store_n(&slot->value[i], value[i], __ATOMIC_RELAXED);
	__atomic_store_n(&slot->seq, slot->seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&slot->used, 1, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Async-signal-safe. Copies a string out of an annotation slot that a writer may be changing,
 * one relaxed atomic byte at a time, never reading past the slot: the copy ends at the first
 * NUL or at size - 1 bytes.
 */
static void copy_slot(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		if (!dst[i])
			return;
	}
	dst[i] = 0;
}

/*
 * Async-signal-safe. Each pair is copied through the scratch buffers first, so that the
 * encoder measures a string that cannot change under it. A copy that raced with a writer (the
 * slot's seq moved) is retried a few times and then sent as it is; it cannot wait for the
 * writer, which may be the crashed thread. A slot caught half rewritten with an empty key is
 * left out: the daemon would reject the whole message.
 */
void md_shim_annotations_put(const struct md_shim_annotation *table, struct md_proto_enc *e,
                             char *key_scratch, char *value_scratch)
{
	for (unsigned i = 0; i < MD_PROTO_ANNOTATIONS_MAX; i++) {
		const struct md_shim_annotation *a = &table[i];

		if (!__atomic_load_n(&a->used, __ATOMIC_ACQUIRE))
			continue;
		for (unsigned try = 0; try < ANNOTATION_COPY_TRIES; try++) {
			unsigned before = __atomic_load_n(&a->seq, __ATOMIC_ACQUIRE);

			copy_slot(key_scratch, a->key, sizeof(a->key));
			copy_slot(value_scratch, a->value, sizeof(a->value));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (!(before & 1u) && __atomic_load_n(&a->seq, __ATOMIC_RELAXED) == before)
				break;
		}
		if (key_scratch[0])
			md_proto_put_annotation(e, key_scratch, value_scratch);
	}
}
