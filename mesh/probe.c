/*
 * Probe messages, the probe datagram, and the two rules that keep a helper
 * from being used against anyone else: where it may send (an address the
 * requester gave it) and how often (a token bucket per requester).
 */
#include "mesh/probe.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/errmsg.h"
#include "mesh/address.h"

size_t probe_request_encode(const struct probe_request *r, uint8_t *out, size_t cap)
{
	if (cap < PROBE_REQUEST_LEN || r->port == 0)
		return 0;
	memcpy(out, r->nonce, PROBE_NONCE_LEN);
	put_le16(out + PROBE_NONCE_LEN, r->port);
	memcpy(out + PROBE_NONCE_LEN + 2, r->address, 16);
	return PROBE_REQUEST_LEN;
}

int probe_request_decode(const uint8_t *buf, size_t len, struct probe_request *r, char *err,
			 size_t errlen)
{
	if (len != PROBE_REQUEST_LEN)
		return errmsg(err, errlen, -EBADMSG, "probe request is %zu bytes, not %d", len,
			      PROBE_REQUEST_LEN);
	memcpy(r->nonce, buf, PROBE_NONCE_LEN);
	r->port = get_le16(buf + PROBE_NONCE_LEN);
	memcpy(r->address, buf + PROBE_NONCE_LEN + 2, 16);
	if (r->port == 0)
		return errmsg(err, errlen, -EBADMSG, "probe request names port 0");
	return 0;
}

size_t probe_ack_encode(const struct probe_ack *a, uint8_t *out, size_t cap)
{
	if (cap < PROBE_ACK_LEN || (unsigned)a->status > PROBE_STATUS_MAX)
		return 0;
	memcpy(out, a->nonce, PROBE_NONCE_LEN);
	out[PROBE_NONCE_LEN] = (uint8_t)a->status;
	return PROBE_ACK_LEN;
}

int probe_ack_decode(const uint8_t *buf, size_t len, struct probe_ack *a, char *err, size_t errlen)
{
	if (len != PROBE_ACK_LEN)
		return errmsg(err, errlen, -EBADMSG, "probe answer is %zu bytes, not %d", len,
			      PROBE_ACK_LEN);
	if (buf[PROBE_NONCE_LEN] > PROBE_STATUS_MAX)
		return errmsg(err, errlen, -EBADMSG, "probe answer status %u is unknown",
			      buf[PROBE_NONCE_LEN]);
	memcpy(a->nonce, buf, PROBE_NONCE_LEN);
	a->status = (enum probe_status)buf[PROBE_NONCE_LEN];
	return 0;
}

const char *probe_status_str(enum probe_status s)
{
	switch (s) {
	case PROBE_SENT:
		return "sent";
	case PROBE_REFUSED_TARGET:
		return "the address is not one this node announced or has its session from";
	case PROBE_REFUSED_RATE:
		return "too many probes from this node; try again in a minute";
	case PROBE_SEND_FAILED:
		return "it could not send to the address (no route?)";
	}
	return "unknown status";
}

size_t probe_datagram_build(const uint8_t nonce[PROBE_NONCE_LEN], uint8_t *out, size_t cap)
{
	if (cap < PROBE_DATAGRAM_LEN)
		return 0;
	memcpy(out, PROBE_MAGIC, PROBE_MAGIC_LEN);
	memcpy(out + PROBE_MAGIC_LEN, nonce, PROBE_NONCE_LEN);
	return PROBE_DATAGRAM_LEN;
}

bool probe_datagram_match(const uint8_t *payload, size_t len, uint8_t nonce[PROBE_NONCE_LEN])
{
	if (len != PROBE_DATAGRAM_LEN || memcmp(payload, PROBE_MAGIC, PROBE_MAGIC_LEN) != 0)
		return false;
	memcpy(nonce, payload + PROBE_MAGIC_LEN, PROBE_NONCE_LEN);
	return true;
}

bool probe_address_routable(const uint8_t a[16])
{
	if (a[0] == 0x00 || a[0] == 0xff)
		return false;
	if (a[0] == 0xfe && (a[1] & 0x80) == 0x80) /* fe80::/10, fec0::/10 */
		return false;
	return !address_v6_in_overlay(a);
}

bool probe_target_ok(const uint8_t target[16], const struct sockaddr_in6 *known, size_t n,
		     const char **why)
{
	const char *dummy;

	why = why ? why : &dummy;
	if (!probe_address_routable(target)) {
		*why = "not a unicast IPv6 address outside the mesh";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (memcmp(known[i].sin6_addr.s6_addr, target, 16) == 0)
			return true;
	*why = "not an address the requester announced or has its session from";
	return false;
}

bool probe_limiter_take(struct probe_limiter *l, const uint8_t key[32], uint64_t now)
{
	size_t victim = 0;

	for (size_t i = 0; i < PROBE_LIMIT_SLOTS; i++) {
		if (l->slot[i].at && memcmp(l->slot[i].key, key, 32) == 0) {
			uint64_t refill = (now - l->slot[i].at) / PROBE_REFILL_NS;

			if (refill) {
				l->slot[i].tokens = (unsigned)MIN((uint64_t)PROBE_BURST,
								  l->slot[i].tokens + refill);
				l->slot[i].at += refill * PROBE_REFILL_NS;
			}
			if (l->slot[i].tokens == 0)
				return false;
			l->slot[i].tokens--;
			return true;
		}
		if (l->slot[i].at < l->slot[victim].at)
			victim = i;
	}
	memcpy(l->slot[victim].key, key, 32);
	l->slot[victim].at = now;
	l->slot[victim].tokens = PROBE_BURST - 1;
	return true;
}
