/* sd_notify(3) through libsystemd: the message goes to $NOTIFY_SOCKET. */
#include "daemon/supervisor.h"

#include <stdlib.h>
#include <systemd/sd-daemon.h>

int supervisor_notify(const char *msg)
{
	return sd_notify(0, msg);
}

uint64_t supervisor_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* Also checks $WATCHDOG_PID, if set, against this process. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

bool supervisor_listens(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s && *s;
}
