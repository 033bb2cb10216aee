/*
 * IP header parsing for the firewall. IPv6 extension headers are walked
 * (hop-by-hop, routing, destination options, fragment, AH) up to
 * EXT_MAX of them; a chain longer than that, or one that runs past the
 * packet, is malformed. A later fragment has no transport header: it is
 * FW_KIND_OTHER with fragment set, and firewall.c decides it by the first.
 */
#include "firewall/packet.h"

#include <string.h>

#include "common/bytes.h"
#include "firewall/rule.h"

#define EXT_MAX 8
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_AH 51
#define NH_DSTOPTS 60

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint8_t fw_packet_proto_class(const struct fw_packet *p)
{
	switch (p->t.proto) {
	case FW_IPPROTO_TCP:
		return FW_PROTO_TCP;
	case FW_IPPROTO_UDP:
		return FW_PROTO_UDP;
	case FW_IPPROTO_ICMP:
		return p->t.family == 4 ? FW_PROTO_ICMP : FW_PROTO_ANY;
	case FW_IPPROTO_ICMPV6:
		return p->t.family == 6 ? FW_PROTO_ICMP : FW_PROTO_ANY;
	default:
		return FW_PROTO_ANY; /* matches only rules for any protocol */
	}
}

static bool is_icmp(uint8_t family, uint8_t proto)
{
	return (family == 4 && proto == FW_IPPROTO_ICMP) ||
	       (family == 6 && proto == FW_IPPROTO_ICMPV6);
}

/* IPv6 extension headers from *off within total bytes; sets *nh to the
 * upper-layer protocol. Fills the fragment fields of p if p is not NULL.
 * False if the chain is malformed. *later is set for a non-first
 * fragment (no upper-layer header follows). */
static bool walk_ext(const uint8_t *ip, size_t total, size_t *off, uint8_t *nh, struct fw_packet *p,
		     bool *later)
{
	*later = false;
	for (int n = 0; n < EXT_MAX; n++) {
		const uint8_t *h = ip + *off;
		size_t hlen;

		if (*nh != NH_HOPOPTS && *nh != NH_ROUTING && *nh != NH_FRAGMENT && *nh != NH_AH &&
		    *nh != NH_DSTOPTS)
			return true;
		if (total - *off < 8)
			return false;
		if (*nh == NH_FRAGMENT) {
			uint16_t fo = get_be16(h + 2);

			if (p) {
				p->fragment = true;
				p->first_fragment = (fo >> 3) == 0;
				p->frag_id = load_be32(h + 4);
			}
			*nh = h[0];
			*off += 8;
			if (fo >> 3) {
				*later = true;
				return true;
			}
			continue;
		}
		hlen = *nh == NH_AH ? ((size_t)h[1] + 2) * 4 : ((size_t)h[1] + 1) * 8;
		if (total - *off < hlen)
			return false;
		*nh = h[0];
		*off += hlen;
	}
	return false;
}

/* The transport ports (or echo identifier) of proto at l4, if present. */
static bool ports_of(uint8_t family, uint8_t proto, const uint8_t *l4, size_t len,
		     struct fw_tuple *t)
{
	if (proto == FW_IPPROTO_TCP || proto == FW_IPPROTO_UDP) {
		if (len < 4)
			return false;
		t->sport = get_be16(l4);
		t->dport = get_be16(l4 + 2);
		return true;
	}
	if (is_icmp(family, proto)) {
		uint8_t type = len >= 1 ? l4[0] : 0;
		bool echo = family == 4 ? (type == 8 || type == 0) : (type == 128 || type == 129);

		if (!echo || len < 6)
			return false;
		t->sport = t->dport = get_be16(l4 + 4);
		return true;
	}
	return false;
}

/* The packet an ICMP error quotes (at q, qlen bytes): its tuple as it was
 * sent. False when too little of it is quoted. */
static bool parse_inner(uint8_t family, const uint8_t *q, size_t qlen, struct fw_tuple *t)
{
	size_t off;
	uint8_t nh;
	bool later;

	memset(t, 0, sizeof(*t));
	t->family = family;
	if (family == 4) {
		if (qlen < 20 || q[0] >> 4 != 4 || (q[0] & 0x0f) < 5 ||
		    (size_t)(q[0] & 0x0f) * 4 > qlen)
			return false;
		off = (size_t)(q[0] & 0x0f) * 4;
		t->proto = q[9];
		t->src = q + 12;
		t->dst = q + 16;
		if (get_be16(q + 6) & 0x1fff)
			return false;
	} else {
		if (qlen < 40 || q[0] >> 4 != 6)
			return false;
		off = 40;
		nh = q[6];
		if (!walk_ext(q, qlen, &off, &nh, NULL, &later) || later)
			return false;
		t->proto = nh;
		t->src = q + 8;
		t->dst = q + 24;
	}
	return ports_of(family, t->proto, q + off, qlen - off, t);
}

static bool icmp_error_type(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

static bool parse_icmp(const uint8_t *h, size_t len, struct fw_packet *p)
{
	uint8_t fam = p->t.family;

	if (len < 8)
		return false;
	p->icmp_type = h[0];
	p->icmp_code = h[1];
	if ((fam == 4 && h[0] == 8) || (fam == 6 && h[0] == 128))
		p->kind = FW_KIND_ECHO_REQUEST;
	else if ((fam == 4 && h[0] == 0) || (fam == 6 && h[0] == 129))
		p->kind = FW_KIND_ECHO_REPLY;
	else if (icmp_error_type(fam, h[0]))
		p->kind = FW_KIND_ICMP_ERROR;
	else
		p->kind = FW_KIND_ICMP_OTHER;
	if (p->kind == FW_KIND_ECHO_REQUEST || p->kind == FW_KIND_ECHO_REPLY)
		p->t.sport = p->t.dport = get_be16(h + 4);
	if (p->kind == FW_KIND_ICMP_ERROR)
		p->inner_ok = parse_inner(fam, h + 8, len - 8, &p->inner);
	return true;
}

/* The transport header at p->l4_off, p->l4_len bytes. */
static bool parse_l4(const uint8_t *ip, struct fw_packet *p)
{
	const uint8_t *h = ip + p->l4_off;
	size_t len = p->l4_len;

	switch (p->t.proto) {
	case FW_IPPROTO_TCP:
		if (len < 20 || (size_t)(h[12] >> 4) * 4 < 20 || (size_t)(h[12] >> 4) * 4 > len)
			return false;
		p->kind = FW_KIND_TCP;
		p->t.sport = get_be16(h);
		p->t.dport = get_be16(h + 2);
		p->tcp_flags = h[13];
		return true;
	case FW_IPPROTO_UDP:
		if (len < 8)
			return false;
		p->kind = FW_KIND_UDP;
		p->t.sport = get_be16(h);
		p->t.dport = get_be16(h + 2);
		return true;
	default:
		if (is_icmp(p->t.family, p->t.proto))
			return parse_icmp(h, len, p);
		return true; /* another protocol: FW_KIND_OTHER */
	}
}

static bool parse_v4(const uint8_t *ip, size_t len, struct fw_packet *p)
{
	size_t ihl, total;
	uint16_t fo;

	if (len < 20 || (ip[0] & 0x0f) < 5)
		return false;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = get_be16(ip + 2);
	if (total < ihl || total > len)
		return false;
	p->t.family = 4;
	p->t.proto = ip[9];
	p->t.src = ip + 12;
	p->t.dst = ip + 16;
	fo = get_be16(ip + 6);
	p->fragment = (fo & 0x2000) || (fo & 0x1fff);
	p->first_fragment = p->fragment && !(fo & 0x1fff);
	p->frag_id = get_be16(ip + 4);
	if (fo & 0x1fff)
		return true; /* a later fragment */
	p->l4_off = ihl;
	p->l4_len = total - ihl;
	return parse_l4(ip, p);
}

static bool parse_v6(const uint8_t *ip, size_t len, struct fw_packet *p)
{
	size_t total, off = 40;
	uint8_t nh;
	bool later;

	if (len < 40)
		return false;
	total = 40 + (size_t)get_be16(ip + 4);
	if (total > len)
		return false;
	p->t.family = 6;
	p->t.src = ip + 8;
	p->t.dst = ip + 24;
	nh = ip[6];
	if (!walk_ext(ip, total, &off, &nh, p, &later))
		return false;
	p->t.proto = nh;
	if (later)
		return true;
	p->l4_off = off;
	p->l4_len = total - off;
	return parse_l4(ip, p);
}

bool fw_packet_parse(const uint8_t *ip, size_t len, struct fw_packet *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 1)
		return false;
	if (ip[0] >> 4 == 4)
		return parse_v4(ip, len, p);
	if (ip[0] >> 4 == 6)
		return parse_v6(ip, len, p);
	return false;
}
