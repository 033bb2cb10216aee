/*
 * The local REST API: HTTP/1.1 on libuv, requests read with http-parser
 * (api_request.h), routes onto the command registry (api_route.h).
 *
 * It listens on [api] listen (default 127.0.0.1 and ::1) at [api] port
 * (default 8642). Every request but GET /health needs the bearer token
 * kept in STATE_DIR/api.token (api_token.h), compared in constant time.
 *
 * One request at a time per connection, answered in order; keep-alive as
 * HTTP/1.1 and 1.0 say, pipelined requests wait their turn. Nothing a
 * client does blocks anything else: a client gets API_IDLE_MS between
 * requests and API_REQUEST_MS for a whole request (so a slow or half-open
 * one is dropped, 408 if it had begun), and API_WRITE_MS to take an
 * answer. At most API_CONNECTIONS_MAX connections: when all are taken, a
 * new one closes the one that has been idle longest (no request begun), or
 * if none is idle, is closed itself.
 * After a refused request (4xx from the parser) the connection is closed,
 * gently: the answer goes out, then the rest of what the client sends is
 * read and dropped for up to API_LINGER_MS, so it sees the answer rather
 * than a reset.
 */
#ifndef MANTA_DAEMON_API_HTTP_H
#define MANTA_DAEMON_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/util.h"
#include "daemon/api_route.h"
#include "daemon/api_token.h"
#include "daemon/commands.h"
#include "daemon/config.h"

#define API_CONNECTIONS_MAX 64
#define API_IDLE_MS 30000
#define API_REQUEST_MS 10000
#define API_WRITE_MS 10000
#define API_LINGER_MS 2000

struct mantad;
struct api_conn;

struct api_http {
	struct mantad *d;
	struct api_router router;
	char token[API_TOKEN_MAX + 1];
	uv_tcp_t listeners[CONFIG_API_LISTEN_MAX];
	size_t nlisteners;
	struct api_conn *conns; /* owned until their handles have closed */
	size_t nconns;
	bool open;
};

/* Nothing when [api] enabled = false. Otherwise the token and every
 * listener, or a negative errno after logging why. */
int api_http_start(struct api_http *api, struct mantad *d) WARN_UNUSED;
/* Listeners and connections closed; pending calls detached. */
void api_http_close(struct api_http *api);

/* The registry's `health' and `v6_address' (cmd_health.c). */
extern const struct command api_commands[];
extern const size_t api_commands_count;

#endif
