/*
 * TUN → encrypt → UDP and UDP → decrypt → TUN, a batch per wake-up.
 *
 * Out: up to DP_BATCH packets are read from the TUN, each straight into a
 * slot 16 bytes in (where the WireGuard header goes), sealed in place by
 * device_encrypt, and the whole batch leaves in one sendmmsg.
 * In: one recvmmsg fills up to DP_BATCH slots; each is opened in place by
 * device_receive and written to the TUN. The engine's clock is read once
 * per batch. epoll is level-triggered, so a descriptor with more waiting
 * simply wakes the loop again, and the two directions take turns.
 */
#include "daemon/dataplane.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "mesh/device.h"

static void set_buffer_sizes(int fd)
{
	int size = 4 << 20;

	/* FORCE needs CAP_NET_ADMIN, which mantad has; fall back quietly. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int open_udp(uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int off = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* One socket for both families: IPv4 peers appear as v4-mapped. */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	set_buffer_sizes(fd);
	return fd;
}

int dataplane_open(struct dataplane *dp, struct mantad *d, int tun_fd, uint16_t port)
{
	int fd;

	memset(dp, 0, sizeof(*dp));
	dp->d = d;
	dp->tun_fd = tun_fd;
	dp->udp_fd = -1;
	dp->rx_buf = malloc((size_t)DP_BATCH * DP_SLOT);
	dp->tx_buf = malloc((size_t)DP_BATCH * DP_SLOT);
	if (!dp->rx_buf || !dp->tx_buf)
		return -ENOMEM;
	fd = open_udp(port);
	if (fd < 0) {
		log_err("udp", "[::]:%u: cannot open the UDP socket: %s", port, strerror(-fd));
		return fd;
	}
	dp->udp_fd = fd;
	pathmtu_socket_setup(fd);
	for (int i = 0; i < DP_BATCH; i++) {
		dp->tx_iov[i].iov_base = dp->tx_buf + (size_t)i * DP_SLOT;
		dp->tx_msgs[i].msg_hdr.msg_iov = &dp->tx_iov[i];
		dp->tx_msgs[i].msg_hdr.msg_iovlen = 1;
		dp->tx_msgs[i].msg_hdr.msg_name = &dp->tx_addr[i];
		dp->tx_msgs[i].msg_hdr.msg_namelen = sizeof(dp->tx_addr[i]);
		dp->rx_msgs[i].msg_hdr.msg_iov = &dp->rx_iov[i];
		dp->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		dp->rx_msgs[i].msg_hdr.msg_name = &dp->rx_addr[i];
	}
	return 0;
}

void dataplane_send(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len)
{
	struct dataplane *dp = ctx;

	if (sendto(dp->udp_fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		dp->counters.udp_tx_errors++;
	else
		dp->counters.udp_tx_datagrams++;
}

static void send_run(struct dataplane *dp, unsigned done, unsigned n)
{
	while (done < n) {
		int r = sendmmsg(dp->udp_fd, dp->tx_msgs + done, n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A full socket buffer or an unreachable peer: UDP
			 * drops, and so do we, but the rest still go. */
			dp->counters.udp_tx_errors++;
			done++;
			continue;
		}
		done += (unsigned)r;
		dp->counters.udp_tx_datagrams += (unsigned)r;
	}
}

/* In order, in runs: datagrams that may fragment (daemon/pmtu.h) go out
 * between two switches of the socket's fragmentation settings. */
static void flush_tx(struct dataplane *dp, unsigned n)
{
	unsigned start = 0, end;

	while (start < n) {
		bool frag = dp->tx_frag[start];

		for (end = start + 1; end < n && dp->tx_frag[end] == frag; end++)
			;
		if (frag) {
			pathmtu_fragment(dp->udp_fd, true);
			dp->d->pmtu.counters.tx_fragment_runs++;
		}
		send_run(dp, start, end);
		if (frag)
			pathmtu_fragment(dp->udp_fd, false);
		start = end;
	}
}

static void on_tun_readable(uv_poll_t *h, int status, int events)
{
	struct dataplane *dp = container_of(h, struct dataplane, tun_poll);
	struct device *dev = &dp->d->dev;
	unsigned n = 0;

	if (status < 0)
		return;
	dev->now = uv_hrtime();
	for (int i = 0; i < DP_BATCH; i++) {
		uint8_t *slot = dp->tx_buf + (size_t)n * DP_SLOT;
		ssize_t r = read(dp->tun_fd, slot + MESSAGE_DATA_HEADER_LEN,
				 DP_SLOT - MESSAGE_DATA_HEADER_LEN - NOISE_AUTHTAG_LEN -
					 MESSAGE_PADDING_MULTIPLE);
		const struct sockaddr_in6 *to;
		enum device_tx tx;
		size_t out_len;

		if (r < 0)
			break; /* EAGAIN: drained */
		dp->counters.tun_rx_packets++;
		if (r > MESSAGE_MAX_PLAINTEXT) {
			dp->counters.tun_rx_oversize++;
			continue;
		}
		if (dns_intercept(dp->d->dns, slot + MESSAGE_DATA_HEADER_LEN, (size_t)r))
			continue; /* to or from the resolver (dns/dns.h) */
		if (!filter_out(dp->d, slot + MESSAGE_DATA_HEADER_LEN, (size_t)r))
			continue; /* the firewall said no */
		tx = device_encrypt(dev, slot, (size_t)r, &out_len, &to);
		if (tx == DEVICE_TX_TOO_BIG) {
			/* out_len is the MTU to report (daemon/pmtu.h) */
			pathmtu_too_big(dp->d, slot + MESSAGE_DATA_HEADER_LEN, (size_t)r, out_len);
			continue;
		}
		if (tx != DEVICE_TX_SEND && tx != DEVICE_TX_SEND_FRAG)
			continue;
		dp->tx_frag[n] = tx == DEVICE_TX_SEND_FRAG;
		dp->tx_iov[n].iov_len = out_len;
		dp->tx_addr[n] = *to;
		n++;
	}
	if (n)
		flush_tx(dp, n);
}

static void on_udp_readable(uv_poll_t *h, int status, int events)
{
	struct dataplane *dp = container_of(h, struct dataplane, udp_poll);
	struct device *dev = &dp->d->dev;
	int n;

	if (status < 0)
		return;
	if (events & UV_PRIORITIZED)
		pathmtu_read_errors(dp->d); /* ICMP errors (daemon/pmtu.h) */
	for (int i = 0; i < DP_BATCH; i++) {
		dp->rx_iov[i].iov_base = dp->rx_buf + (size_t)i * DP_SLOT;
		dp->rx_iov[i].iov_len = DP_SLOT;
		dp->rx_msgs[i].msg_hdr.msg_namelen = sizeof(dp->rx_addr[i]);
		dp->rx_msgs[i].msg_hdr.msg_flags = 0;
	}
	n = recvmmsg(dp->udp_fd, dp->rx_msgs, DP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	dev->now = uv_hrtime();
	dp->counters.udp_rx_datagrams += (unsigned)n;
	for (int i = 0; i < n; i++) {
		uint8_t *buf = dp->rx_iov[i].iov_base;
		struct mmsghdr *m = &dp->rx_msgs[i];
		size_t ip_len;

		/* Only IPv6 sockaddrs arrive on this socket; a truncated
		 * datagram is garbage. */
		if (m->msg_hdr.msg_flags & MSG_TRUNC || dp->rx_addr[i].sin6_family != AF_INET6)
			continue;
		if (join_is_message(buf, m->msg_len)) {
			join_receive(&dp->d->mem, &dp->rx_addr[i], buf, m->msg_len);
			continue;
		}
		if (device_receive(dev, &dp->rx_addr[i], buf, m->msg_len, &ip_len) !=
		    DEVICE_RX_DELIVER)
			continue;
		if (!filter_in(dp->d, buf + MESSAGE_DATA_HEADER_LEN, ip_len))
			continue; /* the firewall said no */
		if (dp->tun_fd < 0 || write(dp->tun_fd, buf + MESSAGE_DATA_HEADER_LEN, ip_len) < 0)
			dp->counters.tun_tx_errors++;
		else
			dp->counters.tun_tx_packets++;
	}
}

int dataplane_start(struct dataplane *dp)
{
	uv_loop_t *loop = &dp->d->loop;
	int r;

	r = uv_poll_init(loop, &dp->tun_poll, dp->tun_fd);
	if (r < 0)
		return r;
	dp->tun_poll_open = true;
	r = uv_poll_init(loop, &dp->udp_poll, dp->udp_fd);
	if (r < 0)
		return r;
	dp->udp_poll_open = true;
	r = uv_poll_start(&dp->tun_poll, UV_READABLE, on_tun_readable);
	if (r < 0)
		return r;
	/* UV_PRIORITIZED: the error queue (daemon/pmtu.h). */
	return uv_poll_start(&dp->udp_poll, UV_READABLE | UV_PRIORITIZED, on_udp_readable);
}

static void on_tun_closed(uv_handle_t *h)
{
	struct dataplane *dp = container_of((uv_poll_t *)h, struct dataplane, tun_poll);

	close(dp->tun_fd);
	dp->tun_fd = -1;
}

static void on_udp_closed(uv_handle_t *h)
{
	struct dataplane *dp = container_of((uv_poll_t *)h, struct dataplane, udp_poll);

	close(dp->udp_fd);
	dp->udp_fd = -1;
}

void dataplane_tun_down(struct dataplane *dp)
{
	if (dp->tun_poll_open) {
		uv_close((uv_handle_t *)&dp->tun_poll, on_tun_closed);
		dp->tun_poll_open = false;
	}
}

int dataplane_tun_up(struct dataplane *dp, int tun_fd)
{
	int r;

	if (dp->tun_fd >= 0)
		return -EBUSY;
	dp->tun_fd = tun_fd;
	r = uv_poll_init(&dp->d->loop, &dp->tun_poll, tun_fd);
	if (r < 0)
		return r;
	dp->tun_poll_open = true;
	return uv_poll_start(&dp->tun_poll, UV_READABLE, on_tun_readable);
}

void dataplane_close(struct dataplane *dp)
{
	if (dp->tun_poll_open) {
		uv_close((uv_handle_t *)&dp->tun_poll, on_tun_closed);
		dp->tun_poll_open = false;
	} else if (dp->tun_fd >= 0) {
		close(dp->tun_fd);
		dp->tun_fd = -1;
	}
	if (dp->udp_poll_open) {
		uv_close((uv_handle_t *)&dp->udp_poll, on_udp_closed);
		dp->udp_poll_open = false;
	} else if (dp->udp_fd >= 0) {
		close(dp->udp_fd);
		dp->udp_fd = -1;
	}
	free(dp->rx_buf);
	free(dp->tx_buf);
	dp->rx_buf = dp->tx_buf = NULL;
}
