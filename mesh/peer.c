#include "mesh/peer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/device.h"

/* Keys and derived addresses are uniformly random: their bytes are the hash. */
static unsigned slot(const uint8_t *bytes)
{
	return get_le32(bytes) & (PEER_BUCKETS - 1);
}

void peer_table_init(struct peer_table *t)
{
	memset(t, 0, sizeof(*t));
}

void peer_table_link(struct peer_table *t, struct peer *p)
{
	unsigned k = slot(p->public_key), a6 = slot(p->v6 + 12), a4 = slot(p->v4);

	p->next_by_key = t->by_key[k];
	t->by_key[k] = p;
	p->next_by_v6 = t->by_v6[a6];
	t->by_v6[a6] = p;
	p->next_by_v4 = t->by_v4[a4];
	t->by_v4[a4] = p;
	p->list_prev = NULL;
	p->list_next = t->head;
	if (t->head)
		t->head->list_prev = p;
	t->head = p;
	t->count++;
}

#define UNLINK(head, member, p)                                              \
	do {                                                                 \
		for (struct peer **pp = &(head); *pp; pp = &(*pp)->member) { \
			if (*pp == (p)) {                                    \
				*pp = (p)->member;                           \
				break;                                       \
			}                                                    \
		}                                                            \
	} while (0)

void peer_table_unlink(struct peer_table *t, struct peer *p)
{
	UNLINK(t->by_key[slot(p->public_key)], next_by_key, p);
	UNLINK(t->by_v6[slot(p->v6 + 12)], next_by_v6, p);
	UNLINK(t->by_v4[slot(p->v4)], next_by_v4, p);
	if (p->list_prev)
		p->list_prev->list_next = p->list_next;
	else
		t->head = p->list_next;
	if (p->list_next)
		p->list_next->list_prev = p->list_prev;
	t->count--;
}

struct peer *peer_table_by_key(const struct peer_table *t, const uint8_t pk[NOISE_PUBLIC_KEY_LEN])
{
	for (struct peer *p = t->by_key[slot(pk)]; p; p = p->next_by_key)
		if (memcmp(p->public_key, pk, NOISE_PUBLIC_KEY_LEN) == 0)
			return p;
	return NULL;
}

struct peer *peer_table_by_v6(const struct peer_table *t, const uint8_t a[16])
{
	for (struct peer *p = t->by_v6[slot(a + 12)]; p; p = p->next_by_v6)
		if (memcmp(p->v6, a, 16) == 0)
			return p;
	return NULL;
}

struct peer *peer_table_by_v4(const struct peer_table *t, const uint8_t a[4])
{
	for (struct peer *p = t->by_v4[slot(a)]; p; p = p->next_by_v4)
		if (memcmp(p->v4, a, 4) == 0)
			return p;
	return NULL;
}

struct keypair *peer_keypair_create(struct peer *p)
{
	struct keypair *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->entry.type = INDEX_KEYPAIR;
	k->entry.peer = p;
	k->entry.object = k;
	return k;
}

void peer_keypair_destroy(struct peer *p, struct keypair *k)
{
	if (!k)
		return;
	index_table_remove(&p->dev->index, &k->entry);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

void peer_keypairs_add(struct peer *p, struct keypair *k)
{
	if (k->kp.i_am_initiator) {
		/* We sent the initiation and have its response: the new keypair
		 * is usable at once. A pending next keypair becomes previous
		 * (as WireGuard does), otherwise current does. */
		if (p->next) {
			peer_keypair_destroy(p, p->previous);
			peer_keypair_destroy(p, p->current);
			p->previous = p->next;
			p->next = NULL;
		} else {
			peer_keypair_destroy(p, p->previous);
			p->previous = p->current;
		}
		p->current = k;
	} else {
		/* As responder we may not send with it until the initiator's
		 * first data packet confirms it. */
		peer_keypair_destroy(p, p->next);
		peer_keypair_destroy(p, p->previous);
		p->previous = NULL;
		p->next = k;
	}
}

bool peer_keypairs_received_with(struct peer *p, struct keypair *k)
{
	if (k != p->next)
		return false;
	peer_keypair_destroy(p, p->previous);
	p->previous = p->current;
	p->current = k;
	p->next = NULL;
	return true;
}

void peer_keypairs_clear(struct peer *p)
{
	peer_keypair_destroy(p, p->previous);
	peer_keypair_destroy(p, p->current);
	peer_keypair_destroy(p, p->next);
	p->previous = p->current = p->next = NULL;
}

bool peer_stage_packet(struct peer *p, const uint8_t *pkt, size_t len)
{
	unsigned tail;
	struct staged_packet *s;

	if (len > MESSAGE_MAX_PLAINTEXT)
		return false;
	if (p->staged_count == MAX_STAGED_PACKETS) {
		/* Full: the oldest packet gives way, as in WireGuard. */
		free(peer_staged_pop(p));
	}
	tail = (p->staged_head + p->staged_count) % MAX_STAGED_PACKETS;
	s = malloc(sizeof(*s));
	if (!s)
		return false;
	s->len = (uint16_t)len;
	memcpy(s->data, pkt, len);
	p->staged[tail] = s;
	p->staged_count++;
	return true;
}

struct staged_packet *peer_staged_pop(struct peer *p)
{
	struct staged_packet *s;

	if (!p->staged_count)
		return NULL;
	s = p->staged[p->staged_head];
	p->staged[p->staged_head] = NULL;
	p->staged_head = (p->staged_head + 1) % MAX_STAGED_PACKETS;
	p->staged_count--;
	return s;
}

void peer_staged_purge(struct peer *p)
{
	struct staged_packet *s;

	while ((s = peer_staged_pop(p)))
		free(s);
}
