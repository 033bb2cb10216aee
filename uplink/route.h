/*
 * Failover between uplinks by route metric. An uplink whose health is
 * down keeps its IPv6 default routes, but with UPLINK_DEMOTE_METRIC added
 * to their metric, so that the kernel prefers any other uplink's default
 * route (or a native one) for everything the host sends, the mesh's UDP
 * socket included; when it answers again the metric goes back. Routes
 * keep existing so that nothing is lost when every uplink is down.
 */
#ifndef MANTA_UPLINK_ROUTE_H
#define MANTA_UPLINK_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

#define UPLINK_DEMOTE_METRIC 4096u

/* Move the IPv6 default routes of the main table that leave through
 * ifname alone: demote (metric below UPLINK_DEMOTE_METRIC: add it) or
 * promote (at or above it: take it away). The new route is added before
 * the old one is deleted. Returns how many moved, or a negative errno. */
int uplink_os_default_demote(const char *ifname, bool demote) WARN_UNUSED;

#endif
