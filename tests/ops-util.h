/* SPDX-License-Identifier: MIT */
/* What the operations suites (check-ops*.c) share (ops-util.c): running mdctl. */
#pragma once

#include "integration-util.h"

#define MDCTL_TIMEOUT_MS 120000 /* ms for one mdctl command (info runs minidump_stackwalk) */

/* Runs mdctl with args (NULL-terminated) and env (may be NULL) to its exit; fails the test if
 * it does not exit within MDCTL_TIMEOUT_MS. */
struct it_result mdctl(const char *const *env, const char *const *args);
#define MDCTL(...)          mdctl(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define MDCTL_ENV(env, ...) mdctl(env, (const char *const[]){__VA_ARGS__, NULL})
