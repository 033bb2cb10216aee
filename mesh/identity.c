/*
 * The node's key pair and its key file. The seed is the only secret stored;
 * everything else is derived from it on load, so a key file copied from
 * `manta genkey` is a complete identity. A key file that is present but wrong
 * is an error and is never replaced: replacing it would silently give the
 * node a new identity and new addresses.
 */
#include "mesh/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/log.h"
#include "mesh/address.h"

/* Longest key file read: a key, a line ending and some stray white space. */
#define KEY_FILE_MAX 128

static int sodium_ready(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int identity_public_from_seed(const uint8_t seed[KEY_LEN], uint8_t x_pk[KEY_LEN])
{
	uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t ed_sk[crypto_sign_SECRETKEYBYTES];
	int r = sodium_ready();

	if (r < 0)
		return r;
	crypto_sign_seed_keypair(ed_pk, ed_sk, seed);
	sodium_memzero(ed_sk, sizeof(ed_sk));
	if (crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) != 0)
		return -EINVAL;
	return 0;
}

static bool key_usable(const uint8_t x_pk[KEY_LEN])
{
	uint8_t v6[16];

	address_v6_from_key(x_pk, v6);
	return !address_v6_reserved(v6);
}

int identity_from_seed(const uint8_t seed[KEY_LEN], struct identity **out)
{
	uint8_t check[KEY_LEN];
	struct identity *id;
	int r = sodium_ready();

	if (r < 0)
		return r;
	id = sodium_malloc(sizeof(*id));
	if (!id)
		return -ENOMEM;
	memcpy(id->seed, seed, KEY_LEN);
	crypto_sign_seed_keypair(id->ed_pk, id->ed_sk, id->seed);
	r = -EINVAL;
	if (crypto_sign_ed25519_sk_to_curve25519(id->x_sk, id->ed_sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(id->x_pk, id->ed_pk) != 0)
		goto err_free;
	/* The two conversions must describe one X25519 key pair. */
	if (crypto_scalarmult_base(check, id->x_sk) != 0 ||
	    sodium_memcmp(check, id->x_pk, KEY_LEN) != 0)
		goto err_free;
	if (!key_usable(id->x_pk))
		goto err_free;
	address_v6_from_key(id->x_pk, id->v6);
	id->v4_index = address_v4_next_index(id->x_pk, 0);
	address_v4_from_key_index(id->x_pk, id->v4_index, id->v4);
	*out = id;
	return 0;

err_free:
	sodium_free(id);
	return r;
}

void identity_generate_seed(uint8_t seed[KEY_LEN])
{
	uint8_t x_pk[KEY_LEN];

	if (sodium_ready() < 0)
		abort(); /* no randomness: nothing safe to return */
	do
		randombytes_buf(seed, KEY_LEN);
	while (identity_public_from_seed(seed, x_pk) < 0 || !key_usable(x_pk));
}

void identity_destroy(struct identity *id)
{
	if (id)
		sodium_free(id); /* wipes the memory */
}

bool key_from_base64(const char *s, uint8_t out[KEY_LEN])
{
	uint8_t bin[KEY_LEN];
	size_t binlen = 0;
	const char *end = NULL;
	bool ok;

	/* Exactly 44 characters, one '=' of padding, nothing around them. */
	if (strlen(s) != KEY_B64_LEN - 1 || s[KEY_B64_LEN - 2] != '=' || s[KEY_B64_LEN - 3] == '=')
		return false;
	ok = sodium_base642bin(bin, sizeof(bin), s, KEY_B64_LEN - 1, NULL, &binlen, &end,
			       sodium_base64_VARIANT_ORIGINAL) == 0 &&
	     binlen == KEY_LEN && end == s + KEY_B64_LEN - 1;
	if (ok)
		memcpy(out, bin, KEY_LEN);
	sodium_memzero(bin, sizeof(bin));
	return ok;
}

void key_to_base64(const uint8_t key[KEY_LEN], char out[KEY_B64_LEN])
{
	sodium_bin2base64(out, KEY_B64_LEN, key, KEY_LEN, sodium_base64_VARIANT_ORIGINAL);
}

/* mkdir -p with mode for every directory it creates (Go's os.MkdirAll). */
static int make_dirs(const char *dir, mode_t mode)
{
	struct stat st;
	char *p;
	int r = 0;

	if (!*dir)
		return -ENOENT;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	p = strdup(dir);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	if (r == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		r = -ENOTDIR;
	return r;
}

static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Reads and checks an existing key file. Never writes to it. */
static int read_key_file(const char *path, int fd, uint8_t seed[KEY_LEN], char *err, size_t errlen)
{
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len;
	int r = -EINVAL;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		log_warn("identity",
			 "%s: group or others have access to it (mode %04o); it should be 0600",
			 path, (unsigned)(st.st_mode & 07777));
	n = read_all(fd, buf, sizeof(buf));
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
		r = (int)n;
		goto out;
	}
	if ((size_t)n > KEY_FILE_MAX) {
		snprintf(err, errlen,
			 "%s: wrong length: more than %d bytes, a key is 44 characters", path,
			 KEY_FILE_MAX);
		goto out;
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
			   buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (len != KEY_B64_LEN - 1) {
		snprintf(err, errlen,
			 "%s: wrong length: %zu characters, a key is 44 (base64 of a 32-byte seed)",
			 path, len);
		goto out;
	}
	if (memchr(buf, '\0', len) || !key_from_base64(buf, seed)) {
		snprintf(err, errlen, "%s: not base64: a key is 44 characters of standard base64",
			 path);
		goto out;
	}
	r = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static int create_key_file(const char *path, uint8_t seed[KEY_LEN], char *err, size_t errlen)
{
	char line[KEY_B64_LEN + 1];
	int r;

	identity_generate_seed(seed);
	key_to_base64(seed, line);
	line[KEY_B64_LEN - 1] = '\n';
	line[KEY_B64_LEN] = '\0';
	r = atomic_write_file(path, line, KEY_B64_LEN, 0600);
	sodium_memzero(line, sizeof(line));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot create the node key: %s", path, strerror(-r));
		return r;
	}
	log_info("identity", "%s: created a new node key", path);
	return 0;
}

int identity_load_or_create(const char *state_dir, struct identity **out, char *err, size_t errlen)
{
	uint8_t seed[KEY_LEN];
	char *path = NULL;
	int fd, r;

	r = make_dirs(state_dir, 0700);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot create the state directory: %s", state_dir,
			 strerror(-r));
		return r;
	}
	if (asprintf(&path, "%s/%s", state_dir, IDENTITY_KEY_FILE) < 0) {
		snprintf(err, errlen, "%s: %s", state_dir, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* O_NONBLOCK: a FIFO in its place must not hang the start (it is refused). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		r = read_key_file(path, fd, seed, err, errlen);
		close(fd);
	} else if (errno == ENOENT) {
		r = create_key_file(path, seed, err, errlen);
	} else {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
	}
	if (r < 0)
		goto out;
	r = identity_from_seed(seed, out);
	if (r == -EINVAL)
		snprintf(err, errlen,
			 "%s: this key derives the reserved address 200::53; "
			 "move the file away to generate a new key",
			 path);
	else if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
out:
	sodium_memzero(seed, sizeof(seed));
	free(path);
	return r;
}
