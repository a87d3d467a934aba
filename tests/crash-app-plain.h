/* SPDX-License-Identifier: MIT */
/*
 * crash-app without libmdclient (crash-app-plain, -DCRASH_APP_PLAIN): the same crashes in the
 * same functions, by a program that knows nothing of minidumpd, for the kernel's coredump paths
 * (tests/check-coredump.c). The client calls become no-ops.
 */
#pragma once

#include <errno.h>
#include <stddef.h>

static inline int md_client_init(const void *opts)
{
	(void)opts;
	return 0;
}
static inline int md_client_annotate(const char *key, const char *value)
{
	(void)key;
	(void)value;
	return 0;
}
static inline void md_client_thread_init(void)
{
}
static inline void md_client_shutdown(void)
{
}
static inline int md_client_dump_now_report(char *buf, size_t size)
{
	(void)buf;
	(void)size;
	return -ENOSYS;
}
