/*
 * The Internet checksum (RFC 1071): the ones' complement of the ones'
 * complement sum of 16-bit big-endian words. Used for the headers manta
 * writes itself: ICMP errors into the TUN (tun/icmp.c) and path MTU probes
 * (mesh/pmtu.c).
 */
#ifndef MANTA_COMMON_CHECKSUM_H
#define MANTA_COMMON_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes to a running sum; an odd last byte is padded with zero.
 * Sums of separate pieces may be added only if every piece but the last
 * has an even length. */
uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t len);
/* Fold a running sum to 16 bits and complement it: the field's value. */
uint16_t checksum_finish(uint32_t sum);
/* The IPv6 pseudo-header (RFC 8200, section 8.1) for an upper-layer packet
 * of len bytes with next header nh, as a running sum. */
uint32_t checksum_ipv6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
			      uint8_t nh);

#endif
