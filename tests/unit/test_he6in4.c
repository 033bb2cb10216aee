/* The he_6in4 uplink's pure parts: the outer and inner checks of the
 * userspace tunnel (he6in4_decap, he6in4_inner_ok), the server's tunnel
 * address, and the endpoint update's URL, answers and backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "uplink/he6in4.h"
#include "uplink/he_update.h"

static struct in_addr v4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* IPv4 (20 bytes, protocol 41, server -> local) + IPv6 header + 8 bytes. */
static size_t build(uint8_t *p, const char *src, const char *dst)
{
	struct in_addr s = v4(src), d = v4(dst);

	memset(p, 0, 68);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = 68; /* total length */
	p[8] = 64;
	p[9] = 41;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	p[20] = 0x60;
	p[25] = 8; /* payload length */
	p[26] = 58;
	p[27] = 64;
	return 68;
}

static int decap(const uint8_t *p, size_t len, size_t *inner, enum he6in4_drop *why)
{
	return he6in4_decap(p, len, v4("192.0.2.1"), v4("198.51.100.2"), inner, why);
}

static void test_decap_ok(void **state)
{
	uint8_t p[128];
	size_t len = build(p, "192.0.2.1", "198.51.100.2"), inner = 0;
	enum he6in4_drop why;

	assert_int_equal(decap(p, len, &inner, &why), 20);
	assert_int_equal(inner, 48);
	/* Link-layer padding after the outer total length is not passed on. */
	assert_int_equal(decap(p, len + 6, &inner, &why), 20);
	assert_int_equal(inner, 48);
	/* IPv4 options: the inner packet starts after them. */
	memmove(p + 24, p + 20, 48);
	p[0] = 0x46;
	p[3] = 72;
	assert_int_equal(decap(p, 72, &inner, &why), 24);
	assert_int_equal(inner, 48);
}

/* Vectors, one per reason. */
static void test_decap_drops(void **state)
{
	uint8_t p[128];
	size_t len, inner;
	enum he6in4_drop why;

	/* 1 shorter than an IPv4 header */
	len = build(p, "192.0.2.1", "198.51.100.2");
	assert_int_equal(decap(p, 19, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_SHORT);
	/* 2 total length past what was read */
	assert_int_equal(decap(p, 60, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_SHORT);
	/* 3 another protocol */
	p[9] = 4;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_NOT_41);
	/* 4 IPv6 outside */
	build(p, "192.0.2.1", "198.51.100.2");
	p[0] = 0x65;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_NOT_41);
	/* 5 a fragment (MF), 6 a later fragment (offset) */
	build(p, "192.0.2.1", "198.51.100.2");
	p[6] = 0x20;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_FRAGMENT);
	p[6] = 0x00;
	p[7] = 0x10;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_FRAGMENT);
	/* 7 DF alone is fine */
	p[6] = 0x40;
	p[7] = 0;
	assert_int_equal(decap(p, len, &inner, &why), 20);
	/* 8 from another source */
	build(p, "192.0.2.9", "198.51.100.2");
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_SOURCE);
	/* 9 to another destination */
	build(p, "192.0.2.1", "198.51.100.3");
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_DEST);
	/* 10 inner not IPv6, 11 inner payload length too long, 12 inner short */
	build(p, "192.0.2.1", "198.51.100.2");
	p[20] = 0x45;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_INNER);
	build(p, "192.0.2.1", "198.51.100.2");
	p[25] = 9;
	assert_int_equal(decap(p, len, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_INNER);
	build(p, "192.0.2.1", "198.51.100.2");
	p[3] = 50;
	assert_int_equal(decap(p, 50, &inner, &why), -1);
	assert_int_equal(why, HE6IN4_DROP_INNER);
}

static void test_inner_ok(void **state)
{
	uint8_t p[48] = { 0x60 };

	p[5] = 8;
	assert_true(he6in4_inner_ok(p, 48));
	assert_true(he6in4_inner_ok(p, 48 + 0)); /* exact */
	assert_false(he6in4_inner_ok(p, 47));
	assert_false(he6in4_inner_ok(p, 39));
	p[0] = 0x40;
	assert_false(he6in4_inner_ok(p, 48));
	assert_string_equal(he6in4_drop_name(HE6IN4_DROP_SOURCE), "wrong_source");
	assert_string_equal(he6in4_drop_name(HE6IN4_DROP_COUNT), "?");
}

static void test_server_v6(void **state)
{
	struct uplink_config c = { .client_plen = 64 };
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];

	inet_pton(AF_INET6, "2001:470:1f0a:beef::2", &c.client_ipv6);
	uplink_he6in4_server_v6(&c, &a);
	assert_string_equal(inet_ntop(AF_INET6, &a, text, sizeof(text)), "2001:470:1f0a:beef::1");
	c.client_plen = 112;
	inet_pton(AF_INET6, "2001:db8::5:6", &c.client_ipv6);
	uplink_he6in4_server_v6(&c, &a);
	assert_string_equal(inet_ntop(AF_INET6, &a, text, sizeof(text)), "2001:db8::5:1");
}

static void test_update_url(void **state)
{
	char url[300];

	assert_int_equal(he_update_build_url(HE_UPDATE_DEFAULT_URL, "123456", v4("203.0.113.7"),
					     url, sizeof(url)),
			 0);
	assert_string_equal(url, "https://ipv4.tunnelbroker.net/nic/update"
				 "?hostname=123456&myip=203.0.113.7");
	/* Behind a NAT: no myip, the broker takes the request's source. */
	assert_int_equal(he_update_build_url("http://10.0.2.2:8080/u", "7", v4("192.168.1.20"), url,
					     sizeof(url)),
			 0);
	assert_string_equal(url, "http://10.0.2.2:8080/u?hostname=7");
	assert_int_equal(he_update_build_url("http://x/u", "7", v4("1.2.3.4"), url, 20),
			 -ENAMETOOLONG);
	assert_false(he_update_public_v4(v4("10.1.2.3")));
	assert_false(he_update_public_v4(v4("172.16.0.1")));
	assert_false(he_update_public_v4(v4("172.31.255.255")));
	assert_true(he_update_public_v4(v4("172.32.0.1")));
	assert_false(he_update_public_v4(v4("192.168.0.1")));
	assert_false(he_update_public_v4(v4("100.64.0.1")));
	assert_false(he_update_public_v4(v4("100.127.255.255")));
	assert_true(he_update_public_v4(v4("100.128.0.1")));
	assert_false(he_update_public_v4(v4("127.0.0.1")));
	assert_false(he_update_public_v4(v4("169.254.1.1")));
	assert_false(he_update_public_v4(v4("224.0.0.1")));
	assert_true(he_update_public_v4(v4("198.51.100.2")));
}

static void test_update_answers(void **state)
{
	assert_true(he_update_answer_ok("good 203.0.113.7\n"));
	assert_true(he_update_answer_ok("nochg 203.0.113.7"));
	assert_false(he_update_answer_ok("badauth"));
	assert_false(he_update_answer_ok("abuse"));
	assert_false(he_update_answer_ok("!yours"));
	assert_false(he_update_answer_ok(""));
	assert_int_equal(he_update_backoff_ms(1), 60000);
	assert_int_equal(he_update_backoff_ms(2), 120000);
	assert_int_equal(he_update_backoff_ms(6), 1920000);
	assert_int_equal(he_update_backoff_ms(7), 3600000);
	assert_int_equal(he_update_backoff_ms(1000), 3600000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decap_ok),   cmocka_unit_test(test_decap_drops),
		cmocka_unit_test(test_inner_ok),   cmocka_unit_test(test_server_v6),
		cmocka_unit_test(test_update_url), cmocka_unit_test(test_update_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
