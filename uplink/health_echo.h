/*
 * The prober's ICMPv6 echo requests and replies, without a socket
 * (health.c): built, parsed and matched against the pending probes here,
 * so that the unit tests and the fuzzer reach them; health_linux.c only
 * moves the bytes.
 *
 * A request is the 8-byte echo header (RFC 4443, section 4.1) and an
 * 8-byte payload "mantahc" + NUL. The checksum is left 0: the kernel fills
 * it in on ICMPv6 sockets, raw and ping alike (RFC 3542, section 3.1).
 * A reply counts only if its type is echo reply, its identifier is the
 * prober's, its sequence number is that of a pending probe and it comes
 * from that probe's target; anything else is ignored and changes nothing.
 */
#ifndef MANTA_UPLINK_HEALTH_ECHO_H
#define MANTA_UPLINK_HEALTH_ECHO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uplink/health.h"

enum {
	HEALTH_ECHO_REQUEST = 128,
	HEALTH_ECHO_REPLY = 129,
	HEALTH_ECHO_HDR_LEN = 8,
	HEALTH_ECHO_LEN = 16, /* header + payload */
};

/* The probe timeout (cfg.timeout_ns, else the interval) and interval. */
uint64_t health_interval_ns(const struct health *h);
uint64_t health_timeout_ns(const struct health *h);

/* A new probe of cfg.targets[target] sent at now_ns: takes a pending slot
 * (the oldest probe's, recorded lost, if all are taken), writes the
 * request into buf and returns its sequence number. */
uint16_t health_echo_build(struct health *h, uint8_t target, uint64_t now_ns,
			   uint8_t buf[HEALTH_ECHO_LEN]);
/* The probe seq could not be sent: free its slot and record it lost. */
void health_echo_unsent(struct health *h, uint16_t seq);

/* An echo reply's identifier and sequence number; false if buf (an ICMPv6
 * message, from its type byte on) is not an echo reply. */
bool health_echo_parse(const uint8_t *buf, size_t len, uint16_t *ident, uint16_t *seq);
/* A message from `from' received at rx_ns: true if it answered one of h's
 * pending probes, then recorded as a reply (or as lost if it came after
 * the timeout). */
bool health_echo_reply(struct health *h, const uint8_t *buf, size_t len,
		       const struct in6_addr *from, uint64_t rx_ns);
/* Record every pending probe that has waited the timeout (less `slack',
 * the timer's lateness tolerance) as lost. */
void health_echo_expire(struct health *h, uint64_t now_ns, uint64_t slack_ns);
/* Forget every pending probe (stop). */
void health_echo_clear(struct health *h);

#endif
