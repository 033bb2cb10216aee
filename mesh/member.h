/*
 * Member records: who belongs to a network. Each record is signed by the
 * network key (ed25519), so any member can check any record it is handed,
 * whoever relayed it, and the list keeps working while the owner is away.
 * A newer version of a record replaces an older one; a revoked record
 * (kick, leave) is kept so that the older, valid one cannot come back.
 *
 * Wire and disk format (little-endian, see docs/protocol.md):
 *   magic "MMR1" | network_pk[32] | x25519_pk[32] | ed25519_pk[32]
 *   | version u64 | v4_index u32 | flags u8 | hostname_len u8 | hostname
 *   | signature[64]
 * A record with tags (set by the owner, used by firewall rules) has magic
 * "MMR2" and, between the hostname and the signature,
 *   ntags u8 (1..MEMBER_TAGS_MAX) | ntags × (len u8 | tag)
 * with the tags in strictly ascending byte order. A record without tags is
 * always encoded as MMR1, so nodes that predate tags still read it.
 * The signature covers "manta member record" || everything before it.
 * flags: bit 0 revoked, bit 1 owner. Other bits must be zero.
 */
#ifndef MANTA_MESH_MEMBER_H
#define MANTA_MESH_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define NETWORK_KEY_LEN 32 /* ed25519 public key */
#define NETWORK_SECRET_LEN 64 /* ed25519 secret key (libsodium layout) */
#define MEMBER_SIG_LEN 64
#define HOSTNAME_MAX 63 /* one DNS label */
#define MEMBER_RECORD_FIXED (4 + 32 + 32 + 32 + 8 + 4 + 1 + 1)
#define MEMBER_TAGS_MAX 8
#define MEMBER_TAG_MAX 24 /* characters in one tag */
#define MEMBER_TAGS_AREA_MAX (1 + MEMBER_TAGS_MAX * (1 + MEMBER_TAG_MAX))
/* The longest record without tags (MMR1) and with them (MMR2). */
#define MEMBER_RECORD_V1_MAX (MEMBER_RECORD_FIXED + HOSTNAME_MAX + MEMBER_SIG_LEN)
#define MEMBER_RECORD_MAX (MEMBER_RECORD_V1_MAX + MEMBER_TAGS_AREA_MAX)

#define MEMBER_FLAG_REVOKED 0x01
#define MEMBER_FLAG_OWNER 0x02

struct member_record {
	uint8_t network_pk[NETWORK_KEY_LEN];
	uint8_t x25519_pk[32]; /* the tunnel identity */
	uint8_t ed25519_pk[32]; /* all zero for a stock WireGuard leaf */
	uint64_t version;
	uint32_t v4_index;
	uint8_t flags;
	char hostname[HOSTNAME_MAX + 1];
	uint8_t ntags;
	char tags[MEMBER_TAGS_MAX][MEMBER_TAG_MAX + 1]; /* ascending */
	uint8_t sig[MEMBER_SIG_LEN];
};

/* A DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'. */
bool hostname_valid(const char *h);
/* A tag: the same alphabet, 1..MEMBER_TAG_MAX characters. */
bool tag_valid(const char *t);

/* Fills r->sig. network_sk is the owner's ed25519 secret key. */
void member_record_sign(struct member_record *r, const uint8_t network_sk[NETWORK_SECRET_LEN]);
/* Encodes r with its signature; returns the length (<= MEMBER_RECORD_MAX),
 * or 0 if cap is too small. */
size_t member_record_encode(const struct member_record *r, uint8_t *out, size_t cap);
/* Parses and verifies a record against the network key it carries; the
 * caller checks that r->network_pk is the network it expects. On failure
 * returns -EBADMSG (malformed) or -EPERM (bad signature) and says why. */
int member_record_decode(const uint8_t *buf, size_t len, struct member_record *r, char *err,
			 size_t errlen) WARN_UNUSED;
/* True if the ed25519 key is set and converts to the x25519 key (the record
 * binds a node's signing key to its tunnel key). */
bool member_record_keys_bound(const struct member_record *r);

#endif
