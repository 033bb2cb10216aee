/*
 * Crash-safe replacement of a file. The temporary file lives in the target's
 * directory, so the rename never crosses a file system, and is named
 * `.NAME.XXXXXX` so a listing of the directory shows where a leftover came
 * from. The order is the one POSIX needs for durability: data, fsync, rename,
 * fsync of the directory (the rename is only durable once the directory is).
 */
#include "common/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Splits path into a directory ("." when there is none) and a temporary name
 * in it. Both are heap strings the caller frees. */
static int make_names(const char *path, char **dir, char **tmp)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dirlen = slash ? (size_t)(slash - path) : 0;

	if (!*base)
		return -EINVAL;
	if (slash)
		*dir = strndup(path, dirlen ? dirlen : 1); /* "/name" lives in "/" */
	else
		*dir = strdup(".");
	if (!*dir)
		return -ENOMEM;
	if (asprintf(tmp, "%.*s.%s.XXXXXX", (int)(base - path), path, base) < 0) {
		free(*dir);
		*dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char *dir = NULL, *tmp = NULL;
	int fd, r;

	r = make_names(path, &dir, &tmp);
	if (r < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* fchmod, unlike open's mode, is not masked by the umask. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto err_close;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto err_close;
	if (fsync(fd) < 0) {
		r = -errno;
		goto err_close;
	}
	if (close(fd) < 0) {
		r = -errno;
		goto err_unlink;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto err_unlink;
	}
	r = fsync_dir(dir);
	goto out;

err_close:
	close(fd);
err_unlink:
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return r;
}
