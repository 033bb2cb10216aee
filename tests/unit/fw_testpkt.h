/* Packets for the firewall tests, written out field by field from the
 * RFCs (not with the code under test). Header-only: each test file that
 * includes it gets its own static copies. */
#ifndef MANTA_TESTS_FW_TESTPKT_H
#define MANTA_TESTS_FW_TESTPKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { TP_TCP = 6, TP_UDP = 17, TP_ICMP4 = 1, TP_ICMP6 = 58 };

struct tp {
	int family; /* 4 or 6 */
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* TCP/UDP; for echo, sport is the identifier */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	size_t payload;
	uint16_t frag_off; /* in 8-byte units */
	int more_frags;
	uint32_t frag_id;
};

static inline void tp_be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tp_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 1071, the slow obvious way. */
static inline uint16_t tp_sum(const uint8_t *a, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += i % 2 ? a[i] : (uint32_t)a[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The transport checksum over the pseudo-header: 0xffff when correct. */
static inline uint16_t tp_l4_sum(int family, const uint8_t *ip, const uint8_t *l4, size_t len,
				 uint8_t proto)
{
	uint8_t ph[40];
	size_t alen = family == 4 ? 4 : 16, n = 0;

	memcpy(ph, ip + (family == 4 ? 12 : 8), alen);
	memcpy(ph + alen, ip + (family == 4 ? 16 : 24), alen);
	n = 2 * alen;
	if (family == 4) {
		ph[n++] = 0;
		ph[n++] = proto;
		tp_be16(ph + n, (unsigned)len);
		n += 2;
	} else {
		tp_be32(ph + n, (uint32_t)len);
		n += 4;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = 0;
		ph[n++] = proto;
	}
	return tp_sum(l4, len, tp_sum(ph, n, 0));
}

static inline size_t tp_l4(const struct tp *t, uint8_t *h)
{
	size_t n;

	if (t->proto == TP_TCP) {
		memset(h, 0, 20);
		tp_be16(h, t->sport);
		tp_be16(h + 2, t->dport);
		tp_be32(h + 4, 1000);
		tp_be32(h + 8, 2000);
		h[12] = 5 << 4;
		h[13] = t->tcp_flags;
		n = 20;
	} else if (t->proto == TP_UDP) {
		memset(h, 0, 8);
		tp_be16(h, t->sport);
		tp_be16(h + 2, t->dport);
		tp_be16(h + 4, (unsigned)(8 + t->payload));
		n = 8;
	} else if (t->proto == TP_ICMP4 || t->proto == TP_ICMP6) {
		memset(h, 0, 8);
		h[0] = t->icmp_type;
		h[1] = t->icmp_code;
		tp_be16(h + 4, t->sport);
		n = 8;
	} else {
		n = 0;
	}
	memset(h + n, 0xa5, t->payload);
	return n + t->payload;
}

/* The whole packet into out; returns its length. */
static inline size_t tp_build(const struct tp *t, uint8_t *out)
{
	size_t hl = t->family == 4 ? 20 : 40, l4len, total;
	int frag6 = t->family == 6 && (t->frag_off || t->more_frags);
	uint8_t *l4;

	if (frag6)
		hl += 8;
	l4 = out + hl;
	l4len = t->frag_off ? t->payload : tp_l4(t, l4);
	if (t->frag_off)
		memset(l4, 0x5a, l4len);
	total = hl + l4len;
	if (t->family == 4) {
		memset(out, 0, 20);
		out[0] = 0x45;
		tp_be16(out + 2, (unsigned)total);
		tp_be16(out + 4, t->frag_id & 0xffff);
		tp_be16(out + 6, (t->more_frags ? 0x2000u : 0) | t->frag_off);
		out[8] = 64;
		out[9] = t->proto;
		memcpy(out + 12, t->src, 4);
		memcpy(out + 16, t->dst, 4);
		tp_be16(out + 10, (uint16_t)~tp_sum(out, 20, 0));
	} else {
		memset(out, 0, 40);
		out[0] = 0x60;
		tp_be16(out + 4, (unsigned)(total - 40));
		out[6] = frag6 ? 44 : t->proto;
		out[7] = 64;
		memcpy(out + 8, t->src, 16);
		memcpy(out + 24, t->dst, 16);
		if (frag6) {
			uint8_t *f = out + 40;

			memset(f, 0, 8);
			f[0] = t->proto;
			tp_be16(f + 2, (unsigned)(t->frag_off << 3 | (t->more_frags ? 1 : 0)));
			tp_be32(f + 4, t->frag_id);
		}
	}
	return total;
}

#endif
