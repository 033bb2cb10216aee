/*
 * An uplink's health prober on Linux: one ICMPv6 socket bound to the
 * interface, one libuv timer, and one netlink socket, all per prober.
 *
 * Every interval the timer (tick) first reads whatever replies wait,
 * records the probes older than the timeout as lost, asks the kernel for
 * the interface (one RTM_GETLINK for that name over a netlink socket kept
 * open across rounds: flags and byte counters), binds the ICMPv6 socket to
 * it if it has appeared or been recreated since (SO_BINDTODEVICE holds an
 * ifindex), and sends one echo request per target. Replies wake the
 * uv_poll handle and are matched in health.c (identifier, sequence number,
 * source); the state is recomputed after each round and each batch of
 * replies.
 *
 * The socket is raw (SOCK_RAW, IPPROTO_ICMPV6), which needs CAP_NET_RAW:
 * mantad keeps it (daemon/privdrop_linux.c), it works whatever the
 * net.ipv4.ping_group_range sysctl says, and ICMP6_FILTER lets the kernel
 * drop every other ICMPv6 type before waking us. Its cost: every raw ICMPv6
 * socket bound to that interface sees every echo reply arriving there,
 * ping's too, hence the random identifier. Without CAP_NET_RAW (EPERM) the
 * kernel's ping socket (SOCK_DGRAM) is tried instead: it needs the group
 * in ping_group_range, and the kernel then picks the identifier and
 * delivers only the replies that carry it.
 *
 * Round trips are measured on the monotonic clock, from just before
 * sendto to the moment the kernel received the reply: SO_TIMESTAMPNS
 * stamps each datagram on arrival (on the real-time clock, so only its
 * age, now minus stamp, is used, never the stamp itself), which keeps the
 * loop's own scheduling delays out of the figure as ping keeps them out of
 * its own.
 */
#include "uplink/health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sodium.h>

#include "common/log.h"
#include "tun/netlink.h"
#include "uplink/health_echo.h"

#define NS_PER_SEC 1000000000ull
#define READ_BATCH 64

struct health_os {
	struct nl_sock *nl;
	int bound_ifindex; /* the socket's SO_BINDTODEVICE, 0 = none yet */
	int open_handles; /* until 0 after health_stop: then freed */
	bool dgram; /* a ping socket, not a raw one */
	bool link_error_logged, bind_error_logged, send_error_logged;
};

static struct health_os *os_of(const struct health *h)
{
	return h->os;
}

/* The slack with which a probe counts as timed out at a tick: the timer
 * fires on the loop's millisecond clock, so a probe sent one interval ago
 * may look a little younger than the interval. */
static uint64_t tick_slack_ns(const struct health *h)
{
	return MIN(health_interval_ns(h) / 10, 50000000ull);
}

/* --- the interface ---------------------------------------------------------- */

static int open_netlink(struct health *h)
{
	struct health_os *os = os_of(h);
	struct timeval tv = { .tv_sec = 1 };
	int r;

	os->nl = netlink_open(&r);
	if (!os->nl) {
		if (!os->link_error_logged)
			log_warn("health", "%s: cannot open a netlink socket: %s", h->ifname,
				 strerror(-r));
		os->link_error_logged = true;
		return r;
	}
	/* A reply to RTM_GETLINK is immediate; never wait on a lost one. */
	(void)setsockopt(nl_socket_get_fd(os->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

static void query_link(struct health *h)
{
	struct health_os *os = os_of(h);
	struct rtnl_link *link = NULL;
	unsigned flags;
	int r;

	if (!os->nl && open_netlink(h) < 0)
		return; /* the link's state stays what it was; again next round */
	r = rtnl_link_get_kernel(os->nl, 0, h->ifname, &link);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV) {
		health_record_link(h, false, false, 0, 0);
		return;
	}
	if (r < 0) {
		if (!os->link_error_logged)
			log_warn("health", "%s: cannot read the interface over netlink: %s",
				 h->ifname, nl_geterror(r));
		os->link_error_logged = true;
		/* A reply out of step (one of ours that came after its time
		 * would be taken for the next answer) or a broken socket: a
		 * fresh one next round. The link's state stays what it was. */
		nl_socket_free(os->nl);
		os->nl = NULL;
		return;
	}
	os->link_error_logged = false;
	flags = rtnl_link_get_flags(link);
	health_record_link(h, true, (flags & IFF_UP) && (flags & IFF_RUNNING),
			   rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES),
			   rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES));
	if (h->fd >= 0 && rtnl_link_get_ifindex(link) != os->bound_ifindex) {
		if (setsockopt(h->fd, SOL_SOCKET, SO_BINDTODEVICE, h->ifname,
			       (socklen_t)strlen(h->ifname)) == 0) {
			os->bound_ifindex = rtnl_link_get_ifindex(link);
			os->bind_error_logged = false;
			log_debug("health", "%s: probing bound to ifindex %d", h->ifname,
				  os->bound_ifindex);
		} else if (!os->bind_error_logged) {
			log_warn("health", "%s: cannot bind the ICMPv6 socket to it: %s", h->ifname,
				 strerror(errno));
			os->bind_error_logged = true;
		}
	}
	rtnl_link_put(link);
}

/* --- replies ---------------------------------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* When the kernel received the datagram, on the monotonic clock: now less
 * the age of its SO_TIMESTAMPNS stamp, when it has a believable one. */
static uint64_t arrival_ns(struct msghdr *m)
{
	uint64_t now = uv_hrtime(), real = realtime_ns();

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		struct timespec ts;
		uint64_t stamp;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS ||
		    c->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		stamp = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
		if (stamp <= real && real - stamp < NS_PER_SEC && real - stamp < now)
			return now - (real - stamp);
	}
	return now;
}

/* Read every waiting datagram (up to a batch); true if any answered. */
static bool read_replies(struct health *h)
{
	uint8_t buf[256];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	bool matched = false;

	for (int i = 0; i < READ_BATCH; i++) {
		struct sockaddr_in6 from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(h->fd, &m, MSG_DONTWAIT);

		if (n < 0)
			break; /* EAGAIN: drained; errors are for the next send */
		if (m.msg_namelen < sizeof(from) || from.sin6_family != AF_INET6)
			continue;
		matched |= health_echo_reply(h, buf, (size_t)n, &from.sin6_addr, arrival_ns(&m));
	}
	return matched;
}

static void on_readable(uv_poll_t *poll, int status, int events)
{
	struct health *h = container_of(poll, struct health, poll);

	if (status < 0) {
		log_warn("health", "%s: ICMPv6 socket: %s", h->ifname, uv_strerror(status));
		return;
	}
	if (read_replies(h))
		health_update(h);
}

/* --- probes ----------------------------------------------------------------- */

static void send_probes(struct health *h)
{
	struct health_os *os = os_of(h);

	for (size_t t = 0; t < h->cfg.ntargets; t++) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6,
					   .sin6_addr = h->cfg.targets[t] };
		uint8_t req[HEALTH_ECHO_LEN];
		uint16_t seq;

		if (IN6_IS_ADDR_LINKLOCAL(&to.sin6_addr))
			to.sin6_scope_id = (uint32_t)os->bound_ifindex;
		seq = health_echo_build(h, (uint8_t)t, uv_hrtime(), req);
		if (sendto(h->fd, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)) >= 0) {
			os->send_error_logged = false;
			continue;
		}
		/* This probe is lost. Said once until a send works again: most
		 * likely ENETUNREACH, no route to the target through this
		 * interface (the socket is bound to it, so another interface's
		 * default route does not count). */
		if (!os->send_error_logged) {
			int err = errno;
			char text[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &to.sin6_addr, text, sizeof(text));
			log_warn("health", "%s: cannot send an echo request to %s: %s", h->ifname,
				 text, strerror(err));
			os->send_error_logged = true;
		}
		health_echo_unsent(h, seq);
	}
}

static void tick(uv_timer_t *timer)
{
	struct health *h = container_of(timer, struct health, timer);
	struct health_os *os = os_of(h);

	if (h->fd >= 0) {
		read_replies(h);
		health_echo_expire(h, uv_hrtime(), tick_slack_ns(h));
	}
	query_link(h);
	if (h->fd >= 0 && h->link_up && os->bound_ifindex)
		send_probes(h);
	h->last_check = (uint64_t)time(NULL);
	health_update(h);
}

/* --- start and stop --------------------------------------------------------- */

/* The ICMPv6 socket: raw, or the kernel's ping socket without CAP_NET_RAW. */
static int open_socket(struct health *h)
{
	struct health_os *os = os_of(h);
	struct icmp6_filter filter;
	struct sockaddr_in6 self = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(self);
	int fd, one = 1, raw_err;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd >= 0) {
		ICMP6_FILTER_SETBLOCKALL(&filter);
		ICMP6_FILTER_SETPASS(HEALTH_ECHO_REPLY, &filter);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) != 0)
			log_warn("health", "%s: cannot set ICMP6_FILTER: %s", h->ifname,
				 strerror(errno));
		h->ident = (uint16_t)randombytes_random();
		goto stamp;
	}
	raw_err = errno;
	if (raw_err != EPERM && raw_err != EACCES)
		return -raw_err;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0) {
		log_warn("health",
			 "%s: no raw ICMPv6 socket (%s: mantad needs CAP_NET_RAW) and no "
			 "ping socket (%s: see net.ipv4.ping_group_range)",
			 h->ifname, strerror(raw_err), strerror(errno));
		return -raw_err;
	}
	/* The kernel picks the identifier when the socket is bound. */
	if (bind(fd, (struct sockaddr *)&self, sizeof(self)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &len) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	h->ident = ntohs(self.sin6_port);
	os->dgram = true;
stamp:
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0)
		log_debug("health", "%s: no SO_TIMESTAMPNS: %s", h->ifname, strerror(errno));
	h->fd = fd;
	return 0;
}

static void os_free(struct health *h)
{
	struct health_os *os = os_of(h);

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (os->nl)
		nl_socket_free(os->nl);
	free(os);
	h->os = NULL;
}

int health_start(struct health *h, uv_loop_t *loop, const char *ifname,
		 const struct health_config *cfg)
{
	uint64_t interval_ms;
	int r;

	if (h->os)
		return -EBUSY; /* running, or its handles are still closing */
	if (!ifname || !*ifname || strlen(ifname) >= sizeof(h->ifname) ||
	    cfg->ntargets > HEALTH_TARGETS_MAX)
		return -EINVAL;
	h->os = calloc(1, sizeof(struct health_os));
	if (!h->os)
		return -ENOMEM;
	h->fd = -1;
	h->cfg = *cfg;
	h->loop = loop;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	health_reset(h);
	h->seq = (uint16_t)randombytes_random();
	r = open_netlink(h);
	if (r == 0 && cfg->ntargets)
		r = open_socket(h);
	if (r == 0 && h->fd >= 0)
		r = uv_poll_init(loop, &h->poll, h->fd);
	if (r < 0) {
		log_warn("health", "%s: cannot start probing: %s", ifname, strerror(-r));
		os_free(h);
		return r;
	}
	os_of(h)->open_handles = h->fd >= 0 ? 2 : 1;
	if (h->fd >= 0)
		(void)uv_poll_start(&h->poll, UV_READABLE, on_readable);
	(void)uv_timer_init(loop, &h->timer);
	interval_ms = MAX(health_interval_ns(h) / 1000000, 10);
	(void)uv_timer_start(&h->timer, tick, 0, interval_ms);
	h->running = true;
	log_debug("health", "%s: probing %zu target(s) every %llu ms with a %s socket", ifname,
		  cfg->ntargets, (unsigned long long)interval_ms,
		  !cfg->ntargets  ? "no" :
		  os_of(h)->dgram ? "ping" :
				    "raw");
	return 0;
}

static void handle_closed(struct health *h)
{
	if (--os_of(h)->open_handles == 0)
		os_free(h);
}

static void timer_closed(uv_handle_t *handle)
{
	handle_closed(container_of((uv_timer_t *)handle, struct health, timer));
}

static void poll_closed(uv_handle_t *handle)
{
	handle_closed(container_of((uv_poll_t *)handle, struct health, poll));
}

void health_stop(struct health *h)
{
	if (!h->running)
		return;
	h->running = false;
	health_echo_clear(h);
	/* Not reported through on_change: whoever stops it knows. */
	h->state = HEALTH_DOWN;
	nl_socket_free(os_of(h)->nl);
	os_of(h)->nl = NULL;
	uv_close((uv_handle_t *)&h->timer, timer_closed);
	if (h->fd >= 0)
		uv_close((uv_handle_t *)&h->poll, poll_closed);
}
