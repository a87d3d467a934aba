/* SPDX-License-Identifier: MIT */
/*
 * `mdctl coredump enable | disable | status` (root): makes minidumpd the kernel's crash
 * handler for every process, or puts the previous handler back. enable sets
 * kernel.core_pattern to the coredump socket where the kernel has it ("@@PATH" from Linux
 * 6.17, "@PATH" on 6.16), else to the pipe helper with kernel.core_pipe_limit > 0, after
 * saving the previous values in a state file; disable writes them back. status says which
 * mode is active, whether minidumpd answers, and what the previous handler was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "md-os.h"
#include "mdctl.h"

#define CORE_PATTERN    "/proc/sys/kernel/core_pattern"
#define CORE_PIPE_LIMIT "/proc/sys/kernel/core_pipe_limit"
#define CORE_MODES      "/proc/sys/kernel/core_modes"
#define STATE_DEFAULT   "/var/lib/minidumpd/core_pattern.previous"
#define SOCKET_DEFAULT  "/run/minidumpd/coredump.sock"
#ifndef MD_LIBEXECDIR
#define MD_LIBEXECDIR "/usr/libexec"
#endif
#define HELPER_DEFAULT   MD_LIBEXECDIR "/minidumpd/md-coredump"
#define PIPE_LIMIT       "16" /* crashes whose helper may run at once with /proc kept */
#define VALUE_MAX        4096
#define CORE_PATTERN_MAX 127 /* bytes the kernel keeps of core_pattern (CORENAME_MAX_SIZE - 1) */

/* Writes a kernel setting (/proc/sys/...). */
static int write_value(const char *path, const char *value)
{
	return md_os_write_file(path, value, strlen(value), 0644);
}

/* Linux >= 6.17 (the request protocol) from uname's release. */
static bool kernel_has_requests(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 17);
}

/* core_modes lists one mode a line; "socket" from Linux 6.16. */
static bool kernel_has_socket(void)
{
	char *modes = NULL;
	size_t len;
	bool has;

	if (md_os_read_file(CORE_MODES, VALUE_MAX, &modes, &len) < 0)
		return false;
	has = strstr(modes, "socket") != NULL;
	free(modes);
	return has;
}

/* Whether pattern is one of ours: the coredump socket or the pipe helper. */
static const char *mode_of(const char *pattern, const char *sock, const char *helper)
{
	size_t hl = strlen(helper);

	if ((!strncmp(pattern, "@@", 2) && !strcmp(pattern + 2, sock)) ||
	    (pattern[0] == '@' && pattern[1] != '@' && !strcmp(pattern + 1, sock)))
		return "socket";
	if (pattern[0] == '|' && !strncmp(pattern + 1, helper, hl) &&
	    (pattern[1 + hl] == ' ' || !pattern[1 + hl]))
		return "pipe";
	return NULL;
}

/* The state file: the previous core_pattern on its first line, core_pipe_limit on its second. */
static int save_state(const char *state, const char *pattern, const char *limit)
{
	char tmp[VALUE_MAX + 16];
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	fprintf(f, "%s\n%s\n", pattern, limit);
	if (fclose(f) != 0 || rename(tmp, state) < 0) {
		unlink(tmp);
		return -errno;
	}
	return 0;
}

static int load_state(const char *state, char *pattern, char *limit)
{
	FILE *f = fopen(state, "re");

	if (!f)
		return -errno;
	if (!fgets(pattern, VALUE_MAX, f) || !fgets(limit, 64, f)) {
		fclose(f);
		return -EBADMSG;
	}
	fclose(f);
	pattern[strcspn(pattern, "\n")] = '\0';
	limit[strcspn(limit, "\n")] = '\0';
	return 0;
}

static int enable(const char *state, const char *sock, const char *helper, bool pipe_mode)
{
	char old[VALUE_MAX], old_limit[64], pattern[VALUE_MAX];
	const char *mode;
	int r;

	if ((r = md_os_read_line(CORE_PATTERN, old, sizeof(old))) < 0 ||
	    (r = md_os_read_line(CORE_PIPE_LIMIT, old_limit, sizeof(old_limit))) < 0) {
		fprintf(stderr, "mdctl: cannot read the kernel's settings: %s\n", strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	if (!pipe_mode && kernel_has_socket())
		snprintf(pattern, sizeof(pattern), "%s%s", kernel_has_requests() ? "@@" : "@",
		         sock);
	else
		snprintf(pattern, sizeof(pattern), "|%s --socket %s %%P %%I %%s %%t %%d %%u %%g",
		         helper, sock);
	if (strlen(pattern) > CORE_PATTERN_MAX) {
		fprintf(stderr,
		        "mdctl: '%s' is longer than the kernel's %d bytes for core_pattern\n",
		        pattern, CORE_PATTERN_MAX);
		return MDCTL_EXIT_USAGE;
	}
	mode = mode_of(pattern, sock, helper);
	/* keep the first previous handler: enabling twice must not save ourselves */
	if (!mode_of(old, sock, helper) && (r = save_state(state, old, old_limit)) < 0) {
		fprintf(stderr, "mdctl: cannot save the previous handler in %s: %s\n", state,
		        strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	if (!strcmp(mode, "pipe") && !strcmp(old_limit, "0") &&
	    (r = write_value(CORE_PIPE_LIMIT, PIPE_LIMIT)) < 0) {
		fprintf(stderr, "mdctl: cannot set core_pipe_limit: %s\n", strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	r = write_value(CORE_PATTERN, pattern);
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot set core_pattern: %s\n", strerror(-r));
		write_value(CORE_PIPE_LIMIT, old_limit);
		return MDCTL_EXIT_FAILURE;
	}
	printf("coredump: enabled, %s mode (%s)\n", mode, pattern);
	return MDCTL_EXIT_OK;
}

static int disable(const char *state, const char *sock, const char *helper)
{
	char now[VALUE_MAX], pattern[VALUE_MAX], limit[64];
	int r;

	r = load_state(state, pattern, limit);
	if (r < 0) {
		fprintf(stderr, "mdctl: no previous handler saved in %s: %s\n", state,
		        strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	if (md_os_read_line(CORE_PATTERN, now, sizeof(now)) == 0 && !mode_of(now, sock, helper))
		fprintf(stderr,
		        "mdctl: core_pattern is no longer ours ('%s'); putting back the "
		        "previous one anyway\n",
		        now);
	if ((r = write_value(CORE_PATTERN, pattern)) < 0 ||
	    (r = write_value(CORE_PIPE_LIMIT, limit)) < 0) {
		fprintf(stderr, "mdctl: cannot put the previous handler back: %s\n", strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	unlink(state);
	printf("coredump: disabled, core_pattern is '%s' again\n", pattern);
	return MDCTL_EXIT_OK;
}

static int status(const char *state, const char *sock, const char *helper,
                  const char *daemon_socket)
{
	char now[VALUE_MAX], prev[VALUE_MAX], limit[64];
	uint8_t msg[32];
	static uint8_t reply[MD_PROTO_MAX_MESSAGE];
	struct md_proto_enc e;
	struct md_proto_msg m;
	const char *mode;
	struct stat st;
	int n, r;

	r = md_os_read_line(CORE_PATTERN, now, sizeof(now));
	if (r < 0) {
		fprintf(stderr, "mdctl: cannot read core_pattern: %s\n", strerror(-r));
		return MDCTL_EXIT_FAILURE;
	}
	mode = mode_of(now, sock, helper);
	printf("core_pattern: %s\n", now);
	printf("mode: %s\n", mode            ? mode
	                     : now[0] == '|' ? "another pipe handler"
	                     : now[0] == '@' ? "another socket"
	                                     : "core files");
	printf("kernel: %s\n",
	       kernel_has_socket()
	           ? (kernel_has_requests() ? "coredump socket with requests" : "coredump socket")
	           : "pipe only");
	printf("coredump socket: %s%s\n", sock,
	       stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) ? "" : " (missing)");
	md_proto_begin(&e, msg, sizeof(msg), MD_MSG_PING);
	n = md_proto_finish(&e);
	r = mdctl_request(daemon_socket, msg, (size_t)n, 5000, reply, sizeof(reply), &m);
	printf("minidumpd: %s\n", r == 0 ? "answers" : strerror(-r));
	if (load_state(state, prev, limit) == 0)
		printf("previous handler: %s (core_pipe_limit %s)\n", prev, limit);
	else
		printf("previous handler: none saved\n");
	return mode ? MDCTL_EXIT_OK : MDCTL_EXIT_FAILURE;
}

static void usage(FILE *f)
{
	fputs("Usage: mdctl coredump enable|disable|status [--pipe]\n"
	      "         [--coredump-socket PATH] [--helper PATH] [--state FILE]\n\n"
	      "Make minidumpd the kernel's crash handler (kernel.core_pattern), or put\n"
	      "the previous handler back. Socket mode where the kernel has it, else (or\n"
	      "with --pipe) the pipe helper. Root only. status exits 1 when minidumpd is\n"
	      "not the handler.\n",
	      f);
}

int mdctl_coredump_main(int argc, char **argv)
{
	const char *sock = SOCKET_DEFAULT, *helper = HELPER_DEFAULT, *state = STATE_DEFAULT;
	const char *daemon_socket = NULL, *verb;
	bool pipe_mode = false;
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("coredump-socket", 0, &sock),
	    MD_CMDLINE_STRING("socket", 0, &daemon_socket),
	    MD_CMDLINE_STRING("helper", 0, &helper),
	    MD_CMDLINE_STRING("state", 0, &state),
	    MD_CMDLINE_SET("pipe", 0, &pipe_mode),
	    MD_CMDLINE_END,
	};
	int code;

	if (!mdctl_parse_options(argc, argv, opts, usage, &code))
		return code;
	verb = argv[optind];
	daemon_socket = mdctl_socket_path(daemon_socket);
	if (!strcmp(verb, "status"))
		return status(state, sock, helper, daemon_socket);
	if (geteuid() != 0) {
		fprintf(stderr, "mdctl: coredump %s changes kernel settings: run as root\n", verb);
		return MDCTL_EXIT_PERMISSION;
	}
	if (!strcmp(verb, "enable"))
		return enable(state, sock, helper, pipe_mode);
	if (!strcmp(verb, "disable"))
		return disable(state, sock, helper);
	fprintf(stderr, "mdctl: coredump wants enable, disable or status, not '%s'\n", verb);
	return MDCTL_EXIT_USAGE;
}
