/* The Noise_IKpsk2 handshake: a known-answer run against an independent
 * Python implementation of WireGuard's handshake (with libsodium's random
 * source replaced so both sides' ephemerals are fixed), round trips between
 * in-process initiators and responders, and every way a handshake message
 * must be refused: replayed or flooding initiations, tampered ciphertext,
 * responses to the wrong handshake, low-order keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mesh/cookie.h"
#include "mesh/messages.h"
#include "mesh/noise.h"

#define NOW0 (1000 * NSEC_PER_SEC)
#define RT0 (1700000000ULL * NSEC_PER_SEC + 123456789ULL)
#define FLOOD_GAP (NSEC_PER_SEC / INITIATIONS_PER_SECOND)

static void unhex(uint8_t *out, const char *hex)
{
	size_t n = strlen(hex);

	assert_int_equal(n % 2, 0);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[256];

	assert_true(strlen(hex) / 2 <= sizeof(want));
	unhex(want, hex);
	assert_memory_equal(got, want, strlen(hex) / 2);
}

/* --- a deterministic random source for the known-answer test ------------ */

static uint8_t rng_queue[4][32];
static size_t rng_len, rng_pos;

static const char *fixed_name(void)
{
	return "test-fixed";
}

static uint32_t fixed_random(void)
{
	fail_msg("unexpected randombytes_random()");
	return 0;
}

static void fixed_buf(void *buf, size_t size)
{
	if (size != 32 || rng_pos >= rng_len)
		fail_msg("unexpected randombytes_buf(%zu)", size);
	memcpy(buf, rng_queue[rng_pos++], size);
}

static struct randombytes_implementation fixed_rng = {
	.implementation_name = fixed_name,
	.random = fixed_random,
	.buf = fixed_buf,
};

/* --- helpers -------------------------------------------------------------- */

struct side {
	struct noise_local local;
	struct noise_handshake hs;
};

static void side_new(struct side *s)
{
	uint8_t sk[NOISE_PUBLIC_KEY_LEN];

	randombytes_buf(sk, sizeof(sk));
	noise_local_init(&s->local, sk);
	memset(&s->hs, 0, sizeof(s->hs));
}

/* i knows r and r knows i, with the same optional preshared key. */
static void pair(struct side *i, struct side *r, const uint8_t *psk)
{
	side_new(i);
	side_new(r);
	assert_true(noise_handshake_init(&i->hs, &i->local, r->local.public_key, psk));
	assert_true(noise_handshake_init(&r->hs, &r->local, i->local.public_key, psk));
}

static bool consume_initiation(struct side *r, const uint8_t *msg, uint64_t now)
{
	struct noise_initiation st;

	if (!noise_consume_initiation_static(&r->local, msg, &st))
		return false;
	return noise_consume_initiation_finish(&r->hs, &st, msg, now);
}

/* A whole exchange; ki/kr get the initiator's and the responder's keys. */
static void handshake(struct side *i, struct side *r, uint64_t now, uint64_t realtime,
		      struct noise_keypair *ki, struct noise_keypair *kr)
{
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];

	assert_true(noise_create_initiation(&i->hs, &i->local, init, 0x1111, realtime));
	assert_int_equal(i->hs.state, HANDSHAKE_CREATED_INITIATION);
	assert_true(consume_initiation(r, init, now));
	assert_int_equal(r->hs.state, HANDSHAKE_CONSUMED_INITIATION);
	assert_true(noise_create_response(&r->hs, resp, 0x2222));
	assert_int_equal(r->hs.state, HANDSHAKE_CREATED_RESPONSE);
	assert_true(noise_consume_response(&i->hs, &i->local, resp));
	assert_int_equal(i->hs.state, HANDSHAKE_CONSUMED_RESPONSE);
	assert_true(noise_begin_session(&i->hs, ki, now));
	assert_true(noise_begin_session(&r->hs, kr, now));
}

/* --- tests ---------------------------------------------------------------- */

/* RFC 7748 §6.1: public keys and the shared secret (which the handshake
 * precomputes as static-static). */
static void test_local_init(void **state)
{
	struct noise_local alice, bob;
	struct noise_handshake hs;
	uint8_t a[32], b[32];

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	noise_local_init(&alice, a);
	noise_local_init(&bob, b);
	assert_hex(alice.public_key,
		   "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_hex(bob.public_key,
		   "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	/* The stored private key is clamped. */
	assert_int_equal(alice.private_key[0], a[0] & 248);
	assert_int_equal(alice.private_key[31], (a[31] & 127) | 64);

	assert_true(noise_handshake_init(&hs, &alice, bob.public_key, NULL));
	assert_hex(hs.precomputed_static_static,
		   "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_memory_equal(hs.remote_static, bob.public_key, 32);
	assert_true(sodium_is_zero(hs.preshared_key, sizeof(hs.preshared_key)));
	assert_int_equal(hs.state, HANDSHAKE_ZEROED);
}

/* The whole exchange against wireguard-like Python (cryptography + hashlib):
 * fixed statics, ephemerals, psk, indices and wall-clock time. */
static void test_known_answer(void **state)
{
	struct noise_local li, lr;
	struct noise_handshake hi, hr;
	struct noise_initiation st;
	static struct noise_keypair ki, kr;
	struct cookie ci, cr;
	uint8_t si[32], sr[32], psk[32];
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];

	for (int i = 0; i < 32; i++) {
		si[i] = (uint8_t)(1 + i);
		sr[i] = (uint8_t)(101 + i);
		rng_queue[0][i] = (uint8_t)(0xa0 + i % 16); /* initiator's ephemeral */
		rng_queue[1][i] = (uint8_t)(0x50 ^ i); /* responder's ephemeral */
	}
	memset(psk, 0xee, sizeof(psk));
	rng_len = 2;
	rng_pos = 0;

	noise_local_init(&li, si);
	noise_local_init(&lr, sr);
	assert_hex(li.public_key,
		   "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
	assert_hex(lr.public_key,
		   "5714769d116bf76436ae74bc793d2c30ad1903c59ac5273805c7e2698b410c36");
	assert_true(noise_handshake_init(&hi, &li, lr.public_key, psk));
	assert_true(noise_handshake_init(&hr, &lr, li.public_key, psk));
	cookie_init(&ci, lr.public_key);
	cookie_init(&cr, li.public_key);

	randombytes_set_implementation(&fixed_rng);
	bool ok_init = noise_create_initiation(&hi, &li, init, 0x11223344, RT0);
	bool ok_consume = noise_consume_initiation_static(&lr, init, &st) &&
			  noise_consume_initiation_finish(&hr, &st, init, NOW0);
	bool ok_resp = ok_consume && noise_create_response(&hr, resp, 0xa1b2c3d4);
	randombytes_set_implementation(&randombytes_sysrandom_implementation);
	assert_true(ok_init);
	assert_true(ok_consume);
	assert_true(ok_resp);
	assert_int_equal(rng_pos, 2);

	cookie_add_macs(&ci, init, sizeof(init), NOW0);
	assert_hex(init, "010000004433221157b72a816bad53dfdd33cad4d7c50540d43e1c27a2520353"
			 "baa1e5e94b9b4b74ccd8297b00dcf246dd0270c6b94e1c3a4c084e82a61fe22f"
			 "6d6b6298a0fe35edf78052ce2de604e45841d84312ca5c40740fe837fbc71670"
			 "9b5a8d1e52f879324e006d01acddb19066e13ef4"
			 "bdae9afc9444ff2bffdb68e933b82e6d"
			 "00000000000000000000000000000000");

	cookie_add_macs(&cr, resp, sizeof(resp), NOW0);
	assert_hex(resp, "02000000d4c3b2a144332211d7fc73079ab42ce7bdcbe32a38cb0f008c36a04b"
			 "5419a316047e7fa63e41b652d2f2ebac9ba0df4f436c42b2641feb92"
			 "d27aa5bf26f044e8eb8913c156d85b67"
			 "00000000000000000000000000000000");

	assert_true(noise_consume_response(&hi, &li, resp));
	assert_true(noise_begin_session(&hi, &ki, NOW0));
	assert_true(noise_begin_session(&hr, &kr, NOW0));
	assert_hex(ki.send_key, "ca5214774b66a241b31a2ecb47684c7bdf2931bfee17299dc2c401c2a0c76803");
	assert_hex(ki.recv_key, "259b0320035416096f10b73a9d4b453cb9ad7e94b6368da05048fcf7dc54f14d");
	assert_memory_equal(kr.send_key, ki.recv_key, 32);
	assert_memory_equal(kr.recv_key, ki.send_key, 32);
}

static void test_round_trip(void **state)
{
	static struct noise_keypair ki, kr, ki2, kr2;
	struct side i, r;

	pair(&i, &r, NULL);
	handshake(&i, &r, NOW0, RT0, &ki, &kr);

	assert_memory_equal(ki.send_key, kr.recv_key, NOISE_SYMMETRIC_KEY_LEN);
	assert_memory_equal(ki.recv_key, kr.send_key, NOISE_SYMMETRIC_KEY_LEN);
	assert_memory_not_equal(ki.send_key, ki.recv_key, NOISE_SYMMETRIC_KEY_LEN);
	assert_true(ki.i_am_initiator);
	assert_false(kr.i_am_initiator);
	assert_int_equal(ki.local_index, 0x1111);
	assert_int_equal(ki.remote_index, 0x2222);
	assert_int_equal(kr.local_index, 0x2222);
	assert_int_equal(kr.remote_index, 0x1111);
	assert_true(ki.send_valid && ki.recv_valid && kr.send_valid && kr.recv_valid);
	assert_int_equal(ki.send_counter, 0);
	assert_int_equal(ki.birthdate, NOW0);
	assert_int_equal(kr.birthdate, NOW0);

	/* The handshake is wiped but keeps identity and replay state. */
	assert_int_equal(i.hs.state, HANDSHAKE_ZEROED);
	assert_int_equal(r.hs.state, HANDSHAKE_ZEROED);
	assert_true(sodium_is_zero(i.hs.chaining_key, NOISE_HASH_LEN));
	assert_true(sodium_is_zero(i.hs.ephemeral_private, NOISE_PUBLIC_KEY_LEN));
	assert_true(sodium_is_zero(r.hs.hash, NOISE_HASH_LEN));
	assert_false(sodium_is_zero(r.hs.latest_timestamp, NOISE_TIMESTAMP_LEN));
	assert_int_equal(r.hs.last_initiation_consumption, NOW0);
	assert_memory_equal(r.hs.remote_static, i.local.public_key, NOISE_PUBLIC_KEY_LEN);

	/* A second session (rekey) on the same handshakes gets fresh keys. */
	handshake(&i, &r, NOW0 + NSEC_PER_SEC, RT0 + NSEC_PER_SEC, &ki2, &kr2);
	assert_memory_equal(ki2.send_key, kr2.recv_key, NOISE_SYMMETRIC_KEY_LEN);
	assert_memory_not_equal(ki2.send_key, ki.send_key, NOISE_SYMMETRIC_KEY_LEN);

	/* Roles reversed, with a preshared key. */
	uint8_t psk[32];

	memset(psk, 7, sizeof(psk));
	pair(&i, &r, psk);
	handshake(&r, &i, NOW0, RT0, &kr, &ki);
	assert_memory_equal(kr.send_key, ki.recv_key, NOISE_SYMMETRIC_KEY_LEN);
	assert_true(kr.i_am_initiator);
	assert_false(ki.i_am_initiator);
}

static void test_consume_reveals_static(void **state)
{
	struct side i, r, stranger;
	struct noise_initiation st;
	uint8_t init[MESSAGE_INITIATION_LEN];

	pair(&i, &r, NULL);
	side_new(&stranger);
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 0xdeadbeef, RT0));
	assert_int_equal(init[0], MESSAGE_HANDSHAKE_INITIATION);
	assert_true(noise_consume_initiation_static(&r.local, init, &st));
	assert_memory_equal(st.remote_static, i.local.public_key, NOISE_PUBLIC_KEY_LEN);
	assert_int_equal(st.remote_index, 0xdeadbeef);
	assert_true(noise_consume_initiation_finish(&r.hs, &st, init, NOW0));
	/* finish wipes what the first half learned. */
	assert_true(sodium_is_zero((const unsigned char *)&st, sizeof(st)));

	/* Meant for r: nobody else can open it. */
	assert_false(noise_consume_initiation_static(&stranger.local, init, &st));
	assert_true(sodium_is_zero((const unsigned char *)&st, sizeof(st)));
}

static void test_replayed_initiation(void **state)
{
	struct side i, r;
	uint8_t init[MESSAGE_INITIATION_LEN], old[MESSAGE_INITIATION_LEN];
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	pair(&i, &r, NULL);
	assert_true(noise_create_initiation(&i.hs, &i.local, old, 1, RT0 - NSEC_PER_SEC));
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 2, RT0));
	assert_true(consume_initiation(&r, init, NOW0));
	memcpy(ts, r.hs.latest_timestamp, sizeof(ts));

	/* The same bytes again, long after the flood window: refused. */
	assert_false(consume_initiation(&r, init, NOW0 + 10 * NSEC_PER_SEC));
	/* An older one, never seen: refused too. */
	assert_false(consume_initiation(&r, old, NOW0 + 20 * NSEC_PER_SEC));
	/* Within the same 2^24 ns the masked timestamps are equal: refused. */
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 3, RT0 + 1000));
	assert_false(consume_initiation(&r, init, NOW0 + 30 * NSEC_PER_SEC));
	assert_memory_equal(r.hs.latest_timestamp, ts, sizeof(ts));
	assert_int_equal(r.hs.last_initiation_consumption, NOW0);

	/* A newer one is accepted. */
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 4, RT0 + NSEC_PER_SEC));
	assert_true(consume_initiation(&r, init, NOW0 + 40 * NSEC_PER_SEC));
	assert_memory_not_equal(r.hs.latest_timestamp, ts, sizeof(ts));
}

static void test_flood(void **state)
{
	struct side i, r;
	uint8_t a[MESSAGE_INITIATION_LEN], b[MESSAGE_INITIATION_LEN];

	pair(&i, &r, NULL);
	assert_true(noise_create_initiation(&i.hs, &i.local, a, 1, RT0));
	assert_true(noise_create_initiation(&i.hs, &i.local, b, 2, RT0 + NSEC_PER_SEC));
	assert_true(consume_initiation(&r, a, NOW0));

	/* Newer timestamp, but less than 20 ms after the last accepted. */
	assert_false(consume_initiation(&r, b, NOW0 + 1));
	assert_false(consume_initiation(&r, b, NOW0 + FLOOD_GAP - 1));
	assert_int_equal(r.hs.last_initiation_consumption, NOW0);
	/* 20 ms later it is fine. */
	assert_true(consume_initiation(&r, b, NOW0 + FLOOD_GAP));
	assert_int_equal(r.hs.last_initiation_consumption, NOW0 + FLOOD_GAP);
}

/* Every byte from the ephemeral to the end of the encrypted timestamp is
 * authenticated: flipping any one of them is refused, and the refusals
 * leave the responder able to take the genuine message. */
static void test_tampered_initiation(void **state)
{
	struct side i, r;
	uint8_t init[MESSAGE_INITIATION_LEN], bad[MESSAGE_INITIATION_LEN];

	pair(&i, &r, NULL);
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 1, RT0));
	for (size_t off = INIT_OFF_EPHEMERAL; off < INIT_OFF_MAC1; off++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(bad, init, sizeof(bad));
			bad[off] ^= (uint8_t)(1 << bit);
			if (consume_initiation(&r, bad, NOW0))
				fail_msg("initiation with byte %zu bit %d flipped accepted", off,
					 bit);
		}
	}
	assert_int_equal(r.hs.state, HANDSHAKE_ZEROED);
	assert_true(sodium_is_zero(r.hs.latest_timestamp, NOISE_TIMESTAMP_LEN));
	assert_true(consume_initiation(&r, init, NOW0));
}

static void test_tampered_response(void **state)
{
	static struct noise_keypair ki, kr;
	struct side i, r;
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];
	uint8_t bad[MESSAGE_RESPONSE_LEN];
	struct noise_handshake saved;

	pair(&i, &r, NULL);
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 1, RT0));
	assert_true(consume_initiation(&r, init, NOW0));
	assert_true(noise_create_response(&r.hs, resp, 2));
	saved = i.hs;
	for (size_t off = RESP_OFF_EPHEMERAL; off < RESP_OFF_MAC1; off++) {
		memcpy(bad, resp, sizeof(bad));
		bad[off] ^= 0x80;
		if (noise_consume_response(&i.hs, &i.local, bad))
			fail_msg("response with byte %zu flipped accepted", off);
		assert_memory_equal(&i.hs, &saved, sizeof(saved));
	}
	/* A low-order ephemeral (all zeros) fails the DH. */
	memcpy(bad, resp, sizeof(bad));
	memset(bad + RESP_OFF_EPHEMERAL, 0, NOISE_PUBLIC_KEY_LEN);
	assert_false(noise_consume_response(&i.hs, &i.local, bad));

	assert_true(noise_consume_response(&i.hs, &i.local, resp));
	assert_int_equal(i.hs.remote_index, 2);
	assert_true(noise_begin_session(&i.hs, &ki, NOW0));
	assert_true(noise_begin_session(&r.hs, &kr, NOW0));
	assert_memory_equal(ki.send_key, kr.recv_key, 32);
}

static void test_wrong_handshake(void **state)
{
	static struct noise_keypair kp;
	struct side i1, r1, i2, r2;
	uint8_t init1[MESSAGE_INITIATION_LEN], init2[MESSAGE_INITIATION_LEN];
	uint8_t resp1[MESSAGE_RESPONSE_LEN], resp2[MESSAGE_RESPONSE_LEN];

	/* i1 and i2 share one identity, talking to two responders. */
	pair(&i1, &r1, NULL);
	side_new(&r2);
	i2.local = i1.local;
	assert_true(noise_handshake_init(&i2.hs, &i2.local, r2.local.public_key, NULL));
	assert_true(noise_handshake_init(&r2.hs, &r2.local, i2.local.public_key, NULL));

	assert_true(noise_create_initiation(&i1.hs, &i1.local, init1, 1, RT0));
	assert_true(noise_create_initiation(&i2.hs, &i2.local, init2, 2, RT0));
	/* An initiation for r1 means nothing to r2. */
	assert_false(consume_initiation(&r2, init1, NOW0));
	assert_true(consume_initiation(&r1, init1, NOW0));
	assert_true(consume_initiation(&r2, init2, NOW0));
	assert_true(noise_create_response(&r1.hs, resp1, 11));
	assert_true(noise_create_response(&r2.hs, resp2, 12));

	assert_false(noise_consume_response(&i2.hs, &i2.local, resp1));
	assert_false(noise_consume_response(&i1.hs, &i1.local, resp2));
	assert_true(noise_consume_response(&i1.hs, &i1.local, resp1));
	assert_true(noise_consume_response(&i2.hs, &i2.local, resp2));

	/* A response to a handshake that sent no initiation, or twice. */
	assert_false(noise_consume_response(&i1.hs, &i1.local, resp1));
	assert_false(noise_consume_response(&r1.hs, &r1.local, resp1));
	/* A response cannot be created without a consumed initiation. */
	assert_false(noise_create_response(&i1.hs, resp1, 3));

	/* A response to an earlier initiation of the same handshake. */
	assert_true(noise_begin_session(&i1.hs, &kp, NOW0));
	assert_true(noise_create_initiation(&i1.hs, &i1.local, init1, 4, RT0 + NSEC_PER_SEC));
	assert_false(noise_consume_response(&i1.hs, &i1.local, resp1));

	/* No session from a handshake that did not finish. */
	struct noise_handshake idle;

	assert_true(noise_handshake_init(&idle, &i1.local, r1.local.public_key, NULL));
	assert_false(noise_begin_session(&idle, &kp, NOW0));
	assert_false(noise_begin_session(&i1.hs, &kp, NOW0)); /* CREATED_INITIATION */
}

static void test_psk_mismatch(void **state)
{
	struct side i, r;
	uint8_t psk_a[32], psk_b[32];
	uint8_t init[MESSAGE_INITIATION_LEN], resp[MESSAGE_RESPONSE_LEN];

	memset(psk_a, 1, sizeof(psk_a));
	memset(psk_b, 2, sizeof(psk_b));
	side_new(&i);
	side_new(&r);
	assert_true(noise_handshake_init(&i.hs, &i.local, r.local.public_key, psk_a));
	assert_true(noise_handshake_init(&r.hs, &r.local, i.local.public_key, psk_b));
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 1, RT0));
	assert_true(consume_initiation(&r, init, NOW0)); /* the psk enters later */
	assert_true(noise_create_response(&r.hs, resp, 2));
	assert_false(noise_consume_response(&i.hs, &i.local, resp));
}

/* Low-order points (all give an all-zero shared secret): zero, one, and the
 * order-8 points of Curve25519. */
static void test_low_order_keys(void **state)
{
	static const char *low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct side i;
	uint8_t pk[32], init[MESSAGE_INITIATION_LEN];

	side_new(&i);
	for (size_t n = 0; n < sizeof(low_order) / sizeof(low_order[0]); n++) {
		unhex(pk, low_order[n]);
		assert_false(noise_handshake_init(&i.hs, &i.local, pk, NULL));
		assert_true(sodium_is_zero(i.hs.precomputed_static_static, 32));
		/* Such a handshake can never start. */
		assert_false(noise_create_initiation(&i.hs, &i.local, init, 1, RT0));
	}

	/* Nor finish as responder: a peer entry for a low-order key. */
	struct side a, b;
	struct noise_initiation st;

	pair(&a, &b, NULL);
	assert_true(noise_create_initiation(&a.hs, &a.local, init, 1, RT0));
	assert_true(noise_consume_initiation_static(&b.local, init, &st));
	unhex(pk, low_order[0]);
	assert_false(noise_handshake_init(&b.hs, &b.local, pk, NULL));
	assert_false(noise_consume_initiation_finish(&b.hs, &st, init, NOW0));

	/* An initiation whose ephemeral is low-order fails the first DH. */
	memset(init + INIT_OFF_EPHEMERAL, 0, NOISE_PUBLIC_KEY_LEN);
	assert_false(noise_consume_initiation_static(&b.local, init, &st));
}

static void test_tai64n(void **state)
{
	uint8_t a[NOISE_TIMESTAMP_LEN], b[NOISE_TIMESTAMP_LEN];

	noise_tai64n(a, 0);
	assert_hex(a, "400000000000000a00000000");
	noise_tai64n(a, RT0);
	/* 0x400000000000000a + 1700000000 s; 123456789 ns & ~0xffffff. */
	assert_hex(a, "400000006553f10a07000000");
	noise_tai64n(a, 1234 * NSEC_PER_SEC + 999999999);
	assert_hex(a, "40000000000004dc3b000000");

	/* Masking: within 2^24 ns the timestamp does not change ... */
	noise_tai64n(a, 5 * NSEC_PER_SEC + 0x1000000);
	noise_tai64n(b, 5 * NSEC_PER_SEC + 0x1ffffff);
	assert_memory_equal(a, b, sizeof(a));
	/* ... and across it, it grows bytewise (what the replay check compares). */
	noise_tai64n(b, 5 * NSEC_PER_SEC + 0x2000000);
	assert_true(memcmp(b, a, sizeof(a)) > 0);
	noise_tai64n(b, 6 * NSEC_PER_SEC);
	assert_true(memcmp(b, a, sizeof(a)) > 0);
}

static void test_handshake_clear(void **state)
{
	struct side i, r;
	uint8_t init[MESSAGE_INITIATION_LEN];
	uint8_t ts[NOISE_TIMESTAMP_LEN];

	pair(&i, &r, NULL);
	assert_true(noise_create_initiation(&i.hs, &i.local, init, 1, RT0));
	assert_true(consume_initiation(&r, init, NOW0));
	memcpy(ts, r.hs.latest_timestamp, sizeof(ts));
	noise_handshake_clear(&r.hs);
	assert_int_equal(r.hs.state, HANDSHAKE_ZEROED);
	assert_true(sodium_is_zero(r.hs.chaining_key, NOISE_HASH_LEN));
	assert_true(sodium_is_zero(r.hs.remote_ephemeral, NOISE_PUBLIC_KEY_LEN));
	assert_int_equal(r.hs.remote_index, 0);
	assert_memory_equal(r.hs.latest_timestamp, ts, sizeof(ts));
	assert_int_equal(r.hs.last_initiation_consumption, NOW0);
	assert_memory_equal(r.hs.remote_static, i.local.public_key, 32);
	assert_false(sodium_is_zero(r.hs.precomputed_static_static, 32));
	/* And the replay still refuses the old initiation. */
	assert_false(consume_initiation(&r, init, NOW0 + NSEC_PER_SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_init),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_consume_reveals_static),
		cmocka_unit_test(test_replayed_initiation),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_tampered_initiation),
		cmocka_unit_test(test_tampered_response),
		cmocka_unit_test(test_wrong_handshake),
		cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_low_order_keys),
		cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_handshake_clear),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("noise", tests, NULL, NULL);
}
