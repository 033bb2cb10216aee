/*
 * macOS: utun devices (a PF_SYSTEM control socket, a 4-byte address family
 * header on every packet) and routes through a PF_ROUTE socket. Not written
 * yet: every call fails with a message that says so, and mantad stops at
 * start-up instead of running without a TUN.
 */
#include "tun/tun.h"

#include <errno.h>

#include "common/log.h"

static int unsupported(const char *what)
{
	log_err("tun", "%s: not supported yet on macOS", what);
	return -ENOTSUP;
}

int tun_open(const char *name, char ifname[IFNAMSIZ])
{
	return unsupported("utun device");
}

int tun_configure(const char *ifname, unsigned mtu, const uint8_t v6[16], const uint8_t v4[4],
		  struct tun_route_mode *mode)
{
	return unsupported("utun addresses and routes");
}

int tun_route_host_add(const char *ifname, int family, const uint8_t *addr)
{
	return unsupported("host routes");
}

int tun_route_host_del(const char *ifname, int family, const uint8_t *addr)
{
	return unsupported("host routes");
}

int tun_addr_replace(const char *ifname, int family, const uint8_t *old, const uint8_t *new_addr)
{
	return unsupported("utun addresses");
}
