/*
 * The flow table (see conntrack.h): chained hashing over indexes into one
 * array of flows, three doubly linked lists in order of last use, a free
 * list, and nothing allocated after fw_ct_init. Bucket and chain links hold
 * index + 1, so that 0 is the end and the calloc'd bucket array needs no
 * initialising (its pages stay untouched until used); the lists use
 * FW_CT_NIL.
 */
#include "firewall/conntrack.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "firewall/rule.h"

_Static_assert(sizeof(struct fw_ct_key) == 40, "conntrack key is 40 bytes, no hidden padding");

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* A keyed mix of the 40 key bytes: cheap, and without the seed a peer
 * cannot tell which ports share a bucket. Not a MAC; it only has to
 * spread. */
static uint32_t bucket_of(const struct fw_conntrack *ct, const struct fw_ct_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = ct->seed;

	for (size_t i = 0; i < sizeof(*k); i += 8)
		h = mix64(h ^ get_le64(b + i));
	return (uint32_t)h & ct->mask;
}

static uint32_t buckets_for(uint32_t cap)
{
	uint32_t n = 16;

	while (n < cap)
		n *= 2;
	return n;
}

int fw_ct_init(struct fw_conntrack *ct, uint32_t cap)
{
	uint32_t nb = buckets_for(cap);

	memset(ct, 0, sizeof(*ct));
	ct->flows = calloc(cap, sizeof(*ct->flows));
	ct->buckets = calloc(nb, sizeof(*ct->buckets));
	if (!ct->flows || !ct->buckets) {
		fw_ct_deinit(ct);
		return -ENOMEM;
	}
	ct->cap = cap;
	ct->mask = nb - 1;
	ct->free_head = 0;
	for (int i = 0; i < FW_CT_LISTS; i++)
		ct->head[i] = ct->tail[i] = FW_CT_NIL;
	randombytes_buf(&ct->seed, sizeof(ct->seed));
	return 0;
}

void fw_ct_deinit(struct fw_conntrack *ct)
{
	free(ct->flows);
	free(ct->buckets);
	ct->flows = NULL;
	ct->buckets = NULL;
	ct->cap = ct->count = ct->hw = 0;
}

void fw_ct_key_from(struct fw_ct_key *k, const struct fw_tuple *t, uint8_t dir)
{
	size_t alen = t->family == 4 ? 4 : 16;
	bool out = dir == FW_OUT;

	memset(k, 0, sizeof(*k));
	k->family = t->family;
	k->proto = t->proto;
	memcpy(k->local, out ? t->src : t->dst, alen);
	memcpy(k->remote, out ? t->dst : t->src, alen);
	k->lport = out ? t->sport : t->dport;
	k->rport = out ? t->dport : t->sport;
}

uint64_t fw_ct_timeout(const struct fw_flow *f)
{
	return f->list == FW_CT_TCP ? FW_CT_TCP_ESTABLISHED_NS : FW_CT_OTHER_NS;
}

static bool idle(const struct fw_flow *f, uint64_t now)
{
	return now > f->last_seen && now - f->last_seen >= fw_ct_timeout(f);
}

/* --- the lists ------------------------------------------------------------- */

static void list_unlink(struct fw_conntrack *ct, uint32_t i)
{
	struct fw_flow *f = &ct->flows[i];

	if (f->prev != FW_CT_NIL)
		ct->flows[f->prev].next = f->next;
	else
		ct->head[f->list] = f->next;
	if (f->next != FW_CT_NIL)
		ct->flows[f->next].prev = f->prev;
	else
		ct->tail[f->list] = f->prev;
}

static void list_append(struct fw_conntrack *ct, uint32_t i, uint8_t list)
{
	struct fw_flow *f = &ct->flows[i];

	f->list = list;
	f->next = FW_CT_NIL;
	f->prev = ct->tail[list];
	if (f->prev != FW_CT_NIL)
		ct->flows[f->prev].next = i;
	else
		ct->head[list] = i;
	ct->tail[list] = i;
}

/* --- the table ------------------------------------------------------------- */

static void remove_flow(struct fw_conntrack *ct, uint32_t i)
{
	struct fw_flow *f = &ct->flows[i];
	uint32_t *link = &ct->buckets[bucket_of(ct, &f->key)];

	while (*link != i + 1)
		link = &ct->flows[*link - 1].hnext;
	*link = f->hnext;
	list_unlink(ct, i);
	f->hnext = ct->free_head;
	ct->free_head = i + 1;
	ct->count--;
}

struct fw_flow *fw_ct_find(struct fw_conntrack *ct, const struct fw_ct_key *k, uint64_t now)
{
	for (uint32_t link = ct->buckets[bucket_of(ct, k)]; link;
	     link = ct->flows[link - 1].hnext) {
		uint32_t i = link - 1;
		struct fw_flow *f = &ct->flows[i];

		if (memcmp(&f->key, k, sizeof(*k)) != 0)
			continue;
		if (idle(f, now)) {
			remove_flow(ct, i);
			ct->counters.expired++;
			return NULL;
		}
		return f;
	}
	return NULL;
}

static void evict_one(struct fw_conntrack *ct)
{
	uint32_t a = ct->head[FW_CT_ANSWERED], t = ct->head[FW_CT_TCP];
	uint32_t victim = ct->head[FW_CT_NEW];

	if (victim == FW_CT_NIL) {
		if (a == FW_CT_NIL)
			victim = t;
		else if (t == FW_CT_NIL)
			victim = a;
		else
			victim = ct->flows[a].last_seen <= ct->flows[t].last_seen ? a : t;
	}
	if (victim == FW_CT_NIL)
		return;
	remove_flow(ct, victim);
	ct->counters.evicted++;
}

static uint32_t take_slot(struct fw_conntrack *ct)
{
	uint32_t i;

	if (ct->count == ct->cap)
		evict_one(ct);
	if (ct->free_head) {
		i = ct->free_head - 1;
		ct->free_head = ct->flows[i].hnext;
		return i;
	}
	return ct->hw++;
}

static struct fw_flow *insert(struct fw_conntrack *ct, const struct fw_flow *src, uint8_t list)
{
	uint32_t i = take_slot(ct), b = bucket_of(ct, &src->key);
	struct fw_flow *f = &ct->flows[i];

	*f = *src;
	f->hnext = ct->buckets[b];
	ct->buckets[b] = i + 1;
	list_append(ct, i, list);
	ct->count++;
	return f;
}

struct fw_flow *fw_ct_create(struct fw_conntrack *ct, const struct fw_ct_key *k, uint8_t origin,
			     uint64_t now)
{
	struct fw_flow f;

	if (!ct->cap)
		return NULL;
	memset(&f, 0, sizeof(f));
	f.key = *k;
	f.origin = origin;
	f.state = FW_CT_OPEN;
	f.last_seen = now;
	ct->counters.created++;
	return insert(ct, &f, FW_CT_NEW);
}

static uint8_t next_state(const struct fw_flow *f, uint8_t dir, const struct fw_packet *p)
{
	if (p->kind == FW_KIND_TCP) {
		if (p->tcp_flags & FW_TCP_RST)
			return FW_CT_CLOSED;
		if (p->tcp_flags & FW_TCP_FIN || f->state == FW_CT_CLOSING)
			return FW_CT_CLOSING;
	}
	if (f->state == FW_CT_OPEN && dir != f->origin)
		return FW_CT_ESTABLISHED;
	return f->state;
}

void fw_ct_update(struct fw_conntrack *ct, struct fw_flow *f, uint8_t dir,
		  const struct fw_packet *p, uint64_t now)
{
	uint32_t i = (uint32_t)(f - ct->flows);
	uint8_t list = FW_CT_NEW;

	f->state = next_state(f, dir, p);
	f->last_seen = now;
	if (f->state == FW_CT_ESTABLISHED)
		list = f->key.proto == FW_IPPROTO_TCP ? FW_CT_TCP : FW_CT_ANSWERED;
	list_unlink(ct, i);
	list_append(ct, i, list);
}

size_t fw_ct_expire(struct fw_conntrack *ct, uint64_t now)
{
	size_t n = 0;

	for (int l = 0; l < FW_CT_LISTS; l++) {
		while (ct->head[l] != FW_CT_NIL && idle(&ct->flows[ct->head[l]], now)) {
			remove_flow(ct, ct->head[l]);
			n++;
		}
	}
	ct->counters.expired += n;
	return n;
}

static int by_last_seen_desc(const void *a, const void *b)
{
	const struct fw_flow *x = *(struct fw_flow *const *)a, *y = *(struct fw_flow *const *)b;

	return x->last_seen < y->last_seen ? 1 : x->last_seen > y->last_seen ? -1 : 0;
}

int fw_ct_resize(struct fw_conntrack *ct, uint32_t cap)
{
	struct fw_conntrack next;
	struct fw_flow **all;
	size_t n = 0, keep;
	int r;

	all = malloc((ct->count ? ct->count : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	r = fw_ct_init(&next, cap);
	if (r < 0) {
		free(all);
		return r;
	}
	for (int l = 0; l < FW_CT_LISTS; l++)
		for (uint32_t i = ct->head[l]; i != FW_CT_NIL; i = ct->flows[i].next)
			all[n++] = &ct->flows[i];
	qsort(all, n, sizeof(*all), by_last_seen_desc);
	keep = MIN(n, (size_t)cap);
	/* Oldest of those kept first, so each list stays in order of use. */
	for (size_t i = keep; i-- > 0;)
		insert(&next, all[i], all[i]->list);
	next.counters = ct->counters;
	next.counters.evicted += n - keep;
	free(all);
	fw_ct_deinit(ct);
	*ct = next;
	return 0;
}
