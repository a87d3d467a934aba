/* SPDX-License-Identifier: MIT */
/*
 * The report of a dump, typed: struct md_report and its JSON (jansson). This module owns the
 * report's keys: the daemon builds a struct and writes md_report_to_json() beside the dump, in
 * the journal and to the app; mdctl and the uploader read a report with md_report_from_json().
 * Nobody else spells a key. Keys are part of the interface (docs/config.md lists them): add,
 * never rename. Library code: it never logs and never aborts.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "md-diag.h"
#include "md-dump.h"
#include "md-snapshot.h"

#define MD_REPORT_TIME_MAX   32 /* bytes of an ISO 8601 UTC time, NUL included */
#define MD_REPORT_SIGNAL_MAX 24 /* bytes of a signal name, NUL included */
#define MD_REPORT_NAME_MAX   64 /* bytes of a stream name or a problem kind, NUL included */

/* Why the dump was taken ("kind"). */
enum md_report_kind {
	MD_REPORT_KIND_NONE,     /* no "kind" (mdctl dump --direct) */
	MD_REPORT_KIND_CRASH,    /* "crash": a client crashed */
	MD_REPORT_KIND_DUMP_NOW, /* "dump-now": a client asked for a dump of itself */
	MD_REPORT_KIND_REQUEST,  /* "request": mdctl asked for a dump of some pid */
	MD_REPORT_KIND_COREDUMP, /* "coredump": the kernel's coredump socket or pipe */
};

struct md_report_crash {
	uint32_t thread_id;
	uint32_t code;  /* the signal number (exception code) */
	uint32_t flags; /* si_code as the minidump stores it */
	int32_t si_code;
	uint64_t address;
	char signal[MD_REPORT_SIGNAL_MAX]; /* "" when the code has no name (JSON null) */
};

struct md_report_stream {
	char name[MD_REPORT_NAME_MAX];
	uint32_t type;
	char status[MD_REPORT_NAME_MAX]; /* md_stream_status_to_string() */
	uint64_t bytes;
};

struct md_report_error {
	char kind[MD_REPORT_NAME_MAX]; /* md_diag_kind_to_string() */
	uint64_t id;
	int error; /* -errno */
	char message[MD_DIAG_MSG_MAX];
};

/* One report. Strings are owned (malloc'd, freed by md_report_done()); NULL means absent. The
 * has_* flags say which groups of keys the JSON has. */
struct md_report {
	/* the process */
	uint32_t pid;
	bool has_uid;
	uint32_t uid;
	char *executable;
	/* the dump ("bytes" present): what md_report_from_snapshot() fills */
	bool has_dump;
	char *path; /* NULL: no file kept */
	uint64_t bytes;
	uint32_t threads, modules, memory_ranges;
	uint64_t memory_bytes;
	double duration_ms, suspended_ms;
	bool partial;
	bool has_crash; /* "crash" is an object (else null) */
	struct md_report_crash crash;
	bool truncated; /* streams and errors left out to fit a message */
	size_t n_streams;
	struct md_report_stream *streams;
	size_t n_errors;
	struct md_report_error *errors;
	uint64_t errors_dropped;
	/* the daemon's ("kind" present) */
	enum md_report_kind kind;
	char time[MD_REPORT_TIME_MAX]; /* ISO 8601 UTC */
	char *process_name;
	char signal[MD_REPORT_SIGNAL_MAX]; /* of the crash; "" none (JSON null) */
	size_t n_annotations;
	char **keys, **values;
	/* the store's ("id" present) */
	char *id;
	char *report_path; /* "report" */
	bool compressed;
	uint64_t bytes_on_disk;
	uint32_t requested_by_pid, requested_by_uid;
	double queued_ms;
	bool budget_cut;
	bool not_dumpable; /* "dumpable": false: root had a dump of a process its user could not */
	/* a coredump's, from the kernel's socket or pipe ("core_pattern_mode" present) */
	char *core_pattern_mode; /* "socket", "socket-request" or "pipe" */
	char *nspid;             /* the task's pids in its pid namespaces (NSpid), host's first */
	char *cgroup;            /* its cgroup, to tell which container crashed */
	char *private_because;   /* why the dump is root's alone (not dumpable by its user) */
	/* the symbolizer's ("symbolizer" present), added after the app was released: owned
	 * references, NULL when absent */
	json_t *stack; /* the crashing (or requesting) thread's frames */
	json_t
	    *thread_stacks; /* the other threads, each with its frames ("threads" is their count) */
	json_t *symbolizer; /* version, time taken, what was missing, or the error */
	/* a crash-loop summary ("rate_limited": true) instead of a dump */
	bool rate_limited;
	uint64_t suppressed, suppressed_total;
	uint32_t max_crashes, window_s;
};

/* Durations of one capture, in milliseconds. */
struct md_report_times {
	double duration_ms;  /* from the request until the file was complete */
	double suspended_ms; /* how long the target was stopped */
};

void md_report_init(struct md_report *r);
/* Frees what r owns and makes it empty again. */
void md_report_done(struct md_report *r);

/* md-report-dump.c: fills the dump's part of r (pid... errors_dropped) from the snapshot it came
 * from and the writer's result. path may be NULL. Returns 0 or -ENOMEM (r then holds what was
 * filled). */
int md_report_from_snapshot(struct md_report *r, const struct md_snapshot *s,
                            const struct md_dump_result *res, const char *path,
                            const struct md_report_times *times);

/* Sets a string member (freeing the old one); s NULL clears it. Returns 0 or -ENOMEM. */
int md_report_set(char **member, const char *s);
/* Appends an annotation, replacing the value of an existing key. Returns 0 or -ENOMEM. */
int md_report_annotate(struct md_report *r, const char *key, const char *value);
/* Frees n keys and their values (a report's annotations, an uploader's form fields: the same
 * two parallel arrays of owned strings), then the arrays. Accepts NULL arrays when n is 0. */
void md_report_pairs_free(char **keys, char **values, size_t n);

/* Copies src (NULL: "") into dst of size bytes, cut to fit. */
void md_report_copy_name(char *dst, size_t size, const char *src);

/* "crash", "dump-now", "request", "coredump"; NULL for MD_REPORT_KIND_NONE. */
const char *md_report_kind_to_string(enum md_report_kind kind);

/* r as JSON. Returns a new reference or NULL on allocation failure. */
json_t *md_report_to_json(const struct md_report *r);
/* The same as compact text (malloc'd), or NULL. */
char *md_report_to_text(const struct md_report *r);

/* Reads a report (of any version: missing keys stay empty, unknown ones are ignored) into *r,
 * which it initializes. Returns 0, or -EINVAL when j is not an object or a key has the wrong
 * type, or -ENOMEM; r is then empty. */
int md_report_from_json(json_t *j, struct md_report *r);

/* Builds the report of one dump as JSON (md_report_from_snapshot, then to JSON). */
json_t *md_report_dump(const struct md_snapshot *s, const struct md_dump_result *res,
                       const char *path, const struct md_report_times *times);

/* A JSON string of text a client or target supplied (a name, annotation, path): jansson
 * refuses invalid UTF-8, so such bytes are escaped as \xHH (md_escape) instead of losing the
 * value or the whole report. NULL only when out of memory. */
json_t *md_report_text(const char *text);

/* obj[key] = value, both such text. Returns 0 or -ENOMEM. */
int md_report_set_text(json_t *obj, const char *key, const char *value);
