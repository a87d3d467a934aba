/* SPDX-License-Identifier: MIT */
/*
 * md-symbolize's seccomp lock-down (libseccomp): after it, the helper can compute on the file
 * descriptors it holds, write its answer and exit, and nothing else. Never used elsewhere.
 */
#pragma once

#include <stdbool.h>

/* Installs the filter on the calling process (no_new_privs is set first). With network, also
 * what libdebuginfod needs (sockets, its cache files, threads). Returns 0, or -errno (also
 * -EOPNOTSUPP in a build without libseccomp, where the caller must not claim the lock-down). */
int sym_seccomp_lock(bool network);
