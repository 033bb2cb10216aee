/*
 * The uplink manager (uplink.h): the [uplink.NAME] sections become struct
 * uplink, each with its driver (he6in4.c, wireguard.c, external.c) and its
 * health prober (health.h).
 *
 * uplink_up() asks the driver for the interface, then starts the prober on
 * it; uplink_down() stops the prober and has the driver undo what it did.
 * Every change of the health state is logged here (on_change), with the
 * time it happened, which status shows as "changed_at"; an uplink manta
 * manages that goes down has its default routes demoted, and promoted
 * again when it comes back (route.h), so the host's traffic, the mesh's
 * included, leaves through an uplink that works.
 *
 * The configuration is read once, at start: SIGHUP leaves the uplinks as
 * they are (daemon.c says so in the log when [uplink.*] changed).
 */
#include "uplink/uplink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/config.h"
#include "daemon/mantad.h"
#include "uplink/he6in4.h"
#include "uplink/route.h"

static const struct uplink_driver *driver_for(enum uplink_type t)
{
	switch (t) {
	case UPLINK_HE_6IN4:
		return &uplink_he6in4;
	case UPLINK_WIREGUARD:
		return &uplink_wireguard;
	case UPLINK_EXTERNAL:
		break;
	}
	return &uplink_external;
}

/* Failover: demote a managed uplink's default routes while it is down.
 * An external uplink's routes belong to whoever manages it. */
static void follow_health(struct uplink *u)
{
	bool demote = u->health.state == HEALTH_DOWN;
	int r;

	if (u->cfg.type == UPLINK_EXTERNAL || demote == u->routes_demoted || !u->ifname[0])
		return;
	r = uplink_os_default_demote(u->ifname, demote);
	if (r < 0) {
		log_warn("uplink", "%s (%s): cannot %s its default routes: %s", u->cfg.name,
			 u->ifname, demote ? "demote" : "restore", strerror(-r));
		return;
	}
	u->routes_demoted = demote;
	if (r > 0)
		log_info("uplink", "%s (%s): %d default route(s) %s", u->cfg.name, u->ifname, r,
			 demote ? "demoted: other uplinks go first" : "restored");
}

static void on_health_change(struct health *h, enum health_state old, void *ctx)
{
	struct uplink *u = ctx;
	uint64_t rtt = health_median_rtt(h);

	u->changed_at = (uint64_t)time(NULL);
	if (rtt)
		log_info("uplink", "%s (%s): %s -> %s, latency %.1f ms, loss %.0f%%", u->cfg.name,
			 u->ifname, health_state_name(old), health_state_name(h->state),
			 (double)rtt / 1e6, health_loss(h) * 100);
	else
		log_info("uplink", "%s (%s): %s -> %s, link %s, no answer from %zu target(s)",
			 u->cfg.name, u->ifname, health_state_name(old),
			 health_state_name(h->state),
			 !h->link_exists ? "missing" :
			 h->link_up	 ? "up" :
					   "down",
			 h->cfg.ntargets);
	follow_health(u);
}

/* The targets to probe: the configured ones, else the type's default (a
 * he_6in4 tunnel's far end, which is the client prefix's ::1). */
static void health_config_for(const struct uplink *u, struct health_config *hc)
{
	memset(hc, 0, sizeof(*hc));
	hc->interval_ns = u->cfg.probe_interval_ns;
	hc->ntargets = u->cfg.ntargets;
	memcpy(hc->targets, u->cfg.targets, sizeof(hc->targets));
	if (hc->ntargets == 0 && u->cfg.type == UPLINK_HE_6IN4) {
		uplink_he6in4_server_v6(&u->cfg, &hc->targets[0]);
		hc->ntargets = 1;
	}
}

int uplinks_start(struct uplinks *s, struct mantad *d, const struct config *cfg)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	s->d = d;
	s->loop = &d->loop;
	for (size_t i = 0; i < cfg->nuplinks && i < UPLINK_MAX; i++) {
		struct uplink *u = &s->v[s->n++];

		u->set = s;
		u->cfg = cfg->uplinks[i];
		u->drv = driver_for(u->cfg.type);
		u->health.fd = -1;
		health_reset(&u->health);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct uplink *u = &s->v[i];

		if (!u->cfg.autostart) {
			log_info("uplink", "%s: %s, not started (autostart = false)", u->cfg.name,
				 u->drv->type);
			continue;
		}
		if (uplink_up(u, err, sizeof(err)) < 0)
			log_err("uplink", "%s: left down: %s", u->cfg.name, err);
	}
	return 0;
}

int uplink_up(struct uplink *u, char *err, size_t errlen)
{
	struct health_config hc;
	int r;

	if (u->admin_up)
		return 0;
	err[0] = '\0';
	r = u->drv->up(u, err, errlen);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-r));
		snprintf(u->error, sizeof(u->error), "%s", err);
		u->ifname[0] = '\0';
		return r;
	}
	u->error[0] = '\0';
	u->admin_up = true;
	u->routes_demoted = false; /* the driver added them afresh */
	u->changed_at = (uint64_t)time(NULL);
	health_reset(&u->health);
	health_config_for(u, &hc);
	u->health.on_change = on_health_change;
	u->health.ctx = u;
	r = health_start(&u->health, u->set->loop, u->ifname, &hc);
	if (r < 0)
		log_warn("uplink", "%s (%s): no health probes: %s", u->cfg.name, u->ifname,
			 strerror(-r));
	log_info("uplink", "%s: %s up on %s, probing %zu target(s) every %.1f s", u->cfg.name,
		 u->drv->type, u->ifname, hc.ntargets, (double)u->cfg.probe_interval_ns / 1e9);
	return 0;
}

void uplink_down(struct uplink *u)
{
	enum health_state old = u->health.state;

	if (!u->admin_up)
		return;
	health_stop(&u->health);
	u->drv->down(u);
	log_info("uplink", "%s: %s down (%s was %s)", u->cfg.name, u->drv->type,
		 u->ifname[0] ? u->ifname : "its interface", health_state_name(old));
	u->admin_up = false;
	u->ifname[0] = '\0';
	u->health.state = HEALTH_DOWN;
	u->changed_at = (uint64_t)time(NULL);
}

void uplinks_stop(struct uplinks *s)
{
	for (size_t i = 0; i < s->n; i++)
		uplink_down(&s->v[i]);
}

void uplinks_free(struct uplinks *s)
{
	/* Everything is on the loop and closed by uplinks_stop; the drivers
	 * free their state in down(). */
	s->n = 0;
}

struct uplink *uplinks_find(struct uplinks *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].cfg.name, name) == 0)
			return &s->v[i];
	return NULL;
}

const struct uplink *uplinks_best(const struct uplinks *s)
{
	const struct uplink *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const struct uplink *u = &s->v[i];

		if (!u->admin_up)
			continue;
		if (!best || u->health.state > best->health.state ||
		    (u->health.state == best->health.state &&
		     health_median_rtt(&u->health) < health_median_rtt(&best->health)))
			best = u;
	}
	return best;
}

/* --- status --------------------------------------------------------------- */

static unsigned prefix_len(const struct sockaddr_in6 *mask)
{
	unsigned n = 0;

	for (size_t i = 0; i < 16; i++)
		n += (unsigned)__builtin_popcount(mask->sin6_addr.s6_addr[i]);
	return n;
}

static bool global_v6(const struct in6_addr *a)
{
	/* 2000::/3, and the documentation and ULA ranges tests use */
	return (a->s6_addr[0] & 0xe0) == 0x20 || (a->s6_addr[0] & 0xfe) == 0xfc;
}

static void prefix_text(const struct in6_addr *a, unsigned plen, char *buf, size_t size)
{
	struct in6_addr net = *a;
	char text[INET6_ADDRSTRLEN];

	for (unsigned bit = plen; bit < 128; bit++)
		net.s6_addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	inet_ntop(AF_INET6, &net, text, sizeof(text));
	snprintf(buf, size, "%s/%u", text, plen);
}

/* The interface's global IPv6 addresses as "ADDR/PLEN"; the first one's
 * prefix into first_prefix ("" if none). */
static json_t *interface_addresses(const char *ifname, char *first_prefix, size_t size)
{
	json_t *list = json_array();
	struct ifaddrs *ifa, *i;

	first_prefix[0] = '\0';
	if (!ifname[0] || getifaddrs(&ifa) < 0)
		return list;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)i->ifa_addr;
		char text[INET6_ADDRSTRLEN], both[INET6_ADDRSTRLEN + 5];
		unsigned plen;

		if (!sa || sa->sin6_family != AF_INET6 || strcmp(i->ifa_name, ifname) != 0 ||
		    !global_v6(&sa->sin6_addr))
			continue;
		plen = i->ifa_netmask ? prefix_len((const struct sockaddr_in6 *)i->ifa_netmask) :
					128;
		inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof(text));
		snprintf(both, sizeof(both), "%s/%u", text, plen);
		json_array_append_new(list, json_string(both));
		if (!first_prefix[0])
			prefix_text(&sa->sin6_addr, plen, first_prefix, size);
	}
	freeifaddrs(ifa);
	return list;
}

static int interface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = 0;

	if (!ifname[0])
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

json_t *uplink_status_json(const struct uplink *u)
{
	json_t *o = json_object();
	char prefix[INET6_ADDRSTRLEN + 5];
	json_t *addrs = interface_addresses(u->admin_up ? u->ifname : "", prefix, sizeof(prefix));
	int mtu = u->admin_up ? interface_mtu(u->ifname) : 0;

	if (u->cfg.type == UPLINK_HE_6IN4)
		prefix_text(u->cfg.routed_plen ? &u->cfg.routed_prefix : &u->cfg.client_ipv6,
			    u->cfg.routed_plen ? u->cfg.routed_plen : u->cfg.client_plen, prefix,
			    sizeof(prefix));
	json_object_set_new(o, "name", json_string(u->cfg.name));
	json_object_set_new(o, "type", json_string(u->drv->type));
	health_json(&u->health, o); /* state, link, latency_ms, loss, bytes, ... */
	if (!u->admin_up)
		json_object_set_new(o, "state", json_string("down"));
	json_object_set_new(o, "admin", json_string(u->admin_up ? "up" : "down"));
	json_object_set_new(o, "iface", u->ifname[0] ? json_string(u->ifname) : json_null());
	json_object_set_new(o, "mtu", mtu ? json_integer(mtu) : json_null());
	json_object_set_new(o, "addresses", addrs);
	json_object_set_new(o, "v6_prefix", prefix[0] ? json_string(prefix) : json_null());
	json_object_set_new(o, "changed_at", json_integer((json_int_t)u->changed_at));
	json_object_set_new(o, "routes_demoted", json_boolean(u->routes_demoted));
	json_object_set_new(o, "error", u->error[0] ? json_string(u->error) : json_null());
	if (u->drv->status)
		u->drv->status(u, o);
	return o;
}
