/*
 * The control socket: JSON lines over a Unix stream socket (default
 * /run/manta/manta.sock, mode 0660). One request per line,
 * {"command":"status","args":{}}, one reply per line. Requests over 1 MiB or
 * not JSON get an error reply, and the connection closes. The caller's
 * credentials (SO_PEERCRED) decide whether state-changing commands run:
 * root, or a member of the `manta` group.
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
	bool open;
	char *path;
	struct control_client *clients;
};

int control_start(struct control *ctl, struct mantad *d, const char *path) WARN_UNUSED;
/* Close the listener and every connection; the socket file is removed. */
void control_close(struct control *ctl);

#endif
