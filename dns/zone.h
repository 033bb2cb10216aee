/*
 * The names the resolver is authoritative for, looked up in the member
 * lists as they are at the moment of the query (no copy to go stale):
 *
 *   pi.                               SOA, NS pi., A 100.100.100.53, AAAA 200::53
 *   NET.pi.                           exists, no data (a network this node is in)
 *   HOST.NET.pi.                      A, AAAA of the member HOST of NET
 *   HOST.pi.                          the same, when every network that has a
 *                                     HOST means the same node
 *   NAME.HOST.NET.pi., NAME.HOST.pi.  a service NAME that HOST registered in NET
 *   B.100.in-addr.arpa. (B 64..127)   zone apexes for the overlay's IPv4 PTRs
 *   2.0.ip6.arpa., 3.0.ip6.arpa.      and for its IPv6 ones (200::/7)
 *
 * Only networks in which this node is a live member count, and only their
 * live members. Names are compared without regard to ASCII case.
 */
#ifndef MANTA_DNS_ZONE_H
#define MANTA_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/network.h"

struct dns_services;

#define DNS_TTL 60
#define DNS_PTR_MAX 16 /* PTR targets in one answer */
#define DNS_NAME_MAX 255 /* wire length of a domain name */

struct dns_zone {
	struct network *const *nets;
	size_t nnets;
	const uint8_t *self_x25519; /* networks where this key is a member count */
	const struct dns_services *svc; /* may be NULL */
};

enum dns_zone_id { DNS_ZONE_PI, DNS_ZONE_REV4, DNS_ZONE_REV6 };

enum dns_name_kind {
	DNS_NAME_OUTSIDE, /* not ours: forward it */
	DNS_NAME_NXDOMAIN, /* ours, and it does not exist */
	DNS_NAME_EMPTY, /* exists with no records (empty non-terminal) */
	DNS_NAME_APEX, /* a zone apex: SOA, NS (and for pi. A, AAAA) */
	DNS_NAME_HOST, /* A and AAAA of one node */
	DNS_NAME_PTR, /* PTR to the names of one address */
};

struct dns_ptr_target {
	const char *host, *net; /* HOST.NET.pi. */
};

struct dns_lookup {
	enum dns_name_kind kind;
	enum dns_zone_id zone;
	uint8_t apex[DNS_NAME_MAX]; /* the zone's apex, wire format */
	size_t apex_len;
	/* DNS_NAME_HOST */
	uint8_t v6[16], v4[4];
	/* DNS_NAME_PTR */
	struct dns_ptr_target ptr[DNS_PTR_MAX];
	size_t nptr;
};

/* Looks up a name in wire format (uncompressed labels, as ldns holds them).
 * A malformed name is DNS_NAME_OUTSIDE; nothing is read past len. */
void dns_zone_lookup(const struct dns_zone *z, const uint8_t *name, size_t len,
		     struct dns_lookup *out);
/* The SOA serial: the newest member record or service set, in seconds. */
uint32_t dns_zone_serial(const struct dns_zone *z);
/* True if this node is a live member of n. */
bool dns_zone_active(const struct dns_zone *z, const struct network *n);
/* A member's two addresses. */
void dns_member_addresses(const struct member_record *r, uint8_t v6[16], uint8_t v4[4]);

#endif
