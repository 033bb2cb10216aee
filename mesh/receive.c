/*
 * The receiving side: one datagram at a time from the UDP socket. Sizes and
 * types are checked before anything else; handshake messages must carry a
 * valid mac1 (and, under load, mac2) before any public-key work; data is
 * authenticated before its counter is checked against the replay window;
 * and a decrypted packet is delivered only if its inner source address is
 * the sending peer's own.
 */
#include <sodium.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "mesh/device.h"
#include "mesh/send.h"
#include "mesh/timers.h"

/* More handshake messages than this in one second puts the device under
 * load for the next second (wireguard-go: a handshake queue 1/8 full). */
enum { UNDER_LOAD_HANDSHAKES_PER_SECOND = 128 };

static bool under_load(struct device *dev)
{
	if (dev->under_load_mode != DEVICE_LOAD_AUTO)
		return dev->under_load_mode == DEVICE_LOAD_ALWAYS;
	if (dev->now - dev->load_window_start > NSEC_PER_SEC) {
		dev->load_window_start = dev->now;
		dev->load_window_count = 0;
	}
	if (++dev->load_window_count > UNDER_LOAD_HANDSHAKES_PER_SECOND)
		dev->load_until = dev->now + NSEC_PER_SEC;
	return dev->now < dev->load_until;
}

static void authenticated(struct peer *p, const struct sockaddr_in6 *src, size_t len)
{
	/* Roaming: the peer is wherever its last authenticated packet came from. */
	p->endpoint = *src;
	p->has_endpoint = true;
	p->rx_bytes += len;
	timers_event_any_authenticated_packet_received(p);
	timers_event_any_authenticated_packet_traversal(p);
}

static void receive_cookie(struct device *dev, const uint8_t *buf)
{
	uint32_t receiver = get_le32(buf + COOKIE_OFF_RECEIVER);
	struct index_entry *e = index_table_lookup(&dev->index, receiver, INDEX_HANDSHAKE);

	if (!e)
		e = index_table_lookup(&dev->index, receiver, INDEX_KEYPAIR);
	if (!e) {
		dev->counters.rx_unknown_index++;
		return;
	}
	if (cookie_message_consume(&e->peer->cookie, buf, dev->now))
		dev->counters.cookie_received++;
	else
		dev->counters.rx_invalid++;
}

static void receive_initiation(struct device *dev, const struct sockaddr_in6 *src,
			       const uint8_t *buf, size_t len)
{
	struct noise_initiation st;
	struct peer *p;

	if (!noise_consume_initiation_static(&dev->local, buf, &st)) {
		dev->counters.rx_handshake_invalid++;
		return;
	}
	p = peer_table_by_key(&dev->peers, st.remote_static);
	if (!p) {
		sodium_memzero(&st, sizeof(st));
		dev->counters.rx_unknown_peer++;
		return;
	}
	if (!noise_consume_initiation_finish(&p->handshake, &st, buf, dev->now)) {
		dev->counters.rx_handshake_invalid++;
		return;
	}
	log_debug("peer", "%s: received handshake initiation", p->name);
	authenticated(p, src, len);
	send_handshake_response(p);
}

static void receive_response(struct device *dev, const struct sockaddr_in6 *src, const uint8_t *buf,
			     size_t len)
{
	uint32_t receiver = get_le32(buf + RESP_OFF_RECEIVER);
	struct index_entry *e = index_table_lookup(&dev->index, receiver, INDEX_HANDSHAKE);
	struct peer *p;
	struct keypair *k;

	if (!e) {
		dev->counters.rx_unknown_index++;
		return;
	}
	p = e->peer;
	if (!noise_consume_response(&p->handshake, &dev->local, buf)) {
		dev->counters.rx_handshake_invalid++;
		return;
	}
	authenticated(p, src, len);
	k = peer_keypair_create(p);
	if (!k || !noise_begin_session(&p->handshake, &k->kp, dev->now)) {
		peer_keypair_destroy(p, k);
		return;
	}
	index_table_replace(&dev->index, &p->handshake_entry, &k->entry);
	peer_keypairs_add(p, k);
	timers_event_session_derived(p);
	timers_event_handshake_complete(p);
	log_info("peer", "%s: handshake complete (initiated here)", p->name);
	/* Confirm the session at once: staged data, or else a keepalive. */
	send_keepalive(p);
}

static enum device_rx receive_handshake(struct device *dev, const struct sockaddr_in6 *src,
					uint8_t *buf, size_t len, uint8_t type)
{
	bool load = under_load(dev);
	enum cookie_mac_state mac =
		cookie_validate_packet(&dev->cookie_checker, buf, len, src, load, dev->now);

	if (mac == COOKIE_INVALID_MAC) {
		dev->counters.rx_bad_mac1++;
		return DEVICE_RX_DONE;
	}
	if (load && mac != COOKIE_VALID_MAC_WITH_COOKIE) {
		uint8_t reply[MESSAGE_COOKIE_LEN];
		uint32_t sender = get_le32(buf + 4); /* both messages put it here */

		cookie_message_create(&dev->cookie_checker, reply, buf, len, sender, src, dev->now);
		dev->ops->send(dev->ops_ctx, src, reply, sizeof(reply));
		dev->counters.cookie_sent++;
		return DEVICE_RX_DONE;
	}
	if (type == MESSAGE_HANDSHAKE_INITIATION)
		receive_initiation(dev, src, buf, len);
	else
		receive_response(dev, src, buf, len);
	return DEVICE_RX_DONE;
}

/* The inner packet's length from its header (padding is stripped), or 0 if
 * the header is not a well-formed IPv4/IPv6 one that fits. */
static size_t inner_length(const uint8_t *ip, size_t len, const uint8_t **src, size_t *src_len)
{
	size_t total;

	if (len >= 20 && ip[0] >> 4 == 4) {
		total = get_be16(ip + 2);
		if (total < 20 || total > len)
			return 0;
		*src = ip + 12;
		*src_len = 4;
		return total;
	}
	if (len >= 40 && ip[0] >> 4 == 6) {
		total = 40 + (size_t)get_be16(ip + 4);
		if (total > len)
			return 0;
		*src = ip + 8;
		*src_len = 16;
		return total;
	}
	return 0;
}

static enum device_rx receive_data(struct device *dev, const struct sockaddr_in6 *src, uint8_t *buf,
				   size_t len, size_t *ip_len)
{
	uint32_t receiver = get_le32(buf + DATA_OFF_RECEIVER);
	uint64_t counter = get_le64(buf + DATA_OFF_COUNTER);
	struct index_entry *e = index_table_lookup(&dev->index, receiver, INDEX_KEYPAIR);
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	size_t plain_len = len - MESSAGE_DATA_MIN_LEN;
	uint8_t *plain = buf + MESSAGE_DATA_HEADER_LEN;
	const uint8_t *isrc = NULL;
	size_t isrc_len = 0;

	if (!e) {
		dev->counters.rx_unknown_index++;
		return DEVICE_RX_DONE;
	}
	struct keypair *k = e->object;
	struct peer *p = e->peer;

	if (!k->kp.recv_valid || dev->now - k->kp.birthdate >= dev->timers.reject_after_time ||
	    k->kp.replay.last >= REJECT_AFTER_MESSAGES) {
		dev->counters.rx_expired_key++;
		return DEVICE_RX_DONE;
	}
	put_le64(nonce + 4, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL, plain, plain_len,
							       plain + plain_len, NULL, 0, nonce,
							       k->kp.recv_key) != 0) {
		dev->counters.rx_auth_failed++;
		return DEVICE_RX_DONE;
	}
	if (!replay_check(&k->kp.replay, counter, REJECT_AFTER_MESSAGES)) {
		dev->counters.rx_replay++;
		return DEVICE_RX_DONE;
	}
	authenticated(p, src, len);
	if (peer_keypairs_received_with(p, k)) {
		timers_event_handshake_complete(p);
		log_info("peer", "%s: handshake complete (answered here)", p->name);
		send_staged_packets(p);
	}
	/* The initiator rekeys before the keypair expires under the peer. */
	if (p->current && p->current->kp.i_am_initiator && !p->sent_lastminute_handshake &&
	    dev->now - p->current->kp.birthdate > dev->timers.reject_after_time -
							  dev->timers.keepalive_timeout -
							  dev->timers.rekey_timeout) {
		p->sent_lastminute_handshake = true;
		send_queued_handshake_initiation(p, false);
	}
	if (plain_len == 0)
		return DEVICE_RX_DONE; /* keepalive */
	if (pmtu_receive(p, plain, plain_len))
		return DEVICE_RX_DONE; /* a path MTU probe or its ack (mesh/pmtu.c) */
	timers_event_data_received(p);

	*ip_len = inner_length(plain, plain_len, &isrc, &isrc_len);
	if (!*ip_len) {
		dev->counters.rx_invalid++;
		return DEVICE_RX_DONE;
	}
	if (memcmp(isrc, isrc_len == 4 ? p->v4 : p->v6, isrc_len) != 0) {
		dev->counters.rx_bad_source++;
		return DEVICE_RX_DONE;
	}
	if (p->pmtu.outer_fragments)
		pmtu_clamp_mss(&p->pmtu, plain, *ip_len); /* mesh/pmtu.c */
	return DEVICE_RX_DELIVER;
}

enum device_rx device_receive(struct device *dev, const struct sockaddr_in6 *src, uint8_t *buf,
			      size_t len, size_t *ip_len)
{
	uint8_t type;

	/* The first byte is the type and the next three are zero. */
	if (len < 4 || get_le32(buf) > MESSAGE_DATA) {
		dev->counters.rx_invalid++;
		return DEVICE_RX_DONE;
	}
	type = buf[0];
	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
		if (len != MESSAGE_INITIATION_LEN)
			break;
		return receive_handshake(dev, src, buf, len, type);
	case MESSAGE_HANDSHAKE_RESPONSE:
		if (len != MESSAGE_RESPONSE_LEN)
			break;
		return receive_handshake(dev, src, buf, len, type);
	case MESSAGE_HANDSHAKE_COOKIE:
		if (len != MESSAGE_COOKIE_LEN)
			break;
		receive_cookie(dev, buf);
		return DEVICE_RX_DONE;
	case MESSAGE_DATA:
		/* Padding is to 16 bytes but capped at the sender's MTU, so
		 * any length from a keepalive up is possible. */
		if (len < MESSAGE_DATA_MIN_LEN)
			break;
		return receive_data(dev, src, buf, len, ip_len);
	default:
		break;
	}
	dev->counters.rx_invalid++;
	return DEVICE_RX_DONE;
}
