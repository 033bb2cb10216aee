/*
 * Overlay addresses from a public key. Both hashes are BLAKE2b-256 as
 * libsodium's crypto_generichash computes it (no key), over a fixed label
 * that keeps the two derivations (and any later one) independent. The check
 * values in DESIGN.md are tests in tests/unit/test_address.c.
 */
#include "mesh/address.h"

#include <sodium.h>
#include <string.h>

#include "common/bytes.h"

#define V6_LABEL "manta v6 address"
#define V4_LABEL "manta v4 address"
#define LABEL_LEN (sizeof(V6_LABEL) - 1)
#define DIGEST_LEN 32

#define V4_BASE 0x64400000u /* 100.64.0.0 */
#define V4_HOST_MASK 0x003fffffu /* the /10's 22 host bits */
#define V4_RESOLVER 0x64646435u /* 100.100.100.53 */

_Static_assert(sizeof(V4_LABEL) - 1 == LABEL_LEN, "labels have one length");

void address_v6_from_key(const uint8_t pk[ADDRESS_KEY_LEN], uint8_t out[16])
{
	uint8_t msg[LABEL_LEN + ADDRESS_KEY_LEN];
	uint8_t d[DIGEST_LEN];

	memcpy(msg, V6_LABEL, LABEL_LEN);
	memcpy(msg + LABEL_LEN, pk, ADDRESS_KEY_LEN);
	crypto_generichash(d, sizeof(d), msg, sizeof(msg), NULL, 0);
	out[0] = 0x02;
	memcpy(out + 1, d, 15);
}

void address_v4_from_key_index(const uint8_t pk[ADDRESS_KEY_LEN], uint32_t index, uint8_t out[4])
{
	uint8_t msg[LABEL_LEN + ADDRESS_KEY_LEN + 4];
	uint8_t d[DIGEST_LEN];

	memcpy(msg, V4_LABEL, LABEL_LEN);
	memcpy(msg + LABEL_LEN, pk, ADDRESS_KEY_LEN);
	put_le32(msg + LABEL_LEN + ADDRESS_KEY_LEN, index);
	crypto_generichash(d, sizeof(d), msg, sizeof(msg), NULL, 0);
	put_be32(out, V4_BASE + (get_le32(d) & V4_HOST_MASK));
}

uint32_t address_v4_next_index(const uint8_t pk[ADDRESS_KEY_LEN], uint32_t from)
{
	uint8_t a[4];

	/* About 3 in 4 million indices are reserved, so this loops once. */
	for (uint32_t i = from;; i++) {
		address_v4_from_key_index(pk, i, a);
		if (!address_v4_reserved(a))
			return i;
	}
}

static uint32_t load_be32(const uint8_t a[4])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

bool address_v4_reserved(const uint8_t a[4])
{
	uint32_t v = load_be32(a);
	uint32_t host = v & V4_HOST_MASK;

	if (!address_v4_in_overlay(a))
		return false;
	return host == 0 || host == V4_HOST_MASK || v == V4_RESOLVER;
}

bool address_v6_reserved(const uint8_t a[16])
{
	static const uint8_t resolver[16] = { 0x02, [15] = 0x53 };

	return memcmp(a, resolver, sizeof(resolver)) == 0;
}

bool address_v6_in_overlay(const uint8_t a[16])
{
	return (a[0] & 0xfe) == 0x02;
}

bool address_v4_in_overlay(const uint8_t a[4])
{
	return a[0] == 100 && (a[1] & 0xc0) == 64;
}
