/* SPDX-License-Identifier: MIT */
/*
 * Checks, under Wine, the semantics of the Windows OS layer (platform/md-os.h) that the POSIX
 * emulation it replaced did not have. Run by tests/windows/run-under-wine as
 * `win-os-check CHECK FOLDER`; prints what it found and exits 0 when the check holds:
 *   pread        md_os_pread and md_os_pwrite leave the file offset where it was
 *   replace      md_os_replace_file replaces an existing file (twice in a row)
 *   private-dir  md_os_make_private_dir makes a folder whose DACL has no entry inherited
 *                from its parent and grants nothing to Everyone, Users or Authenticated Users
 */
#include <windows.h>

#include <aclapi.h>

#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md-os.h"

#define PATH_BYTES 1024 /* bytes of a test file's path */
#define TEXT_MAX   64   /* bytes of a test file's contents */

static int fail(const char *what, int r)
{
	printf("FAIL: %s: %s\n", what, r ? md_os_strerror(r) : "wrong result");
	return 1;
}

static int write_file(const char *path, const char *text)
{
	int fd = md_os_open_write(path, MD_OS_TRUNCATE, 0600), r;

	if (fd < 0)
		return fd;
	r = md_os_write_full(fd, text, strlen(text));
	close(fd);
	return r;
}

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = md_os_open_read(path);
	int64_t n;

	if (fd < 0)
		return fd;
	n = md_os_read_full(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

static int check_pread(const char *dir)
{
	char path[PATH_BYTES], buf[TEXT_MAX] = "";
	int64_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s\\pread.bin", dir);
	r = write_file(path, "0123456789");
	if (r < 0)
		return fail("write pread.bin", r);
	fd = md_os_open_read(path);
	if (fd < 0)
		return fail("open pread.bin", fd);
	if (md_os_read_full(fd, buf, 2) != 2 || memcmp(buf, "01", 2) != 0)
		return fail("read the first 2 bytes", 0);
	n = md_os_pread(fd, buf, 3, 6);
	if (n != 3 || memcmp(buf, "678", 3) != 0)
		return fail("md_os_pread of 3 bytes at 6", n < 0 ? (int)n : 0);
	if (_lseeki64(fd, 0, SEEK_CUR) != 2)
		return fail("the offset after md_os_pread is still 2", 0);
	if (md_os_read_full(fd, buf, 2) != 2 || memcmp(buf, "23", 2) != 0)
		return fail("the next read goes on at 2", 0);
	close(fd);
	printf("md_os_pread read \"678\" at 6 and the next read still got \"23\" at 2\n");

	fd = md_os_open_write(path, MD_OS_TRUNCATE, 0600);
	if (fd < 0)
		return fail("reopen pread.bin", fd);
	if (md_os_write_full(fd, "ab", 2) < 0 || md_os_pwrite(fd, "XY", 2, 6) != 2 ||
	    _lseeki64(fd, 0, SEEK_CUR) != 2 || md_os_write_full(fd, "cd", 2) < 0)
		return fail("md_os_pwrite leaves the offset at 2", 0);
	close(fd);
	r = read_text(path, buf, sizeof(buf));
	if (r < 0 || memcmp(buf, "abcd\0\0XY", 8) != 0)
		return fail("the file is \"abcd\\0\\0XY\"", r);
	printf("md_os_pwrite wrote \"XY\" at 6 and the next write still went to 2\n");
	return 0;
}

static int check_replace(const char *dir)
{
	char to[PATH_BYTES], from[PATH_BYTES], buf[TEXT_MAX];
	const char *versions[] = {"first", "second", "third"};
	int r;

	snprintf(to, sizeof(to), "%s\\metrics.prom", dir);
	snprintf(from, sizeof(from), "%s\\metrics.prom.tmp", dir);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		r = write_file(from, versions[i]);
		if (r < 0)
			return fail("write the new version", r);
		r = md_os_replace_file(from, to);
		if (r < 0)
			return fail(versions[i], r);
		r = read_text(to, buf, sizeof(buf));
		if (r < 0 || strcmp(buf, versions[i]) != 0)
			return fail("the file holds the new version", r);
		printf("replaced: the file now holds \"%s\"\n", buf);
	}
	return 0;
}

/* Whether sid is one that stands for other users: Everyone, Users, Authenticated Users. */
static BOOL is_others(PSID sid)
{
	static const WELL_KNOWN_SID_TYPE others[] = {WinWorldSid, WinBuiltinUsersSid,
	                                             WinAuthenticatedUserSid};

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (IsWellKnownSid(sid, others[i]))
			return TRUE;
	return FALSE;
}

static int check_private_dir(const char *dir)
{
	char path[PATH_BYTES];
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	DWORD e;
	int r;

	snprintf(path, sizeof(path), "%s\\private", dir);
	r = md_os_make_private_dir(path);
	if (r < 0)
		return fail("md_os_make_private_dir", r);
	if (md_os_make_private_dir(path) != -EEXIST)
		return fail("a second md_os_make_private_dir says -EEXIST", 0);
	e = GetNamedSecurityInfoA(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
	                          &dacl, NULL, &sd);
	if (e != ERROR_SUCCESS)
		return fail("GetNamedSecurityInfo", -EIO);
	if (!dacl)
		return fail("the folder has a DACL (a NULL DACL lets everyone in)", 0);
	for (DWORD i = 0; i < dacl->AceCount; i++) {
		ACE_HEADER *h;

		if (!GetAce(dacl, i, (void **)&h))
			return fail("GetAce", -EIO);
		if (h->AceFlags & INHERITED_ACE)
			return fail("no entry is inherited from the parent folder", 0);
		if (h->AceType == ACCESS_ALLOWED_ACE_TYPE &&
		    is_others(&((ACCESS_ALLOWED_ACE *)h)->SidStart))
			return fail("no entry grants other users access", 0);
	}
	printf("private folder: %u entries, none inherited, none for other users\n",
	       (unsigned)dacl->AceCount);
	LocalFree(sd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: win-os-check pread|replace|private-dir FOLDER\n");
		return 2;
	}
	if (strcmp(argv[1], "pread") == 0)
		return check_pread(argv[2]);
	if (strcmp(argv[1], "replace") == 0)
		return check_replace(argv[2]);
	if (strcmp(argv[1], "private-dir") == 0)
		return check_private_dir(argv[2]);
	fprintf(stderr, "win-os-check: no check %s\n", argv[1]);
	return 2;
}
