/*
 * Direct mode: resolv.conf rewritten, its original kept as a byte-exact
 * copy (or, for a symlink, as a symlink to the same target) and put back
 * by dns_direct_restore.
 *
 * resolv.conf is replaced atomically (a temporary file renamed over it)
 * where it can be. Where it is a bind mount (containers; `ip netns exec'
 * with /etc/netns/NAME/resolv.conf) rename() fails with EBUSY, and the file
 * is rewritten in place instead: the only way to change it there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "dns/system.h"

#define RESOLV_MAX (1 << 20)

/* The whole file, NUL-terminated; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return NULL;
	do {
		if (*len + 1 >= cap) {
			char *b;

			cap = cap ? cap * 2 : 4096;
			b = cap <= RESOLV_MAX ? realloc(buf, cap) : NULL;
			if (!b) {
				free(buf);
				close(fd);
				errno = cap > RESOLV_MAX ? EFBIG : ENOMEM;
				return NULL;
			}
			buf = b;
		}
		n = read(fd, buf + *len, cap - *len - 1);
		if (n > 0)
			*len += (size_t)n;
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static int write_in_place(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	while (len > 0 && r == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Replace path with data: atomically, or in place on a bind mount. */
static int replace(const char *path, const char *data, size_t len, mode_t mode)
{
	int r = atomic_write_file(path, data, len, mode);

	return r == -EBUSY ? write_in_place(path, data, len) : r;
}

/* A symlink at path pointing to target, replacing what is there. */
static int replace_link(const char *path, const char *target)
{
	char tmp[700];

	if (snprintf(tmp, sizeof(tmp), "%s.manta-tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return -errno;
	if (rename(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		return r;
	}
	return 0;
}

static char *link_target(const char *path)
{
	char buf[1024];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* Copy what path is now to backup. No file: no backup. */
static int save_original(const char *path, const char *backup, mode_t *mode, char *err,
			 size_t errlen)
{
	struct stat st;
	char *data, *target;
	size_t len;
	int r;

	*mode = 0644;
	unlink(backup);
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		target = link_target(path);
		r = target ? replace_link(backup, target) : -errno;
		free(target);
	} else {
		*mode = st.st_mode & 07777;
		data = slurp(path, &len);
		r = data ? atomic_write_file(backup, data, len, *mode) : -errno;
		free(data);
	}
	if (r < 0)
		snprintf(err, errlen, "%s: cannot keep a copy of %s: %s", backup, path,
			 strerror(-r));
	return r;
}

int dns_direct_apply(const char *path, const char *backup, char *err, size_t errlen)
{
	size_t len;
	char *orig = slurp(path, &len), *ours;
	mode_t mode;
	int r = 0;

	/* Our own file is never taken for the original (the caller undid a
	 * crashed run's first; if that failed, the backup already there stays). */
	if (!orig || !dns_resolv_conf_is_ours(orig, len))
		r = save_original(path, backup, &mode, err, errlen);
	else
		mode = 0644;
	if (r < 0) {
		free(orig);
		return r;
	}
	ours = dns_resolv_conf_make(orig, backup);
	free(orig);
	if (!ours) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = replace(path, ours, strlen(ours), S_ISREG(mode | S_IFREG) ? (mode & 07777) : 0644);
	free(ours);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

static int put_back(const char *path, const char *backup)
{
	struct stat st;
	char *data, *target;
	size_t len;
	int r;

	if (lstat(backup, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		/* There was no resolv.conf before us. */
		r = unlink(path) < 0 ? -errno : 0;
		return r == -EBUSY ? write_in_place(path, "", 0) : r;
	}
	if (S_ISLNK(st.st_mode)) {
		target = link_target(backup);
		r = target ? replace_link(path, target) : -errno;
		free(target);
		if (r != -EBUSY)
			return r;
		/* A bind mount cannot become a symlink: give it the target's text. */
	}
	data = slurp(backup, &len);
	if (!data)
		return -errno;
	r = replace(path, data, len, st.st_mode & 07777);
	free(data);
	return r;
}

int dns_direct_restore(const char *path, const char *backup, char *err, size_t errlen)
{
	size_t len;
	char *cur = slurp(path, &len);
	bool ours = cur && dns_resolv_conf_is_ours(cur, len);
	int r = 0;

	free(cur);
	if (ours) {
		r = put_back(path, backup);
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot put the original back from %s: %s", path,
				 backup, strerror(-r));
			return r; /* the backup stays for the next try */
		}
		r = 1;
	}
	unlink(backup);
	return r;
}
