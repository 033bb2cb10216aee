/*
 * The control socket: JSON lines over a Unix stream socket (default
 * /run/manta/manta.sock, mode 0660, group manta when that group exists).
 * One request per line, {"command":"status","args":{}}; the answer is zero
 * or more progress lines {"progress":"…"} and then one reply line
 * {"ok":true,"result":…} or {"ok":false,"error":"…"}. A client may send
 * several requests: they run one after the other, each once the one before
 * has been answered. A line that is not JSON gets an error reply and the
 * connection goes on; a request over 1 MiB gets an error reply and the
 * connection closes. The caller's credentials (SO_PEERCRED) decide whether
 * state-changing commands run: root, or a member of the `manta` group.
 * A connection whose first line is a JSON-RPC message (`manta mcp` relays
 * one) speaks MCP for the rest of its life, one message a line
 * (daemon/api_mcp.h), with the same rights.
 */
#ifndef MANTA_DAEMON_CONTROL_H
#define MANTA_DAEMON_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#include "common/util.h"

#define CONTROL_MAX_REQUEST (1u << 20)

struct mantad;
struct control_client;

struct control {
	struct mantad *d;
	uv_pipe_t server;
	uv_idle_t resume; /* runs the next request of clients whose call was answered */
	bool open;
	char *path;
	struct control_client *clients;
};

int control_start(struct control *ctl, struct mantad *d, const char *path) WARN_UNUSED;
/* Close the listener and every connection; the socket file is removed.
 * Calls still pending are detached: whoever runs them answers them later. */
void control_close(struct control *ctl);

#endif
