/*
 * Service sets: the service names one node has registered in one network
 * (`manta dns add api --network home` makes api.HOST.home.pi), signed by
 * that node's ed25519 key, the one its member record binds to its tunnel
 * key. Any member can relay a set and every member can check it without
 * trusting the relay, as with endpoint announcements; the network key in
 * the signed bytes keeps a set from being replayed into another network.
 * A higher seq replaces a lower one; an empty set withdraws every name.
 *
 *   magic "MSV1" | network_pk[32] | ed25519_pk[32] | seq u64 | n u8
 *   | n × (len u8 | name) | signature[64]
 * signed over "manta services" || everything before the signature. Names
 * are DNS labels (hostname_valid), distinct, at most SERVICE_MAX_NAMES.
 * Integers little-endian (docs/protocol.md, "DNS").
 */
#ifndef MANTA_MESH_SERVICE_H
#define MANTA_MESH_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/member.h"

#define SERVICE_MAX_NAMES 16
#define SERVICE_FIXED (4 + NETWORK_KEY_LEN + 32 + 8 + 1)
#define SERVICE_MAX (SERVICE_FIXED + SERVICE_MAX_NAMES * (1 + HOSTNAME_MAX) + MEMBER_SIG_LEN)

struct service_set {
	uint8_t network_pk[NETWORK_KEY_LEN];
	uint8_t ed25519_pk[32];
	uint8_t x25519_pk[32]; /* derived on sign and decode; not on the wire */
	uint64_t seq;
	size_t nnames;
	char names[SERVICE_MAX_NAMES][HOSTNAME_MAX + 1];
	uint8_t sig[MEMBER_SIG_LEN];
};

/* Signs with the node's ed25519 secret key; fills sig and x25519_pk. */
void service_set_sign(struct service_set *s, const uint8_t ed_sk[64]);
/* The signed wire form; its length, or 0 if cap is too small or a name is
 * not valid. */
size_t service_set_encode(const struct service_set *s, uint8_t *out, size_t cap);
/* Parses and verifies; -EBADMSG (malformed) or -EPERM (bad signature), with
 * a reason in err (may be NULL). */
int service_set_decode(const uint8_t *buf, size_t len, struct service_set *s, char *err,
		       size_t errlen) WARN_UNUSED;
/* True if the set has this name (len bytes, not NUL-terminated). */
bool service_set_has(const struct service_set *s, const char *name, size_t len);

#endif
