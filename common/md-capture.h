/* SPDX-License-Identifier: MIT */
/*
 * One capture, the same for mdctl (`mdctl dump --direct`) and the daemon: create the output
 * under a temporary name, snapshot the target through a backend (md-snapshot-build.h), write
 * the streams, resume the target, compress if asked, and give the file its final name. The
 * target is resumed on every path, right after the streams are written; no file is left under
 * a final name unless it is complete. It never logs: the caller words the failure from the step
 * that failed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "md-dump.h"
#include "md-output.h"
#include "md-snapshot-build.h"

#define MD_CAPTURE_PATH_MAX (4096 + MD_OUTPUT_NAME_MAX) /* bytes of dir + "/" + name */
/* Default names tried for one dump: the name has the second it was taken, so this many dumps of
 * one thread fit in a second (a small process is dumped in a few ms, by several workers). */
#define MD_CAPTURE_NAME_ATTEMPTS 10000

/* The steps of a capture, in the order they run; a failed capture names the one that failed. */
enum md_capture_step {
	MD_CAPTURE_STEP_OPEN,     /* creating the temporary file in dir */
	MD_CAPTURE_STEP_NAME,     /* the name asked for is taken (and replace is not set) */
	MD_CAPTURE_STEP_PREPARE,  /* the caller's prepare_file on the new file */
	MD_CAPTURE_STEP_SNAPSHOT, /* stopping and reading the target */
	MD_CAPTURE_STEP_STOPPED,  /* the caller's stopped hook, the target stopped */
	MD_CAPTURE_STEP_WRITE,    /* writing the streams; the target is resumed after it */
	MD_CAPTURE_STEP_COMPRESS, /* the zstd copy, prepare_file on it included */
	MD_CAPTURE_STEP_COMMIT,   /* giving the file its final name */
	MD_CAPTURE_STEP_DONE,
};

struct md_capture_options {
	const struct md_backend_ops *backend;
	uint32_t pid;
	/* Cancel flag, crash record, pidfd, source and deadline of the snapshot; the deadline
	 * also holds for the write, which starts only before it. */
	struct md_backend_options snapshot;
	struct md_dump_options dump; /* byte budget, annotations, cancel flag of the write */
	const char *dir;             /* folder of the dump */
	const char *name;            /* its file name; NULL: md_capture_name()'s, numbered on */
	bool replace;                /* an existing file of that name may be replaced */
	bool compress;               /* stored as a zstd stream (the default name ends in .zst) */
	const char *exe_hint; /* names the default file when the snapshot knows no executable */
	/* Called on each file the capture creates, before anything is written to it (the daemon
	 * gives it to its group); < 0 fails the capture. May be NULL. */
	int (*prepare_file)(void *ctx, int fd);
	/* Called once the target is stopped, before the streams are written (the daemon checks
	 * that the target still belongs to who asked); < 0 fails the capture. May be NULL. */
	int (*stopped)(void *ctx, const struct md_snapshot *s);
	void *ctx;
};

struct md_capture_result {
	enum md_capture_step step; /* the step that failed; MD_CAPTURE_STEP_DONE on success */
	/* The snapshot the dump was written from, the target resumed: what a report reads.
	 * Set on success only; md_capture_result_done() frees it. */
	struct md_snapshot *snapshot;
	struct md_dump_result dump;     /* what the streams wrote */
	char name[MD_OUTPUT_NAME_MAX];  /* the file's final name */
	char path[MD_CAPTURE_PATH_MAX]; /* dir and name ("name" alone when dir is ".") */
	uint64_t bytes_on_disk;         /* the stored file's size (compressed, if it is) */
	time_t time;                    /* wall-clock time of the name's stamp */
	double started_ms;              /* md_now_ms() when the capture began */
	double duration_ms;             /* from then until the file had its name */
	double suspended_ms;            /* how long the target was stopped */
};

/* Runs the capture of o->pid into o->dir. Returns 0, or the -errno of the step named in
 * ret_result->step (-ECANCELED: cancelled or over the deadline; -EEXIST at STEP_NAME). */
int md_capture_dump(const struct md_capture_options *o, struct md_capture_result *ret_result);

/* Frees what a result holds (its snapshot). Safe twice. */
void md_capture_result_done(struct md_capture_result *res);

/* The default file name of a dump:
 * "<exe>.<pid>.<YYYYmmddTHHMMSSZ>.<tid>[-<attempt>].dmp[.zst]", where exe is the basename of
 * the executable's path (split at this OS's separators) reduced to [A-Za-z0-9._-], at most 64
 * bytes and never starting with a dot, and the time is UTC. Returns 0 or -ENAMETOOLONG. */
int md_capture_name(const char *exe, uint32_t pid, uint32_t tid, time_t when, unsigned attempt,
                    bool compressed, char *buf, size_t size);
