/* SPDX-License-Identifier: MIT */
/*
 * The listening socket: inherited through socket activation (LISTEN_PID/LISTEN_FDS, the
 * protocol systemd documents; implemented here without libsystemd) or created at a path.
 * A stale socket file is replaced only when nothing answers on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "md-daemon.h"

#define LISTEN_FDS_START 3   /* the first inherited fd, per the activation protocol */
#define LISTEN_BACKLOG   256 /* pending connections the kernel holds for us */

int mdd_listen_coredump_fd = -1;

int mdd_listen_inherited(int *ret_fd)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	int type = 0, main_fd = LISTEN_FDS_START;
	socklen_t len = sizeof(type);
	long n;

	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	/* the variables are for us alone: do not pass them on */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	n = strtol(fds, NULL, 10);
	/* one socket, or two when minidumpd-coredump.socket (FileDescriptorName=coredump) is
	 * the other: the kernel's coredump socket (md-coredump.c) */
	if (n == 2 && names) {
		const char *colon = strchr(names, ':');

		if (!colon)
			return -EINVAL;
		if (!strcmp(colon + 1, "coredump")) {
			mdd_listen_coredump_fd = LISTEN_FDS_START + 1;
		} else if (!strncmp(names, "coredump:", 9)) {
			mdd_listen_coredump_fd = LISTEN_FDS_START;
			main_fd = LISTEN_FDS_START + 1;
		} else {
			return -EINVAL;
		}
		if (fcntl(mdd_listen_coredump_fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	} else if (n != 1) {
		return -EINVAL; /* we take exactly one socket */
	}
	if (getsockopt(main_fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (fcntl(main_fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	*ret_fd = main_fd;
	return 1;
}

/* Makes the socket's folder (such as /run/minidumpd) when it is missing, as it is when systemd
 * did not start us; any failure shows when the socket is bound there. */
static void make_parent(const char *path)
{
	char parent[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		mkdir(parent, 0755);
	}
}

int mdd_listen_create(const char *path, unsigned mode, int64_t gid, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	make_parent(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* another daemon may be serving it: only a dead socket may be replaced */
		int probe;
		bool alive;
		struct stat st;

		if (errno != EADDRINUSE)
			goto fail;
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (alive) {
			close(fd);
			return -EADDRINUSE;
		}
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			close(fd);
			return -EEXIST; /* never remove something that is not a socket */
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			goto fail;
	}
	if (gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid) < 0)
		goto fail;
	if (chmod(path, mode) < 0)
		goto fail;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	*ret_fd = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

int mdd_listen_attach(uv_pipe_t *server, int listen_fd)
{
	return uv_pipe_open(server, listen_fd);
}

int md_listen_peer(uv_pipe_t *conn, struct md_peer *ret_peer)
{
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)conn, &fd) != 0)
		return -EBADF;
	return md_platform_peer_credentials(fd, ret_peer);
}

int mdd_listen_pin_peer(uv_pipe_t *conn, struct md_peer *peer)
{
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)conn, &fd) != 0)
		return -EBADF;
	return md_platform_pin_peer(fd, peer);
}
