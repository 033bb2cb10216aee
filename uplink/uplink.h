/*
 * Uplinks: the host's IPv6 connectivity, which mantad brings up and watches
 * (DESIGN.md, "The v6 gateway"). Each `[uplink.NAME]` section of the
 * configuration names one:
 *
 *   type = he_6in4     a Hurricane Electric style 6in4 tunnel (he6in4.c):
 *                      the kernel's sit device through libnl when the module
 *                      is there, else a userspace tunnel (raw IPv4 socket for
 *                      protocol 41 + a TUN device). Same addresses, routes
 *                      and MTU either way; status says which mode.
 *   type = wireguard   a WireGuard interface from a wg-quick style file
 *                      (wireguard.c): the kernel's over generic netlink when
 *                      there, else wireguard-go driven through its UAPI
 *                      socket.
 *   type = external    an interface someone else manages; watched only.
 *
 * Every change goes through netlink (libnl-route), never system(). Each
 * uplink has a health prober (health.h): ICMPv6 echo to its targets bound
 * to the interface, link state and byte counters from netlink, and a state
 * up / degraded / down.
 *
 * Lifetime: uplinks_start() after the configuration (brings up the
 * `autostart' ones), uplink_up()/uplink_down() from commands, uplinks_stop()
 * from mantad_stop (takes every uplink down and closes every handle),
 * uplinks_free() after uv_run returned.
 */
#ifndef MANTA_UPLINK_UPLINK_H
#define MANTA_UPLINK_UPLINK_H

#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/util.h"
#include "daemon/commands.h" /* struct command, complete for the array below */
#include "uplink/health.h"

#define UPLINK_MAX 8
#define UPLINK_NAME_MAX 32
#define UPLINK_PATH_MAX 256

enum uplink_type { UPLINK_HE_6IN4, UPLINK_WIREGUARD, UPLINK_EXTERNAL };
/* he_6in4 only: `mode = auto | kernel | userspace' (auto: kernel if it can). */
enum uplink_mode { UPLINK_MODE_AUTO, UPLINK_MODE_KERNEL, UPLINK_MODE_USERSPACE };

/* One [uplink.NAME] section, as parsed by daemon/config.c. */
struct uplink_config {
	char name[UPLINK_NAME_MAX];
	enum uplink_type type;
	unsigned line; /* of its section header */
	char ifname[IFNAMSIZ]; /* `interface'; "" = the type's default */
	bool autostart; /* `autostart', default true */
	/* Health (all types): `health_targets' (IPv6 literals, comma separated,
	 * at most HEALTH_TARGETS_MAX; "" = the type's default), `probe_interval'
	 * (seconds, default 1). */
	struct in6_addr targets[HEALTH_TARGETS_MAX];
	size_t ntargets;
	uint64_t probe_interval_ns;
	/* he_6in4 */
	enum uplink_mode mode;
	struct in_addr server_ipv4;
	struct in_addr local_ipv4; /* INADDR_ANY = auto */
	struct in6_addr client_ipv6;
	uint8_t client_plen;
	struct in6_addr routed_prefix;
	uint8_t routed_plen; /* 0 = none */
	uint16_t mtu; /* 0 = the type's default (he_6in4: 1480) */
	bool default_route;
	/* `metric' of the default routes this uplink adds (he_6in4, and
	 * wireguard's ::/0 or 0.0.0.0/0); 0 = the type's default (2048 and
	 * 1024). Below UPLINK_DEMOTE_METRIC (route.h). */
	uint32_t metric;
	char he_username[64];
	char he_update_key[128];
	char he_tunnel_id[32];
	char he_update_url[UPLINK_PATH_MAX]; /* "" = tunnelbroker.net's */
	/* wireguard */
	char wg_config[UPLINK_PATH_MAX]; /* `config' */
	char wg_go[UPLINK_PATH_MAX]; /* `wireguard_go', "" = from PATH */
};

struct uplink;

/* What each type does; the manager (uplink.c) calls these. */
struct uplink_driver {
	const char *type; /* "he_6in4", "wireguard", "external" */
	/* Create or find the interface, set its MTU, addresses and routes, set
	 * u->ifname; 0, or a negative errno with a message in err. May keep
	 * state in u->priv. */
	int (*up)(struct uplink *u, char *err, size_t errlen);
	/* Undo up(): delete what up() created, close its handles. */
	void (*down)(struct uplink *u);
	/* Add the driver's own fields to u's status object (mode, handshake
	 * age, ...). */
	void (*status)(const struct uplink *u, json_t *obj);
};

extern const struct uplink_driver uplink_he6in4, uplink_wireguard, uplink_external;

struct uplinks;

struct uplink {
	struct uplinks *set;
	struct uplink_config cfg;
	const struct uplink_driver *drv;
	void *priv; /* the driver's */
	bool admin_up; /* brought up by autostart or `uplink up' */
	char ifname[IFNAMSIZ]; /* "" while down */
	char error[256]; /* why the last up() failed, "" if it did not */
	struct health health;
	bool routes_demoted; /* its default routes are demoted (route.h) */
	uint64_t changed_at; /* unix seconds of the last state change */
};

struct uplinks {
	struct mantad *d;
	uv_loop_t *loop;
	struct uplink v[UPLINK_MAX];
	size_t n;
};

/* Take the [uplink.*] sections of cfg and bring up the autostart ones
 * (a failing one is logged and left down, not fatal). */
struct config;
int uplinks_start(struct uplinks *s, struct mantad *d, const struct config *cfg) WARN_UNUSED;
void uplinks_stop(struct uplinks *s);
void uplinks_free(struct uplinks *s);

struct uplink *uplinks_find(struct uplinks *s, const char *name);
/* The admin-up uplink in the best state, the lowest latency among equals;
 * NULL if none is up (for /health). */
const struct uplink *uplinks_best(const struct uplinks *s);
int uplink_up(struct uplink *u, char *err, size_t errlen) WARN_UNUSED;
void uplink_down(struct uplink *u);

/* {"name", "type", "state" (up|degraded|down), "admin" (up|down), "iface",
 * "mtu", "addresses", "v6_prefix", "latency_ms", "loss", "rx_bytes",
 * "tx_bytes", "last_check", "error", + the driver's fields}. */
json_t *uplink_status_json(const struct uplink *u);

/* The commands (uplink_cmd.c): uplink_status, uplink_up, uplink_down. */
extern const struct command uplink_commands[];
extern const size_t uplink_commands_count;

static inline const char *uplink_type_name(enum uplink_type t)
{
	return t == UPLINK_HE_6IN4 ? "he_6in4" : t == UPLINK_WIREGUARD ? "wireguard" : "external";
}

#endif
