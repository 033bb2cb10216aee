/*
 * Reject replies: for a denied packet, the packet its sender should get
 * back instead of silence. TCP gets a RST (RFC 9293 §3.10.7.1: from the
 * packet's ACK if it had one, else an RST+ACK acknowledging it); anything
 * else an ICMP destination unreachable, "administratively prohibited"
 * (type 3 code 13) or ICMPv6 "communication administratively prohibited"
 * (type 1 code 1), quoting as much of the packet as RFC 792 / RFC 4443
 * allow. Nothing is sent for a RST, an ICMP error, a later fragment, or a
 * packet to or from a multicast or unspecified address (RFC 1122
 * §3.2.2, RFC 4443 §2.4 e).
 *
 * The reply goes from the packet's destination to its source: written into
 * the TUN for a packet of a local app (outbound), sealed to the peer for a
 * peer's packet (inbound).
 */
#ifndef MANTA_FIREWALL_REJECT_H
#define MANTA_FIREWALL_REJECT_H

#include <stddef.h>
#include <stdint.h>

#include "firewall/packet.h"

/* IPv6's minimum MTU bounds the ICMPv6 reply; the IPv4 one stays in 576. */
#define FW_REJECT_MAX 1280

/* Builds the reply to packet ip (len bytes, parsed as p) in out (at
 * least FW_REJECT_MAX bytes); returns its length, or 0 if none is due. */
size_t fw_reject_build(const uint8_t *ip, size_t len, const struct fw_packet *p, uint8_t *out,
		       size_t cap);

#endif
