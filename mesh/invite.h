/*
 * Invites: what `manta invite home` prints and `manta join` reads. A token
 * `manta://join/` followed by the unpadded base64url (RFC 4648 §5) of:
 *   version u8 (1) | network_pk[32] | owner_x25519_pk[32] | secret[16]
 *   | expires u64 (unix seconds) | flags u8 (bit 0 reusable) | label_len u8
 *   | label | n_endpoints u8 | n × (family u8: 4 or 6 | address 4 or 16
 *   | port u16 big-endian) | signature[64]
 * signed by the network key over "manta invite" || everything before the
 * signature. A forged or altered token fails to verify. The secret is what
 * the owner checks (single use unless reusable, before expiry); the owner
 * keeps only its hash.
 */
#ifndef MANTA_MESH_INVITE_H
#define MANTA_MESH_INVITE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/member.h"

#define INVITE_PREFIX "manta://join/"
#define INVITE_SECRET_LEN 16
#define INVITE_MAX_ENDPOINTS 8
#define INVITE_LABEL_MAX 63
#define INVITE_FLAG_REUSABLE 0x01
/* The longest token: prefix + base64url of the largest blob + NUL. */
#define INVITE_TOKEN_MAX 512

struct invite {
	uint8_t network_pk[NETWORK_KEY_LEN];
	uint8_t owner_x25519_pk[32];
	uint8_t secret[INVITE_SECRET_LEN];
	uint64_t expires; /* unix seconds; 0 = never */
	uint8_t flags;
	char label[INVITE_LABEL_MAX + 1]; /* a hostname_valid() label */
	struct sockaddr_in6 endpoints[INVITE_MAX_ENDPOINTS]; /* v4 as ::ffff:a.b.c.d */
	size_t nendpoints;
};

/* Signs inv with the network secret and writes the token (NUL-terminated).
 * Returns the token length, or -ENOSPC / -EINVAL (label or endpoint count). */
int invite_encode(const struct invite *inv, const uint8_t network_sk[NETWORK_SECRET_LEN], char *out,
		  size_t cap) WARN_UNUSED;
/* Parses and verifies a token (surrounding white space allowed). Expiry is
 * the caller's to check. On failure returns -EBADMSG (malformed: says which
 * field) or -EPERM (signature does not verify: forged or altered). */
int invite_decode(const char *token, struct invite *out, char *err, size_t errlen) WARN_UNUSED;
/* BLAKE2b-256 of the secret: what the owner stores. */
void invite_secret_hash(const uint8_t secret[INVITE_SECRET_LEN], uint8_t out[32]);

#endif
