/* launchd has no readiness or watchdog protocol: nothing listens. */
#include "daemon/supervisor.h"

int supervisor_notify(const char *msg)
{
	return 0;
}

uint64_t supervisor_watchdog_usec(void)
{
	return 0;
}

bool supervisor_listens(void)
{
	return false;
}
