/*
 * Path MTU per peer: the largest outer datagram (IP header included) that
 * reaches the peer, and from it the largest inner packet that fits. It is
 * learnt by DPLPMTUD (RFC 8899) inside the tunnel -- padded probes that a
 * manta peer acknowledges, see docs/protocol.md, "Path MTU probes" -- and
 * lowered at once by the ICMP errors the daemon reads from the UDP socket's
 * error queue (pmtu_event_icmp). A peer that never answers probes (stock
 * WireGuard) is left to the ICMP errors alone.
 *
 * Sizes live on a grid: a transport message pads its packet to 16 bytes, so
 * the datagrams that matter are overhead + 16k, with the overhead of the
 * outer family (IPv4 20 + UDP 8 + WireGuard 32 = 60, IPv6 40 + 8 + 32 =
 * 80). path_mtu is always on that grid, so max_inner = path_mtu - overhead
 * exactly. Probes go no higher than a full TUN packet needs (overhead +
 * MESSAGE_MAX_PLAINTEXT) nor above the local interface's MTU.
 *
 * Owner: the peer (embedded in struct peer). All of it runs on the engine's
 * thread; the hot path reads max_inner and outer_fragments only.
 */
#ifndef MANTA_MESH_PMTU_H
#define MANTA_MESH_PMTU_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/messages.h"

struct peer;

#define PMTU_PROBE_TIMEOUT_NS NSEC_PER_SEC
#define PMTU_RAISE_INTERVAL_NS (600 * NSEC_PER_SEC) /* RFC 8899 PMTU_RAISE_TIMER */

enum pmtu_state {
	PMTU_DISABLED, /* no endpoint or no session yet: nothing probed */
	PMTU_BASE, /* does the peer answer probes? (a probe of the minimum size) */
	PMTU_SEARCHING, /* binary search between confirmed and refused sizes */
	PMTU_SEARCH_COMPLETE, /* done until the raise timer (or an ICMP error) */
	PMTU_ICMP_ONLY, /* the peer never answered: ICMP errors alone lower it */
};

enum pmtu_limits {
	PMTU_OVERHEAD_V4 = 20 + 8 + MESSAGE_DATA_MIN_LEN,
	PMTU_OVERHEAD_V6 = 40 + 8 + MESSAGE_DATA_MIN_LEN,
	PMTU_MIN_V4 = 576, /* every IPv4 host takes this (RFC 791); smaller reports are clamped */
	PMTU_MIN_V6 = 1280, /* the IPv6 minimum link MTU (RFC 8200) */
	PMTU_IPV6_MIN_INNER = 1280, /* an inner IPv6 packet this big must always pass */
	PMTU_MAX_PROBES = 3, /* tries per size before it counts as refused (RFC 8899) */
	PMTU_UNLIMITED = 0xffff, /* max_inner before anything is known */
};

/* The probe and its acknowledgement: UDP between the two overlay IPv6
 * addresses, port PMTU_PROBE_PORT on both sides, this payload. */
enum pmtu_probe_layout {
	PMTU_PROBE_PORT = 51822,
	PROBE_OFF_MAGIC = 0, /* "MTUP" */
	PROBE_OFF_VERSION = 4, /* 1 */
	PROBE_OFF_TYPE = 5, /* PMTU_PROBE or PMTU_ACK */
	PROBE_OFF_SIZE = 6, /* le16: the probe's outer datagram size, as its sender built it */
	PROBE_OFF_SEQ = 8, /* le32: the sender's probe number, copied into the ack */
	PROBE_OFF_RECEIVED = 12, /* le16: ack only, the inner length that arrived */
	PROBE_PAYLOAD_LEN = 16, /* then zeros up to the probe size */
	PROBE_MIN_INNER = 40 + 8 + PROBE_PAYLOAD_LEN,
	PMTU_PROBE = 1,
	PMTU_ACK = 2,
};

_Static_assert(PMTU_OVERHEAD_V4 == 60 && PMTU_OVERHEAD_V6 == 80, "outer overheads");
_Static_assert(PROBE_OFF_RECEIVED + 2 + 2 == PROBE_PAYLOAD_LEN, "probe payload is 16 bytes");
_Static_assert(PROBE_MIN_INNER == 64, "an ack is a 64-byte IPv6 packet");

struct pmtu {
	uint8_t state; /* enum pmtu_state */
	bool have_endpoint; /* measured is set */
	bool v6_outer; /* the endpoint is IPv6, not v4-mapped */
	bool outer_fragments; /* a 1280-byte inner IPv6 packet does not fit */
	bool top_first; /* the next search probe is high - 16, not the middle */
	uint8_t probe_tries;
	uint16_t path_mtu; /* 0 = not known (no endpoint yet) */
	uint16_t max_inner; /* path_mtu - overhead, or PMTU_UNLIMITED */
	uint16_t ceiling; /* largest size worth probing on this path */
	uint16_t low, high; /* search: largest acknowledged, smallest refused */
	uint16_t probe_size; /* in flight, 0 = none */
	uint32_t probe_seq, probe_seq_first; /* latest try, first try at this size */
	uint64_t probe_rx_mark; /* peer's rx_bytes when this size was first sent */
	uint64_t t_probe, t_raise; /* deadlines in monotonic ns, 0 = not armed */
	struct in6_addr measured; /* the endpoint address this state is about */

	/* Counters for `manta status`. */
	uint64_t probes_sent, probes_acked;
	uint64_t ptb_received; /* ICMP errors (or local EMSGSIZE) applied */
	uint64_t ptb_sent; /* ICMP errors written into the TUN (the daemon counts) */
	uint64_t tx_too_big; /* inner packets refused as too big */
	uint64_t tx_fragmented; /* sent with outer fragmentation allowed */
	uint64_t mss_clamped; /* IPv6 TCP SYNs whose MSS was lowered */
};

/* Called by device_peer_add: nothing known, nothing limited. */
void pmtu_init(struct peer *p);
/* From device_tick: notices a new endpoint, starts rounds, times probes out. */
void pmtu_tick(struct peer *p);
/* The kernel reported that a datagram to this peer was too big for a link
 * whose MTU is mtu (an ICMP error on the UDP socket, or a local one). */
void pmtu_event_icmp(struct peer *p, unsigned mtu);
/* Data went out and nothing came back (the new_handshake timer): confirm
 * the current size again (RFC 8899 black-hole detection). */
void pmtu_event_quiet(struct peer *p);
/* A decrypted packet from p: if it is a probe (answered here), an ack, or
 * an ICMPv6 unreachable about one of our probes (a peer without manta),
 * consume it and return true; otherwise false and it goes on as usual. */
bool pmtu_receive(struct peer *p, const uint8_t *ip, size_t len);
/* On a path too small for 1280-byte IPv6 (outer_fragments), lower the MSS
 * option of an IPv6 TCP SYN to max_inner - 60, in place, so that TCP's
 * segments fit and nothing fragments. Called on both directions' packets
 * for such a peer only. */
void pmtu_clamp_mss(struct pmtu *pm, uint8_t *ip, size_t len);

const char *pmtu_state_name(unsigned state);
/* The outer overhead of the peer's current path. */
unsigned pmtu_overhead(const struct pmtu *pm);

#endif
