/* Endpoint announcements and the endpoint list codec: layout, signature,
 * the derived X25519 key, and damaged input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/announce.h"

struct keys {
	uint8_t ed_pk[32], ed_sk[64];
};

static int group_setup(void **state)
{
	static struct keys k;

	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(k.ed_pk, k.ed_sk);
	*state = &k;
	return 0;
}

static void endpoint(struct sockaddr_in6 *ep, const char *addr, uint16_t port)
{
	char mapped[64];

	memset(ep, 0, sizeof(*ep));
	ep->sin6_family = AF_INET6;
	ep->sin6_port = htons(port);
	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, &ep->sin6_addr), 1);
		return;
	}
	snprintf(mapped, sizeof(mapped), "::ffff:%s", addr);
	assert_int_equal(inet_pton(AF_INET6, mapped, &ep->sin6_addr), 1);
}

static void make_announce(const struct keys *k, size_t n, struct announce *a)
{
	char addr[64];

	memset(a, 0, sizeof(*a));
	a->seq = 0x1122334455667788ull;
	for (size_t i = 0; i < n; i++) {
		if (i % 2)
			snprintf(addr, sizeof(addr), "2001:db8::%zx", i + 1);
		else
			snprintf(addr, sizeof(addr), "192.0.2.%zu", i + 1);
		endpoint(&a->endpoints[i], addr, (uint16_t)(51820 + i));
	}
	a->nendpoints = n;
	announce_sign(a, k->ed_sk);
}

static void expect_reject(const uint8_t *buf, size_t len, int rc, const char *what)
{
	struct announce a;
	char err[256] = "";

	assert_int_equal(announce_decode(buf, len, &a, err, sizeof(err)), rc);
	if (!strstr(err, what))
		fail_msg("message `%s' does not say `%s'", err, what);
}

/* Signs "manta endpoints" || body with sk and appends the signature. */
static size_t sign_raw(uint8_t *buf, size_t body, const uint8_t sk[64])
{
	uint8_t msg[512];

	memcpy(msg, "manta endpoints", 15);
	memcpy(msg + 15, buf, body);
	crypto_sign_detached(buf + body, NULL, msg, 15 + body, sk);
	return body + 64;
}

static void test_round_trip(void **state)
{
	const struct keys *k = *state;
	uint8_t buf[ANNOUNCE_MAX], again[ANNOUNCE_MAX], x_sk[32], x_pk[32];
	struct announce *a = &(struct announce){ 0 }, *back = &(struct announce){ 0 };
	char err[256];
	size_t len;

	/* x25519 = X25519(sk_to_curve25519(ed_sk), 9), derived independently */
	assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(x_sk, k->ed_sk), 0);
	assert_int_equal(crypto_scalarmult_base(x_pk, x_sk), 0);
	for (size_t n = 0; n <= ANNOUNCE_MAX_ENDPOINTS; n++) {
		make_announce(k, n, a);
		assert_memory_equal(a->ed25519_pk, k->ed_pk, 32);
		assert_memory_equal(a->x25519_pk, x_pk, 32);
		len = announce_encode(a, buf, sizeof(buf));
		assert_int_equal(len, 4 + 32 + 8 + 1 + (n / 2) * 19 + (n - n / 2) * 7 + 64);
		assert_memory_equal(buf, "MEA1", 4);
		assert_memory_equal(buf + 4, k->ed_pk, 32);
		assert_true(get_le64(buf + 36) == a->seq);
		assert_int_equal(buf[44], n);
		assert_int_equal(announce_decode(buf, len, back, err, sizeof(err)), 0);
		assert_memory_equal(back->ed25519_pk, k->ed_pk, 32);
		assert_memory_equal(back->x25519_pk, x_pk, 32);
		assert_true(back->seq == a->seq);
		assert_int_equal(back->nendpoints, n);
		assert_memory_equal(back->endpoints, a->endpoints, n * sizeof(a->endpoints[0]));
		assert_memory_equal(back->sig, a->sig, 64);
		assert_int_equal(announce_encode(back, again, sizeof(again)), len);
		assert_memory_equal(buf, again, len);
		assert_int_equal(announce_encode(a, buf, len - 1), 0);
	}
	/* the longest announcement is ANNOUNCE_MAX */
	for (size_t i = 0; i < ANNOUNCE_MAX_ENDPOINTS; i++)
		endpoint(&a->endpoints[i], "2001:db8::1", 1);
	announce_sign(a, k->ed_sk);
	assert_int_equal(announce_encode(a, buf, sizeof(buf)), ANNOUNCE_MAX);
	assert_int_equal(announce_decode(buf, ANNOUNCE_MAX, back, err, sizeof(err)), 0);
}

static void test_tamper(void **state)
{
	const struct keys *k = *state;
	struct announce a, back;
	uint8_t buf[ANNOUNCE_MAX];
	size_t len;

	make_announce(k, 3, &a);
	len = announce_encode(&a, buf, sizeof(buf));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			buf[i] ^= (uint8_t)(1u << bit);
			rc = announce_decode(buf, len, &back, NULL, 0);
			if (rc != -EBADMSG && rc != -EPERM)
				fail_msg("bit %d of byte %zu: decode returned %d", bit, i, rc);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* a higher seq needs a new signature */
	put_le64(buf + 36, a.seq + 1);
	expect_reject(buf, len, -EPERM, "signature does not verify");
}

static void test_truncated_and_trailing(void **state)
{
	const struct keys *k = *state;
	uint8_t buf[ANNOUNCE_MAX + 1];
	struct announce a;
	size_t len;

	make_announce(k, 2, &a);
	len = announce_encode(&a, buf, sizeof(buf));
	for (size_t n = 0; n < len; n++) {
		struct announce back;

		assert_int_equal(announce_decode(buf, n, &back, NULL, 0), -EBADMSG);
	}
	buf[len] = 0;
	expect_reject(buf, len + 1, -EBADMSG, "1 trailing byte");
	expect_reject(buf, 20, -EBADMSG, "truncated");
	buf[0] = 'X';
	expect_reject(buf, len, -EBADMSG, "magic");
}

/* A validly signed announcement whose endpoint list is wrong. */
static void test_bad_endpoints_signed(void **state)
{
	const struct keys *k = *state;
	uint8_t buf[ANNOUNCE_MAX + 64];
	struct announce a;
	size_t len, body;

	make_announce(k, 1, &a);
	body = announce_encode(&a, buf, sizeof(buf)) - 64;
	buf[45] = 5; /* family */
	len = sign_raw(buf, body, k->ed_sk);
	expect_reject(buf, len, -EBADMSG, "endpoint 0: address family");
	buf[45] = 4;
	buf[50] = buf[51] = 0; /* port */
	len = sign_raw(buf, body, k->ed_sk);
	expect_reject(buf, len, -EBADMSG, "endpoint 0: port 0");
	/* nine endpoints */
	buf[44] = 9;
	for (size_t i = 0; i < 9; i++) {
		uint8_t *e = buf + 45 + i * 7;

		e[0] = 4;
		memcpy(e + 1, "\xc0\x00\x02\x01\x00\x35", 6);
	}
	len = sign_raw(buf, 45 + 9 * 7, k->ed_sk);
	expect_reject(buf, len, -EBADMSG, "endpoint count 9 exceeds 8");
	a.nendpoints = 9;
	assert_int_equal(announce_encode(&a, buf, sizeof(buf)), 0);
}

static void test_endpoints_codec(void **state)
{
	struct sockaddr_in6 eps[ANNOUNCE_MAX_ENDPOINTS + 1] = { 0 }, back[ANNOUNCE_MAX_ENDPOINTS];
	uint8_t buf[256];
	size_t n;

	/* 0 endpoints: one byte */
	assert_int_equal(endpoints_encode(eps, 0, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0);
	assert_int_equal(endpoints_decode(buf, 1, back, ANNOUNCE_MAX_ENDPOINTS, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(endpoints_encode(eps, 0, buf, 0), -ENOSPC);
	assert_int_equal(endpoints_decode(buf, 0, back, ANNOUNCE_MAX_ENDPOINTS, &n), -EBADMSG);

	/* exact bytes of a v4 and a v6 entry */
	endpoint(&eps[0], "192.0.2.1", 51820);
	endpoint(&eps[1], "2001:db8::1", 443);
	assert_int_equal(endpoints_encode(eps, 2, buf, sizeof(buf)), 1 + 7 + 19);
	assert_memory_equal(buf, "\x02\x04\xc0\x00\x02\x01\xca\x6c\x06", 9);
	assert_memory_equal(buf + 9, "\x20\x01\x0d\xb8", 4);
	assert_memory_equal(buf + 25, "\x01\xbb", 2);
	assert_int_equal(endpoints_decode(buf, 27, back, 2, &n), 27);
	assert_int_equal(n, 2);
	assert_memory_equal(back, eps, 2 * sizeof(eps[0]));
	/* the list may be followed by other fields: only its bytes are used */
	assert_int_equal(endpoints_decode(buf, sizeof(buf), back, 2, &n), 27);
	/* every shorter buffer is truncated, at the entry it cuts */
	for (size_t len = 1; len < 27; len++) {
		assert_int_equal(endpoints_decode(buf, len, back, 2, &n), -EBADMSG);
		assert_int_equal(n, len < 8 ? 0 : 1);
	}
	assert_int_equal(endpoints_encode(eps, 2, buf, 26), -ENOSPC);

	/* the maximum, and one more */
	for (size_t i = 0; i <= ANNOUNCE_MAX_ENDPOINTS; i++)
		endpoint(&eps[i], "2001:db8::2", (uint16_t)(1000 + i));
	assert_int_equal(endpoints_encode(eps, ANNOUNCE_MAX_ENDPOINTS, buf, sizeof(buf)),
			 1 + 8 * 19);
	assert_int_equal(endpoints_decode(buf, sizeof(buf), back, ANNOUNCE_MAX_ENDPOINTS, &n),
			 1 + 8 * 19);
	assert_int_equal(n, ANNOUNCE_MAX_ENDPOINTS);
	assert_int_equal(endpoints_encode(eps, ANNOUNCE_MAX_ENDPOINTS + 1, buf, sizeof(buf)),
			 1 + 9 * 19);
	assert_int_equal(endpoints_decode(buf, sizeof(buf), back, ANNOUNCE_MAX_ENDPOINTS, &n),
			 -E2BIG);
	assert_int_equal(n, 9);
	assert_int_equal(endpoints_encode(eps, 256, buf, sizeof(buf)), -EINVAL);
}

static void test_endpoints_bad(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int rc;
		size_t index;
	} vectors[] = {
		/* 1 */ { "\x01\x05\x01\x02\x03\x04\x00\x35", 8, -EAFNOSUPPORT, 0 },
		/* 2 */ { "\x01\x00", 2, -EAFNOSUPPORT, 0 },
		/* 3 */ { "\x01\x04\x01\x02\x03\x04\x00\x00", 8, -EINVAL, 0 },
		/* 4 */
		{ "\x02\x04\x01\x02\x03\x04\x00\x35\x04\x01\x02\x03\x04\x00\x00", 15, -EINVAL, 1 },
		/* 5: family 6 carrying ::ffff:1.2.3.4 */
		{ "\x01\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x01\x02\x03\x04\x00\x35",
		  20, -EPROTO, 0 },
		/* 6 */ { "\x01", 1, -EBADMSG, 0 },
		/* 7 */ { "\x01\x06\x00", 3, -EBADMSG, 0 },
	};
	struct sockaddr_in6 eps[2];
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		int rc = endpoints_decode((const uint8_t *)vectors[i].bytes, vectors[i].len, eps, 2,
					  &n);

		if (rc != vectors[i].rc || n != vectors[i].index)
			fail_msg("vector %zu: %d at %zu, want %d at %zu", i + 1, rc, n,
				 vectors[i].rc, vectors[i].index);
		assert_non_null(endpoints_strerror(rc));
	}
	assert_string_equal(endpoints_strerror(-EINVAL), "port 0");

	/* encode refuses what decode would */
	endpoint(&eps[0], "192.0.2.1", 0);
	assert_int_equal(endpoints_encode(eps, 1, (uint8_t[32]){ 0 }, 32), -EINVAL);
	endpoint(&eps[0], "192.0.2.1", 1);
	eps[0].sin6_family = AF_INET;
	assert_int_equal(endpoints_encode(eps, 1, (uint8_t[32]){ 0 }, 32), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_endpoints_signed),
		cmocka_unit_test(test_endpoints_codec),
		cmocka_unit_test(test_endpoints_bad),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
