/* SPDX-License-Identifier: MIT */
/*
 * Runs a libFuzzer target's LLVMFuzzerTestOneInput() once on every file of the folders given,
 * without libFuzzer, so the seed corpus and every crash input saved as a regression seed are
 * replayed by `meson test` in every build (the ASan/UBSan build included). A target signals a
 * failure by aborting; this driver prints each file before it runs it, so the log names the
 * input that failed. Usage: fuzz-replay-NAME DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u) /* bytes: larger files are a mistake, not seeds */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long size;
	int r = -1;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || size > (long)REPLAY_MAX_INPUT ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "%s: cannot size it, or over %u bytes\n", path, REPLAY_MAX_INPUT);
		goto out;
	}
	/* an exact-size allocation, so ASan sees an over-read by even one byte */
	data = malloc(size ? (size_t)size : 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read it\n", path);
		goto out;
	}
	printf("%s (%ld bytes)\n", path, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	r = 0;
out:
	free(data);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	int files = 0, errors = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			errors++;
			continue;
		}
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) < 0)
				errors++;
			files++;
		}
		closedir(d);
	}
	printf("%d inputs replayed, %d unreadable\n", files, errors);
	return files > 0 && errors == 0 ? 0 : 1;
}
