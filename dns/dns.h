/*
 * Magic DNS in mantad: the resolver at 100.100.100.53 and 200::53
 * (answer.c, zone.c; UDP from the TUN's packet stream and TCP through a
 * reflected kernel listener, packet.c, tcp.c), forwarding to the upstream
 * resolvers found at start (forward.c), the host's DNS configuration
 * (system.c and its backends), and service names (services.c, gossip.c).
 *
 * State in STATE_DIR/dns/: services.json, the resolv.conf backup and the
 * takeover record that lets the next start undo what a crashed one did.
 * Owner: the daemon context (d->dns), created by dns_start, freed by
 * dns_free.
 */
#ifndef MANTA_DNS_DNS_H
#define MANTA_DNS_DNS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/util.h"
#include "daemon/commands.h"
#include "dns/answer.h"
#include "dns/cache.h"
#include "dns/forward.h"
#include "dns/packet.h"
#include "dns/services.h"
#include "dns/system.h"

struct mantad;
struct network;
struct gossip_msg;
struct tcp_conn;

struct dns_counters {
	uint64_t udp_queries, tcp_queries, tcp_connections;
	uint64_t answered, forwarded, upstream_failed, dropped;
};

struct dns {
	struct mantad *d;
	char dir[512]; /* STATE_DIR/dns */
	struct dns_forward fwd;
	bool fwd_open;
	struct dns_services svc;
	bool svc_dirty;
	struct dns_cache cache; /* answers to .pi names (cache.h) */
	struct dns_system sys;

	uv_tcp_t listener; /* [::]:L on the TUN device (tcp.c) */
	bool listener_open;
	uint16_t listen_port;
	struct tcp_conn *conns;
	size_t nconns;

	uv_timer_t tick; /* once a second: idle TCP, own service sets, saves */
	bool tick_open;

	struct dns_counters counters;
	uint8_t answer[DNS_TCP_MAX + 2]; /* one answer at a time (+ TCP length) */
	uint8_t pkt[DNS_IP_PACKET_MAX];
};

/* Start: services, forwarder, TCP listener, system integration. Failures of
 * the integration are logged and reported in status, never fatal. */
int dns_start(struct mantad *d) WARN_UNUSED;
/* Undo the system integration, close every handle. */
void dns_stop(struct mantad *d);
void dns_free(struct mantad *d);

/* The data plane's hook for every packet read from the TUN: true if the
 * resolver took it (answered, reflected or dropped it). */
bool dns_intercept(struct dns *dns, uint8_t *pkt, size_t len);
/* A member list or a service set changed: cached answers are stale. */
void dns_zone_changed(struct dns *dns);
/* `manta down` / `manta up`: the TUN went away or came back. */
void dns_tun_down(struct dns *dns);
void dns_tun_up(struct dns *dns);
/* `manta up --accept-dns=…`: remembered in STATE_DIR/dns/accept_dns. */
void dns_set_accept(struct dns *dns, bool accept);

/* Status: adds "dns" to the status object. */
void dns_status(struct dns *dns, json_t *status);

/* The zone as the member lists make it now. */
struct dns_zone dns_zone_now(const struct dns *dns);

/* Service names over gossip (gossip.c): a SERVICES message from member
 * `from' of n; everything about n for one member; the anti-entropy digest
 * with n's service sets mixed in. All accept dns == NULL. */
void dns_gossip_take(struct dns *dns, struct network *n, const struct gossip_msg *g,
		     const uint8_t from[32]);
void dns_gossip_send_all(struct dns *dns, const struct network *n, const uint8_t to[32]);
void dns_gossip_digest(const struct dns *dns, const struct network *n, uint8_t digest[16]);
/* Re-sign this node's sets where its registrations or networks changed,
 * flood the news and save. */
void dns_services_refresh(struct dns *dns);
void dns_services_save_now(struct dns *dns);

/* Commands (daemon/dns_cmd.c). */
extern const struct command dns_commands[];
extern const size_t dns_commands_count;

/* The TCP side (tcp.c). */
int dns_tcp_open(struct dns *dns) WARN_UNUSED;
void dns_tcp_close(struct dns *dns);
void dns_tcp_sweep(struct dns *dns); /* close idle connections */
/* Send one answer on a connection (the length prefix is added here). */
void dns_tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len);
/* A pending forward holds the connection: it is freed after the last put. */
void dns_tcp_get(struct tcp_conn *c);
void dns_tcp_put(struct tcp_conn *c);

/* Where an answer goes: a UDP client (flow, payload unused) or a TCP
 * connection. */
struct dns_reply_to {
	bool tcp;
	struct dns_flow flow;
	struct tcp_conn *conn;
};

/* Shared by UDP and TCP: answer or forward one message. */
void dns_handle_query(struct dns *dns, const uint8_t *msg, size_t len, bool tcp,
		      const struct dns_reply_to *to);

#endif
