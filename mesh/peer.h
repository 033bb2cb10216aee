/*
 * A peer: one remote node, known by its X25519 public key, reachable at the
 * /128 and /32 derived from that key. It owns its handshake, its three
 * keypair slots (previous, current, next, as WireGuard's noise.c keeps them),
 * the packets staged while no session exists, its timer deadlines and its
 * counters. The peer table finds peers by key and by overlay address.
 *
 * Owner: the device (device_peer_add / device_peer_remove).
 */
#ifndef MANTA_MESH_PEER_H
#define MANTA_MESH_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "mesh/cookie.h"
#include "mesh/index.h"
#include "mesh/messages.h"
#include "mesh/noise.h"
#include "mesh/pmtu.h"

struct device;

struct keypair {
	struct noise_keypair kp;
	struct index_entry entry;
};

struct staged_packet {
	uint16_t len;
	uint8_t data[MESSAGE_MAX_PLAINTEXT];
};

struct peer {
	struct device *dev;
	struct peer *list_prev, *list_next;
	struct peer *next_by_key, *next_by_v6, *next_by_v4;

	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t v6[16];
	uint8_t v4[4];
	uint32_t v4_index;
	char name[64]; /* for log lines: its IPv6 address */

	struct sockaddr_in6 endpoint;
	bool has_endpoint;
	/* Which of a member's announced endpoints is being tried, and since
	 * when (monotonic ns); the daemon moves on while no session forms. */
	unsigned endpoint_candidate;
	uint64_t endpoint_tried_at;
	uint16_t persistent_keepalive; /* seconds, 0 = off */

	struct noise_handshake handshake;
	struct index_entry handshake_entry;
	struct cookie cookie;
	struct keypair *previous, *current, *next;

	/* Timer deadlines in monotonic ns, 0 = not armed (see timers.c). */
	uint64_t t_retransmit_handshake;
	uint64_t t_send_keepalive;
	uint64_t t_new_handshake;
	uint64_t t_zero_key_material;
	uint64_t t_persistent_keepalive;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	unsigned handshake_attempts;
	uint64_t last_sent_handshake; /* monotonic ns, 0 = never */

	struct staged_packet *staged[MAX_STAGED_PACKETS];
	unsigned staged_head, staged_count;

	uint64_t rx_bytes, tx_bytes;
	uint64_t handshakes; /* completed */
	uint64_t last_handshake_realtime; /* ns since the epoch, 0 = never */

	struct pmtu pmtu; /* path MTU and its probes (pmtu.h) */
};

enum { PEER_BUCKETS = 256 };

struct peer_table {
	struct peer *by_key[PEER_BUCKETS];
	struct peer *by_v6[PEER_BUCKETS];
	struct peer *by_v4[PEER_BUCKETS];
	struct peer *head;
	unsigned count;
};

void peer_table_init(struct peer_table *t);
void peer_table_link(struct peer_table *t, struct peer *p);
void peer_table_unlink(struct peer_table *t, struct peer *p);
struct peer *peer_table_by_key(const struct peer_table *t, const uint8_t pk[NOISE_PUBLIC_KEY_LEN]);
struct peer *peer_table_by_v6(const struct peer_table *t, const uint8_t a[16]);
struct peer *peer_table_by_v4(const struct peer_table *t, const uint8_t a[4]);

/* Keypair slots (WireGuard's add_new_keypair / received_with_keypair). */
struct keypair *peer_keypair_create(struct peer *p);
void peer_keypair_destroy(struct peer *p, struct keypair *k);
void peer_keypairs_add(struct peer *p, struct keypair *k);
/* True if k was the pending next keypair and is now current. */
bool peer_keypairs_received_with(struct peer *p, struct keypair *k);
void peer_keypairs_clear(struct peer *p);

/* Staged packets, waiting for a session. */
bool peer_stage_packet(struct peer *p, const uint8_t *pkt, size_t len);
struct staged_packet *peer_staged_pop(struct peer *p);
void peer_staged_purge(struct peer *p);

#endif
