/* The node identity: seed to ed25519 to X25519, the key file on disk, and
 * the base64 key encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mesh/address.h"
#include "mesh/identity.h"

static void from_hex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, NULL, NULL), 0);
}

/* Everything derived from one seed agrees with itself and with libsodium. */
static void check_identity(const uint8_t seed[KEY_LEN])
{
	struct identity *id = NULL;
	uint8_t x_pk[KEY_LEN], a[16], msg_sig[crypto_sign_BYTES + 3];
	unsigned long long siglen;

	assert_int_equal(identity_from_seed(seed, &id), 0);
	assert_memory_equal(id->seed, seed, KEY_LEN);
	/* x_pk = X25519(x_sk, 9) */
	assert_int_equal(crypto_scalarmult_base(x_pk, id->x_sk), 0);
	assert_memory_equal(x_pk, id->x_pk, KEY_LEN);
	/* x_sk is clamped */
	assert_int_equal(id->x_sk[0] & 7, 0);
	assert_int_equal(id->x_sk[31] & 0xc0, 0x40);
	/* pubkey from the seed alone gives the same key */
	assert_int_equal(identity_public_from_seed(seed, x_pk), 0);
	assert_memory_equal(x_pk, id->x_pk, KEY_LEN);
	/* addresses */
	address_v6_from_key(id->x_pk, a);
	assert_memory_equal(a, id->v6, 16);
	assert_int_equal(id->v4_index, address_v4_next_index(id->x_pk, 0));
	address_v4_from_key_index(id->x_pk, id->v4_index, a);
	assert_memory_equal(a, id->v4, 4);
	/* the ed25519 pair signs and verifies */
	assert_int_equal(crypto_sign(msg_sig, &siglen, (const uint8_t *)"abc", 3, id->ed_sk), 0);
	assert_int_equal(crypto_sign_open(a, NULL, msg_sig, siglen, id->ed_pk), 0);
	identity_destroy(id);
}

static void test_seed_to_x25519(void **state)
{
	uint8_t seed[KEY_LEN];

	memset(seed, 0, sizeof(seed));
	check_identity(seed);
	memset(seed, 0xff, sizeof(seed));
	check_identity(seed);
	for (int i = 0; i < 100; i++) {
		identity_generate_seed(seed);
		check_identity(seed);
	}
}

/* RFC 8032 section 7.1, test 1: the seed gives the published ed25519 key. */
static void test_rfc8032(void **state)
{
	uint8_t seed[KEY_LEN], ed_pk[KEY_LEN];
	struct identity *id = NULL;

	from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
	from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", ed_pk, 32);
	assert_int_equal(identity_from_seed(seed, &id), 0);
	assert_memory_equal(id->ed_pk, ed_pk, KEY_LEN);
	identity_destroy(id);
}

/* Two identities agree on an X25519 shared secret, as the handshake needs. */
static void test_dh_agreement(void **state)
{
	uint8_t sa[KEY_LEN], sb[KEY_LEN], ka[KEY_LEN], kb[KEY_LEN];
	struct identity *a = NULL, *b = NULL;

	identity_generate_seed(sa);
	identity_generate_seed(sb);
	assert_memory_not_equal(sa, sb, KEY_LEN);
	assert_int_equal(identity_from_seed(sa, &a), 0);
	assert_int_equal(identity_from_seed(sb, &b), 0);
	assert_int_equal(crypto_scalarmult(ka, a->x_sk, b->x_pk), 0);
	assert_int_equal(crypto_scalarmult(kb, b->x_sk, a->x_pk), 0);
	assert_memory_equal(ka, kb, KEY_LEN);
	identity_destroy(a);
	identity_destroy(b);
	identity_destroy(NULL);
}

static void test_base64(void **state)
{
	static const char *const bad[] = {
		"",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* no padding */
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", /* leading space */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", /* trailing newline */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 31 bytes */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", /* non-zero pad bits */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_=", /* URL-safe alphabet */
		"AAAAAAAAAAAAAAAAAAAAA!AAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA=",
	};
	uint8_t key[KEY_LEN], back[KEY_LEN];
	char b64[KEY_B64_LEN];

	memset(key, 0, sizeof(key));
	key_to_base64(key, b64);
	assert_string_equal(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)i;
	key_to_base64(key, b64);
	assert_string_equal(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_true(key_from_base64(b64, back));
	assert_memory_equal(key, back, KEY_LEN);
	for (int n = 0; n < 200; n++) {
		randombytes_buf(key, sizeof(key));
		key_to_base64(key, b64);
		assert_int_equal(strlen(b64), 44);
		assert_true(key_from_base64(b64, back));
		assert_memory_equal(key, back, KEY_LEN);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(back, 0x5a, sizeof(back));
		if (key_from_base64(bad[i], back))
			fail_msg("accepted bad key %zu `%s'", i, bad[i]);
		/* a rejected key leaves the output alone */
		for (int j = 0; j < KEY_LEN; j++)
			assert_int_equal(back[j], 0x5a);
	}
}

/* --- the key file --------------------------------------------------------- */

struct tmpdir {
	char root[64];
	char state[128]; /* root/a/state: two levels that do not exist yet */
	char key[192];
};

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->root, "/tmp/manta-test-identity.XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	snprintf(t->state, sizeof(t->state), "%s/a/state", t->root);
	snprintf(t->key, sizeof(t->key), "%s/%s", t->state, IDENTITY_KEY_FILE);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmpdir *t = *state;
	char p[192];

	unlink(t->key);
	rmdir(t->state);
	snprintf(p, sizeof(p), "%s/a", t->root);
	unlink(p);
	rmdir(p);
	rmdir(t->root);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void test_create_then_load(void **state)
{
	struct tmpdir *t = *state;
	struct identity *a = NULL, *b = NULL;
	uint8_t seed[KEY_LEN];
	char err[256], text[128];
	struct stat st;

	assert_int_equal(identity_load_or_create(t->state, &a, err, sizeof(err)), 0);
	assert_int_equal(stat(t->state, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0077, 0);
	assert_int_equal(stat(t->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* one line: the seed in base64 */
	read_file(t->key, text, sizeof(text));
	assert_int_equal(strlen(text), 45);
	assert_int_equal(text[44], '\n');
	text[44] = '\0';
	assert_true(key_from_base64(text, seed));
	assert_memory_equal(seed, a->seed, KEY_LEN);

	assert_int_equal(identity_load_or_create(t->state, &b, err, sizeof(err)), 0);
	assert_memory_equal(a->x_pk, b->x_pk, KEY_LEN);
	assert_memory_equal(a->ed_sk, b->ed_sk, 64);
	assert_memory_equal(a->v6, b->v6, 16);
	identity_destroy(a);
	identity_destroy(b);
}

/* A key written by `manta genkey > node.key` under umask 022 loads (with a
 * warning on stderr) and is not rewritten. */
static void test_load_existing(void **state)
{
	struct tmpdir *t = *state;
	struct identity *id = NULL;
	uint8_t seed[KEY_LEN];
	char b64[KEY_B64_LEN], line[64], err[256];
	struct stat st;

	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), 0);
	identity_destroy(id);
	identity_generate_seed(seed);
	key_to_base64(seed, b64);
	snprintf(line, sizeof(line), "%s\n", b64);
	write_file(t->key, line, 0644);
	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), 0);
	assert_memory_equal(id->seed, seed, KEY_LEN);
	identity_destroy(id);
	assert_int_equal(stat(t->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void expect_corrupt(struct tmpdir *t, const char *contents, const char *what)
{
	struct identity *id = NULL;
	char err[256], after[1024];

	write_file(t->key, contents, 0600);
	err[0] = '\0';
	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), -EINVAL);
	assert_null(id);
	if (strncmp(err, t->key, strlen(t->key)) != 0 || !strstr(err, what))
		fail_msg("message `%s' does not name %s and say `%s'", err, t->key, what);
	/* the file is reported, never replaced */
	read_file(t->key, after, sizeof(after));
	assert_string_equal(after, contents);
}

static void test_corrupt_file(void **state)
{
	struct tmpdir *t = *state;
	struct identity *id = NULL;
	char err[256];

	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), 0);
	identity_destroy(id);
	expect_corrupt(t, "garbage\n", "wrong length: 7 characters");
	expect_corrupt(t, "", "wrong length: 0 characters");
	expect_corrupt(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=AAAA\n", "wrong length");
	expect_corrupt(t, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!=\n", "not base64");
	expect_corrupt(t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "not base64");
	/* a key with a NUL byte in it: 44 characters, not base64 */
	write_file(t->key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0600);
	int fd = open(t->key, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "", 1, 10), 1);
	close(fd);
	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not base64"));
}

static void test_too_long_file(void **state)
{
	struct tmpdir *t = *state;
	struct identity *id = NULL;
	char big[600], err[256];

	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), 0);
	identity_destroy(id);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_corrupt(t, big, "wrong length: more than");
}

static void test_state_dir_is_a_file(void **state)
{
	struct tmpdir *t = *state;
	struct identity *id = NULL;
	char path[160], err[256];

	snprintf(path, sizeof(path), "%s/a", t->root);
	write_file(path, "x", 0600);
	assert_int_equal(identity_load_or_create(t->state, &id, err, sizeof(err)), -ENOTDIR);
	assert_null(id);
	assert_non_null(strstr(err, t->state));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_to_x25519),
		cmocka_unit_test(test_rfc8032),
		cmocka_unit_test(test_dh_agreement),
		cmocka_unit_test(test_base64),
		cmocka_unit_test_setup_teardown(test_create_then_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_is_a_file, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
