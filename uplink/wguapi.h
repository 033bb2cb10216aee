/*
 * wireguard-go's configuration protocol (UAPI, the "cross-platform
 * configuration protocol" of wireguard.com/xplatform), the text part only:
 * the `set' request for a wg-quick file, and reading answers. wireguard.c
 * does the talking.
 *
 *   request   `set=1' or `get=1', then `key=value' lines, then a blank line;
 *             keys in lowercase hex, a `public_key=' line opens a peer
 *   answer    for `get' the same lines, then `errno=N' and a blank line
 *             (0 = done, else a negative errno)
 */
#ifndef MANTA_UPLINK_WGUAPI_H
#define MANTA_UPLINK_WGUAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/util.h"
#include "uplink/wgquick.h"

#define WGUAPI_REQUEST_MAX (128 * 1024)

/* One peer as a `get' answer reports it. */
struct wguapi_peer {
	uint8_t public_key[WGQ_KEY_LEN];
	char endpoint[WGQ_HOST_MAX + 10]; /* "" = none */
	uint64_t handshake_sec, handshake_nsec; /* unix time, 0 = never */
	uint64_t rx_bytes, tx_bytes;
};

/* The request that makes wireguard-go's device exactly c: private key,
 * listen port (if set), fwmark (0 = none), replace_peers, and per peer its
 * key, preshared key, endpoint eps[i] (AF_UNSPEC = none), keepalive and
 * allowed IPs (replacing). In sodium_malloc memory (it holds the keys):
 * free it with sodium_free. NULL when out of memory. */
char *wguapi_set_request(const struct wgq_config *c, const struct sockaddr_storage *eps,
			 size_t *len) WARN_UNUSED;

/* Whether the len bytes of text (NUL-terminated) are a whole answer: 1 and
 * its errno in *uapi_errno, 0 while more is to come, -EPROTO for a whole
 * answer without an errno line. */
int wguapi_answer(const char *text, size_t len, long *uapi_errno) WARN_UNUSED;

/* The peers of a `get' answer (text is cut up) into out, at most max; how
 * many. Lines it does not know are skipped, a peer whose key is not hex of
 * 32 bytes too. */
size_t wguapi_parse_get(char *text, struct wguapi_peer *out, size_t max);

#endif
