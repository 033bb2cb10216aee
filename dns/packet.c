/*
 * IP, UDP and TCP headers around the resolver's traffic (see packet.h).
 * Every length comes from the packet and is checked against what was read
 * before it is used; fields are read byte by byte.
 */
#include "dns/packet.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"

const uint8_t dns_resolver_v4[4] = { 100, 100, 100, 53 };
const uint8_t dns_resolver_v6[16] = { 0x02, [15] = 0x53 };

#define IPV4_HEADER 20
#define IPV6_HEADER 40
#define UDP_HEADER 8
#define TCP_HEADER 20
#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define TTL 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t dns_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t dns_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Where the transport header starts and how long the transport part is, for
 * a packet to the resolver; 0 for an IP packet of another destination, -1
 * for one to the resolver that we cannot handle. */
struct ip_view {
	int family;
	uint8_t proto;
	const uint8_t *src, *dst;
	size_t l4_off, l4_len;
};

static int view_v4(const uint8_t *pkt, size_t len, struct ip_view *v)
{
	size_t ihl, total;

	if (len < IPV4_HEADER)
		return -1;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = get16(pkt + 2);
	if (memcmp(pkt + 16, dns_resolver_v4, 4) != 0)
		return 0;
	if (ihl < IPV4_HEADER || total < ihl || total > len)
		return -1;
	/* A fragment cannot be answered on its own. */
	if (get16(pkt + 6) & (IPV4_MF | IPV4_OFFSET_MASK))
		return -1;
	v->family = AF_INET;
	v->proto = pkt[9];
	v->src = pkt + 12;
	v->dst = pkt + 16;
	v->l4_off = ihl;
	v->l4_len = total - ihl;
	return 1;
}

static int view_v6(const uint8_t *pkt, size_t len, struct ip_view *v)
{
	size_t plen;

	if (len < IPV6_HEADER)
		return -1;
	if (memcmp(pkt + 24, dns_resolver_v6, 16) != 0)
		return 0;
	plen = get16(pkt + 4);
	if (plen > len - IPV6_HEADER)
		return -1;
	/* Extension headers are not followed: a query never needs them. */
	v->family = AF_INET6;
	v->proto = pkt[6];
	v->src = pkt + 8;
	v->dst = pkt + 24;
	v->l4_off = IPV6_HEADER;
	v->l4_len = plen;
	return 1;
}

static int view(const uint8_t *pkt, size_t len, struct ip_view *v)
{
	if (len < 1)
		return 0;
	switch (pkt[0] >> 4) {
	case 4:
		return view_v4(pkt, len, v);
	case 6:
		return view_v6(pkt, len, v);
	default:
		return 0;
	}
}

enum dns_pkt dns_packet_classify(const uint8_t *pkt, size_t len, struct dns_flow *f)
{
	struct ip_view v;
	const uint8_t *l4;
	size_t ulen, alen;
	int r = view(pkt, len, &v);

	if (r == 0)
		return DNS_PKT_OTHER;
	if (r < 0)
		return DNS_PKT_DROP;
	alen = v.family == AF_INET ? 4 : 16;
	memset(f, 0, sizeof(*f));
	f->family = v.family;
	memcpy(f->client, v.src, alen);
	memcpy(f->resolver, v.dst, alen);
	l4 = pkt + v.l4_off;
	if (v.proto == IPPROTO_TCP)
		return v.l4_len >= TCP_HEADER ? DNS_PKT_TCP : DNS_PKT_DROP;
	if (v.proto != IPPROTO_UDP || v.l4_len < UDP_HEADER)
		return DNS_PKT_DROP;
	ulen = get16(l4 + 4);
	if (ulen < UDP_HEADER || ulen > v.l4_len || get16(l4 + 2) != DNS_PORT)
		return DNS_PKT_DROP;
	f->client_port = get16(l4);
	f->payload = l4 + UDP_HEADER;
	f->payload_len = ulen - UDP_HEADER;
	return DNS_PKT_UDP;
}

static uint16_t pseudo_sum_csum(int family, const uint8_t *src, const uint8_t *dst,
				const uint8_t *l4, size_t l4_len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t sum = 0;
	uint16_t c;

	sum = dns_csum_add(sum, src, alen);
	sum = dns_csum_add(sum, dst, alen);
	sum += IPPROTO_UDP + (uint32_t)l4_len; /* (the upper half of a v6 length is 0) */
	sum = dns_csum_add(sum, l4, l4_len);
	c = (uint16_t)~dns_csum_fold(sum);
	return c ? c : 0xffff; /* 0 means "no checksum" in UDP over IPv4 */
}

size_t dns_packet_build_udp(const struct dns_flow *f, const uint8_t *payload, size_t len,
			    uint8_t *out, size_t cap)
{
	size_t ip = f->family == AF_INET ? IPV4_HEADER : IPV6_HEADER;
	size_t alen = f->family == AF_INET ? 4 : 16;
	size_t total = ip + UDP_HEADER + len;
	uint8_t *udp = out + ip;

	if (total > cap || total > 0xffff)
		return 0;
	memset(out, 0, ip + UDP_HEADER);
	if (f->family == AF_INET) {
		out[0] = 0x45;
		put_be16(out + 2, (uint16_t)total);
		put_be16(out + 6, IPV4_DF); /* atomic: ID 0 is fine (RFC 6864) */
		out[8] = TTL;
		out[9] = IPPROTO_UDP;
		memcpy(out + 12, f->resolver, alen);
		memcpy(out + 16, f->client, alen);
		put_be16(out + 10, (uint16_t)~dns_csum_fold(dns_csum_add(0, out, IPV4_HEADER)));
	} else {
		out[0] = 0x60;
		put_be16(out + 4, (uint16_t)(UDP_HEADER + len));
		out[6] = IPPROTO_UDP;
		out[7] = TTL;
		memcpy(out + 8, f->resolver, alen);
		memcpy(out + 24, f->client, alen);
	}
	put_be16(udp, DNS_PORT);
	put_be16(udp + 2, f->client_port);
	put_be16(udp + 4, (uint16_t)(UDP_HEADER + len));
	memmove(udp + UDP_HEADER, payload, len);
	put_be16(udp + 6,
		 pseudo_sum_csum(f->family, f->resolver, f->client, udp, UDP_HEADER + len));
	return total;
}

/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'). */
static void csum_replace16(uint8_t *csum, uint16_t old, uint16_t new_value)
{
	uint32_t sum = (uint16_t)~get16(csum);

	sum += (uint16_t)~old;
	sum += new_value;
	put_be16(csum, (uint16_t)~dns_csum_fold(sum));
}

static void swap_addresses(uint8_t *pkt, int family)
{
	uint8_t tmp[16];
	size_t alen = family == AF_INET ? 4 : 16, src = family == AF_INET ? 12 : 8;

	memcpy(tmp, pkt + src, alen);
	memmove(pkt + src, pkt + src + alen, alen);
	memcpy(pkt + src + alen, tmp, alen);
}

bool dns_packet_reflect_tcp(uint8_t *pkt, size_t len, uint16_t listen_port)
{
	struct ip_view v;
	uint8_t *tcp;
	uint16_t sport, dport;

	if (view(pkt, len, &v) != 1 || v.proto != IPPROTO_TCP || v.l4_len < TCP_HEADER ||
	    listen_port == 0 || listen_port == DNS_PORT)
		return false;
	tcp = pkt + v.l4_off;
	sport = get16(tcp);
	dport = get16(tcp + 2);
	if (dport == DNS_PORT && sport != DNS_PORT) {
		/* client S:P -> R:53 becomes R:P -> S:L */
		swap_addresses(pkt, v.family);
		put_be16(tcp + 2, listen_port);
		csum_replace16(tcp + 16, DNS_PORT, listen_port);
		return true;
	}
	if (sport == listen_port && dport != DNS_PORT) {
		/* listener S:L -> R:P becomes R:53 -> S:P */
		swap_addresses(pkt, v.family);
		put_be16(tcp, DNS_PORT);
		csum_replace16(tcp + 16, listen_port, DNS_PORT);
		return true;
	}
	return false;
}
