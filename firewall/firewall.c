/*
 * The per-packet decision (firewall.h gives the order), the fragment
 * memory and the control-traffic exception.
 */
#include "firewall/firewall.h"

#include <string.h>

#include "firewall/reject.h"
#include "mesh/gossip.h"

/*
 * mantad's own sockets inside the tunnel: UDP from and to these ports on
 * both ends, on this node's overlay IPv6 address. Gossip carries member
 * lists, announcements and `manta ping'; without it a member under
 * default-deny could not learn of a kick or a tag change. Path-MTU probes
 * (UDP port PMTU_PROBE_PORT) need no entry: the engine builds them and
 * consumes them (mesh/pmtu.c, pmtu_receive in mesh/receive.c) before a
 * packet reaches either hook. Another control channel inside the tunnel
 * is added here.
 */
static const uint16_t fw_control_ports[] = { GOSSIP_PORT };

/* What a flow caches per direction: the rules' answer (enum fw_match, bits
 * 0-1), the default action (bit 2), and whether a peer has the remote
 * address (bit 3). */
#define CACHED_PEER 0x08

int fw_init(struct fw *fw, uint32_t max_flows)
{
	memset(fw, 0, sizeof(*fw));
	atomic_init(&fw->rs, NULL);
	return fw_ct_init(&fw->ct, max_flows);
}

void fw_deinit(struct fw *fw)
{
	fw_ruleset_free(atomic_exchange_explicit(&fw->rs, NULL, memory_order_acq_rel));
	fw_ct_deinit(&fw->ct);
}

int fw_install(struct fw *fw, struct fw_ruleset *rs)
{
	int r = 0;

	if (rs->max_flows != fw->ct.cap)
		r = fw_ct_resize(&fw->ct, rs->max_flows);
	fw_ruleset_free(atomic_exchange_explicit(&fw->rs, rs, memory_order_acq_rel));
	return r;
}

void fw_tick(struct fw *fw, uint64_t now)
{
	fw_ct_expire(&fw->ct, now);
}

/* --- helpers ---------------------------------------------------------------- */

static size_t alen(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static bool is_local(const struct fw_ruleset *rs, uint8_t family, const uint8_t *a)
{
	return memcmp(a, family == 4 ? rs->local.v4 : rs->local.v6, alen(family)) == 0;
}

static bool is_control(const struct fw_ruleset *rs, enum fw_dir dir, const struct fw_packet *p)
{
	if (p->t.family != 6 || p->kind != FW_KIND_UDP || p->t.sport != p->t.dport ||
	    !is_local(rs, 6, dir == FW_IN ? p->t.dst : p->t.src))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(fw_control_ports); i++)
		if (p->t.dport == fw_control_ports[i])
			return true;
	return false;
}

static const uint8_t *remote_of(enum fw_dir dir, const struct fw_tuple *t)
{
	return dir == FW_IN ? t->src : t->dst;
}

static bool tracked(const struct fw_packet *p)
{
	return p->kind == FW_KIND_TCP || p->kind == FW_KIND_UDP ||
	       p->kind == FW_KIND_ECHO_REQUEST || p->kind == FW_KIND_ECHO_REPLY;
}

/* --- fragments -------------------------------------------------------------- */

static struct fw_frag *frag_slot(struct fw *fw, const struct fw_packet *p)
{
	uint32_t h = p->frag_id * 0x9e3779b1u;

	h ^= (uint32_t)p->t.src[alen(p->t.family) - 1] << 8 | p->t.dst[alen(p->t.family) - 1];
	h ^= h >> 15;
	return &fw->frags[h % FW_FRAGS];
}

static bool frag_same(const struct fw_frag *f, const struct fw_packet *p)
{
	size_t n = alen(p->t.family);

	return f->family == p->t.family && f->proto == p->t.proto && f->id == p->frag_id &&
	       memcmp(f->src, p->t.src, n) == 0 && memcmp(f->dst, p->t.dst, n) == 0;
}

static void frag_remember(struct fw *fw, const struct fw_packet *p, uint64_t now)
{
	struct fw_frag *f = frag_slot(fw, p);
	size_t n = alen(p->t.family);

	f->family = p->t.family;
	f->proto = p->t.proto;
	f->id = p->frag_id;
	memcpy(f->src, p->t.src, n);
	memcpy(f->dst, p->t.dst, n);
	f->until = now + FW_FRAG_NS;
}

static bool frag_known(struct fw *fw, const struct fw_packet *p, uint64_t now)
{
	const struct fw_frag *f = frag_slot(fw, p);

	return f->until > now && frag_same(f, p);
}

/* --- the decision ----------------------------------------------------------- */

static enum fw_verdict deny(struct fw *fw, const struct fw_ruleset *rs, uint64_t *counter)
{
	(*counter)++;
	return rs->reject ? FW_REJECT : FW_DROP;
}

/* The packet passes: track it. */
static enum fw_verdict pass(struct fw *fw, struct fw_flow *f, const struct fw_ct_key *k,
			    enum fw_dir dir, const struct fw_packet *p, uint8_t cached,
			    uint64_t gen, uint64_t now)
{
	bool rst = p->kind == FW_KIND_TCP && (p->tcp_flags & FW_TCP_RST);

	if (!tracked(p))
		return FW_PASS;
	if (f && f->state == FW_CT_CLOSED && !rst) {
		/* The 4-tuple is used again after a reset: a new flow. */
		f->origin = (uint8_t)dir;
		f->state = FW_CT_OPEN;
	}
	/* No flow for an address no peer has: the engine drops the packet
	 * (no route), and the table keeps its room for real flows. */
	if (!f && !rst && p->kind != FW_KIND_ECHO_REPLY && (cached & CACHED_PEER)) {
		f = fw_ct_create(&fw->ct, k, (uint8_t)dir, now);
		if (f) {
			f->cached[dir] = cached;
			f->cached_gen[dir] = gen;
		}
	}
	if (f)
		fw_ct_update(&fw->ct, f, (uint8_t)dir, p, now);
	return FW_PASS;
}

/* An ICMP error about a tracked flow between this node and the peer that
 * sends (inbound) or gets (outbound) the error. */
static bool related(struct fw *fw, enum fw_dir dir, const struct fw_packet *p, uint64_t now)
{
	enum fw_dir quoted = dir == FW_IN ? FW_OUT : FW_IN;
	const uint8_t *peer = remote_of(dir, &p->t);
	struct fw_ct_key k;
	struct fw_flow *f;

	if (!p->inner_ok || memcmp(remote_of(quoted, &p->inner), peer, alen(p->t.family)) != 0)
		return false;
	fw_ct_key_from(&k, &p->inner, quoted);
	f = fw_ct_find(&fw->ct, &k, now);
	return f && f->state != FW_CT_CLOSED;
}

static enum fw_verdict decide(struct fw *fw, const struct fw_ruleset *rs, enum fw_dir dir,
			      const struct fw_packet *p, uint64_t now)
{
	struct fw_flow *f = NULL;
	struct fw_ct_key k;
	uint8_t m, dflt, cached;
	uint32_t slot, rule;

	if (tracked(p)) {
		fw_ct_key_from(&k, &p->t, dir);
		f = fw_ct_find(&fw->ct, &k, now);
	}
	if (f && f->cached_gen[dir] == rs->generation) {
		cached = f->cached[dir];
	} else {
		slot = fw_ruleset_slot(rs, p->t.family, remote_of(dir, &p->t));
		m = (uint8_t)fw_ruleset_match(rs, dir, p, slot, &rule);
		cached = (uint8_t)(m | fw_ruleset_default(rs, dir, slot) << 2 |
				   (slot != FW_SLOT_NONE ? CACHED_PEER : 0));
		if (f) {
			f->cached[dir] = cached;
			f->cached_gen[dir] = rs->generation;
		}
	}
	m = cached & 3;
	dflt = cached >> 2 & 1;
	if (m == FW_MATCH_DENY)
		return deny(fw, rs,
			    dir == FW_IN ? &fw->counters.in_denied_rule :
					   &fw->counters.out_denied_rule);
	if (m == FW_MATCH_ALLOW || dflt == FW_ALLOW)
		return pass(fw, f, &k, dir, p, cached, rs->generation, now);
	if (f && f->state != FW_CT_CLOSED && f->origin != dir) {
		fw->counters.passed_return++;
		return pass(fw, f, &k, dir, p, cached, rs->generation, now);
	}
	if (p->kind == FW_KIND_ICMP_ERROR && related(fw, dir, p, now)) {
		fw->counters.passed_related++;
		return FW_PASS;
	}
	return deny(fw, rs,
		    dir == FW_IN ? &fw->counters.in_denied_default :
				   &fw->counters.out_denied_default);
}

enum fw_verdict fw_filter(struct fw *fw, enum fw_dir dir, const uint8_t *ip, size_t len,
			  uint64_t now)
{
	const struct fw_ruleset *rs = atomic_load_explicit(&fw->rs, memory_order_acquire);
	struct fw_packet *p = &fw->last;
	enum fw_verdict v;

	if (!rs)
		return FW_PASS;
	if (!fw_packet_parse(ip, len, p)) {
		fw->counters.invalid++;
		return FW_DROP;
	}
	if (dir == FW_IN && !is_local(rs, p->t.family, p->t.dst)) {
		fw->counters.not_local++;
		return FW_DROP;
	}
	if (is_control(rs, dir, p)) {
		fw->counters.passed_control++;
		return FW_PASS;
	}
	if (p->fragment && !p->first_fragment && frag_known(fw, p, now)) {
		fw->counters.passed_fragment++;
		return FW_PASS;
	}
	v = decide(fw, rs, dir, p, now);
	if (v == FW_PASS && p->first_fragment)
		frag_remember(fw, p, now);
	return v;
}

size_t fw_reject(struct fw *fw, const uint8_t *ip, size_t len, uint8_t *out, size_t cap)
{
	size_t n = fw_reject_build(ip, len, &fw->last, out, cap);

	if (n)
		fw->counters.rejected++;
	return n;
}
