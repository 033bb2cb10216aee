/*
 * Endpoint announcements: a node's own list of the UDP endpoints it can be
 * reached at (its local addresses with its listen port), signed by the
 * node's ed25519 key so that members can relay it for each other. A higher
 * seq replaces a lower one.
 *
 *   magic "MEA1" | ed25519_pk[32] | seq u64 | n u8 | n × (family u8: 4 or 6
 *   | address 4 or 16 | port u16 big-endian) | signature[64]
 * signed over "manta endpoints" || everything before the signature. The
 * x25519 key is derived from ed25519_pk; receivers match it to a member.
 */
#ifndef MANTA_MESH_ANNOUNCE_H
#define MANTA_MESH_ANNOUNCE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define ANNOUNCE_MAX_ENDPOINTS 8
#define ANNOUNCE_MAX (4 + 32 + 8 + 1 + ANNOUNCE_MAX_ENDPOINTS * 19 + 64)

struct announce {
	uint8_t ed25519_pk[32];
	uint8_t x25519_pk[32]; /* derived on decode; not on the wire */
	uint64_t seq;
	struct sockaddr_in6 endpoints[ANNOUNCE_MAX_ENDPOINTS]; /* v4 as ::ffff:a.b.c.d */
	size_t nendpoints;
	uint8_t sig[64];
};

/* Signs with the node's ed25519 secret key (struct identity's ed_sk); fills
 * a->sig and a->x25519_pk. */
void announce_sign(struct announce *a, const uint8_t ed_sk[64]);
size_t announce_encode(const struct announce *a, uint8_t *out, size_t cap);
/* -EBADMSG (malformed) or -EPERM (bad signature), with a reason. */
int announce_decode(const uint8_t *buf, size_t len, struct announce *a, char *err,
		    size_t errlen) WARN_UNUSED;

/* Endpoint list codec shared with invites: n u8 then the entries. Returns
 * bytes used / written, or negative on malformed input. */
int endpoints_encode(const struct sockaddr_in6 *eps, size_t n, uint8_t *out, size_t cap);
int endpoints_decode(const uint8_t *buf, size_t len, struct sockaddr_in6 *eps, size_t max,
		     size_t *n);
/* What a negative endpoints_decode() result means ("port 0"). On failure
 * *n is the index of the bad entry, or the count if there are too many
 * (-E2BIG), so callers can say "endpoint 2: port 0". */
const char *endpoints_strerror(int rc);

#endif
