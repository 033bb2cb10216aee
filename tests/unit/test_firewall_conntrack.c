/* firewall/conntrack.c: the bounded flow table: keys from either side,
 * states and lists, expiry, which flow goes when the table is full, and
 * resizing; checked against the table's own invariants after each step. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "firewall/conntrack.h"
#include "firewall/rule.h"
#include "fw_testpkt.h"

#define SEC 1000000000ull

static const uint8_t me[16] = { 2, 1 }, peer[16] = { 2, 2 };

static struct fw_ct_key key(uint16_t port)
{
	struct fw_tuple t = { .family = 6, .proto = TP_TCP, .sport = port, .dport = 80 };
	struct fw_ct_key k;

	t.src = me;
	t.dst = peer;
	fw_ct_key_from(&k, &t, FW_OUT);
	return k;
}

static struct fw_packet tcp(uint8_t flags)
{
	struct fw_packet p;

	memset(&p, 0, sizeof(p));
	p.kind = FW_KIND_TCP;
	p.t.proto = TP_TCP;
	p.tcp_flags = flags;
	return p;
}

/* Every list is in order of last use, every flow is on one list and in
 * its bucket, and the counts agree. */
static void check_invariants(const struct fw_conntrack *ct)
{
	uint32_t n = 0;

	for (int l = 0; l < FW_CT_LISTS; l++) {
		uint64_t last = 0;
		uint32_t prev = FW_CT_NIL;

		for (uint32_t i = ct->head[l]; i != FW_CT_NIL; i = ct->flows[i].next) {
			const struct fw_flow *f = &ct->flows[i];

			assert_int_equal(f->list, l);
			assert_int_equal(f->prev, prev);
			assert_true(f->last_seen >= last);
			last = f->last_seen;
			prev = i;
			n++;
		}
		assert_int_equal(ct->tail[l], prev);
	}
	assert_int_equal(n, ct->count);
	assert_true(ct->count <= ct->cap);
}

/* Both directions of a flow find it; a packet back makes it established. */
static void test_keys_and_states(void **state)
{
	struct fw_conntrack ct;
	struct fw_tuple back = { .family = 6, .proto = TP_TCP, .sport = 80, .dport = 1000 };
	struct fw_ct_key k = key(1000), k2;
	struct fw_packet syn = tcp(FW_TCP_SYN), ack = tcp(FW_TCP_ACK), fin = tcp(FW_TCP_FIN);
	struct fw_flow *f;

	assert_int_equal(fw_ct_init(&ct, 16), 0);
	back.src = peer;
	back.dst = me;
	fw_ct_key_from(&k2, &back, FW_IN);
	assert_memory_equal(&k, &k2, sizeof(k));
	f = fw_ct_create(&ct, &k, FW_OUT, SEC);
	fw_ct_update(&ct, f, FW_OUT, &syn, SEC);
	assert_int_equal(f->state, FW_CT_OPEN);
	assert_int_equal(f->list, FW_CT_NEW);
	assert_ptr_equal(fw_ct_find(&ct, &k2, 2 * SEC), f);
	fw_ct_update(&ct, f, FW_IN, &ack, 2 * SEC);
	assert_int_equal(f->state, FW_CT_ESTABLISHED);
	assert_int_equal(f->list, FW_CT_TCP);
	assert_true(fw_ct_timeout(f) == 300 * SEC);
	fw_ct_update(&ct, f, FW_OUT, &fin, 3 * SEC);
	assert_int_equal(f->state, FW_CT_CLOSING);
	assert_int_equal(f->list, FW_CT_NEW);
	assert_true(fw_ct_timeout(f) == 30 * SEC);
	check_invariants(&ct);
	fw_ct_deinit(&ct);
}

/* When full, the oldest flow that is not established goes first; only
 * when every flow is established does the oldest of those go. */
static void test_eviction_order(void **state)
{
	struct fw_conntrack ct;
	struct fw_packet ack = tcp(FW_TCP_ACK), syn = tcp(FW_TCP_SYN);
	struct fw_ct_key k;

	assert_int_equal(fw_ct_init(&ct, 16), 0);
	/* 8 established (ports 1..8, oldest first), then 8 opening (9..16) */
	for (uint16_t p = 1; p <= 16; p++) {
		k = key(p);
		struct fw_flow *f = fw_ct_create(&ct, &k, FW_OUT, p * SEC);

		fw_ct_update(&ct, f, FW_OUT, &syn, p * SEC);
		if (p <= 8)
			fw_ct_update(&ct, f, FW_IN, &ack, p * SEC);
	}
	check_invariants(&ct);
	assert_int_equal(ct.count, 16);
	/* a new flow pushes out port 9, the oldest opening one, not port 1 */
	k = key(100);
	fw_ct_create(&ct, &k, FW_OUT, 20 * SEC);
	k = key(9);
	assert_null(fw_ct_find(&ct, &k, 20 * SEC));
	k = key(1);
	assert_non_null(fw_ct_find(&ct, &k, 20 * SEC));
	assert_int_equal(ct.counters.evicted, 1);
	/* 8 more new flows: the rest of the opening ones and the first new one go */
	for (uint16_t p = 101; p <= 108; p++) {
		k = key(p);
		fw_ct_create(&ct, &k, FW_OUT, 21 * SEC);
	}
	for (uint16_t p = 1; p <= 8; p++) {
		k = key(p);
		assert_non_null(fw_ct_find(&ct, &k, 21 * SEC));
	}
	check_invariants(&ct);
	/* make every flow established: now the oldest established goes */
	for (uint32_t i = ct.head[FW_CT_NEW]; i != FW_CT_NIL; i = ct.head[FW_CT_NEW])
		fw_ct_update(&ct, &ct.flows[i], FW_IN, &ack, 22 * SEC);
	k = key(200);
	fw_ct_create(&ct, &k, FW_OUT, 23 * SEC);
	k = key(1);
	assert_null(fw_ct_find(&ct, &k, 23 * SEC));
	k = key(2);
	assert_non_null(fw_ct_find(&ct, &k, 23 * SEC));
	check_invariants(&ct);
	fw_ct_deinit(&ct);
}

/* Expiry looks at list heads; resizing keeps the most recent flows. */
static void test_expire_and_resize(void **state)
{
	struct fw_conntrack ct;
	struct fw_packet ack = tcp(FW_TCP_ACK);
	struct fw_ct_key k;

	assert_int_equal(fw_ct_init(&ct, 64), 0);
	for (uint16_t p = 1; p <= 40; p++) {
		k = key(p);
		struct fw_flow *f = fw_ct_create(&ct, &k, FW_OUT, p * SEC);

		if (p % 2)
			fw_ct_update(&ct, f, FW_IN, &ack, p * SEC); /* established: 300 s */
	}
	check_invariants(&ct);
	/* at 45 s the opening flows seen before 15 s are gone */
	assert_int_equal(fw_ct_expire(&ct, 45 * SEC), 7); /* 2, 4, ..., 14 */
	check_invariants(&ct);
	assert_int_equal(fw_ct_resize(&ct, 16), 0);
	assert_int_equal(ct.count, 16);
	assert_int_equal(ct.cap, 16);
	check_invariants(&ct);
	for (uint16_t p = 25; p <= 40; p++) {
		k = key(p);
		assert_non_null(fw_ct_find(&ct, &k, 46 * SEC));
	}
	k = key(24);
	assert_null(fw_ct_find(&ct, &k, 46 * SEC));
	assert_int_equal(fw_ct_resize(&ct, 1024), 0);
	assert_int_equal(ct.count, 16);
	check_invariants(&ct);
	assert_int_equal(fw_ct_expire(&ct, 1000 * SEC), 16);
	assert_int_equal(ct.count, 0);
	fw_ct_deinit(&ct);
}

/* Many flows through a small table: no flow is lost from its bucket or
 * list, whatever the order of inserts, finds and expiries. */
static void test_churn(void **state)
{
	struct fw_conntrack ct;
	struct fw_packet ack = tcp(FW_TCP_ACK);
	uint64_t x = 88172645463325252ull;

	assert_int_equal(fw_ct_init(&ct, 32), 0);
	for (unsigned i = 0; i < 20000; i++) {
		uint16_t port;
		struct fw_ct_key k;
		struct fw_flow *f;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		port = (uint16_t)(1 + x % 200);
		k = key(port);
		f = fw_ct_find(&ct, &k, i * (SEC / 10));
		if (!f)
			f = fw_ct_create(&ct, &k, FW_OUT, i * (SEC / 10));
		else if (x & 1)
			fw_ct_update(&ct, f, FW_IN, &ack, i * (SEC / 10));
		if (i % 97 == 0)
			fw_ct_expire(&ct, i * (SEC / 10));
	}
	check_invariants(&ct);
	fw_ct_deinit(&ct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_states),
		cmocka_unit_test(test_eviction_order),
		cmocka_unit_test(test_expire_and_resize),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
