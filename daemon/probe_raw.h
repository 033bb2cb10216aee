/*
 * The receiving end of `manta probe udp' (platform code): a socket that
 * sees a copy of every UDP datagram this host receives on one port, whether
 * or not an application listens there.
 *
 * On Linux that is a raw IPv6 socket for IPPROTO_UDP: the kernel hands raw
 * sockets a clone of each packet of their protocol before UDP looks for a
 * listener, after the netfilter input hook (so a firewall that drops the
 * port drops the probe too, which is what the test is about). A bound UDP
 * socket would fail with EADDRINUSE exactly when the application runs. A
 * classic BPF filter on the destination port and the probe magic keeps
 * every other datagram in the kernel. It needs CAP_NET_RAW, which mantad
 * keeps (privdrop.h). It is open only while a probe waits.
 */
#ifndef MANTA_DAEMON_PROBE_RAW_H
#define MANTA_DAEMON_PROBE_RAW_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/util.h"

/* A non-blocking descriptor that reads UDP datagrams to port, or a
 * negative errno with err saying what failed. */
int probe_raw_open(uint16_t port, char *err, size_t errlen) WARN_UNUSED;
/* One datagram: its UDP payload into buf (at most cap bytes), its source
 * address and port, its destination address (in6addr_any if unknown).
 * Returns the payload length, -EAGAIN when none is waiting, or another
 * negative errno. Datagrams to another port than dport are skipped
 * (-EAGAIN is returned only when the queue is empty). */
ssize_t probe_raw_recv(int fd, uint16_t dport, uint8_t *buf, size_t cap, struct sockaddr_in6 *from,
		       uint8_t dst[16]);
void probe_raw_close(int fd);

#endif
