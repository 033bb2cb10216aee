/*
 * Failover by route metric (route.h) on Linux, through libnl-route: the
 * main table's IPv6 routes are read once, and each default route whose
 * only next hop leaves through the interface is added again with the new
 * metric, then deleted with the old one (the metric is part of an IPv6
 * route's key, so a replace would not find it).
 */
#include <errno.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <stdbool.h>

#include "tun/netlink.h"
#include "uplink/route.h"

struct walk {
	struct nl_sock *sk;
	int ifindex;
	bool demote;
	int moved, err;
};

static bool ours(struct rtnl_route *r, const struct walk *w)
{
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_family(r) != AF_INET6 || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    !dst || nl_addr_get_prefixlen(dst) != 0 || rtnl_route_get_nnexthops(r) != 1)
		return false;
	nh = rtnl_route_nexthop_n(r, 0);
	if (!nh || rtnl_route_nh_get_ifindex(nh) != w->ifindex)
		return false;
	return w->demote == (rtnl_route_get_priority(r) < UPLINK_DEMOTE_METRIC);
}

static void move(struct nl_object *obj, void *arg)
{
	struct walk *w = arg;
	struct rtnl_route *r = (struct rtnl_route *)obj, *copy;
	uint32_t metric = rtnl_route_get_priority(r);
	int e;

	if (w->err || !ours(r, w))
		return;
	copy = (struct rtnl_route *)nl_object_clone(obj);
	if (!copy) {
		w->err = -ENOMEM;
		return;
	}
	rtnl_route_set_priority(copy, w->demote ? metric + UPLINK_DEMOTE_METRIC :
						  metric - UPLINK_DEMOTE_METRIC);
	e = rtnl_route_add(w->sk, copy, NLM_F_CREATE);
	if (e == 0)
		e = rtnl_route_delete(w->sk, r, 0);
	rtnl_route_put(copy);
	if (e < 0 && e != -NLE_OBJ_NOTFOUND) {
		w->err = netlink_errno(e);
		return;
	}
	w->moved++;
}

int uplink_os_default_demote(const char *ifname, bool demote)
{
	struct walk w = { .ifindex = (int)if_nametoindex(ifname), .demote = demote };
	struct nl_cache *cache = NULL;
	int r;

	if (!w.ifindex)
		return -ENODEV;
	w.sk = netlink_open(&r);
	if (!w.sk)
		return r;
	r = rtnl_route_alloc_cache(w.sk, AF_INET6, 0, &cache);
	if (r == 0) {
		nl_cache_foreach(cache, move, &w);
		nl_cache_free(cache);
		r = w.err ? w.err : w.moved;
	} else {
		r = netlink_errno(r);
	}
	nl_socket_free(w.sk);
	return r;
}
