/*
 * The resolver's traffic as it crosses the TUN. 100.100.100.53 and 200::53
 * are not addresses of this host: both lie inside the overlay prefixes that
 * are routed into the TUN, so a query to either is an IP packet that mantad
 * reads like any other, and no socket of ours ever binds port 53.
 *
 * UDP is answered straight from the packet stream: the query is parsed out
 * of its IP and UDP headers and the answer is wrapped in new ones, from the
 * resolver's address and port 53 back to the client, and written into the
 * TUN.
 *
 * TCP is reflected, statelessly, to a kernel listener of ours on an
 * ephemeral port L (bound to the TUN device): a client's segment
 * S:P -> R:53 is rewritten to R:P -> S:L, and the listener's S:L -> R:P to
 * R:53 -> S:P. Addresses only swap places (the IPv4 header checksum and the
 * TCP pseudo-header sum do not change), and one port changes (patched
 * incrementally, RFC 1624), so the kernel does all of TCP.
 */
#ifndef MANTA_DNS_PACKET_H
#define MANTA_DNS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT 53
/* Room for the largest answer the resolver sends over UDP (its EDNS payload
 * size) with an IPv6 and a UDP header: exactly the TUN's MTU. */
#define DNS_UDP_PAYLOAD_MAX 1232
#define DNS_IP_PACKET_MAX (40 + 8 + DNS_UDP_PAYLOAD_MAX)

extern const uint8_t dns_resolver_v4[4];
extern const uint8_t dns_resolver_v6[16];

enum dns_pkt {
	DNS_PKT_OTHER, /* not for the resolver: the data plane takes it */
	DNS_PKT_UDP, /* a UDP datagram to port 53: *f describes it */
	DNS_PKT_TCP, /* a TCP segment to or from the resolver: reflect it */
	DNS_PKT_DROP, /* for the resolver, but nothing we answer */
};

/* One UDP exchange with a client, as seen from the resolver. */
struct dns_flow {
	int family; /* AF_INET or AF_INET6 */
	uint8_t client[16]; /* the query's source */
	uint8_t resolver[16]; /* the query's destination */
	uint16_t client_port;
	const uint8_t *payload; /* the DNS message, inside the packet */
	size_t payload_len;
};

/* Classifies an IP packet read from the TUN. Never reads past len. */
enum dns_pkt dns_packet_classify(const uint8_t *pkt, size_t len, struct dns_flow *f);

/* An IP + UDP packet from the resolver (port 53) to the flow's client,
 * carrying payload; its length, or 0 if cap is too small. */
size_t dns_packet_build_udp(const struct dns_flow *f, const uint8_t *payload, size_t len,
			    uint8_t *out, size_t cap);

/* Rewrites a DNS_PKT_TCP segment in place as described above, given the
 * listener's port. False if the segment belongs to neither direction (the
 * caller drops it). */
bool dns_packet_reflect_tcp(uint8_t *pkt, size_t len, uint16_t listen_port);

/* The Internet checksum's one's-complement sum of len bytes, added to sum
 * (not folded, not inverted). */
uint32_t dns_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t dns_csum_fold(uint32_t sum);

#endif
