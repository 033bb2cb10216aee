/*
 * The tunnel broker's endpoint update (he_update.c): tell Hurricane
 * Electric's tunnelbroker.net (or any dyndns2-style nic/update URL) which
 * IPv4 address this end of a he_6in4 tunnel has, so that the broker sends
 * protocol 41 there.
 *
 *   GET he_update_url?hostname=TUNNEL_ID[&myip=IPV4]
 *   Authorization: Basic he_username:he_update_key
 *
 * myip is the local IPv4 address when it is a public one; a private or
 * shared address (RFC 1918, 100.64.0.0/10, ...) is behind a NAT, so myip is
 * left out and the broker takes the address the request came from, which is
 * the NAT's. The request runs on the daemon's libuv loop through libcurl's
 * multi interface (curl_multi_socket_action driven by uv_poll and
 * uv_timer): nothing blocks the loop, name resolution included (libcurl's
 * threaded resolver).
 *
 * The broker answers one line: "good 192.0.2.7" or "nochg 192.0.2.7" is
 * success; anything else ("badauth", "abuse", "!yours", an HTTP error, no
 * answer) is logged and retried after 1 min, doubling up to 1 h.
 */
#ifndef MANTA_UPLINK_HE_UPDATE_H
#define MANTA_UPLINK_HE_UPDATE_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "uplink/uplink.h"

#define HE_UPDATE_DEFAULT_URL "https://ipv4.tunnelbroker.net/nic/update"
#define HE_UPDATE_BACKOFF_MIN_MS 60000u
#define HE_UPDATE_BACKOFF_MAX_MS 3600000u
#define HE_UPDATE_TIMEOUT_S 30L

struct he_update;

/* From cfg's he_* keys; NULL without memory. Owned by the caller until
 * he_update_stop, which frees it once its handles have closed. */
struct he_update *he_update_start(uv_loop_t *loop, const struct uplink_config *cfg);
void he_update_stop(struct he_update *up);
/* The local IPv4 address now: a first one, or a change, sends an update
 * (right away, ending any backoff). */
void he_update_set_local(struct he_update *up, struct in_addr local);
/* "he_update": {"url", "last_answer", "last_at", "failures", "next_at"}. */
void he_update_status(const struct he_update *up, json_t *obj);

/* Pure parts, for the unit tests. */
int he_update_build_url(const char *base, const char *tunnel_id, struct in_addr local, char *out,
			size_t outlen) WARN_UNUSED;
bool he_update_answer_ok(const char *body);
uint64_t he_update_backoff_ms(unsigned failures);
bool he_update_public_v4(struct in_addr a);

#endif
