/* WireGuard's BLAKE2s primitives: the protocol's initial chaining key and
 * hash (docs/protocol.md §1.1), the KDF vectors of wireguard-go's
 * device/kdf_test.go (§1.2), and known answers for HASH, HMAC and the
 * 16-byte keyed MAC computed with Python's hashlib/hmac. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mesh/hash.h"
#include "mesh/messages.h"
#include "mesh/noise.h"

static void unhex(uint8_t *out, const char *hex)
{
	size_t n = strlen(hex);

	assert_int_equal(n % 2, 0);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[64];

	assert_true(strlen(hex) / 2 <= sizeof(want));
	unhex(want, hex);
	assert_memory_equal(got, want, strlen(hex) / 2);
}

static void test_initial_constants(void **state)
{
	uint8_t c0[NOISE_HASH_LEN], h0[NOISE_HASH_LEN];

	hash2(c0, NOISE_CONSTRUCTION, strlen(NOISE_CONSTRUCTION), NULL, 0);
	hash2(h0, c0, sizeof(c0), NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER));
	assert_int_equal(strlen(NOISE_CONSTRUCTION), 37);
	assert_int_equal(strlen(NOISE_IDENTIFIER), 34);
	assert_hex(c0, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	assert_hex(h0, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
	assert_memory_equal(c0, noise_initial_chaining_key, NOISE_HASH_LEN);
	assert_memory_equal(h0, noise_initial_hash, NOISE_HASH_LEN);
}

/* RFC 7693 appendix B (BLAKE2s-256 of "abc"), whichever way it is split. */
static void test_hash2_split(void **state)
{
	static const char *abc = "abc";
	static const char *want =
		"508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982";
	uint8_t out[NOISE_HASH_LEN];

	for (size_t split = 0; split <= 3; split++) {
		hash2(out, abc, split, abc + split, 3 - split);
		assert_hex(out, want);
	}
	/* out may be one of the inputs (mix_hash does this). */
	memcpy(out, "ab", 2);
	hash2(out, out, 2, "c", 1);
	assert_hex(out, want);
}

struct kdf_vector {
	const char *key, *input;
	const char *t1, *t2, *t3;
};

static const struct kdf_vector kdf_vectors[] = {
	/* 1 */ { "test-key", "test-input",
		  "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
		  "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
		  "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24" },
	/* 2 */
	{ "wireguard", "wireguard",
	  "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
	  "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
	  "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160" },
	/* 3 */
	{ "", "", "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
	  "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
	  "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e" },
};

/* kdf() takes a 32-byte chaining key; HMAC zero-pads short keys to the
 * block size, so the vectors' short keys zero-padded to 32 bytes give the
 * same results. */
static void test_kdf_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(kdf_vectors) / sizeof(kdf_vectors[0]); i++) {
		const struct kdf_vector *v = &kdf_vectors[i];
		uint8_t key[NOISE_HASH_LEN] = { 0 };
		uint8_t t1[NOISE_HASH_LEN], t2[NOISE_HASH_LEN], t3[NOISE_HASH_LEN];

		memcpy(key, v->key, strlen(v->key));

		/* KDF1 */
		memset(t1, 0, sizeof(t1));
		kdf(t1, NULL, NULL, key, v->input, strlen(v->input));
		assert_hex(t1, v->t1);

		/* KDF2 */
		memset(t1, 0, sizeof(t1));
		memset(t2, 0, sizeof(t2));
		kdf(t1, t2, NULL, key, v->input, strlen(v->input));
		assert_hex(t1, v->t1);
		assert_hex(t2, v->t2);

		/* KDF3 */
		kdf(t1, t2, t3, key, v->input, strlen(v->input));
		assert_hex(t1, v->t1);
		assert_hex(t2, v->t2);
		assert_hex(t3, v->t3);

		/* The first output may overwrite the chaining key (mix_key). */
		kdf(key, t2, t3, key, v->input, strlen(v->input));
		assert_hex(key, v->t1);
		assert_hex(t2, v->t2);
		assert_hex(t3, v->t3);
	}
}

static void test_hmac(void **state)
{
	static const char *fox = "The quick brown fox jumps over the lazy dog";
	uint8_t key[100], out[NOISE_HASH_LEN], hashed[NOISE_HASH_LEN], again[NOISE_HASH_LEN];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;

	hmac_blake2s(out, (const uint8_t *)"key", 3, fox, strlen(fox));
	assert_hex(out, "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");

	/* Exactly one block: used as is. */
	hmac_blake2s(out, key, 64, "block key", 9);
	assert_hex(out, "05fde39b7dca19d5d11a8c9dc96be6fb5c821f1fb2a0144f1e4e5f6560f63914");

	/* Longer than a block: hashed first (RFC 2104). */
	hmac_blake2s(out, key, 100, "long key", 8);
	assert_hex(out, "096d2dec44b647196383c466daf27592cf0c187793f83d1e9f8a19efc137d0d1");
	hash2(hashed, key, 100, NULL, 0);
	hmac_blake2s(again, hashed, sizeof(hashed), "long key", 8);
	assert_memory_equal(out, again, sizeof(out));
}

/* MAC(key, x) is keyed BLAKE2s with a 16-byte output, not HMAC:
 * python3 -c 'import hashlib; print(hashlib.blake2s(x, key=k, digest_size=16).hexdigest())' */
static void test_mac16(void **state)
{
	static const char *k = "manta mac16 test key";
	static const char *fox = "The quick brown fox jumps over the lazy dog";
	uint8_t key[32], in[64], out[COOKIE_LEN + 1];

	memset(out, 0xaa, sizeof(out));
	mac16(out, (const uint8_t *)k, strlen(k), fox, strlen(fox));
	assert_hex(out, "257fd5940fd4ecdbbcff7f8a8266c148");
	assert_int_equal(out[COOKIE_LEN], 0xaa); /* exactly 16 bytes written */

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	mac16(out, key, sizeof(key), in, sizeof(in));
	assert_hex(out, "f1efa90d2547036841ecd3627fafbc36");

	mac16(out, (const uint8_t *)"k", 1, NULL, 0);
	assert_hex(out, "5175c87d8aa9480d45ba9a546f2a436f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_constants),
		cmocka_unit_test(test_hash2_split),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_mac16),
	};
	return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
