/*
 * wg-quick style WireGuard configuration files (wgquick.c), as a
 * `type = wireguard' uplink's `config = /etc/wireguard/wg6.conf' names them:
 *
 *   [Interface]   PrivateKey, Address (comma separated v4/v6 CIDRs,
 *                 repeatable), ListenPort, MTU, FwMark; DNS, Table, PreUp,
 *                 PostUp, PreDown, PostDown and SaveConfig are accepted and
 *                 ignored with a warning: manta never runs hooks, never
 *                 touches DNS or routing tables beyond its own routes.
 *   [Peer]        (repeatable) PublicKey, PresharedKey, Endpoint (host:port
 *                 or [v6]:port), AllowedIPs (comma separated, repeatable),
 *                 PersistentKeepalive.
 *
 * Sections and keys are case-insensitive, `#' starts a comment, as in
 * wg-quick(8). Keys are base64 of 32 bytes. Errors read
 * "FILE:LINE: message" with the offending value quoted, except the values of
 * PrivateKey and PresharedKey, which are never shown.
 *
 * The parsed configuration holds the private key: it lives in sodium_malloc
 * memory, and wgq_config_free wipes it.
 */
#ifndef MANTA_UPLINK_WGQUICK_H
#define MANTA_UPLINK_WGQUICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define WGQ_KEY_LEN 32
#define WGQ_ADDRS_MAX 16
#define WGQ_PEERS_MAX 16
#define WGQ_ALLOWED_MAX 64 /* per peer */
#define WGQ_HOST_MAX 254 /* a DNS name or an address literal */
#define WGQ_FILE_MAX (64 * 1024)
#define WGQ_LINE_MAX 4096

struct wgq_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t plen;
};

struct wgq_peer {
	uint8_t public_key[WGQ_KEY_LEN];
	uint8_t preshared_key[WGQ_KEY_LEN];
	bool has_public_key, has_preshared_key;
	char endpoint_host[WGQ_HOST_MAX + 1]; /* "" = no endpoint; no brackets */
	uint16_t endpoint_port;
	struct wgq_prefix allowed[WGQ_ALLOWED_MAX];
	size_t nallowed;
	uint16_t keepalive; /* seconds, 0 = off */
	unsigned line; /* of its [Peer] header */
};

struct wgq_config {
	uint8_t private_key[WGQ_KEY_LEN];
	bool has_private_key;
	struct wgq_prefix addrs[WGQ_ADDRS_MAX];
	size_t naddrs;
	int listen_port; /* -1 = unset (wireguard-go picks one) */
	bool has_fwmark;
	uint32_t fwmark;
	uint16_t mtu; /* 0 = unset */
	struct wgq_peer peers[WGQ_PEERS_MAX];
	size_t npeers;
	unsigned nignored; /* keys accepted and ignored (hooks, DNS, ...) */
};

/* A zeroed configuration in sodium_malloc memory, or NULL. */
struct wgq_config *wgq_config_alloc(void) WARN_UNUSED;
/* Wipe and free; NULL is fine. */
void wgq_config_free(struct wgq_config *c);

/* Parse len bytes of text (need not be NUL-terminated) named name into c,
 * which must come from wgq_config_alloc. false with "NAME:LINE: message" in
 * err on the first error. */
bool wgq_parse(struct wgq_config *c, const char *name, const char *text, size_t len, char *err,
	       size_t errlen) WARN_UNUSED;

/* Read and parse a file: at most WGQ_FILE_MAX bytes, a regular file; one
 * that others may read is parsed with a warning, as wg-quick does. The read
 * buffer is wiped. A new configuration, or NULL with the reason in err. */
struct wgq_config *wgq_load(const char *path, char *err, size_t errlen) WARN_UNUSED;

/* "addr/plen" of p into buf (at least 50 bytes). */
void wgq_prefix_format(const struct wgq_prefix *p, char *buf, size_t size);
/* Whether p covers the address addr of family. */
bool wgq_prefix_contains(const struct wgq_prefix *p, int family, const uint8_t *addr);

#endif
