/*
 * Compiling the policy against the peers, and the per-packet match.
 */
#include "firewall/ruleset.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

enum peer_mode { PEER_ANY = 0, PEER_SET, PEER_NONE };

struct fw_crule {
	uint8_t action;
	uint8_t proto;
	uint8_t nports;
	uint8_t peer; /* enum peer_mode */
	uint32_t index; /* in the policy */
	uint32_t ports_off; /* into rs->ports */
	uint32_t bits_off; /* into rs->bits (PEER_SET) */
};

static uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Overlay addresses are hash outputs already; mixing guards the table
 * against a hand-picked static peer all the same. */
static uint32_t addr_hash(uint8_t family, const uint8_t *a)
{
	if (family == 4)
		return fmix32(get_le32(a));
	return fmix32(get_le32(a + 4) ^ fmix32(get_le32(a + 8) ^ fmix32(get_le32(a + 12))));
}

uint32_t fw_ruleset_slot(const struct fw_ruleset *rs, uint8_t family, const uint8_t *addr)
{
	const uint32_t *table = family == 4 ? rs->v4_table : rs->v6_table;
	uint32_t mask = family == 4 ? rs->v4_mask : rs->v6_mask;
	size_t alen = family == 4 ? 4 : 16;

	for (uint32_t i = addr_hash(family, addr) & mask;; i = (i + 1) & mask) {
		uint32_t s = table[i];
		const uint8_t *have;

		if (!s)
			return FW_SLOT_NONE;
		have = family == 4 ? rs->slot_v4[s - 1] : rs->slot_v6[s - 1];
		if (memcmp(have, addr, alen) == 0)
			return s - 1;
	}
}

static bool in_ports(const struct fw_port_range *r, unsigned n, uint16_t port)
{
	for (unsigned i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return true;
	return false;
}

enum fw_match fw_ruleset_match(const struct fw_ruleset *rs, enum fw_dir dir,
			       const struct fw_packet *p, uint32_t slot, uint32_t *rule)
{
	const struct fw_crule *r = rs->rules[dir], *end = r + rs->nrules[dir];
	uint8_t cls = fw_packet_proto_class(p);
	bool ports = fw_packet_has_ports(p);
	uint16_t dport = p->t.dport;

	for (; r < end; r++) {
		if (r->proto != FW_PROTO_ANY && r->proto != cls)
			continue;
		if (r->nports && (!ports || !in_ports(rs->ports + r->ports_off, r->nports, dport)))
			continue;
		if (r->peer != PEER_ANY &&
		    (r->peer == PEER_NONE || slot == FW_SLOT_NONE ||
		     !(rs->bits[r->bits_off + slot / 64] >> (slot % 64) & 1)))
			continue;
		*rule = r->index;
		return r->action == FW_ALLOW ? FW_MATCH_ALLOW : FW_MATCH_DENY;
	}
	return FW_MATCH_NONE;
}

uint8_t fw_ruleset_default(const struct fw_ruleset *rs, enum fw_dir dir, uint32_t slot)
{
	if (dir == FW_OUT)
		return rs->defaults[FW_DEFAULT_OUT];
	if (slot != FW_SLOT_NONE && rs->slot_static[slot])
		return rs->defaults[FW_DEFAULT_STATIC];
	return rs->defaults[FW_DEFAULT_IN];
}

/* --- compiling ------------------------------------------------------------- */

static bool in_scope(const struct fw_rule *r, const struct fw_member_info *m)
{
	return !r->network[0] || strcmp(r->network, m->network) == 0;
}

static bool has_tag(const struct fw_member_info *m, const char *tag)
{
	for (size_t i = 0; i < m->ntags; i++)
		if (strcmp(m->tags[i], tag) == 0)
			return true;
	return false;
}

/* Does the rule's peer and network apply to this identity? */
static bool applies(const struct fw_rule *r, const struct fw_identity *id)
{
	if (r->peer_kind == FW_PEER_KEY && memcmp(r->key, id->key, 32) != 0)
		return false;
	if (r->peer_kind == FW_PEER_KEY && !r->network[0])
		return true;
	for (size_t i = 0; i < id->nnets; i++) {
		const struct fw_member_info *m = &id->nets[i];

		if (!in_scope(r, m))
			continue;
		if (r->peer_kind == FW_PEER_ANY || r->peer_kind == FW_PEER_KEY)
			return true;
		if (r->peer_kind == FW_PEER_HOST && strcmp(m->hostname, r->name) == 0)
			return true;
		if (r->peer_kind == FW_PEER_TAG && has_tag(m, r->name))
			return true;
	}
	return false;
}

static uint32_t table_size(size_t n)
{
	uint32_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

static void table_put(uint32_t *table, uint32_t mask, uint8_t family, const uint8_t *a,
		      uint32_t slot)
{
	uint32_t i = addr_hash(family, a) & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = slot + 1;
}

static int build_slots(struct fw_ruleset *rs, const struct fw_identity *ids, size_t nids)
{
	uint32_t size = table_size(nids);

	rs->nslots = (uint32_t)nids;
	rs->slot_static = calloc(nids ? nids : 1, sizeof(*rs->slot_static));
	rs->slot_v6 = calloc(nids ? nids : 1, sizeof(*rs->slot_v6));
	rs->slot_v4 = calloc(nids ? nids : 1, sizeof(*rs->slot_v4));
	rs->v6_table = calloc(size, sizeof(*rs->v6_table));
	rs->v4_table = calloc(size, sizeof(*rs->v4_table));
	if (!rs->slot_static || !rs->slot_v6 || !rs->slot_v4 || !rs->v6_table || !rs->v4_table)
		return -1;
	rs->v6_mask = rs->v4_mask = size - 1;
	for (size_t i = 0; i < nids; i++) {
		rs->slot_static[i] = ids[i].is_static;
		memcpy(rs->slot_v6[i], ids[i].v6, 16);
		memcpy(rs->slot_v4[i], ids[i].v4, 4);
		table_put(rs->v6_table, rs->v6_mask, 6, ids[i].v6, (uint32_t)i);
		table_put(rs->v4_table, rs->v4_mask, 4, ids[i].v4, (uint32_t)i);
	}
	return 0;
}

static void compile_rule(struct fw_ruleset *rs, const struct fw_rule *r, uint32_t index,
			 const struct fw_identity *ids, size_t nids, size_t *nports)
{
	struct fw_crule *c = &rs->rules[r->dir][rs->nrules[r->dir]++];
	uint64_t *bits;
	bool any = false;

	c->action = r->action;
	c->proto = r->proto;
	c->nports = r->nports;
	c->index = index;
	c->ports_off = (uint32_t)*nports;
	memcpy(rs->ports + *nports, r->ports, r->nports * sizeof(r->ports[0]));
	*nports += r->nports;
	c->bits_off = (uint32_t)(index * rs->words);
	if (r->peer_kind == FW_PEER_ANY && !r->network[0]) {
		c->peer = PEER_ANY;
		return;
	}
	bits = rs->bits + c->bits_off;
	for (size_t s = 0; s < nids; s++) {
		if (applies(r, &ids[s])) {
			bits[s / 64] |= 1ull << (s % 64);
			any = true;
		}
	}
	c->peer = any ? PEER_SET : PEER_NONE;
}

struct fw_ruleset *fw_ruleset_compile(const struct fw_policy *p, const struct fw_identity *ids,
				      size_t nids, const struct fw_local *local,
				      uint64_t generation)
{
	struct fw_ruleset *rs = calloc(1, sizeof(*rs));
	size_t n = p->nrules ? p->nrules : 1, nports = 0;

	if (!rs)
		return NULL;
	rs->generation = generation;
	rs->local = *local;
	memcpy(rs->defaults, p->defaults, sizeof(rs->defaults));
	rs->reject = p->reject;
	rs->max_flows = p->max_flows;
	rs->npolicy_rules = p->nrules;
	rs->words = (nids + 63) / 64;
	rs->rules[FW_IN] = calloc(n, sizeof(struct fw_crule));
	rs->rules[FW_OUT] = calloc(n, sizeof(struct fw_crule));
	rs->ports = calloc(n * FW_PORT_RANGES_MAX, sizeof(*rs->ports));
	rs->bits = calloc(n * (rs->words ? rs->words : 1), sizeof(*rs->bits));
	if (!rs->rules[FW_IN] || !rs->rules[FW_OUT] || !rs->ports || !rs->bits ||
	    build_slots(rs, ids, nids) < 0) {
		fw_ruleset_free(rs);
		return NULL;
	}
	for (size_t i = 0; i < p->nrules; i++)
		compile_rule(rs, &p->rules[i], (uint32_t)i, ids, nids, &nports);
	return rs;
}

void fw_ruleset_free(struct fw_ruleset *rs)
{
	if (!rs)
		return;
	free(rs->slot_static);
	free(rs->slot_v6);
	free(rs->slot_v4);
	free(rs->v6_table);
	free(rs->v4_table);
	free(rs->rules[FW_IN]);
	free(rs->rules[FW_OUT]);
	free(rs->ports);
	free(rs->bits);
	free(rs);
}
