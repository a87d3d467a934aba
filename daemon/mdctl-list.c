/* SPDX-License-Identifier: MIT */
/*
 * `mdctl list`: the dumps in minidumpd's store as a table (time, pid, uid, signal,
 * executable, size, id), oldest first, or as a JSON array, with filters on time, executable,
 * pid, uid and kind. On a terminal the table is aligned, sizes are rounded and long
 * executable paths are shortened to fit the width; in a pipe the columns are separated by
 * one tab and nothing is shortened or rounded, so the output can be cut and sorted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "md-os.h"
#include "mdctl-store.h"
#include "mdctl.h"

#define TERM_COLUMNS_DEFAULT 80 /* terminal width when the terminal does not say */
#define EXE_COLUMN_MIN       16 /* characters the executable column keeps at least */
#define SIZE_TEXT_MAX        24 /* bytes of a formatted size */

enum { COL_TIME, COL_PID, COL_UID, COL_SIG, COL_EXE, COL_SIZE, COL_ID, COL_COUNT };

static const char *const headers[COL_COUNT] = {"TIME", "PID", "UID", "SIG", "EXE", "SIZE", "ID"};

struct filter {
	bool has_since, has_until;
	time_t since, until;
	const char *exe;
	long long pid, uid; /* -1: any */
	const char *kind;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: mdctl list [OPTIONS]\n"
	    "\n"
	    "List the dumps in minidumpd's store, oldest first: time, pid, uid, signal,\n"
	    "executable, size of the dump file and id. Give the id (or a unique prefix of it)\n"
	    "to 'mdctl info' or 'mdctl rm'.\n"
	    "\n"
	    "  -S, --since TIME     only dumps taken at TIME or later\n"
	    "  -U, --until TIME     only dumps taken at TIME or earlier\n"
	    "      --exe EXE        only this executable: a full path, or a file name\n"
	    "      --pid PID        only this process id\n"
	    "      --uid UID        only processes of this user id\n"
	    "      --kind KIND      only crash, dump-now, request or coredump\n"
	    "  -n N                 only the last N dumps\n"
	    "  -r, --reverse        newest first\n"
	    "      --json           one JSON array of objects instead of the table\n"
	    "      --no-legend      no header line\n"
	    "      --utc            show and read times in UTC instead of local time\n"
	    "%s"
	    "  -h, --help           this text\n"
	    "\n"
	    "TIME is YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' (local time; a trailing Z means UTC),\n"
	    "now, today, yesterday, or an age such as 30m, 2h, 7d.\n"
	    "\n"
	    "On a terminal the table is aligned and sizes are rounded; in a pipe, columns are\n"
	    "separated by one tab, sizes are in bytes and nothing is shortened. A size of '-'\n"
	    "means there is no dump file: the crash was only recorded (crash-loop limit).\n"
	    "\n"
	    "Exit codes: 0 ok (also when nothing matches), 1 failure, 2 usage,\n"
	    "4 permission denied reading the store (it is root's: run as root).\n",
	    mdctl_store_options_help);
}

static bool matches(const struct filter *f, const struct mdctl_entry *e)
{
	const struct md_report *r = &e->rep;

	if (f->has_since && e->time < f->since)
		return false;
	if (f->has_until && e->time > f->until)
		return false;
	if (f->pid >= 0 && r->pid != f->pid)
		return false;
	if (f->uid >= 0 && (!r->has_uid || r->uid != f->uid))
		return false;
	if (f->kind) {
		const char *k = md_report_kind_to_string(r->kind);

		if (!k || strcmp(k, f->kind) != 0)
			return false;
	}
	if (f->exe) {
		const char *exe = r->executable;
		const char *name = r->process_name;
		const char *base = exe ? strrchr(exe, '/') : NULL;

		base = base ? base + 1 : exe;
		if (strchr(f->exe, '/'))
			return exe && strcmp(exe, f->exe) == 0;
		if (!((base && strcmp(base, f->exe) == 0) || (name && strcmp(name, f->exe) == 0)))
			return false;
	}
	return true;
}

static const char *signal_text(const struct md_report *r)
{
	return r->signal[0] ? r->signal : "-";
}

static void size_text(const struct mdctl_entry *e, bool human, char *buf, size_t size)
{
	static const char units[] = "BKMGT";
	double v = (double)e->dump_bytes;
	int u = 0;

	if (!e->dump_name[0]) {
		snprintf(buf, size, "-");
		return;
	}
	if (!human) {
		snprintf(buf, size, "%" PRIu64, e->dump_bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 "B", e->dump_bytes);
	else
		snprintf(buf, size, "%.*f%c", v < 10 ? 1 : 0, v, units[u]);
}

static void time_text(time_t t, bool utc, char *buf, size_t size)
{
	struct tm tm;

	if (utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(buf, size, utc ? "%Y-%m-%d %H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}

/* The cells of one row; the strings point into bufs or into the report. */
static void row(const struct mdctl_entry *e, bool human, bool utc, char bufs[4][SIZE_TEXT_MAX + 8],
                const char *cells[COL_COUNT])
{
	const struct md_report *r = &e->rep;
	const char *exe = r->executable;

	time_text(e->time, utc, bufs[0], sizeof(bufs[0]));
	snprintf(bufs[1], sizeof(bufs[1]), "%u", r->pid);
	if (r->has_uid)
		snprintf(bufs[2], sizeof(bufs[2]), "%u", r->uid);
	else
		snprintf(bufs[2], sizeof(bufs[2]), "-");
	size_text(e, human, bufs[3], sizeof(bufs[3]));
	cells[COL_TIME] = bufs[0];
	cells[COL_PID] = bufs[1];
	cells[COL_UID] = bufs[2];
	cells[COL_SIG] = signal_text(r);
	cells[COL_EXE] = exe && *exe ? exe : "-";
	cells[COL_SIZE] = bufs[3];
	cells[COL_ID] = e->id;
}

static int terminal_columns(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (env && atoi(env) > 0)
		return atoi(env);
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return TERM_COLUMNS_DEFAULT;
}

/* Prints s in width columns, left- or right-aligned, shortened from the left ("...tail")
 * when it is longer. */
static void put_cell(const char *s, int width, bool left, bool last)
{
	int len = (int)strlen(s);

	if (len > width && width > 3) {
		fputs("...", stdout);
		mdctl_put_safe(stdout, s + len - (width - 3));
	} else {
		if (!left && len < width)
			printf("%*s", width - len, "");
		mdctl_put_safe(stdout, s);
		if (left && !last && len < width)
			printf("%*s", width - len, "");
	}
	if (!last)
		fputs("  ", stdout);
}

static void print_table(struct mdctl_entry **rows, size_t n, bool legend, bool utc)
{
	bool tty = isatty(STDOUT_FILENO);
	char bufs[4][SIZE_TEXT_MAX + 8];
	const char *cells[COL_COUNT];
	int width[COL_COUNT], others = 0;

	if (!tty) {
		if (legend)
			for (int c = 0; c < COL_COUNT; c++)
				printf("%s%c", headers[c], c + 1 < COL_COUNT ? '\t' : '\n');
		for (size_t i = 0; i < n; i++) {
			row(rows[i], false, utc, bufs, cells);
			for (int c = 0; c < COL_COUNT; c++) {
				mdctl_put_safe(stdout, cells[c]);
				putchar(c + 1 < COL_COUNT ? '\t' : '\n');
			}
		}
		return;
	}
	for (int c = 0; c < COL_COUNT; c++)
		width[c] = legend ? (int)strlen(headers[c]) : 0;
	for (size_t i = 0; i < n; i++) {
		row(rows[i], true, utc, bufs, cells);
		for (int c = 0; c < COL_COUNT; c++)
			if ((int)strlen(cells[c]) > width[c])
				width[c] = (int)strlen(cells[c]);
	}
	for (int c = 0; c < COL_COUNT; c++)
		if (c != COL_EXE)
			others += width[c] + 2;
	if (width[COL_EXE] > terminal_columns() - others)
		width[COL_EXE] = terminal_columns() - others > EXE_COLUMN_MIN
		                     ? terminal_columns() - others
		                     : EXE_COLUMN_MIN;
	if (legend)
		for (int c = 0; c < COL_COUNT; c++)
			put_cell(headers[c], width[c],
			         !(c == COL_PID || c == COL_UID || c == COL_SIZE),
			         c + 1 == COL_COUNT);
	if (legend)
		putchar('\n');
	for (size_t i = 0; i < n; i++) {
		row(rows[i], true, utc, bufs, cells);
		for (int c = 0; c < COL_COUNT; c++)
			put_cell(cells[c], width[c],
			         !(c == COL_PID || c == COL_UID || c == COL_SIZE),
			         c + 1 == COL_COUNT);
		putchar('\n');
	}
}

static json_t *summary(const struct mdctl_store *s, const char *upload_dir,
                       const struct mdctl_entry *e)
{
	const struct md_report *r = &e->rep;
	const char *kind = md_report_kind_to_string(r->kind);
	json_t *o, *state, *up = mdctl_upload_state(upload_dir, e->id);
	char *dump = NULL;

	o = json_object();
	json_object_set_new(o, "id", json_string(e->id));
	/* the report's own fields, as far as it has them */
	if (r->time[0])
		json_object_set_new(o, "time", json_string(r->time));
	if (kind)
		json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "pid", json_integer(r->pid));
	if (r->has_uid)
		json_object_set_new(o, "uid", json_integer(r->uid));
	if (kind)
		json_object_set_new(o, "signal",
		                    r->signal[0] ? json_string(r->signal) : json_null());
	if (r->executable)
		json_object_set_new(o, "executable", json_string(r->executable));
	if (r->process_name)
		json_object_set_new(o, "process_name", json_string(r->process_name));
	if (r->has_dump)
		json_object_set_new(o, "partial", json_boolean(r->partial));
	if (r->rate_limited)
		json_object_set_new(o, "rate_limited", json_true());
	if (e->dump_name[0] && asprintf(&dump, "%s/%s", s->dir, e->dump_name) < 0)
		dump = NULL;
	json_object_set_new(o, "dump", dump ? json_string(dump) : json_null());
	json_object_set_new(o, "dump_bytes",
	                    e->dump_name[0] ? json_integer((json_int_t)e->dump_bytes)
	                                    : json_null());
	state = up ? json_object_get(up, "state") : NULL;
	json_object_set_new(o, "upload", json_is_string(state) ? json_incref(state) : json_null());
	json_decref(up);
	free(dump);
	return o;
}

/* --pid, --uid, -n: a number >= 0 into the long long at value. */
static int parse_count(const char *arg, void *value)
{
	long long *ret = value;
	char *end;

	errno = 0;
	*ret = strtoll(arg, &end, 10);
	if (errno || !*arg || *end || *ret < 0) {
		fprintf(stderr, "mdctl list: '%s' is not a number\n", arg);
		return -EINVAL;
	}
	return 0;
}

/* --kind: one of the kinds of dump a report names, into the const char * at value. */
static int parse_kind(const char *arg, void *value)
{
	if (strcmp(arg, "crash") && strcmp(arg, "dump-now") && strcmp(arg, "request") &&
	    strcmp(arg, "coredump")) {
		fprintf(stderr, "mdctl list: --kind wants crash, dump-now, request or coredump\n");
		return -EINVAL;
	}
	*(const char **)value = arg;
	return 0;
}

int mdctl_list_main(int argc, char **argv)
{
	struct filter f = {.pid = -1, .uid = -1};
	struct mdctl_store_opts so = {0};
	const char *since = NULL, *until = NULL;
	bool as_json = false, legend = true, utc = false, reverse = false;
	long long last = -1;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("since", 'S', &since),
	    MD_CMDLINE_STRING("until", 'U', &until),
	    MD_CMDLINE_STRING("exe", 0, &f.exe),
	    MD_CMDLINE_CALL("pid", 0, &f.pid, parse_count),
	    MD_CMDLINE_CALL("uid", 0, &f.uid, parse_count),
	    MD_CMDLINE_CALL("kind", 0, &f.kind, parse_kind),
	    MD_CMDLINE_CALL(NULL, 'n', &last, parse_count),
	    MD_CMDLINE_SET("reverse", 'r', &reverse),
	    MD_CMDLINE_SET("json", 0, &as_json),
	    MD_CMDLINE_CLEAR("no-legend", 0, &legend),
	    MD_CMDLINE_SET("utc", 0, &utc),
	    MDCTL_STORE_OPTS(&so),
	    MD_CMDLINE_END,
	};
	struct mdctl_entry *entries = NULL, **rows = NULL;
	struct mdctl_store store;
	size_t count = 0, n = 0, first = 0;
	int ret = MDCTL_EXIT_FAILURE;

	if (!mdctl_parse_options(argc, argv, opts, usage, &ret))
		return ret;
	ret = MDCTL_EXIT_FAILURE;
	/* times are parsed after all options, so that --utc applies wherever it is */
	for (int i = 0; i < 2; i++) {
		const char *arg = i ? until : since;

		if (arg && mdctl_parse_time(arg, utc, time(NULL), i ? &f.until : &f.since) < 0) {
			fprintf(stderr, "mdctl list: '%s' is not a time (see mdctl list --help)\n",
			        arg);
			return MDCTL_EXIT_USAGE;
		}
	}
	f.has_since = since;
	f.has_until = until;

	ret = mdctl_store_open("list", &so, &store, &entries, &count);
	if (ret != MDCTL_EXIT_OK)
		return ret;
	ret = MDCTL_EXIT_FAILURE;
	rows = calloc(count ? count : 1, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "mdctl list: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		if (matches(&f, &entries[i]))
			rows[n++] = &entries[i];
	if (last >= 0 && (size_t)last < n)
		first = n - (size_t)last;
	if (reverse && n > 0)
		for (size_t i = first, j = n - 1; i < j; i++, j--) {
			struct mdctl_entry *t = rows[i];

			rows[i] = rows[j];
			rows[j] = t;
		}
	if (as_json) {
		json_t *a = json_array();
		char *text;

		for (size_t i = first; i < n; i++)
			json_array_append_new(
			    a, summary(&store,
			               so.upload_state ? so.upload_state : MD_DEFAULT_UPLOAD_STATE,
			               rows[i]));
		text = json_dumps(a, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		if (text)
			puts(text);
		free(text);
		json_decref(a);
	} else {
		print_table(rows + first, n - first, legend, utc);
	}
	ret = fflush(stdout) == 0 ? MDCTL_EXIT_OK : MDCTL_EXIT_FAILURE;
out:
	free(rows);
	mdctl_store_free(entries, count);
	return ret;
}
