/* firewall/ruleset.c: the compiled matcher against a deliberately naive
 * reference (WireGuard's allowedips selftest does the same): random
 * peers, memberships, tags and rules, random packets, and the two must
 * agree on every one. The seed is printed; FW_SEED=N repeats a run,
 * FW_ITER=N changes its length. Then numbered vectors for the semantics
 * the reference encodes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firewall/packet.h"
#include "firewall/policy.h"
#include "firewall/ruleset.h"
#include "fw_testpkt.h"

#define MAX_PEERS 12
#define MAX_NETS 3

static const char *const hosts[] = { "alice", "bob", "carol", "dave", "eve" };
static const char *const nets[] = { "home", "work", "lab", "nowhere" };
static const char *const tags[] = { "web", "db", "ops", "nobody" };

/* --- a small PRNG, so a seed means the same run everywhere ------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* --- the world: peers and their memberships ---------------------------------- */

struct ref_net {
	const char *net, *host;
	const char *tags[3];
	size_t ntags;
};

struct ref_peer {
	uint8_t key[32], v6[16], v4[4];
	bool is_static;
	struct ref_net nets[MAX_NETS];
	size_t nnets;
};

struct world {
	struct ref_peer peers[MAX_PEERS];
	size_t npeers;
	struct fw_identity ids[MAX_PEERS];
	struct fw_member_info infos[MAX_PEERS][MAX_NETS];
	struct fw_local local;
};

static void random_addresses(struct world *w, size_t index)
{
	struct ref_peer *p = &w->peers[index];

	for (;;) {
		bool clash = false;

		for (int i = 0; i < 32; i++)
			p->key[i] = (uint8_t)rnd();
		p->v6[0] = 0x02;
		for (int i = 1; i < 16; i++)
			p->v6[i] = (uint8_t)rnd();
		p->v4[0] = 100;
		p->v4[1] = (uint8_t)(64 + below(64));
		p->v4[2] = (uint8_t)rnd();
		p->v4[3] = (uint8_t)(1 + below(254));
		for (size_t i = 0; i < index; i++)
			clash |= memcmp(w->peers[i].v4, p->v4, 4) == 0;
		if (!clash)
			return;
	}
}

static void random_world(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->local.v6[0] = 0x02;
	w->local.v6[15] = 1;
	memcpy(w->local.v4, "\x64\x40\x00\x01", 4);
	w->npeers = 1 + below(MAX_PEERS);
	for (size_t i = 0; i < w->npeers; i++) {
		struct ref_peer *p = &w->peers[i];
		bool used[ARRAY_SIZE(nets)] = { false };

		random_addresses(w, i);
		p->is_static = below(4) == 0;
		p->nnets = below(MAX_NETS + 1);
		for (size_t j = 0; j < p->nnets; j++) {
			struct ref_net *n = &p->nets[j];
			unsigned k;

			do
				k = below(3); /* "nowhere" is never a real network */
			while (used[k]);
			used[k] = true;
			n->net = nets[k];
			n->host = hosts[below(ARRAY_SIZE(hosts))];
			n->ntags = below(3);
			for (size_t t = 0; t < n->ntags; t++)
				n->tags[t] = tags[below(3)];
			w->infos[i][j] =
				(struct fw_member_info){ n->net, n->host, n->tags, n->ntags };
		}
		memcpy(w->ids[i].key, p->key, 32);
		memcpy(w->ids[i].v6, p->v6, 16);
		memcpy(w->ids[i].v4, p->v4, 4);
		w->ids[i].is_static = p->is_static;
		w->ids[i].nets = w->infos[i];
		w->ids[i].nnets = p->nnets;
	}
}

static void random_rule(const struct world *w, struct fw_rule *r)
{
	fw_rule_init(r, below(2) ? FW_IN : FW_OUT, below(2) ? FW_ALLOW : FW_DENY);
	r->proto = (uint8_t)below(4);
	if (r->proto != FW_PROTO_ICMP && below(2)) {
		r->nports = (uint8_t)(1 + below(3));
		for (size_t i = 0; i < r->nports; i++) {
			uint16_t lo = (uint16_t)(18 + below(15));

			r->ports[i].lo = lo;
			r->ports[i].hi = (uint16_t)(lo + (below(3) ? 0 : below(4)));
		}
	}
	r->peer_kind = (uint8_t)below(4);
	if (r->peer_kind == FW_PEER_HOST)
		snprintf(r->name, sizeof(r->name), "%s", hosts[below(ARRAY_SIZE(hosts))]);
	if (r->peer_kind == FW_PEER_TAG)
		snprintf(r->name, sizeof(r->name), "%s", tags[below(ARRAY_SIZE(tags))]);
	if (r->peer_kind == FW_PEER_KEY)
		memcpy(r->key, w->peers[below((unsigned)w->npeers)].key, 32);
	if (below(3) == 0)
		snprintf(r->network, sizeof(r->network), "%s", nets[below(ARRAY_SIZE(nets))]);
}

/* --- the reference: the rules read as a person would read them ------------ */

struct ref_packet {
	int family;
	uint8_t proto;
	uint16_t dport;
	bool later_fragment;
	int peer; /* index, or -1 for an address nobody has */
};

static bool ref_proto(const struct fw_rule *r, const struct ref_packet *k)
{
	switch (r->proto) {
	case FW_PROTO_ANY:
		return true;
	case FW_PROTO_TCP:
		return k->proto == TP_TCP;
	case FW_PROTO_UDP:
		return k->proto == TP_UDP;
	default:
		return (k->family == 4 && k->proto == TP_ICMP4) ||
		       (k->family == 6 && k->proto == TP_ICMP6);
	}
}

static bool ref_ports(const struct fw_rule *r, const struct ref_packet *k)
{
	if (r->nports == 0)
		return true;
	if ((k->proto != TP_TCP && k->proto != TP_UDP) || k->later_fragment)
		return false;
	for (size_t i = 0; i < r->nports; i++)
		if (k->dport >= r->ports[i].lo && k->dport <= r->ports[i].hi)
			return true;
	return false;
}

static bool ref_member_matches(const struct fw_rule *r, const struct ref_net *n)
{
	if (r->network[0] && strcmp(r->network, n->net) != 0)
		return false;
	if (r->peer_kind == FW_PEER_HOST)
		return strcmp(r->name, n->host) == 0;
	if (r->peer_kind == FW_PEER_TAG) {
		for (size_t t = 0; t < n->ntags; t++)
			if (strcmp(n->tags[t], r->name) == 0)
				return true;
		return false;
	}
	return true; /* any or key, in this network */
}

static bool ref_peer(const struct fw_rule *r, const struct world *w, int peer)
{
	const struct ref_peer *p;

	if (r->peer_kind == FW_PEER_ANY && !r->network[0])
		return true;
	if (peer < 0)
		return false;
	p = &w->peers[peer];
	if (r->peer_kind == FW_PEER_KEY && memcmp(r->key, p->key, 32) != 0)
		return false;
	if (r->peer_kind == FW_PEER_KEY && !r->network[0])
		return true;
	for (size_t i = 0; i < p->nnets; i++)
		if (ref_member_matches(r, &p->nets[i]))
			return true;
	return false;
}

static enum fw_match ref_match(const struct fw_policy *pol, const struct world *w, enum fw_dir dir,
			       const struct ref_packet *k, uint32_t *index)
{
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct fw_rule *r = &pol->rules[i];

		if (r->dir != dir || !ref_proto(r, k) || !ref_ports(r, k) ||
		    !ref_peer(r, w, k->peer))
			continue;
		*index = (uint32_t)i;
		return r->action == FW_ALLOW ? FW_MATCH_ALLOW : FW_MATCH_DENY;
	}
	return FW_MATCH_NONE;
}

static uint8_t ref_default(const struct fw_policy *pol, const struct world *w, enum fw_dir dir,
			   int peer)
{
	if (dir == FW_OUT)
		return pol->defaults[FW_DEFAULT_OUT];
	if (peer >= 0 && w->peers[peer].is_static)
		return pol->defaults[FW_DEFAULT_STATIC];
	return pol->defaults[FW_DEFAULT_IN];
}

/* --- the differential test ------------------------------------------------- */

static const uint8_t stranger6[16] = { 0x02, 0xde, 0xad };
static const uint8_t stranger4[4] = { 100, 127, 0, 9 };

static void random_packet(const struct world *w, struct ref_packet *k, struct tp *t,
			  enum fw_dir dir)
{
	static const uint8_t protos[] = { TP_TCP, TP_UDP, TP_ICMP4, TP_ICMP6, 47 };
	const uint8_t *remote, *local;

	memset(t, 0, sizeof(*t));
	k->family = t->family = below(2) ? 4 : 6;
	k->proto = t->proto = protos[below(ARRAY_SIZE(protos))];
	k->peer = below(8) == 0 ? -1 : (int)below((unsigned)w->npeers);
	k->later_fragment = below(10) == 0;
	t->sport = (uint16_t)(18 + below(15));
	t->dport = k->dport = (uint16_t)(18 + below(15));
	t->icmp_type = t->family == 4 ? 8 : 128;
	t->payload = k->later_fragment ? 16 : below(3);
	t->frag_off = k->later_fragment ? 3 : 0;
	t->frag_id = (uint32_t)rnd();
	if (k->peer < 0)
		remote = k->family == 4 ? stranger4 : stranger6;
	else
		remote = k->family == 4 ? w->peers[k->peer].v4 : w->peers[k->peer].v6;
	local = k->family == 4 ? w->local.v4 : w->local.v6;
	memcpy(t->src, dir == FW_IN ? remote : local, k->family == 4 ? 4 : 16);
	memcpy(t->dst, dir == FW_IN ? local : remote, k->family == 4 ? 4 : 16);
}

static void one_policy(struct fw_policy *pol, const struct world *w)
{
	size_t n = below(41);

	assert_int_equal(fw_policy_init(pol), 0);
	pol->defaults[FW_DEFAULT_IN] = (uint8_t)below(2);
	pol->defaults[FW_DEFAULT_OUT] = (uint8_t)below(2);
	pol->defaults[FW_DEFAULT_STATIC] = (uint8_t)below(2);
	if (below(2))
		fw_policy_delete(pol, 0);
	for (size_t i = 0; i < n; i++) {
		struct fw_rule r;

		random_rule(w, &r);
		assert_int_equal(fw_policy_insert(pol, below((unsigned)pol->nrules + 1), &r), 0);
	}
}

static void test_differential(void **state)
{
	const char *env_seed = getenv("FW_SEED"), *env_iter = getenv("FW_ITER");
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : 0x6d616e7461ull; /* "manta" */
	unsigned iters = env_iter ? (unsigned)strtoul(env_iter, NULL, 0) : 3000;
	unsigned long checked = 0, matched = 0;
	static struct world w;
	clock_t start = clock();

	printf("differential: seed %#llx, %u rule sets (FW_SEED, FW_ITER to change)\n",
	       (unsigned long long)seed, iters);
	rng_state = seed ? seed : 1;
	for (unsigned it = 0; it < iters; it++) {
		struct fw_policy pol;
		struct fw_ruleset *rs;

		random_world(&w);
		one_policy(&pol, &w);
		rs = fw_ruleset_compile(&pol, w.ids, w.npeers, &w.local, it + 1);
		assert_non_null(rs);
		for (int pk = 0; pk < 100; pk++) {
			enum fw_dir dir = below(2) ? FW_IN : FW_OUT;
			struct ref_packet k;
			struct fw_packet p;
			struct tp t;
			uint8_t buf[256];
			uint32_t want_i = 0, got_i = 0, slot;
			enum fw_match want, got;

			random_packet(&w, &k, &t, dir);
			assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
			slot = fw_ruleset_slot(rs, p.t.family, dir == FW_IN ? p.t.src : p.t.dst);
			assert_int_equal(slot, k.peer < 0 ? FW_SLOT_NONE : (uint32_t)k.peer);
			got = fw_ruleset_match(rs, dir, &p, slot, &got_i);
			want = ref_match(&pol, &w, dir, &k, &want_i);
			if (got != want || (got != FW_MATCH_NONE && got_i != want_i))
				fail_msg(
					"seed %#llx, rule set %u, packet %d: matcher says %d (rule "
					"%u), reference %d (rule %u)",
					(unsigned long long)seed, it, pk, got, got_i, want, want_i);
			assert_int_equal(fw_ruleset_default(rs, dir, slot),
					 ref_default(&pol, &w, dir, k.peer));
			checked++;
			matched += got != FW_MATCH_NONE;
		}
		fw_ruleset_free(rs);
		fw_policy_free(&pol);
	}
	printf("differential: %lu packets agreed (%lu matched a rule) in %.2f s\n", checked,
	       matched, (double)(clock() - start) / CLOCKS_PER_SEC);
}

/* --- vectors ----------------------------------------------------------------- */

static struct world fixed;

/* alice: home (tags web) and work (tags db); bob: home only; carol: a
 * static peer in no network. */
static void fixed_world(void)
{
	static const char *const alice_home[] = { "web" }, *const alice_work[] = { "db" };

	memset(&fixed, 0, sizeof(fixed));
	fixed.local.v6[0] = 2;
	memcpy(fixed.local.v4, "\x64\x40\x00\x01", 4);
	fixed.npeers = 3;
	for (int i = 0; i < 3; i++) {
		memset(fixed.ids[i].key, 'a' + i, 32);
		fixed.ids[i].v6[0] = 2;
		fixed.ids[i].v6[15] = (uint8_t)(10 + i);
		memcpy(fixed.ids[i].v4, "\x64\x40\x00\x00", 4);
		fixed.ids[i].v4[3] = (uint8_t)(10 + i);
		fixed.ids[i].nets = fixed.infos[i];
	}
	fixed.infos[0][0] = (struct fw_member_info){ "home", "alice", alice_home, 1 };
	fixed.infos[0][1] = (struct fw_member_info){ "work", "alice", alice_work, 1 };
	fixed.ids[0].nnets = 2;
	fixed.infos[1][0] = (struct fw_member_info){ "home", "bob", NULL, 0 };
	fixed.ids[1].nnets = 1;
	fixed.ids[2].is_static = true;
}

struct vector {
	const char *rule; /* one rule, words separated by spaces */
	int dir; /* of the packet */
	int peer;
	uint8_t proto;
	uint16_t dport;
	enum fw_match want;
};

static void run_vector(size_t n, const struct vector *v)
{
	char text[256], *words[16], *save = NULL;
	int nw = 0;
	struct fw_policy pol = { 0 };
	struct fw_rule r;
	struct fw_ruleset *rs;
	struct fw_packet p;
	struct tp t = { 0 };
	uint8_t buf[128], err[200];
	uint32_t idx;

	snprintf(text, sizeof(text), "%s", v->rule);
	for (char *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save))
		words[nw++] = w;
	if (!fw_rule_parse_words(nw, words, &r, (char *)err, sizeof(err)))
		fail_msg("vector %zu: `%s': %s", n, v->rule, err);
	assert_int_equal(fw_policy_insert(&pol, 0, &r), 0);
	rs = fw_ruleset_compile(&pol, fixed.ids, fixed.npeers, &fixed.local, 1);
	t.family = 6;
	t.proto = v->proto;
	t.dport = v->dport;
	t.sport = 40000;
	t.icmp_type = 128;
	memcpy(v->dir == FW_IN ? t.src : t.dst, fixed.ids[v->peer].v6, 16);
	memcpy(v->dir == FW_IN ? t.dst : t.src, fixed.local.v6, 16);
	assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
	if (fw_ruleset_match(rs, v->dir, &p, fw_ruleset_slot(rs, 6, fixed.ids[v->peer].v6), &idx) !=
	    v->want)
		fail_msg("vector %zu: `%s' for peer %d: not %d", n, v->rule, v->peer, v->want);
	fw_ruleset_free(rs);
	fw_policy_free(&pol);
}

static void test_vectors(void **state)
{
	static const struct vector vectors[] = {
		/* 0 */ { "in allow -p tcp -P 22 --peer alice", FW_IN, 0, TP_TCP, 22,
			  FW_MATCH_ALLOW },
		/* 1 */ { "in allow -p tcp -P 22 --peer alice", FW_IN, 1, TP_TCP, 22, FW_MATCH_NONE },
		/* 2 */ { "in allow -p tcp -P 22 --peer alice", FW_IN, 0, TP_TCP, 23, FW_MATCH_NONE },
		/* 3 */ { "in allow -p tcp -P 22 --peer alice", FW_OUT, 0, TP_TCP, 22, FW_MATCH_NONE },
		/* 4 */ { "in allow -p tcp -P 22 --peer alice", FW_IN, 0, TP_UDP, 22, FW_MATCH_NONE },
		/* 5: a port list and a range */
		{ "in deny -p udp -P 53,8000-8100", FW_IN, 1, TP_UDP, 8050, FW_MATCH_DENY },
		/* 6 */ { "in deny -p udp -P 53,8000-8100", FW_IN, 1, TP_UDP, 8101, FW_MATCH_NONE },
		/* 7: any protocol with ports means tcp or udp */
		{ "in allow -P 80", FW_IN, 1, TP_TCP, 80, FW_MATCH_ALLOW },
		/* 8 */ { "in allow -P 80", FW_IN, 1, TP_ICMP6, 80, FW_MATCH_NONE },
		/* 9: network scope: bob is not in work */
		{ "in allow --network work", FW_IN, 1, TP_TCP, 22, FW_MATCH_NONE },
		/* 10: alice is */ { "in allow --network work", FW_IN, 0, TP_TCP, 22, FW_MATCH_ALLOW },
		/* 11: HOST.NET: bob.work names nobody */
		{ "in allow --peer bob.work", FW_IN, 1, TP_TCP, 22, FW_MATCH_NONE },
		/* 12 */ { "in allow --peer bob.home", FW_IN, 1, TP_TCP, 22, FW_MATCH_ALLOW },
		/* 13: tags per network */
		{ "in allow --peer tag:db --network home", FW_IN, 0, TP_TCP, 22, FW_MATCH_NONE },
		/* 14 */ { "in allow --peer tag:db", FW_IN, 0, TP_TCP, 22, FW_MATCH_ALLOW },
		/* 15: a static peer by key */
		{ "in deny --peer Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M=", FW_IN, 2, TP_UDP,
		  1, FW_MATCH_DENY },
		/* 16: a key scoped to a network its peer is not in */
		{ "in deny --peer Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M= --network home",
		  FW_IN, 2, TP_UDP, 1, FW_MATCH_NONE },
		/* 17: icmp means ICMPv6 on IPv6 */
		{ "in allow -p icmp", FW_IN, 1, TP_ICMP6, 0, FW_MATCH_ALLOW },
		/* 18 */ { "in allow -p icmp", FW_IN, 1, TP_ICMP4, 0, FW_MATCH_NONE },
	};

	fixed_world();
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++)
		run_vector(i, &vectors[i]);
}

/* First match wins, and the static default is the static peer's own. */
static void test_first_match_and_defaults(void **state)
{
	struct fw_policy pol;
	struct fw_rule r;
	struct fw_ruleset *rs;
	struct fw_packet p;
	struct tp t = { .family = 6, .proto = TP_TCP, .sport = 1000, .dport = 22 };
	uint8_t buf[128];
	uint32_t idx = 99;

	fixed_world();
	assert_int_equal(fw_policy_init(&pol), 0);
	fw_rule_init(&r, FW_IN, FW_DENY);
	r.proto = FW_PROTO_TCP;
	assert_int_equal(fw_policy_insert(&pol, 1, &r), 0);
	r.action = FW_ALLOW;
	assert_int_equal(fw_policy_insert(&pol, 2, &r), 0);
	rs = fw_ruleset_compile(&pol, fixed.ids, fixed.npeers, &fixed.local, 1);
	memcpy(t.src, fixed.ids[1].v6, 16);
	memcpy(t.dst, fixed.local.v6, 16);
	assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
	assert_int_equal(fw_ruleset_match(rs, FW_IN, &p, 1, &idx), FW_MATCH_DENY);
	assert_int_equal(idx, 1);
	assert_int_equal(fw_ruleset_default(rs, FW_IN, 1), FW_DENY);
	assert_int_equal(fw_ruleset_default(rs, FW_IN, 2), FW_ALLOW); /* static */
	assert_int_equal(fw_ruleset_default(rs, FW_IN, FW_SLOT_NONE), FW_DENY);
	assert_int_equal(fw_ruleset_default(rs, FW_OUT, 1), FW_ALLOW);
	fw_ruleset_free(rs);
	fw_policy_free(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_first_match_and_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
