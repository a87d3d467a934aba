/* SPDX-License-Identifier: MIT */
/*
 * What the hardening suites (check-hardening*.c) share: their daemon fixtures, the daemon's
 * status and figures from /proc, and the apps and dumps of their tests (hardening-util.c); the
 * raw protocol client that sends what a well-behaved client never would is daemon-proto.h.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon-proto.h"
#include "daemon-util.h"
#include "integration-util.h"

#define DAEMON_STOP_MS 60000 /* ms minidumpd may take to exit after SIGTERM */
#define APP_LOADED_MS  60000 /* ms a crashing app may take to die here, its dump included */
#define APP_PROMPT_MS  3000  /* ms an app may take to crash and die when all is well */
#define NOBODY_ID      65534
#define CONFIG_DEFAULT "{}\n"
#define CONFIG_NO_LOOP "{\"crash_loop\": {\"max_crashes\": 0}}\n"

extern bool mounted;   /* something is mounted on D.dumps */
extern bool sanitized; /* an ASan/UBSan build: RSS figures include the sanitizers' own memory */

/* One line per test for the closing table: case, outcome, requests, bytes, time, RSS. */
void figures(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The nth number (from 0) of a field of /proc/PID/status (Uid, TracerPid...), or -1. */
long proc_status_number(pid_t pid, const char *field, int nth);
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

/* The daemon's status over the protocol (daemon_status()): a top-level counter (the test fails
 * without it), a top-level boolean, one of its event counters (mdd_event_to_string() names
 * them). */
#define status_int(key)    status_count_in(daemon_status(), (key))
#define status_true(key)   status_flag_in(daemon_status(), (key))
#define status_event(name) status_event_in(daemon_status(), (name))

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
