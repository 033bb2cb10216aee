/*
 * Service manager glue: readiness, status lines and the watchdog, as
 * sd_notify(3) messages under systemd. launchd has no such protocol, so on
 * macOS the messages go nowhere. The platform half (supervisor_linux.c,
 * supervisor_darwin.c) only sends a message and reads the watchdog interval;
 * this file decides what to say and when:
 *
 *   READY=1      once mantad_start has brought up the TUN, the sockets and
 *                the rest, and privileges are dropped (main.c)
 *   RELOADING=1  on SIGHUP, then READY=1 again once the file is re-read
 *   STOPPING=1   when the orderly shutdown begins
 *   STATUS=…     a one-line summary (`manta0 up: 3 peers, 2 with a session,
 *                1 network'), sent with READY=1 and whenever it changes,
 *                which the tick checks once a second
 *   WATCHDOG=1   every half WatchdogSec= from the same tick, so a loop
 *                that stops turning is restarted by systemd
 */
#ifndef MANTA_DAEMON_SUPERVISOR_H
#define MANTA_DAEMON_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

struct mantad;

struct supervisor {
	bool notify; /* a service manager listens ($NOTIFY_SOCKET) */
	uint64_t watchdog_ns; /* 0: no watchdog wanted */
	uint64_t next_watchdog, next_status; /* monotonic ns deadlines */
	char status[160]; /* the STATUS= last sent */
};

/* Read the environment; nothing is sent yet. */
void supervisor_init(struct supervisor *s);
void supervisor_ready(struct mantad *d);
void supervisor_reloading(struct mantad *d);
void supervisor_stopping(struct mantad *d);
/* From the daemon's tick, with d->dev.now current. */
void supervisor_tick(struct mantad *d);

/* Platform half. Send one message (newline-separated assignments): 1 if it
 * was sent, 0 if no service manager listens, or a negative errno. */
int supervisor_notify(const char *msg);
/* The watchdog interval the service manager asks for, in microseconds,
 * or 0 for none. */
uint64_t supervisor_watchdog_usec(void);
/* Whether a service manager listens for messages at all. */
bool supervisor_listens(void);

#endif
