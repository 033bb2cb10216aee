/*
 * The daemon's half of path MTU (the engine's is mesh/pmtu.c): the UDP
 * socket's don't-fragment settings and its error queue, the ICMP "too big"
 * errors written into the TUN (rate-limited per source), the local
 * interface MTU toward an endpoint, and the status fields.
 *
 * The UDP socket sends everything with DF set (IPv4) or unfragmented (IPv6)
 * and ignores the kernel's cached path MTU (IP(V6)_PMTUDISC_PROBE), so the
 * engine's path_mtu alone decides what is sent; packets that may fragment
 * go out in runs between pathmtu_fragment(fd, true) and (fd, false).
 * ICMP errors reach the socket's error queue (IP_RECVERR, IPV6_RECVERR);
 * SO_SELECT_ERR_QUEUE makes them a UV_PRIORITIZED event, which libuv's
 * uv_poll reports instead of stopping the handle on POLLERR.
 *
 * Owner: the daemon context (struct mantad).
 */
#ifndef MANTA_DAEMON_PMTU_H
#define MANTA_DAEMON_PMTU_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tun/icmp.h"

struct mantad;
struct peer;

enum {
	PTB_SOURCES = 64, /* rate-limit slots, by hash of the source address */
	PTB_BURST = 10, /* errors a source may get at once */
	PTB_REFILL_MS = 100, /* then one more each 100 ms: 10 a second */
};

struct ptb_source {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint8_t family; /* 4 or 6, 0 = free */
	uint8_t tokens;
	uint64_t refilled; /* monotonic ns */
};

struct pathmtu_counters {
	uint64_t ptb_sent; /* ICMP too-big errors written into the TUN */
	uint64_t ptb_rate_limited; /* not written: that source had too many */
	uint64_t ptb_not_allowed; /* not written: about an ICMP error, multicast, ... */
	uint64_t icmp_errors; /* entries read from the UDP socket's error queue */
	uint64_t icmp_too_big; /* of which "too big" for a peer's endpoint, applied */
	uint64_t icmp_unmatched; /* "too big" naming no peer, or failing validation */
	uint64_t tx_fragment_runs; /* sendmmsg runs with fragmentation allowed */
};

struct pathmtu {
	struct ptb_source sources[PTB_SOURCES];
	uint8_t icmp[ICMP_ERROR_MAX];
	struct pathmtu_counters counters;
};

/* --- pmtu_linux.c (platform) --- */
/* DF, probe mode and the error queue on the data plane's UDP socket. */
void pathmtu_socket_setup(int fd);
/* Before (on) and after (off) a run of datagrams that may fragment. */
void pathmtu_fragment(int fd, bool on);
/* Read the whole error queue and apply each "too big" to its peers. */
void pathmtu_read_errors(struct mantad *d);
/* device_ops.link_mtu: the MTU of the interface that reaches `to', or 0. */
unsigned pathmtu_link_mtu(void *ctx, const struct sockaddr_in6 *to);

/* --- pmtu.c --- */
/* An inner packet from the TUN did not fit its peer's path: write an ICMP
 * error with mtu into the TUN, unless not allowed or rate-limited. */
void pathmtu_too_big(struct mantad *d, const uint8_t *ip, size_t len, unsigned mtu);
/* The kernel said a datagram to `to' was too big for a link of mtu bytes;
 * quoted is the start of that datagram's UDP payload, as far as the ICMP
 * error quoted it. Applied to the peers at that address if it checks out. */
void pathmtu_icmp_error(struct mantad *d, const struct sockaddr_in6 *to, const uint8_t *quoted,
			size_t qlen, unsigned mtu);
/* Per-peer fields of `status' (path_mtu, max_inner, probe_state, ...). */
void pathmtu_peer_status(const struct peer *p, json_t *peer);
/* The counters above, into status' counters object. */
void pathmtu_counters_status(const struct mantad *d, json_t *counters);

#endif
