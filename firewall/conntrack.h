/*
 * Connection tracking: a table of flows (TCP, UDP, ICMP echo) between this
 * node and its peers, bounded and allocated once. A flow is keyed from
 * this node's side (protocol, local address and port, remote address and
 * port), so both directions of a flow find the same entry; it remembers
 * which direction opened it, so that a packet the other way is "return
 * traffic".
 *
 * Timeouts (idle time): an established TCP flow (packets seen both ways,
 * no FIN or RST) 300 s; every other flow 30 s (TCP opening or closing,
 * UDP and echo, answered or not). The flows sit on three lists in order
 * of last use: NEW (not established: TCP opening or closing, UDP or echo
 * not answered), ANSWERED (UDP and echo answered, 30 s) and TCP (TCP
 * established, 300 s); within a list, oldest first is also first to
 * expire, so expiry looks only at list heads. When the table is full a new
 * flow takes the place of the oldest NEW flow, and only when there is none
 * of the older of the other two heads.
 *
 * Each flow also caches, per direction, what the rules said for its
 * packets under one compiled rule set (by generation), so a flow's later
 * packets skip the rule scan; a new rule set has a new generation.
 *
 * Memory: flows and the bucket array come from calloc and are handed out
 * from a high-water mark, so untouched pages cost nothing. Lookups,
 * inserts and evictions allocate nothing. The hash is keyed with a random
 * seed so that a peer cannot aim ports at one bucket.
 */
#ifndef MANTA_FIREWALL_CONNTRACK_H
#define MANTA_FIREWALL_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "firewall/packet.h"

#define FW_CT_NIL UINT32_MAX
#define FW_CT_TCP_ESTABLISHED_NS (300ull * 1000000000ull)
#define FW_CT_OTHER_NS (30ull * 1000000000ull)

enum fw_ct_list { FW_CT_NEW = 0, FW_CT_ANSWERED, FW_CT_TCP, FW_CT_LISTS };

enum fw_ct_state {
	FW_CT_OPEN = 0, /* packets seen one way only */
	FW_CT_ESTABLISHED, /* both ways */
	FW_CT_CLOSING, /* TCP: a FIN was seen */
	FW_CT_CLOSED, /* TCP: a RST was seen; no longer return traffic */
};

/* From this node's side; padding zeroed so keys compare with memcmp. */
struct fw_ct_key {
	uint8_t local[16], remote[16];
	uint16_t lport, rport;
	uint8_t family, proto;
	uint8_t pad[2];
};

struct fw_flow {
	struct fw_ct_key key;
	uint32_t hnext; /* bucket chain or free list: index + 1, 0 = end */
	uint32_t prev, next; /* its list */
	uint8_t origin; /* enum fw_dir of the first packet */
	uint8_t state; /* enum fw_ct_state */
	uint8_t list; /* enum fw_ct_list */
	uint8_t cached[2]; /* by packet direction: what the rules said */
	uint64_t cached_gen[2];
	uint64_t last_seen; /* monotonic ns */
};

struct fw_ct_counters {
	uint64_t created, expired, evicted;
};

struct fw_conntrack {
	struct fw_flow *flows;
	uint32_t cap, hw; /* capacity; flows ever handed out */
	uint32_t count, free_head; /* free_head: index + 1, 0 = none */
	uint32_t *buckets; /* index + 1 of the first flow, 0 = empty */
	uint32_t mask;
	uint32_t head[FW_CT_LISTS], tail[FW_CT_LISTS];
	uint64_t seed;
	struct fw_ct_counters counters;
};

int fw_ct_init(struct fw_conntrack *ct, uint32_t cap) WARN_UNUSED;
void fw_ct_deinit(struct fw_conntrack *ct);
/* A new table of another size with the most recently used flows of ct
 * moved into it (as many as fit); ct is then replaced. */
int fw_ct_resize(struct fw_conntrack *ct, uint32_t cap) WARN_UNUSED;

/* The key of a packet's flow from this node's side (dir: the packet's). */
void fw_ct_key_from(struct fw_ct_key *k, const struct fw_tuple *t, uint8_t dir);
/* The live flow with key k, or NULL (an expired one is removed here). */
struct fw_flow *fw_ct_find(struct fw_conntrack *ct, const struct fw_ct_key *k, uint64_t now);
/* A new flow (k must not be in the table), evicting if full. */
struct fw_flow *fw_ct_create(struct fw_conntrack *ct, const struct fw_ct_key *k, uint8_t origin,
			     uint64_t now);
/* A packet of the flow went through: state, list, last use. */
void fw_ct_update(struct fw_conntrack *ct, struct fw_flow *f, uint8_t dir,
		  const struct fw_packet *p, uint64_t now);
/* Removes idle flows; returns how many. */
size_t fw_ct_expire(struct fw_conntrack *ct, uint64_t now);
uint64_t fw_ct_timeout(const struct fw_flow *f);

#endif
