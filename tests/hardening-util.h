/* SPDX-License-Identifier: MIT */
/*
 * What the hardening suites (check-hardening*.c) share: their daemon fixtures, a raw protocol
 * client that can send what a well-behaved client never would, the daemon's status and
 * figures from /proc, and the apps and dumps of their tests (hardening-util.c).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon-util.h"
#include "integration-util.h"
#include "md-proto.h"

#define DAEMON_STOP_MS 60000 /* ms minidumpd may take to exit after SIGTERM */
#define REPLY_MS       10000 /* ms to wait for a reply that must come */
#define APP_LOADED_MS  60000 /* ms a crashing app may take to die here, its dump included */
#define APP_PROMPT_MS  3000  /* ms an app may take to crash and die when all is well */
#define NOBODY_ID      65534
#define CONFIG_DEFAULT "{}\n"
#define CONFIG_NO_LOOP "{\"crash_loop\": {\"max_crashes\": 0}}\n"

extern bool mounted;   /* something is mounted on D.dumps */
extern bool sanitized; /* an ASan/UBSan build: RSS figures include the sanitizers' own memory */

/* One line per test for the closing table: case, outcome, requests, bytes, time, RSS. */
void figures(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), or -1. */
long proc_kib(pid_t pid, const char *field);

int proc_fds(pid_t pid);

/* A fresh folder, a config file (config: defaults only, whatever /etc has) and a daemon. */
void daemon_setup_with(bool activated, const char *config);

void daemon_setup(void);

void storm_setup(void);

void activated_setup(void);

/* SIGTERM, then the exit status; the daemon must exit 0 (no leak report, no crash). */
void daemon_stop_clean(void);

void hardening_teardown(void);

int connect_daemon(void);

/* Writes all of data, ignoring a peer that closed early (it may have answered already). */
void send_all(int fd, const void *data, size_t len);

/* Reads one whole message within timeout_ms; m points into a static buffer until the next
 * call. Returns 0, -ETIMEDOUT, -ECONNRESET (closed before a whole message), or the decoder's
 * error. */
int recv_msg(int fd, int timeout_ms, struct md_proto_msg *m);

/* True when the peer has closed: a read gives end of file within timeout_ms. */
bool peer_closed(int fd, int timeout_ms);

/* The 16-byte header with any fields. */
void put_header(uint8_t *h, uint32_t magic, uint16_t version, uint16_t type, uint32_t len);

int encode_ping(uint8_t *buf, size_t size);

int encode_dump_request(uint8_t *buf, size_t size, pid_t pid);

/* Sends data on a new connection, half-closes it when shut, and returns the reply's errno for
 * an ERROR (and its text in text), 0 for any other message, or a negative recv_msg() error. */
int exchange(const void *data, size_t len, bool shut, char *text, size_t text_size);

/* The daemon answers a ping on a new connection. */
void assert_serving(void);

/* The daemon's status counters (a status request on a new connection). */
json_t *daemon_status(void);

long long status_int(const char *key);

bool status_true(const char *key);

/* One of the daemon's event counters (status "events"; md_event_to_string() names them). */
long long status_event(const char *name);

/* Waits until the daemon holds at most max connections (the status request's own included)
 * and its descriptor count is stable; returns that count. */
int settle(int max);

/* Runs crash-app MODE against the daemon, with one extra variable (may be NULL). */
struct app_run crash_app(const char *mode, const char *extra_env);

/* A crash-app crash is dumped, promptly, and the app dies by its own signal. */
void assert_crash_served(const char *what);

/* `mdctl inspect FILE` accepts the file: a complete minidump. */
bool dump_is_valid(const char *path);

/* Nothing half-written under a final name: every *.dmp is a valid dump with its *.json,
 * every *.json belongs to a dump, no temporary file is left. Returns the number of dumps. */
int assert_dump_dir_clean(void);

/* Waits until pid has path open (its crash-app is blocked on the FIFO). */
bool has_open(pid_t pid, const char *path, int timeout_ms);

/* A child process that changes to user nobody; returns its pid (0 in the child). Like any
 * process of nobody's that did not change its credentials, it is dumpable (the kernel clears
 * that flag on setresuid; a login's processes have it from their exec). */
pid_t fork_as_nobody(void);

int read_full(int fd, void *buf, size_t len, int timeout_ms);
