/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing the uploader's state files (see upload-state.h). A state file is small
 * JSON written whole through a temporary file and a rename, so a reader sees either the old or
 * the new state. Library code: no logging, no aborting; errors are returned as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "md-os.h"
#include "md-upload-state.h"

#define TMP_TRIES 100 /* attempts at a fresh temporary name before giving up */

static const char *const status_names[] = {
    [MD_UPLOAD_PENDING] = "pending",
    [MD_UPLOAD_UPLOADED] = "uploaded",
    [MD_UPLOAD_FAILED] = "failed",
    [MD_UPLOAD_SKIPPED] = "skipped",
};

const char *md_upload_status_to_string(enum md_upload_status s)
{
	if ((size_t)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "unknown";
}

int md_upload_status_from_string(const char *s, enum md_upload_status *ret_status)
{
	for (size_t i = 0; s && i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*ret_status = (enum md_upload_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

void md_upload_time_now(char buf[MD_UPLOAD_TIME_MAX])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, MD_UPLOAD_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Copies a string member into a fixed buffer; a missing member gives "", a wrong type or an
 * overlong string -EINVAL. */
static int get_str(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	buf[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size)
		return -EINVAL;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_uint(json_t *o, const char *key, unsigned *ret)
{
	json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff)
		return -EINVAL;
	*ret = (unsigned)json_integer_value(v);
	return 0;
}

static int get_status(json_t *o, enum md_upload_status *ret)
{
	json_t *v = json_object_get(o, "state");

	if (!json_is_string(v))
		return -EINVAL;
	return md_upload_status_from_string(json_string_value(v), ret);
}

static int parse_state(json_t *root, const char *id, struct md_upload_state *s)
{
	json_t *servers, *e;
	size_t i;
	int r;

	if (!json_is_object(root))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	if ((r = get_str(root, "id", s->id, sizeof(s->id))) < 0 || strcmp(s->id, id) != 0)
		return -EINVAL;
	if ((r = get_status(root, &s->state)) < 0 ||
	    (r = get_str(root, "server_id", s->server_id, sizeof(s->server_id))) < 0 ||
	    (r = get_str(root, "reason", s->reason, sizeof(s->reason))) < 0 ||
	    (r = get_uint(root, "attempts", &s->attempts)) < 0 ||
	    (r = get_str(root, "time", s->time, sizeof(s->time))) < 0)
		return -EINVAL;
	servers = json_object_get(root, "servers");
	if (!servers)
		return 0;
	if (!json_is_array(servers) || json_array_size(servers) > MD_UPLOAD_SERVERS_MAX)
		return -EINVAL;
	json_array_foreach(servers, i, e)
	{
		struct md_upload_server_state *ss = &s->servers[i];

		if (!json_is_object(e) || get_str(e, "name", ss->name, sizeof(ss->name)) < 0 ||
		    get_status(e, &ss->state) < 0 ||
		    get_str(e, "server_id", ss->server_id, sizeof(ss->server_id)) < 0 ||
		    get_str(e, "reason", ss->reason, sizeof(ss->reason)) < 0 ||
		    get_uint(e, "attempts", &ss->attempts) < 0 ||
		    get_str(e, "time", ss->time, sizeof(ss->time)) < 0)
			return -EINVAL;
		s->n_servers = i + 1;
	}
	return 0;
}

int md_upload_state_read(const char *state_dir, const char *id, struct md_upload_state *ret_state)
{
	struct md_upload_state *s = NULL;
	char path[4096 + MD_UPLOAD_ID_MAX + 8];
	char *text = NULL;
	json_t *root = NULL;
	size_t len;
	int r;

	if (!state_dir || !md_store_id_valid(id))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.json", state_dir, id) >= sizeof(path))
		return -ENAMETOOLONG;
	/* a link, FIFO or device planted in the state folder is refused, without hanging */
	r = md_os_read_regular_file(path, MD_UPLOAD_STATE_FILE_MAX, &text, &len);
	if (r < 0)
		return r;
	s = malloc(sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	r = root ? parse_state(root, id, s) : -EINVAL;
	if (r >= 0)
		memcpy(ret_state, s, sizeof(*s));
out:
	json_decref(root);
	free(s);
	free(text);
	return r;
}

void md_upload_state_summarize(struct md_upload_state *s)
{
	bool pending = false, uploaded = false, failed = false;

	s->server_id[0] = '\0';
	s->reason[0] = '\0';
	s->attempts = 0;
	for (size_t i = 0; i < s->n_servers; i++) {
		const struct md_upload_server_state *ss = &s->servers[i];

		pending |= ss->state == MD_UPLOAD_PENDING;
		uploaded |= ss->state == MD_UPLOAD_UPLOADED;
		failed |= ss->state == MD_UPLOAD_FAILED;
		s->attempts += ss->attempts;
		if (strcmp(ss->time, s->time) > 0)
			memcpy(s->time, ss->time, sizeof(s->time));
		if (!s->server_id[0] && ss->server_id[0])
			memcpy(s->server_id, ss->server_id, sizeof(s->server_id));
		if (!s->reason[0] && ss->reason[0] && ss->state != MD_UPLOAD_UPLOADED) {
			if (s->n_servers > 1)
				snprintf(s->reason, sizeof(s->reason), "%s: %s", ss->name,
				         ss->reason);
			else
				memcpy(s->reason, ss->reason, sizeof(s->reason));
		}
	}
	if (pending || s->n_servers == 0)
		s->state = MD_UPLOAD_PENDING;
	else if (uploaded)
		s->state = MD_UPLOAD_UPLOADED;
	else if (failed)
		s->state = MD_UPLOAD_FAILED;
	else
		s->state = MD_UPLOAD_SKIPPED;
}

static int fsync_dir(int dirfd)
{
	return fsync(dirfd) < 0 && errno != EINVAL ? -errno : 0;
}

int md_upload_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                           mode_t mode)
{
	char tmp[64];
	int dirfd, fd = -1, r = -EEXIST;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
		snprintf(tmp, sizeof(tmp), ".mdup-%d-%08lx.tmp", (int)getpid(),
		         (unsigned long)arc4random());
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
	}
	if (fd < 0)
		goto out;
	r = md_os_write_full(fd, data, len);
	if (r < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	r = fsync_dir(dirfd);
	goto out;
fail:
	unlinkat(dirfd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *md_upload_state_to_json(const struct md_upload_state *s)
{
	json_t *servers = json_array();

	for (size_t i = 0; servers && i < s->n_servers; i++) {
		const struct md_upload_server_state *ss = &s->servers[i];

		json_array_append_new(servers,
		                      json_pack("{s:s, s:s, s:o, s:o, s:I, s:s}", "name", ss->name,
		                                "state", md_upload_status_to_string(ss->state),
		                                "server_id", str_or_null(ss->server_id), "reason",
		                                str_or_null(ss->reason), "attempts",
		                                (json_int_t)ss->attempts, "time", ss->time));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:I, s:s, s:o?}", "id", s->id, "state",
	                 md_upload_status_to_string(s->state), "server_id",
	                 str_or_null(s->server_id), "reason", str_or_null(s->reason), "attempts",
	                 (json_int_t)s->attempts, "time", s->time, "servers", servers);
}

int md_upload_state_write(const char *state_dir, const struct md_upload_state *s)
{
	char name[MD_UPLOAD_ID_MAX + 8];
	json_t *root = NULL;
	char *text = NULL;
	int r = -ENOMEM;

	if (!md_store_id_valid(s->id) || s->n_servers > MD_UPLOAD_SERVERS_MAX)
		return -EINVAL;
	snprintf(name, sizeof(name), "%s.json", s->id);
	root = md_upload_state_to_json(s);
	if (!root)
		goto out;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	r = md_upload_write_atomic(state_dir, name, text, strlen(text), 0644);
out:
	free(text);
	json_decref(root);
	return r;
}
