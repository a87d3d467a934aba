/* SPDX-License-Identifier: MIT */
/*
 * `mdctl dump PID`: capture a live process. With --direct, mdctl itself stops the target
 * through the platform backend and writes the dump; through the daemon comes later. Whatever
 * happens (errors, the target dying, SIGINT or SIGTERM), the target is resumed before mdctl
 * exits, and no file is left under a final name unless it is complete.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "md-dump.h"
#include "md-output.h"
#include "md-report.h"
#include "mdctl.h"
#include "md-backend.h"

#define STALL_MAX_MS 60000 /* upper bound of the MDCTL_TEST_STALL_MS fault-injection pause */

static volatile sig_atomic_t cancel_signal;

static void on_signal(int sig)
{
	cancel_signal = sig;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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
	      "                     (default: EXE-PID-YYYYmmdd-HHMMSS.dmp here)\n"
	      "      --force        with --direct: replace FILE if it exists\n"
	      "      --json         print one JSON object describing the dump\n"
	      "  -h, --help         this text\n",
	      f);
}

/* Tests stop here to act on a target that is known to be stopped (see tests/). */
static void test_stall(void)
{
	const char *v = getenv("MDCTL_TEST_STALL_MS");
	double until;

	if (!v || !*v)
		return;
	until = now_ms() + (double)(strtol(v, NULL, 10) > STALL_MAX_MS ? STALL_MAX_MS
									: strtol(v, NULL, 10));
	while (!cancel_signal && now_ms() < until) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

static void default_name(const struct md_snapshot *s, char *out, size_t size)
{
	const char *exe = strrchr(s->process.exe, '/');
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	exe = exe ? exe + 1 : (s->process.exe[0] ? s->process.exe : "process");
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, size, "%.160s-%u-%s.dmp", exe, s->process.pid, stamp);
}

static void print_summary(const char *path, const struct md_dump_result *res,
			  const struct md_snapshot *s, double duration_ms, double suspended_ms)
{
	printf("%s: %.1f KiB, %u threads, %u modules, %u memory ranges (%.1f KiB)\n", path,
	       (double)res->bytes / 1024.0, res->threads, res->modules, res->memory_ranges,
	       (double)res->memory_bytes / 1024.0);
	printf("target %u stopped for %.2f ms; dump took %.2f ms\n", s->process.pid, suspended_ms,
	       duration_ms);
	if (s->diag.count)
		printf("%zu problem(s) recorded in the dump; see 'mdctl inspect %s'\n",
		       s->diag.count + s->diag.dropped, path);
	if (s->target_gone)
		printf("warning: the target exited during the dump; the dump is partial\n");
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
		fprintf(stderr, "mdctl: cannot reach minidumpd at %s: %s (is it running? --direct "
				"dumps without it)\n",
			socket_path, strerror(-r));
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
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"direct", no_argument, NULL, 'd'},
		{"force", no_argument, NULL, 'f'},        {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},         {"socket", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *output = NULL, *socket_path = NULL;
	bool direct = false, force = false, as_json = false, have_output = false;
	char dir[PATH_MAX], name[MD_OUTPUT_NAME_MAX], path[PATH_MAX + MD_OUTPUT_NAME_MAX];
	struct md_output out = {.dirfd = -1, .fd = -1};
	struct md_snapshot *s = NULL;
	struct md_platform_options popts = {.cancel = &cancel_signal, .pidfd = -1};
	struct md_dump_options dopts = {.cancel = &cancel_signal};
	struct md_dump_result res;
	struct sigaction sa;
	double t0, suspended_ms = 0;
	unsigned long pid;
	char *end;
	int c, r, ret = MDCTL_EXIT_FAILURE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'd': direct = true; break;
		case 'f': force = true; break;
		case 'j': as_json = true; break;
		case 's': socket_path = optarg; break;
		case 'h': usage(stdout); return MDCTL_EXIT_OK;
		default: usage(stderr); return MDCTL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return MDCTL_EXIT_USAGE;
	}
	errno = 0;
	pid = strtoul(argv[optind], &end, 10);
	if (errno || *end || pid == 0 || pid > INT_MAX) {
		fprintf(stderr, "mdctl: '%s' is not a process id\n", argv[optind]);
		return MDCTL_EXIT_USAGE;
	}
	if (!direct) {
		if (output || force) {
			fprintf(stderr, "mdctl: the daemon keeps dumps in its own folder; use --direct "
					"to choose the file\n");
			return MDCTL_EXIT_USAGE;
		}
		return dump_via_daemon((uint32_t)pid, mdctl_socket_path(socket_path), as_json);
	}

	/* The output is settled before the target is touched, so a bad path stops nothing. */
	if (output) {
		r = md_output_split_path(output, dir, sizeof(dir), name, sizeof(name));
		if (r < 0) {
			fprintf(stderr, "mdctl: %s: not a usable file name: %s\n", output, strerror(-r));
			return MDCTL_EXIT_OUTPUT;
		}
		have_output = true;
	} else {
		strcpy(dir, ".");
	}
	r = md_output_open(&out, dir);
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot create a file in %s: %s\n", dir, strerror(-r));
		return MDCTL_EXIT_OUTPUT;
	}
	if (have_output && md_output_check(&out, name, force) == -EEXIST) {
		fprintf(stderr, "mdctl: %s exists; use --force to replace it\n", output);
		ret = MDCTL_EXIT_OUTPUT;
		goto out;
	}

	/* SIGINT/SIGTERM/SIGHUP cancel the dump; the target is resumed before we exit. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	t0 = now_ms();
	r = md_platform_snapshot_new((uint32_t)pid, &popts, &s);
	if (r < 0) {
		if (r == -ESRCH) {
			fprintf(stderr, "mdctl: no process %lu\n", pid);
			ret = MDCTL_EXIT_NO_PROCESS;
		} else if (r == -EPERM || r == -EACCES) {
			char why[512];

			md_platform_explain_permission((uint32_t)pid, why, sizeof(why));
			fprintf(stderr, "mdctl: not allowed to dump process %lu: %s\n", pid, why);
			ret = MDCTL_EXIT_PERMISSION;
		} else if (r == -ECANCELED) {
			fprintf(stderr, "mdctl: interrupted; process %lu was resumed\n", pid);
			ret = MDCTL_EXIT_INTERRUPTED;
		} else if (r == -ETIMEDOUT) {
			fprintf(stderr, "mdctl: cannot stop process %lu: no thread could be stopped "
					"(asleep in the kernel, e.g. in vfork())\n", pid);
		} else {
			fprintf(stderr, "mdctl: cannot stop process %lu: %s\n", pid, strerror(-r));
		}
		goto out;
	}
	test_stall();
	r = cancel_signal ? -ECANCELED : md_dump_write(s, out.fd, &dopts, &res);
	suspended_ms = (double)md_platform_snapshot_resume(s) / 1000.0;
	if (r == -ECANCELED) {
		fprintf(stderr, "mdctl: interrupted; process %lu was resumed, no dump kept\n", pid);
		ret = MDCTL_EXIT_INTERRUPTED;
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot write the dump of process %lu: %s\n", pid,
			strerror(-r));
		ret = (r == -ENOSPC || r == -EFBIG || r == -EDQUOT || r == -EIO)
			      ? MDCTL_EXIT_OUTPUT
			      : MDCTL_EXIT_FAILURE;
		goto out;
	}
	if (!have_output)
		default_name(s, name, sizeof(name));
	r = md_output_commit(&out, name, force);
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot save the dump as %s: %s\n", name, strerror(-r));
		ret = MDCTL_EXIT_OUTPUT;
		goto out;
	}
	if (strcmp(dir, ".") == 0)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", name);

	{
		struct md_report_times times = {.duration_ms = now_ms() - t0,
						.suspended_ms = suspended_ms};

		if (as_json) {
			json_t *j = md_report_dump(s, &res, path, &times);

			if (!j || json_dumpf(j, stdout, JSON_COMPACT) < 0) {
				json_decref(j);
				fprintf(stderr, "mdctl: out of memory writing the report\n");
				goto out;
			}
			json_decref(j);
			fputc('\n', stdout);
		} else {
			print_summary(path, &res, s, times.duration_ms, suspended_ms);
		}
	}
	if (s->target_gone) {
		fprintf(stderr, "mdctl: process %lu exited during the dump; %s is partial\n", pid,
			path);
		ret = MDCTL_EXIT_TARGET_EXITED;
	} else {
		ret = MDCTL_EXIT_OK;
	}
out:
	md_platform_snapshot_free(s);
	md_output_abort(&out);
	if (cancel_signal && ret == MDCTL_EXIT_INTERRUPTED)
		ret = 128 + cancel_signal;
	return ret;
}
