/*
 * The data plane's I/O: the TUN descriptor and one dual-stack UDP socket
 * ([::]:PORT, IPv4 as v4-mapped), each watched with a uv_poll_t on the raw
 * descriptor so packets move in batches (recvmmsg / sendmmsg) through
 * buffers allocated once. Nothing is allocated per packet.
 */
#ifndef MANTA_DAEMON_DATAPLANE_H
#define MANTA_DAEMON_DATAPLANE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/util.h"
#include "mesh/messages.h"

struct mantad;

enum {
	DP_BATCH = 64,
	/* A slot holds the largest datagram any peer may send us. */
	DP_SLOT = 2048,
};

struct dataplane_counters {
	uint64_t tun_rx_packets, tun_tx_packets;
	uint64_t udp_rx_datagrams, udp_tx_datagrams;
	uint64_t udp_tx_errors, tun_tx_errors, tun_rx_oversize;
};

struct dataplane {
	struct mantad *d;
	int tun_fd, udp_fd;
	uv_poll_t tun_poll, udp_poll;
	bool tun_poll_open, udp_poll_open;
	uint8_t *rx_buf, *tx_buf; /* DP_BATCH * DP_SLOT each */
	struct mmsghdr rx_msgs[DP_BATCH], tx_msgs[DP_BATCH];
	struct iovec rx_iov[DP_BATCH], tx_iov[DP_BATCH];
	struct sockaddr_in6 rx_addr[DP_BATCH], tx_addr[DP_BATCH];
	bool tx_frag[DP_BATCH]; /* may fragment (path MTU, daemon/pmtu.h) */
	struct dataplane_counters counters;
};

/* Opens the UDP socket and allocates buffers; the TUN fd is the caller's
 * and becomes the data plane's (closed by dataplane_close). */
int dataplane_open(struct dataplane *dp, struct mantad *d, int tun_fd, uint16_t port) WARN_UNUSED;
int dataplane_start(struct dataplane *dp) WARN_UNUSED;
/* `manta down` / `manta up`: the TUN descriptor goes (and the device with
 * it) or comes back; the UDP socket and the sessions stay. */
void dataplane_tun_down(struct dataplane *dp);
int dataplane_tun_up(struct dataplane *dp, int tun_fd) WARN_UNUSED;
/* Close the poll handles; descriptors are closed once libuv let go. */
void dataplane_close(struct dataplane *dp);
/* For the protocol engine: send one datagram now. */
void dataplane_send(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len);

#endif
