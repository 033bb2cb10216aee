/*
 * Local session indices: the random 32-bit handles this node hands out in
 * handshake messages and finds again in the receiver field of responses,
 * cookie replies and data. One entry per handshake in flight and per keypair;
 * a keypair takes over its handshake's entry (and index) when the session
 * begins. Entries are embedded in their owners; the table only links them.
 */
#ifndef MANTA_MESH_INDEX_H
#define MANTA_MESH_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

struct peer;

enum index_type { INDEX_HANDSHAKE = 1, INDEX_KEYPAIR = 2 };

struct index_entry {
	struct index_entry *next;
	uint32_t index;
	enum index_type type;
	struct peer *peer;
	void *object; /* the noise_keypair for INDEX_KEYPAIR */
	bool linked;
};

enum { INDEX_BUCKETS = 1024 };

struct index_table {
	struct index_entry *buckets[INDEX_BUCKETS];
	unsigned count;
};

void index_table_init(struct index_table *t);
/* Give e a fresh random index no other entry holds and link it. */
uint32_t index_table_insert(struct index_table *t, struct index_entry *e);
/* Put new in old's place, with old's index; old is unlinked. */
void index_table_replace(struct index_table *t, struct index_entry *old, struct index_entry *new);
void index_table_remove(struct index_table *t, struct index_entry *e);
struct index_entry *index_table_lookup(const struct index_table *t, uint32_t index,
				       enum index_type type);

#endif
