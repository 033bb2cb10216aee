/*
 * The daemon context: one struct, passed explicitly to every part of mantad
 * (as OpenIKED passes struct iked). It owns the event loop and every handle
 * on it, the configuration, the identity, the protocol engine, the data
 * plane and the control socket.
 */
#ifndef MANTA_DAEMON_MANTAD_H
#define MANTA_DAEMON_MANTAD_H

#include <net/if.h>
#include <stdbool.h>
#include <jansson.h>
#include <uv.h>

#include "daemon/api_http.h"
#include "daemon/config.h"
#include "daemon/control.h"
#include "daemon/dataplane.h"
#include "daemon/filter.h"
#include "daemon/membership.h"
#include "daemon/pmtu.h"
#include "daemon/supervisor.h"
#include "dns/dns.h"
#include "mesh/device.h"
#include "mesh/identity.h"
#include "tun/tun.h"

struct mantad {
	uv_loop_t loop;
	const char *config_path; /* NULL: defaults, no static peers */
	const char *state_dir_override;
	const char *socket_path;
	const char *user; /* --user: run as this user (privdrop.h) */
	struct config cfg;
	struct identity *id;
	struct device dev;
	bool dev_ready;
	struct dataplane dp;
	struct pathmtu pmtu; /* ICMP errors in and out, status (daemon/pmtu.h) */
	struct control ctl;
	struct api_http api; /* the REST API (api_http.h) */
	struct membership mem;
	struct filter fw; /* the firewall (filter.h) */
	struct dns *dns; /* Magic DNS (dns/dns.h); NULL until started */
	struct uplinks uplinks; /* [uplink.NAME] (uplink/uplink.h) */
	char ifname[IFNAMSIZ];
	struct tun_route_mode route_mode;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t tick;
	struct supervisor svc; /* sd_notify state (supervisor.h) */
	bool stopping;
	bool down; /* `manta down`: no TUN, sessions kept */
	uint64_t started_at; /* unix seconds */
};

/* Start everything; on failure print why and return a negative errno. */
int mantad_start(struct mantad *d) WARN_UNUSED;
/* Begin an orderly shutdown: every handle is closed; uv_run then returns. */
void mantad_stop(struct mantad *d);
/* Release what outlives the loop (after uv_run returned). */
void mantad_cleanup(struct mantad *d);

/* Reconcile the device's peers with cfg's [peer] sections and the member
 * lists (peers.c). cfg is d->cfg, or the new one on SIGHUP. */
/* Open and configure the TUN (addresses, routes); its descriptor, or a
 * negative errno after logging why. */
int mantad_open_tun(struct mantad *d) WARN_UNUSED;
/* Host routes for every peer again, after the TUN came back (peers.c). */
void peers_routes_restore(struct mantad *d);
/* The `status` object (status.c), a new reference. */
json_t *status_object(struct mantad *d);

/* The [peer] section for a key, or NULL (peers.c). */
const struct config_peer *find_static_peer(const struct mantad *d, const uint8_t *pk);
int peers_sync(struct mantad *d, const struct config *cfg) WARN_UNUSED;

#endif
