/* firewall/packet.c and firewall/reject.c: header parsing (IPv6
 * extension headers, fragments, ICMP errors and what they quote, every
 * truncation), and the reject replies with their checksums verified by
 * an independent RFC 1071 sum. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "firewall/packet.h"
#include "firewall/reject.h"
#include "firewall/rule.h"
#include "fw_testpkt.h"

static const uint8_t a6[16] = { 2, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t b6[16] = { 2, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t a4[4] = { 100, 64, 1, 1 }, b4[4] = { 100, 64, 2, 2 };

static struct tp mk(int family, uint8_t proto)
{
	struct tp t = { .family = family, .proto = proto, .sport = 1234, .dport = 22 };

	memcpy(t.src, family == 4 ? a4 : a6, family == 4 ? 4 : 16);
	memcpy(t.dst, family == 4 ? b4 : b6, family == 4 ? 4 : 16);
	return t;
}

/* 1. TCP, UDP and echo in both families; every cut is refused. */
static void test_parse_basic(void **state)
{
	static const uint8_t protos[] = { TP_TCP, TP_UDP, 0 };
	uint8_t buf[256];
	struct fw_packet p;

	for (int fam = 4; fam <= 6; fam += 2) {
		for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
			struct tp t =
				mk(fam, protos[i] ? protos[i] : (fam == 4 ? TP_ICMP4 : TP_ICMP6));
			size_t len;

			t.icmp_type = fam == 4 ? 8 : 128;
			t.tcp_flags = FW_TCP_SYN;
			len = tp_build(&t, buf);
			assert_true(fw_packet_parse(buf, len, &p));
			assert_int_equal(p.t.family, fam);
			assert_int_equal(p.t.proto, t.proto);
			assert_memory_equal(p.t.src, t.src, fam == 4 ? 4 : 16);
			if (protos[i]) {
				assert_int_equal(p.kind,
						 protos[i] == TP_TCP ? FW_KIND_TCP : FW_KIND_UDP);
				assert_int_equal(p.t.sport, 1234);
				assert_int_equal(p.t.dport, 22);
			} else {
				assert_int_equal(p.kind, FW_KIND_ECHO_REQUEST);
				assert_int_equal(p.t.sport, 1234); /* the identifier */
				assert_int_equal(fw_packet_proto_class(&p), FW_PROTO_ICMP);
			}
			/* every shorter packet (the header's length kept) is refused */
			for (size_t n = 0; n < len; n++)
				assert_false(fw_packet_parse(buf, n, &p));
		}
	}
	buf[0] = 0x50;
	assert_false(fw_packet_parse(buf, 60, &p));
}

/* 2. IPv6 extension headers are walked; fragments are told apart. */
static void test_parse_ext_and_fragments(void **state)
{
	uint8_t buf[256], pkt[256];
	struct fw_packet p;
	struct tp t = mk(6, TP_UDP);
	size_t len = tp_build(&t, pkt);

	/* hop-by-hop (8 bytes) and destination options (16 bytes) */
	memcpy(buf, pkt, 40);
	buf[6] = 0;
	memset(buf + 40, 0, 24);
	buf[40] = 60;
	buf[48] = TP_UDP;
	buf[49] = 1;
	memcpy(buf + 64, pkt + 40, len - 40);
	tp_be16(buf + 4, (unsigned)(len - 40 + 24));
	assert_true(fw_packet_parse(buf, len + 24, &p));
	assert_int_equal(p.kind, FW_KIND_UDP);
	assert_int_equal(p.t.dport, 22);
	/* the chain running past the packet */
	buf[49] = 200;
	assert_false(fw_packet_parse(buf, len + 24, &p));

	/* a first and a later fragment, IPv4 and IPv6 */
	for (int fam = 4; fam <= 6; fam += 2) {
		t = mk(fam, TP_TCP);
		t.more_frags = 1;
		t.frag_id = 0x1234;
		assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
		assert_true(p.fragment && p.first_fragment);
		assert_int_equal(p.kind, FW_KIND_TCP);
		assert_int_equal(p.frag_id, 0x1234);
		t.frag_off = 10;
		t.payload = 24;
		assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
		assert_true(p.fragment && !p.first_fragment);
		assert_int_equal(p.kind, FW_KIND_OTHER);
		assert_false(fw_packet_has_ports(&p));
		assert_int_equal(fw_packet_proto_class(&p), FW_PROTO_TCP);
	}
}

/* 3. An ICMP error carries the tuple of the packet it quotes. */
static void test_parse_icmp_error(void **state)
{
	uint8_t buf[256], q[128];
	struct fw_packet p;

	for (int fam = 4; fam <= 6; fam += 2) {
		struct tp inner = mk(fam, TP_UDP), outer = mk(fam, fam == 4 ? TP_ICMP4 : TP_ICMP6);
		size_t hl = fam == 4 ? 28 : 48, qlen = tp_build(&inner, q);

		outer.icmp_type = fam == 4 ? 3 : 1;
		outer.payload = qlen;
		tp_build(&outer, buf);
		memcpy(buf + hl, q, qlen);
		assert_true(fw_packet_parse(buf, hl + qlen, &p));
		assert_int_equal(p.kind, FW_KIND_ICMP_ERROR);
		assert_true(p.inner_ok);
		assert_int_equal(p.inner.proto, TP_UDP);
		assert_int_equal(p.inner.sport, 1234);
		assert_int_equal(p.inner.dport, 22);
		assert_memory_equal(p.inner.src, inner.src, fam == 4 ? 4 : 16);
		/* a quote too short to hold the ports */
		outer.payload = (fam == 4 ? 20 : 40) + 2;
		tp_build(&outer, buf);
		memcpy(buf + hl, q, outer.payload);
		assert_true(fw_packet_parse(buf, hl + outer.payload, &p));
		assert_int_equal(p.kind, FW_KIND_ICMP_ERROR);
		assert_false(p.inner_ok);
	}
}

static void check_ip_and_l4(const uint8_t *r, size_t n, int family, uint8_t proto)
{
	size_t hl = family == 4 ? 20 : 40;

	if (family == 4) {
		assert_int_equal(tp_sum(r, 20, 0), 0xffff); /* header checksum */
		assert_int_equal(r[0], 0x45);
		assert_int_equal(r[2] << 8 | r[3], n);
		assert_memory_equal(r + 12, b4, 4);
		assert_memory_equal(r + 16, a4, 4);
	} else {
		assert_int_equal(r[0] >> 4, 6);
		assert_int_equal(r[4] << 8 | r[5], n - 40);
		assert_memory_equal(r + 8, b6, 16);
		assert_memory_equal(r + 24, a6, 16);
	}
	if (proto == TP_ICMP4)
		assert_int_equal(tp_sum(r + hl, n - hl, 0), 0xffff);
	else
		assert_int_equal(tp_l4_sum(family, r, r + hl, n - hl, proto), 0xffff);
}

/* 4. A RST answers a SYN (RST+ACK, ack = seq + 1) and an ACK (RST, seq =
 * its ack); never a RST. */
static void test_reject_tcp(void **state)
{
	uint8_t buf[256], out[FW_REJECT_MAX];
	struct fw_packet p;

	for (int fam = 4; fam <= 6; fam += 2) {
		struct tp t = mk(fam, TP_TCP);
		size_t hl = fam == 4 ? 20 : 40, n;
		const uint8_t *tcp = out + hl;

		t.tcp_flags = FW_TCP_SYN;
		assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
		n = fw_reject_build(buf, 0, &p, out, sizeof(out));
		assert_int_equal(n, hl + 20);
		check_ip_and_l4(out, n, fam, TP_TCP);
		assert_int_equal(tcp[0] << 8 | tcp[1], 22);
		assert_int_equal(tcp[2] << 8 | tcp[3], 1234);
		assert_int_equal(tcp[13], FW_TCP_RST | FW_TCP_ACK);
		assert_int_equal(tcp[11], 1001 & 0xff); /* seq 1000 + SYN */
		t.tcp_flags = FW_TCP_ACK;
		t.payload = 10;
		assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
		n = fw_reject_build(buf, 0, &p, out, sizeof(out));
		check_ip_and_l4(out, n, fam, TP_TCP);
		assert_int_equal(tcp[13], FW_TCP_RST);
		assert_int_equal(tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7], 2000);
		t.tcp_flags = FW_TCP_RST;
		assert_true(fw_packet_parse(buf, tp_build(&t, buf), &p));
		assert_int_equal(fw_reject_build(buf, 0, &p, out, sizeof(out)), 0);
	}
}

/* 5. Anything else gets an unreachable quoting the packet, within 576
 * bytes (IPv4) or 1280 (IPv6); no reply to an ICMP error, a later
 * fragment or a multicast address. */
static void test_reject_unreachable(void **state)
{
	uint8_t buf[1400], out[FW_REJECT_MAX];
	struct fw_packet p;

	for (int fam = 4; fam <= 6; fam += 2) {
		struct tp t = mk(fam, TP_UDP);
		size_t hl = fam == 4 ? 20 : 40, len, n;

		t.payload = 1300;
		len = tp_build(&t, buf);
		assert_true(fw_packet_parse(buf, len, &p));
		n = fw_reject_build(buf, len, &p, out, sizeof(out));
		assert_int_equal(n, fam == 4 ? 576 : 1280);
		check_ip_and_l4(out, n, fam, fam == 4 ? TP_ICMP4 : TP_ICMP6);
		assert_int_equal(out[hl], fam == 4 ? 3 : 1);
		assert_int_equal(out[hl + 1], fam == 4 ? 13 : 1);
		assert_memory_equal(out + hl + 8, buf, n - hl - 8);
		t.payload = 4;
		len = tp_build(&t, buf);
		assert_true(fw_packet_parse(buf, len, &p));
		n = fw_reject_build(buf, len, &p, out, sizeof(out));
		assert_int_equal(n, hl + 8 + len);
		check_ip_and_l4(out, n, fam, fam == 4 ? TP_ICMP4 : TP_ICMP6);
		/* an ICMP error gets nothing */
		t = mk(fam, fam == 4 ? TP_ICMP4 : TP_ICMP6);
		t.icmp_type = fam == 4 ? 3 : 1;
		len = tp_build(&t, buf);
		assert_true(fw_packet_parse(buf, len, &p));
		assert_int_equal(fw_reject_build(buf, len, &p, out, sizeof(out)), 0);
		/* nor a later fragment */
		t = mk(fam, TP_UDP);
		t.frag_off = 8;
		t.payload = 16;
		len = tp_build(&t, buf);
		assert_true(fw_packet_parse(buf, len, &p));
		assert_int_equal(fw_reject_build(buf, len, &p, out, sizeof(out)), 0);
		/* nor a packet to a multicast address */
		t = mk(fam, TP_UDP);
		t.dst[0] = fam == 4 ? 239 : 0xff;
		len = tp_build(&t, buf);
		assert_true(fw_packet_parse(buf, len, &p));
		assert_int_equal(fw_reject_build(buf, len, &p, out, sizeof(out)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_ext_and_fragments),
		cmocka_unit_test(test_parse_icmp_error),
		cmocka_unit_test(test_reject_tcp),
		cmocka_unit_test(test_reject_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
