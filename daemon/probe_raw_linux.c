/*
 * The probe receiver on Linux (see probe_raw.h): a raw IPv6 socket for
 * IPPROTO_UDP. What it reads starts at the UDP header (IPv6 raw sockets
 * never include the IPv6 header); the destination address comes from
 * IPV6_PKTINFO. The filter runs on the same bytes: UDP header at offset 0,
 * payload at 8.
 */
#include "daemon/probe_raw.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>

#include "common/bytes.h"
#include "common/errmsg.h"
#include "mesh/probe.h"

#define UDP_HEADER 8

/* Accept a datagram to port whose payload starts with the probe magic
 * (first 4 bytes, big-endian as BPF loads them); drop everything else. */
static int attach_filter(int fd, uint16_t port)
{
	const uint8_t *m = (const uint8_t *)PROBE_MAGIC;
	uint32_t magic = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2), /* destination port */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, UDP_HEADER), /* payload's first word */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, magic, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0 ? 0 : -errno;
}

int probe_raw_open(uint16_t port, char *err, size_t errlen)
{
	int fd, on = 1, r;
	uint8_t junk[64];

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0) {
		r = -errno;
		return errmsg(err, errlen, r, "cannot open a raw IPv6 socket to watch udp/%u: %s%s",
			      port, strerror(-r), r == -EPERM ? " (mantad needs CAP_NET_RAW)" : "");
	}
	r = attach_filter(fd, port);
	if (r == 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) != 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return errmsg(err, errlen, r, "cannot set up the raw socket for udp/%u: %s", port,
			      strerror(-r));
	}
	/* What arrived before the filter was attached is unfiltered: drop it. */
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) >= 0)
		;
	return fd;
}

static void pktinfo_dst(struct msghdr *mh, uint8_t dst[16])
{
	memset(dst, 0, 16);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memcpy(dst, pi.ipi6_addr.s6_addr, 16);
		}
	}
}

ssize_t probe_raw_recv(int fd, uint16_t dport, uint8_t *buf, size_t cap, struct sockaddr_in6 *from,
		       uint8_t dst[16])
{
	uint8_t pkt[UDP_HEADER + 64];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} control;
	struct iovec iov = { .iov_base = pkt, .iov_len = sizeof(pkt) };
	struct msghdr mh = { .msg_name = from,
			     .msg_namelen = sizeof(*from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	ssize_t n;
	size_t plen;

	for (;;) {
		mh.msg_namelen = sizeof(*from);
		mh.msg_controllen = sizeof(control.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (n < UDP_HEADER || get_be16(pkt + 2) != dport)
			continue;
		/* The UDP length field, not what was read, bounds the payload. */
		plen = MIN((size_t)n, (size_t)get_be16(pkt + 4));
		plen = plen > UDP_HEADER ? plen - UDP_HEADER : 0;
		plen = MIN(plen, cap);
		memcpy(buf, pkt + UDP_HEADER, plen);
		from->sin6_port = htons(get_be16(pkt)); /* raw sockets report port 0 */
		pktinfo_dst(&mh, dst);
		return (ssize_t)plen;
	}
}

void probe_raw_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
