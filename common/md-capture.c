/* SPDX-License-Identifier: MIT */
/*
 * The capture pipeline shared by mdctl and the daemon (md-capture.h), as a table of named
 * steps run in order over one capture. Every step either succeeds or leaves the capture for
 * the end of md_capture_dump(), which resumes and frees the target and removes the temporary
 * file: no step has a cleanup path of its own. It never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "md-capture.h"
#include "md-store.h"
#include "md-zstd.h"

struct capture {
	const struct md_capture_options *o;
	struct md_capture_result *res;
	struct md_output out;
	struct md_snapshot *s;
};

/* The store owns dump ids (md-store.h): the default name is the id of the dump with the suffix
 * of a plain or compressed dump. */
int md_capture_name(const char *exe, uint32_t pid, uint32_t tid, time_t when, unsigned attempt,
                    bool compressed, char *buf, size_t size)
{
	char id[MD_STORE_ID_MAX + 1], name[MD_STORE_NAME_MAX];
	int r;

	r = md_store_make_id(exe, pid, when, tid, attempt, id);
	if (r >= 0)
		r = md_store_name(id, compressed ? MD_STORE_DUMP_ZSTD : MD_STORE_DUMP, name);
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, size, "%s", name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int step_open(struct capture *c)
{
	return md_output_open(&c->out, c->o->dir);
}

/* A name asked for is settled before the target is touched, so a taken one stops nothing. */
static int step_name(struct capture *c)
{
	if (!c->o->name)
		return 0;
	return md_output_check(&c->out, c->o->name, c->o->replace);
}

static int step_prepare(struct capture *c)
{
	return c->o->prepare_file ? c->o->prepare_file(c->o->ctx, c->out.fd) : 0;
}

static int step_snapshot(struct capture *c)
{
	return md_snapshot_build(c->o->backend, c->o->pid, &c->o->snapshot, &c->s);
}

static int step_stopped(struct capture *c)
{
	return c->o->stopped ? c->o->stopped(c->o->ctx, c->s) : 0;
}

/* Writes the streams, then resumes the target whatever the outcome: it is stopped no longer
 * than the write takes. */
static int step_write(struct capture *c)
{
	double deadline = c->o->snapshot.deadline_ms;
	int r = -ECANCELED;

	if (deadline <= 0 || md_now_ms() < deadline)
		r = md_dump_write(c->s, c->out.fd, &c->o->dump, &c->res->dump);
	c->res->suspended_ms = (double)md_snapshot_resume(c->s) / 1000.0;
	c->res->bytes_on_disk = c->res->dump.bytes;
	return r;
}

/* At rest compressed: the plain file is replaced by its zstd stream. */
static int step_compress(struct capture *c)
{
	struct md_output z = {.dirfd = -1, .fd = -1};
	uint64_t zbytes = 0;
	int r;

	if (!c->o->compress)
		return 0;
	r = md_output_open(&z, c->o->dir);
	if (r >= 0 && c->o->prepare_file)
		r = c->o->prepare_file(c->o->ctx, z.fd);
	if (r >= 0)
		r = md_zstd_compress_fd(c->out.fd, z.fd, &zbytes);
	if (r < 0) {
		md_output_abort(&z);
		return r;
	}
	md_output_abort(&c->out);
	c->out = z;
	c->res->bytes_on_disk = zbytes;
	return 0;
}

/* The name asked for, or a unique default one: executable, pid, time, thread. */
static int step_commit(struct capture *c)
{
	const struct md_capture_options *o = c->o;
	struct md_capture_result *res = c->res;
	const char *exe = c->s->process.exe[0] || !o->exe_hint ? c->s->process.exe : o->exe_hint;
	int r;

	res->time = time(NULL);
	if (o->name) {
		snprintf(res->name, sizeof(res->name), "%s", o->name);
		r = md_output_commit(&c->out, res->name, o->replace);
	} else {
		for (unsigned attempt = 0;; attempt++) {
			r = md_capture_name(exe, o->pid, c->s->requesting_tid, res->time, attempt,
			                    o->compress, res->name, sizeof(res->name));
			if (r >= 0)
				r = md_output_commit(&c->out, res->name, false);
			if (r != -EEXIST || attempt >= MD_CAPTURE_NAME_ATTEMPTS)
				break;
		}
	}
	if (r < 0)
		return r;
	if (strcmp(o->dir, ".") == 0)
		snprintf(res->path, sizeof(res->path), "%s", res->name);
	else
		snprintf(res->path, sizeof(res->path), "%s/%s", strcmp(o->dir, "/") ? o->dir : "",
		         res->name);
	res->duration_ms = md_now_ms() - res->started_ms;
	return 0;
}

static int (*const steps[MD_CAPTURE_STEP_DONE])(struct capture *c) = {
    [MD_CAPTURE_STEP_OPEN] = step_open,         [MD_CAPTURE_STEP_NAME] = step_name,
    [MD_CAPTURE_STEP_PREPARE] = step_prepare,   [MD_CAPTURE_STEP_SNAPSHOT] = step_snapshot,
    [MD_CAPTURE_STEP_STOPPED] = step_stopped,   [MD_CAPTURE_STEP_WRITE] = step_write,
    [MD_CAPTURE_STEP_COMPRESS] = step_compress, [MD_CAPTURE_STEP_COMMIT] = step_commit,
};

int md_capture_dump(const struct md_capture_options *o, struct md_capture_result *ret_result)
{
	struct capture c = {.o = o, .res = ret_result, .out = {.dirfd = -1, .fd = -1}};
	enum md_capture_step step;
	int r = 0;

	memset(ret_result, 0, sizeof(*ret_result));
	ret_result->started_ms = md_now_ms();
	for (step = 0; step < MD_CAPTURE_STEP_DONE; step++) {
		r = steps[step](&c);
		if (r < 0)
			break;
	}
	ret_result->step = step;
	if (r < 0) {
		md_snapshot_free(c.s); /* resumes the target first */
		c.s = NULL;
	}
	md_output_abort(&c.out); /* removes the temporary file; nothing after a commit */
	ret_result->snapshot = c.s;
	return r;
}

void md_capture_result_done(struct md_capture_result *res)
{
	if (!res)
		return;
	md_snapshot_free(res->snapshot);
	res->snapshot = NULL;
}
