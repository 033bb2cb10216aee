/* Member records: the wire layout against a reference encoder written from
 * the header, signatures, and every way a record can be damaged. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/member.h"

struct keys {
	uint8_t net_pk[32], net_sk[64];
	uint8_t node_ed_pk[32], node_ed_sk[64], node_x_pk[32];
};

static int group_setup(void **state)
{
	static struct keys k;

	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(k.net_pk, k.net_sk);
	crypto_sign_keypair(k.node_ed_pk, k.node_ed_sk);
	if (crypto_sign_ed25519_pk_to_curve25519(k.node_x_pk, k.node_ed_pk) != 0)
		return -1;
	*state = &k;
	return 0;
}

static void make_record(const struct keys *k, const char *hostname, struct member_record *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->network_pk, k->net_pk, 32);
	memcpy(r->x25519_pk, k->node_x_pk, 32);
	memcpy(r->ed25519_pk, k->node_ed_pk, 32);
	r->version = 0x0102030405060708ull;
	r->v4_index = 0xa1b2c3d4;
	r->flags = MEMBER_FLAG_OWNER;
	snprintf(r->hostname, sizeof(r->hostname), "%s", hostname);
	member_record_sign(r, k->net_sk);
}

/* The layout in member.h, written out by hand, with any hostname bytes,
 * flags and (for MMR2) tag area, signed with sk over the context string. */
static size_t raw_record_tags(const struct member_record *r, const char *host, size_t hlen,
			      uint8_t flags, const uint8_t *tags, size_t tlen, const uint8_t sk[64],
			      uint8_t *out)
{
	static const char ctx[] = "manta member record";
	uint8_t msg[1024];
	size_t n = 0;

	memcpy(out + n, tags ? "MMR2" : "MMR1", 4), n += 4;
	memcpy(out + n, r->network_pk, 32), n += 32;
	memcpy(out + n, r->x25519_pk, 32), n += 32;
	memcpy(out + n, r->ed25519_pk, 32), n += 32;
	put_le64(out + n, r->version), n += 8;
	put_le32(out + n, r->v4_index), n += 4;
	out[n++] = flags;
	out[n++] = (uint8_t)hlen;
	memcpy(out + n, host, hlen), n += hlen;
	if (tags)
		memcpy(out + n, tags, tlen), n += tlen;
	memcpy(msg, ctx, sizeof(ctx) - 1);
	memcpy(msg + sizeof(ctx) - 1, out, n);
	crypto_sign_detached(out + n, NULL, msg, sizeof(ctx) - 1 + n, sk);
	return n + 64;
}

static size_t raw_record(const struct member_record *r, const char *host, size_t hlen,
			 uint8_t flags, const uint8_t sk[64], uint8_t *out)
{
	return raw_record_tags(r, host, hlen, flags, NULL, 0, sk, out);
}

static void assert_records_equal(const struct member_record *a, const struct member_record *b)
{
	assert_memory_equal(a->network_pk, b->network_pk, 32);
	assert_memory_equal(a->x25519_pk, b->x25519_pk, 32);
	assert_memory_equal(a->ed25519_pk, b->ed25519_pk, 32);
	assert_true(a->version == b->version);
	assert_int_equal(a->v4_index, b->v4_index);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->hostname, b->hostname);
	assert_int_equal(a->ntags, b->ntags);
	for (size_t i = 0; i < a->ntags; i++)
		assert_string_equal(a->tags[i], b->tags[i]);
	assert_memory_equal(a->sig, b->sig, 64);
}

static void expect_reject(const uint8_t *buf, size_t len, int rc, const char *what)
{
	struct member_record r;
	char err[256] = "";

	assert_int_equal(member_record_decode(buf, len, &r, err, sizeof(err)), rc);
	if (!strstr(err, what))
		fail_msg("message `%s' does not say `%s'", err, what);
}

static void test_hostname_valid(void **state)
{
	static const char *const good[] = {
		"a",
		"0",
		"node-1",
		"a-b-c",
		"xn--bcher-kva",
		"abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz"
	};
	static const char *const bad[] = {
		"",
		"-a",
		"a-",
		"-",
		"UPPER",
		"a.b",
		"a_b",
		"a b",
		"caf\xc3\xa9",
		"abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0"
	};

	assert_int_equal(strlen(good[5]), 63);
	assert_int_equal(strlen(bad[9]), 64);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!hostname_valid(good[i]))
			fail_msg("rejected good hostname %zu `%s'", i, good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (hostname_valid(bad[i]))
			fail_msg("accepted bad hostname %zu `%s'", i, bad[i]);
}

static void test_round_trip(void **state)
{
	const struct keys *k = *state;
	struct member_record r, back;
	uint8_t buf[MEMBER_RECORD_MAX], raw[MEMBER_RECORD_MAX], again[MEMBER_RECORD_MAX];
	char err[256];
	size_t len;

	make_record(k, "laptop", &r);
	len = member_record_encode(&r, buf, sizeof(buf));
	assert_int_equal(len, MEMBER_RECORD_FIXED + 6 + MEMBER_SIG_LEN);
	/* the layout is the header's, byte for byte */
	assert_int_equal(raw_record(&r, "laptop", 6, r.flags, k->net_sk, raw), len);
	assert_memory_equal(buf, raw, len);
	assert_int_equal(member_record_decode(buf, len, &back, err, sizeof(err)), 0);
	assert_records_equal(&r, &back);
	assert_memory_equal(back.network_pk, k->net_pk, 32);
	assert_int_equal(member_record_encode(&back, again, sizeof(again)), len);
	assert_memory_equal(buf, again, len);
	/* too small a buffer */
	assert_int_equal(member_record_encode(&r, buf, len - 1), 0);
	/* the longest hostname, both flags */
	make_record(k, "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz", &r);
	r.flags = MEMBER_FLAG_OWNER | MEMBER_FLAG_REVOKED;
	member_record_sign(&r, k->net_sk);
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), MEMBER_RECORD_V1_MAX);
	assert_int_equal(member_record_decode(buf, MEMBER_RECORD_V1_MAX, &back, err, sizeof(err)),
			 0);
	assert_records_equal(&r, &back);
	/* ... and the most tags, each as long as allowed: the largest record */
	r.ntags = MEMBER_TAGS_MAX;
	for (int i = 0; i < MEMBER_TAGS_MAX; i++) {
		memset(r.tags[i], 'a', MEMBER_TAG_MAX);
		r.tags[i][MEMBER_TAG_MAX - 1] = (char)('0' + i);
		r.tags[i][MEMBER_TAG_MAX] = '\0';
	}
	member_record_sign(&r, k->net_sk);
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), MEMBER_RECORD_MAX);
	assert_int_equal(member_record_decode(buf, MEMBER_RECORD_MAX, &back, err, sizeof(err)), 0);
	assert_records_equal(&r, &back);
}

/* 1. Tags: MMR2, the tag area after the hostname, byte for byte as the
 * header says; a record without tags stays MMR1. */
static void test_tags_round_trip(void **state)
{
	static const uint8_t area[] = { 2, 2, 'd', 'b', 7, 's', 'e', 'r', 'v', 'e', 'r', 's' };
	const struct keys *k = *state;
	struct member_record r, back;
	uint8_t buf[MEMBER_RECORD_MAX], raw[MEMBER_RECORD_MAX];
	char err[256];
	size_t len;

	make_record(k, "web", &r);
	r.ntags = 2;
	snprintf(r.tags[0], sizeof(r.tags[0]), "db");
	snprintf(r.tags[1], sizeof(r.tags[1]), "servers");
	member_record_sign(&r, k->net_sk);
	len = member_record_encode(&r, buf, sizeof(buf));
	assert_int_equal(len, MEMBER_RECORD_FIXED + 3 + sizeof(area) + MEMBER_SIG_LEN);
	assert_memory_equal(buf, "MMR2", 4);
	assert_int_equal(raw_record_tags(&r, "web", 3, r.flags, area, sizeof(area), k->net_sk, raw),
			 len);
	assert_memory_equal(buf, raw, len);
	assert_int_equal(member_record_decode(buf, len, &back, err, sizeof(err)), 0);
	assert_records_equal(&r, &back);
	/* every truncation is refused, and so is a trailing byte */
	for (size_t n = 0; n < len; n++)
		expect_reject(buf, n, -EBADMSG, "truncated");
	buf[len] = 0;
	expect_reject(buf, len + 1, -EBADMSG, "1 trailing byte");
	/* every flip is caught */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x04;
		if (member_record_decode(buf, len, &back, NULL, 0) == 0)
			fail_msg("a flip at byte %zu decoded", i);
		buf[i] ^= 0x04;
	}
	/* the same member without tags is an MMR1 record again */
	r.ntags = 0;
	member_record_sign(&r, k->net_sk);
	len = member_record_encode(&r, buf, sizeof(buf));
	assert_memory_equal(buf, "MMR1", 4);
	assert_int_equal(len, MEMBER_RECORD_FIXED + 3 + MEMBER_SIG_LEN);
}

/* 2. Tag areas that are signed but malformed, each refused with a reason;
 * and encode refuses what decode would refuse. */
static void test_tags_bad(void **state)
{
	static const struct {
		uint8_t area[20];
		size_t len;
		const char *why;
	} bad[] = {
		{ { 0 }, 1, "0 tags" },
		{ { 9, 1, 'a', 1, 'b', 1, 'c', 1, 'd', 1, 'e', 1, 'f', 1, 'g', 1, 'h' },
		  17,
		  "9 tags" },
		{ { 1, 0 }, 2, "tag length 0" },
		{ { 1, 25 }, 2, "tag length 25" },
		{ { 2, 1, 'b', 1, 'a' }, 5, "ascending" },
		{ { 2, 1, 'a', 1, 'a' }, 5, "ascending" },
		{ { 1, 2, 'A', 'B' }, 4, "not a label" },
		{ { 1, 2, 'a', '-' }, 4, "not a label" },
		{ { 1, 3, 'a', 0, 'b' }, 5, "not a label" },
	};
	const struct keys *k = *state;
	struct member_record r;
	uint8_t buf[MEMBER_RECORD_MAX + 64];
	size_t len;

	make_record(k, "web", &r);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		len = raw_record_tags(&r, "web", 3, r.flags, bad[i].area, bad[i].len, k->net_sk,
				      buf);
		expect_reject(buf, len, -EBADMSG, bad[i].why);
	}
	r.ntags = 2;
	snprintf(r.tags[0], sizeof(r.tags[0]), "b");
	snprintf(r.tags[1], sizeof(r.tags[1]), "a");
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
	snprintf(r.tags[1], sizeof(r.tags[1]), "Bad");
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
	r.ntags = MEMBER_TAGS_MAX + 1;
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
}

/* Every single-bit flip anywhere, and every byte replaced by its
 * complement, fails: the frame or the signature catches it. */
static void test_flips(void **state)
{
	const struct keys *k = *state;
	struct member_record r, back;
	uint8_t buf[MEMBER_RECORD_MAX];
	size_t len;

	make_record(k, "node-7", &r);
	len = member_record_encode(&r, buf, sizeof(buf));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit <= 8; bit++) {
			uint8_t mask = bit < 8 ? (uint8_t)(1u << bit) : 0xff;
			int rc;

			buf[i] ^= mask;
			rc = member_record_decode(buf, len, &back, NULL, 0);
			if (rc != -EBADMSG && rc != -EPERM)
				fail_msg("flip 0x%02x at byte %zu: decode returned %d", mask, i,
					 rc);
			buf[i] ^= mask;
		}
	}
	assert_int_equal(member_record_decode(buf, len, &back, NULL, 0), 0);
}

static void test_truncated_and_trailing(void **state)
{
	const struct keys *k = *state;
	struct member_record r;
	uint8_t buf[MEMBER_RECORD_MAX + 1];
	size_t len;

	make_record(k, "node-7", &r);
	len = member_record_encode(&r, buf, sizeof(buf));
	for (size_t n = 0; n < len; n++)
		expect_reject(buf, n, -EBADMSG, "truncated");
	buf[len] = 0;
	expect_reject(buf, len + 1, -EBADMSG, "1 trailing byte");
}

/* encode refuses what decode would reject; decode rejects it when a
 * (validly signed) record carries it anyway. */
static void test_bad_hostname(void **state)
{
	/* The last one has a NUL inside: on the wire only, a C string cannot. */
	static const char *const bad[] = { "-a", "a-", "UPPER", "a.b", "a\0b" };
	const struct keys *k = *state;
	struct member_record r;
	uint8_t buf[MEMBER_RECORD_MAX + 16];
	char long_name[70];
	size_t len;

	make_record(k, "ok", &r);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t hlen = i == 4 ? 3 : strlen(bad[i]);

		snprintf(r.hostname, sizeof(r.hostname), "%s", bad[i]);
		if (i != 4)
			assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
		len = raw_record(&r, bad[i], hlen, r.flags, k->net_sk, buf);
		expect_reject(buf, len, -EBADMSG, "hostname is not a DNS label");
	}
	r.hostname[0] = '\0';
	assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
	len = raw_record(&r, "", 0, r.flags, k->net_sk, buf);
	expect_reject(buf, len, -EBADMSG, "hostname is empty");

	memset(long_name, 'a', sizeof(long_name));
	len = raw_record(&r, long_name, 64, r.flags, k->net_sk, buf);
	expect_reject(buf, len, -EBADMSG, "hostname length 64 exceeds 63");
	len = raw_record(&r, long_name, 70, r.flags, k->net_sk, buf);
	expect_reject(buf, len, -EBADMSG, "hostname length 70 exceeds 63");
}

static void test_unknown_flags(void **state)
{
	const struct keys *k = *state;
	struct member_record r;
	uint8_t buf[MEMBER_RECORD_MAX];
	size_t len;

	make_record(k, "node", &r);
	for (int bit = 2; bit < 8; bit++) {
		r.flags = (uint8_t)(MEMBER_FLAG_OWNER | 1u << bit);
		assert_int_equal(member_record_encode(&r, buf, sizeof(buf)), 0);
		len = raw_record(&r, "node", 4, r.flags, k->net_sk, buf);
		expect_reject(buf, len, -EBADMSG, "unknown flags");
	}
}

static void test_keys_bound(void **state)
{
	const struct keys *k = *state;
	uint8_t other_pk[32], other_sk[64];
	struct member_record r;

	make_record(k, "node", &r);
	assert_true(member_record_keys_bound(&r));
	/* another node's ed25519 key */
	crypto_sign_keypair(other_pk, other_sk);
	memcpy(r.ed25519_pk, other_pk, 32);
	assert_false(member_record_keys_bound(&r));
	/* a stock WireGuard leaf: no ed25519 key */
	memset(r.ed25519_pk, 0, 32);
	assert_false(member_record_keys_bound(&r));
	/* right ed25519 key, x25519 key zero or off by one bit */
	memcpy(r.ed25519_pk, k->node_ed_pk, 32);
	memset(r.x25519_pk, 0, 32);
	assert_false(member_record_keys_bound(&r));
	memcpy(r.x25519_pk, k->node_x_pk, 32);
	r.x25519_pk[31] ^= 0x01;
	assert_false(member_record_keys_bound(&r));
	/* not a point at all */
	memset(r.ed25519_pk, 0xff, 32);
	assert_false(member_record_keys_bound(&r));
}

static void test_network_key(void **state)
{
	const struct keys *k = *state;
	uint8_t b_pk[32], b_sk[64], buf[MEMBER_RECORD_MAX];
	struct member_record r, back;
	size_t len;

	crypto_sign_keypair(b_pk, b_sk);
	make_record(k, "node", &r);
	len = member_record_encode(&r, buf, sizeof(buf));
	assert_int_equal(member_record_decode(buf, len, &back, NULL, 0), 0);
	assert_memory_equal(back.network_pk, k->net_pk, 32);
	/* the network key field swapped to B: A's signature does not verify */
	memcpy(buf + 4, b_pk, 32);
	expect_reject(buf, len, -EPERM, "signature does not verify");
	/* signed by B, claiming A */
	len = raw_record(&r, "node", 4, r.flags, b_sk, buf);
	expect_reject(buf, len, -EPERM, "signature does not verify");
	/* signed by B, claiming B: decodes, and the caller sees B */
	memcpy(r.network_pk, b_pk, 32);
	member_record_sign(&r, b_sk);
	len = member_record_encode(&r, buf, sizeof(buf));
	assert_int_equal(member_record_decode(buf, len, &back, NULL, 0), 0);
	assert_memory_equal(back.network_pk, b_pk, 32);
}

static void test_bad_magic(void **state)
{
	const struct keys *k = *state;
	struct member_record r;
	uint8_t buf[MEMBER_RECORD_MAX];
	size_t len;

	make_record(k, "node", &r);
	len = member_record_encode(&r, buf, sizeof(buf));
	buf[3] = '3';
	expect_reject(buf, len, -EBADMSG, "magic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname_valid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tags_round_trip),
		cmocka_unit_test(test_tags_bad),
		cmocka_unit_test(test_flips),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_hostname),
		cmocka_unit_test(test_unknown_flags),
		cmocka_unit_test(test_keys_bound),
		cmocka_unit_test(test_network_key),
		cmocka_unit_test(test_bad_magic),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
