/* SPDX-License-Identifier: MIT */
/*
 * Reading minidumpd's store for `mdctl list`, `info` and `rm`: finding the folder (through
 * the daemon, --dump-dir or the default), reading the reports in it, matching ids, opening a
 * dump (expanding a compressed one), the uploader's state, time arguments, and running
 * Breakpad's tools. Files are opened relative to the folder's descriptor with names built
 * only from checked ids, so a hostile report or id cannot reach outside the folder.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "md-escape.h"
#include "md-os.h"
#include "mdctl-store.h"
#include "mdctl.h"

#define CHUNK_BYTES 65536 /* bytes read from a child's pipe at a time */

const char mdctl_store_options_help[] =
    "      --dump-dir DIR      the store (default: the daemon's, else " MD_DEFAULT_DUMP_DIR ")\n"
    "      --socket PATH       the daemon's socket, to ask it where the store is\n"
    "      --upload-state DIR  the uploader's state folder (default " MD_DEFAULT_UPLOAD_STATE ")\n";

/* Asks the daemon for its status and takes "dump_dir" from it. */
static int daemon_dump_dir(const char *socket_path, char *buf, size_t size)
{
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;
	struct md_proto_msg m;
	uint8_t msg[32];
	const char *dir;
	json_t *j;
	int n, r;

	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_STATUS_REQUEST);
	n = md_proto_finish(&e);
	if (n < 0)
		return n;
	r = mdctl_request(mdctl_socket_path(socket_path), msg, (size_t)n, MDCTL_STORE_STATUS_MS,
	                  reply, sizeof(reply), &m);
	if (r < 0)
		return r;
	if (m.type != MD_MSG_STATUS || !m.text)
		return -EPROTO;
	j = json_loads(m.text, 0, NULL);
	dir = json_string_value(json_object_get(j, "dump_dir"));
	r = dir && *dir && strlen(dir) < size ? 0 : -EPROTO;
	if (r == 0)
		memcpy(buf, dir, strlen(dir) + 1);
	json_decref(j);
	return r;
}

void mdctl_store_locate(const struct mdctl_store_opts *opts, struct mdctl_store *ret_store)
{
	if (opts->dump_dir) {
		/* absolute, so that the paths mdctl prints work from anywhere */
		if (!realpath(opts->dump_dir, ret_store->dir))
			snprintf(ret_store->dir, sizeof(ret_store->dir), "%s", opts->dump_dir);
		ret_store->source = "--dump-dir";
		return;
	}
	if (daemon_dump_dir(opts->socket_path, ret_store->dir, sizeof(ret_store->dir)) == 0) {
		ret_store->source = "daemon";
		return;
	}
	snprintf(ret_store->dir, sizeof(ret_store->dir), "%s", MD_DEFAULT_DUMP_DIR);
	ret_store->source = "default";
}

/* The report's time (ISO 8601 UTC, as the daemon writes it), or -1. */
static time_t report_time(const char *s)
{
	time_t t;

	if (!s[0] || mdctl_parse_time(s, true, 0, &t) < 0)
		return -1;
	return t;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct mdctl_entry *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->written_ns != y->written_ns)
		return x->written_ns < y->written_ns ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Reads and parses the report of item into e. Returns 0 or -errno (reported on stderr). */
static int load_entry(const struct mdctl_store *s, const struct md_store_item *it,
                      struct mdctl_entry *e)
{
	char name[MD_STORE_NAME_MAX], path[PATH_MAX + MD_STORE_NAME_MAX], *text = NULL;
	json_error_t jerr;
	size_t len;
	int r;

	memset(e, 0, sizeof(*e));
	memcpy(e->id, it->id, sizeof(e->id));
	md_store_name(it->id, MD_STORE_REPORT, name);
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	r = md_os_read_regular_file(path, MD_STORE_REPORT_MAX, &text, &len);
	if (r < 0) {
		if (r != -ENOENT) /* removed while we read the folder */
			fprintf(stderr, "mdctl: skipping %s: %s\n", path, md_os_strerror(-r));
		return r;
	}
	e->report = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(e->report) || md_report_from_json(e->report, &e->rep) < 0) {
		fprintf(stderr, "mdctl: skipping %s: not a report (%s)\n", path,
		        e->report ? "not an object" : jerr.text);
		json_decref(e->report);
		return -EINVAL;
	}
	/* reports carry whole seconds; the file's own time (from the scan) orders a second's
	 * dumps, and stands in for a report without a time */
	e->written_ns = it->report_mtime_ns;
	e->time = report_time(e->rep.time);
	if (e->time == (time_t)-1)
		e->time = (time_t)(it->report_mtime_ns / 1000000000);
	if (it->has_dump) {
		md_store_name(it->id, it->dump_kind, e->dump_name);
		e->dump_bytes = it->dump_bytes;
	}
	return 0;
}

int mdctl_store_load(const struct mdctl_store *s, struct mdctl_entry **ret_entries,
                     size_t *ret_count)
{
	struct mdctl_entry *entries = NULL;
	struct md_store_item *items = NULL;
	size_t count = 0, n = 0, reports = 0;
	int r;

	r = md_store_scan(s->dir, false, &items, &n);
	if (r < 0)
		return r;
	/* reports only: a dump without one is still being written */
	for (size_t i = 0; i < n; i++)
		reports += items[i].has_report;
	if (reports > MDCTL_STORE_ENTRIES_MAX) {
		fprintf(stderr, "mdctl: %s: more than %d reports; the rest are not listed\n",
		        s->dir, MDCTL_STORE_ENTRIES_MAX);
		reports = MDCTL_STORE_ENTRIES_MAX;
	}
	entries = calloc(reports ? reports : 1, sizeof(*entries));
	if (!entries) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && count < reports; i++)
		if (items[i].has_report && load_entry(s, &items[i], &entries[count]) == 0)
			count++;
	if (count > 1)
		qsort(entries, count, sizeof(*entries), entry_cmp);
out:
	free(items);
	if (r < 0) {
		mdctl_store_free(entries, count);
		return r;
	}
	*ret_entries = entries;
	*ret_count = count;
	return 0;
}

int mdctl_store_fail(const char *verb, const struct mdctl_store *s, int err)
{
	fprintf(stderr, "mdctl %s: cannot read the store %s (%s): %s\n", verb, s->dir, s->source,
	        md_os_strerror(-err));
	return err == -EACCES || err == -EPERM ? MDCTL_EXIT_PERMISSION : MDCTL_EXIT_FAILURE;
}

int mdctl_store_open(const char *verb, const struct mdctl_store_opts *opts,
                     struct mdctl_store *ret_store, struct mdctl_entry **ret_entries,
                     size_t *ret_count)
{
	int r;

	mdctl_store_locate(opts, ret_store);
	r = mdctl_store_load(ret_store, ret_entries, ret_count);
	return r < 0 ? mdctl_store_fail(verb, ret_store, r) : MDCTL_EXIT_OK;
}

void mdctl_store_free(struct mdctl_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		json_decref(entries[i].report);
		md_report_done(&entries[i].rep);
	}
	free(entries);
}

int mdctl_store_find(const struct mdctl_entry *entries, size_t count, const char *query)
{
	size_t qlen = strlen(query);
	int found = -ENOENT;

	if (qlen == 0)
		return -ENOENT;
	for (size_t i = 0; i < count; i++)
		if (strcmp(entries[i].id, query) == 0)
			return (int)i;
	for (size_t i = 0; i < count; i++) {
		if (strncmp(entries[i].id, query, qlen) != 0)
			continue;
		if (found >= 0)
			return -ENOTUNIQ;
		found = (int)i;
	}
	return found;
}

char *mdctl_find_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	if (!copy)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p;

		if (asprintf(&p, "%s/%s", *dir ? dir : ".", name) < 0)
			break;
		if (access(p, X_OK) == 0) {
			found = p;
			break;
		}
		free(p);
	}
	free(copy);
	return found;
}

int mdctl_store_open_dump(const struct mdctl_store *s, const struct mdctl_entry *e,
                          struct md_reader_error *err, struct md_reader **ret_reader,
                          char **ret_path, char **ret_tmp)
{
	char *path = NULL, *tmp = NULL, why[160];
	int r;

	*ret_tmp = NULL;
	if (!e->dump_name[0]) {
		snprintf(err->message, sizeof(err->message), "%s has no dump file", e->id);
		return -ENOENT;
	}
	if (asprintf(&path, "%s/%s", s->dir, e->dump_name) < 0)
		return -ENOMEM;
	/* a compressed dump is read from its expansion, which other tools can read too */
	r = md_store_expand(path, &tmp, why, sizeof(why));
	if (r < 0) {
		snprintf(err->message, sizeof(err->message), "%s: %s", path, why);
		goto out;
	}
	if (tmp) {
		free(path);
		path = strdup(tmp);
		if (!path) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = md_reader_open_file(path, err, ret_reader);
	if (r < 0 && err->message[0] == '\0')
		snprintf(err->message, sizeof(err->message), "%s: %s", path, md_os_strerror(-r));
out:
	if (r < 0) {
		if (tmp)
			unlink(tmp);
		free(tmp);
		free(path);
		return r;
	}
	*ret_path = path;
	*ret_tmp = tmp;
	return 0;
}

json_t *mdctl_upload_state(const char *dir, const char *id)
{
	struct md_upload_state st;

	if (!md_store_id_valid(id) || md_upload_state_read(dir, id, &st) < 0)
		return NULL;
	return md_upload_state_to_json(&st);
}

int mdctl_parse_time(const char *s, bool utc, time_t now, time_t *ret_time)
{
	struct tm tm;
	const char *end;
	char *num_end;
	long long v;

	if (strcmp(s, "now") == 0) {
		*ret_time = now;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		if (utc)
			gmtime_r(&now, &tm);
		else
			localtime_r(&now, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		tm.tm_isdst = -1;
		*ret_time = utc ? timegm(&tm) : mktime(&tm);
		return 0;
	}
	/* an age: digits and one unit */
	errno = 0;
	v = strtoll(s, &num_end, 10);
	if (num_end != s && isdigit((unsigned char)s[0]) && num_end[0] && !num_end[1] && !errno &&
	    v >= 0 && v <= 100LL * 365 * 86400) {
		long long unit = num_end[0] == 's'   ? 1
		                 : num_end[0] == 'm' ? 60
		                 : num_end[0] == 'h' ? 3600
		                 : num_end[0] == 'd' ? 86400
		                 : num_end[0] == 'w' ? 7 * 86400
		                                     : 0;
		if (unit) {
			*ret_time = now - (time_t)(v * unit);
			return 0;
		}
	}
	/* a date, with or without a time of day */
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -EINVAL;
	if (*end == ' ' || *end == 'T') {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);

		if (!t)
			t = strptime(end + 1, "%H:%M", &tm);
		if (!t)
			return -EINVAL;
		end = t;
	}
	if (*end == 'Z') {
		utc = true;
		end++;
	}
	if (*end)
		return -EINVAL;
	tm.tm_isdst = -1;
	*ret_time = utc ? timegm(&tm) : mktime(&tm);
	return *ret_time == (time_t)-1 ? -EINVAL : 0;
}

void mdctl_put_safe(FILE *f, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *out = malloc(MD_ESCAPE_SIZE(len));

	if (out)
		fputs(md_escape(s, len, out, MD_ESCAPE_SIZE(len), 0), f);
	else
		fputs("?", f); /* out of memory: nothing unescaped reaches the terminal */
	free(out);
}

int mdctl_run_capture(const char *const *argv, int timeout_ms, size_t max, char **ret_out)
{
	int64_t start;
	char *out = NULL;
	size_t len = 0, cap = 0;
	int pipefd[2], st, r = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 2);
		dup2(pipefd[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	start = md_os_now_ns();
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int64_t left;
		ssize_t n;

		left = timeout_ms - (md_os_now_ns() - start) / 1000000;
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (len > max) {
			r = -EFBIG;
			break;
		}
		if (cap - len < CHUNK_BYTES + 1) {
			char *nout;

			nout = realloc(out, cap + CHUNK_BYTES + 1);
			if (!nout) {
				r = -ENOMEM;
				break;
			}
			out = nout;
			cap += CHUNK_BYTES + 1;
		}
		n = read(pipefd[0], out + len, CHUNK_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (r < 0) {
		free(out);
		return r;
	}
	if (!out) {
		out = malloc(1);
		if (!out)
			return -ENOMEM;
	}
	out[len] = '\0';
	*ret_out = out;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
