/* firewall/firewall.c: the decision for one packet, end to end over real
 * packet bytes: defaults, return traffic, explicit deny over conntrack,
 * rule changes on live flows, control traffic, fragments, ICMP errors,
 * and the counters `manta status' shows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/firewall.h"
#include "firewall/reject.h"
#include "fw_testpkt.h"

#define SEC 1000000000ull

/* This node, a member peer (bob, in home) and a static peer. */
static const uint8_t me6[16] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t bob6[16] = { 2, 0xb0, 0xb0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t stat6[16] = { 2, 0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
static const uint8_t carol6[16] = { 2, 0xca, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4 };
static const uint8_t me4[4] = { 100, 64, 0, 1 }, bob4[4] = { 100, 64, 0, 2 };
static const uint8_t stat4[4] = { 100, 64, 0, 3 }, carol4[4] = { 100, 64, 0, 4 };

struct env {
	struct fw fw;
	struct fw_policy pol;
	struct fw_identity ids[3];
	struct fw_member_info bob_nets[1], carol_nets[1];
	struct fw_local local;
	uint64_t gen;
};

static void install(struct env *e)
{
	struct fw_ruleset *rs = fw_ruleset_compile(&e->pol, e->ids, 3, &e->local, ++e->gen);

	assert_non_null(rs);
	assert_int_equal(fw_install(&e->fw, rs), 0);
}

static void add_rule(struct env *e, size_t at, const char *line)
{
	char buf[256], *w[16], *save = NULL, err[256];
	struct fw_rule r;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (!fw_rule_parse_words(n, w, &r, err, sizeof(err)))
		fail_msg("`%s': %s", line, err);
	assert_int_equal(fw_policy_insert(&e->pol, at, &r), 0);
	install(e);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e || fw_init(&e->fw, 64) < 0 || fw_policy_init(&e->pol) < 0)
		return -1;
	e->pol.max_flows = 64;
	memcpy(e->local.v6, me6, 16);
	memcpy(e->local.v4, me4, 4);
	e->bob_nets[0] = (struct fw_member_info){ "home", "bob", NULL, 0 };
	e->carol_nets[0] = (struct fw_member_info){ "home", "carol", NULL, 0 };
	memset(e->ids[0].key, 'b', 32);
	memcpy(e->ids[0].v6, bob6, 16);
	memcpy(e->ids[0].v4, bob4, 4);
	e->ids[0].nets = e->bob_nets;
	e->ids[0].nnets = 1;
	memset(e->ids[1].key, 's', 32);
	memcpy(e->ids[1].v6, stat6, 16);
	memcpy(e->ids[1].v4, stat4, 4);
	e->ids[1].is_static = true;
	memset(e->ids[2].key, 'c', 32);
	memcpy(e->ids[2].v6, carol6, 16);
	memcpy(e->ids[2].v4, carol4, 4);
	e->ids[2].nets = e->carol_nets;
	e->ids[2].nnets = 1;
	install(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fw_deinit(&e->fw);
	fw_policy_free(&e->pol);
	free(e);
	return 0;
}

/* A packet between this node and peer (6 or 4 byte address) in dir. */
static enum fw_verdict send_pkt(struct env *e, enum fw_dir dir, const uint8_t *peer, int family,
				uint8_t proto, uint16_t local_port, uint16_t remote_port,
				uint8_t flags, uint64_t now)
{
	struct tp t = { .family = family, .proto = proto, .tcp_flags = flags };
	size_t alen = family == 4 ? 4 : 16;
	uint8_t buf[256];

	memcpy(dir == FW_IN ? t.src : t.dst, peer, alen);
	memcpy(dir == FW_IN ? t.dst : t.src, family == 4 ? me4 : me6, alen);
	t.sport = dir == FW_IN ? remote_port : local_port;
	t.dport = dir == FW_IN ? local_port : remote_port;
	if (proto == TP_ICMP4 || proto == TP_ICMP6) {
		t.icmp_type = flags; /* the type, for ICMP */
		t.sport = local_port; /* the echo identifier */
	}
	return fw_filter(&e->fw, dir, buf, tp_build(&t, buf), now);
}

#define IN_TCP(e, peer, lport, rport, flags, now) \
	send_pkt(e, FW_IN, peer, 6, TP_TCP, lport, rport, flags, now)
#define OUT_TCP(e, peer, lport, rport, flags, now) \
	send_pkt(e, FW_OUT, peer, 6, TP_TCP, lport, rport, flags, now)

/* 1. The defaults: a member can ping but not open TCP; outbound is open;
 * a static peer is trusted; the ICMP rule is an ordinary rule. */
static void test_defaults(void **state)
{
	struct env *e = *state;

	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_ICMP6, 7, 0, 128, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob4, 4, TP_ICMP4, 7, 0, 8, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_SYN, SEC), FW_DROP);
	assert_int_equal(send_pkt(e, FW_IN, bob4, 4, TP_UDP, 53, 40000, 0, SEC), FW_DROP);
	assert_int_equal(e->fw.counters.in_denied_default, 2);
	assert_int_equal(IN_TCP(e, stat6, 22, 40000, FW_TCP_SYN, SEC), FW_PASS);
	assert_int_equal(OUT_TCP(e, bob6, 40001, 80, FW_TCP_SYN, SEC), FW_PASS);
	/* after `firewall del 1' ping is denied too */
	fw_policy_delete(&e->pol, 0);
	install(e);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_ICMP6, 8, 0, 128, SEC), FW_DROP);
	/* `firewall default static deny' */
	e->pol.defaults[FW_DEFAULT_STATIC] = FW_DENY;
	install(e);
	assert_int_equal(IN_TCP(e, stat6, 22, 40002, FW_TCP_SYN, SEC), FW_DROP);
}

/* 2. An allow rule for bob's TCP 22: bob gets in, carol does not. */
static void test_allow_rule(void **state)
{
	struct env *e = *state;

	add_rule(e, 1, "in allow -p tcp -P 22 --peer bob");
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_SYN, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, carol6, 22, 40000, FW_TCP_SYN, SEC), FW_DROP);
	assert_int_equal(IN_TCP(e, bob6, 23, 40000, FW_TCP_SYN, SEC), FW_DROP);
	/* the reply goes out and the rest of the connection flows */
	assert_int_equal(OUT_TCP(e, bob6, 22, 40000, FW_TCP_SYN | FW_TCP_ACK, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_ACK, SEC), FW_PASS);
	assert_int_equal(e->fw.ct.count, 1);
}

/* 3. Return traffic of an outbound connection passes a default deny; an
 * explicit deny still wins. */
static void test_return_traffic(void **state)
{
	struct env *e = *state;

	assert_int_equal(OUT_TCP(e, bob6, 40000, 8080, FW_TCP_SYN, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 8080, FW_TCP_SYN | FW_TCP_ACK, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 8080, FW_TCP_ACK, SEC), FW_PASS);
	assert_int_equal(e->fw.counters.passed_return, 2);
	/* not return traffic: bob opening his own connection to that port */
	assert_int_equal(IN_TCP(e, bob6, 40000, 8081, FW_TCP_SYN, SEC), FW_DROP);
	/* UDP and echo the same way */
	assert_int_equal(send_pkt(e, FW_OUT, bob4, 4, TP_UDP, 5353, 53, 0, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob4, 4, TP_UDP, 5353, 53, 0, SEC), FW_PASS);
	fw_policy_delete(&e->pol, 0); /* no ICMP rule: echo replies are return traffic */
	install(e);
	assert_int_equal(send_pkt(e, FW_OUT, bob6, 6, TP_ICMP6, 99, 0, 128, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_ICMP6, 99, 0, 129, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_ICMP6, 98, 0, 129, SEC), FW_DROP);
	/* an explicit deny wins over conntrack */
	add_rule(e, 0, "in deny -p tcp --peer bob");
	assert_int_equal(IN_TCP(e, bob6, 40000, 8080, FW_TCP_ACK, 2 * SEC), FW_DROP);
	assert_int_equal(e->fw.counters.in_denied_rule, 1);
	/* ... and only for what it names */
	assert_int_equal(send_pkt(e, FW_IN, bob4, 4, TP_UDP, 5353, 53, 0, 2 * SEC), FW_PASS);
	/* removing it lets the flow through again */
	fw_policy_delete(&e->pol, 0);
	install(e);
	assert_int_equal(IN_TCP(e, bob6, 40000, 8080, FW_TCP_ACK, 3 * SEC), FW_PASS);
}

/* 4. Rules apply to live flows: removing the allow rule stops a flow that
 * rule let in (its packets are not return traffic). */
static void test_rule_change_on_live_flow(void **state)
{
	struct env *e = *state;

	add_rule(e, 1, "in allow -p tcp -P 22 --peer bob");
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_SYN, SEC), FW_PASS);
	assert_int_equal(OUT_TCP(e, bob6, 22, 40000, FW_TCP_SYN | FW_TCP_ACK, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_ACK, SEC), FW_PASS);
	fw_policy_delete(&e->pol, 1);
	install(e);
	assert_int_equal(IN_TCP(e, bob6, 22, 40000, FW_TCP_ACK, SEC), FW_DROP);
	/* our side may still answer: outbound is open */
	assert_int_equal(OUT_TCP(e, bob6, 22, 40000, FW_TCP_ACK, SEC), FW_PASS);
}

/* 5. Timeouts: 30 s for UDP and unanswered TCP, 300 s for established TCP. */
static void test_timeouts(void **state)
{
	struct env *e = *state;

	assert_int_equal(send_pkt(e, FW_OUT, bob6, 6, TP_UDP, 5000, 53, 0, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_UDP, 5000, 53, 0, 30 * SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_UDP, 5000, 53, 0, 61 * SEC), FW_DROP);

	assert_int_equal(OUT_TCP(e, bob6, 40000, 80, FW_TCP_SYN, SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 80, FW_TCP_SYN | FW_TCP_ACK, 2 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 80, FW_TCP_ACK, 250 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 80, FW_TCP_ACK, 549 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40000, 80, FW_TCP_ACK, 850 * SEC), FW_DROP);

	/* opening only: 30 s */
	assert_int_equal(OUT_TCP(e, bob6, 40001, 80, FW_TCP_SYN, 900 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40001, 80, FW_TCP_SYN | FW_TCP_ACK, 931 * SEC), FW_DROP);
	/* closing: back to 30 s after a FIN */
	assert_int_equal(OUT_TCP(e, bob6, 40002, 80, FW_TCP_SYN, 1000 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40002, 80, FW_TCP_SYN | FW_TCP_ACK, 1000 * SEC), FW_PASS);
	assert_int_equal(OUT_TCP(e, bob6, 40002, 80, FW_TCP_FIN | FW_TCP_ACK, 1001 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40002, 80, FW_TCP_ACK, 1040 * SEC), FW_DROP);
	/* after a RST the flow is no longer return traffic */
	assert_int_equal(OUT_TCP(e, bob6, 40003, 80, FW_TCP_SYN, 1100 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40003, 80, FW_TCP_RST | FW_TCP_ACK, 1100 * SEC), FW_PASS);
	assert_int_equal(IN_TCP(e, bob6, 40003, 80, FW_TCP_ACK, 1100 * SEC), FW_DROP);
	/* the sweep forgets idle flows */
	fw_tick(&e->fw, 5000 * SEC);
	assert_int_equal(e->fw.ct.count, 0);
}

/* 6. mantad's gossip passes a default deny; nothing else on that port
 * does. */
static void test_control_traffic(void **state)
{
	struct env *e = *state;

	e->pol.defaults[FW_DEFAULT_OUT] = FW_DENY;
	install(e);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_UDP, 51821, 51821, 0, SEC), FW_PASS);
	assert_int_equal(send_pkt(e, FW_OUT, bob6, 6, TP_UDP, 51821, 51821, 0, SEC), FW_PASS);
	assert_int_equal(e->fw.counters.passed_control, 2);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_UDP, 51821, 40000, 0, SEC), FW_DROP);
	assert_int_equal(send_pkt(e, FW_IN, bob4, 4, TP_UDP, 51821, 51821, 0, SEC), FW_DROP);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_TCP, 51821, 51821, FW_TCP_SYN, SEC),
			 FW_DROP);
	/* an explicit deny cannot cut mantad off from its peers either */
	add_rule(e, 0, "in deny --peer bob");
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_UDP, 51821, 51821, 0, SEC), FW_PASS);
}

/* 7. Inbound packets must be for this node; malformed ones are dropped. */
static void test_not_local_and_invalid(void **state)
{
	struct env *e = *state;
	struct tp t = { .family = 6, .proto = TP_ICMP6, .icmp_type = 128 };
	uint8_t buf[256];
	size_t len;

	memcpy(t.src, bob6, 16);
	memcpy(t.dst, carol6, 16);
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), SEC), FW_DROP);
	assert_int_equal(e->fw.counters.not_local, 1);
	t.proto = TP_TCP;
	memcpy(t.dst, me6, 16);
	len = tp_build(&t, buf);
	/* the TCP header cut short */
	buf[5] = (uint8_t)(len - 40 - 4);
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, len - 4, SEC), FW_DROP);
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, 10, SEC), FW_DROP);
	assert_int_equal(e->fw.counters.invalid, 2);
}

/* 8. Fragments follow their first fragment. */
static void test_fragments(void **state)
{
	struct env *e = *state;
	struct tp t = { .family = 4, .proto = TP_UDP, .sport = 40000, .dport = 53 };
	uint8_t buf[256];
	size_t len;

	add_rule(e, 1, "in allow -p udp -P 53");
	memcpy(t.src, bob4, 4);
	memcpy(t.dst, me4, 4);
	for (int fam = 4; fam <= 6; fam += 2) {
		t.family = fam;
		memcpy(t.src, fam == 4 ? bob4 : bob6, fam == 4 ? 4 : 16);
		memcpy(t.dst, fam == 4 ? me4 : me6, fam == 4 ? 4 : 16);
		/* a later fragment of an unknown datagram: no ports, default deny */
		t.frag_id = 7;
		t.frag_off = 100;
		t.payload = 64;
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), SEC), FW_DROP);
		/* the first fragment passes on its port; the rest follow */
		t.frag_off = 0;
		t.more_frags = 1;
		t.payload = 32;
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), SEC), FW_PASS);
		t.frag_off = 5;
		len = tp_build(&t, buf);
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, len, SEC), FW_PASS);
		t.more_frags = 0;
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), SEC), FW_PASS);
		/* not from another peer, not after 10 s */
		memcpy(t.src, fam == 4 ? carol4 : carol6, fam == 4 ? 4 : 16);
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), SEC), FW_DROP);
		memcpy(t.src, fam == 4 ? bob4 : bob6, fam == 4 ? 4 : 16);
		assert_int_equal(fw_filter(&e->fw, FW_IN, buf, tp_build(&t, buf), 12 * SEC),
				 FW_DROP);
		t.more_frags = 0;
		t.frag_off = 0;
	}
	assert_int_equal(e->fw.counters.passed_fragment, 4);
}

/* An ICMP error from `from' quoting a UDP packet this node sent to
 * `quoted_to' (5000 -> 53). */
static size_t icmp_error(uint8_t *buf, const uint8_t *from, const uint8_t *quoted_to)
{
	struct tp inner = { .family = 6, .proto = TP_UDP, .sport = 5000, .dport = 53 };
	struct tp outer = { .family = 6, .proto = TP_ICMP6, .icmp_type = 1, .icmp_code = 4 };
	uint8_t q[128];
	size_t qlen, len;

	memcpy(inner.src, me6, 16);
	memcpy(inner.dst, quoted_to, 16);
	qlen = tp_build(&inner, q);
	memcpy(outer.src, from, 16);
	memcpy(outer.dst, me6, 16);
	outer.payload = qlen;
	len = tp_build(&outer, buf);
	memcpy(buf + 48, q, qlen);
	return len;
}

/* 9. ICMP errors about a tracked flow pass as related traffic, only from
 * the peer of that flow. */
static void test_related_icmp(void **state)
{
	struct env *e = *state;
	uint8_t buf[256];

	fw_policy_delete(&e->pol, 0);
	install(e);
	assert_int_equal(send_pkt(e, FW_OUT, bob6, 6, TP_UDP, 5000, 53, 0, SEC), FW_PASS);
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, icmp_error(buf, bob6, bob6), SEC), FW_PASS);
	assert_int_equal(e->fw.counters.passed_related, 1);
	/* carol cannot send errors about our flow to bob */
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, icmp_error(buf, carol6, bob6), SEC),
			 FW_DROP);
	/* nor about a flow that does not exist */
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, icmp_error(buf, carol6, carol6), SEC),
			 FW_DROP);
}

/* 10. Reject mode: denied packets get FW_REJECT and a reply; allowed
 * ones are untouched. */
static void test_reject(void **state)
{
	struct env *e = *state;
	uint8_t out[FW_REJECT_MAX], buf[256];
	struct tp t = {
		.family = 6, .proto = TP_TCP, .sport = 40000, .dport = 22, .tcp_flags = FW_TCP_SYN
	};
	size_t len, n;

	e->pol.reject = true;
	install(e);
	memcpy(t.src, bob6, 16);
	memcpy(t.dst, me6, 16);
	len = tp_build(&t, buf);
	assert_int_equal(fw_filter(&e->fw, FW_IN, buf, len, SEC), FW_REJECT);
	n = fw_reject(&e->fw, buf, len, out, sizeof(out));
	assert_int_equal(n, 60);
	assert_memory_equal(out + 8, me6, 16); /* from this node */
	assert_memory_equal(out + 24, bob6, 16); /* to bob */
	assert_int_equal(out[40 + 13], FW_TCP_RST | FW_TCP_ACK);
	assert_int_equal(e->fw.counters.rejected, 1);
	assert_int_equal(send_pkt(e, FW_IN, bob6, 6, TP_ICMP6, 7, 0, 128, SEC), FW_PASS);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_allow_rule),
		T(test_return_traffic),
		T(test_rule_change_on_live_flow),
		T(test_timeouts),
		T(test_control_traffic),
		T(test_not_local_and_invalid),
		T(test_fragments),
		T(test_related_icmp),
		T(test_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
