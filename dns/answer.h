/*
 * One DNS message in, one out: the query is parsed with ldns, names of ours
 * (zone.h) are answered authoritatively (TTL 60), and anything else is
 * handed back for forwarding. Answers follow RFC 1034/2308: NXDOMAIN or
 * NODATA with the zone's SOA in the authority section; EDNS0 (RFC 6891)
 * with a payload size of 1232 and BADVERS for versions above 0; a UDP
 * answer larger than the client takes is cut to its question with TC set,
 * so the client retries over TCP.
 *
 * No I/O and no state: the unit tests and the fuzzer drive it directly.
 */
#ifndef MANTA_DNS_ANSWER_H
#define MANTA_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns/zone.h"

#define DNS_EDNS_PAYLOAD 1232
#define DNS_HEADER_LEN 12
#define DNS_TCP_MAX 65535

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_verdict {
	DNS_REPLY, /* out holds the answer */
	DNS_FORWARD, /* not ours: send the query upstream */
	DNS_DROP, /* not a query (a response, or too short to answer) */
};

/* What the answer to a query must respect, filled in by dns_answer. */
struct dns_query {
	uint16_t id;
	size_t limit; /* the largest answer the client takes */
	bool edns, do_bit;
};

/* tcp: the query came over TCP (no size limit but 65535). */
enum dns_verdict dns_answer(const struct dns_zone *z, const uint8_t *msg, size_t len, bool tcp,
			    uint8_t *out, size_t cap, size_t *out_len, struct dns_query *q);

/* An upstream answer made fit for the client: its id put back, cut with TC
 * if larger than q->limit. Works in place in buf (cap bytes); returns the
 * new length, or 0 if the answer is garbage (send SERVFAIL instead). */
size_t dns_answer_fit(uint8_t *buf, size_t len, size_t cap, const struct dns_query *q);

/* An error answer (SERVFAIL, REFUSED…) to a query that dns_answer handed
 * back for forwarding; its length, or 0. */
size_t dns_answer_error(const uint8_t *query, size_t qlen, enum dns_rcode rcode,
			const struct dns_query *q, uint8_t *out, size_t cap);

#endif
