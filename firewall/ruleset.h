/*
 * A compiled rule set: the policy with every name resolved against the
 * peers this node has right now. Each peer (an identity: its key, its two
 * overlay addresses, whether it is a static [peer], and for each network
 * it shares with this node its hostname and tags there) gets a slot; each
 * rule keeps the set of slots it applies to as a bitmap, computed here
 * once. Matching a packet is then a hash lookup of the remote address and
 * a scan of that direction's rules comparing small integers: nothing is
 * allocated, nothing is locked, no string is compared.
 *
 * A rule scoped to a network (--network, or --peer HOST.NET) applies to a
 * peer only while that peer is a member of that network, and names and
 * tags are looked up in that network's records only. Addresses belong to
 * nodes, not to networks: a packet from a peer that shares two networks
 * with this node is in both.
 *
 * A set is immutable once compiled: firewall.c swaps in a new one whenever
 * the policy or the peers change. Owner: the struct fw holding it.
 */
#ifndef MANTA_FIREWALL_RULESET_H
#define MANTA_FIREWALL_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firewall/packet.h"
#include "firewall/policy.h"

#define FW_SLOT_NONE UINT32_MAX

/* A peer's membership of one network, as the compiler sees it (borrowed
 * for the duration of fw_ruleset_compile). */
struct fw_member_info {
	const char *network;
	const char *hostname;
	const char *const *tags;
	size_t ntags;
};

struct fw_identity {
	uint8_t key[32];
	uint8_t v6[16];
	uint8_t v4[4];
	bool is_static; /* a [peer] section of the configuration */
	const struct fw_member_info *nets;
	size_t nnets;
};

/* This node's own overlay addresses. */
struct fw_local {
	uint8_t v6[16];
	uint8_t v4[4];
};

enum fw_match { FW_MATCH_NONE = 0, FW_MATCH_ALLOW = 1, FW_MATCH_DENY = 2 };

struct fw_crule;

struct fw_ruleset {
	uint64_t generation; /* unique per compiled set, never 0 */
	struct fw_local local;
	uint8_t defaults[3]; /* enum fw_action by enum fw_default */
	bool reject;
	uint32_t max_flows;
	size_t npolicy_rules;

	uint32_t nslots;
	bool *slot_static;
	uint8_t (*slot_v6)[16];
	uint8_t (*slot_v4)[4];
	uint32_t *v6_table, *v4_table; /* slot + 1, 0 = empty; open addressing */
	uint32_t v6_mask, v4_mask;

	struct fw_crule *rules[2]; /* by enum fw_dir, in policy order */
	size_t nrules[2];
	struct fw_port_range *ports;
	uint64_t *bits; /* per rule: ceil(nslots / 64) words */
	size_t words;
};

/* NULL when out of memory. */
struct fw_ruleset *fw_ruleset_compile(const struct fw_policy *p, const struct fw_identity *ids,
				      size_t nids, const struct fw_local *local,
				      uint64_t generation);
void fw_ruleset_free(struct fw_ruleset *rs);

/* The slot of the peer with this overlay address (family 4 or 6), or
 * FW_SLOT_NONE. */
uint32_t fw_ruleset_slot(const struct fw_ruleset *rs, uint8_t family, const uint8_t *addr);
/* First match in direction dir for packet p from/to the peer in slot;
 * *rule gets the policy's 0-based rule index on a match. */
enum fw_match fw_ruleset_match(const struct fw_ruleset *rs, enum fw_dir dir,
			       const struct fw_packet *p, uint32_t slot, uint32_t *rule);
/* The default action for a packet no rule matched. */
uint8_t fw_ruleset_default(const struct fw_ruleset *rs, enum fw_dir dir, uint32_t slot);

#endif
