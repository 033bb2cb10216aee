/*
 * Linux TUN device: /dev/net/tun, one TUNSETIFF, no packet information
 * header. The device lives as long as its descriptor (it is not made
 * persistent), so the kernel removes it, its addresses and its routes when
 * mantad exits, however it exits.
 */
#include "tun/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "common/log.h"

int tun_open(const char *name, char ifname[IFNAMSIZ])
{
	struct ifreq ifr;
	size_t len = strnlen(name, IFNAMSIZ);
	int fd, err;

	/* The kernel would cut a long name short without a word; refuse it. */
	if (len == IFNAMSIZ) {
		log_warn("tun", "interface name `%.*s...' is longer than %d characters",
			 IFNAMSIZ - 1, name, IFNAMSIZ - 1);
		return -ENAMETOOLONG;
	}

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_err("tun", "cannot open /dev/net/tun: %s", strerror(-err));
		return err;
	}

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, len);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		log_err("tun", "cannot create interface `%s': %s", name, strerror(-err));
		goto err_fd;
	}

	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	log_debug("tun", "%s: created", ifname);
	return fd;

err_fd:
	close(fd);
	return err;
}
