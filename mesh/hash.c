#include "mesh/hash.h"

#include <blake2.h>
#include <sodium.h>
#include <string.h>

enum { BLAKE2S_BLOCK_LEN = 64 };

void hash2(uint8_t out[NOISE_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, NOISE_HASH_LEN);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out, NOISE_HASH_LEN);
}

void mac16(uint8_t out[COOKIE_LEN], const uint8_t *key, size_t keylen, const void *in, size_t inlen)
{
	/* libb2's one-shot order is (out, in, key, outlen, inlen, keylen). */
	blake2s(out, in, key, COOKIE_LEN, inlen, keylen);
}

void hmac_blake2s(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen, const void *in,
		  size_t inlen)
{
	uint8_t k[BLAKE2S_BLOCK_LEN] = { 0 };
	uint8_t pad[BLAKE2S_BLOCK_LEN];
	uint8_t inner[NOISE_HASH_LEN];
	blake2s_state s;

	if (keylen > BLAKE2S_BLOCK_LEN)
		hash2(k, key, keylen, NULL, 0);
	else
		memcpy(k, key, keylen);

	for (size_t i = 0; i < BLAKE2S_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x36;
	blake2s_init(&s, NOISE_HASH_LEN);
	blake2s_update(&s, pad, BLAKE2S_BLOCK_LEN);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner, NOISE_HASH_LEN);

	for (size_t i = 0; i < BLAKE2S_BLOCK_LEN; i++)
		pad[i] = k[i] ^ 0x5c;
	blake2s_init(&s, NOISE_HASH_LEN);
	blake2s_update(&s, pad, BLAKE2S_BLOCK_LEN);
	blake2s_update(&s, inner, NOISE_HASH_LEN);
	blake2s_final(&s, out, NOISE_HASH_LEN);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t chaining_key[NOISE_HASH_LEN],
	 const void *in, size_t inlen)
{
	uint8_t prk[NOISE_HASH_LEN];
	uint8_t buf[NOISE_HASH_LEN + 1];
	uint8_t t[NOISE_HASH_LEN];

	hmac_blake2s(prk, chaining_key, NOISE_HASH_LEN, in, inlen);

	/* T1 = HMAC(prk, 0x1) */
	buf[0] = 1;
	hmac_blake2s(t, prk, sizeof(prk), buf, 1);
	memcpy(t1, t, NOISE_HASH_LEN);
	if (!t2)
		goto out;

	/* T2 = HMAC(prk, T1 || 0x2) */
	memcpy(buf, t, NOISE_HASH_LEN);
	buf[NOISE_HASH_LEN] = 2;
	hmac_blake2s(t, prk, sizeof(prk), buf, sizeof(buf));
	memcpy(t2, t, NOISE_HASH_LEN);
	if (!t3)
		goto out;

	/* T3 = HMAC(prk, T2 || 0x3) */
	memcpy(buf, t, NOISE_HASH_LEN);
	buf[NOISE_HASH_LEN] = 3;
	hmac_blake2s(t, prk, sizeof(prk), buf, sizeof(buf));
	memcpy(t3, t, NOISE_HASH_LEN);
out:
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(t, sizeof(t));
}
