/*
 * ICMP errors that mantad writes into the TUN when a packet read from it is
 * too big for its peer's path: ICMPv4 "fragmentation needed and DF set"
 * (type 3 code 4, RFC 792 / RFC 1191) and ICMPv6 "packet too big" (type 2,
 * RFC 4443). The error comes from the packet's destination (the peer's
 * overlay address) and goes to its source, so the kernel's own path MTU
 * logic shrinks that flow. Pure functions over buffers: no I/O.
 */
#ifndef MANTA_TUN_ICMP_H
#define MANTA_TUN_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum icmp_limits {
	/* RFC 1812 4.3.2.3: an ICMPv4 error is at most 576 bytes. */
	ICMP4_ERROR_MAX = 576,
	/* RFC 4443 2.4(c): an ICMPv6 error fits the minimum MTU, 1280. */
	ICMP6_ERROR_MAX = 1280,
	ICMP_ERROR_MAX = ICMP6_ERROR_MAX,
	ICMP4_ERROR_HEADERS = 20 + 8,
	ICMP6_ERROR_HEADERS = 40 + 8,
};

/* Why no error may be sent about a packet (RFC 1122 3.2.2, RFC 1812 4.3.2.7,
 * RFC 4443 2.4(e)). */
enum icmp_verdict {
	ICMP_OK,
	ICMP_NOT_IP, /* too short or malformed for its version */
	ICMP_ABOUT_ICMP_ERROR, /* an ICMP error (or an unknown ICMP type) */
	ICMP_BAD_SOURCE, /* unspecified, loopback, multicast or class E source */
	ICMP_BAD_DESTINATION, /* multicast or broadcast destination */
	ICMP_FRAGMENT, /* an IPv4 fragment other than the first */
};

/* May an error be sent about this IPv4 or IPv6 packet? */
enum icmp_verdict icmp_may_answer(const uint8_t *pkt, size_t len);

/* Write into out (ICMP_ERROR_MAX bytes) an ICMPv4 fragmentation-needed
 * error with next-hop MTU mtu (IPv4 packets) or an ICMPv6 packet-too-big
 * with MTU mtu (IPv6 packets) about pkt, quoting as much of pkt as the
 * limits above allow, with correct checksums. Returns its length, or 0 if
 * icmp_may_answer() says no (then *why says why, when why is not NULL). */
size_t icmp_build_too_big(uint8_t *out, const uint8_t *pkt, size_t len, uint32_t mtu,
			  enum icmp_verdict *why);

#endif
