/*
 * The TUN device's link settings, addresses and routes over rtnetlink,
 * through libnl-route.
 *
 * Each call opens its own netlink socket and closes it before returning:
 * these calls are rare (start-up, a peer appearing or leaving) and a private
 * socket never sees another request's replies.
 *
 * The mesh prefixes 200::/7 and 100.64.0.0/10 are routed into the device
 * unless another link already routes exactly that prefix in the main table
 * (Yggdrasil owns 200::/7; a carrier-grade NAT uplink owns 100.64.0.0/10).
 * Then we leave that route alone, and the caller adds one host route per
 * peer, which wins over the shorter prefix.
 *
 * libnl returns its own error codes (-NLE_*); they are converted to negative
 * errno here and never leave this file.
 */
#include "tun/netlink.h"
#include "tun/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "common/log.h"

/* IPv6 cannot run on a link with a smaller MTU (RFC 8200, section 5). */
#define IPV6_MIN_MTU 1280

struct mesh_prefix {
	int family;
	uint8_t addr[16];
	unsigned len;
	const char *text;
};

static const struct mesh_prefix mesh_v6 = { AF_INET6, { 0x02 }, 7, "200::/7" };
static const struct mesh_prefix mesh_v4 = { AF_INET, { 100, 64 }, 10, "100.64.0.0/10" };

static const struct {
	int nlerr;
	int err;
} nl_errnos[] = {
	{ NLE_INTR, EINTR },	       { NLE_BAD_SOCK, EBADF },
	{ NLE_AGAIN, EAGAIN },	       { NLE_NOMEM, ENOMEM },
	{ NLE_EXIST, EEXIST },	       { NLE_INVAL, EINVAL },
	{ NLE_RANGE, ERANGE },	       { NLE_MSGSIZE, EMSGSIZE },
	{ NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_AF_NOSUPPORT, EAFNOSUPPORT },
	{ NLE_OBJ_NOTFOUND, ENOENT },  { NLE_NOADDR, EADDRNOTAVAIL },
	{ NLE_BUSY, EBUSY },	       { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
	{ NLE_NOACCESS, EACCES },      { NLE_PERM, EPERM },
	{ NLE_NODEV, ENODEV },
};

int netlink_errno(int nlerr)
{
	if (nlerr < 0)
		nlerr = -nlerr;
	for (size_t i = 0; i < ARRAY_SIZE(nl_errnos); i++) {
		if (nl_errnos[i].nlerr == nlerr)
			return -nl_errnos[i].err;
	}
	return -EIO;
}

/* Log a failed libnl call with libnl's own words, and convert its code. */
static int fail(const char *ifname, const char *what, int nlerr)
{
	log_warn("tun", "%s: %s: %s", ifname, what, nl_geterror(nlerr));
	return netlink_errno(nlerr);
}

static unsigned addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Room for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128". */
#define ADDR_TEXT_LEN (INET6_ADDRSTRLEN + 4)

static void addr_text(int family, const uint8_t *addr, unsigned plen, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%u", ip, plen);
}

struct nl_sock *netlink_open(int *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int nlerr;

	if (!sk) {
		*err = -ENOMEM;
		return NULL;
	}
	nlerr = nl_connect(sk, NETLINK_ROUTE);
	if (nlerr < 0) {
		*err = netlink_errno(nlerr);
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* netlink_open, saying why not in the log. */
static struct nl_sock *sock_open(const char *ifname, int *err)
{
	struct nl_sock *sk = netlink_open(err);

	if (!sk)
		log_warn("tun", "%s: cannot open a netlink socket: %s", ifname, strerror(-*err));
	return sk;
}

/* The interface's index, or a negative errno. */
static int link_index(const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (!idx) {
		int err = errno ? -errno : -ENODEV;

		log_warn("tun", "%s: no such interface: %s", ifname, strerror(-err));
		return err;
	}
	return (int)idx;
}

static int link_up(struct nl_sock *sk, const char *ifname, int ifindex, unsigned mtu)
{
	struct rtnl_link *orig, *change;
	int err = -ENOMEM;

	orig = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (!orig || !change)
		goto out;
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_mtu(change, mtu);
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, orig, change, 0);
	if (err < 0)
		err = fail(ifname, "cannot set the mtu and bring the link up", err);
out:
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return err;
}

/* Add or remove v6/128 or v4/32. IPv6 skips duplicate address detection:
 * the address is ours by construction, and a tentative address could not be
 * bound for the second or so DAD takes. Adding an address already there, or
 * removing one that is not, succeeds. */
static int addr_change(struct nl_sock *sk, const char *ifname, int ifindex, int family,
		       const uint8_t *local, bool add)
{
	struct rtnl_addr *addr;
	struct nl_addr *a;
	char text[ADDR_TEXT_LEN], what[sizeof(text) + 32];
	int err = -ENOMEM;

	addr = rtnl_addr_alloc();
	a = nl_addr_build(family, local, addr_len(family));
	if (!addr || !a)
		goto out;
	rtnl_addr_set_ifindex(addr, ifindex);
	nl_addr_set_prefixlen(a, addr_len(family) * 8);
	if (add && family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	err = rtnl_addr_set_local(addr, a);
	if (err == 0)
		err = add ? rtnl_addr_add(sk, addr, 0) : rtnl_addr_delete(sk, addr, 0);
	if ((add && err == -NLE_EXIST) ||
	    (!add && (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR)))
		err = 0;
	if (err < 0) {
		addr_text(family, local, addr_len(family) * 8, text, sizeof(text));
		snprintf(what, sizeof(what), "cannot %s address %s", add ? "add" : "remove", text);
		err = fail(ifname, what, err);
	}
out:
	nl_addr_put(a);
	rtnl_addr_put(addr);
	return err;
}

/* A unicast route in the main table from dst/plen into the device. The same
 * object serves to add and to delete, so a delete matches the route we added
 * and never another link's route to the same destination. */
static int route_build(int ifindex, int family, const uint8_t *dst, unsigned plen,
		       struct rtnl_route **out)
{
	struct rtnl_route *route;
	struct rtnl_nexthop *nh;
	struct nl_addr *a;
	int err = -ENOMEM;

	route = rtnl_route_alloc();
	a = nl_addr_build(family, dst, addr_len(family));
	if (!route || !a)
		goto out;
	nh = rtnl_route_nh_alloc();
	if (!nh)
		goto out;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route, nh);
	nl_addr_set_prefixlen(a, (int)plen);
	if (rtnl_route_set_dst(route, a) < 0) {
		err = -EINVAL;
		goto out;
	}
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_type(route, RTN_UNICAST);
	/* Link scope, as ip(8) gives a route without a gateway. The kernel
	 * then takes the device's own /32 as the source address, though it
	 * covers no prefix (the tests check with `ip route get'). IPv6 has no
	 * route scopes. */
	if (family == AF_INET)
		rtnl_route_set_scope(route, RT_SCOPE_LINK);
	*out = route;
	route = NULL;
	err = 0;
out:
	nl_addr_put(a);
	rtnl_route_put(route);
	return err;
}

/* Whether route r goes anywhere but through ifindex; if so, say where in
 * desc. libnl merges IPv6 routes that differ only in their device into one
 * multipath object, so every next hop is looked at. A route that is not
 * unicast (unreachable, blackhole, prohibit) counts as well: the kernel
 * shows those on lo, so they are named by type. */
static bool route_elsewhere(struct rtnl_route *r, int ifindex, char *desc, size_t size)
{
	int n = rtnl_route_get_nnexthops(r);
	char type[32], name[IF_NAMESIZE];

	if (rtnl_route_get_type(r) != RTN_UNICAST) {
		nl_rtntype2str(rtnl_route_get_type(r), type, sizeof(type));
		snprintf(desc, size, "has a route of type %s", type);
		return true;
	}
	if (n == 0) {
		snprintf(desc, size, "has a route without a device");
		return true;
	}
	for (int i = 0; i < n; i++) {
		int oif = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, i));

		if (oif == ifindex)
			continue;
		if (!if_indextoname((unsigned)oif, name))
			snprintf(name, sizeof(name), "#%d", oif);
		snprintf(desc, size, "is routed via %s", name);
		return true;
	}
	return false;
}

/* Whether the main table routes exactly p other than through ifindex:
 * 1 (and desc says how), 0, or a negative errno. */
static int prefix_taken(struct nl_sock *sk, const char *ifname, int ifindex,
			const struct mesh_prefix *p, char *desc, size_t size)
{
	struct nl_cache *cache;
	struct nl_object *obj;
	struct nl_addr *want;
	int err;

	want = nl_addr_build(p->family, p->addr, addr_len(p->family));
	if (!want)
		return -ENOMEM;
	nl_addr_set_prefixlen(want, (int)p->len);
	err = rtnl_route_alloc_cache(sk, p->family, 0, &cache);
	if (err < 0) {
		err = fail(ifname, "cannot read the routing table", err);
		goto out;
	}
	for (obj = nl_cache_get_first(cache); obj && !err; obj = nl_cache_get_next(obj)) {
		struct rtnl_route *r = (struct rtnl_route *)obj;

		if (rtnl_route_get_table(r) == RT_TABLE_MAIN &&
		    nl_addr_cmp(rtnl_route_get_dst(r), want) == 0)
			err = route_elsewhere(r, ifindex, desc, size);
	}
	nl_cache_free(cache);
out:
	nl_addr_put(want);
	return err;
}

/* Route p into the device, or leave it to the link that already has it and
 * set *host_routes. */
static int prefix_route_add(struct nl_sock *sk, const char *ifname, int ifindex,
			    const struct mesh_prefix *p, bool *host_routes)
{
	struct rtnl_route *route;
	char desc[64], what[96];
	int err;

	err = prefix_taken(sk, ifname, ifindex, p, desc, sizeof(desc));
	if (err < 0)
		return err;
	if (err > 0) {
		log_info("tun", "%s: %s %s, installing per-peer /%u routes instead", ifname,
			 p->text, desc, addr_len(p->family) * 8);
		*host_routes = true;
		return 0;
	}

	err = route_build(ifindex, p->family, p->addr, p->len, &route);
	if (err < 0)
		return err;
	err = rtnl_route_add(sk, route, 0);
	if (err == -NLE_EXIST)
		err = 0;
	if (err < 0) {
		snprintf(what, sizeof(what), "cannot add route %s", p->text);
		err = fail(ifname, what, err);
	}
	rtnl_route_put(route);
	return err;
}

int tun_configure(const char *ifname, unsigned mtu, const uint8_t v6[16], const uint8_t v4[4],
		  struct tun_route_mode *mode)
{
	struct nl_sock *sk;
	char a6[ADDR_TEXT_LEN], a4[ADDR_TEXT_LEN];
	int ifindex, err;

	*mode = (struct tun_route_mode){ 0 };
	if (mtu < IPV6_MIN_MTU) {
		log_warn("tun", "%s: mtu %u is below the %d that IPv6 needs", ifname, mtu,
			 IPV6_MIN_MTU);
		return -EINVAL;
	}
	ifindex = link_index(ifname);
	if (ifindex < 0)
		return ifindex;
	sk = sock_open(ifname, &err);
	if (!sk)
		return err;

	/* The MTU first: the kernel refuses IPv6 addresses below 1280. */
	err = link_up(sk, ifname, ifindex, mtu);
	if (err < 0)
		goto out;
	err = addr_change(sk, ifname, ifindex, AF_INET6, v6, true);
	if (err < 0)
		goto out;
	err = addr_change(sk, ifname, ifindex, AF_INET, v4, true);
	if (err < 0)
		goto out;
	err = prefix_route_add(sk, ifname, ifindex, &mesh_v6, &mode->v6_host_routes);
	if (err < 0)
		goto out;
	err = prefix_route_add(sk, ifname, ifindex, &mesh_v4, &mode->v4_host_routes);
	if (err < 0)
		goto out;

	addr_text(AF_INET6, v6, 128, a6, sizeof(a6));
	addr_text(AF_INET, v4, 32, a4, sizeof(a4));
	log_info("tun", "%s: up, mtu %u, %s and %s", ifname, mtu, a6, a4);
out:
	nl_socket_free(sk);
	return err;
}

static int host_route(const char *ifname, int family, const uint8_t *addr, bool add)
{
	struct rtnl_route *route;
	struct nl_sock *sk;
	char text[ADDR_TEXT_LEN], what[sizeof(text) + 32];
	int ifindex, err;

	if (family != AF_INET6 && family != AF_INET)
		return -EAFNOSUPPORT;
	ifindex = link_index(ifname);
	if (ifindex < 0)
		return ifindex;
	sk = sock_open(ifname, &err);
	if (!sk)
		return err;
	err = route_build(ifindex, family, addr, addr_len(family) * 8, &route);
	if (err < 0)
		goto out;

	if (add) {
		err = rtnl_route_add(sk, route, 0);
		if (err == -NLE_EXIST)
			err = 0;
	} else {
		err = rtnl_route_delete(sk, route, 0);
		if (err == -NLE_OBJ_NOTFOUND)
			err = 0;
	}
	addr_text(family, addr, addr_len(family) * 8, text, sizeof(text));
	if (err < 0) {
		snprintf(what, sizeof(what), "cannot %s route %s", add ? "add" : "delete", text);
		err = fail(ifname, what, err);
	} else {
		log_debug("tun", "%s: route %s %s", ifname, text, add ? "added" : "deleted");
	}
	rtnl_route_put(route);
out:
	nl_socket_free(sk);
	return err;
}

int tun_route_host_add(const char *ifname, int family, const uint8_t *addr)
{
	return host_route(ifname, family, addr, true);
}

int tun_route_host_del(const char *ifname, int family, const uint8_t *addr)
{
	return host_route(ifname, family, addr, false);
}

int tun_addr_replace(const char *ifname, int family, const uint8_t *old, const uint8_t *new_addr)
{
	struct nl_sock *sk;
	int ifindex, err;

	ifindex = link_index(ifname);
	if (ifindex < 0)
		return ifindex;
	sk = sock_open(ifname, &err);
	if (!sk)
		return err;
	err = addr_change(sk, ifname, ifindex, family, new_addr, true);
	if (err == 0)
		err = addr_change(sk, ifname, ifindex, family, old, false);
	nl_socket_free(sk);
	return err;
}
