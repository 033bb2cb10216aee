/*
 * `manta probe udp PORT': is this node's PORT reachable from the internet
 * over IPv6? The node asks a peer with a session (the helper) to send a
 * datagram carrying a fresh nonce to its public address from outside the
 * tunnel, and watches for it with a raw socket (probe_raw.h). Both sides
 * live here: the requester (the command, its retry and deadline) and the
 * helper (checks, rate limit, the datagram). Wire formats: mesh/probe.h.
 *
 * Owner: the membership (struct membership's probe), created on first use,
 * freed by probe_udp_stop.
 */
#ifndef MANTA_DAEMON_PROBE_UDP_H
#define MANTA_DAEMON_PROBE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/commands.h"
#include "mesh/gossip.h"

struct membership;

/* Retry after PROBE_RETRY_MS without an arrival; give up after
 * PROBE_TIMEOUT_MS; at most PROBE_MAX_WAITING probes at once. */
enum {
	PROBE_RETRY_MS = 1000,
	PROBE_TIMEOUT_MS = 3000,
	PROBE_MAX_WAITING = 4,
	PROBE_ATTEMPTS = 2,
};

extern const struct command probe_commands[];
extern const size_t probe_commands_count;

/* A PROBE or PROBE_ACK from the peer with key from; the caller checked that
 * it is a member or a static peer. */
void probe_udp_take(struct membership *m, const uint8_t from[32], const struct gossip_msg *g);
/* Answer every waiting probe with an error and free the state. */
void probe_udp_stop(struct membership *m);

#endif
