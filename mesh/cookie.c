#include "mesh/cookie.h"

#include <sodium.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/hash.h"

static void derive_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const char *label,
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	hash2(key, label, strlen(label), pub, NOISE_PUBLIC_KEY_LEN);
}

/* mac1 covers the message up to mac1; mac2 up to mac2. */
static void compute_mac1(uint8_t out[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	mac16(out, key, NOISE_SYMMETRIC_KEY_LEN, msg, len - MACS_LEN);
}

static void compute_mac2(uint8_t out[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	mac16(out, cookie, COOKIE_LEN, msg, len - COOKIE_LEN);
}

void cookie_checker_init(struct cookie_checker *checker,
			 const uint8_t local_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(checker, 0, sizeof(*checker));
	derive_key(checker->mac1_key, LABEL_MAC1, local_public);
	derive_key(checker->cookie_key, LABEL_COOKIE, local_public);
}

/* cookie = MAC(secret, source address bytes || port), IPv4 in its 4-byte form. */
static void make_cookie(struct cookie_checker *checker, uint8_t out[COOKIE_LEN],
			const struct sockaddr_in6 *src, uint64_t now)
{
	uint8_t who[16 + 2];
	size_t n;

	if (!checker->secret_birthdate ||
	    now - checker->secret_birthdate > COOKIE_SECRET_MAX_AGE_NS) {
		randombytes_buf(checker->secret, sizeof(checker->secret));
		checker->secret_birthdate = now ? now : 1;
	}
	if (IN6_IS_ADDR_V4MAPPED(&src->sin6_addr)) {
		memcpy(who, src->sin6_addr.s6_addr + 12, 4);
		n = 4;
	} else {
		memcpy(who, src->sin6_addr.s6_addr, 16);
		n = 16;
	}
	memcpy(who + n, &src->sin6_port, 2);
	mac16(out, checker->secret, sizeof(checker->secret), who, n + 2);
}

enum cookie_mac_state cookie_validate_packet(struct cookie_checker *checker, const uint8_t *msg,
					     size_t len, const struct sockaddr_in6 *src,
					     bool check_cookie, uint64_t now)
{
	uint8_t computed[COOKIE_LEN];
	uint8_t cookie[COOKIE_LEN];
	const uint8_t *mac1 = msg + len - MACS_LEN;
	const uint8_t *mac2 = msg + len - COOKIE_LEN;

	compute_mac1(computed, msg, len, checker->mac1_key);
	if (sodium_memcmp(computed, mac1, COOKIE_LEN) != 0)
		return COOKIE_INVALID_MAC;
	if (!check_cookie)
		return COOKIE_VALID_MAC_BUT_NO_COOKIE;

	make_cookie(checker, cookie, src, now);
	compute_mac2(computed, msg, len, cookie);
	sodium_memzero(cookie, sizeof(cookie));
	if (sodium_memcmp(computed, mac2, COOKIE_LEN) != 0)
		return COOKIE_VALID_MAC_BUT_NO_COOKIE;
	return COOKIE_VALID_MAC_WITH_COOKIE;
}

void cookie_message_create(struct cookie_checker *checker, uint8_t out[MESSAGE_COOKIE_LEN],
			   const uint8_t *msg, size_t len, uint32_t receiver_index,
			   const struct sockaddr_in6 *src, uint64_t now)
{
	uint8_t cookie[COOKIE_LEN];
	const uint8_t *mac1 = msg + len - MACS_LEN;

	memset(out, 0, MESSAGE_COOKIE_LEN);
	out[0] = MESSAGE_HANDSHAKE_COOKIE;
	put_le32(out + COOKIE_OFF_RECEIVER, receiver_index);
	randombytes_buf(out + COOKIE_OFF_NONCE, COOKIE_NONCE_LEN);
	make_cookie(checker, cookie, src, now);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + COOKIE_OFF_COOKIE, NULL, cookie,
						   COOKIE_LEN, mac1, COOKIE_LEN, NULL,
						   out + COOKIE_OFF_NONCE, checker->cookie_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void cookie_init(struct cookie *cookie, const uint8_t remote_public[NOISE_PUBLIC_KEY_LEN])
{
	memset(cookie, 0, sizeof(*cookie));
	derive_key(cookie->mac1_key, LABEL_MAC1, remote_public);
	derive_key(cookie->cookie_key, LABEL_COOKIE, remote_public);
}

void cookie_add_macs(struct cookie *cookie, uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t *mac1 = msg + len - MACS_LEN;
	uint8_t *mac2 = msg + len - COOKIE_LEN;

	compute_mac1(mac1, msg, len, cookie->mac1_key);
	memcpy(cookie->last_mac1_sent, mac1, COOKIE_LEN);
	cookie->have_sent_mac1 = true;

	/* A cookie is good for two minutes, less the time it may have spent
	 * in flight. */
	if (cookie->is_valid &&
	    now - cookie->birthdate < COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS)
		compute_mac2(mac2, msg, len, cookie->cookie);
	else
		memset(mac2, 0, COOKIE_LEN);
}

bool cookie_message_consume(struct cookie *cookie, const uint8_t msg[MESSAGE_COOKIE_LEN],
			    uint64_t now)
{
	uint8_t plain[COOKIE_LEN];

	if (!cookie->have_sent_mac1)
		return false;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, NULL, NULL, msg + COOKIE_OFF_COOKIE, noise_encrypted_len(COOKIE_LEN),
		    cookie->last_mac1_sent, COOKIE_LEN, msg + COOKIE_OFF_NONCE, cookie->cookie_key))
		return false;
	memcpy(cookie->cookie, plain, COOKIE_LEN);
	cookie->birthdate = now;
	cookie->is_valid = true;
	cookie->have_sent_mac1 = false;
	sodium_memzero(plain, sizeof(plain));
	return true;
}
