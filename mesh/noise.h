/*
 * The Noise_IKpsk2 handshake as WireGuard frames it, and the transport
 * keypairs it derives. Pure computation: no sockets, no clocks read here
 * (callers pass the time), no peer table (consuming an initiation is split in
 * two so the caller can look the peer up by the static key it reveals).
 *
 * Owner: a noise_handshake and its keypair slots are embedded in their peer;
 * keypairs are heap objects owned by that peer's slots (previous, current,
 * next) and wiped when freed.
 */
#ifndef MANTA_MESH_NOISE_H
#define MANTA_MESH_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh/messages.h"
#include "mesh/replay.h"

struct noise_local {
	uint8_t private_key[NOISE_PUBLIC_KEY_LEN];
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];
};

enum noise_handshake_state {
	HANDSHAKE_ZEROED,
	HANDSHAKE_CREATED_INITIATION,
	HANDSHAKE_CONSUMED_INITIATION,
	HANDSHAKE_CREATED_RESPONSE,
	HANDSHAKE_CONSUMED_RESPONSE,
};

struct noise_handshake {
	enum noise_handshake_state state;
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t precomputed_static_static[NOISE_PUBLIC_KEY_LEN]; /* zero if unusable */
	uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t ephemeral_private[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumption; /* monotonic ns, 0 = never */
	uint32_t local_index;
	uint32_t remote_index;
};

struct noise_keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t send_counter;
	struct replay_filter replay;
	uint64_t birthdate; /* monotonic ns */
	uint32_t local_index;
	uint32_t remote_index;
	bool i_am_initiator;
	bool send_valid;
	bool recv_valid;
};

/* What the first half of consuming an initiation learns; wiped by the second. */
struct noise_initiation {
	uint8_t hash[NOISE_HASH_LEN];
	uint8_t chaining_key[NOISE_HASH_LEN];
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint32_t remote_index;
};

/* C0 = HASH(CONSTRUCTION), H0 = HASH(C0 || IDENTIFIER). */
extern const uint8_t noise_initial_chaining_key[NOISE_HASH_LEN];
extern const uint8_t noise_initial_hash[NOISE_HASH_LEN];

/* Sets the public key from the private key (clamped here). */
void noise_local_init(struct noise_local *local, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN]);
/* Prepares a peer's handshake; false if the static-static DH is zero (a
 * low-order public key): such a peer can never complete a handshake. */
bool noise_handshake_init(struct noise_handshake *hs, const struct noise_local *local,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN]);
/* Forget the exchange in progress but keep identity, timestamp and flood state. */
void noise_handshake_clear(struct noise_handshake *hs);

/* Initiator: fill msg[0 .. INIT_OFF_MAC1) (macs are the cookie module's). */
bool noise_create_initiation(struct noise_handshake *hs, const struct noise_local *local,
			     uint8_t msg[MESSAGE_INITIATION_LEN], uint32_t local_index,
			     uint64_t realtime_ns);
/* Responder, step 1: decrypt the initiator's static key. */
bool noise_consume_initiation_static(const struct noise_local *local,
				     const uint8_t msg[MESSAGE_INITIATION_LEN],
				     struct noise_initiation *st);
/* Responder, step 2, with the handshake of the peer st->remote_static names:
 * decrypt and check the timestamp (replay, flood) and store the state. */
bool noise_consume_initiation_finish(struct noise_handshake *hs, struct noise_initiation *st,
				     const uint8_t msg[MESSAGE_INITIATION_LEN], uint64_t now);
bool noise_create_response(struct noise_handshake *hs, uint8_t msg[MESSAGE_RESPONSE_LEN],
			   uint32_t local_index);
/* Initiator: hs is the handshake whose local index the response names. */
bool noise_consume_response(struct noise_handshake *hs, const struct noise_local *local,
			    const uint8_t msg[MESSAGE_RESPONSE_LEN]);
/* Derive the transport keys into kp and zero the handshake. */
bool noise_begin_session(struct noise_handshake *hs, struct noise_keypair *kp, uint64_t now);

/* TAI64N with the low 24 bits of the nanoseconds masked off. */
void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t realtime_ns);

#endif
