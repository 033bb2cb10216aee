/*
 * The WireGuard uplink on Linux: the kernel probe and the interface's MTU,
 * addresses and routes over rtnetlink (libnl-route), and the UAPI socket's
 * peer check (SO_PEERCRED).
 *
 * Each call opens its own netlink socket and closes it before returning, as
 * tun/netlink_linux.c does: these are rare calls (an uplink coming up).
 * libnl's codes become negative errno here and never leave this file.
 */
#include "uplink/wireguard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "tun/netlink.h"

/* wireguard-go, mantad's child, needs CAP_NET_ADMIN for its TUN and a
 * writable /var/run/wireguard. Root's children get the bounding set; a
 * child of a mantad running as another user gets only the ambient set, to
 * which privdrop adds CAP_NET_ADMIN when a wireguard uplink is configured
 * (and creates the directory, or the systemd unit does). */
int wg_os_check(const char *ifname, char *err, size_t errlen)
{
	if (geteuid() == 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0, 0) == 1)
		return 0;
	return errmsg(err, errlen, -EPERM,
		      "wireguard-go would run as uid %u without CAP_NET_ADMIN: give mantad "
		      "CAP_NET_ADMIN in its ambient set (systemd: AmbientCapabilities=), or run "
		      "it as root, with or without --user",
		      (unsigned)geteuid());
}

int wg_os_kernel_probe(const char *ifname)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int err = 0, r;

	sk = netlink_open(&err);
	if (!sk)
		return err;
	link = rtnl_link_alloc();
	if (!link) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_link_set_name(link, ifname);
	r = rtnl_link_set_type(link, "wireguard");
	if (r == 0)
		r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0) {
		/* An unknown kind is EOPNOTSUPP from the kernel, once it has
		 * tried to load the module. */
		err = netlink_errno(r);
		goto out;
	}
	r = rtnl_link_delete(sk, link);
	if (r < 0)
		log_warn("uplink", "%s: cannot delete the kernel WireGuard probe link: %s", ifname,
			 nl_geterror(r));
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err;
}

int wg_os_uapi_connect(const char *path, pid_t pid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		err = -errno;
		goto fail;
	}
	if (cred.pid != pid) {
		err = -EADDRINUSE;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

static unsigned addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int link_up(struct nl_sock *sk, int ifindex, unsigned mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int err = -ENOMEM;

	if (!orig || !change)
		goto out;
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, orig, change, 0);
	err = err < 0 ? netlink_errno(err) : 0;
out:
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return err;
}

static int addr_add(struct nl_sock *sk, int ifindex, const struct wgq_prefix *p)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *a = nl_addr_build(p->family, p->addr, addr_len(p->family));
	int err = -ENOMEM;

	if (!addr || !a)
		goto out;
	rtnl_addr_set_ifindex(addr, ifindex);
	nl_addr_set_prefixlen(a, p->plen);
	if (p->family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD); /* a tunnel has no neighbours */
	err = rtnl_addr_set_local(addr, a);
	if (err == 0)
		err = rtnl_addr_add(sk, addr, 0);
	if (err == -NLE_EXIST)
		err = 0;
	err = err < 0 ? netlink_errno(err) : 0;
out:
	nl_addr_put(a);
	rtnl_addr_put(addr);
	return err;
}

/* p with its host bits cleared: the kernel refuses a route like 10.0.0.1/8. */
static void prefix_network(const struct wgq_prefix *p, uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, p->addr, p->plen / 8);
	if (p->plen % 8)
		out[p->plen / 8] = (uint8_t)(p->addr[p->plen / 8] & (0xff << (8 - p->plen % 8)));
}

static int route_add(struct nl_sock *sk, int ifindex, const struct wgq_prefix *p, uint32_t metric)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = NULL;
	struct nl_addr *a;
	uint8_t net[16];
	int err = -ENOMEM;

	prefix_network(p, net);
	a = nl_addr_build(p->family, net, addr_len(p->family));
	if (!route || !a)
		goto out;
	nh = rtnl_route_nh_alloc();
	if (!nh)
		goto out;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route, nh);
	nl_addr_set_prefixlen(a, p->plen);
	if (rtnl_route_set_dst(route, a) < 0) {
		err = -EINVAL;
		goto out;
	}
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_type(route, RTN_UNICAST);
	if (p->family == AF_INET)
		rtnl_route_set_scope(route, RT_SCOPE_LINK);
	/* A default route through the uplink stays behind one that was there
	 * with a lower metric (ip(8) gives IPv6 routes 1024 too). */
	if (p->plen == 0)
		rtnl_route_set_priority(route, metric);
	err = rtnl_route_add(sk, route, NLM_F_CREATE);
	if (err == -NLE_EXIST)
		err = 0;
	err = err < 0 ? netlink_errno(err) : 0;
out:
	nl_addr_put(a);
	rtnl_route_put(route);
	return err;
}

/* The address of the endpoint, if ss holds one. */
static const uint8_t *endpoint_addr(const struct sockaddr_storage *ss, int *family)
{
	*family = ss->ss_family;
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
	if (ss->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	return NULL;
}

static int peer_routes(struct nl_sock *sk, const char *ifname, int ifindex, uint32_t metric,
		       const struct wgq_peer *peer, const struct sockaddr_storage *ep, char *err,
		       size_t errlen)
{
	char text[64];
	int family, r;
	const uint8_t *ea = endpoint_addr(ep, &family);

	for (size_t j = 0; j < peer->nallowed; j++) {
		const struct wgq_prefix *p = &peer->allowed[j];

		wgq_prefix_format(p, text, sizeof(text));
		if (ea && wgq_prefix_contains(p, family, ea)) {
			log_warn("uplink",
				 "%s: not routing %s into the tunnel: it holds the peer's own "
				 "endpoint (manta does not do wg-quick's fwmark policy routing)",
				 ifname, text);
			continue;
		}
		r = route_add(sk, ifindex, p, metric);
		if (r < 0)
			return errmsg(err, errlen, r, "%s: cannot add the route %s: %s", ifname,
				      text, strerror(-r));
		log_debug("uplink", "%s: route %s added", ifname, text);
	}
	return 0;
}

int wg_os_link_configure(const char *ifname, unsigned mtu, uint32_t metric,
			 const struct wgq_config *c, const struct sockaddr_storage *eps, char *err,
			 size_t errlen)
{
	struct nl_sock *sk;
	char text[64];
	int ifindex, r = 0;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return errmsg(err, errlen, -ENODEV, "%s: the interface is gone", ifname);
	sk = netlink_open(&r);
	if (!sk)
		return errmsg(err, errlen, r, "%s: cannot open a netlink socket: %s", ifname,
			      strerror(-r));
	/* The MTU first: the kernel refuses IPv6 addresses below 1280. */
	r = link_up(sk, ifindex, mtu);
	if (r < 0) {
		errmsg(err, errlen, r, "%s: cannot set mtu %u and bring the link up: %s", ifname,
		       mtu, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < c->naddrs; i++) {
		r = addr_add(sk, ifindex, &c->addrs[i]);
		if (r < 0) {
			wgq_prefix_format(&c->addrs[i], text, sizeof(text));
			errmsg(err, errlen, r, "%s: cannot add the address %s: %s", ifname, text,
			       strerror(-r));
			goto out;
		}
	}
	for (size_t i = 0; i < c->npeers && r == 0; i++)
		r = peer_routes(sk, ifname, ifindex, metric, &c->peers[i], &eps[i], err, errlen);
out:
	nl_socket_free(sk);
	return r;
}
