#include "mesh/index.h"

#include <sodium.h>
#include <string.h>

/* Indices are uniformly random, so their low bits spread them evenly. */
static struct index_entry **bucket(const struct index_table *t, uint32_t index)
{
	return (struct index_entry **)&t->buckets[index & (INDEX_BUCKETS - 1)];
}

void index_table_init(struct index_table *t)
{
	memset(t, 0, sizeof(*t));
}

static bool index_taken(const struct index_table *t, uint32_t index)
{
	for (struct index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return true;
	return false;
}

uint32_t index_table_insert(struct index_table *t, struct index_entry *e)
{
	uint32_t index;

	do
		index = randombytes_random();
	while (index_taken(t, index));
	e->index = index;
	e->next = *bucket(t, index);
	*bucket(t, index) = e;
	e->linked = true;
	t->count++;
	return index;
}

void index_table_remove(struct index_table *t, struct index_entry *e)
{
	if (!e->linked)
		return;
	for (struct index_entry **pp = bucket(t, e->index); *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			e->next = NULL;
			e->linked = false;
			t->count--;
			return;
		}
	}
}

void index_table_replace(struct index_table *t, struct index_entry *old, struct index_entry *new)
{
	for (struct index_entry **pp = bucket(t, old->index); *pp; pp = &(*pp)->next) {
		if (*pp == old) {
			new->index = old->index;
			new->next = old->next;
			*pp = new;
			new->linked = true;
			old->next = NULL;
			old->linked = false;
			return;
		}
	}
}

struct index_entry *index_table_lookup(const struct index_table *t, uint32_t index,
				       enum index_type type)
{
	for (struct index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return e->type == type ? e : NULL;
	return NULL;
}
