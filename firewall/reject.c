/*
 * TCP RST and ICMP / ICMPv6 unreachable builders for reject mode. The
 * checksums come from common/checksum.h (shared with tun/icmp.c); only the
 * IPv4 pseudo-header, which nothing else needs, is summed here.
 */
#include "firewall/reject.h"

#include <string.h>

#include "common/bytes.h"
#include "common/checksum.h"
#include "common/util.h"

#define TTL 64
#define V4_HDR 20
#define V6_HDR 40
#define TCP_HDR 20
#define ICMP_HDR 8
#define V4_REPLY_MAX 576

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The pseudo-header of RFC 793 (IPv4) or RFC 8200 §8.1 (IPv6). */
static uint32_t pseudo(uint8_t family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		       size_t len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(len >> 8), (uint8_t)len };

	if (family == 6)
		return checksum_ipv6_pseudo(src, dst, (uint32_t)len, proto);
	return checksum_add(checksum_add(checksum_add(0, src, 4), dst, 4), tail, sizeof(tail));
}

static bool special(uint8_t family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == 4)
		return a[0] >= 224 || memcmp(a, zero, 4) == 0;
	return a[0] == 0xff || memcmp(a, zero, 16) == 0;
}

static bool icmp_error(const struct fw_packet *p)
{
	if (p->kind == FW_KIND_ICMP_ERROR)
		return true;
	if (p->kind != FW_KIND_ICMP_OTHER)
		return false;
	if (p->t.family == 6)
		return p->icmp_type < 128;
	return p->icmp_type == 4 || p->icmp_type == 5;
}

/* The IP header of a reply of payload_len bytes, from p's destination to
 * its source; returns its length. */
static size_t put_ip(const struct fw_packet *p, uint8_t proto, size_t payload_len, uint8_t *out)
{
	if (p->t.family == 4) {
		memset(out, 0, V4_HDR);
		out[0] = 0x45;
		put_be16(out + 2, (uint16_t)(V4_HDR + payload_len));
		put_be16(out + 6, 0x4000); /* DF */
		out[8] = TTL;
		out[9] = proto;
		memcpy(out + 12, p->t.dst, 4);
		memcpy(out + 16, p->t.src, 4);
		put_be16(out + 10, checksum_finish(checksum_add(0, out, V4_HDR)));
		return V4_HDR;
	}
	memset(out, 0, V6_HDR);
	out[0] = 0x60;
	put_be16(out + 4, (uint16_t)payload_len);
	out[6] = proto;
	out[7] = TTL;
	memcpy(out + 8, p->t.dst, 16);
	memcpy(out + 24, p->t.src, 16);
	return V6_HDR;
}

static size_t build_rst(const uint8_t *ip, const struct fw_packet *p, uint8_t *out)
{
	const uint8_t *h = ip + p->l4_off;
	uint8_t flags = h[13], *t;
	size_t hl = put_ip(p, FW_IPPROTO_TCP, TCP_HDR, out);
	uint32_t seg_len = (uint32_t)(p->l4_len - (size_t)(h[12] >> 4) * 4);

	if (flags & FW_TCP_RST)
		return 0;
	seg_len += !!(flags & FW_TCP_SYN) + !!(flags & FW_TCP_FIN);
	t = out + hl;
	memset(t, 0, TCP_HDR);
	put_be16(t, p->t.dport);
	put_be16(t + 2, p->t.sport);
	if (flags & FW_TCP_ACK) {
		put_be32(t + 4, load_be32(h + 8));
		t[13] = FW_TCP_RST;
	} else {
		put_be32(t + 8, load_be32(h + 4) + seg_len);
		t[13] = FW_TCP_RST | FW_TCP_ACK;
	}
	t[12] = (TCP_HDR / 4) << 4;
	put_be16(t + 16, checksum_finish(checksum_add(pseudo(p->t.family, p->t.dst, p->t.src,
							     FW_IPPROTO_TCP, TCP_HDR),
						      t, TCP_HDR)));
	return hl + TCP_HDR;
}

static size_t build_unreachable(const uint8_t *ip, size_t len, const struct fw_packet *p,
				uint8_t *out, size_t cap)
{
	bool v4 = p->t.family == 4;
	size_t max = MIN(cap, v4 ? (size_t)V4_REPLY_MAX : (size_t)FW_REJECT_MAX);
	size_t hl = v4 ? V4_HDR : V6_HDR;
	size_t quote = MIN(len, max - hl - ICMP_HDR);
	uint8_t *icmp = out + hl;
	uint32_t sum;

	put_ip(p, v4 ? FW_IPPROTO_ICMP : FW_IPPROTO_ICMPV6, ICMP_HDR + quote, out);
	memset(icmp, 0, ICMP_HDR);
	icmp[0] = v4 ? 3 : 1;
	icmp[1] = v4 ? 13 : 1;
	memcpy(icmp + ICMP_HDR, ip, quote);
	sum = v4 ? 0 : pseudo(6, p->t.dst, p->t.src, FW_IPPROTO_ICMPV6, ICMP_HDR + quote);
	put_be16(icmp + 2, checksum_finish(checksum_add(sum, icmp, ICMP_HDR + quote)));
	return hl + ICMP_HDR + quote;
}

size_t fw_reject_build(const uint8_t *ip, size_t len, const struct fw_packet *p, uint8_t *out,
		       size_t cap)
{
	if (cap < FW_REJECT_MAX || (p->fragment && !p->first_fragment) || icmp_error(p) ||
	    special(p->t.family, p->t.src) || special(p->t.family, p->t.dst))
		return 0;
	if (p->kind == FW_KIND_TCP)
		return build_rst(ip, p, out);
	return build_unreachable(ip, len, p, out, cap);
}
