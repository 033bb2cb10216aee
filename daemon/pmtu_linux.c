/*
 * Path MTU on Linux: socket options, the socket's error queue, and the
 * MTU of the interface toward an endpoint (one RTM_GETROUTE over a private
 * netlink socket, then the device's MTU; the route's own cached path MTU is
 * deliberately not used: it is what probing is there to find out).
 */
#include "daemon/pmtu.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/errqueue.h>
#include <linux/rtnetlink.h>

#include "common/log.h"
#include "daemon/mantad.h"

static void set_int(int fd, int level, int name, int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) != 0)
		log_warn("pmtu", "UDP socket: cannot set %s: %s", what, strerror(errno));
}

void pathmtu_socket_setup(int fd)
{
	/* DF on every IPv4 datagram and no local fragmentation of IPv6, with
	 * the kernel's cached path MTU ignored: path_mtu decides. */
	set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, "IP_MTU_DISCOVER");
	set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, "IPV6_MTU_DISCOVER");
	set_int(fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1, "IPV6_DONTFRAG");
	set_int(fd, IPPROTO_IP, IP_RECVERR, 1, "IP_RECVERR");
	set_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1, "IPV6_RECVERR");
	set_int(fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1, "SO_SELECT_ERR_QUEUE");
}

void pathmtu_fragment(int fd, bool on)
{
	/* IPv4 without DF: fragmented here at the route's MTU, or by the
	 * router that needs to. IPv6: fragmented here at the path MTU the
	 * kernel learnt from ICMPv6 (IPv6 routers never fragment). */
	set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, on ? IP_PMTUDISC_DONT : IP_PMTUDISC_PROBE,
		"IP_MTU_DISCOVER");
	set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, on ? IPV6_PMTUDISC_WANT : IPV6_PMTUDISC_PROBE,
		"IPV6_MTU_DISCOVER");
	set_int(fd, IPPROTO_IPV6, IPV6_DONTFRAG, !on, "IPV6_DONTFRAG");
}

static const struct sock_extended_err *extended_err(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR) ||
		    (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR))
			return (const struct sock_extended_err *)(void *)CMSG_DATA(c);
	return NULL;
}

void pathmtu_read_errors(struct mantad *d)
{
	/* The start of the quoted WireGuard message is all we look at. */
	uint8_t quoted[64];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				       sizeof(struct sockaddr_in6))];
	} ctl;
	struct sockaddr_in6 to;
	struct iovec iov = { quoted, sizeof(quoted) };
	const struct sock_extended_err *ee;

	d->dev.now = uv_hrtime();
	for (int i = 0; i < 256; i++) {
		struct msghdr m = { .msg_name = &to,
				    .msg_namelen = sizeof(to),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		ssize_t r = recvmsg(d->dp.udp_fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);

		if (r < 0)
			return; /* EAGAIN: drained */
		d->pmtu.counters.icmp_errors++;
		ee = extended_err(&m);
		/* Only "too big" matters here; port unreachable and the like
		 * are WireGuard's business (it retries). */
		if (!ee || ee->ee_errno != EMSGSIZE || to.sin6_family != AF_INET6 ||
		    (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6 &&
		     ee->ee_origin != SO_EE_ORIGIN_LOCAL))
			continue;
		pathmtu_icmp_error(d, &to, quoted, (size_t)r, ee->ee_info);
	}
}

static void add_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(void *)((uint8_t *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* The output interface of the route to `to', or 0. */
static int route_oif(int fd, const struct sockaddr_in6 *to)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		uint8_t attrs[32];
	} req = { 0 };
	union {
		struct nlmsghdr align;
		uint8_t buf[2048];
	} reply;
	bool v4 = IN6_IS_ADDR_V4MAPPED(&to->sin6_addr);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
	req.rt.rtm_dst_len = v4 ? 32 : 128;
	add_attr(&req.nh, RTA_DST, v4 ? to->sin6_addr.s6_addr + 12 : to->sin6_addr.s6_addr,
		 v4 ? 4 : 16);
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return 0;
	n = recv(fd, reply.buf, sizeof(reply.buf), 0);
	for (struct nlmsghdr *nh = &reply.align; n > 0 && NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct rtattr *a;
		int len;

		if (nh->nlmsg_type != RTM_NEWROUTE)
			return 0; /* NLMSG_ERROR: no route */
		len = (int)RTM_PAYLOAD(nh);
		for (a = RTM_RTA(NLMSG_DATA(nh)); RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == sizeof(int)) {
				int oif;

				memcpy(&oif, RTA_DATA(a), sizeof(oif));
				return oif;
			}
	}
	return 0;
}

unsigned pathmtu_link_mtu(void *ctx, const struct sockaddr_in6 *to)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct timeval tv = { .tv_sec = 1 };
	struct ifreq ifr = { 0 };
	unsigned mtu = 0;
	int oif;

	if (fd < 0)
		return 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	oif = route_oif(fd, to);
	/* SIOCGIFMTU works on any socket, this one included. */
	if (oif > 0 && if_indextoname((unsigned)oif, ifr.ifr_name) &&
	    ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return mtu;
}
