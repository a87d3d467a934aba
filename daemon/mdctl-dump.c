/* SPDX-License-Identifier: MIT */
/*
 * `mdctl dump PID`: capture a live process, through the daemon or, with --direct, from this
 * process through the same capture pipeline the daemon runs (common/md-capture.c). Whatever
 * happens (errors, the target dying, SIGINT or SIGTERM), the target is resumed before mdctl
 * exits, and no file is left under a final name unless it is complete.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "md-backend.h"
#include "md-capture.h"
#include "md-os.h"
#include "md-report.h"
#include "mdctl.h"

#define STALL_MAX_MS 60000 /* upper bound of the MDCTL_TEST_STALL_MS fault-injection pause */

static volatile sig_atomic_t cancel_signal;

static void on_signal(int sig)
{
	cancel_signal = sig;
}

static void usage(FILE *f)
{
	fputs("Usage: mdctl dump PID [--json] [--socket PATH]\n"
	      "       mdctl dump PID --direct [-o FILE] [--force] [--json]\n"
	      "\n"
	      "Write a minidump of the live process PID. The process is stopped while its\n"
	      "threads, registers and memory are captured, then resumed. By default minidumpd\n"
	      "does the capture and keeps the dump in its dump folder; only root and the\n"
	      "process's owner may ask for it.\n"
	      "\n"
	      "      --socket PATH  the daemon's socket (default $MINIDUMPD_SOCKET, else\n"
	      "                     /run/minidumpd/minidumpd.sock)\n"
	      "      --direct       capture from this process with ptrace, without the daemon\n"
	      "  -o, --output FILE  with --direct: where to write\n"
	      "                     (default: EXE.PID.YYYYmmddTHHMMSSZ.TID.dmp here)\n"
	      "      --force        with --direct: replace FILE if it exists\n"
	      "      --json         print one JSON object describing the dump\n"
	      "  -h, --help         this text\n",
	      f);
}

/* Tests stop here to act on a target that is known to be stopped (see tests/): the capture's
 * stopped hook. Only in a build configured with -Dtest_hooks=true (tests/run does it); never
 * in a default build. */
#if MD_TEST_HOOKS
static int test_stall(void *ctx, const struct md_snapshot *s)
{
	const char *v = getenv("MDCTL_TEST_STALL_MS");
	double until;

	if (!v || !*v)
		return 0;
	until = md_now_ms() +
	        (double)(strtol(v, NULL, 10) > STALL_MAX_MS ? STALL_MAX_MS : strtol(v, NULL, 10));
	while (!cancel_signal && md_now_ms() < until)
		md_os_sleep_ms(10);
	return 0;
}
#define TEST_STALL test_stall
#else
#define TEST_STALL NULL
#endif

static void print_summary(const struct md_capture_result *res)
{
	const struct md_dump_result *d = &res->dump;
	const struct md_snapshot *s = res->snapshot;

	printf("%s: %.1f KiB, %u threads, %u modules, %u memory ranges (%.1f KiB)\n", res->path,
	       (double)d->bytes / 1024.0, d->threads, d->modules, d->memory_ranges,
	       (double)d->memory_bytes / 1024.0);
	printf("target %u stopped for %.2f ms; dump took %.2f ms\n", s->process.pid,
	       res->suspended_ms, res->duration_ms);
	if (s->diag.count)
		printf("%zu problem(s) recorded in the dump; see 'mdctl inspect %s'\n",
		       s->diag.count + s->diag.dropped, res->path);
	if (s->target_gone)
		printf("warning: the target exited during the dump; the dump is partial\n");
}

/* Says why a direct capture failed, by the step that failed; returns mdctl's exit code. */
static int explain_failure(const struct md_capture_result *res, int r, uint32_t pid,
                           const char *dir, const char *output)
{
	switch (res->step) {
	case MD_CAPTURE_STEP_OPEN:
	case MD_CAPTURE_STEP_PREPARE:
		fprintf(stderr, "mdctl: cannot create a file in %s: %s\n", dir, md_os_strerror(-r));
		return MDCTL_EXIT_OUTPUT;
	case MD_CAPTURE_STEP_NAME:
		fprintf(stderr, "mdctl: %s exists; use --force to replace it\n", output);
		return MDCTL_EXIT_OUTPUT;
	case MD_CAPTURE_STEP_SNAPSHOT:
		if (r == -ESRCH) {
			fprintf(stderr, "mdctl: no process %u\n", pid);
			return MDCTL_EXIT_NO_PROCESS;
		}
		if (r == -EPERM || r == -EACCES) {
			char why[512];

			md_platform_explain_permission(pid, why, sizeof(why));
			fprintf(stderr, "mdctl: not allowed to dump process %u: %s\n", pid, why);
			return MDCTL_EXIT_PERMISSION;
		}
		if (r == -ECANCELED) {
			fprintf(stderr, "mdctl: interrupted; process %u was resumed\n", pid);
			return MDCTL_EXIT_INTERRUPTED;
		}
		if (r == -ETIMEDOUT) {
			fprintf(
			    stderr,
			    "mdctl: cannot stop process %u: no thread could be stopped (asleep in "
			    "the kernel, e.g. in vfork())\n",
			    pid);
			return MDCTL_EXIT_FAILURE;
		}
		fprintf(stderr, "mdctl: cannot stop process %u: %s\n", pid, md_os_strerror(-r));
		return MDCTL_EXIT_FAILURE;
	case MD_CAPTURE_STEP_STOPPED:
	case MD_CAPTURE_STEP_WRITE:
	case MD_CAPTURE_STEP_COMPRESS:
		if (r == -ECANCELED) {
			fprintf(stderr,
			        "mdctl: interrupted; process %u was resumed, no dump kept\n", pid);
			return MDCTL_EXIT_INTERRUPTED;
		}
		fprintf(stderr, "mdctl: cannot write the dump of process %u: %s\n", pid,
		        md_os_strerror(-r));
		return (md_os_error_is_out_of_space(r) || r == -EFBIG || r == -EIO)
		           ? MDCTL_EXIT_OUTPUT
		           : MDCTL_EXIT_FAILURE;
	case MD_CAPTURE_STEP_COMMIT:
		fprintf(stderr, "mdctl: cannot save the dump as %s: %s\n",
		        output ? output : res->name, md_os_strerror(-r));
		return MDCTL_EXIT_OUTPUT;
	case MD_CAPTURE_STEP_DONE:
		break;
	}
	return MDCTL_EXIT_FAILURE;
}

/* Prints the JSON report of a capture on one line of stdout. */
static int print_report(const struct md_capture_result *res)
{
	struct md_report_times times = {.duration_ms = res->duration_ms,
	                                .suspended_ms = res->suspended_ms};
	json_t *j = md_report_dump(res->snapshot, &res->dump, res->path, &times);

	if (!j || json_dumpf(j, stdout, JSON_COMPACT) < 0) {
		json_decref(j);
		fprintf(stderr, "mdctl: out of memory writing the report\n");
		return -ENOMEM;
	}
	json_decref(j);
	fputc('\n', stdout);
	return 0;
}

/* `--direct`: the capture from this process, into output (or a default name here). */
static int dump_direct(uint32_t pid, const char *output, bool force, bool as_json)
{
	char dir[PATH_MAX], name[MD_OUTPUT_NAME_MAX];
	struct md_capture_options o = {
	    .backend = &md_platform_live_backend,
	    .pid = pid,
	    .snapshot = {.cancel = &cancel_signal, .pidfd = -1},
	    .dump = {.cancel = &cancel_signal},
	    .dir = dir,
	    .replace = force,
	    .stopped = TEST_STALL,
	};
	struct md_capture_result res;
	int r, ret;

	if (output) {
		r = md_output_split_path(output, dir, sizeof(dir), name, sizeof(name));
		if (r < 0) {
			fprintf(stderr, "mdctl: %s: not a usable file name: %s\n", output,
			        md_os_strerror(-r));
			return MDCTL_EXIT_OUTPUT;
		}
		o.name = name;
	} else {
		strcpy(dir, ".");
	}

	/* SIGINT/SIGTERM/SIGHUP cancel the dump; the target is resumed before we exit. */
	md_os_on_interrupt(on_signal);

	r = md_capture_dump(&o, &res);
	if (r < 0) {
		ret = explain_failure(&res, r, pid, dir, output);
		if (cancel_signal && ret == MDCTL_EXIT_INTERRUPTED)
			ret = 128 + cancel_signal;
		return ret;
	}
	ret = MDCTL_EXIT_OK;
	if (as_json) {
		if (print_report(&res) < 0)
			ret = MDCTL_EXIT_FAILURE;
	} else {
		print_summary(&res);
	}
	if (ret == MDCTL_EXIT_OK && res.snapshot->target_gone) {
		fprintf(stderr, "mdctl: process %u exited during the dump; %s is partial\n", pid,
		        res.path);
		ret = MDCTL_EXIT_TARGET_EXITED;
	}
	md_capture_result_done(&res);
	return ret;
}

static int dump_via_daemon(uint32_t pid, const char *socket_path, bool as_json)
{
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	uint8_t msg[64];
	struct md_proto_enc e;
	struct md_proto_msg m;
	int n, r;

	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_DUMP_REQUEST);
	md_proto_put_u32(&e, MD_TAG_PID, pid);
	n = md_proto_finish(&e);
	r = mdctl_request(socket_path, msg, (size_t)n, MDCTL_DAEMON_TIMEOUT_MS, reply,
	                  sizeof(reply), &m);
	if (r < 0) {
		fprintf(stderr,
		        "mdctl: cannot reach minidumpd at %s: %s (is it running? --direct "
		        "dumps without it)\n",
		        socket_path, md_os_strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	if (m.type == MD_MSG_ERROR) {
		fprintf(stderr, "mdctl: %s\n", m.text);
		return m.error == -ESRCH   ? MDCTL_EXIT_NO_PROCESS
		       : m.error == -EPERM ? MDCTL_EXIT_PERMISSION
		                           : MDCTL_EXIT_FAILURE;
	}
	if (m.type != MD_MSG_RESULT) {
		fprintf(stderr, "mdctl: unexpected %s reply from minidumpd\n",
		        md_proto_type_to_string(m.type));
		return MDCTL_EXIT_FAILURE;
	}
	if (as_json) {
		printf("%s\n", m.text);
	} else {
		json_t *j = json_loads(m.text, 0, NULL);

		printf("%s: %lld bytes, %lld threads, %lld modules; target stopped for %.2f ms\n",
		       json_string_value(json_object_get(j, "path")),
		       (long long)json_integer_value(json_object_get(j, "bytes")),
		       (long long)json_integer_value(json_object_get(j, "threads")),
		       (long long)json_integer_value(json_object_get(j, "modules")),
		       json_real_value(json_object_get(j, "suspended_ms")));
		json_decref(j);
	}
	return MDCTL_EXIT_OK;
}

int mdctl_dump_main(int argc, char **argv)
{
	const char *output = NULL, *socket_path = NULL;
	bool direct = false, force = false, as_json = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("output", 'o', &output),    MD_CMDLINE_SET("direct", 0, &direct),
	    MD_CMDLINE_SET("force", 0, &force),           MD_CMDLINE_SET("json", 0, &as_json),
	    MD_CMDLINE_STRING("socket", 0, &socket_path), MD_CMDLINE_END,
	};
	unsigned long pid;
	char *end;
	int code;

	if (!mdctl_parse_options(argc, argv, opts, usage, &code))
		return code;
	errno = 0;
	pid = strtoul(argv[optind], &end, 10);
	if (errno || *end || pid == 0 || pid > INT_MAX) {
		fprintf(stderr, "mdctl: '%s' is not a process id\n", argv[optind]);
		return MDCTL_EXIT_USAGE;
	}
	if (direct)
		return dump_direct((uint32_t)pid, output, force, as_json);
	if (output || force) {
		fprintf(stderr, "mdctl: the daemon keeps dumps in its own folder; use --direct to "
		                "choose the file\n");
		return MDCTL_EXIT_USAGE;
	}
	return dump_via_daemon((uint32_t)pid, mdctl_socket_path(socket_path), as_json);
}
