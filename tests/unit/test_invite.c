/* Invite tokens: round trips, the token's shape, forged and altered
 * tokens, and what a user may paste by mistake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/invite.h"

#define PREFIX_LEN (sizeof(INVITE_PREFIX) - 1)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct keys {
	uint8_t a_pk[32], a_sk[64];
	uint8_t b_pk[32], b_sk[64];
};

static int group_setup(void **state)
{
	static struct keys k;

	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(k.a_pk, k.a_sk);
	crypto_sign_keypair(k.b_pk, k.b_sk);
	*state = &k;
	return 0;
}

static void endpoint(struct sockaddr_in6 *ep, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->sin6_family = AF_INET6;
	ep->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &ep->sin6_addr), 1);
}

static void make_invite(const struct keys *k, const char *label, size_t n, struct invite *inv)
{
	char addr[64];

	memset(inv, 0, sizeof(*inv));
	memcpy(inv->network_pk, k->a_pk, 32);
	randombytes_buf(inv->owner_x25519_pk, 32);
	randombytes_buf(inv->secret, sizeof(inv->secret));
	inv->expires = 1900000000;
	inv->flags = INVITE_FLAG_REUSABLE;
	snprintf(inv->label, sizeof(inv->label), "%s", label);
	for (size_t i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:%zx::%zx", i, i + 1);
		endpoint(&inv->endpoints[i], addr, (uint16_t)(51820 + i));
	}
	inv->nendpoints = n;
}

static void assert_invites_equal(const struct invite *a, const struct invite *b)
{
	assert_memory_equal(a->network_pk, b->network_pk, 32);
	assert_memory_equal(a->owner_x25519_pk, b->owner_x25519_pk, 32);
	assert_memory_equal(a->secret, b->secret, INVITE_SECRET_LEN);
	assert_true(a->expires == b->expires);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->label, b->label);
	assert_int_equal(a->nendpoints, b->nendpoints);
	assert_memory_equal(a->endpoints, b->endpoints, a->nendpoints * sizeof(a->endpoints[0]));
}

static void expect_reject(const char *token, int rc, const char *what)
{
	struct invite inv;
	char err[256] = "";

	assert_int_equal(invite_decode(token, &inv, err, sizeof(err)), rc);
	if (!strstr(err, what))
		fail_msg("message `%s' does not say `%s'", err, what);
	/* a rejected token leaves no secret behind */
	for (size_t i = 0; i < INVITE_SECRET_LEN; i++)
		assert_int_equal(inv.secret[i], 0);
}

static void round_trip(const struct invite *inv, const uint8_t sk[64])
{
	char token[INVITE_TOKEN_MAX], err[256];
	struct invite back;
	int len;

	len = invite_encode(inv, sk, token, sizeof(token));
	assert_true(len > 0);
	assert_int_equal(len, strlen(token));
	assert_memory_equal(token, INVITE_PREFIX, PREFIX_LEN);
	/* URL-safe, unpadded */
	for (int i = (int)PREFIX_LEN; i < len; i++)
		if (!isalnum((unsigned char)token[i]) && token[i] != '-' && token[i] != '_')
			fail_msg("character `%c' at %d of the token is not base64url", token[i], i);
	if (invite_decode(token, &back, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_invites_equal(inv, &back);
	/* a smaller buffer is refused, not overrun */
	assert_int_equal(invite_encode(inv, sk, token, (size_t)len), -ENOSPC);
	assert_int_equal(invite_encode(inv, sk, token, (size_t)len + 1), len);
}

static void test_round_trip(void **state)
{
	const struct keys *k = *state;
	struct invite inv;

	make_invite(k, "home", 0, &inv);
	round_trip(&inv, k->a_sk);
	inv.flags = 0;
	inv.expires = 0;
	round_trip(&inv, k->a_sk);
	make_invite(k, "home", 1, &inv);
	endpoint(&inv.endpoints[0], "::ffff:198.51.100.7", 51820);
	round_trip(&inv, k->a_sk);
	make_invite(k, "home", 1, &inv);
	round_trip(&inv, k->a_sk);
	make_invite(k, "office-2", INVITE_MAX_ENDPOINTS, &inv);
	endpoint(&inv.endpoints[3], "::ffff:203.0.113.1", 1);
	round_trip(&inv, k->a_sk);
}

/* The largest invite: 63-character label, eight IPv6 endpoints. */
static void test_largest_fits(void **state)
{
	const struct keys *k = *state;
	char token[INVITE_TOKEN_MAX], label[INVITE_LABEL_MAX + 1];
	struct invite inv;
	int len;

	memset(label, 'z', INVITE_LABEL_MAX);
	label[INVITE_LABEL_MAX] = '\0';
	make_invite(k, label, INVITE_MAX_ENDPOINTS, &inv);
	round_trip(&inv, k->a_sk);
	len = invite_encode(&inv, k->a_sk, token, sizeof(token));
	/* 371 bytes: 91 fixed, the label, 1 + 8 × 19, 64 of signature */
	assert_int_equal(len, PREFIX_LEN + (371 * 4 + 2) / 3);
	assert_true(len < INVITE_TOKEN_MAX);
}

static void test_whitespace(void **state)
{
	const struct keys *k = *state;
	char token[INVITE_TOKEN_MAX], padded[INVITE_TOKEN_MAX + 16];
	struct invite inv, back;

	make_invite(k, "home", 2, &inv);
	assert_true(invite_encode(&inv, k->a_sk, token, sizeof(token)) > 0);
	snprintf(padded, sizeof(padded), " \t%s\r\n", token);
	assert_int_equal(invite_decode(padded, &back, NULL, 0), 0);
	assert_invites_equal(&inv, &back);
	/* but not inside it */
	snprintf(padded, sizeof(padded), "%.30s %s", token, token + 30);
	expect_reject(padded, -EBADMSG, "not base64url");
}

/* Any one character changed, anywhere in the base64, is caught. */
static void test_tampered(void **state)
{
	const struct keys *k = *state;
	char token[INVITE_TOKEN_MAX];
	struct invite inv, back;
	int len;

	make_invite(k, "home", 3, &inv);
	len = invite_encode(&inv, k->a_sk, token, sizeof(token));
	for (int i = (int)PREFIX_LEN; i < len; i++) {
		char was = token[i];
		int rc;

		token[i] = was == 'A' ? 'B' : 'A';
		rc = invite_decode(token, &back, NULL, 0);
		if (rc != -EPERM && rc != -EBADMSG)
			fail_msg("changed character %d: decode returned %d", i, rc);
		token[i] = was;
	}
	token[PREFIX_LEN + 100] = token[PREFIX_LEN + 100] == 'x' ? 'y' : 'x';
	expect_reject(token, -EPERM, "signature does not verify");
}

static void test_wrong_network_key(void **state)
{
	const struct keys *k = *state;
	char token[INVITE_TOKEN_MAX];
	struct invite inv;

	/* claims network A, signed by B */
	make_invite(k, "home", 1, &inv);
	assert_true(invite_encode(&inv, k->b_sk, token, sizeof(token)) > 0);
	expect_reject(token, -EPERM, "signature does not verify");
}

static void test_encode_refuses(void **state)
{
	const struct keys *k = *state;
	char token[INVITE_TOKEN_MAX];
	struct invite inv;

	make_invite(k, "home", INVITE_MAX_ENDPOINTS, &inv);
	inv.nendpoints = INVITE_MAX_ENDPOINTS + 1;
	assert_int_equal(invite_encode(&inv, k->a_sk, token, sizeof(token)), -EINVAL);
	make_invite(k, "Home", 0, &inv);
	assert_int_equal(invite_encode(&inv, k->a_sk, token, sizeof(token)), -EINVAL);
	make_invite(k, "", 0, &inv);
	assert_int_equal(invite_encode(&inv, k->a_sk, token, sizeof(token)), -EINVAL);
	make_invite(k, "home", 1, &inv);
	inv.endpoints[0].sin6_port = 0;
	assert_int_equal(invite_encode(&inv, k->a_sk, token, sizeof(token)), -EINVAL);
	make_invite(k, "home", 0, &inv);
	inv.flags = 0x02;
	assert_int_equal(invite_encode(&inv, k->a_sk, token, sizeof(token)), -EINVAL);
	assert_int_equal(invite_encode(&inv, k->a_sk, token, 0), -EINVAL);
	inv.flags = 0;
	assert_int_equal(invite_encode(&inv, k->a_sk, token, 10), -ENOSPC);
}

/* Re-encodes a token's blob after f changed it (the signature is kept). */
static void rewrite(const char *token, char *out, size_t cap, void (*f)(uint8_t *, size_t *))
{
	uint8_t blob[512];
	size_t len;

	assert_int_equal(sodium_base642bin(blob, sizeof(blob), token + PREFIX_LEN,
					   strlen(token) - PREFIX_LEN, NULL, &len, NULL, B64),
			 0);
	f(blob, &len);
	memcpy(out, INVITE_PREFIX, PREFIX_LEN);
	sodium_bin2base64(out + PREFIX_LEN, cap - PREFIX_LEN, blob, len, B64);
}

static void bump_version(uint8_t *blob, size_t *len)
{
	blob[0] = 2;
}

static void set_flag(uint8_t *blob, size_t *len)
{
	blob[89] |= 0x80;
}

static void long_label(uint8_t *blob, size_t *len)
{
	blob[90] = 70;
}

static void add_byte(uint8_t *blob, size_t *len)
{
	blob[(*len)++] = 0;
}

static void cut(uint8_t *blob, size_t *len)
{
	*len = 100;
}

static void test_garbage(void **state)
{
	const struct keys *k = *state;
	static char token[INVITE_TOKEN_MAX], bad[INVITE_TOKEN_MAX + 8], huge[1024];
	struct invite inv;

	expect_reject("", -EBADMSG, "invite is empty");
	expect_reject(" \n\t", -EBADMSG, "invite is empty");
	expect_reject("hello", -EBADMSG, "does not start with manta://join/");
	expect_reject("https://example.com/join/AAAA", -EBADMSG, "does not start with");
	expect_reject("MANTA://JOIN/AAAA", -EBADMSG, "does not start with");
	expect_reject("manta://join", -EBADMSG, "does not start with");
	expect_reject("manta://join/", -EBADMSG, "truncated");
	expect_reject("manta://join/AAAA", -EBADMSG, "truncated: 3 bytes");
	expect_reject("manta://join/!!!!", -EBADMSG, "not base64url");
	expect_reject("manta://join/AAAA+/==", -EBADMSG, "not base64url");
	expect_reject("manta://join/A", -EBADMSG, "not base64url");
	memcpy(huge, INVITE_PREFIX, PREFIX_LEN);
	memset(huge + PREFIX_LEN, 'A', sizeof(huge) - PREFIX_LEN - 1);
	huge[sizeof(huge) - 1] = '\0';
	expect_reject(huge, -EBADMSG, "too long");

	make_invite(k, "home", 1, &inv);
	assert_true(invite_encode(&inv, k->a_sk, token, sizeof(token)) > 0);
	rewrite(token, bad, sizeof(bad), bump_version);
	expect_reject(bad, -EBADMSG, "version 2 is not 1");
	rewrite(token, bad, sizeof(bad), set_flag);
	expect_reject(bad, -EBADMSG, "unknown flags 0x80");
	rewrite(token, bad, sizeof(bad), long_label);
	expect_reject(bad, -EBADMSG, "label length 70 exceeds 63");
	rewrite(token, bad, sizeof(bad), add_byte);
	expect_reject(bad, -EBADMSG, "1 trailing byte");
	rewrite(token, bad, sizeof(bad), cut);
	expect_reject(bad, -EBADMSG, "truncated");
	/* a token cut short by a careless paste */
	token[strlen(token) - 10] = '\0';
	expect_reject(token, -EBADMSG, "");
}

static void test_secret_hash(void **state)
{
	uint8_t s1[INVITE_SECRET_LEN], s2[INVITE_SECRET_LEN], h1[32], h2[32], ref[32];

	memset(s1, 1, sizeof(s1));
	memcpy(s2, s1, sizeof(s2));
	s2[15] ^= 1;
	invite_secret_hash(s1, h1);
	invite_secret_hash(s1, h2);
	assert_memory_equal(h1, h2, 32);
	invite_secret_hash(s2, h2);
	assert_memory_not_equal(h1, h2, 32);
	/* BLAKE2b-256, unkeyed */
	crypto_generichash(ref, 32, s1, sizeof(s1), NULL, 0);
	assert_memory_equal(h1, ref, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_largest_fits),
		cmocka_unit_test(test_whitespace),	  cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wrong_network_key), cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_garbage),		  cmocka_unit_test(test_secret_hash),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
