/*
 * The sending side: encrypting IP packets for their peer (the hot path,
 * in the caller's buffer), and the datagrams the engine makes itself:
 * initiations (rate limited to one per REKEY_TIMEOUT), responses, keepalives
 * and packets staged while no session existed.
 */
#include "mesh/send.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"
#include "common/log.h"
#include "mesh/device.h"
#include "mesh/timers.h"

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void send_to_peer(struct peer *p, const uint8_t *buf, size_t len)
{
	struct device *dev = p->dev;

	dev->ops->send(dev->ops_ctx, &p->endpoint, buf, len);
	p->tx_bytes += len;
}

bool send_keypair_usable(const struct peer *p, const struct keypair *k)
{
	const struct device *dev = p->dev;

	return k && k->kp.send_valid &&
	       dev->now - k->kp.birthdate < dev->timers.reject_after_time &&
	       k->kp.send_counter < REJECT_AFTER_MESSAGES;
}

static void send_handshake_initiation(struct peer *p)
{
	struct device *dev = p->dev;
	uint8_t msg[MESSAGE_INITIATION_LEN];

	if (p->last_sent_handshake && dev->now - p->last_sent_handshake < dev->timers.rekey_timeout)
		return;
	if (!p->has_endpoint)
		return;
	p->last_sent_handshake = dev->now;

	index_table_remove(&dev->index, &p->handshake_entry);
	uint32_t idx = index_table_insert(&dev->index, &p->handshake_entry);

	if (!noise_create_initiation(&p->handshake, &dev->local, msg, idx, realtime_ns())) {
		index_table_remove(&dev->index, &p->handshake_entry);
		return;
	}
	cookie_add_macs(&p->cookie, msg, sizeof(msg), dev->now);
	timers_event_any_authenticated_packet_traversal(p);
	timers_event_any_authenticated_packet_sent(p);
	log_debug("peer", "%s: sending handshake initiation", p->name);
	send_to_peer(p, msg, sizeof(msg));
	timers_event_handshake_initiated(p);
}

void send_queued_handshake_initiation(struct peer *p, bool is_retry)
{
	if (!is_retry)
		p->handshake_attempts = 0;
	send_handshake_initiation(p);
}

void send_handshake_response(struct peer *p)
{
	struct device *dev = p->dev;
	uint8_t msg[MESSAGE_RESPONSE_LEN];
	struct keypair *k;

	index_table_remove(&dev->index, &p->handshake_entry);
	uint32_t idx = index_table_insert(&dev->index, &p->handshake_entry);

	if (!noise_create_response(&p->handshake, msg, idx))
		goto err;
	cookie_add_macs(&p->cookie, msg, sizeof(msg), dev->now);
	k = peer_keypair_create(p);
	if (!k)
		goto err;
	if (!noise_begin_session(&p->handshake, &k->kp, dev->now)) {
		peer_keypair_destroy(p, k);
		goto err;
	}
	/* The keypair takes over the handshake's index. */
	index_table_replace(&dev->index, &p->handshake_entry, &k->entry);
	peer_keypairs_add(p, k);
	timers_event_session_derived(p);
	timers_event_any_authenticated_packet_traversal(p);
	timers_event_any_authenticated_packet_sent(p);
	/* As WireGuard: no initiation of our own while the one we answer
	 * completes (it would cross with the initiator's confirmation). */
	p->last_sent_handshake = dev->now;
	log_debug("peer", "%s: sending handshake response", p->name);
	send_to_peer(p, msg, sizeof(msg));
	return;
err:
	index_table_remove(&dev->index, &p->handshake_entry);
	noise_handshake_clear(&p->handshake);
}

void send_keep_key_fresh(struct peer *p)
{
	struct device *dev = p->dev;
	struct keypair *k = p->current;

	if (k && k->kp.send_valid &&
	    (k->kp.send_counter > REKEY_AFTER_MESSAGES ||
	     (k->kp.i_am_initiator && dev->now - k->kp.birthdate > dev->timers.rekey_after_time)))
		send_queued_handshake_initiation(p, false);
}

/* Pad to a multiple of 16 within the MTU, then seal in place behind the
 * 16-byte header; the tag follows the ciphertext. Returns the datagram size. */
static size_t seal(struct keypair *k, uint8_t *buf, size_t ip_len)
{
	size_t padded = (ip_len + MESSAGE_PADDING_MULTIPLE - 1) &
			~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	uint64_t counter = k->kp.send_counter++;
	uint8_t *payload = buf + MESSAGE_DATA_HEADER_LEN;

	if (padded > MESSAGE_MAX_PLAINTEXT)
		padded = ip_len > MESSAGE_MAX_PLAINTEXT ? ip_len : MESSAGE_MAX_PLAINTEXT;
	memset(payload + ip_len, 0, padded - ip_len);
	put_le32(buf, MESSAGE_DATA);
	put_le32(buf + DATA_OFF_RECEIVER, k->kp.remote_index);
	put_le64(buf + DATA_OFF_COUNTER, counter);
	put_le64(nonce + 4, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(payload, payload + padded, NULL, payload,
							   padded, NULL, 0, NULL, nonce,
							   k->kp.send_key);
	return MESSAGE_DATA_HEADER_LEN + padded + NOISE_AUTHTAG_LEN;
}

static void sent_data(struct peer *p, size_t ip_len)
{
	timers_event_any_authenticated_packet_traversal(p);
	timers_event_any_authenticated_packet_sent(p);
	if (ip_len)
		timers_event_data_sent(p);
}

void send_staged_packets(struct peer *p)
{
	struct device *dev = p->dev;
	struct staged_packet *s;

	while (p->staged_count && send_keypair_usable(p, p->current) && p->has_endpoint) {
		s = peer_staged_pop(p);
		memcpy(dev->scratch + MESSAGE_DATA_HEADER_LEN, s->data, s->len);
		size_t n = seal(p->current, dev->scratch, s->len);

		send_to_peer(p, dev->scratch, n);
		sent_data(p, s->len);
		free(s);
	}
	if (p->staged_count)
		send_queued_handshake_initiation(p, false);
	else
		send_keep_key_fresh(p);
}

bool send_control_packet(struct peer *p, size_t ip_len)
{
	struct device *dev = p->dev;

	if (!send_keypair_usable(p, p->current) || !p->has_endpoint)
		return false;
	send_to_peer(p, dev->scratch, seal(p->current, dev->scratch, ip_len));
	return true;
}

void send_keepalive(struct peer *p)
{
	struct device *dev = p->dev;

	if (p->staged_count) {
		send_staged_packets(p);
		return;
	}
	if (!send_keypair_usable(p, p->current) || !p->has_endpoint) {
		send_queued_handshake_initiation(p, false);
		return;
	}
	size_t n = seal(p->current, dev->scratch, 0);

	send_to_peer(p, dev->scratch, n);
	sent_data(p, 0);
	send_keep_key_fresh(p);
}

/* An inner packet larger than the peer's path allows (mesh/pmtu.c). IPv4
 * with DF, and IPv6, are refused: the caller answers with an ICMP error
 * naming *mtu. IPv4 without DF may fragment, and so may IPv6 on a path too
 * small for the 1280 bytes every IPv6 link must carry (RFC 8200, 5). */
static enum device_tx too_big(struct peer *p, const uint8_t *ip, size_t *mtu)
{
	struct pmtu *pm = &p->pmtu;

	if (ip[0] >> 4 == 4 ? !(ip[6] & 0x40) : pm->outer_fragments) {
		pm->tx_fragmented++;
		return DEVICE_TX_SEND_FRAG;
	}
	pm->tx_too_big++;
	*mtu = pm->max_inner;
	return DEVICE_TX_TOO_BIG;
}

enum device_tx device_encrypt(struct device *dev, uint8_t *buf, size_t ip_len, size_t *out_len,
			      const struct sockaddr_in6 **to)
{
	enum device_tx verdict = DEVICE_TX_SEND;

	struct peer *p = device_peer_for_destination(dev, buf + MESSAGE_DATA_HEADER_LEN, ip_len);

	if (!p) {
		dev->counters.tx_no_route++;
		return DEVICE_TX_DROP;
	}
	if (!p->has_endpoint) {
		dev->counters.tx_no_endpoint++;
		return DEVICE_TX_DROP;
	}
	/* Without a usable session, or with older packets still waiting, the
	 * packet joins the queue so order is kept. */
	if (p->staged_count || !send_keypair_usable(p, p->current)) {
		if (!peer_stage_packet(p, buf + MESSAGE_DATA_HEADER_LEN, ip_len))
			dev->counters.tx_staged_dropped++;
		send_staged_packets(p);
		return DEVICE_TX_STAGED;
	}
	if (ip_len > p->pmtu.max_inner) {
		verdict = too_big(p, buf + MESSAGE_DATA_HEADER_LEN, out_len);
		if (verdict == DEVICE_TX_TOO_BIG)
			return verdict;
	}
	if (p->pmtu.outer_fragments)
		pmtu_clamp_mss(&p->pmtu, buf + MESSAGE_DATA_HEADER_LEN, ip_len);
	*out_len = seal(p->current, buf, ip_len);
	*to = &p->endpoint;
	p->tx_bytes += *out_len;
	sent_data(p, ip_len);
	send_keep_key_fresh(p);
	return verdict;
}
