/*
 * Static peers from [peer] sections. On start they are added; on SIGHUP the
 * new list is compared with the device's: peers that went away are removed,
 * new ones added, and the rest keep their sessions, taking a new endpoint
 * only if the configured one changed (roaming is not overridden otherwise).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "mesh/identity.h"

static void host_routes(struct mantad *d, struct peer *p, bool add)
{
	int r;

	if (d->route_mode.v6_host_routes) {
		r = add ? tun_route_host_add(d->ifname, AF_INET6, p->v6) :
			  tun_route_host_del(d->ifname, AF_INET6, p->v6);
		if (r < 0)
			log_warn("peer", "%s: cannot %s its /128 route: %s", p->name,
				 add ? "add" : "remove", strerror(-r));
	}
	if (d->route_mode.v4_host_routes) {
		r = add ? tun_route_host_add(d->ifname, AF_INET, p->v4) :
			  tun_route_host_del(d->ifname, AF_INET, p->v4);
		if (r < 0)
			log_warn("peer", "%s: cannot %s its /32 route: %s", p->name,
				 add ? "add" : "remove", strerror(-r));
	}
}

static const struct config_peer *find_config_peer(const struct config *cfg, const uint8_t *pk)
{
	for (size_t i = 0; i < cfg->npeers; i++)
		if (memcmp(cfg->peers[i].public_key, pk, KEY_LEN) == 0)
			return &cfg->peers[i];
	return NULL;
}

static void set_endpoint(struct mantad *d, struct peer *p, const struct config_peer *cp)
{
	struct sockaddr_in6 ep;
	char err[256];

	if (!cp->endpoint[0])
		return;
	if (config_resolve_endpoint(cp->endpoint, &ep, err, sizeof(err)) != 0) {
		log_warn("peer", "%s: endpoint `%s': %s", p->name, cp->endpoint, err);
		return;
	}
	device_peer_set_endpoint(&d->dev, p, &ep);
}

static int add_peer(struct mantad *d, const struct config_peer *cp)
{
	char b64[KEY_B64_LEN];
	struct peer *p;
	int r;

	key_to_base64(cp->public_key, b64);
	r = device_peer_add(&d->dev, cp->public_key, &p);
	if (r == -EADDRINUSE) {
		log_err("peer", "%s:%u: peer %s derives the address of another peer",
			d->config_path, cp->line, b64);
		return r;
	}
	if (r < 0) {
		log_err("peer", "%s:%u: cannot add peer %s: %s", d->config_path, cp->line, b64,
			r == -EINVAL ? "it is this node's own key or not a usable key" :
				       strerror(-r));
		return r;
	}
	log_info("peer", "%s: added (key %s)", p->name, b64);
	host_routes(d, p, true);
	set_endpoint(d, p, cp);
	device_peer_set_keepalive(&d->dev, p, cp->persistent_keepalive);
	return 0;
}

int peers_apply_config(struct mantad *d, const struct config *cfg)
{
	const struct config *old = &d->cfg;
	struct peer *p, *next;
	int r;

	for (p = d->dev.peers.head; p; p = next) {
		next = p->list_next;
		if (!find_config_peer(cfg, p->public_key)) {
			log_info("peer", "%s: removed", p->name);
			host_routes(d, p, false);
			device_peer_remove(&d->dev, p);
		}
	}
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct config_peer *cp = &cfg->peers[i];
		const struct config_peer *was = cfg == old ? NULL :
							     find_config_peer(old, cp->public_key);

		p = peer_table_by_key(&d->dev.peers, cp->public_key);
		if (!p) {
			r = add_peer(d, cp);
			if (r < 0)
				return r;
			continue;
		}
		if (!was || strcmp(was->endpoint, cp->endpoint) != 0)
			set_endpoint(d, p, cp);
		if (p->persistent_keepalive != cp->persistent_keepalive)
			device_peer_set_keepalive(&d->dev, p, cp->persistent_keepalive);
	}
	return 0;
}
