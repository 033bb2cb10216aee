/*
 * Path MTU on macOS: not yet. Without an error queue the path MTU comes
 * from probes alone; the socket keeps the system's defaults, and the
 * interface MTU is unknown (the engine then probes up to a full packet).
 */
#include "daemon/pmtu.h"

void pathmtu_socket_setup(int fd)
{
}

void pathmtu_fragment(int fd, bool on)
{
}

void pathmtu_read_errors(struct mantad *d)
{
}

unsigned pathmtu_link_mtu(void *ctx, const struct sockaddr_in6 *to)
{
	return 0;
}
