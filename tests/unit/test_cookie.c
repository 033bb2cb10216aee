/* mac1, mac2 and cookie replies (WireGuard's cookie.c): mac1 over the
 * message, the cookie reply's round trip from the checker to the
 * initiator's struct cookie, mac2 bound to the source address and port, and
 * the two clocks (a cookie is used for 120 s - 5 s, the checker's secret
 * lives 120 s). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sodium.h>

#include "common/bytes.h"
#include "mesh/cookie.h"
#include "mesh/hash.h"
#include "mesh/messages.h"

#define T0 (1000 * NSEC_PER_SEC)

static uint8_t responder_pub[NOISE_PUBLIC_KEY_LEN], other_pub[NOISE_PUBLIC_KEY_LEN];
static struct sockaddr_in6 src, src_port, src_addr, src_v4;

static void make_addr(struct sockaddr_in6 *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

static int setup(void **state)
{
	randombytes_buf(responder_pub, sizeof(responder_pub));
	randombytes_buf(other_pub, sizeof(other_pub));
	make_addr(&src, "2001:db8::1", 51820);
	make_addr(&src_port, "2001:db8::1", 51821);
	make_addr(&src_addr, "2001:db8::2", 51820);
	make_addr(&src_v4, "::ffff:192.0.2.7", 51820);
	return 0;
}

/* A handshake message of len bytes: type, zeros, then random contents. */
static void make_msg(uint8_t *msg, size_t len, uint32_t sender)
{
	randombytes_buf(msg, len);
	put_le32(msg, len == MESSAGE_INITIATION_LEN ? MESSAGE_HANDSHAKE_INITIATION :
						      MESSAGE_HANDSHAKE_RESPONSE);
	put_le32(msg + 4, sender);
}

static const uint8_t *mac2_of(const uint8_t *msg, size_t len)
{
	return msg + len - COOKIE_LEN;
}

static void test_mac1(void **state)
{
	static const size_t lens[] = { MESSAGE_INITIATION_LEN, MESSAGE_RESPONSE_LEN };
	struct cookie_checker checker, other;
	struct cookie c;
	uint8_t msg[MESSAGE_INITIATION_LEN], bad[MESSAGE_INITIATION_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], want[COOKIE_LEN];

	cookie_checker_init(&checker, responder_pub);
	cookie_checker_init(&other, other_pub);
	cookie_init(&c, responder_pub);

	for (size_t n = 0; n < 2; n++) {
		size_t len = lens[n];

		make_msg(msg, len, 42);
		cookie_add_macs(&c, msg, len, T0);

		/* mac1 = MAC(HASH("mac1----" || responder's static), msg up to mac1) */
		hash2(key, LABEL_MAC1, 8, responder_pub, sizeof(responder_pub));
		mac16(want, key, sizeof(key), msg, len - 2 * COOKIE_LEN);
		assert_memory_equal(msg + len - 2 * COOKIE_LEN, want, COOKIE_LEN);
		assert_memory_equal(c.last_mac1_sent, want, COOKIE_LEN);
		assert_true(c.have_sent_mac1);
		/* No cookie yet: mac2 is zero. */
		assert_true(sodium_is_zero(mac2_of(msg, len), COOKIE_LEN));

		assert_int_equal(cookie_validate_packet(&checker, msg, len, &src, false, T0),
				 COOKIE_VALID_MAC_BUT_NO_COOKIE);
		assert_int_equal(cookie_validate_packet(&checker, msg, len, &src, true, T0),
				 COOKIE_VALID_MAC_BUT_NO_COOKIE);
		assert_int_equal(cookie_validate_packet(&other, msg, len, &src, false, T0),
				 COOKIE_INVALID_MAC);

		/* Every byte up to and including mac1 counts; mac2 does not. */
		for (size_t off = 0; off < len; off++) {
			memcpy(bad, msg, len);
			bad[off] ^= 0x01;
			enum cookie_mac_state want_state = off < len - COOKIE_LEN ?
								   COOKIE_INVALID_MAC :
								   COOKIE_VALID_MAC_BUT_NO_COOKIE;
			assert_int_equal(cookie_validate_packet(&checker, bad, len, &src, false,
								T0),
					 want_state);
		}
	}
}

static void test_cookie_reply_round_trip(void **state)
{
	struct cookie_checker checker;
	struct cookie c;
	uint8_t msg[MESSAGE_INITIATION_LEN], reply[MESSAGE_COOKIE_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];

	cookie_checker_init(&checker, responder_pub);
	cookie_init(&c, responder_pub);

	/* Nothing sent yet: a reply cannot be opened. */
	make_msg(msg, sizeof(msg), 0x01020304);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 0x01020304, &src, T0);
	assert_false(cookie_message_consume(&c, reply, T0));

	cookie_add_macs(&c, msg, sizeof(msg), T0);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 0x01020304, &src, T0);
	assert_int_equal(get_le32(reply), MESSAGE_HANDSHAKE_COOKIE);
	assert_int_equal(get_le32(reply + COOKIE_OFF_RECEIVER), 0x01020304);
	assert_int_equal(checker.secret_birthdate, T0);

	/* The cookie key is HASH("cookie--" || responder's static). */
	hash2(key, LABEL_COOKIE, 8, responder_pub, sizeof(responder_pub));
	assert_memory_equal(c.cookie_key, key, sizeof(key));
	assert_memory_equal(checker.cookie_key, key, sizeof(key));

	/* Tampered anywhere in nonce or sealed cookie: refused. */
	for (size_t off = COOKIE_OFF_NONCE; off < MESSAGE_COOKIE_LEN; off++) {
		uint8_t bad[MESSAGE_COOKIE_LEN];

		memcpy(bad, reply, sizeof(bad));
		bad[off] ^= 0x40;
		assert_false(cookie_message_consume(&c, bad, T0));
	}
	assert_false(c.is_valid);

	assert_true(cookie_message_consume(&c, reply, T0));
	assert_true(c.is_valid);
	assert_int_equal(c.birthdate, T0);
	/* One reply per message sent. */
	assert_false(c.have_sent_mac1);
	assert_false(cookie_message_consume(&c, reply, T0));

	/* The next message carries mac2, valid only from the same address and port. */
	make_msg(msg, sizeof(msg), 7);
	cookie_add_macs(&c, msg, sizeof(msg), T0 + NSEC_PER_SEC);
	assert_false(sodium_is_zero(mac2_of(msg, sizeof(msg)), COOKIE_LEN));
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + NSEC_PER_SEC),
			 COOKIE_VALID_MAC_WITH_COOKIE);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src_port, true,
						T0 + NSEC_PER_SEC),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src_addr, true,
						T0 + NSEC_PER_SEC),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* Without check_cookie mac2 is not looked at. */
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src_port, false,
						T0 + NSEC_PER_SEC),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* mac2 covers mac1 too. */
	msg[INIT_OFF_MAC2 - 1] ^= 1;
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + NSEC_PER_SEC),
			 COOKIE_INVALID_MAC);
	msg[INIT_OFF_MAC2 - 1] ^= 1;
	msg[INIT_OFF_MAC2] ^= 1;
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + NSEC_PER_SEC),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	/* The cookie works for responses (92 bytes) as well. */
	uint8_t resp[MESSAGE_RESPONSE_LEN];

	make_msg(resp, sizeof(resp), 8);
	cookie_add_macs(&c, resp, sizeof(resp), T0 + 2 * NSEC_PER_SEC);
	assert_int_equal(cookie_validate_packet(&checker, resp, sizeof(resp), &src, true,
						T0 + 2 * NSEC_PER_SEC),
			 COOKIE_VALID_MAC_WITH_COOKIE);
}

/* A reply answers one mac1: once the initiator has sent another message, an
 * older reply no longer opens; nor does one sealed by another responder. */
static void test_cookie_reply_binding(void **state)
{
	struct cookie_checker checker, other;
	struct cookie c;
	uint8_t m1[MESSAGE_INITIATION_LEN], m2[MESSAGE_INITIATION_LEN];
	uint8_t r1[MESSAGE_COOKIE_LEN], r2[MESSAGE_COOKIE_LEN], r3[MESSAGE_COOKIE_LEN];

	cookie_checker_init(&checker, responder_pub);
	cookie_checker_init(&other, other_pub);
	cookie_init(&c, responder_pub);

	make_msg(m1, sizeof(m1), 1);
	cookie_add_macs(&c, m1, sizeof(m1), T0);
	cookie_message_create(&checker, r1, m1, sizeof(m1), 1, &src, T0);
	make_msg(m2, sizeof(m2), 2);
	cookie_add_macs(&c, m2, sizeof(m2), T0);
	cookie_message_create(&checker, r2, m2, sizeof(m2), 2, &src, T0);
	cookie_message_create(&other, r3, m2, sizeof(m2), 2, &src, T0);

	assert_false(cookie_message_consume(&c, r1, T0));
	assert_false(cookie_message_consume(&c, r3, T0));
	assert_true(cookie_message_consume(&c, r2, T0));
}

/* IPv4 sources (v4-mapped) are bound by their 4-byte address. */
static void test_cookie_v4_source(void **state)
{
	struct cookie_checker checker;
	struct cookie c;
	uint8_t msg[MESSAGE_INITIATION_LEN], reply[MESSAGE_COOKIE_LEN];
	struct sockaddr_in6 v4_other_port = src_v4;

	v4_other_port.sin6_port = htons(1);
	cookie_checker_init(&checker, responder_pub);
	cookie_init(&c, responder_pub);
	make_msg(msg, sizeof(msg), 1);
	cookie_add_macs(&c, msg, sizeof(msg), T0);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 1, &src_v4, T0);
	assert_true(cookie_message_consume(&c, reply, T0));
	make_msg(msg, sizeof(msg), 2);
	cookie_add_macs(&c, msg, sizeof(msg), T0);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src_v4, true, T0),
			 COOKIE_VALID_MAC_WITH_COOKIE);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &v4_other_port, true,
						T0),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true, T0),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
}

/* The initiator stops using a cookie COOKIE_SECRET_MAX_AGE - LATENCY
 * (115 s) after receiving it. */
static void test_cookie_expiry(void **state)
{
	const uint64_t usable = COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS;
	struct cookie_checker checker;
	struct cookie c;
	uint8_t msg[MESSAGE_INITIATION_LEN], reply[MESSAGE_COOKIE_LEN];

	cookie_checker_init(&checker, responder_pub);
	cookie_init(&c, responder_pub);
	make_msg(msg, sizeof(msg), 1);
	cookie_add_macs(&c, msg, sizeof(msg), T0);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 1, &src, T0);
	assert_true(cookie_message_consume(&c, reply, T0));

	cookie_add_macs(&c, msg, sizeof(msg), T0 + usable - 1);
	assert_false(sodium_is_zero(mac2_of(msg, sizeof(msg)), COOKIE_LEN));
	cookie_add_macs(&c, msg, sizeof(msg), T0 + usable);
	assert_true(sodium_is_zero(mac2_of(msg, sizeof(msg)), COOKIE_LEN));
	cookie_add_macs(&c, msg, sizeof(msg), T0 + 10 * usable);
	assert_true(sodium_is_zero(mac2_of(msg, sizeof(msg)), COOKIE_LEN));
}

/* The checker's secret is renewed once older than 120 s: mac2 made with a
 * cookie from the old secret stops validating, and new cookies differ. */
static void test_secret_rotation(void **state)
{
	struct cookie_checker checker;
	struct cookie c;
	uint8_t msg[MESSAGE_INITIATION_LEN], reply[MESSAGE_COOKIE_LEN];
	uint8_t old_secret[COOKIE_SECRET_LEN], old_cookie[COOKIE_LEN];

	cookie_checker_init(&checker, responder_pub);
	cookie_init(&c, responder_pub);
	make_msg(msg, sizeof(msg), 1);
	cookie_add_macs(&c, msg, sizeof(msg), T0);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 1, &src, T0);
	assert_true(cookie_message_consume(&c, reply, T0));
	memcpy(old_secret, checker.secret, sizeof(old_secret));
	memcpy(old_cookie, c.cookie, sizeof(old_cookie));

	cookie_add_macs(&c, msg, sizeof(msg), T0 + 10 * NSEC_PER_SEC);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + COOKIE_SECRET_MAX_AGE_NS),
			 COOKIE_VALID_MAC_WITH_COOKIE);
	assert_memory_equal(checker.secret, old_secret, sizeof(old_secret));

	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + COOKIE_SECRET_MAX_AGE_NS + 1),
			 COOKIE_VALID_MAC_BUT_NO_COOKIE);
	assert_memory_not_equal(checker.secret, old_secret, sizeof(old_secret));
	assert_int_equal(checker.secret_birthdate, T0 + COOKIE_SECRET_MAX_AGE_NS + 1);

	/* A fresh reply brings a fresh cookie that validates again. */
	cookie_add_macs(&c, msg, sizeof(msg), T0 + 121 * NSEC_PER_SEC);
	cookie_message_create(&checker, reply, msg, sizeof(msg), 1, &src, T0 + 121 * NSEC_PER_SEC);
	assert_true(cookie_message_consume(&c, reply, T0 + 121 * NSEC_PER_SEC));
	assert_memory_not_equal(c.cookie, old_cookie, sizeof(old_cookie));
	cookie_add_macs(&c, msg, sizeof(msg), T0 + 122 * NSEC_PER_SEC);
	assert_int_equal(cookie_validate_packet(&checker, msg, sizeof(msg), &src, true,
						T0 + 122 * NSEC_PER_SEC),
			 COOKIE_VALID_MAC_WITH_COOKIE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_cookie_reply_round_trip),
		cmocka_unit_test(test_cookie_reply_binding),
		cmocka_unit_test(test_cookie_v4_source),
		cmocka_unit_test(test_cookie_expiry),
		cmocka_unit_test(test_secret_rotation),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("cookie", tests, setup, NULL);
}
