/*
 * Sliding-window replay protection (RFC 6479, as WireGuard's counter.c and
 * wireguard-go's replay/replay.go): a ring of 128 64-bit blocks, of which 127
 * form the window, so the last 8128 counters below the highest seen are
 * tracked. Check a counter only after its packet authenticated.
 */
#ifndef MANTA_MESH_REPLAY_H
#define MANTA_MESH_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	REPLAY_BLOCK_BITS = 64,
	REPLAY_RING_BLOCKS = 128,
	REPLAY_WINDOW_SIZE = (REPLAY_RING_BLOCKS - 1) * REPLAY_BLOCK_BITS,
};

struct replay_filter {
	uint64_t last;
	uint64_t ring[REPLAY_RING_BLOCKS];
};

void replay_init(struct replay_filter *f);
/* True, and the counter is recorded, if it is below limit, inside the window
 * and not seen before. */
bool replay_check(struct replay_filter *f, uint64_t counter, uint64_t limit);

#endif
