/*
 * The WireGuard uplink on macOS: not written yet (wireguard-go works there,
 * but the utun's addresses and routes need a PF_ROUTE socket, and the UAPI
 * peer check LOCAL_PEERPID). Every call fails with a message saying so.
 */
#include "uplink/wireguard.h"

#include <errno.h>

#include "common/errmsg.h"
#include "common/log.h"

int wg_os_check(const char *ifname, char *err, size_t errlen)
{
	return errmsg(err, errlen, -ENOTSUP,
		      "%s: the WireGuard uplink is not supported yet on macOS", ifname);
}

int wg_os_kernel_probe(const char *ifname)
{
	return -EOPNOTSUPP;
}

int wg_os_uapi_connect(const char *path, pid_t pid)
{
	log_err("uplink", "%s: the WireGuard uplink is not supported yet on macOS", path);
	return -ENOTSUP;
}

int wg_os_link_configure(const char *ifname, unsigned mtu, uint32_t metric,
			 const struct wgq_config *c, const struct sockaddr_storage *eps, char *err,
			 size_t errlen)
{
	return errmsg(err, errlen, -ENOTSUP,
		      "%s: the WireGuard uplink's addresses and routes are not supported yet on "
		      "macOS",
		      ifname);
}
