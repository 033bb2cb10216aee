/*
 * mac1, mac2 and cookie replies: WireGuard's defence against handshake
 * floods. Every handshake message carries mac1 = MAC(HASH("mac1----" ||
 * receiver's static), msg up to mac1), which is checked before any DH. Under
 * load the responder also demands mac2 = MAC(cookie, msg up to mac2), where
 * the cookie is MAC(secret, source IP || port) with a secret renewed every
 * two minutes; an initiation without it gets a cookie reply (type 3) whose
 * cookie is sealed with XChaCha20-Poly1305 under HASH("cookie--" || static),
 * bound to the mac1 of the message it answers.
 */
#ifndef MANTA_MESH_COOKIE_H
#define MANTA_MESH_COOKIE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/messages.h"

/* Responder side, one per device. */
struct cookie_checker {
	uint8_t secret[COOKIE_SECRET_LEN];
	uint64_t secret_birthdate; /* monotonic ns; 0 = never made */
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN];
};

/* Initiator side, one per peer. */
struct cookie {
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t cookie[COOKIE_LEN];
	uint64_t birthdate; /* monotonic ns */
	bool is_valid;
	bool have_sent_mac1;
	uint8_t last_mac1_sent[COOKIE_LEN];
};

enum cookie_mac_state {
	COOKIE_INVALID_MAC,
	COOKIE_VALID_MAC_BUT_NO_COOKIE,
	COOKIE_VALID_MAC_WITH_COOKIE,
};

void cookie_checker_init(struct cookie_checker *checker,
			 const uint8_t local_public[NOISE_PUBLIC_KEY_LEN]);
/* msg is a whole handshake message (initiation or response) of len bytes. */
enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker, const uint8_t *msg,
					     size_t len, const struct sockaddr_in6 *src,
					     bool check_cookie, uint64_t now);
/* Build the type-3 reply to msg, addressed to the sender's index. */
void cookie_message_create(struct cookie_checker *checker, uint8_t out[MESSAGE_COOKIE_LEN],
			   const uint8_t *msg, size_t len, uint32_t receiver_index,
			   const struct sockaddr_in6 *src, uint64_t now);

void cookie_init(struct cookie *cookie, const uint8_t remote_public[NOISE_PUBLIC_KEY_LEN]);
/* Fill mac1 and mac2 (zero without a fresh cookie) of an outgoing message. */
void cookie_add_macs(struct cookie *cookie, uint8_t *msg, size_t len, uint64_t now);
/* Open a cookie reply meant for this peer; true if a cookie was stored. */
bool cookie_message_consume(struct cookie *cookie, const uint8_t msg[MESSAGE_COOKIE_LEN],
			    uint64_t now);

#endif
