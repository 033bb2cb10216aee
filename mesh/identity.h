/*
 * The node's identity: one ed25519 key pair (signing), from which the X25519
 * key pair the tunnel protocol uses is derived with libsodium's
 * crypto_sign_ed25519_*_to_curve25519. The X25519 public key is the node's
 * public identity (what a stock WireGuard peer knows it by).
 *
 * On disk: STATE_DIR/node.key, mode 0600, one line: the 32-byte ed25519 seed
 * in base64 (what `manta genkey` prints). Owner: the daemon context; the
 * struct lives in sodium_malloc'd memory.
 */
#ifndef MANTA_MESH_IDENTITY_H
#define MANTA_MESH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define KEY_LEN 32
#define KEY_B64_LEN 45 /* 44 characters and a NUL, as WireGuard prints keys */
#define IDENTITY_KEY_FILE "node.key"

struct identity {
	uint8_t seed[KEY_LEN];
	uint8_t ed_sk[64];
	uint8_t ed_pk[KEY_LEN];
	uint8_t x_sk[KEY_LEN]; /* clamped */
	uint8_t x_pk[KEY_LEN];
	uint8_t v6[16];
	uint8_t v4[4];
	uint32_t v4_index;
};

/* -EINVAL if the key derives a reserved address (200::53). */
int identity_from_seed(const uint8_t seed[KEY_LEN], struct identity **out) WARN_UNUSED;
/* A fresh random seed whose key derives no reserved address. */
void identity_generate_seed(uint8_t seed[KEY_LEN]);
/* Loads STATE_DIR/node.key, creating it (and STATE_DIR, 0700) on first start.
 * On failure returns a negative errno and writes a message naming the file. */
int identity_load_or_create(const char *state_dir, struct identity **out, char *err,
			    size_t errlen) WARN_UNUSED;
void identity_destroy(struct identity *id);

/* The X25519 public key for an ed25519 seed, as `manta pubkey` prints it. */
int identity_public_from_seed(const uint8_t seed[KEY_LEN], uint8_t x_pk[KEY_LEN]) WARN_UNUSED;

/* Base64 (standard alphabet, padded, 44 characters) as WireGuard encodes keys.
 * Leading and trailing white space is not accepted. */
bool key_from_base64(const char *s, uint8_t out[KEY_LEN]);
void key_to_base64(const uint8_t key[KEY_LEN], char out[KEY_B64_LEN]);

#endif
