/* Failover by route metric (route.h) on macOS: not there yet. */
#include <errno.h>
#include <stdbool.h>

#include "uplink/route.h"

int uplink_os_default_demote(const char *ifname, bool demote)
{
	return -ENOTSUP;
}
