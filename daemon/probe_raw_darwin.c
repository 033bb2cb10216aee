/*
 * The probe receiver on macOS: not yet. Its raw sockets do not get UDP
 * datagrams that the kernel delivers to a socket; the way there is BPF on
 * the interface (/dev/bpf), which is still to be written.
 */
#include "daemon/probe_raw.h"

#include <errno.h>

#include "common/errmsg.h"

int probe_raw_open(uint16_t port, char *err, size_t errlen)
{
	return errmsg(err, errlen, -ENOTSUP,
		      "manta probe udp is not supported yet on macOS: it cannot watch port %u",
		      port);
}

ssize_t probe_raw_recv(int fd, uint16_t dport, uint8_t *buf, size_t cap, struct sockaddr_in6 *from,
		       uint8_t dst[16])
{
	return -ENOTSUP;
}

void probe_raw_close(int fd)
{
}
