/*
 * One network as this node knows it: its key (and secret, if this node is
 * the owner), the local label, this node's hostname in it, the verified
 * member records, the members' latest endpoint announcements, and (owner
 * only) the outstanding invites, kept as hashes of their secrets.
 *
 * No I/O but the state file: STATE_DIR/networks/LABEL.json, mode 0600,
 * written atomically (common/atomicfile.h). Records and announcements are
 * stored as base64 of their signed wire form and verified again on load;
 * a file that fails is reported with its path and the reason, never
 * rewritten. Owner: the daemon's membership module.
 */
#ifndef MANTA_MESH_NETWORK_H
#define MANTA_MESH_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/announce.h"
#include "mesh/invite.h"
#include "mesh/member.h"

#define NETWORK_DIGEST_LEN 16
#define NETWORK_LABEL_MAX INVITE_LABEL_MAX

struct invite_slot {
	uint8_t secret_hash[32];
	uint64_t created, expires; /* unix seconds; expires 0 = never */
	bool reusable;
	bool used;
	uint8_t used_by[32]; /* x25519 key of the first joiner */
};

struct network {
	char label[NETWORK_LABEL_MAX + 1]; /* local name, hostname_valid() */
	uint8_t pk[NETWORK_KEY_LEN];
	uint8_t sk[NETWORK_SECRET_LEN]; /* only if owner */
	bool owner;
	char hostname[HOSTNAME_MAX + 1]; /* this node's */
	uint64_t last_version; /* owner: the highest record version issued */

	struct member_record *members;
	size_t nmembers, members_cap;
	struct announce *announces;
	size_t nannounces, announces_cap;
	struct invite_slot *invites;
	size_t ninvites, invites_cap;
};

/* A new network owned by this node: fresh ed25519 network key, and this
 * node's own record (owner flag, index self_v4_index if free). */
int network_create(const char *label, const char *hostname, const uint8_t self_x25519[32],
		   const uint8_t self_ed25519[32], uint32_t self_v4_index,
		   struct network **out) WARN_UNUSED;
/* An empty network this node is joining (no secret). */
struct network *network_new(const char *label, const uint8_t pk[NETWORK_KEY_LEN]);
void network_free(struct network *n);

/* Load / save STATE_DIR/networks/LABEL.json. Errors name the path and what
 * is wrong (a field, a record that does not verify). */
int network_load(const char *path, struct network **out, char *err, size_t errlen) WARN_UNUSED;
int network_save(const struct network *n, const char *path, char *err, size_t errlen) WARN_UNUSED;

const struct member_record *network_member(const struct network *n, const uint8_t x25519[32]);
/* The non-revoked member with this hostname, or NULL. */
const struct member_record *network_member_by_host(const struct network *n, const char *host);
/* True if x25519 is a non-revoked member. */
bool network_has_member(const struct network *n, const uint8_t x25519[32]);

/* Takes a record already verified by member_record_decode. Returns 1 if it
 * changed the list (new member, or higher version), 0 if it was known or
 * older, -EINVAL if it belongs to another network. */
int network_merge_record(struct network *n, const struct member_record *r) WARN_UNUSED;
/* Takes a verified announcement. Accepted only from a non-revoked member
 * whose record binds that ed25519 key; returns 1 if newer, 0 if not,
 * -EPERM if it is no member's. */
int network_merge_announce(struct network *n, const struct announce *a) WARN_UNUSED;
const struct announce *network_announce(const struct network *n, const uint8_t x25519[32]);

/* BLAKE2b-128 over the sorted (x25519, version) of every record and
 * (x25519, seq) of every announcement: equal digests, equal knowledge. */
void network_digest(const struct network *n, uint8_t out[NETWORK_DIGEST_LEN]);

/* Owner only. Admits (or re-admits, with a new version) a member: the
 * hostname must not belong to another non-revoked member (-EEXIST), the
 * IPv4 index is `wanted` if its address is free in this network, else the
 * next free one. Signs, merges, and copies the record to *out. */
int network_admit(struct network *n, const uint8_t x25519[32], const uint8_t ed25519[32],
		  const char *hostname, uint32_t wanted_index, uint64_t now_unix,
		  struct member_record *out, char *err, size_t errlen) WARN_UNUSED;
/* Owner only: a revoked record with a higher version (-ENOENT if unknown). */
int network_revoke(struct network *n, const uint8_t x25519[32], uint64_t now_unix,
		   struct member_record *out) WARN_UNUSED;

/* Owner only: a record for a non-revoked member with exactly these tags
 * (checked, sorted, duplicates dropped; none clears them), signed with a
 * new version. -ENOENT unknown member, -EINVAL a bad tag (err quotes it). */
int network_set_tags(struct network *n, const uint8_t x25519[32], const char *const *tags,
		     size_t ntags, uint64_t now_unix, struct member_record *out, char *err,
		     size_t errlen) WARN_UNUSED;

/* Owner only: remember a new invite. */
int network_invite_add(struct network *n, const uint8_t secret[INVITE_SECRET_LEN],
		       uint64_t now_unix, uint64_t expires, bool reusable) WARN_UNUSED;
/* Checks a joiner's secret: 0 (and marks a single-use invite used), or
 * -ENOENT unknown secret, -ETIMEDOUT expired, -EALREADY used by another
 * key. The same key presenting the same secret again gets 0 (a retried
 * request). Expired slots are dropped here. */
int network_invite_use(struct network *n, const uint8_t secret[INVITE_SECRET_LEN],
		       const uint8_t joiner_x25519[32], uint64_t now_unix) WARN_UNUSED;

#endif
