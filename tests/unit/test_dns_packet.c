/* The resolver's packets on the TUN (dns/packet.c): which packets are the
 * resolver's, UDP answers built with valid checksums, and the TCP
 * reflection's incremental checksum checked against a naive full
 * recomputation over random segments (a differential test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"
#include "dns/packet.h"

static const uint8_t client4[4] = { 100, 77, 1, 2 };
static const uint8_t client6[16] = { 0x02, 0x11, 0x22, [15] = 9 };

/* The naive reference: the full one's-complement sum over pseudo-header
 * and transport part; a valid packet sums to 0xffff. */
static uint16_t naive_sum(const uint8_t *pkt, size_t len)
{
	int v6 = pkt[0] >> 4 == 6;
	size_t ip = v6 ? 40 : (size_t)(pkt[0] & 15) * 4, alen = v6 ? 16 : 4;
	size_t l4 = len - ip;
	uint32_t sum = 0;

	for (size_t i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)(pkt[(v6 ? 8 : 12) + i] << 8 | pkt[(v6 ? 8 : 12) + i + 1]);
	sum += (v6 ? pkt[6] : pkt[9]) + (uint32_t)l4;
	for (size_t i = 0; i + 1 < l4; i += 2)
		sum += (uint32_t)(pkt[ip + i] << 8 | pkt[ip + i + 1]);
	if (l4 % 2)
		sum += (uint32_t)pkt[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t make_ip(int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		      const uint8_t *l4, size_t l4len, uint8_t *out)
{
	size_t ip = family == AF_INET ? 20 : 40;

	memset(out, 0, ip);
	if (family == AF_INET) {
		out[0] = 0x45;
		put_be16(out + 2, (uint16_t)(ip + l4len));
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		put_be16(out + 10, (uint16_t)~dns_csum_fold(dns_csum_add(0, out, 20)));
	} else {
		out[0] = 0x60;
		put_be16(out + 4, (uint16_t)l4len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, src, 16);
		memcpy(out + 24, dst, 16);
	}
	memcpy(out + ip, l4, l4len);
	return ip + l4len;
}

/* 1-8: what belongs to the resolver */
static void test_classify(void **state)
{
	uint8_t udp[8 + 5] = { 0x30, 0x39, 0, 53, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o' };
	uint8_t pkt[128], other[4] = { 100, 64, 0, 1 };
	struct dns_flow f;
	size_t len;

	len = make_ip(AF_INET, IPPROTO_UDP, client4, dns_resolver_v4, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_UDP); /* 1 */
	assert_int_equal(f.family, AF_INET);
	assert_int_equal(f.client_port, 12345);
	assert_int_equal(f.payload_len, 5);
	assert_memory_equal(f.payload, "hello", 5);
	assert_memory_equal(f.client, client4, 4);
	assert_int_equal(dns_packet_classify(pkt, len - 1, &f), DNS_PKT_DROP); /* 2: short */
	pkt[6] = 0x20; /* 3: a fragment */
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_DROP);
	len = make_ip(AF_INET, IPPROTO_UDP, client4, other, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_OTHER); /* 4 */
	len = make_ip(AF_INET, IPPROTO_ICMP, client4, dns_resolver_v4, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_DROP); /* 5 */
	udp[3] = 54; /* 6: another port */
	len = make_ip(AF_INET6, IPPROTO_UDP, client6, dns_resolver_v6, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_DROP);
	udp[3] = 53;
	len = make_ip(AF_INET6, IPPROTO_UDP, client6, dns_resolver_v6, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_UDP); /* 7 */
	assert_memory_equal(f.client, client6, 16);
	udp[5] = 200; /* 8: a UDP length past the end */
	len = make_ip(AF_INET6, IPPROTO_UDP, client6, dns_resolver_v6, udp, sizeof(udp), pkt);
	assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_DROP);
	assert_int_equal(dns_packet_classify(pkt, 0, &f), DNS_PKT_OTHER);
}

/* 9-10: answers with valid IPv4 header and UDP checksums */
static void test_build(void **state)
{
	uint8_t out[DNS_IP_PACKET_MAX], payload[1001];
	struct dns_flow f = { .family = AF_INET, .client_port = 4242 };
	size_t len;

	randombytes_buf(payload, sizeof(payload));
	memcpy(f.client, client4, 4);
	memcpy(f.resolver, dns_resolver_v4, 4);
	len = dns_packet_build_udp(&f, payload, sizeof(payload), out, sizeof(out));
	assert_int_equal(len, 20 + 8 + sizeof(payload));
	assert_int_equal(dns_csum_fold(dns_csum_add(0, out, 20)), 0xffff);
	assert_int_equal(naive_sum(out, len), 0xffff);
	assert_int_equal(get_be16(out + 20), 53);
	assert_int_equal(get_be16(out + 22), 4242);
	assert_memory_equal(out + 16, client4, 4);
	f.family = AF_INET6;
	memcpy(f.client, client6, 16);
	memcpy(f.resolver, dns_resolver_v6, 16);
	len = dns_packet_build_udp(&f, payload, 1000, out, sizeof(out));
	assert_int_equal(len, 40 + 8 + 1000);
	assert_int_equal(naive_sum(out, len), 0xffff);
	assert_int_equal(dns_packet_build_udp(&f, payload, 1000, out, 1047), 0);
}

/* A TCP segment with a valid checksum (computed the naive way). */
static size_t make_tcp(int family, const uint8_t *src, const uint8_t *dst, uint16_t sport,
		       uint16_t dport, size_t datalen, uint8_t *out)
{
	uint8_t seg[20 + 64];
	size_t len;

	randombytes_buf(seg, sizeof(seg));
	put_be16(seg, sport);
	put_be16(seg + 2, dport);
	seg[12] = 0x50;
	seg[16] = seg[17] = 0;
	len = make_ip(family, IPPROTO_TCP, src, dst, seg, 20 + datalen, out);
	put_be16(out + (family == AF_INET ? 20 : 40) + 16, (uint16_t)~naive_sum(out, len));
	return len;
}

/* 11: random segments, both directions, both families: the reflected
 * packet's checksum is what a full recomputation gives. */
static void test_reflect_differential(void **state)
{
	for (int i = 0; i < 2000; i++) {
		int fam = i % 2 ? AF_INET6 : AF_INET;
		const uint8_t *c = fam == AF_INET ? client4 : client6;
		const uint8_t *r = fam == AF_INET ? dns_resolver_v4 : dns_resolver_v6;
		uint16_t lport = (uint16_t)(1024 + randombytes_uniform(60000));
		uint16_t cport = (uint16_t)(1024 + randombytes_uniform(60000));
		uint8_t pkt[128];
		struct dns_flow f;
		size_t len, ip = fam == AF_INET ? 20 : 40;

		if (cport == lport)
			continue;
		/* client -> resolver:53 becomes resolver:P -> client:L */
		len = make_tcp(fam, c, r, cport, 53, randombytes_uniform(64), pkt);
		assert_int_equal(dns_packet_classify(pkt, len, &f), DNS_PKT_TCP);
		assert_true(dns_packet_reflect_tcp(pkt, len, lport));
		assert_int_equal(naive_sum(pkt, len), 0xffff);
		assert_memory_equal(pkt + (fam == AF_INET ? 12 : 8), r, fam == AF_INET ? 4 : 16);
		assert_int_equal(get_be16(pkt + ip), cport);
		assert_int_equal(get_be16(pkt + ip + 2), lport);
		if (fam == AF_INET)
			assert_int_equal(dns_csum_fold(dns_csum_add(0, pkt, 20)), 0xffff);
		/* listener client:L -> resolver:P becomes resolver:53 -> client:P */
		len = make_tcp(fam, c, r, lport, cport, randombytes_uniform(64), pkt);
		assert_true(dns_packet_reflect_tcp(pkt, len, lport));
		assert_int_equal(naive_sum(pkt, len), 0xffff);
		assert_int_equal(get_be16(pkt + ip), 53);
		assert_int_equal(get_be16(pkt + ip + 2), cport);
		assert_memory_equal(pkt + (fam == AF_INET ? 16 : 24), c, fam == AF_INET ? 4 : 16);
	}
}

/* 12: segments of neither direction are refused */
static void test_reflect_refused(void **state)
{
	uint8_t pkt[128];
	size_t len = make_tcp(AF_INET, client4, dns_resolver_v4, 53, 53, 0, pkt);

	assert_false(dns_packet_reflect_tcp(pkt, len, 40000)); /* from port 53 */
	len = make_tcp(AF_INET, client4, dns_resolver_v4, 1234, 80, 0, pkt);
	assert_false(dns_packet_reflect_tcp(pkt, len, 40000));
	len = make_tcp(AF_INET, client4, dns_resolver_v4, 1234, 53, 0, pkt);
	assert_false(dns_packet_reflect_tcp(pkt, len, 0));
	assert_false(dns_packet_reflect_tcp(pkt, 30, 40000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_reflect_differential),
		cmocka_unit_test(test_reflect_refused),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
