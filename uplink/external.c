/*
 * type = external: an interface someone else manages (a router's DHCPv6-PD
 * link, a VPN client's tunnel, a plain Ethernet with SLAAC). mantad never
 * changes it: up() only names it, down() leaves it alone, and the health
 * prober watches it like any other uplink.
 *
 * An interface that does not exist (yet) is not an error at up(): the
 * uplink is brought up administratively and stays down, its status saying
 * "interface X does not exist", until the interface appears; the prober
 * sees it on its next round and binds to it (Tailscale watches its
 * interfaces the same way). A daemon started before the VPN client or the
 * PPP link it depends on thus needs no restart.
 */
#include "uplink/uplink.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static int external_up(struct uplink *u, char *err, size_t errlen)
{
	if (!u->cfg.ifname[0]) {
		snprintf(err, errlen, "uplink %s: type external needs `interface'", u->cfg.name);
		return -EINVAL;
	}
	snprintf(u->ifname, sizeof(u->ifname), "%s", u->cfg.ifname);
	if (if_nametoindex(u->cfg.ifname) == 0)
		log_warn("uplink", "%s: interface %s does not exist: watching for it", u->cfg.name,
			 u->cfg.ifname);
	else
		log_info("uplink", "%s: watching interface %s (managed elsewhere)", u->cfg.name,
			 u->cfg.ifname);
	return 0;
}

static void external_down(struct uplink *u)
{
	/* The interface is someone else's: nothing to undo. */
	log_info("uplink", "%s: no longer watching interface %s", u->cfg.name, u->cfg.ifname);
}

static void external_status(const struct uplink *u, json_t *obj)
{
	const char *ifname = u->cfg.ifname;
	char why[IFNAMSIZ + 32];

	/* The manager has added the interface's addresses, MTU and health. */
	json_object_set_new(obj, "managed", json_false());
	if (u->admin_up && ifname[0] && if_nametoindex(ifname) == 0) {
		snprintf(why, sizeof(why), "interface %s does not exist", ifname);
		json_object_set_new(obj, "error", json_string(why));
	}
}

const struct uplink_driver uplink_external = {
	.type = "external",
	.up = external_up,
	.down = external_down,
	.status = external_status,
};
