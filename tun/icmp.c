/*
 * Building ICMP "too big" errors about packets read from the TUN. The
 * eligibility rules follow what Linux's icmp_send / icmp6_send apply:
 * nothing about an ICMP error (an unknown ICMPv4 type counts as one, an
 * ICMPv6 type below 128 is one), nothing about a non-first IPv4 fragment,
 * nothing to an unspecified, loopback, multicast or class E source, nothing
 * about a packet sent to a multicast or broadcast address.
 */
#include "tun/icmp.h"

#include <string.h>

#include "common/bytes.h"
#include "common/checksum.h"

enum { IPPROTO_ICMP_ = 1, IPPROTO_ICMPV6_ = 58 };

/* ICMPv4 types that are not errors (RFC 792, RFC 950, RFC 1256). */
static bool icmp4_informational(uint8_t type)
{
	switch (type) {
	case 0: /* echo reply */
	case 8: /* echo */
	case 9: /* router advertisement */
	case 10: /* router solicitation */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request */
	case 18: /* address mask reply */
		return true;
	default:
		return false;
	}
}

static enum icmp_verdict may_answer_v4(const uint8_t *p, size_t len)
{
	size_t ihl;

	if (len < 20 || (p[0] & 0x0f) < 5)
		return ICMP_NOT_IP;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl > len)
		return ICMP_NOT_IP;
	/* 0/8 (this network), 127/8, 224/4 multicast and 240/4 (class E and
	 * the limited broadcast) define no single host. */
	if (p[12] == 0 || p[12] == 127 || p[12] >= 224)
		return ICMP_BAD_SOURCE;
	if (p[16] >= 224)
		return ICMP_BAD_DESTINATION;
	if (get_be16(p + 6) & 0x1fff)
		return ICMP_FRAGMENT;
	if (p[9] == IPPROTO_ICMP_ && (ihl >= len || !icmp4_informational(p[ihl])))
		return ICMP_ABOUT_ICMP_ERROR;
	return ICMP_OK;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* Walk the extension headers to the upper layer (as ipv6_skip_exthdr):
 * its protocol in *nh and offset in *off, or false if the upper layer is
 * not in this packet (a non-first fragment, ESP, no next header). */
static bool upper_layer_v6(const uint8_t *p, size_t len, uint8_t *nh, size_t *off)
{
	*nh = p[6];
	*off = 40;
	for (int i = 0; i < 16; i++) {
		size_t hlen;

		switch (*nh) {
		case 0: /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (*off + 8 > len)
				return false;
			hlen = ((size_t)p[*off + 1] + 1) * 8;
			break;
		case 51: /* authentication header */
			if (*off + 8 > len)
				return false;
			hlen = ((size_t)p[*off + 1] + 2) * 4;
			break;
		case 44: /* fragment */
			if (*off + 8 > len || (get_be16(p + *off + 2) & 0xfff8))
				return false;
			hlen = 8;
			break;
		default:
			return true;
		}
		*nh = p[*off];
		*off += hlen;
	}
	return false;
}

static enum icmp_verdict may_answer_v6(const uint8_t *p, size_t len)
{
	static const uint8_t loopback[16] = { [15] = 1 };
	uint8_t nh;
	size_t off;

	if (len < 40)
		return ICMP_NOT_IP;
	if (all_zero(p + 8, 16) || p[8] == 0xff || !memcmp(p + 8, loopback, 16))
		return ICMP_BAD_SOURCE;
	if (p[24] == 0xff)
		return ICMP_BAD_DESTINATION;
	/* As Linux: an ICMPv6 packet whose type is not in this packet is
	 * treated as an error, unless it is a non-first fragment. */
	if (upper_layer_v6(p, len, &nh, &off) && nh == IPPROTO_ICMPV6_ &&
	    (off >= len || p[off] < 128))
		return ICMP_ABOUT_ICMP_ERROR;
	return ICMP_OK;
}

enum icmp_verdict icmp_may_answer(const uint8_t *pkt, size_t len)
{
	if (len >= 1 && pkt[0] >> 4 == 4)
		return may_answer_v4(pkt, len);
	if (len >= 1 && pkt[0] >> 4 == 6)
		return may_answer_v6(pkt, len);
	return ICMP_NOT_IP;
}

static size_t build_v4(uint8_t *out, const uint8_t *pkt, size_t len, uint32_t mtu)
{
	size_t quote = len < ICMP4_ERROR_MAX - ICMP4_ERROR_HEADERS ?
			       len :
			       ICMP4_ERROR_MAX - ICMP4_ERROR_HEADERS;
	size_t total = ICMP4_ERROR_HEADERS + quote;
	uint8_t *icmp = out + 20;

	out[0] = 0x45;
	out[1] = 0xc0; /* precedence "internetwork control", as Linux sends errors */
	put_be16(out + 2, (uint16_t)total);
	put_be16(out + 4, 0); /* identification: an atomic datagram (RFC 6864) */
	put_be16(out + 6, 0x4000); /* DF */
	out[8] = 64; /* TTL */
	out[9] = IPPROTO_ICMP_;
	put_be16(out + 10, 0);
	memcpy(out + 12, pkt + 16, 4); /* from the packet's destination */
	memcpy(out + 16, pkt + 12, 4); /* to its source */
	put_be16(out + 10, checksum_finish(checksum_add(0, out, 20)));

	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	put_be16(icmp + 2, 0);
	put_be16(icmp + 4, 0); /* unused */
	put_be16(icmp + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu)); /* next-hop MTU (RFC 1191) */
	memcpy(icmp + 8, pkt, quote);
	put_be16(icmp + 2, checksum_finish(checksum_add(0, icmp, 8 + quote)));
	return total;
}

static size_t build_v6(uint8_t *out, const uint8_t *pkt, size_t len, uint32_t mtu)
{
	size_t quote = len < ICMP6_ERROR_MAX - ICMP6_ERROR_HEADERS ?
			       len :
			       ICMP6_ERROR_MAX - ICMP6_ERROR_HEADERS;
	size_t plen = 8 + quote;
	uint8_t *icmp = out + 40;
	uint32_t sum;

	put_be32(out, 0x60000000); /* version 6, traffic class 0, flow label 0 */
	put_be16(out + 4, (uint16_t)plen);
	out[6] = IPPROTO_ICMPV6_;
	out[7] = 64; /* hop limit */
	memcpy(out + 8, pkt + 24, 16); /* from the packet's destination */
	memcpy(out + 24, pkt + 8, 16); /* to its source */

	icmp[0] = 2; /* packet too big */
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be32(icmp + 4, mtu);
	memcpy(icmp + 8, pkt, quote);
	sum = checksum_ipv6_pseudo(out + 8, out + 24, (uint32_t)plen, IPPROTO_ICMPV6_);
	put_be16(icmp + 2, checksum_finish(checksum_add(sum, icmp, plen)));
	return 40 + plen;
}

size_t icmp_build_too_big(uint8_t *out, const uint8_t *pkt, size_t len, uint32_t mtu,
			  enum icmp_verdict *why)
{
	enum icmp_verdict v = icmp_may_answer(pkt, len);

	if (why)
		*why = v;
	if (v != ICMP_OK)
		return 0;
	return pkt[0] >> 4 == 4 ? build_v4(out, pkt, len, mtu) : build_v6(out, pkt, len, mtu);
}
