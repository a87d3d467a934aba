/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of libmdclient, shared by its files and never installed: the state the
 * crash handler reads, the async-signal-safe socket helpers (mdclient-io.c), the per-arch
 * register context (mdclient-context-<arch>.c) and the handler's install/remove functions
 * (mdclient-handler.c). Everything the handler touches is static storage prepared before the
 * handler is installed; nothing here may allocate on the crash path.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "md-proto.h"
#include "mdclient-annotations.h"

/* The signals the shim handles, in the order of md_shim_state.old_actions. */
#define MD_SHIM_N_SIGNALS 7
extern const int md_shim_signals[MD_SHIM_N_SIGNALS];

struct md_shim_state {
	bool initialized;
	unsigned int flags;
	int timeout_ms;
	/* The daemon's address, copied at init so the handler can reconnect. */
	struct sockaddr_un addr;
	socklen_t addr_len;
	/* The connection made at init, -1 when none; and the pid that made it, so that a forked
	 * child does not talk on its parent's connection. Read with __atomic_load_n. */
	int fd;
	pid_t fd_pid;
	struct sigaction old_actions[MD_SHIM_N_SIGNALS];
	bool installed[MD_SHIM_N_SIGNALS];
	struct md_shim_annotation annotations[MD_PROTO_ANNOTATIONS_MAX];
};

extern struct md_shim_state md_shim_state;

/* Serializes md_client_init(), md_client_shutdown() and annotation writers. */
void md_shim_lock(void);
void md_shim_unlock(void);

/* mdclient-io.c: non-blocking Unix socket I/O bounded by a deadline (CLOCK_MONOTONIC ms). */
int64_t md_shim_now_ms(void);
int md_shim_connect(const struct sockaddr_un *addr, socklen_t addr_len);
int md_shim_send(int fd, const void *buf, size_t len, int64_t deadline_ms);
int md_shim_drain(int fd, void *buf, size_t size);
int md_shim_recv_reply(int fd, void *buf, size_t size, int64_t deadline_ms,
                       struct md_proto_msg *ret_msg);
int md_shim_allow_ptrace(int fd);
void md_shim_close(int fd);

/* mdclient-context-<arch>.c: the register context kind this build sends, the bytes it needs,
 * and the code that copies it out of a signal handler's ucontext. */
#define MD_SHIM_CONTEXT_MAX MD_PROTO_CONTEXT_MAX /* bytes */
uint32_t md_shim_context_fill(const void *ucontext, uint8_t *buf, size_t size, size_t *ret_len);

/* mdclient-handler.c. */
int md_shim_handlers_install(void);
void md_shim_handlers_remove(void);
