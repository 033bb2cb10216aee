/*
 * Inbound reachability probes (`manta probe udp PORT`): a node asks a peer
 * (the helper) to send one UDP datagram to the node's public IPv6 address
 * on PORT from outside the tunnel, and watches whether it arrives.
 *
 * The request and its answer are gossip messages (mesh/gossip.h), so they
 * travel inside a WireGuard session and their source is authenticated:
 *
 *   PROBE      nonce[16] | port u16 | address[16]   "send nonce to [address]:port"
 *   PROBE_ACK  nonce[16] | status u8                 what the helper did
 *
 * The datagram itself goes over the helper's ordinary underlay:
 *
 *   magic "MPRB" | nonce[16]
 *
 * A helper sends only to an address the requester itself gave it: one of
 * the endpoints the requester announced, or the address its session comes
 * from (probe_target_ok), and only a few a minute per requester
 * (probe_limiter), so that manta cannot be made to send datagrams to third
 * parties. Lengths little-endian like the rest of gossip.
 */
#ifndef MANTA_MESH_PROBE_H
#define MANTA_MESH_PROBE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/messages.h"

#define PROBE_NONCE_LEN 16
#define PROBE_MAGIC "MPRB"
#define PROBE_MAGIC_LEN 4
#define PROBE_DATAGRAM_LEN (PROBE_MAGIC_LEN + PROBE_NONCE_LEN)
#define PROBE_REQUEST_LEN (PROBE_NONCE_LEN + 2 + 16)
#define PROBE_ACK_LEN (PROBE_NONCE_LEN + 1)

_Static_assert(PROBE_DATAGRAM_LEN == 20, "probe datagram: magic and nonce");
_Static_assert(PROBE_REQUEST_LEN == 34, "PROBE body: nonce, port, address");
_Static_assert(PROBE_ACK_LEN == 17, "PROBE_ACK body: nonce, status");

/* Rate limit per requester: a bucket of PROBE_BURST datagrams, refilled
 * one every PROBE_REFILL_NS; PROBE_LIMIT_SLOTS requesters are tracked. */
enum {
	PROBE_BURST = 6,
	PROBE_LIMIT_SLOTS = 32,
};
#define PROBE_REFILL_NS (10 * NSEC_PER_SEC)

enum probe_status {
	PROBE_SENT = 0, /* the datagram left the helper */
	PROBE_REFUSED_TARGET = 1, /* not an address the requester gave the helper */
	PROBE_REFUSED_RATE = 2, /* too many requests from this requester */
	PROBE_SEND_FAILED = 3, /* sendto failed (no route, say) */
	PROBE_STATUS_MAX = PROBE_SEND_FAILED,
};

struct probe_request {
	uint8_t nonce[PROBE_NONCE_LEN];
	uint16_t port;
	uint8_t address[16];
};

struct probe_ack {
	uint8_t nonce[PROBE_NONCE_LEN];
	enum probe_status status;
};

/* Codecs of the two gossip bodies (without the gossip header). Encoders
 * return the length, or 0 if cap is too small or the request is invalid;
 * decoders return 0 or -EBADMSG with a reason. */
size_t probe_request_encode(const struct probe_request *r, uint8_t *out, size_t cap);
int probe_request_decode(const uint8_t *buf, size_t len, struct probe_request *r, char *err,
			 size_t errlen) WARN_UNUSED;
size_t probe_ack_encode(const struct probe_ack *a, uint8_t *out, size_t cap);
int probe_ack_decode(const uint8_t *buf, size_t len, struct probe_ack *a, char *err,
		     size_t errlen) WARN_UNUSED;
const char *probe_status_str(enum probe_status s);

/* The datagram: build it (PROBE_DATAGRAM_LEN, or 0 if cap is too small);
 * match a UDP payload, giving its nonce. */
size_t probe_datagram_build(const uint8_t nonce[PROBE_NONCE_LEN], uint8_t *out, size_t cap);
bool probe_datagram_match(const uint8_t *payload, size_t len, uint8_t nonce[PROBE_NONCE_LEN]);

/* Unicast IPv6 a helper could reach over the internet: not ::/8 (the
 * unspecified and loopback addresses, IPv4-mapped ones), not multicast,
 * link-local or site-local, not the overlay. ULAs count: private networks
 * route them. */
bool probe_address_routable(const uint8_t a[16]);

/* True if a helper may send to target for a requester whose own addresses
 * (announced endpoints, session endpoint; v4 ones as ::ffff:a.b.c.d, ports
 * ignored) are known[0..n). Otherwise false and *why says why. Only
 * unicast IPv6 outside the overlay and the special ranges qualifies. */
bool probe_target_ok(const uint8_t target[16], const struct sockaddr_in6 *known, size_t n,
		     const char **why);

/* The per-requester token buckets. Owner: whoever embeds it (zeroed). */
struct probe_limiter {
	struct {
		uint8_t key[32];
		uint64_t at; /* monotonic ns of the last refill; 0 = free slot */
		unsigned tokens;
	} slot[PROBE_LIMIT_SLOTS];
};

/* Takes one token of key's bucket at now (monotonic ns, non-zero); false
 * when it is empty. A new key takes the least recently used slot. */
bool probe_limiter_take(struct probe_limiter *l, const uint8_t key[32], uint64_t now);

#endif
