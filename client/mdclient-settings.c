/* SPDX-License-Identifier: MIT */
/*
 * Settings shared by the Linux and Windows shims (see mdclient-settings.h). Plain C, no OS
 * calls; it only ever runs from md_client_init(), never on the crash path.
 */
#include <errno.h>

#include "mdclient-settings.h"

int md_shim_check_options(const struct md_client_options *opts)
{
	if (!opts)
		return 0;
	for (size_t i = 0; i < sizeof(opts->reserved) / sizeof(opts->reserved[0]); i++)
		if (opts->reserved[i])
			return -EINVAL;
	if (opts->timeout_ms < 0 || opts->timeout_ms > MD_CLIENT_MAX_TIMEOUT_MS)
		return -EINVAL;
	return 0;
}

int md_shim_timeout(int opt_ms, const char *env_value, int *ret_ms)
{
	long v = 0;

	if (opt_ms) {
		*ret_ms = opt_ms;
		return 0;
	}
	if (!env_value || !*env_value) {
		*ret_ms = MD_CLIENT_DEFAULT_TIMEOUT_MS;
		return 0;
	}
	for (const char *s = env_value; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > MD_CLIENT_MAX_TIMEOUT_MS)
			return -EINVAL;
	}
	if (v < 1)
		return -EINVAL;
	*ret_ms = (int)v;
	return 0;
}
