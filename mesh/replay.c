#include "mesh/replay.h"

#include <string.h>

enum { BLOCK_SHIFT = 6, BLOCK_MASK = REPLAY_RING_BLOCKS - 1, BIT_MASK = REPLAY_BLOCK_BITS - 1 };

void replay_init(struct replay_filter *f)
{
	memset(f, 0, sizeof(*f));
}

bool replay_check(struct replay_filter *f, uint64_t counter, uint64_t limit)
{
	uint64_t block = counter >> BLOCK_SHIFT;

	if (counter >= limit)
		return false;
	if (counter > f->last) {
		/* Move the window forward, clearing the blocks it passes over
		 * (the whole ring at most). */
		uint64_t current = f->last >> BLOCK_SHIFT;
		uint64_t diff = block - current;

		if (diff > REPLAY_RING_BLOCKS)
			diff = REPLAY_RING_BLOCKS;
		for (uint64_t i = current + 1; i <= current + diff; i++)
			f->ring[i & BLOCK_MASK] = 0;
		f->last = counter;
	} else if (f->last - counter > REPLAY_WINDOW_SIZE) {
		return false;
	}

	uint64_t bit = 1ULL << (counter & BIT_MASK);
	uint64_t *slot = &f->ring[block & BLOCK_MASK];
	uint64_t old = *slot;

	*slot = old | bit;
	return !(old & bit);
}
