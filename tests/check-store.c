/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the store contract (common/md-store.c) and the typed report
 * (common/md-report.c): which ids are accepted, how files are named and parsed back, what a
 * scan of a folder finds, which items a prune removes (table-driven), removal, and that every
 * field of a report survives md_report_to_json() and md_report_from_json().
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "md-report.h"
#include "md-store.h"

/* ---- ids and names ---- */

START_TEST(ids_are_checked)
{
	char longest[MD_STORE_ID_MAX + 2];

	ck_assert(md_store_id_valid("app.123.20261207T101010Z.123"));
	ck_assert(md_store_id_valid("a-b_c.d"));
	ck_assert(!md_store_id_valid(NULL));
	ck_assert(!md_store_id_valid(""));
	ck_assert(!md_store_id_valid(".hidden"));
	ck_assert(!md_store_id_valid(".."));
	ck_assert(!md_store_id_valid("a/b"));
	ck_assert(!md_store_id_valid("../etc/passwd"));
	ck_assert(!md_store_id_valid("a b"));
	ck_assert(!md_store_id_valid("a\\b"));
	ck_assert(!md_store_id_valid("caf\xc3\xa9"));
	memset(longest, 'x', MD_STORE_ID_MAX);
	longest[MD_STORE_ID_MAX] = '\0';
	ck_assert(md_store_id_valid(longest));
	longest[MD_STORE_ID_MAX] = 'x';
	longest[MD_STORE_ID_MAX + 1] = '\0';
	ck_assert(!md_store_id_valid(longest));
}
END_TEST

START_TEST(names_round_trip)
{
	static const struct {
		enum md_store_kind kind;
		const char *name;
	} cases[] = {
	    {MD_STORE_DUMP, "a.1.dmp"},
	    {MD_STORE_DUMP_ZSTD, "a.1.dmp.zst"},
	    {MD_STORE_REPORT, "a.1.json"},
	};
	char name[MD_STORE_NAME_MAX], id[MD_STORE_ID_MAX + 1];
	enum md_store_kind kind;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(md_store_name("a.1", cases[i].kind, name), 0);
		ck_assert_str_eq(name, cases[i].name);
		ck_assert_int_eq(md_store_parse_name(name, id, &kind), 0);
		ck_assert_str_eq(id, "a.1");
		ck_assert_int_eq(kind, cases[i].kind);
	}
	ck_assert_int_eq(md_store_name("../x", MD_STORE_DUMP, name), -EINVAL);
	ck_assert_int_eq(md_store_name("x", MD_STORE_KIND_COUNT, name), -EINVAL);
	/* not store files */
	ck_assert_int_eq(md_store_parse_name("reports.jsonl", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name("reports.jsonl.1", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name(".md-XXXX", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name(".x.json", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name(".dmp", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name("x.zst", id, &kind), -EINVAL);
	ck_assert_int_eq(md_store_parse_name("a b.dmp", id, &kind), -EINVAL);
}
END_TEST

START_TEST(ids_are_made_from_the_executable)
{
	char id[MD_STORE_ID_MAX + 1], exe[300];
	time_t t = 1796630400; /* 2026-12-07T08:00:00Z */

	ck_assert_int_eq(md_store_make_id("/usr/bin/my app", 42, t, 43, 0, id), 0);
	ck_assert_str_eq(id, "my_app.42.20261207T080000Z.43");
	ck_assert_int_eq(md_store_make_id("/x/.hidden", 1, t, 1, 2, id), 0);
	ck_assert_str_eq(id, "_hidden.1.20261207T080000Z.1-2");
	ck_assert_int_eq(md_store_make_id("C:\\Apps\\tool.exe", 1, t, 1, 0, id), 0);
	ck_assert_str_eq(id, "tool.exe.1.20261207T080000Z.1");
	ck_assert_int_eq(md_store_make_id("", 7, t, 7, 0, id), 0);
	ck_assert_str_eq(id, "process.7.20261207T080000Z.7");
	memset(exe, 'e', sizeof(exe) - 1);
	exe[sizeof(exe) - 1] = '\0';
	ck_assert_int_eq(md_store_make_id(exe, 4294967295u, t, 4294967295u, 9999, id), 0);
	ck_assert(md_store_id_valid(id));
	ck_assert_int_eq(strspn(id, "e"), MD_STORE_ID_BASE_MAX);
	ck_assert_int_eq(md_store_make_loop_id("/bin/crashy", 0xabc, id), 0);
	ck_assert_str_eq(id, "crashy.0000000000000abc.crashloop");
	ck_assert(md_store_id_valid(id));
}
END_TEST

/* ---- the folder ---- */

static void put(const char *name, size_t bytes)
{
	char path[256], *buf = calloc(1, bytes + 1);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", check_tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, bytes), (ssize_t)bytes);
	close(fd);
	free(buf);
}

static bool exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", check_tmpdir, name);
	return lstat(path, &st) == 0;
}

START_TEST(scan_merges_files_by_id)
{
	struct md_store_item *items = NULL;
	char path[256];
	size_t n = 0;

	put("b.dmp", 100);
	put("b.json", 10);
	put("a.dmp.zst", 50);
	put("a.json", 5);
	put("c.crashloop.json", 7); /* a summary: a report alone */
	put("d.dmp", 30);           /* a dump whose report is not written yet */
	put("reports.jsonl", 1000);
	put("reports.jsonl.1", 1000);
	put(".md-tmp", 1);
	put("other.txt", 1);
	snprintf(path, sizeof(path), "%s/e.json", check_tmpdir);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0); /* never followed, never an item */
	ck_assert_int_eq(md_store_scan(check_tmpdir, false, &items, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(items[0].id, "a");
	ck_assert(items[0].has_dump && items[0].has_report);
	ck_assert_int_eq(items[0].dump_kind, MD_STORE_DUMP_ZSTD);
	ck_assert_uint_eq(items[0].dump_bytes, 50);
	ck_assert_uint_eq(items[0].report_bytes, 5);
	ck_assert_str_eq(items[1].id, "b");
	ck_assert_int_eq(items[1].dump_kind, MD_STORE_DUMP);
	ck_assert_uint_eq(items[1].dump_bytes, 100);
	ck_assert_str_eq(items[2].id, "c.crashloop");
	ck_assert(!items[2].has_dump && items[2].has_report);
	ck_assert_str_eq(items[3].id, "d");
	ck_assert(items[3].has_dump && !items[3].has_report);
	free(items);
	ck_assert_int_eq(md_store_scan("/nonexistent-store", false, &items, &n), -ENOENT);
}
END_TEST

START_TEST(remove_takes_every_file_of_an_id)
{
	put("a.dmp", 1);
	put("a.dmp.zst", 1);
	put("a.json", 1);
	put("ab.json", 1);
	ck_assert_int_eq(md_store_remove(check_tmpdir, "a"), 3);
	ck_assert(!exists("a.dmp") && !exists("a.dmp.zst") && !exists("a.json"));
	ck_assert(exists("ab.json"));
	ck_assert_int_eq(md_store_remove(check_tmpdir, "a"), 0);
	ck_assert_int_eq(md_store_remove(check_tmpdir, "../a"), -EINVAL);
}
END_TEST

START_TEST(expand_leaves_a_plain_dump_alone)
{
	char path[256], why[128], *plain = (char *)1;

	put("a.dmp", 64);
	snprintf(path, sizeof(path), "%s/a.dmp", check_tmpdir);
	ck_assert_int_eq(md_store_expand(path, &plain, why, sizeof(why)), 0);
	ck_assert_ptr_null(plain);
	snprintf(path, sizeof(path), "%s/none.dmp", check_tmpdir);
	ck_assert_int_eq(md_store_expand(path, &plain, why, sizeof(why)), -ENOENT);
}
END_TEST

/* ---- prune decisions ---- */

#define NOW 1000000
#define S   1000000000ll /* ns per s */

struct prune_case {
	const char *what;
	struct md_store_limits limits;
	uint64_t free_bytes;
	const char *keep;
	const char *removed; /* ids removed, in age order, space-separated */
};

/* Items, oldest first: two dumps, a summary between them, a new dump. */
static void items_new(struct md_store_item it[4])
{
	memset(it, 0, 4 * sizeof(*it));
	strcpy(it[0].id, "new");
	it[0].has_dump = it[0].has_report = true;
	it[0].dump_bytes = 100, it[0].report_bytes = 10, it[0].dump_mtime_ns = (NOW - 10) * S;
	strcpy(it[1].id, "old");
	it[1].has_dump = it[1].has_report = true;
	it[1].dump_bytes = 100, it[1].report_bytes = 10, it[1].dump_mtime_ns = (NOW - 1000) * S;
	strcpy(it[2].id, "loop.crashloop");
	it[2].has_report = true;
	it[2].report_bytes = 5, it[2].report_mtime_ns = (NOW - 500) * S;
	strcpy(it[3].id, "mid");
	it[3].has_dump = it[3].has_report = true;
	it[3].dump_bytes = 100, it[3].report_bytes = 10, it[3].dump_mtime_ns = (NOW - 100) * S;
}

static const struct prune_case prune_cases[] = {
    {"no limits", {0}, UINT64_MAX, NULL, ""},
    {"within every limit", {1000, 3, 2000, 10, 0, 0}, 100, NULL, ""},
    {"too many dumps: the oldest dump, summaries do not count",
     {.max_dumps = 2},
     UINT64_MAX,
     NULL,
     "old"},
    {"too many dumps, the oldest kept", {.max_dumps = 2}, UINT64_MAX, "old", "mid"},
    {"too old: dumps and summaries", {.max_age_s = 200}, UINT64_MAX, NULL, "old loop.crashloop"},
    {"too big: oldest first until within",
     {.max_total_bytes = 220},
     UINT64_MAX,
     NULL,
     "old loop.crashloop"},
    {"too big, summaries count", {.max_total_bytes = 225}, UINT64_MAX, NULL, "old"},
    {"too little free space: removals free their bytes",
     {.min_free_bytes = 150},
     36,
     NULL,
     "old loop.crashloop"},
    {"free space unknown", {.min_free_bytes = 150}, UINT64_MAX, NULL, ""},
    {"never the one just written", {.max_dumps = 1}, UINT64_MAX, "new", "old mid"},
};

START_TEST(prune_decisions)
{
	const struct prune_case *c = &prune_cases[_i];
	struct md_store_item it[4];
	bool remove[4];
	char got[128] = "";
	size_t n;

	items_new(it);
	n = md_store_select(it, 4, &c->limits, NOW, c->free_bytes, c->keep, remove);
	for (size_t i = 0; i < 4; i++) {
		if (!remove[i])
			continue;
		if (got[0])
			strcat(got, " ");
		strcat(got, it[i].id);
	}
	ck_assert_msg(strcmp(got, c->removed) == 0, "%s: removed '%s', want '%s'", c->what, got,
	              c->removed);
	ck_assert_uint_eq(n, c->removed[0] ? 1 + (size_t)(strchr(c->removed, ' ') != NULL) : 0);
	/* the table's cases remove at most two items */
}
END_TEST

/* ---- the report ---- */

static void report_full(struct md_report *r)
{
	static struct md_report_stream streams[2] = {
	    {"ThreadList", 3, "ok", 1234},
	    {"MinidumpdDiagnostics", 0x6d640001, "failed", 0},
	};
	static struct md_report_error errors[1] = {{"thread", 77, -ESRCH, "thread 77 vanished"}};

	md_report_init(r);
	r->pid = 4242;
	r->has_uid = true;
	r->uid = 1000;
	ck_assert_int_eq(md_report_set(&r->executable, "/usr/bin/app"), 0);
	r->has_dump = true;
	ck_assert_int_eq(md_report_set(&r->path, "/var/lib/minidumpd/dumps/x.dmp"), 0);
	r->bytes = 123456789012ull;
	r->threads = 21;
	r->modules = 33;
	r->memory_ranges = 44;
	r->memory_bytes = 5555555;
	r->duration_ms = 12.5;
	r->suspended_ms = 3.25;
	r->partial = true;
	r->has_crash = true;
	r->crash = (struct md_report_crash){
	    .thread_id = 4243, .code = 11, .flags = 1, .si_code = -6, .address = 0xdeadbeef00ull};
	strcpy(r->crash.signal, "SIGSEGV");
	r->streams = malloc(sizeof(streams));
	memcpy(r->streams, streams, sizeof(streams));
	r->n_streams = 2;
	r->errors = malloc(sizeof(errors));
	memcpy(r->errors, errors, sizeof(errors));
	r->n_errors = 1;
	r->errors_dropped = 9;
	r->kind = MD_REPORT_KIND_CRASH;
	strcpy(r->time, "2026-12-07T08:00:00Z");
	ck_assert_int_eq(md_report_set(&r->process_name, "app"), 0);
	strcpy(r->signal, "SIGSEGV");
	ck_assert_int_eq(md_report_annotate(r, "version", "1.2"), 0);
	ck_assert_int_eq(md_report_annotate(r, "channel", "beta"), 0);
	ck_assert_int_eq(md_report_annotate(r, "version", "1.3"), 0); /* replaces */
	ck_assert_int_eq(md_report_set(&r->id, "x"), 0);
	ck_assert_int_eq(md_report_set(&r->report_path, "/var/lib/minidumpd/dumps/x.json"), 0);
	r->compressed = true;
	r->bytes_on_disk = 4321;
	r->requested_by_pid = 4242;
	r->requested_by_uid = 1000;
	r->queued_ms = 0.75;
	r->budget_cut = true;
	r->rate_limited = true;
	r->suppressed = 3;
	r->suppressed_total = 8;
	r->max_crashes = 10;
	r->window_s = 60;
}

START_TEST(report_round_trip_keeps_every_field)
{
	struct md_report a, b;
	json_t *j, *k;
	char *text;

	report_full(&a);
	j = md_report_to_json(&a);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(md_report_from_json(j, &b), 0);
	ck_assert_uint_eq(b.pid, 4242);
	ck_assert(b.has_uid);
	ck_assert_uint_eq(b.uid, 1000);
	ck_assert_str_eq(b.executable, "/usr/bin/app");
	ck_assert(b.has_dump);
	ck_assert_str_eq(b.path, "/var/lib/minidumpd/dumps/x.dmp");
	ck_assert_uint_eq(b.bytes, 123456789012ull);
	ck_assert_uint_eq(b.threads, 21);
	ck_assert_uint_eq(b.modules, 33);
	ck_assert_uint_eq(b.memory_ranges, 44);
	ck_assert_uint_eq(b.memory_bytes, 5555555);
	ck_assert_double_eq(b.duration_ms, 12.5);
	ck_assert_double_eq(b.suspended_ms, 3.25);
	ck_assert(b.partial);
	ck_assert(b.has_crash);
	ck_assert_uint_eq(b.crash.thread_id, 4243);
	ck_assert_uint_eq(b.crash.code, 11);
	ck_assert_uint_eq(b.crash.flags, 1);
	ck_assert_int_eq(b.crash.si_code, -6);
	ck_assert_uint_eq(b.crash.address, 0xdeadbeef00ull);
	ck_assert_str_eq(b.crash.signal, "SIGSEGV");
	ck_assert(!b.truncated);
	ck_assert_uint_eq(b.n_streams, 2);
	ck_assert_str_eq(b.streams[1].name, "MinidumpdDiagnostics");
	ck_assert_uint_eq(b.streams[1].type, 0x6d640001);
	ck_assert_str_eq(b.streams[1].status, "failed");
	ck_assert_uint_eq(b.streams[0].bytes, 1234);
	ck_assert_uint_eq(b.n_errors, 1);
	ck_assert_str_eq(b.errors[0].kind, "thread");
	ck_assert_uint_eq(b.errors[0].id, 77);
	ck_assert_int_eq(b.errors[0].error, -ESRCH);
	ck_assert_str_eq(b.errors[0].message, "thread 77 vanished");
	ck_assert_uint_eq(b.errors_dropped, 9);
	ck_assert_int_eq(b.kind, MD_REPORT_KIND_CRASH);
	ck_assert_str_eq(b.time, "2026-12-07T08:00:00Z");
	ck_assert_str_eq(b.process_name, "app");
	ck_assert_str_eq(b.signal, "SIGSEGV");
	ck_assert_uint_eq(b.n_annotations, 2);
	ck_assert_str_eq(b.keys[0], "version");
	ck_assert_str_eq(b.values[0], "1.3");
	ck_assert_str_eq(b.keys[1], "channel");
	ck_assert_str_eq(b.values[1], "beta");
	ck_assert_str_eq(b.id, "x");
	ck_assert_str_eq(b.report_path, "/var/lib/minidumpd/dumps/x.json");
	ck_assert(b.compressed);
	ck_assert_uint_eq(b.bytes_on_disk, 4321);
	ck_assert_uint_eq(b.requested_by_pid, 4242);
	ck_assert_uint_eq(b.requested_by_uid, 1000);
	ck_assert_double_eq(b.queued_ms, 0.75);
	ck_assert(b.budget_cut);
	ck_assert(b.rate_limited);
	ck_assert_uint_eq(b.suppressed, 3);
	ck_assert_uint_eq(b.suppressed_total, 8);
	ck_assert_uint_eq(b.max_crashes, 10);
	ck_assert_uint_eq(b.window_s, 60);
	/* and the JSON of the copy is the JSON of the original */
	k = md_report_to_json(&b);
	ck_assert(json_equal(j, k));
	/* the keys the docs and older readers use, spelled as before */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "crash"), "address")),
	                 "0xdeadbeef00");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(j, "streams"), 1), "type")),
	                 "0x6d640001");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(j, "errors"), 0), "errno")),
	                 ESRCH);
	ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "crash");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "annotations"), "version")),
	    "1.3");
	/* truncated: the lists are left out and it says so */
	a.truncated = true;
	text = md_report_to_text(&a);
	ck_assert_ptr_nonnull(strstr(text, "\"truncated\":true"));
	ck_assert_ptr_null(strstr(text, "\"streams\""));
	ck_assert_ptr_null(strstr(text, "\"errors\":"));
	free(text);
	json_decref(j);
	json_decref(k);
	md_report_done(&a);
	md_report_done(&b);
}
END_TEST

START_TEST(report_groups_follow_what_is_set)
{
	struct md_report r;
	json_t *j;

	/* a crash-loop summary: no dump figures, no store keys */
	md_report_init(&r);
	r.pid = 1;
	r.kind = MD_REPORT_KIND_CRASH;
	r.rate_limited = true;
	j = md_report_to_json(&r);
	ck_assert_ptr_null(json_object_get(j, "bytes"));
	ck_assert_ptr_null(json_object_get(j, "id"));
	ck_assert(json_is_true(json_object_get(j, "rate_limited")));
	ck_assert(json_is_null(json_object_get(j, "crash")));
	ck_assert(json_is_null(json_object_get(j, "signal")));
	json_decref(j);
	md_report_done(&r);
	/* hostile input: wrong types are absent, not errors; not an object is */
	j = json_pack("{s:s, s:s, s:i, s:[i]}", "pid", "12", "executable", "x", "crash", 5,
	              "annotations", 1);
	ck_assert_int_eq(md_report_from_json(j, &r), 0);
	ck_assert_uint_eq(r.pid, 0);
	ck_assert(!r.has_crash);
	ck_assert_uint_eq(r.n_annotations, 0);
	ck_assert(!r.has_dump);
	md_report_done(&r);
	json_decref(j);
	j = json_array();
	ck_assert_int_eq(md_report_from_json(j, &r), -EINVAL);
	json_decref(j);
}
END_TEST

CHECK_SUITE_FN(store_suite, "store",
               CHECK_CASE_PLAIN("ids", CHECK_TEST(ids_are_checked), CHECK_TEST(names_round_trip),
                                CHECK_TEST(ids_are_made_from_the_executable)),
               CHECK_CASE("folder", check_tmpdir_setup, check_tmpdir_teardown, 0,
                          CHECK_TEST(scan_merges_files_by_id),
                          CHECK_TEST(remove_takes_every_file_of_an_id),
                          CHECK_TEST(expand_leaves_a_plain_dump_alone)),
               CHECK_CASE_PLAIN("prune", CHECK_LOOP_EACH(prune_decisions, prune_cases)),
               CHECK_CASE_PLAIN("report", CHECK_TEST(report_round_trip_keeps_every_field),
                                CHECK_TEST(report_groups_follow_what_is_set)));

CHECK_SUITE("store", store_suite);
