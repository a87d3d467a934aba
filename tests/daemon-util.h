/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the suites that run the real minidumpd (see daemon-util.c). One daemon at a time,
 * in the global D. Environment: MINIDUMPD, CRASH_APP, BREAKPAD_TOOLS (as tests/meson.build sets).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "integration-util.h"

#define APP_TIMEOUT_MS  30000  /* ms a crashing app may take to die (a dump included) */
#define TOOL_TIMEOUT_MS 120000 /* ms for Breakpad's tools */
#define DAEMON_READY_MS 10000  /* ms minidumpd may take to accept connections */
#define LOG_TAIL_BYTES  3000   /* bytes of the daemon log quoted in a failure message */

struct daemon {
	pid_t pid;
	char *dir; /* temporary folder: socket, config, dumps/, daemon.log */
	char sock[256];
	char dumps[256];
	char log[256];
	char conf[256]; /* the config file passed with --config, or "" for none */
	int listen_fd;  /* >= 0: the harness owns the listening socket (socket activation) */
};

extern struct daemon D;

/* How to start the daemon; a zeroed struct (or NULL) is the plain daemon on D.sock. */
struct daemon_opts {
	const char *config;         /* text of a config file passed with --config, or NULL */
	bool activated;             /* the harness makes D.sock and passes it as systemd would */
	const char *const *wrapper; /* argv prefix the daemon runs behind (setpriv ...), or NULL */
	const char *const *extra;   /* more arguments (NULL-ended), or NULL */
	const char *const *env;     /* more KEY=VALUE variables (NULL-ended), or NULL */
	bool no_wait;               /* return once it is started, not once it is ready */
};

/* How to run crash-app; a zeroed struct (or NULL) runs it plainly against D.sock. */
struct app_opts {
	const char *const *wrapper; /* argv prefix the app runs behind (setpriv ...), or NULL */
	const char *sock;           /* MINIDUMPD_SOCKET, or NULL for D.sock */
	const char *extra_env;      /* one more KEY=VALUE, or NULL */
	int timeout_ms;             /* how long it may take to die, or 0 for APP_TIMEOUT_MS */
	const char *exe;            /* the app to run, or NULL for $CRASH_APP */
};

struct app_run {
	struct it_result res;
	pid_t pid;
};

#define STACKWALK_FIELD 256 /* bytes of one field of a minidump_stackwalk -m line */

struct walk {
	char reason[STACKWALK_FIELD];
	char address[STACKWALK_FIELD];
	int crash_thread;
	int threads;
	char frame0[STACKWALK_FIELD]; /* function of frame 0 of the crashing thread */
	bool in_stack;                /* the wanted function is somewhere in the crashing thread */
	int want_frames;              /* frames of the crashing thread in the wanted function */
};

/* Writes text to a new file at path (replacing one that is there). */
void write_text(const char *path, const char *text);

/* Whether a connection to the Unix socket at path is accepted. */
bool can_connect(const char *path);

/* A fresh D.dir with dumps/ in it, and D.conf holding config when it is not NULL. */
void daemon_dirs_new(const char *config);
/* Makes D.sock as systemd makes it for minidumpd.socket and keeps it as D.listen_fd. */
void daemon_listen(void);
/* Starts minidumpd in D.dir, its stderr appended to D.log; with D.listen_fd >= 0 it gets that
 * socket by socket activation (fd 3, LISTEN_FDS, LISTEN_PID), with D.conf it gets --config.
 * Unless o->no_wait, returns once it is ready: once D.sock accepts a connection or, with an
 * inherited socket (where the kernel queues a connect anyway), once the log says " ready"
 * again. Also restarts a stopped daemon in the same folder. */
void daemon_spawn(const struct daemon_opts *o);
/* daemon_dirs_new(), daemon_listen() when o->activated, daemon_spawn(). */
void daemon_start_opts(const struct daemon_opts *o);
void daemon_start(void);
/* The plain daemon with a config file holding config. */
void daemon_start_config(const char *config);
/* SIGCONT, SIGTERM, then waits; returns the wait status (0 with no daemon). */
int daemon_stop(void);
/* The same, but SIGKILLs and reaps a daemon still there after timeout_ms. Returns 0 with its wait
 * status in ret_status, or -ETIMEDOUT when it had to be killed. */
int daemon_stop_within(int timeout_ms, int *ret_status);
/* Stops the daemon, closes D.listen_fd and removes D.dir (unless IT_KEEP). */
void daemon_teardown(void);

/* Starts crash-app MODE (with --annotate annotation unless NULL) as o says (its timeout aside);
 * the caller waits for it (it_wait()). */
struct it_proc app_spawn(const char *mode, const char *annotation, const struct app_opts *o);
/* Runs crash-app MODE (with --annotate annotation unless NULL) as o says, and waits for it. */
struct app_run run_app_opts(const char *mode, const char *annotation, const struct app_opts *o);
/* Runs crash-app MODE --annotate annotation with the daemon's socket (or sock) and one extra
 * KEY=VALUE (or NULL) in its environment, and waits for it. */
struct app_run run_app(const char *mode, const char *annotation, const char *sock,
                       const char *extra_env);

/* The crash-app dump ("dmp") or report ("json") the daemon wrote for pid, or NULL. */
char *find_dump(pid_t pid, const char *ext);
/* The same for a process of any executable. */
char *find_dump_any(pid_t pid, const char *ext);

/* What Breakpad's walk of a crash must show. */
struct walk_want {
	const char *reason;   /* the crash reason, a prefix ("SIGSEGV") */
	const char *address;  /* the crash address, or NULL: not checked */
	const char *function; /* the crashing function */
	bool frame0;          /* it is frame 0 (else: somewhere in the crashing thread's stack) */
	int threads;
};

/* The output of `minidump_stackwalk -m dump` with symbols from dump_syms (kept in
 * D.dir/symbols); the test fails when it fails. Owned. */
char *stackwalk_machine(const char *dump);
/* Splits one line of it at '|' into at most max fields (cut to STACKWALK_FIELD bytes, the rest
 * empty); returns how many it has. */
int stackwalk_fields(const char *line, char (*f)[STACKWALK_FIELD], int max);

/* minidump_stackwalk -m with symbols from dump_syms; want_fn: looked for in the crashing
 * thread's stack. */
struct walk stackwalk(const char *dump, const char *want_fn);
/* The walk of dump shows what want says; what names the case in failure messages. */
void assert_walk(const char *dump, const struct walk_want *want, const char *what);

/* A crash of crash-app (or crash-app-plain) in one of its modes, and what Breakpad's walk of
 * its dump shows. */
struct crash_case {
	const char *mode;
	int sig;
	struct walk_want walk;
};

/* Breakpad's minidump_dump shows CrashpadInfo annotation key = value. */
bool dump_has_annotation(const char *dump, const char *key, const char *value);

json_t *load_json(const char *path);

/* Whether the daemon wrote a dump ("dmp") or report ("json") for pid. */
bool has_dump(pid_t pid, const char *ext);

/* The daemon's log so far (owned; "" when there is none). */
char *log_read(void);
/* Its last LOG_TAIL_BYTES, for failure messages (Check limits their size); static buffer. */
const char *log_tail(void);
/* Occurrences of text in the daemon's log so far. */
int log_count(const char *text);
/* Whether the daemon's log so far contains text. */
bool log_has(const char *text);

/* The daemon's counters as `mdctl status --json --socket D.sock` shows them (MDCTL from the
 * environment); the test fails when mdctl does. Caller frees. */
json_t *status_json(void);
/* One counter of a status object (status_json(), or daemon_status() of daemon-proto.h), which
 * they release: one of its "events" (mdd_event_to_string() names them), a top-level counter, or
 * a top-level boolean. The test fails when a counter is not there. */
long long status_event_in(json_t *status, const char *name);
long long status_count_in(json_t *status, const char *key);
bool status_flag_in(json_t *status, const char *key);
/* One counter of its "events" object (mdd_event_to_string() names them), or a top-level
 * boolean. */
long long status_event_count(const char *name);
long long status_count(const char *key); /* a top-level counter: refused, dumps_ok... */
bool status_flag(const char *key);

/* A child process whose one thread sleeps in vfork() (its own child never execs), so that it
 * cannot be stopped; both die with the caller (PR_SET_PDEATHSIG). Returns its pid or -errno;
 * no ck_assert (usable in forked children). */
pid_t fork_vfork_sleeper(void);
