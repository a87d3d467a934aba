/* SPDX-License-Identifier: MIT */
/* Descriptors passed over a Unix socket (md-unix.h). */
#include <string.h>
#include <unistd.h>

#include "md-unix.h"

unsigned md_unix_take_fds(const struct msghdr *mh, int *fds, unsigned *n, unsigned max)
{
	unsigned came = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n < max)
				fds[(*n)++] = fd;
			else
				close(fd);
			came++;
		}
	}
	return came;
}
