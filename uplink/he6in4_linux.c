/*
 * The he_6in4 uplink on Linux (he6in4.h): the kernel's sit link over
 * rtnetlink, or the userspace tunnel (a TUN device and a raw IPv4 socket
 * for protocol 41), and the interface's MTU, address and default route,
 * all through libnl-route.
 *
 * The raw socket is bound to the local address and connected to the
 * server, so the kernel hands it only protocol 41 from the server to us;
 * he6in4_decap checks the same again, and the inner packet, before the TUN
 * sees it. It sends with DF set (IP_PMTUDISC_DO) and TTL 64; the kernel
 * writes the IPv4 header. Both sides are read in batches of up to BATCH
 * packets per wake-up. A packet too big for the path to the server (the
 * kernel says EMSGSIZE, from the link's MTU or an ICMP error it learnt)
 * is answered with an ICMPv6 Packet Too Big written into the TUN, as a
 * router would (RFC 4213 3.2), at most PTB_PER_SECOND a second.
 *
 * libnl's codes are converted to negative errno here and never leave.
 */
#include "uplink/he6in4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sit.h>
#include <netlink/route/route.h>

#include "common/log.h"
#include "tun/netlink.h"
#include "tun/icmp.h"
#include "tun/tun.h"

#define BATCH 64
#define PTB_PER_SECOND 100

/* "what: libnl's words" into err; the errno. */
__attribute__((format(printf, 4, 5))) static int nl_fail(int nlerr, char *err, size_t errlen,
							 const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", what, nl_geterror(nlerr));
	return netlink_errno(nlerr);
}

/* --- kernel mode ------------------------------------------------------------ */

int he6in4_os_kernel_up(struct he6in4 *t, char *err, size_t errlen)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int r;

	sk = netlink_open(&r);
	if (!sk)
		return r;
	link = rtnl_link_sit_alloc();
	if (!link) {
		nl_socket_free(sk);
		return -ENOMEM;
	}
	rtnl_link_set_name(link, t->ifname);
	rtnl_link_sit_set_local(link, t->local.s_addr);
	rtnl_link_sit_set_remote(link, t->server.s_addr);
	rtnl_link_sit_set_ttl(link, HE6IN4_TTL);
	r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0)
		r = nl_fail(r, err, errlen, "cannot create the sit link %s", t->ifname);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return r;
}

static int kernel_set_local(struct he6in4 *t, char *err, size_t errlen)
{
	struct rtnl_link *orig = NULL, *change;
	struct nl_sock *sk;
	int r;

	sk = netlink_open(&r);
	if (!sk)
		return r;
	change = rtnl_link_sit_alloc();
	r = change ? rtnl_link_get_kernel(sk, 0, t->ifname, &orig) : -NLE_NOMEM;
	if (r >= 0) {
		rtnl_link_sit_set_local(change, t->local.s_addr);
		rtnl_link_sit_set_remote(change, t->server.s_addr);
		rtnl_link_sit_set_ttl(change, HE6IN4_TTL);
		r = rtnl_link_change(sk, orig, change, 0);
	}
	if (r < 0)
		r = nl_fail(r, err, errlen, "cannot change %s's local address", t->ifname);
	rtnl_link_put(orig);
	rtnl_link_put(change);
	nl_socket_free(sk);
	return r;
}

static void link_delete(struct he6in4 *t)
{
	struct rtnl_link *link = rtnl_link_alloc();
	struct nl_sock *sk;
	int r;

	sk = netlink_open(&r);
	if (!sk || !link) {
		log_err("uplink", "%s: cannot delete: %s", t->ifname, strerror(sk ? ENOMEM : -r));
		goto out;
	}
	rtnl_link_set_name(link, t->ifname);
	r = rtnl_link_delete(sk, link);
	if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		log_err("uplink", "%s: cannot delete: %s", t->ifname, nl_geterror(r));
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
}

/* --- userspace mode ------------------------------------------------------- */

/* The packet in t->buf (n bytes) did not fit the IPv4 path to the server:
 * tell its sender how much does, unless that is below IPv6's 1280. */
static void too_big(struct he6in4 *t, size_t n)
{
	uint8_t out[ICMP_ERROR_MAX];
	uint64_t now = uv_now(t->u->set->loop);
	socklen_t sl = sizeof(int);
	int path = 0;
	size_t len;

	if (getsockopt(t->raw->fd, IPPROTO_IP, IP_MTU, &path, &sl) < 0 || path - 20 < 1280)
		return;
	if (now - t->ptb_window >= 1000) {
		t->ptb_window = now;
		t->ptb_budget = PTB_PER_SECOND;
	}
	if (!t->ptb_budget)
		return;
	len = icmp_build_too_big(out, t->buf, n, (uint32_t)(path - 20), NULL);
	if (len && write(t->tun_fd, out, len) == (ssize_t)len) {
		t->ptb_budget--;
		t->c.ptb_sent++;
	}
}

/* TUN -> raw: each IPv6 packet the host routes into the tunnel. */
static void on_tun(uv_poll_t *p, int status, int events)
{
	struct he6in4 *t = container_of(p, struct he6in4, tun_poll);

	for (int i = 0; i < BATCH && t->raw; i++) {
		ssize_t n = read(t->tun_fd, t->buf, sizeof(t->buf));

		if (n < 0)
			return; /* EAGAIN, or the TUN going away */
		if (!he6in4_inner_ok(t->buf, (size_t)n)) {
			t->c.drops[HE6IN4_DROP_INNER]++;
			continue;
		}
		if (send(t->raw->fd, t->buf, (size_t)n, 0) != n) {
			if (errno == EMSGSIZE)
				too_big(t, (size_t)n);
			t->c.drops[HE6IN4_DROP_SEND]++;
			continue;
		}
		t->c.tx_packets++;
		t->c.tx_bytes += (uint64_t)n;
	}
}

/* raw -> TUN: protocol 41 from the server, checked, unwrapped. */
static void on_raw(uv_poll_t *p, int status, int events)
{
	struct he6in4_raw *raw = container_of(p, struct he6in4_raw, poll);
	struct he6in4 *t = raw->t;

	for (int i = 0; i < BATCH; i++) {
		ssize_t n = recv(raw->fd, t->buf, sizeof(t->buf), 0);
		enum he6in4_drop why;
		size_t inner_len;
		int off;

		if (n < 0)
			return;
		off = he6in4_decap(t->buf, (size_t)n, t->server, t->local, &inner_len, &why);
		if (off < 0) {
			t->c.drops[why]++;
			continue;
		}
		if (write(t->tun_fd, t->buf + off, inner_len) != (ssize_t)inner_len) {
			t->c.drops[HE6IN4_DROP_TUN_WRITE]++;
			continue;
		}
		t->c.rx_packets++;
		t->c.rx_bytes += inner_len;
	}
}

static void tun_closed(uv_handle_t *h)
{
	struct he6in4 *t = container_of((uv_poll_t *)h, struct he6in4, tun_poll);

	close(t->tun_fd); /* the kernel deletes the device, its addresses and routes */
	t->tun_fd = -1;
	he6in4_handle_closed(t);
}

static void raw_closed(uv_handle_t *h)
{
	struct he6in4_raw *raw = container_of((uv_poll_t *)h, struct he6in4_raw, poll);
	struct he6in4 *t = raw->t;

	close(raw->fd);
	free(raw);
	he6in4_handle_closed(t);
}

static void raw_close(struct he6in4 *t)
{
	if (!t->raw)
		return;
	uv_poll_stop(&t->raw->poll);
	uv_close((uv_handle_t *)&t->raw->poll, raw_closed);
	t->raw = NULL;
}

/* A raw protocol 41 socket from t->local to t->server, polled. */
static int raw_open(struct he6in4 *t, char *err, size_t errlen)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = t->local };
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_addr = t->server };
	int pmtu = IP_PMTUDISC_DO, ttl = HE6IN4_TTL, r;
	struct he6in4_raw *raw = calloc(1, sizeof(*raw));
	char ip[INET_ADDRSTRLEN];

	if (!raw)
		return -ENOMEM;
	raw->t = t;
	raw->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);
	if (raw->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open a raw socket for protocol 41: %s%s",
			 strerror(-r), r == -EPERM ? " (mantad needs CAP_NET_RAW)" : "");
		free(raw);
		return r;
	}
	if (setsockopt(raw->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0 ||
	    setsockopt(raw->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
	    bind(raw->fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(raw->fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		r = -errno;
		inet_ntop(AF_INET, &t->local, ip, sizeof(ip));
		snprintf(err, errlen, "cannot bind the raw socket to %s: %s", ip, strerror(-r));
		close(raw->fd);
		free(raw);
		return r;
	}
	r = uv_poll_init_socket(t->u->set->loop, &raw->poll, raw->fd);
	if (r < 0) {
		close(raw->fd);
		free(raw);
		snprintf(err, errlen, "cannot poll the raw socket: %s", uv_strerror(r));
		return r;
	}
	t->open_handles++;
	t->raw = raw;
	uv_poll_start(&raw->poll, UV_READABLE, on_raw);
	return 0;
}

int he6in4_os_userspace_up(struct he6in4 *t, char *err, size_t errlen)
{
	char ifname[IFNAMSIZ];
	int r;

	t->tun_fd = tun_open(t->ifname, ifname);
	if (t->tun_fd < 0) {
		snprintf(err, errlen, "cannot create the TUN device %s: %s", t->ifname,
			 strerror(-t->tun_fd));
		return t->tun_fd;
	}
	r = uv_poll_init(t->u->set->loop, &t->tun_poll, t->tun_fd);
	if (r < 0) {
		close(t->tun_fd);
		snprintf(err, errlen, "cannot poll the TUN device: %s", uv_strerror(r));
		return r;
	}
	t->open_handles++;
	r = raw_open(t, err, errlen);
	if (r < 0) {
		t->closing = true;
		uv_close((uv_handle_t *)&t->tun_poll, tun_closed);
		return r; /* t is freed when the TUN's poll has closed */
	}
	uv_poll_start(&t->tun_poll, UV_READABLE, on_tun);
	return 0;
}

/* --- both ----------------------------------------------------------------- */

static int link_up(struct nl_sock *sk, int ifindex, unsigned mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
	int r = -NLE_NOMEM;

	if (orig && change) {
		rtnl_link_set_ifindex(orig, ifindex);
		rtnl_link_set_mtu(change, mtu);
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(sk, orig, change, 0);
	}
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return r;
}

static int addr_add(struct nl_sock *sk, int ifindex, const struct in6_addr *a, unsigned plen)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET6, a, 16);
	int r = -NLE_NOMEM;

	if (addr && local) {
		nl_addr_set_prefixlen(local, (int)plen);
		rtnl_addr_set_ifindex(addr, ifindex);
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
		r = rtnl_addr_set_local(addr, local);
		if (r == 0)
			r = rtnl_addr_add(sk, addr, 0);
		if (r == -NLE_EXIST)
			r = 0;
	}
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return r;
}

/* ::/0 via gw on the interface with this metric. Not NLM_F_REPLACE: that
 * would take over another uplink's default route of the same metric. */
static int default_route_add(struct nl_sock *sk, int ifindex, const struct in6_addr *gw,
			     uint32_t metric)
{
	static const uint8_t any[16];
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = nl_addr_build(AF_INET6, any, 16);
	struct nl_addr *via = nl_addr_build(AF_INET6, gw, 16);
	int r = -NLE_NOMEM;

	if (route && nh && dst && via) {
		nl_addr_set_prefixlen(dst, 0);
		rtnl_route_set_family(route, AF_INET6);
		rtnl_route_set_table(route, RT_TABLE_MAIN);
		rtnl_route_set_protocol(route, RTPROT_STATIC);
		rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
		rtnl_route_set_type(route, RTN_UNICAST);
		rtnl_route_set_priority(route, metric);
		r = rtnl_route_set_dst(route, dst);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_nh_set_gateway(nh, via);
		rtnl_route_add_nexthop(route, nh);
		nh = NULL; /* the route's now */
		if (r == 0)
			r = rtnl_route_add(sk, route, NLM_F_CREATE);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(via);
	nl_addr_put(dst);
	rtnl_route_put(route);
	return r;
}

int he6in4_os_configure(struct he6in4 *t, char *err, size_t errlen)
{
	const struct uplink_config *cfg = &t->u->cfg;
	struct in6_addr gw;
	struct nl_sock *sk;
	char text[INET6_ADDRSTRLEN];
	int ifindex = (int)if_nametoindex(t->ifname), r;

	if (!ifindex) {
		snprintf(err, errlen, "%s disappeared", t->ifname);
		return -ENODEV;
	}
	sk = netlink_open(&r);
	if (!sk) {
		snprintf(err, errlen, "cannot open a netlink socket: %s", strerror(-r));
		return r;
	}
	r = link_up(sk, ifindex, cfg->mtu ? cfg->mtu : 1480);
	if (r < 0) {
		r = nl_fail(r, err, errlen, "cannot set the MTU of %s and bring it up", t->ifname);
		goto out;
	}
	r = addr_add(sk, ifindex, &cfg->client_ipv6, cfg->client_plen);
	if (r < 0) {
		inet_ntop(AF_INET6, &cfg->client_ipv6, text, sizeof(text));
		r = nl_fail(r, err, errlen, "cannot add the address %s", text);
		goto out;
	}
	if (cfg->default_route) {
		uplink_he6in4_server_v6(cfg, &gw);
		uint32_t metric = cfg->metric ? cfg->metric : HE6IN4_ROUTE_METRIC;

		r = default_route_add(sk, ifindex, &gw, metric);
		inet_ntop(AF_INET6, &gw, text, sizeof(text));
		if (r == -NLE_EXIST)
			r = nl_fail(r, err, errlen,
				    "cannot add the default route via %s: one with metric %u "
				    "exists already (another uplink's? give each its own `metric')",
				    text, (unsigned)metric);
		else if (r < 0)
			r = nl_fail(r, err, errlen, "cannot add the default route via %s", text);
	}
out:
	nl_socket_free(sk);
	return r;
}

int he6in4_os_set_local(struct he6in4 *t, char *err, size_t errlen)
{
	if (t->kernel)
		return kernel_set_local(t, err, errlen);
	raw_close(t);
	return raw_open(t, err, errlen);
}

void he6in4_os_down(struct he6in4 *t)
{
	if (t->kernel) {
		link_delete(t);
		return;
	}
	raw_close(t);
	if (t->tun_fd >= 0) {
		uv_poll_stop(&t->tun_poll);
		/* Gone now, not when the descriptor closes after this loop
		 * iteration: whoever asked sees it gone, and an `up' right
		 * after can create it again. */
		link_delete(t);
		uv_close((uv_handle_t *)&t->tun_poll, tun_closed);
	}
}

int he6in4_os_route_source(struct in_addr server, struct in_addr *out)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = server };
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	/* connect() on UDP sends nothing: it only picks the route and source. */
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		r = -errno;
	else
		*out = me.sin_addr;
	close(fd);
	return r;
}
