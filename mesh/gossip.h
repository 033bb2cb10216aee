/*
 * Gossip messages between members. They travel inside the tunnel as UDP
 * datagrams between overlay addresses (port GOSSIP_PORT), so they are
 * encrypted and authenticated by the WireGuard session; the records and
 * announcements they carry are signed on their own, so a member can relay
 * them for others.
 *
 *   magic "MG" | version u8 (1) | type u8 | body
 *   DIGEST   n u8 | n × (network_pk[32] | digest[16])
 *   RECORDS  network_pk[32] | n u8 | n × (len u16 | member record)
 *   ANNOUNCE network_pk[32] | n u8 | n × (len u16 | announcement)
 *   PULL     network_pk[32]                 "send me all you have"
 *   HOSTNAME network_pk[32] | len u8 | hostname   member asks owner to rename
 *   LEAVE    network_pk[32]                 member tells owner it left
 *   PING     id u64                          `manta ping`: answered by PONG
 *   PONG     id u64                          the same id back
 *   SERVICES network_pk[32] | n u8 | n × (len u16 | service set)   (mesh/service.h)
 *   PROBE    nonce[16] | port u16 | address[16]   `manta probe udp' (mesh/probe.h)
 *   PROBE_ACK nonce[16] | status u8                what the helper did with it
 * Lengths little-endian. A datagram is at most GOSSIP_MAX bytes, which fits
 * the tunnel's MTU of 1280 (less IPv6 and UDP headers).
 */
#ifndef MANTA_MESH_GOSSIP_H
#define MANTA_MESH_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/announce.h"
#include "mesh/member.h"
#include "mesh/network.h"
#include "mesh/probe.h"
#include "mesh/service.h"

#define GOSSIP_PORT 51821
#define GOSSIP_MAX 1232
#define GOSSIP_MAX_DIGESTS 16
#define GOSSIP_MAX_ITEMS 16

enum gossip_type {
	GOSSIP_DIGEST = 1,
	GOSSIP_RECORDS = 2,
	GOSSIP_ANNOUNCE = 3,
	GOSSIP_PULL = 4,
	GOSSIP_HOSTNAME = 5,
	GOSSIP_LEAVE = 6,
	GOSSIP_PING = 7,
	GOSSIP_PONG = 8,
	GOSSIP_SERVICES = 9,
	GOSSIP_PROBE = 10,
	GOSSIP_PROBE_ACK = 11,
};

struct gossip_digest {
	uint8_t network_pk[NETWORK_KEY_LEN];
	uint8_t digest[NETWORK_DIGEST_LEN];
};

/* A parsed message. Records and announcements are decoded and their
 * signatures verified; items that fail are skipped and counted. */
struct gossip_msg {
	enum gossip_type type;
	uint8_t network_pk[NETWORK_KEY_LEN];
	struct gossip_digest digests[GOSSIP_MAX_DIGESTS];
	size_t ndigests;
	struct member_record records[GOSSIP_MAX_ITEMS];
	size_t nrecords;
	struct announce announces[GOSSIP_MAX_ITEMS];
	size_t nannounces;
	struct service_set services[GOSSIP_MAX_ITEMS];
	size_t nservices;
	size_t rejected; /* items that did not parse or verify */
	char hostname[HOSTNAME_MAX + 1];
	uint64_t ping_id;
	struct probe_request probe; /* PROBE */
	struct probe_ack probe_ack; /* PROBE_ACK */
};

/* Parses one datagram; -EBADMSG with a reason when the frame itself is
 * malformed. The struct is large: callers keep one, not one per packet. */
int gossip_parse(const uint8_t *buf, size_t len, struct gossip_msg *m, char *err,
		 size_t errlen) WARN_UNUSED;

/* Builders return the datagram length, or 0 if it would not fit. */
size_t gossip_build_digest(const struct gossip_digest *d, size_t n, uint8_t *out, size_t cap);
size_t gossip_build_pull(const uint8_t network_pk[NETWORK_KEY_LEN], uint8_t *out, size_t cap);
size_t gossip_build_leave(const uint8_t network_pk[NETWORK_KEY_LEN], uint8_t *out, size_t cap);
size_t gossip_build_hostname(const uint8_t network_pk[NETWORK_KEY_LEN], const char *hostname,
			     uint8_t *out, size_t cap);
/* type is GOSSIP_PING or GOSSIP_PONG. */
size_t gossip_build_ping(enum gossip_type type, uint64_t id, uint8_t *out, size_t cap);
size_t gossip_build_probe(const struct probe_request *r, uint8_t *out, size_t cap);
size_t gossip_build_probe_ack(const struct probe_ack *a, uint8_t *out, size_t cap);
/* Packs as many of records[*first..n) as fit into one RECORDS datagram and
 * advances *first; call until *first == n. Same for announcements. */
size_t gossip_build_records(const uint8_t network_pk[NETWORK_KEY_LEN],
			    const struct member_record *records, size_t n, size_t *first,
			    uint8_t *out, size_t cap);
size_t gossip_build_announces(const uint8_t network_pk[NETWORK_KEY_LEN], const struct announce *a,
			      size_t n, size_t *first, uint8_t *out, size_t cap);
size_t gossip_build_services(const uint8_t network_pk[NETWORK_KEY_LEN], const struct service_set *s,
			     size_t n, size_t *first, uint8_t *out, size_t cap);

#endif
