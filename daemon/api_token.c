/*
 * The REST API's bearer token, kept in STATE_DIR/api.token: created on
 * first start (32 random bytes as 64 hex digits and a newline, mode 0600,
 * written atomically so a crash never leaves half a token), read on every
 * later start. A user may put a token of their own there (16 to 256
 * printable characters without spaces); a file that others may read is
 * made private again, with a warning. The daemon compares tokens in
 * constant time (api_route.c).
 */
#include "daemon/api_token.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/log.h"

static bool token_valid(const char *t, size_t len)
{
	if (len < API_TOKEN_MIN || len > API_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (t[i] < 0x21 || t[i] > 0x7e)
			return false;
	return true;
}

static int token_create(const char *path, char token[API_TOKEN_MAX + 1], char *err, size_t errlen)
{
	uint8_t raw[32];
	char text[2 * sizeof(raw) + 2];
	int r;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(text, sizeof(text), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	strcpy(token, text);
	strcat(text, "\n");
	r = atomic_write_file(path, text, strlen(text), 0600);
	sodium_memzero(text, sizeof(text));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot create the API token: %s", path, strerror(-r));
		sodium_memzero(token, API_TOKEN_MAX + 1);
		return r;
	}
	log_info("api", "%s: created a new API token", path);
	return 0;
}

/* An open token file's contents. */
static int token_read(int fd, const char *path, char token[API_TOKEN_MAX + 1], char *err,
		      size_t errlen)
{
	char buf[API_TOKEN_MAX + 4];
	struct stat st;
	ssize_t n;
	size_t len;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		log_warn("api", "%s: readable by others (mode %03o): setting it to 0600", path,
			 (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, 0600) != 0)
			log_warn("api", "%s: %s", path, strerror(errno));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (!token_valid(buf, len)) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen,
			 "%s: the API token must be %d to %d printable characters without spaces",
			 path, API_TOKEN_MIN, API_TOKEN_MAX);
		return -EINVAL;
	}
	memcpy(token, buf, len);
	token[len] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

int api_token_load(const char *state_dir, char token[API_TOKEN_MAX + 1], char *err, size_t errlen)
{
	char path[1024];
	int fd, r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, API_TOKEN_FILE) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: state directory path too long", state_dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return token_create(path, token, err, errlen);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	r = token_read(fd, path, token, err, errlen);
	close(fd);
	return r;
}
