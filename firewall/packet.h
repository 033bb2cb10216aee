/*
 * What the firewall reads from an IP packet: family, addresses, the
 * transport protocol after any IPv6 extension headers, ports (or the echo
 * identifier), TCP flags, fragmentation, and for an ICMP error the flow
 * of the packet it quotes. Pointers point into the caller's packet.
 * Nothing is allocated; every length is checked before it is read.
 */
#ifndef MANTA_FIREWALL_PACKET_H
#define MANTA_FIREWALL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_IPPROTO_ICMP 1
#define FW_IPPROTO_TCP 6
#define FW_IPPROTO_UDP 17
#define FW_IPPROTO_ICMPV6 58

#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_ACK 0x10

/* What a packet is, for the rules and for connection tracking. */
enum fw_kind {
	FW_KIND_OTHER = 0, /* no ports: another protocol, or a later fragment */
	FW_KIND_TCP,
	FW_KIND_UDP,
	FW_KIND_ECHO_REQUEST, /* ICMP / ICMPv6 echo request */
	FW_KIND_ECHO_REPLY,
	FW_KIND_ICMP_ERROR, /* unreachable, too big, time exceeded, parameter problem */
	FW_KIND_ICMP_OTHER,
};

/* A flow as conntrack keys it, seen from one packet: src/dst as in that
 * packet. For echo, both ports are the identifier. */
struct fw_tuple {
	uint8_t family; /* 4 or 6 */
	uint8_t proto; /* IP protocol number */
	uint16_t sport, dport;
	const uint8_t *src, *dst; /* 4 or 16 bytes */
};

struct fw_packet {
	struct fw_tuple t;
	uint8_t kind; /* enum fw_kind */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	bool fragment; /* part of a fragmented datagram */
	bool first_fragment; /* ... and the part with the transport header */
	uint32_t frag_id; /* IPv4 identification or IPv6 fragment identification */
	size_t l4_off; /* where the transport header starts (if kind != OTHER) */
	size_t l4_len; /* transport header and payload bytes present */
	/* FW_KIND_ICMP_ERROR: the quoted packet's tuple, as that packet had it;
	 * inner_ok false when the quote is too short to tell. */
	struct fw_tuple inner;
	bool inner_ok;
};

/* False for a packet too short or malformed to filter (dropped as
 * invalid); true with p filled otherwise. */
bool fw_packet_parse(const uint8_t *ip, size_t len, struct fw_packet *p);

/* The rule protocol class of a packet's protocol (enum fw_proto). */
uint8_t fw_packet_proto_class(const struct fw_packet *p);
/* True if the packet has ports a rule can match. */
static inline bool fw_packet_has_ports(const struct fw_packet *p)
{
	return p->kind == FW_KIND_TCP || p->kind == FW_KIND_UDP;
}

#endif
