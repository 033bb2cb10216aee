/*
 * The he_6in4 uplink on macOS: not there yet (a utun device and a raw
 * socket would do the userspace tunnel; macOS has gif for the kernel one).
 */
#include "uplink/he6in4.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOT_YET "he_6in4 uplinks are not supported yet on macOS"

int he6in4_os_kernel_up(struct he6in4 *t, char *err, size_t errlen)
{
	snprintf(err, errlen, NOT_YET);
	return -ENOTSUP;
}

int he6in4_os_userspace_up(struct he6in4 *t, char *err, size_t errlen)
{
	snprintf(err, errlen, NOT_YET);
	return -ENOTSUP;
}

int he6in4_os_configure(struct he6in4 *t, char *err, size_t errlen)
{
	snprintf(err, errlen, NOT_YET);
	return -ENOTSUP;
}

int he6in4_os_set_local(struct he6in4 *t, char *err, size_t errlen)
{
	snprintf(err, errlen, NOT_YET);
	return -ENOTSUP;
}

void he6in4_os_down(struct he6in4 *t)
{
}

int he6in4_os_route_source(struct in_addr server, struct in_addr *out)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr = server };
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		r = -errno;
	else
		*out = me.sin_addr;
	close(fd);
	return r;
}
