/*
 * The daemon's INI configuration (inih). Reference, also in README.md:
 *
 *   [node]
 *   listen_port = 51820            UDP port of the dual-stack socket [::]:PORT
 *   tun = manta0                   TUN device name
 *   state_dir = /var/lib/manta     node key and state files
 *   log_level = info               debug | info | warn | error
 *   accept_dns = true              false: Magic DNS leaves the host's DNS alone
 *   resolv_conf = /etc/resolv.conf the file direct mode rewrites (and restores)
 *
 *   [peer]                         repeated, one per static peer
 *   public_key = BASE64            the peer's X25519 public key (44 characters)
 *   endpoint = 192.0.2.7:51820     host:port, [v6]:port or name:port (optional)
 *   persistent_keepalive = 25      seconds, 0 or absent = off
 *
 *   [testing]                      test-only: shortens the protocol timers
 *   rekey_after_time = 120         seconds (fractions allowed) for each of
 *   reject_after_time = 180        these; defaults are WireGuard's
 *   rekey_timeout = 5
 *   keepalive_timeout = 10
 *   rekey_attempt_time = 90
 *   under_load = auto              auto | always | never (cookie replies)
 *   pmtu_probe_timeout = 1         path MTU probe timeout, seconds
 *   pmtu_raise_interval = 600      seconds between path MTU probe rounds
 *   uplink_local_check = 60        seconds between looks at a he_6in4
 *                                  uplink's local IPv4 address
 *
 *   [api]                          the local REST API (daemon/api_http.h)
 *   enabled = true                 true | false
 *   listen = 127.0.0.1, ::1        IP addresses (no names), at most 4
 *   port = 8642                    TCP port on each of them
 *   allow_mutating = false         true: state-changing commands over REST
 *                                  and MCP too (never without the token or
 *                                  the socket's rights)
 *
 *   [uplink.NAME]                  repeated: the host's IPv6 uplinks (uplink/uplink.h);
 *                                  NAME of 1-31 letters, digits, `_', `-'
 *   type = he_6in4                 he_6in4 | wireguard | external (required)
 *   interface = he-NAME            the device; required for external; default
 *                                  he-NAME (he_6in4), the file's name (wireguard)
 *   autostart = true               bring it up when mantad starts
 *   health_targets = 2001:db8::1   IPv6 literals to ping through it, at most 4;
 *                                  default: he_6in4 the server's end (client
 *                                  prefix ::1), others none (link state only)
 *   probe_interval = 1             seconds (fractions allowed, 0.1-3600)
 *     he_6in4 only:
 *   mode = auto                    auto | kernel (sit) | userspace (raw + TUN)
 *   server_ipv4 = 192.0.2.1        the broker's end (required)
 *   local_ipv4 =                   this end; empty = the kernel's source
 *                                  address toward server_ipv4
 *   client_ipv6 = 2001:db8:1::2/64 this end's tunnel address (required)
 *   routed_prefix = 2001:db8:2::/48  the routed /48../64 (status only)
 *   mtu = 1480                     1280-1500
 *   default_route = false          true: ::/0 via the server's end, metric 2048
 *   he_username = NAME             all three or none: the broker's endpoint
 *   he_update_key = KEY            update (nic/update) when the local IPv4
 *   he_tunnel_id = 123456          changes
 *   he_update_url = https://ipv4.tunnelbroker.net/nic/update
 *     wireguard only:
 *   config = /etc/wireguard/wg6.conf   a wg-quick style file (required)
 *   wireguard_go = /usr/bin/wireguard-go  when the kernel has no WireGuard;
 *                                  default: wireguard-go from PATH
 *   A key of another type's uplink is an error. [uplink.*] changes take
 *   effect on restart (SIGHUP leaves the uplinks alone).
 *
 * A peer's allowed addresses are the /128 and /32 derived from its key; there
 * is no AllowedIPs. Parsing never touches the network: endpoints are checked
 * for syntax here and resolved by config_resolve_endpoint().
 */
#ifndef MANTA_DAEMON_CONFIG_H
#define MANTA_DAEMON_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/util.h"
#include "uplink/uplink.h"

#define CONFIG_DEFAULT_PORT 51820
#define CONFIG_DEFAULT_TUN "manta0"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/manta"
#define CONFIG_ENDPOINT_MAX 300
#define CONFIG_DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define CONFIG_API_DEFAULT_PORT 8642
#define CONFIG_API_LISTEN_MAX 4

enum config_under_load { UNDER_LOAD_AUTO, UNDER_LOAD_ALWAYS, UNDER_LOAD_NEVER };

struct config_peer {
	uint8_t public_key[32];
	char endpoint[CONFIG_ENDPOINT_MAX]; /* "" when absent; as written */
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	unsigned line; /* line of its [peer] header */
};

/* Protocol timers in nanoseconds; config_init() sets WireGuard's values. */
struct config_timers {
	uint64_t rekey_after_time;
	uint64_t reject_after_time;
	uint64_t rekey_timeout;
	uint64_t keepalive_timeout;
	uint64_t rekey_attempt_time;
	enum config_under_load under_load;
	/* Path MTU (mesh/pmtu.c), ns; 0 = the engine's default. */
	uint64_t pmtu_probe_timeout;
	uint64_t pmtu_raise_interval;
	/* he_6in4 (uplink/he6in4.c), ns; 0 = HE6IN4_LOCAL_CHECK_MS. */
	uint64_t uplink_local_check;
};

struct config_api {
	bool enabled;
	bool allow_mutating;
	uint16_t port;
	size_t nlisten;
	char listen[CONFIG_API_LISTEN_MAX][INET6_ADDRSTRLEN]; /* IP literals */
};

struct config {
	uint16_t listen_port;
	char tun_name[IFNAMSIZ];
	char *state_dir; /* heap */
	enum log_level log_level;
	struct config_peer *peers; /* heap array */
	size_t npeers;
	struct config_timers timers;
	bool accept_dns; /* Magic DNS may point the host at its resolver */
	char resolv_conf[256]; /* the resolv.conf of direct mode */
	struct config_api api;
	struct uplink_config *uplinks; /* heap (UPLINK_MAX of them) or NULL */
	size_t nuplinks;
	/* Heap or NULL: one "FILE:LINE: …" line per unknown key or section,
	 * which the parse skipped (config_load logs them). */
	char *warnings;
};

/* Defaults, no peers. */
void config_init(struct config *c);
void config_free(struct config *c);

/* Parse a file / a string named `name` in messages. On failure return false
 * with err holding "FILE:LINE: what is wrong, with the value `quoted'"; c is
 * left freed and re-initialised. Duplicate keys, bad values, two peers with
 * the same key, a known key in the wrong section and a near miss of a known
 * section or key name (`[Peer]', `lisen_port') are errors; other unknown
 * sections and keys are skipped and listed in c->warnings. */
bool config_load(const char *path, struct config *c, char *err, size_t errlen);
bool config_parse_string(const char *text, const char *name, struct config *c, char *err,
			 size_t errlen);

/* Whether any [uplink.*] section is of this type. */
bool config_has_uplink(const struct config *c, enum uplink_type type);

/* Syntax only: "host:port", "[v6]:port", port 1..65535. */
bool config_endpoint_valid(const char *s);
/* Resolve an endpoint (getaddrinfo; may block) to a sockaddr_in6, IPv4 as
 * v4-mapped. Returns 0 or a negative errno-like code, with a message in err. */
int config_resolve_endpoint(const char *s, struct sockaddr_in6 *out, char *err, size_t errlen);

#endif
