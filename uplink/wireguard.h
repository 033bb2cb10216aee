/*
 * The WireGuard uplink's platform part (wireguard_linux.c, a
 * wireguard_darwin.c stub), used only by wireguard.c.
 */
#ifndef MANTA_UPLINK_WIREGUARD_H
#define MANTA_UPLINK_WIREGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/util.h"
#include "uplink/wgquick.h"

/* Where wireguard-go listens for its configuration protocol (UAPI). */
#define WG_UAPI_DIR "/var/run/wireguard"

/* 0 when this platform can run the uplink at all, else a negative errno
 * with the reason in err. */
int wg_os_check(const char *ifname, char *err, size_t errlen) WARN_UNUSED;

/* Whether the kernel makes links of kind "wireguard": 0 when a probe link
 * named ifname could be created (it is deleted again), -EOPNOTSUPP when the
 * kernel has no WireGuard, another negative errno when the probe failed. */
int wg_os_kernel_probe(const char *ifname) WARN_UNUSED;

/* Connect to the UAPI socket at path without blocking and check that
 * process pid holds its other end (not a stale or foreign wireguard-go).
 * The connected descriptor, or a negative errno: -ENOENT / -ECONNREFUSED
 * while the socket is not there yet, -EADDRINUSE when another process
 * answers. */
int wg_os_uapi_connect(const char *path, pid_t pid) WARN_UNUSED;

/* ifname's MTU, c's addresses, the link up, and a route into ifname for
 * each peer's AllowedIPs, except a prefix holding that peer's own endpoint
 * (eps[i], AF_UNSPEC = none), which would send the tunnel's packets into
 * the tunnel: that one is skipped with a warning. Default routes get
 * metric (the uplink's, or WG_DEFAULT_ROUTE_METRIC). 0, or a negative
 * errno with the reason in err. */
#define WG_DEFAULT_ROUTE_METRIC 1024
int wg_os_link_configure(const char *ifname, unsigned mtu, uint32_t metric,
			 const struct wgq_config *c, const struct sockaddr_storage *eps, char *err,
			 size_t errlen) WARN_UNUSED;

#endif
