/*
 * An uplink's health prober on macOS: not yet. It would need IPV6_BOUND_IF
 * instead of SO_BINDTODEVICE and the routing socket instead of netlink;
 * until then an uplink's health cannot start there, and says so.
 */
#include "uplink/health.h"

#include <errno.h>

#include "common/log.h"

int health_start(struct health *h, uv_loop_t *loop, const char *ifname,
		 const struct health_config *cfg)
{
	log_warn("health", "%s: health probes are not supported yet on macOS", ifname);
	return -ENOTSUP;
}

void health_stop(struct health *h)
{
}
