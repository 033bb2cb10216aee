/*
 * Overlay addresses derived from a node's X25519 public key (DESIGN.md,
 * "Identity and addresses"):
 *   IPv6: 0x02 || BLAKE2b-256("manta v6 address" || pk)[0..14]      (200::/7)
 *   IPv4: 100.64.0.0 + (le32(BLAKE2b-256("manta v4 address" || pk || le32(index))[0..3]) & 0x3fffff)
 * An IPv4 host part of all zeros or all ones, and 100.100.100.53 (the
 * resolver), are reserved: the index moves on to the next one.
 * 200::53 is reserved on the IPv6 side; such a key is refused.
 */
#ifndef MANTA_MESH_ADDRESS_H
#define MANTA_MESH_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

#define ADDRESS_KEY_LEN 32

void address_v6_from_key(const uint8_t pk[ADDRESS_KEY_LEN], uint8_t out[16]);
/* The address for exactly this index, reserved or not. */
void address_v4_from_key_index(const uint8_t pk[ADDRESS_KEY_LEN], uint32_t index, uint8_t out[4]);
/* The first index >= from whose address is not reserved. */
uint32_t address_v4_next_index(const uint8_t pk[ADDRESS_KEY_LEN], uint32_t from);
bool address_v4_reserved(const uint8_t a[4]);
bool address_v6_reserved(const uint8_t a[16]);
/* 200::/7 and 100.64.0.0/10 membership. */
bool address_v6_in_overlay(const uint8_t a[16]);
bool address_v4_in_overlay(const uint8_t a[4]);

#endif
