/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s with WireGuard's prologue and
 * framing. Each step is annotated with the Noise tokens of the pattern:
 *
 *   IK:  <- s
 *        ...
 *        -> e, es, s, ss, {t}
 *        <- e, ee, se, psk, {}
 *
 * Every function works on local copies of the chaining key and hash and
 * commits them to the handshake only when the whole message checked out, so
 * a forged message leaves no trace. Secrets on the stack are wiped on every
 * path.
 */
#include "mesh/noise.h"

#include <sodium.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/hash.h"

const uint8_t noise_initial_chaining_key[NOISE_HASH_LEN] = {
	0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0, 0x2e, 0xc3, 0x35,
	0xe2, 0xa0, 0x25, 0xd2, 0xd0, 0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72,
	0x77, 0xf5, 0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
};

const uint8_t noise_initial_hash[NOISE_HASH_LEN] = {
	0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66, 0x69, 0x12, 0x43,
	0xdb, 0x45, 0x8a, 0xd5, 0x32, 0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93,
	0xe8, 0xb7, 0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
};

static void clamp(uint8_t k[NOISE_PUBLIC_KEY_LEN])
{
	k[0] &= 248;
	k[31] = (k[31] & 127) | 64;
}

static void mix_hash(uint8_t h[NOISE_HASH_LEN], const void *in, size_t len)
{
	hash2(h, h, NOISE_HASH_LEN, in, len);
}

/* C = KDF1(C, in), or (C, key) = KDF2(C, in) when key is wanted. */
static void mix_key(uint8_t c[NOISE_HASH_LEN], uint8_t *key, const void *in, size_t len)
{
	kdf(c, key, NULL, c, in, len);
}

static bool mix_dh(uint8_t c[NOISE_HASH_LEN], uint8_t *key, const uint8_t priv[32],
		   const uint8_t pub[32])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];

	/* libsodium refuses an all-zero result (a low-order point). */
	if (crypto_scalarmult(dh, priv, pub) != 0)
		return false;
	mix_key(c, key, dh, sizeof(dh));
	sodium_memzero(dh, sizeof(dh));
	return true;
}

static void mix_precomputed(uint8_t c[NOISE_HASH_LEN], uint8_t *key,
			    const uint8_t ss[NOISE_PUBLIC_KEY_LEN])
{
	mix_key(c, key, ss, NOISE_PUBLIC_KEY_LEN);
}

static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];

static void encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	static const uint8_t nothing[1];

	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, len ? src : nothing, len, h,
						  NOISE_HASH_LEN, NULL, zero_nonce, key);
	mix_hash(h, dst, noise_encrypted_len(len));
}

static bool decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	uint8_t scratch[1];

	if (crypto_aead_chacha20poly1305_ietf_decrypt(dst ? dst : scratch, NULL, NULL, src,
						      noise_encrypted_len(len), h, NOISE_HASH_LEN,
						      zero_nonce, key) != 0)
		return false;
	mix_hash(h, src, noise_encrypted_len(len));
	return true;
}

static void new_ephemeral(uint8_t priv[NOISE_PUBLIC_KEY_LEN], uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	randombytes_buf(priv, NOISE_PUBLIC_KEY_LEN);
	clamp(priv);
	crypto_scalarmult_base(pub, priv);
}

/* C = C0; H = HASH(H0 || responder's static). */
static void handshake_start(uint8_t c[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
			    const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	memcpy(c, noise_initial_chaining_key, NOISE_HASH_LEN);
	hash2(h, noise_initial_hash, NOISE_HASH_LEN, responder_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t realtime_ns)
{
	uint64_t sec = realtime_ns / NSEC_PER_SEC;
	uint32_t nsec = (uint32_t)(realtime_ns % NSEC_PER_SEC);

	/* TAI64 label 2^62 plus the 10 s TAI-UTC offset WireGuard uses; the
	 * low 24 bits of the nanoseconds are masked so the timestamp does not
	 * leak fine-grained timing. */
	put_be64(out, 0x400000000000000aULL + sec);
	put_be32(out + 8, nsec & ~0xffffffU);
}

void noise_local_init(struct noise_local *local, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN])
{
	memcpy(local->private_key, private_key, NOISE_PUBLIC_KEY_LEN);
	clamp(local->private_key);
	crypto_scalarmult_base(local->public_key, local->private_key);
}

bool noise_handshake_init(struct noise_handshake *hs, const struct noise_local *local,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t preshared_key[NOISE_SYMMETRIC_KEY_LEN])
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, NOISE_SYMMETRIC_KEY_LEN);
	if (crypto_scalarmult(hs->precomputed_static_static, local->private_key, remote_static)) {
		sodium_memzero(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
		return false;
	}
	return true;
}

static bool handshake_usable(const struct noise_handshake *hs)
{
	return !sodium_is_zero(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	hs->state = HANDSHAKE_ZEROED;
	sodium_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	sodium_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	sodium_memzero(hs->hash, sizeof(hs->hash));
	sodium_memzero(hs->chaining_key, sizeof(hs->chaining_key));
	hs->local_index = 0;
	hs->remote_index = 0;
}

bool noise_create_initiation(struct noise_handshake *hs, const struct noise_local *local,
			     uint8_t msg[MESSAGE_INITIATION_LEN], uint32_t local_index,
			     uint64_t realtime_ns)
{
	uint8_t timestamp[NOISE_TIMESTAMP_LEN];
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t c[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	bool ok = false;

	if (!handshake_usable(hs))
		return false;
	memset(msg, 0, MESSAGE_INITIATION_LEN);
	msg[0] = MESSAGE_HANDSHAKE_INITIATION;
	put_le32(msg + INIT_OFF_SENDER, local_index);
	handshake_start(c, h, hs->remote_static);

	/* e */
	new_ephemeral(e_priv, msg + INIT_OFF_EPHEMERAL);
	mix_key(c, NULL, msg + INIT_OFF_EPHEMERAL, NOISE_PUBLIC_KEY_LEN);
	mix_hash(h, msg + INIT_OFF_EPHEMERAL, NOISE_PUBLIC_KEY_LEN);

	/* es */
	if (!mix_dh(c, key, e_priv, hs->remote_static))
		goto out;

	/* s */
	encrypt_and_hash(msg + INIT_OFF_STATIC, local->public_key, NOISE_PUBLIC_KEY_LEN, key, h);

	/* ss */
	mix_precomputed(c, key, hs->precomputed_static_static);

	/* {t} */
	noise_tai64n(timestamp, realtime_ns);
	encrypt_and_hash(msg + INIT_OFF_TIMESTAMP, timestamp, NOISE_TIMESTAMP_LEN, key, h);

	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	memcpy(hs->chaining_key, c, sizeof(c));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(c, sizeof(c));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(e_priv, sizeof(e_priv));
	return ok;
}

bool noise_consume_initiation_static(const struct noise_local *local,
				     const uint8_t msg[MESSAGE_INITIATION_LEN],
				     struct noise_initiation *st)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	bool ok = false;

	handshake_start(st->chaining_key, st->hash, local->public_key);

	/* e */
	memcpy(st->remote_ephemeral, msg + INIT_OFF_EPHEMERAL, NOISE_PUBLIC_KEY_LEN);
	mix_key(st->chaining_key, NULL, st->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	mix_hash(st->hash, st->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);

	/* es */
	if (!mix_dh(st->chaining_key, key, local->private_key, st->remote_ephemeral))
		goto out;

	/* s */
	if (!decrypt_and_hash(st->remote_static, msg + INIT_OFF_STATIC, NOISE_PUBLIC_KEY_LEN, key,
			      st->hash))
		goto out;
	st->remote_index = get_le32(msg + INIT_OFF_SENDER);
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	if (!ok)
		sodium_memzero(st, sizeof(*st));
	return ok;
}

bool noise_consume_initiation_finish(struct noise_handshake *hs, struct noise_initiation *st,
				     const uint8_t msg[MESSAGE_INITIATION_LEN], uint64_t now)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t t[NOISE_TIMESTAMP_LEN];
	bool ok = false;

	if (!handshake_usable(hs))
		goto out;

	/* ss */
	mix_precomputed(st->chaining_key, key, hs->precomputed_static_static);

	/* {t} */
	if (!decrypt_and_hash(t, msg + INIT_OFF_TIMESTAMP, NOISE_TIMESTAMP_LEN, key, st->hash))
		goto out;

	/* A timestamp not newer than the last one accepted is a replay; more
	 * than INITIATIONS_PER_SECOND from one peer is a flood. */
	if (memcmp(t, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0)
		goto out;
	if (hs->last_initiation_consumption &&
	    now - hs->last_initiation_consumption < NSEC_PER_SEC / INITIATIONS_PER_SECOND)
		goto out;

	memcpy(hs->latest_timestamp, t, NOISE_TIMESTAMP_LEN);
	memcpy(hs->remote_ephemeral, st->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->hash, st->hash, NOISE_HASH_LEN);
	memcpy(hs->chaining_key, st->chaining_key, NOISE_HASH_LEN);
	hs->remote_index = st->remote_index;
	hs->last_initiation_consumption = now;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(st, sizeof(*st));
	return ok;
}

/* e, ee, se, psk, {} from the responder's side, or (mirror) the initiator's.
 * e_priv/e_pub: the responder's ephemeral; for the initiator e_priv is its
 * own ephemeral and s_priv its static. */
static bool response_tokens(uint8_t c[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
			    const uint8_t responder_ephemeral[NOISE_PUBLIC_KEY_LEN],
			    const uint8_t ee_priv[32], const uint8_t ee_pub[32],
			    const uint8_t se_priv[32], const uint8_t se_pub[32],
			    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN], uint8_t key[32])
{
	uint8_t tau[NOISE_HASH_LEN];

	/* e */
	mix_key(c, NULL, responder_ephemeral, NOISE_PUBLIC_KEY_LEN);
	mix_hash(h, responder_ephemeral, NOISE_PUBLIC_KEY_LEN);
	/* ee */
	if (!mix_dh(c, NULL, ee_priv, ee_pub))
		return false;
	/* se */
	if (!mix_dh(c, NULL, se_priv, se_pub))
		return false;
	/* psk */
	kdf(c, tau, key, c, psk, NOISE_SYMMETRIC_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));
	sodium_memzero(tau, sizeof(tau));
	return true;
}

bool noise_create_response(struct noise_handshake *hs, uint8_t msg[MESSAGE_RESPONSE_LEN],
			   uint32_t local_index)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t c[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	bool ok = false;

	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return false;
	memcpy(c, hs->chaining_key, sizeof(c));
	memcpy(h, hs->hash, sizeof(h));
	memset(msg, 0, MESSAGE_RESPONSE_LEN);
	msg[0] = MESSAGE_HANDSHAKE_RESPONSE;
	put_le32(msg + RESP_OFF_SENDER, local_index);
	put_le32(msg + RESP_OFF_RECEIVER, hs->remote_index);

	new_ephemeral(e_priv, msg + RESP_OFF_EPHEMERAL);
	if (!response_tokens(c, h, msg + RESP_OFF_EPHEMERAL, e_priv, hs->remote_ephemeral, e_priv,
			     hs->remote_static, hs->preshared_key, key))
		goto out;

	/* {} */
	encrypt_and_hash(msg + RESP_OFF_EMPTY, NULL, 0, key, h);

	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	memcpy(hs->chaining_key, c, sizeof(c));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(c, sizeof(c));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(e_priv, sizeof(e_priv));
	return ok;
}

bool noise_consume_response(struct noise_handshake *hs, const struct noise_local *local,
			    const uint8_t msg[MESSAGE_RESPONSE_LEN])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t c[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	const uint8_t *e_r = msg + RESP_OFF_EPHEMERAL;
	bool ok = false;

	if (hs->state != HANDSHAKE_CREATED_INITIATION)
		return false;
	memcpy(c, hs->chaining_key, sizeof(c));
	memcpy(h, hs->hash, sizeof(h));

	if (!response_tokens(c, h, e_r, hs->ephemeral_private, e_r, local->private_key, e_r,
			     hs->preshared_key, key))
		goto out;
	/* {} */
	if (!decrypt_and_hash(NULL, msg + RESP_OFF_EMPTY, 0, key, h))
		goto out;

	memcpy(hs->remote_ephemeral, e_r, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->chaining_key, c, sizeof(c));
	memcpy(hs->hash, h, sizeof(h));
	hs->remote_index = get_le32(msg + RESP_OFF_SENDER);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(c, sizeof(c));
	sodium_memzero(h, sizeof(h));
	return ok;
}

bool noise_begin_session(struct noise_handshake *hs, struct noise_keypair *kp, uint64_t now)
{
	memset(kp, 0, sizeof(*kp));
	if (hs->state == HANDSHAKE_CONSUMED_RESPONSE) {
		kdf(kp->send_key, kp->recv_key, NULL, hs->chaining_key, NULL, 0);
		kp->i_am_initiator = true;
	} else if (hs->state == HANDSHAKE_CREATED_RESPONSE) {
		kdf(kp->recv_key, kp->send_key, NULL, hs->chaining_key, NULL, 0);
		kp->i_am_initiator = false;
	} else {
		return false;
	}
	replay_init(&kp->replay);
	kp->birthdate = now;
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->send_valid = true;
	kp->recv_valid = true;
	noise_handshake_clear(hs);
	return true;
}
