/*
 * The TUN device and its addresses and routes. Linux: /dev/net/tun and
 * netlink through libnl-route (tun_linux.c, netlink_linux.c); macOS utun later
 * behind the same functions.
 *
 * The device is not persistent: closing its descriptor deletes it, and the
 * kernel removes its addresses and routes with it.
 */
#ifndef MANTA_TUN_TUN_H
#define MANTA_TUN_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

#define TUN_MTU 1280

struct tun_route_mode {
	bool v6_host_routes; /* 200::/7 belongs to another link: route each peer's /128 */
	bool v4_host_routes; /* 100.64.0.0/10 belongs to another link: each peer's /32 */
};

/* Open a TUN device (IFF_TUN | IFF_NO_PI), non-blocking and close-on-exec.
 * name may hold a %d pattern; the kernel's choice is written to ifname.
 * Returns the descriptor or a negative errno. */
int tun_open(const char *name, char ifname[IFNAMSIZ]) WARN_UNUSED;

/* Set the MTU, bring the link up, add v6/128 (no DAD) and v4/32, and route
 * 200::/7 and 100.64.0.0/10 into the device, unless another link already
 * routes that exact prefix: then no prefix route is added, the mode says so,
 * and the caller installs host routes per peer. Returns 0 or a negative errno. */
int tun_configure(const char *ifname, unsigned mtu, const uint8_t v6[16], const uint8_t v4[4],
		  struct tun_route_mode *mode) WARN_UNUSED;

/* Host route (/128 for AF_INET6, /32 for AF_INET) into the device. Adding an
 * existing route and deleting a missing one succeed. */
int tun_route_host_add(const char *ifname, int family, const uint8_t *addr) WARN_UNUSED;
int tun_route_host_del(const char *ifname, int family, const uint8_t *addr) WARN_UNUSED;

/* Swap one of the device's own addresses for another (the new one first,
 * so the device is never without one). */
int tun_addr_replace(const char *ifname, int family, const uint8_t *old,
		     const uint8_t *new_addr) WARN_UNUSED;

#endif
