/* Reachability probes (mesh/probe.c): the PROBE and PROBE_ACK bodies and
 * their gossip frames, the datagram, the rule that a helper sends only to
 * the requester's own addresses, and the per-requester rate limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/gossip.h"
#include "mesh/probe.h"

static void v6(const char *text, uint8_t out[16])
{
	assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static struct sockaddr_in6 ep(const char *text, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	v6(text, s.sin6_addr.s6_addr);
	return s;
}

static struct probe_request request(void)
{
	struct probe_request r = { .port = 4000 };

	for (int i = 0; i < PROBE_NONCE_LEN; i++)
		r.nonce[i] = (uint8_t)(0xa0 + i);
	v6("2001:db8:1::2", r.address);
	return r;
}

/* 1: the request's layout, byte by byte, and back. */
static void test_request_round_trip(void **state)
{
	struct probe_request r = request(), back;
	uint8_t buf[64];
	char err[128];

	assert_int_equal(probe_request_encode(&r, buf, sizeof(buf)), PROBE_REQUEST_LEN);
	assert_memory_equal(buf, r.nonce, 16);
	assert_int_equal(buf[16], 4000 & 0xff); /* little-endian port */
	assert_int_equal(buf[17], 4000 >> 8);
	assert_memory_equal(buf + 18, r.address, 16);
	assert_int_equal(probe_request_decode(buf, PROBE_REQUEST_LEN, &back, err, sizeof(err)), 0);
	assert_memory_equal(&back.nonce, r.nonce, 16);
	assert_int_equal(back.port, 4000);
	assert_memory_equal(back.address, r.address, 16);
	/* too small a buffer, port 0: nothing written */
	assert_int_equal(probe_request_encode(&r, buf, PROBE_REQUEST_LEN - 1), 0);
	r.port = 0;
	assert_int_equal(probe_request_encode(&r, buf, sizeof(buf)), 0);
}

/* 2: damaged requests say what is wrong. */
static void test_request_bad(void **state)
{
	struct probe_request r = request(), back;
	uint8_t buf[64];
	char err[128];

	assert_int_equal(probe_request_encode(&r, buf, sizeof(buf)), PROBE_REQUEST_LEN);
	for (size_t n = 0; n < PROBE_REQUEST_LEN; n++)
		assert_int_equal(probe_request_decode(buf, n, &back, NULL, 0), -EBADMSG);
	assert_int_equal(probe_request_decode(buf, PROBE_REQUEST_LEN + 1, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "probe request is 35 bytes, not 34");
	buf[16] = buf[17] = 0;
	assert_int_equal(probe_request_decode(buf, PROBE_REQUEST_LEN, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "probe request names port 0");
}

/* 3: the answer, every status, and unknown ones. */
static void test_ack(void **state)
{
	struct probe_ack a = { .status = PROBE_REFUSED_TARGET }, back;
	uint8_t buf[32];
	char err[128];

	memset(a.nonce, 0x5a, sizeof(a.nonce));
	for (int s = PROBE_SENT; s <= PROBE_STATUS_MAX; s++) {
		a.status = (enum probe_status)s;
		assert_int_equal(probe_ack_encode(&a, buf, sizeof(buf)), PROBE_ACK_LEN);
		assert_int_equal(buf[16], s);
		assert_int_equal(probe_ack_decode(buf, PROBE_ACK_LEN, &back, err, sizeof(err)), 0);
		assert_int_equal(back.status, s);
		assert_memory_equal(back.nonce, a.nonce, 16);
		assert_string_not_equal(probe_status_str(back.status), "unknown status");
	}
	buf[16] = PROBE_STATUS_MAX + 1;
	assert_int_equal(probe_ack_decode(buf, PROBE_ACK_LEN, &back, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "probe answer status 4 is unknown");
	assert_int_equal(probe_ack_decode(buf, PROBE_ACK_LEN - 1, &back, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "probe answer is 16 bytes, not 17");
	a.status = (enum probe_status)7;
	assert_int_equal(probe_ack_encode(&a, buf, sizeof(buf)), 0);
}

/* 4: both travel as gossip frames: header "MG" 1 type, then the body. */
static void test_gossip_frames(void **state)
{
	struct gossip_msg *m = malloc(sizeof(*m));
	struct probe_request r = request();
	struct probe_ack a = { .status = PROBE_SENT };
	uint8_t buf[GOSSIP_MAX];
	char err[128];
	size_t len;

	assert_non_null(m);
	len = gossip_build_probe(&r, buf, sizeof(buf));
	assert_int_equal(len, 4 + PROBE_REQUEST_LEN);
	assert_memory_equal(buf, "MG\x01\x0a", 4);
	assert_int_equal(gossip_parse(buf, len, m, err, sizeof(err)), 0);
	assert_int_equal(m->type, GOSSIP_PROBE);
	assert_int_equal(m->probe.port, 4000);
	assert_memory_equal(m->probe.nonce, r.nonce, 16);
	assert_memory_equal(m->probe.address, r.address, 16);
	assert_int_equal(gossip_parse(buf, len - 1, m, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "probe request is 33 bytes, not 34");

	memcpy(a.nonce, r.nonce, 16);
	len = gossip_build_probe_ack(&a, buf, sizeof(buf));
	assert_int_equal(len, 4 + PROBE_ACK_LEN);
	assert_int_equal(buf[3], GOSSIP_PROBE_ACK);
	assert_int_equal(gossip_parse(buf, len, m, err, sizeof(err)), 0);
	assert_int_equal(m->type, GOSSIP_PROBE_ACK);
	assert_int_equal(m->probe_ack.status, PROBE_SENT);
	assert_memory_equal(m->probe_ack.nonce, r.nonce, 16);
	assert_int_equal(gossip_build_probe_ack(&a, buf, 4 + PROBE_ACK_LEN - 1), 0);
	free(m);
}

/* 5: the datagram: magic and nonce, nothing else matches. */
static void test_datagram(void **state)
{
	uint8_t nonce[16], got[16], buf[32];

	memset(nonce, 0x11, sizeof(nonce));
	assert_int_equal(probe_datagram_build(nonce, buf, sizeof(buf)), 20);
	assert_memory_equal(buf, "MPRB", 4);
	assert_true(probe_datagram_match(buf, 20, got));
	assert_memory_equal(got, nonce, 16);
	assert_false(probe_datagram_match(buf, 19, got));
	assert_false(probe_datagram_match(buf, 21, got));
	buf[0] = 'X';
	assert_false(probe_datagram_match(buf, 20, got));
	assert_int_equal(probe_datagram_build(nonce, buf, 19), 0);
}

/* 6: a helper sends only to the requester's own addresses. */
static void test_target_restriction(void **state)
{
	const struct sockaddr_in6 known[] = {
		ep("2001:db8:1::2", 51820), /* announced */
		ep("::ffff:10.0.1.2", 51820), /* announced, IPv4 */
		ep("fd6d:616e:7461:1::2", 40000), /* its session's endpoint */
	};
	static const struct {
		const char *target;
		bool ok;
		const char *why;
	} cases[] = {
		/* 1 */ { "2001:db8:1::2", true, NULL },
		/* 2 */ { "fd6d:616e:7461:1::2", true, NULL }, /* a ULA counts */
		/* 3: a third party's address: refused */
		{ "2001:db8:99::1", false, "not an address the requester announced" },
		/* 4: the requester's /64, another host */
		{ "2001:db8:1::3", false, "not an address the requester announced" },
		/* 5-10: never, even if known */
		{ "::ffff:10.0.1.2", false, "not a unicast IPv6 address" },
		{ "::1", false, "not a unicast IPv6 address" },
		{ "::", false, "not a unicast IPv6 address" },
		{ "ff02::1", false, "not a unicast IPv6 address" },
		{ "fe80::1", false, "not a unicast IPv6 address" },
		{ "200:1234::1", false, "not a unicast IPv6 address" }, /* the overlay */
	};
	uint8_t a[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		v6(cases[i].target, a);
		assert_int_equal(probe_target_ok(a, known, 3, &why), cases[i].ok);
		if (!cases[i].ok)
			assert_non_null(strstr(why, cases[i].why));
	}
	/* Nothing known (a requester that announced nothing and has no
	 * session endpoint): nothing allowed. */
	v6("2001:db8:1::2", a);
	assert_false(probe_target_ok(a, known, 0, NULL));
}

/* 7: PROBE_BURST at once, then one per PROBE_REFILL_NS, per requester. */
static void test_limiter(void **state)
{
	struct probe_limiter *l = calloc(1, sizeof(*l));
	uint8_t alice[32], bob[32];
	uint64_t t = 1000;

	assert_non_null(l);
	memset(alice, 'a', sizeof(alice));
	memset(bob, 'b', sizeof(bob));
	for (int i = 0; i < PROBE_BURST; i++)
		assert_true(probe_limiter_take(l, alice, t));
	assert_false(probe_limiter_take(l, alice, t));
	assert_false(probe_limiter_take(l, alice, t + PROBE_REFILL_NS - 1));
	assert_true(probe_limiter_take(l, bob, t)); /* bob has his own bucket */
	assert_true(probe_limiter_take(l, alice, t + PROBE_REFILL_NS));
	assert_false(probe_limiter_take(l, alice, t + PROBE_REFILL_NS));
	/* a long pause refills to the burst, not beyond */
	t += 100 * PROBE_REFILL_NS;
	for (int i = 0; i < PROBE_BURST; i++)
		assert_true(probe_limiter_take(l, alice, t));
	assert_false(probe_limiter_take(l, alice, t));
	/* more requesters than slots: each still gets its burst */
	for (int k = 0; k < 2 * PROBE_LIMIT_SLOTS; k++) {
		uint8_t key[32];

		memset(key, k, sizeof(key));
		key[31] = 0xee;
		assert_true(probe_limiter_take(l, key, t + (uint64_t)k + 1));
	}
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_gossip_frames),
		cmocka_unit_test(test_datagram),
		cmocka_unit_test(test_target_restriction),
		cmocka_unit_test(test_limiter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
