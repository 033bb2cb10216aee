/* ICMP "too big" errors (tun/icmp.c) and the Internet checksum
 * (common/checksum.c): byte-exact frames against vectors checked by hand
 * (the header bytes below were worked out field by field and their
 * checksums computed with a separate Python word-sum), every checksum
 * verified again by an independent routine (sum_words, a plain RFC 1071
 * word sum over the finished frame), and the packets that must never get
 * an error: ICMP errors, multicast, unspecified and loopback sources,
 * later fragments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/bytes.h"
#include "common/checksum.h"
#include "tun/icmp.h"

/* The independent check: the ones' complement sum of every 16-bit word of
 * a block that carries its own correct checksum is 0xffff. Written
 * differently from common/checksum.c on purpose (no carry folding until
 * the end, odd byte handled by a zero-padded copy). */
static uint16_t sum_words(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	static uint8_t tmp[2048];
	uint64_t s = 0;
	size_t n = alen + blen;

	assert_true(n + 1 <= sizeof(tmp));
	memset(tmp, 0, sizeof(tmp));
	memcpy(tmp, a, alen);
	if (blen)
		memcpy(tmp + alen, b, blen);
	for (size_t i = 0; i < n; i += 2)
		s += (uint64_t)tmp[i] * 256 + tmp[i + 1];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t v6_icmp_sum(const uint8_t *frame)
{
	uint8_t pseudo[40] = { 0 };
	size_t plen = get_be16(frame + 4);

	memcpy(pseudo, frame + 8, 32);
	put_be32(pseudo + 32, (uint32_t)plen);
	pseudo[39] = 58;
	return sum_words(pseudo, sizeof(pseudo), frame + 40, plen);
}

/* 1. RFC 1071 section 3's example: words 0001 f203 f4f5 f6f7 sum to ddf2. */
static void test_checksum_rfc1071(void **state)
{
	static const uint8_t words[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint32_t split;

	assert_int_equal(checksum_finish(checksum_add(0, words, sizeof(words))), 0x220d);
	/* In two pieces, the first of even length: the same. */
	split = checksum_add(checksum_add(0, words, 4), words + 4, 4);
	assert_int_equal(checksum_finish(split), 0x220d);
	/* An odd length pads with a zero byte. */
	assert_int_equal(checksum_finish(checksum_add(0, (const uint8_t *)"\x01", 1)), 0xfeff);
}

/* A 60-byte IPv4/UDP packet 100.64.0.1 -> 100.64.0.2, DF, id 0x1234. */
static size_t ip4_udp60(uint8_t *p)
{
	static const uint8_t hdr[28] = { 0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
					 0x5f, 0xfa, 100,  64,	 0,    1,    100,  64,	 0,    2,
					 0x9c, 0x40, 0x00, 0x35, 0x00, 0x28, 0x00, 0x00 };

	memcpy(p, hdr, sizeof(hdr));
	for (size_t i = 28; i < 60; i++)
		p[i] = (uint8_t)i;
	return 60;
}

/* 2. ICMPv4 type 3 code 4, next-hop MTU 1232, about the whole packet. */
static void test_v4_frag_needed_exact(void **state)
{
	static const uint8_t want[28] = {
		0x45, 0xc0, 0x00, 0x58, /* v4, IHL 5, TOS 0xc0, total 88 = 28 + 60 */
		0x00, 0x00, 0x40, 0x00, /* id 0, DF */
		0x40, 0x01, 0x71, 0x62, /* TTL 64, ICMP, header checksum 0x7162 */
		100,  64,   0,	  2, /* from the packet's destination */
		100,  64,   0,	  1, /* to its source */
		0x03, 0x04, 0xa8, 0xcb, /* type 3 code 4, checksum 0xa8cb */
		0x00, 0x00, 0x04, 0xd0, /* unused, next-hop MTU 1232 */
	};
	uint8_t pkt[60], out[ICMP_ERROR_MAX];
	enum icmp_verdict why;
	size_t n;

	ip4_udp60(pkt);
	n = icmp_build_too_big(out, pkt, sizeof(pkt), 1232, &why);
	assert_int_equal(why, ICMP_OK);
	assert_int_equal(n, 88);
	assert_memory_equal(out, want, sizeof(want));
	assert_memory_equal(out + 28, pkt, sizeof(pkt));
	assert_int_equal(sum_words(out, 20, NULL, 0), 0xffff);
	assert_int_equal(sum_words(out + 20, n - 20, NULL, 0), 0xffff);
}

/* A 80-byte IPv6/UDP packet 200::1 -> 200::2. */
static size_t ip6_udp80(uint8_t *p)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	p[5] = 40;
	p[6] = 17;
	p[7] = 64;
	p[8] = p[24] = 0x02;
	p[23] = 1;
	p[39] = 2;
	put_be16(p + 40, 40000);
	put_be16(p + 42, 53);
	put_be16(p + 44, 40);
	for (size_t i = 48; i < 80; i++)
		p[i] = (uint8_t)i;
	return 80;
}

/* 3. ICMPv6 type 2, MTU 1280, about the whole packet. */
static void test_v6_packet_too_big_exact(void **state)
{
	static const uint8_t want[48] = {
		0x60, 0x00, 0x00, 0x00, /* v6, no class, no flow */
		0x00, 0x58, 0x3a, 0x40, /* payload 88 = 8 + 80, ICMPv6, hop limit 64 */
		0x02, 0,    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, /* from 200::2 */
		0x02, 0,    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* to 200::1 */
		0x02, 0x00, 0xee, 0x5d, /* type 2 code 0, checksum 0xee5d */
		0x00, 0x00, 0x05, 0x00, /* MTU 1280 */
	};
	uint8_t pkt[80], out[ICMP_ERROR_MAX];
	size_t n;

	ip6_udp80(pkt);
	n = icmp_build_too_big(out, pkt, sizeof(pkt), 1280, NULL);
	assert_int_equal(n, 128);
	assert_memory_equal(out, want, sizeof(want));
	assert_memory_equal(out + 48, pkt, sizeof(pkt));
	assert_int_equal(v6_icmp_sum(out), 0xffff);
}

/* 4. Quoting stops at 576 bytes in all (IPv4) and 1280 (IPv6). */
static void test_quote_limits(void **state)
{
	static uint8_t pkt[1500], out[ICMP_ERROR_MAX];
	size_t n;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 13 + 5);
	ip4_udp60(pkt);
	put_be16(pkt + 2, 1280);
	n = icmp_build_too_big(out, pkt, 1280, 1136, NULL);
	assert_int_equal(n, 576);
	assert_int_equal(get_be16(out + 2), 576);
	assert_int_equal(get_be16(out + 26), 1136);
	assert_memory_equal(out + 28, pkt, 548);
	assert_int_equal(sum_words(out, 20, NULL, 0), 0xffff);
	assert_int_equal(sum_words(out + 20, n - 20, NULL, 0), 0xffff);

	ip6_udp80(pkt);
	put_be16(pkt + 4, 1400 - 40);
	n = icmp_build_too_big(out, pkt, 1400, 1300, NULL);
	assert_int_equal(n, 1280);
	assert_int_equal(get_be16(out + 4), 1240);
	assert_int_equal(get_be16(out + 44), 0);
	assert_int_equal(get_be16(out + 46), 1300);
	assert_memory_equal(out + 48, pkt, 1232);
	assert_int_equal(v6_icmp_sum(out), 0xffff);
	/* A short packet is quoted whole: the smallest IPv4 one. */
	ip4_udp60(pkt);
	pkt[9] = 6;
	n = icmp_build_too_big(out, pkt, 20, 576, NULL);
	assert_int_equal(n, 48);
	assert_int_equal(sum_words(out + 20, n - 20, NULL, 0), 0xffff);
}

static void icmp4(uint8_t *pkt, uint8_t type)
{
	ip4_udp60(pkt);
	pkt[9] = 1;
	pkt[20] = type;
}

static void icmp6(uint8_t *pkt, uint8_t type)
{
	ip6_udp80(pkt);
	pkt[6] = 58;
	pkt[40] = type;
}

/* 5. No error about an ICMP error, in either family; queries are fine. */
static void test_not_about_icmp_errors(void **state)
{
	/* ICMPv4: 3 unreachable, 4 source quench, 5 redirect, 11 time
	 * exceeded, 12 parameter problem, 42 unknown (treated as an error). */
	static const uint8_t v4_errors[] = { 3, 4, 5, 11, 12, 42 };
	static const uint8_t v4_queries[] = { 0, 8, 13, 14 };
	/* ICMPv6: 1 unreachable, 2 too big, 3 time exceeded, 4 parameter
	 * problem, 127 (still an error type). */
	static const uint8_t v6_errors[] = { 1, 2, 3, 4, 127 };
	static const uint8_t v6_queries[] = { 128, 129, 135 };
	uint8_t pkt[80], out[ICMP_ERROR_MAX];
	enum icmp_verdict why;

	for (size_t i = 0; i < sizeof(v4_errors); i++) {
		icmp4(pkt, v4_errors[i]);
		assert_int_equal(icmp_build_too_big(out, pkt, 60, 1232, &why), 0);
		assert_int_equal(why, ICMP_ABOUT_ICMP_ERROR);
	}
	for (size_t i = 0; i < sizeof(v4_queries); i++) {
		icmp4(pkt, v4_queries[i]);
		assert_int_equal(icmp_build_too_big(out, pkt, 60, 1232, NULL), 88);
	}
	for (size_t i = 0; i < sizeof(v6_errors); i++) {
		icmp6(pkt, v6_errors[i]);
		assert_int_equal(icmp_build_too_big(out, pkt, 80, 1280, &why), 0);
		assert_int_equal(why, ICMP_ABOUT_ICMP_ERROR);
	}
	for (size_t i = 0; i < sizeof(v6_queries); i++) {
		icmp6(pkt, v6_queries[i]);
		assert_int_equal(icmp_build_too_big(out, pkt, 80, 1280, NULL), 128);
	}
	/* An ICMP packet cut before its type byte counts as an error. */
	icmp4(pkt, 8);
	assert_int_equal(icmp_may_answer(pkt, 20), ICMP_ABOUT_ICMP_ERROR);
	icmp6(pkt, 128);
	assert_int_equal(icmp_may_answer(pkt, 40), ICMP_ABOUT_ICMP_ERROR);
}

/* 6. An ICMPv6 error behind extension headers is still found. */
static void test_v6_extension_headers(void **state)
{
	uint8_t pkt[96] = { 0 }, out[ICMP_ERROR_MAX];

	ip6_udp80(pkt);
	put_be16(pkt + 4, 56);
	pkt[6] = 0; /* hop-by-hop, 8 bytes */
	pkt[40] = 60; /* then destination options, 16 bytes */
	pkt[41] = 0;
	pkt[48] = 58; /* then ICMPv6 */
	pkt[49] = 1;
	memset(pkt + 50, 0, 14);
	pkt[64] = 1; /* destination unreachable: an error */
	assert_int_equal(icmp_may_answer(pkt, 96), ICMP_ABOUT_ICMP_ERROR);
	pkt[64] = 128; /* echo request: fine */
	assert_int_equal(icmp_build_too_big(out, pkt, 96, 1280, NULL), 144);
	assert_int_equal(v6_icmp_sum(out), 0xffff);
	/* Behind a first fragment header (hop-by-hop, fragment at 48,
	 * ICMPv6 at 56) the type is seen... */
	pkt[40] = 44;
	memset(pkt + 48, 0, 8);
	pkt[48] = 58;
	pkt[56] = 3;
	assert_int_equal(icmp_may_answer(pkt, 96), ICMP_ABOUT_ICMP_ERROR);
	/* ...a later fragment does not carry it: allowed, as Linux does. */
	put_be16(pkt + 50, 1280);
	assert_int_equal(icmp_may_answer(pkt, 96), ICMP_OK);
	/* A header running past the end is no ICMPv6 we can see either. */
	assert_int_equal(icmp_may_answer(pkt, 52), ICMP_OK);
}

/* 7. Multicast, broadcast, unspecified, loopback, class E; fragments. */
static void test_not_allowed_addresses(void **state)
{
	static const struct {
		int family;
		size_t off; /* address byte to change */
		uint8_t value;
		enum icmp_verdict why;
	} cases[] = {
		/* 1 */ { 4, 16, 224, ICMP_BAD_DESTINATION }, /* 224.64.0.2 multicast */
		/* 2 */ { 4, 16, 239, ICMP_BAD_DESTINATION },
		/* 3 */ { 4, 16, 255, ICMP_BAD_DESTINATION }, /* broadcast */
		/* 4 */ { 4, 12, 0, ICMP_BAD_SOURCE }, /* 0.64.0.1 "this network" */
		/* 5 */ { 4, 12, 127, ICMP_BAD_SOURCE }, /* loopback */
		/* 6 */ { 4, 12, 230, ICMP_BAD_SOURCE }, /* multicast source */
		/* 7 */ { 4, 12, 250, ICMP_BAD_SOURCE }, /* class E */
		/* 8 */ { 6, 24, 0xff, ICMP_BAD_DESTINATION }, /* ff00::/8 */
		/* 9 */ { 6, 8, 0xff, ICMP_BAD_SOURCE },
	};
	uint8_t pkt[80], out[ICMP_ERROR_MAX];
	enum icmp_verdict why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].family == 4 ? ip4_udp60(pkt) : ip6_udp80(pkt);

		pkt[cases[i].off] = cases[i].value;
		assert_int_equal(icmp_build_too_big(out, pkt, len, 1232, &why), 0);
		assert_int_equal(why, cases[i].why);
	}
	/* The unspecified and loopback IPv6 sources. */
	ip6_udp80(pkt);
	memset(pkt + 8, 0, 16);
	assert_int_equal(icmp_may_answer(pkt, 80), ICMP_BAD_SOURCE);
	pkt[23] = 1;
	assert_int_equal(icmp_may_answer(pkt, 80), ICMP_BAD_SOURCE);
	/* 0.0.0.0 */
	ip4_udp60(pkt);
	memset(pkt + 12, 0, 4);
	assert_int_equal(icmp_may_answer(pkt, 60), ICMP_BAD_SOURCE);
	/* An IPv4 fragment other than the first; the first is fine. */
	ip4_udp60(pkt);
	put_be16(pkt + 6, 0x2000); /* MF, offset 0 */
	assert_int_equal(icmp_may_answer(pkt, 60), ICMP_OK);
	put_be16(pkt + 6, 0x0010); /* offset 128 bytes */
	assert_int_equal(icmp_may_answer(pkt, 60), ICMP_FRAGMENT);
}

/* 8. Not IP at all, or cut short. */
static void test_malformed(void **state)
{
	uint8_t pkt[80] = { 0 }, out[ICMP_ERROR_MAX];

	assert_int_equal(icmp_may_answer(pkt, 0), ICMP_NOT_IP);
	ip4_udp60(pkt);
	assert_int_equal(icmp_may_answer(pkt, 19), ICMP_NOT_IP);
	pkt[0] = 0x4f; /* IHL 60 bytes, longer than the 40 given */
	assert_int_equal(icmp_may_answer(pkt, 40), ICMP_NOT_IP);
	pkt[0] = 0x44; /* IHL below 5 */
	assert_int_equal(icmp_may_answer(pkt, 60), ICMP_NOT_IP);
	ip6_udp80(pkt);
	assert_int_equal(icmp_may_answer(pkt, 39), ICMP_NOT_IP);
	pkt[0] = 0x50;
	assert_int_equal(icmp_build_too_big(out, pkt, 80, 1280, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_v4_frag_needed_exact),
		cmocka_unit_test(test_v6_packet_too_big_exact),
		cmocka_unit_test(test_quote_limits),
		cmocka_unit_test(test_not_about_icmp_errors),
		cmocka_unit_test(test_v6_extension_headers),
		cmocka_unit_test(test_not_allowed_addresses),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
