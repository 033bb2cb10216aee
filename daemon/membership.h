/*
 * Networks in the daemon: the networks this node belongs to (loaded from
 * STATE_DIR/networks/), the commands that change them (create, invite,
 * join, leave, kick, hostname), the join exchange with an owner (join.c),
 * gossip between members inside the tunnel (gossiper.c), and the peers the
 * member lists imply: every non-revoked member of every network this node
 * belongs to (and is not revoked from) becomes a WireGuard peer, and stops
 * being one when no network is shared any more (peers.c).
 */
#ifndef MANTA_DAEMON_MEMBERSHIP_H
#define MANTA_DAEMON_MEMBERSHIP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/util.h"
#include "daemon/commands.h"
#include "mesh/announce.h"
#include "mesh/gossip.h"
#include "mesh/invite.h"
#include "mesh/network.h"

struct mantad;
struct peer;
struct join_attempt;
struct ping_probe;
struct probe_udp;
struct rename_wait;

struct membership_counters {
	uint64_t gossip_rx, gossip_tx, gossip_rx_invalid, gossip_rx_not_member;
	uint64_t gossip_items_rejected;
	uint64_t join_requests, join_refused, join_dropped;
};

struct membership {
	struct mantad *d;
	char dir[512]; /* STATE_DIR/networks */
	struct network **nets;
	bool *dirty; /* per network: news not yet saved (membership_save_soon) */
	size_t nnets;

	uv_udp_t sock; /* [own ipv6]:GOSSIP_PORT */
	bool sock_open;
	uv_timer_t timer; /* gossip rounds, announcements, endpoint rotation */
	bool timer_open;
	struct gossip_msg *msg; /* one parse buffer */
	uint8_t tx[GOSSIP_MAX];

	uint64_t next_round, fast_until; /* monotonic ns */
	struct announce self; /* this node's endpoints */
	uint64_t next_announce_check; /* unix seconds */

	struct join_attempt *joins;
	struct ping_probe *pings;
	struct probe_udp *probe; /* `manta probe udp' (probe_udp.h); NULL until used */
	struct rename_wait *renames;
	uint64_t join_tokens; /* join request rate limit, refilled per second */
	uint64_t join_tokens_at;

	struct membership_counters counters;
};

/* The membership commands, for the registry in commands.c. */
extern const struct command membership_commands[];
extern const size_t membership_commands_count;

/* Load every network (a file that fails is reported and skipped, never
 * rewritten) and pick this node's IPv4 index from its records. Before the
 * TUN is configured. */
int membership_load(struct membership *m, struct mantad *d) WARN_UNUSED;
/* Open the gossip socket and timers, once the TUN has its addresses. */
int membership_start(struct membership *m) WARN_UNUSED;
/* Close handles; pending commands are answered with an error. */
void membership_stop(struct membership *m);
void membership_free(struct membership *m);

/* Lookups. */
struct network *membership_find(const struct membership *m, const char *label);
struct network *membership_find_key(const struct membership *m, const uint8_t pk[NETWORK_KEY_LEN]);
/* True if this node is a non-revoked member of n. */
bool membership_active(const struct membership *m, const struct network *n);
/* The record to use for a peer key: from the first active network that has
 * it as a non-revoked member, or NULL. */
const struct member_record *membership_record_for(const struct membership *m,
						  const uint8_t x25519[32]);
/* Save n to its file; logs and returns a negative errno on failure. */
int membership_save(struct membership *m, const struct network *n);
/* Gossip news is saved at the next gossip tick (within 200 ms), so a burst
 * of news costs one write, not one per item; what a crash loses there is
 * learnt again from the other members. Commands save at once. */
void membership_save_soon(struct membership *m, const struct network *n);
void membership_flush(struct membership *m);
/* peers_sync after a member list changed (logs what fails). */
void membership_sync_peers(struct membership *m);
int membership_add(struct membership *m, struct network *n) WARN_UNUSED;
/* Forget n: its file is removed. */
void membership_remove(struct membership *m, struct network *n);

/* Status: adds "networks" and, per peer, "hostname" and "networks". */
void membership_status(struct membership *m, json_t *status);

/* UDP datagrams on the data-plane socket whose first byte is a manta type
 * (join request/response). */
bool join_is_message(const uint8_t *buf, size_t len);
void join_receive(struct membership *m, const struct sockaddr_in6 *src, const uint8_t *buf,
		  size_t len);
void join_stop(struct membership *m);

/* Gossip (gossiper.c). */
int gossip_start(struct membership *m) WARN_UNUSED;
void gossip_stop(struct membership *m);
/* Send records / announcements of n to every active member but `except`
 * (may be NULL), or with a fanout to that many chosen at random. */
#define GOSSIP_ALL 0u
#define GOSSIP_RELAY_FANOUT 3u
void gossip_flood_records(struct membership *m, const struct network *n,
			  const struct member_record *r, size_t count, const uint8_t *except,
			  unsigned fanout);
void gossip_flood_announces(struct membership *m, const struct network *n, const struct announce *a,
			    size_t count, const uint8_t *except, unsigned fanout);
/* Send everything we know of n to one member. */
void gossip_send_all(struct membership *m, const struct network *n, const uint8_t x25519[32]);
void gossip_send_to(struct membership *m, const uint8_t x25519[32], const uint8_t *buf, size_t len);
/* Gossip faster for a while: something changed. */
void gossip_hurry(struct membership *m);
/* One round: digests to a random member per network, endpoint rotation. */
void gossip_round(struct membership *m);

/* Local endpoints (endpoints.c): this host's usable addresses with port. */
size_t endpoints_local(const char *skip_ifname, uint16_t port, struct sockaddr_in6 *out,
		       size_t max);
/* Re-read local endpoints; if they changed, sign a new announcement, merge
 * it into every active network and flood it. */
void membership_announce(struct membership *m);

/* Shared by the command files. */
bool membership_names_ok(struct command_call *call, const char *label, const char *host);
bool membership_label_free(struct mantad *d, struct command_call *call, const char *label);
json_t *membership_joined_json(struct mantad *d, const struct network *n);

/* Command handlers living in other files. */
void command_join(struct mantad *d, struct command_call *call, json_t *args);
void command_ping(struct mantad *d, struct command_call *call, json_t *args);
void command_hostname(struct mantad *d, struct command_call *call, json_t *args);
void command_leave(struct mantad *d, struct command_call *call, json_t *args);
void command_up(struct mantad *d, struct command_call *call, json_t *args);
void command_down(struct mantad *d, struct command_call *call, json_t *args);
void ping_stop(struct membership *m);
void rename_stop(struct membership *m);
/* The owner of n answered a rename or a join: finish waiting commands. */
void rename_check(struct membership *m, const struct network *n);
void join_check(struct membership *m, const struct network *n);
void ping_pong(struct membership *m, const uint8_t x25519[32], uint64_t id);

#endif
