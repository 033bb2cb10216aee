/*
 * WireGuard's symmetric primitives over BLAKE2s (libb2; libsodium has only
 * BLAKE2b):
 *   HASH(x)      BLAKE2s-256
 *   MAC(k, x)    keyed BLAKE2s, 16-byte output (mac1, mac2, cookies)
 *   HMAC(k, x)   RFC 2104 over BLAKE2s-256 (used only by the KDF)
 *   KDFn(C, x)   HKDF-like: prk = HMAC(C, x); T1 = HMAC(prk, 1); Ti = HMAC(prk, Ti-1 || i)
 */
#ifndef MANTA_MESH_HASH_H
#define MANTA_MESH_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "mesh/messages.h"

/* out = HASH(a || b); either part may be empty. */
void hash2(uint8_t out[NOISE_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen);
void mac16(uint8_t out[COOKIE_LEN], const uint8_t *key, size_t keylen, const void *in,
	   size_t inlen);
void hmac_blake2s(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen, const void *in,
		  size_t inlen);
/* t2 and t3 may be NULL for KDF1/KDF2. */
void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t chaining_key[NOISE_HASH_LEN],
	 const void *in, size_t inlen);

#endif
