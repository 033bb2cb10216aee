/* The per-packet cost of the firewall (fw_filter on real packet bytes),
 * with 0 and with 1,000 rules: a packet of an established flow (what a
 * bulk transfer is made of: the flow's cached verdict) and a packet that
 * scans every rule (a flow's first packet, or one the rules deny). It
 * prints ns/packet and asserts only that the verdicts are right: timing
 * is for bench/firewall.sh to read, never a pass/fail on a shared
 * machine. FW_BENCH_PACKETS sets the packets per case (default 200000). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firewall/firewall.h"
#include "fw_testpkt.h"

#define NPEERS 100
#define SEC 1000000000ull

static struct fw_identity ids[NPEERS];
static struct fw_member_info infos[NPEERS];
static char names[NPEERS][16];
static const uint8_t me6[16] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void make_peers(void)
{
	for (int i = 0; i < NPEERS; i++) {
		snprintf(names[i], sizeof(names[i]), "host%d", i);
		infos[i] = (struct fw_member_info){ "home", names[i], NULL, 0 };
		memset(ids[i].key, i + 1, 32);
		ids[i].v6[0] = 2;
		ids[i].v6[1] = (uint8_t)(i + 1);
		ids[i].v6[15] = 9;
		ids[i].v4[0] = 100;
		ids[i].v4[1] = 64;
		ids[i].v4[3] = (uint8_t)(i + 1);
		ids[i].nets = &infos[i];
		ids[i].nnets = 1;
	}
}

/* n rules that do not match the bench packets, then the one that does:
 * in allow -p tcp -P 5201 --peer host0. */
static struct fw_ruleset *ruleset(size_t n, uint64_t gen)
{
	struct fw_local local = { 0 };
	struct fw_ruleset *rs;
	struct fw_policy pol;
	struct fw_rule r;

	assert_int_equal(fw_policy_init(&pol), 0);
	for (size_t i = 0; i + 1 < n; i++) {
		fw_rule_init(&r, i % 4 ? FW_IN : FW_OUT, i % 3 ? FW_ALLOW : FW_DENY);
		r.proto = i % 2 ? FW_PROTO_TCP : FW_PROTO_UDP;
		r.nports = 1;
		r.ports[0].lo = r.ports[0].hi = (uint16_t)(10000 + i);
		r.peer_kind = FW_PEER_HOST;
		snprintf(r.name, sizeof(r.name), "%s", names[1 + i % (NPEERS - 1)]);
		assert_int_equal(fw_policy_insert(&pol, pol.nrules, &r), 0);
	}
	if (n) {
		fw_rule_init(&r, FW_IN, FW_ALLOW);
		r.proto = FW_PROTO_TCP;
		r.nports = 1;
		r.ports[0].lo = r.ports[0].hi = 5201;
		r.peer_kind = FW_PEER_HOST;
		snprintf(r.name, sizeof(r.name), "host0");
		assert_int_equal(fw_policy_insert(&pol, pol.nrules, &r), 0);
	} else {
		pol.defaults[FW_DEFAULT_IN] = FW_ALLOW; /* 0 rules: everything passes */
		fw_policy_delete(&pol, 0);
	}
	memcpy(local.v6, me6, 16);
	rs = fw_ruleset_compile(&pol, ids, NPEERS, &local, gen);
	assert_non_null(rs);
	fw_policy_free(&pol);
	return rs;
}

static size_t packet(uint8_t *buf, uint16_t dport)
{
	struct tp t = { .family = 6,
			.proto = TP_TCP,
			.sport = 40000,
			.dport = dport,
			.tcp_flags = FW_TCP_ACK,
			.payload = 1200 };

	memcpy(t.src, ids[0].v6, 16);
	memcpy(t.dst, me6, 16);
	return tp_build(&t, buf);
}

/* ns/packet for n packets through fw, the best of three runs (the
 * machine is shared); all must get want. */
static double run(struct fw *fw, const uint8_t *buf, size_t len, unsigned n, enum fw_verdict want)
{
	double best = 0;

	for (int r = 0; r < 3; r++) {
		uint64_t start = now_ns();
		unsigned wrong = 0;
		double ns;

		for (unsigned i = 0; i < n; i++)
			wrong += fw_filter(fw, FW_IN, buf, len, SEC) != want;
		assert_int_equal(wrong, 0);
		ns = (double)(now_ns() - start) / n;
		best = r == 0 || ns < best ? ns : best;
	}
	return best;
}

static void test_bench(void **state)
{
	const char *env = getenv("FW_BENCH_PACKETS");
	unsigned n = env ? (unsigned)strtoul(env, NULL, 0) : 200000;
	static uint8_t flow[1400], deny[1400];
	static struct fw fw; /* 12 KiB: not on the stack */
	size_t flow_len, deny_len;
	double est0, est1k, scan1k;

	make_peers();
	flow_len = packet(flow, 5201);
	deny_len = packet(deny, 7); /* a flow of its own, never created */
	assert_int_equal(fw_init(&fw, 65536), 0);

	assert_int_equal(fw_install(&fw, ruleset(0, 1)), 0);
	est0 = run(&fw, flow, flow_len, n, FW_PASS);
	assert_int_equal(fw_install(&fw, ruleset(1000, 2)), 0);
	est1k = run(&fw, flow, flow_len, n, FW_PASS);
	/* a denied packet creates no flow: each one scans all 1,000 rules */
	scan1k = run(&fw, deny, deny_len, n, FW_DROP);
	printf("fw_filter ns/packet (best of 3 runs of %u packets, %d peers):\n", n, NPEERS);
	printf("  0 rules,     packet of an established flow:  %7.1f\n", est0);
	printf("  1000 rules,  packet of an established flow:  %7.1f\n", est1k);
	printf("  1000 rules,  packet scanning every rule:     %7.1f\n", scan1k);
	fw_deinit(&fw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
