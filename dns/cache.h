/*
 * Answers already given, by the query's bytes (all but the id): the same
 * question from the same kind of client gets the same bytes back with its
 * own id, without ldns, without the member-list walk and without hashing
 * keys into addresses. Only UDP answers to .pi names and the overlay's
 * reverse zones go in (forwarded answers never do; upstream TTLs are the
 * upstream's business).
 *
 * An entry is good for DNS_CACHE_MAX_AGE_MS and until the zone changes:
 * dns_cache_flush runs whenever a member list is reconciled with the peers
 * (peers_sync) and whenever a service set arrives or is signed. Direct
 * mapped, allocated on first use. Owner: struct dns.
 */
#ifndef MANTA_DNS_CACHE_H
#define MANTA_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_CACHE_SLOTS 256
#define DNS_CACHE_KEY_MAX 300
#define DNS_CACHE_ANSWER_MAX 512
#define DNS_CACHE_MAX_AGE_MS 1000

struct dns_cache_entry;

struct dns_cache {
	struct dns_cache_entry *slots; /* NULL until the first put */
	uint64_t generation;
	uint64_t hits, misses;
};

/* The cached answer to query (len bytes) into out with the query's id;
 * its length, or 0. */
size_t dns_cache_get(struct dns_cache *c, const uint8_t *query, size_t len, uint64_t now_ms,
		     uint8_t *out, size_t cap);
void dns_cache_put(struct dns_cache *c, const uint8_t *query, size_t len, uint64_t now_ms,
		   const uint8_t *answer, size_t alen);
/* Forget everything (the zone changed). */
void dns_cache_flush(struct dns_cache *c);
void dns_cache_free(struct dns_cache *c);

#endif
