/* SPDX-License-Identifier: MIT */
/*
 * minidumpd: the crash broker. Parses the command line, takes the listening socket (from socket
 * activation or by creating it), starts the privileged capture worker and drops itself to its
 * unprivileged user (md-privsep.h), and runs the libuv loop until SIGTERM, when it stops
 * accepting, finishes the dumps in flight and exits 0. It never touches the network.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "md-cmdline.h"
#include "md-daemon.h"
#include "md-os.h"

/* descriptors we may need: a socket and a pidfd per connection, plus dumps and logs */
#define FDS_NEEDED (2 * MDD_DAEMON_MAX_CONNECTIONS + 256)

/* Raises the soft limit on open files towards FDS_NEEDED (at most to the hard limit): the usual
 * soft limit of 1024 would run out before the connection limit does. */
static void raise_fd_limit(void)
{
	uint64_t limit;

	if (md_platform_raise_fd_limit(FDS_NEEDED, &limit) < 0 || limit >= FDS_NEEDED)
		return;
	mdd_log(MDD_LOG_WARNING, "open files limited to %llu; %d connections need %d",
	        (unsigned long long)limit, MDD_DAEMON_MAX_CONNECTIONS, FDS_NEEDED);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: minidumpd [OPTIONS]\n"
	        "\n"
	        "Crash broker: apps linked with libmdclient send their crashes here; minidumpd\n"
	        "writes a minidump of each into the dump folder, with a JSON report beside it.\n"
	        "\n"
	        "  --config FILE        read this config file (default %s, if it exists)\n"
	        "  --check-config       validate the config and policy files, then exit\n"
	        "  --socket PATH        listen here (default %s);\n"
	        "                       a socket passed by systemd/launchd takes precedence\n"
	        "  --socket-mode MODE   permission bits of the socket, octal (default 0666)\n"
	        "  --dump-dir DIR       where dumps and reports go (default %s)\n"
	        "  --max-dumps N        dumps in flight at once (default %d)\n"
	        "  --dump-timeout-ms N  time budget of one dump (default %d)\n"
	        "  --symbolize-socket PATH  symbolize through this socket's helper service\n"
	        "                       (symbolize.socket; minidumpd-symbolize.socket)\n"
	        "  --foreground         log to stderr instead of syslog\n"
	        "  --version            print the version\n"
	        "  -h, --help           this text\n",
	        MD_DEFAULT_CONFIG_FILE, MD_DEFAULT_SOCKET, MD_DEFAULT_DUMP_DIR,
	        MD_DEFAULT_MAX_DUMPS, MD_DEFAULT_DUMP_BUDGET_MS);
}

static void on_signal(uv_signal_t *h, int signum)
{
	mdd_log(MDD_LOG_NOTICE, "received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	mdd_notify("STOPPING=1\nSTATUS=stopping: finishing the dumps in flight");
	mdd_server_stop(h->data);
}

static uv_poll_t worker_watch;
static bool worker_gone;

/* The worker never speaks once ready: an event on its socket means it has gone. Without it
 * nothing can be dumped, and this process can no longer start another (it has no privileges
 * left): it stops, and exits 1 for the service manager to restart it. */
static void on_worker_event(uv_poll_t *h, int status, int events)
{
	struct mdd_daemon *d = h->data;
	char how[64];

	uv_poll_stop(h);
	worker_gone = true;
	mdd_privsep_worker_gone(how, sizeof(how));
	mdd_log(MDD_LOG_ERR, "the capture worker (pid %d) %s: stopping", mdd_privsep_worker_pid(),
	        how);
	mdd_notify("STATUS=the capture worker has gone: stopping");
	mdd_server_stop(d);
}

static void close_handle(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* --socket-mode: permission bits in octal. */
struct socket_mode_opt {
	unsigned *bits;
	bool *given;
};

static int parse_socket_mode(const char *arg, void *value)
{
	struct socket_mode_opt *o = value;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 8);
	if (errno || *end || !*arg || v > 0777) {
		fprintf(stderr, "minidumpd: --socket-mode wants octal bits, e.g. 0660\n");
		return -EINVAL;
	}
	*o->bits = (unsigned)v;
	*o->given = true;
	return 0;
}

int main(int argc, char **argv)
{
	/* command-line values, applied over the config file */
	const char *config_path = NULL, *socket_path = NULL, *dump_dir_opt = NULL,
	           *sym_socket = NULL;
	unsigned socket_mode = 0, max_dumps = 0, budget_ms = 0;
	bool have_mode = false, check_only = false, foreground = false;
	struct socket_mode_opt mode_opt = {&socket_mode, &have_mode};
	const struct md_cmdline_opt opts[] = {
	    MD_CMDLINE_STRING("config", 0, &config_path),
	    MD_CMDLINE_SET("check-config", 0, &check_only),
	    MD_CMDLINE_STRING("socket", 0, &socket_path),
	    MD_CMDLINE_CALL("socket-mode", 0, &mode_opt, parse_socket_mode),
	    MD_CMDLINE_STRING("dump-dir", 0, &dump_dir_opt),
	    MD_CMDLINE_UINT("max-dumps", 0, &max_dumps, 1, 64),
	    MD_CMDLINE_UINT("dump-timeout-ms", 0, &budget_ms, 1, 3600000),
	    MD_CMDLINE_STRING("symbolize-socket", 0, &sym_socket),
	    MD_CMDLINE_SET("foreground", 0, &foreground),
	    MD_CMDLINE_END,
	};
	const struct md_cmdline cmdline = {"minidumpd", usage, opts, .version = true,
	                                   .no_operands = true};
	struct mdd_config cfg;
	char err[MDD_CONFIG_ERROR_MAX];
	struct mdd_daemon d;
	char dump_dir[PATH_MAX], *real_dir;
	struct stat st;
	bool inherited;
	int fd = -1, r, ret = 1;

	if (!md_cmdline_parse(&cmdline, argc, argv, &r))
		return r;
	if (sym_socket && sym_socket[0] != '/') {
		fprintf(stderr, "minidumpd: --symbolize-socket wants an absolute path\n");
		return 2;
	}

	/* defaults, then the config file (the default one only if it exists), then flags */
	mdd_config_defaults(&cfg);
	memset(&d, 0, sizeof(d));
	r = mdd_config_load(&cfg, config_path ? config_path : MD_DEFAULT_CONFIG_FILE, err,
	                    sizeof(err));
	if (r < 0 && (config_path || r != -ENOENT)) {
		fprintf(stderr, "minidumpd: %s\n", err);
		goto out;
	}
	r = mdd_config_load_policy(&cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "minidumpd: %s\n", err);
		goto out;
	}
	if (check_only) {
		printf("%s: ok (%zu policy rule%s)\n",
		       cfg.config_path ? cfg.config_path : "defaults", cfg.policy.n_rules,
		       cfg.policy.n_rules == 1 ? "" : "s");
		ret = 0;
		goto out;
	}
	if (socket_path)
		cfg.socket_path = socket_path;
	if (dump_dir_opt)
		cfg.dump_dir = dump_dir_opt;
	if (have_mode)
		cfg.socket_mode = socket_mode;
	if (max_dumps)
		cfg.max_dumps = max_dumps;
	if (budget_ms)
		cfg.dump_budget_ms = budget_ms;
	if (sym_socket)
		cfg.symbolize_socket = sym_socket;
	cfg.foreground = foreground != 0;
	if (cfg.upload_enabled && cfg.dump_gid < 0) {
		/* the uploader must read the dumps: they go to the outbox's group */
		if (stat(cfg.upload_outbox, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "minidumpd: upload outbox %s: %s\n", cfg.upload_outbox,
			        errno ? md_os_strerror(errno) : "not a folder");
			goto out;
		}
		if (st.st_gid != 0)
			cfg.dump_gid = st.st_gid;
	}
	mdd_log_init(cfg.foreground);
	raise_fd_limit();

	/* a missing dump folder (its parent must exist) is made, private to root */
	if (md_os_make_private_dir(cfg.dump_dir) == 0)
		mdd_log(MDD_LOG_NOTICE, "created the dump folder %s", cfg.dump_dir);
	/* the dump folder must exist and be a folder; relative paths are made absolute */
	r = md_os_realpath(cfg.dump_dir, &real_dir);
	if (r >= 0) {
		r = snprintf(dump_dir, sizeof(dump_dir), "%s", real_dir) >= (int)sizeof(dump_dir)
		        ? -ENAMETOOLONG
		        : 0;
		free(real_dir);
	}
	if (r >= 0 && (stat(dump_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		r = errno ? -errno : -ENOTDIR;
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "dump folder %s: %s", cfg.dump_dir, md_os_strerror(-r));
		goto out;
	}
	cfg.dump_dir = dump_dir;

	r = mdd_listen_inherited(&fd);
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "inherited socket unusable: %s", md_os_strerror(-r));
		goto out;
	}
	inherited = r == 1;
	if (!inherited) {
		r = mdd_listen_create(cfg.socket_path, cfg.socket_mode, cfg.socket_gid, &fd);
		if (r < 0) {
			mdd_log(MDD_LOG_ERR, "cannot listen on %s: %s", cfg.socket_path,
			        md_os_strerror(-r));
			goto out;
		}
	}

	/* libuv's thread pool runs the captures, the journal and the stacks: one thread per
	 * concurrent dump, so that neither of the other two ever keeps a capture waiting */
	{
		char threads[16];

		snprintf(threads, sizeof(threads), "%u",
		         cfg.max_dumps + 2 > 1024 ? 1024 : cfg.max_dumps + 2);
		uv_os_setenv("UV_THREADPOOL_SIZE", threads);
	}
	d.loop = uv_default_loop();
	d.cfg = &cfg;
	d.socket_inherited = inherited;
	d.loops = calloc(1, sizeof(*d.loops));
	if (!d.loops) {
		mdd_log(MDD_LOG_ERR, "out of memory");
		goto out;
	}
	mdd_loop_init(d.loops, cfg.loop_max_crashes, cfg.loop_window_s);
	r = mdd_server_start(&d, fd);
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "cannot serve the socket: %s", uv_strerror(r));
		goto out;
	}
	fd = -1; /* the server's now */
	r = mdd_coredump_start(&d);
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "cannot serve the coredump socket %s: %s", cfg.coredump_socket,
		        md_os_strerror(-r));
		goto out;
	}
	/* the sockets are made (as root): now the worker, and this process gives up root */
	mdd_notify_open();
	r = mdd_privsep_start(&cfg, cfg.dump_dir, err, sizeof(err));
	if (r < 0) {
		mdd_log(MDD_LOG_ERR, "%s", err);
		goto out;
	}
	if (r == 1) {
		/* not fatal: a folder can become writable again (a full or read-only disk) */
		if ((r = mdd_privsep_check_folder(cfg.dump_dir)) < 0)
			mdd_log(MDD_LOG_WARNING,
			        "dump folder %s: %s as user %s (its parent folders must let it "
			        "through): dumps will fail",
			        cfg.dump_dir, md_os_strerror(-r), cfg.user);
		uv_poll_init(d.loop, &worker_watch, mdd_privsep_socket());
		worker_watch.data = &d;
		uv_poll_start(&worker_watch, UV_READABLE | UV_DISCONNECT, on_worker_event);
		mdd_log(MDD_LOG_NOTICE, "running as %s; the capture worker is pid %d", cfg.user,
		        mdd_privsep_worker_pid());
	}
	/* once: the helper and the sandbox stay as they are (and the user it runs as is final) */
	d.symbolize = mdd_symbolize_enabled(&cfg);
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	md_os_ignore_sigpipe();

	mdd_log(MDD_LOG_NOTICE, "minidumpd %s ready: socket %s, dumps in %s, %u at a time",
	        MD_VERSION_STRING, inherited ? "(inherited)" : cfg.socket_path, cfg.dump_dir,
	        cfg.max_dumps);
	mdd_notify("READY=1\nSTATUS=ready: dumps in %s, %u at a time", cfg.dump_dir, cfg.max_dumps);
	if (mdd_privsep_active())
		uv_unref((uv_handle_t *)&worker_watch); /* it does not keep the loop running */
	uv_run(d.loop, UV_RUN_DEFAULT);
	mdd_log(MDD_LOG_NOTICE, "stopped: %llu dumps written, %llu failed",
	        (unsigned long long)d.counters.dumps_ok,
	        (unsigned long long)d.counters.dumps_failed);
	ret = worker_gone ? 1 : 0;
	if (mdd_privsep_active()) {
		uv_close((uv_handle_t *)&worker_watch, NULL);
		uv_run(d.loop, UV_RUN_DEFAULT);
		mdd_privsep_stop();
	}
out:
	if (d.loop) {
		if (ret != 0) {
			/* started halfway: close what was opened so the loop can be closed */
			uv_walk(d.loop, close_handle, NULL);
			uv_run(d.loop, UV_RUN_DEFAULT);
		}
		uv_loop_close(d.loop);
	}
	if (fd >= 0)
		close(fd);
	mdd_journal_free(&d);
	free(d.users);
	free(d.loops);
	mdd_config_done(&cfg);
	return ret;
}
