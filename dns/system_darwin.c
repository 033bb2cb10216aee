/*
 * macOS: the host would point `.pi' at the resolver with a scoped resolver
 * file (/etc/resolver/pi), and read its upstreams from the system
 * configuration. Not written yet: the resolver runs and answers at its
 * addresses, the host's DNS is left alone, and the log says why.
 */
#include "dns/system.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

int dns_bind_to_device(int fd, const char *ifname)
{
	return -ENOTSUP;
}

void dns_system_apply(struct dns_system *s)
{
	if (!s->accept)
		return;
	s->mode = DNS_MODE_FAILED;
	snprintf(s->why, sizeof(s->why),
		 "pointing the host at the resolver is not supported "
		 "yet on macOS");
	log_err("dns", "%s; the host's DNS is left as it was", s->why);
}

void dns_system_revert(struct dns_system *s)
{
}

void dns_system_start(struct dns_system *s, uv_loop_t *loop, const char *dir,
		      const char *resolv_conf, const char *ifname, bool accept)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->accept = accept;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->path, sizeof(s->path), "%s", resolv_conf ? resolv_conf : DNS_RESOLV_CONF);
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	snprintf(s->why, sizeof(s->why), "accept_dns = false");
	dns_system_apply(s);
}

void dns_system_stop(struct dns_system *s)
{
}
