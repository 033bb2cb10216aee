/* The answer cache (see cache.h). */
#include "dns/cache.h"

#include <stdlib.h>
#include <string.h>

struct dns_cache_entry {
	uint64_t generation, at_ms;
	uint16_t klen, alen;
	uint8_t key[DNS_CACHE_KEY_MAX];
	uint8_t answer[DNS_CACHE_ANSWER_MAX];
};

/* FNV-1a over the query without its id. */
static size_t slot_of(const uint8_t *q, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 2; i < len; i++)
		h = (h ^ q[i]) * 0x100000001b3ull;
	return (size_t)(h % DNS_CACHE_SLOTS);
}

static bool cacheable(size_t len)
{
	return len > 2 && len - 2 <= DNS_CACHE_KEY_MAX;
}

size_t dns_cache_get(struct dns_cache *c, const uint8_t *q, size_t len, uint64_t now_ms,
		     uint8_t *out, size_t cap)
{
	struct dns_cache_entry *e;

	if (!c->slots || !cacheable(len))
		return 0;
	e = &c->slots[slot_of(q, len)];
	if (e->generation != c->generation || e->klen != len - 2 || e->alen > cap ||
	    now_ms - e->at_ms > DNS_CACHE_MAX_AGE_MS || memcmp(e->key, q + 2, len - 2) != 0) {
		c->misses++;
		return 0;
	}
	memcpy(out, e->answer, e->alen);
	memcpy(out, q, 2); /* the id */
	c->hits++;
	return e->alen;
}

void dns_cache_put(struct dns_cache *c, const uint8_t *q, size_t len, uint64_t now_ms,
		   const uint8_t *answer, size_t alen)
{
	struct dns_cache_entry *e;

	if (!cacheable(len) || alen > DNS_CACHE_ANSWER_MAX || alen < 2)
		return;
	if (!c->slots) {
		c->slots = calloc(DNS_CACHE_SLOTS, sizeof(*c->slots));
		if (!c->slots)
			return;
		c->generation++; /* so that the zeroed slots are stale */
	}
	e = &c->slots[slot_of(q, len)];
	e->generation = c->generation;
	e->at_ms = now_ms;
	e->klen = (uint16_t)(len - 2);
	e->alen = (uint16_t)alen;
	memcpy(e->key, q + 2, len - 2);
	memcpy(e->answer, answer, alen);
}

void dns_cache_flush(struct dns_cache *c)
{
	c->generation++;
}

void dns_cache_free(struct dns_cache *c)
{
	free(c->slots);
	c->slots = NULL;
}
