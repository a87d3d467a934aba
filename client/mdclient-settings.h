/* SPDX-License-Identifier: MIT */
/*
 * The settings every libmdclient build reads the same way (mdclient-settings.c): checking the
 * caller's md_client_options and choosing the reply timeout from the options, then the
 * environment, then the default. Each OS keeps its own environment lookup and transport.
 * Internal; never installed. Called at init only, never on the crash path.
 */
#pragma once

#include "mdclient.h"

/* Refuses options with reserved fields set or a timeout outside 0..MD_CLIENT_MAX_TIMEOUT_MS.
 * opts may be NULL. Returns 0 or -EINVAL. */
int md_shim_check_options(const struct md_client_options *opts);

/* The reply timeout in ms: opt_ms when non-zero, else env_value (MINIDUMPD_TIMEOUT_MS as the
 * caller looked it up; NULL or "" when unset: decimal digits only, 1 to
 * MD_CLIENT_MAX_TIMEOUT_MS), else MD_CLIENT_DEFAULT_TIMEOUT_MS. Returns 0 or -EINVAL. */
int md_shim_timeout(int opt_ms, const char *env_value, int *ret_ms);
