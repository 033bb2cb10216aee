/*
 * WireGuard wire formats and protocol constants, as the whitepaper and
 * wireguard-go define them (see docs/protocol.md). Every integer on the wire
 * is little-endian; messages are decoded with common/bytes.h at the offsets
 * below, never by casting a packet pointer.
 */
#ifndef MANTA_MESH_MESSAGES_H
#define MANTA_MESH_MESSAGES_H

#include <stdint.h>

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define LABEL_MAC1 "mac1----"
#define LABEL_COOKIE "cookie--"

enum noise_lengths {
	NOISE_PUBLIC_KEY_LEN = 32,
	NOISE_SYMMETRIC_KEY_LEN = 32,
	NOISE_TIMESTAMP_LEN = 12,
	NOISE_AUTHTAG_LEN = 16,
	NOISE_HASH_LEN = 32,
	COOKIE_LEN = 16,
	COOKIE_NONCE_LEN = 24,
	COOKIE_SECRET_LEN = 32,
};

#define noise_encrypted_len(plain_len) ((plain_len) + NOISE_AUTHTAG_LEN)

enum message_type {
	MESSAGE_INVALID = 0,
	MESSAGE_HANDSHAKE_INITIATION = 1,
	MESSAGE_HANDSHAKE_RESPONSE = 2,
	MESSAGE_HANDSHAKE_COOKIE = 3,
	MESSAGE_DATA = 4,
};

/* Type 1, 148 bytes. */
enum message_initiation_layout {
	INIT_OFF_SENDER = 4,
	INIT_OFF_EPHEMERAL = 8,
	INIT_OFF_STATIC = 40,
	INIT_OFF_TIMESTAMP = 88,
	INIT_OFF_MAC1 = 116,
	INIT_OFF_MAC2 = 132,
	MESSAGE_INITIATION_LEN = 148,
};

/* Type 2, 92 bytes. */
enum message_response_layout {
	RESP_OFF_SENDER = 4,
	RESP_OFF_RECEIVER = 8,
	RESP_OFF_EPHEMERAL = 12,
	RESP_OFF_EMPTY = 44,
	RESP_OFF_MAC1 = 60,
	RESP_OFF_MAC2 = 76,
	MESSAGE_RESPONSE_LEN = 92,
};

/* Type 3, 64 bytes. */
enum message_cookie_layout {
	COOKIE_OFF_RECEIVER = 4,
	COOKIE_OFF_NONCE = 8,
	COOKIE_OFF_COOKIE = 32,
	MESSAGE_COOKIE_LEN = 64,
};

/* Type 4: header, encrypted (padded) packet, tag. A keepalive is 32 bytes. */
enum message_data_layout {
	DATA_OFF_RECEIVER = 4,
	DATA_OFF_COUNTER = 8,
	DATA_OFF_PAYLOAD = 16,
	MESSAGE_DATA_HEADER_LEN = 16,
	MESSAGE_DATA_MIN_LEN = MESSAGE_DATA_HEADER_LEN + NOISE_AUTHTAG_LEN,
	MESSAGE_PADDING_MULTIPLE = 16,
};

/* The mac fields sit at the same distance from the end of both handshake
 * messages: mac1 covers everything before it, mac2 everything before mac2. */
enum message_macs_layout {
	MACS_LEN = 2 * COOKIE_LEN,
};

_Static_assert(INIT_OFF_EPHEMERAL + NOISE_PUBLIC_KEY_LEN == INIT_OFF_STATIC, "initiation");
_Static_assert(INIT_OFF_STATIC + noise_encrypted_len(NOISE_PUBLIC_KEY_LEN) == INIT_OFF_TIMESTAMP,
	       "initiation");
_Static_assert(INIT_OFF_TIMESTAMP + noise_encrypted_len(NOISE_TIMESTAMP_LEN) == INIT_OFF_MAC1,
	       "initiation");
_Static_assert(INIT_OFF_MAC2 + COOKIE_LEN == MESSAGE_INITIATION_LEN, "initiation is 148 bytes");
_Static_assert(RESP_OFF_EPHEMERAL + NOISE_PUBLIC_KEY_LEN == RESP_OFF_EMPTY, "response");
_Static_assert(RESP_OFF_EMPTY + noise_encrypted_len(0) == RESP_OFF_MAC1, "response");
_Static_assert(RESP_OFF_MAC2 + COOKIE_LEN == MESSAGE_RESPONSE_LEN, "response is 92 bytes");
_Static_assert(COOKIE_OFF_COOKIE + noise_encrypted_len(COOKIE_LEN) == MESSAGE_COOKIE_LEN,
	       "cookie reply is 64 bytes");
_Static_assert(MESSAGE_DATA_MIN_LEN == 32, "keepalive is 32 bytes");

/* Limits and timers (wireguard-go device/constants.go), in the units named. */
#define REKEY_AFTER_MESSAGES (1ULL << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define NSEC_PER_SEC 1000000000ULL
#define REKEY_AFTER_TIME_NS (120 * NSEC_PER_SEC)
#define REJECT_AFTER_TIME_NS (180 * NSEC_PER_SEC)
#define REKEY_ATTEMPT_TIME_NS (90 * NSEC_PER_SEC)
#define REKEY_TIMEOUT_NS (5 * NSEC_PER_SEC)
#define REKEY_TIMEOUT_JITTER_MAX_NS (NSEC_PER_SEC / 3)
#define KEEPALIVE_TIMEOUT_NS (10 * NSEC_PER_SEC)
#define COOKIE_SECRET_MAX_AGE_NS (120 * NSEC_PER_SEC)
#define COOKIE_SECRET_LATENCY_NS (5 * NSEC_PER_SEC)
#define INITIATIONS_PER_SECOND 50
#define MAX_PEERS_PER_DEVICE (1U << 20)
#define MAX_STAGED_PACKETS 128

/* Largest IP packet the TUN hands us (MTU 1280) and the largest datagram. */
#define MESSAGE_MAX_PLAINTEXT 1280
#define MESSAGE_MAX_DATAGRAM (MESSAGE_DATA_HEADER_LEN + MESSAGE_MAX_PLAINTEXT + NOISE_AUTHTAG_LEN)

#endif
