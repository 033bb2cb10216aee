/* Overlay addresses against the check values in DESIGN.md ("Identity and
 * addresses"), and the reserved and overlay predicates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "mesh/address.h"

struct check {
	uint8_t fill; /* pk: 32 bytes of fill, or 00 01 02 … 1f when counting */
	bool counting;
	const char *v6, *v4_0, *v4_1;
};

/* DESIGN.md's table, row by row. */
static const struct check checks[] = {
	/* 1 */ { 0x00, false, "2fa:cf08:65a8:b9ed:a93:3cae:33e1:be26", "100.112.49.170",
		  "100.107.248.152" },
	/* 2 */
	{ 0x00, true, "245:b453:324e:eef7:9c94:f161:9c3e:c25f", "100.112.3.130", "100.109.33.156" },
	/* 3 */
	{ 0xff, false, "25f:9da:d0ae:848:1db8:c940:a351:62b", "100.91.132.41", "100.104.201.146" },
};

static void make_key(const struct check *c, uint8_t pk[ADDRESS_KEY_LEN])
{
	for (int i = 0; i < ADDRESS_KEY_LEN; i++)
		pk[i] = c->counting ? (uint8_t)i : c->fill;
}

static void v4_str(const uint8_t a[4], char *s)
{
	inet_ntop(AF_INET, a, s, INET_ADDRSTRLEN);
}

static void test_design_v6(void **state)
{
	char s[INET6_ADDRSTRLEN];
	uint8_t pk[ADDRESS_KEY_LEN], a[16];

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		make_key(&checks[i], pk);
		address_v6_from_key(pk, a);
		inet_ntop(AF_INET6, a, s, sizeof(s));
		assert_string_equal(s, checks[i].v6);
		assert_true(address_v6_in_overlay(a));
		assert_false(address_v6_reserved(a));
	}
}

static void test_design_v4(void **state)
{
	char s[INET_ADDRSTRLEN];
	uint8_t pk[ADDRESS_KEY_LEN], a[4];

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		make_key(&checks[i], pk);
		address_v4_from_key_index(pk, 0, a);
		v4_str(a, s);
		assert_string_equal(s, checks[i].v4_0);
		assert_true(address_v4_in_overlay(a));
		address_v4_from_key_index(pk, 1, a);
		v4_str(a, s);
		assert_string_equal(s, checks[i].v4_1);
		/* None of the index-0 addresses is reserved. */
		assert_int_equal(address_v4_next_index(pk, 0), 0);
		assert_int_equal(address_v4_next_index(pk, 1), 1);
	}
}

static void test_v4_reserved(void **state)
{
	static const uint8_t reserved[][4] = {
		{ 100, 64, 0, 0 }, /* host part all zeros */
		{ 100, 127, 255, 255 }, /* host part all ones */
		{ 100, 100, 100, 53 }, /* the resolver */
	};
	static const uint8_t usable[][4] = {
		{ 100, 64, 0, 1 },
		{ 100, 127, 255, 254 },
		{ 100, 100, 100, 52 },
		{ 100, 112, 49, 170 },
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		assert_true(address_v4_in_overlay(reserved[i]));
		assert_true(address_v4_reserved(reserved[i]));
	}
	for (size_t i = 0; i < sizeof(usable) / sizeof(usable[0]); i++)
		assert_false(address_v4_reserved(usable[i]));
}

/* Keys whose index 0 derives each reserved IPv4 address (found by search:
 * pk = le64(n) followed by 24 zero bytes). next_index must skip to 1. */
static void test_v4_skip(void **state)
{
	static const struct {
		uint64_t n;
		const char *v4_0, *v4_1;
	} vec[] = {
		/* 1 */ { 2737476, "100.127.255.255", "100.84.204.94" },
		/* 2 */ { 6570972, "100.64.0.0", "100.81.144.124" },
		/* 3 */ { 7604259, "100.100.100.53", "100.85.55.187" },
	};
	char s[INET_ADDRSTRLEN];
	uint8_t pk[ADDRESS_KEY_LEN], a[4];

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		memset(pk, 0, sizeof(pk));
		for (int b = 0; b < 8; b++)
			pk[b] = (uint8_t)(vec[i].n >> (8 * b));
		address_v4_from_key_index(pk, 0, a);
		v4_str(a, s);
		assert_string_equal(s, vec[i].v4_0);
		assert_true(address_v4_reserved(a));
		assert_int_equal(address_v4_next_index(pk, 0), 1);
		address_v4_from_key_index(pk, 1, a);
		v4_str(a, s);
		assert_string_equal(s, vec[i].v4_1);
	}
}

static void test_v6_reserved(void **state)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, "200::53", a), 1);
	assert_true(address_v6_reserved(a));
	assert_true(address_v6_in_overlay(a));
	assert_int_equal(inet_pton(AF_INET6, "200::54", a), 1);
	assert_false(address_v6_reserved(a));
	assert_int_equal(inet_pton(AF_INET6, "300::53", a), 1);
	assert_false(address_v6_reserved(a));
}

static void test_overlay(void **state)
{
	static const struct {
		const char *s;
		bool in;
	} v6[] = {
		{ "200::", true },   { "2ff:ffff::1", true }, { "3ff::1", true },
		{ "1ff::1", false }, { "400::", false },      { "2001:db8::1", false },
	},
	  v4[] = {
		  { "100.64.0.0", true },     { "100.127.255.255", true }, { "100.100.100.53", true },
		  { "100.63.255.255", false }, { "100.128.0.0", false },    { "10.64.0.1", false },
	  };
	uint8_t a[16];

	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		assert_int_equal(inet_pton(AF_INET6, v6[i].s, a), 1);
		assert_int_equal(address_v6_in_overlay(a), v6[i].in);
	}
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		assert_int_equal(inet_pton(AF_INET, v4[i].s, a), 1);
		assert_int_equal(address_v4_in_overlay(a), v4[i].in);
		/* Outside the overlay nothing is "reserved". */
		if (!v4[i].in)
			assert_false(address_v4_reserved(a));
	}
}

/* Random keys: every derived address is in the overlay, and next_index
 * returns the first index whose address is not reserved. */
static void test_random_keys(void **state)
{
	uint8_t pk[ADDRESS_KEY_LEN], a6[16], a4[4];

	for (int n = 0; n < 2000; n++) {
		randombytes_buf(pk, sizeof(pk));
		address_v6_from_key(pk, a6);
		assert_true(address_v6_in_overlay(a6));
		assert_int_equal(a6[0], 0x02);
		uint32_t i = address_v4_next_index(pk, 0);

		for (uint32_t j = 0; j < i; j++) {
			address_v4_from_key_index(pk, j, a4);
			assert_true(address_v4_reserved(a4));
		}
		address_v4_from_key_index(pk, i, a4);
		assert_true(address_v4_in_overlay(a4));
		assert_false(address_v4_reserved(a4));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_v6),   cmocka_unit_test(test_design_v4),
		cmocka_unit_test(test_v4_reserved), cmocka_unit_test(test_v4_skip),
		cmocka_unit_test(test_v6_reserved), cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_random_keys),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
