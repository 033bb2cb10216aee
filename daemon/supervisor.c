/* What mantad tells its service manager, and when (see supervisor.h). */
#include "daemon/supervisor.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "daemon/mantad.h"

#define STATUS_CHECK_NS (1000ull * 1000 * 1000)

static void notify(struct supervisor *s, const char *msg)
{
	int r;

	if (!s->notify)
		return;
	r = supervisor_notify(msg);
	if (r < 0)
		log_warn("supervisor", "cannot notify the service manager: %s", strerror(-r));
}

/* `manta0 up: 3 peers, 2 with a session, 1 network' */
static void status_line(struct mantad *d, char *out, size_t size)
{
	size_t peers = 0, sessions = 0;

	for (const struct peer *p = d->dev.peers.head; p; p = p->list_next) {
		peers++;
		sessions += p->current != NULL;
	}
	snprintf(out, size, "%s %s: %zu peer%s, %zu with a session, %zu network%s", d->ifname,
		 d->down ? "down" : "up", peers, peers == 1 ? "" : "s", sessions, d->mem.nnets,
		 d->mem.nnets == 1 ? "" : "s");
}

void supervisor_init(struct supervisor *s)
{
	memset(s, 0, sizeof(*s));
	s->notify = supervisor_listens();
	s->watchdog_ns = s->notify ? supervisor_watchdog_usec() * 1000 : 0;
}

void supervisor_ready(struct mantad *d)
{
	struct supervisor *s = &d->svc;
	char msg[sizeof(s->status) + 32];

	status_line(d, s->status, sizeof(s->status));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", s->status);
	notify(s, msg);
	if (s->watchdog_ns) {
		log_debug("supervisor", "watchdog every %llu ms",
			  (unsigned long long)(s->watchdog_ns / 2000000));
		notify(s, "WATCHDOG=1");
		s->next_watchdog = d->dev.now + s->watchdog_ns / 2;
	}
}

void supervisor_reloading(struct mantad *d)
{
	notify(&d->svc, "RELOADING=1\nSTATUS=re-reading the configuration");
}

void supervisor_stopping(struct mantad *d)
{
	notify(&d->svc, "STOPPING=1\nSTATUS=stopping");
}

void supervisor_tick(struct mantad *d)
{
	struct supervisor *s = &d->svc;
	char line[sizeof(s->status)], msg[sizeof(s->status) + 8];
	uint64_t now = d->dev.now;

	if (!s->notify)
		return;
	if (s->watchdog_ns && now >= s->next_watchdog) {
		notify(s, "WATCHDOG=1");
		s->next_watchdog = now + s->watchdog_ns / 2;
	}
	if (now < s->next_status)
		return;
	s->next_status = now + STATUS_CHECK_NS;
	status_line(d, line, sizeof(line));
	if (strcmp(line, s->status) == 0)
		return;
	memcpy(s->status, line, sizeof(line));
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	notify(s, msg);
}
