/*
 * This node's endpoints: the addresses other members can send its UDP
 * port to. Every up, non-loopback interface's IPv6 addresses that are not
 * link-local and not in the mesh, and its IPv4 addresses outside
 * 100.64.0.0/10, global IPv6 first (the uplink the node came for), at most
 * `max`. The TUN itself is skipped. Announcements and invites carry them.
 */
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include "daemon/membership.h"
#include "mesh/address.h"

static bool usable(const struct ifaddrs *ifa, const char *skip, int family)
{
	if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family)
		return false;
	if (!(ifa->ifa_flags & IFF_UP) || ifa->ifa_flags & IFF_LOOPBACK)
		return false;
	if (skip && strcmp(ifa->ifa_name, skip) == 0)
		return false;
	if (family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;

		return !IN6_IS_ADDR_LINKLOCAL(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
		       !IN6_IS_ADDR_MULTICAST(a) && !address_v6_in_overlay(a->s6_addr);
	}
	const uint8_t *a4 = (const uint8_t *)&((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;

	return a4[0] != 127 && !address_v4_in_overlay(a4);
}

static bool seen(const struct sockaddr_in6 *out, size_t n, const struct sockaddr_in6 *e)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(&out[i].sin6_addr, &e->sin6_addr, 16) == 0)
			return true;
	return false;
}

size_t endpoints_local(const char *skip_ifname, uint16_t port, struct sockaddr_in6 *out, size_t max)
{
	static const int families[] = { AF_INET6, AF_INET };
	struct ifaddrs *all, *ifa;
	size_t n = 0;

	if (getifaddrs(&all) != 0)
		return 0;
	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		for (ifa = all; ifa && n < max; ifa = ifa->ifa_next) {
			struct sockaddr_in6 e = { .sin6_family = AF_INET6,
						  .sin6_port = htons(port) };

			if (!usable(ifa, skip_ifname, families[f]))
				continue;
			if (families[f] == AF_INET6) {
				e.sin6_addr =
					((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
			} else {
				e.sin6_addr.s6_addr[10] = 0xff;
				e.sin6_addr.s6_addr[11] = 0xff;
				memcpy(e.sin6_addr.s6_addr + 12,
				       &((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
			}
			if (!seen(out, n, &e))
				out[n++] = e;
		}
	}
	freeifaddrs(all);
	return n;
}
