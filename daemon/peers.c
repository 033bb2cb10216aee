/*
 * The peer set: static peers from [peer] sections, and every non-revoked
 * member of the networks this node is an active member of. peers_sync runs
 * on start, on SIGHUP (with the new configuration) and whenever a member
 * list changes: peers nobody wants any more are removed, new ones added,
 * and the rest keep their sessions. A static peer takes a new endpoint only
 * if its configured one changed (roaming is not overridden otherwise); a
 * member peer starts at the first endpoint it announced, and gossip.c moves
 * through the others while no session forms.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
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

void peers_routes_restore(struct mantad *d)
{
	for (struct peer *p = d->dev.peers.head; p; p = p->list_next)
		host_routes(d, p, true);
}

const struct config_peer *find_static_peer(const struct mantad *d, const uint8_t *pk)
{
	return find_config_peer(&d->cfg, pk);
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

static bool wanted(struct mantad *d, const struct config *cfg, const uint8_t *pk)
{
	return find_config_peer(cfg, pk) || membership_record_for(&d->mem, pk);
}

/* A member peer with no endpoint takes the first one it announced. */
static void member_endpoint(struct mantad *d, struct peer *p)
{
	const struct announce *a = NULL;

	if (p->has_endpoint)
		return;
	for (size_t i = 0; i < d->mem.nnets && !a; i++)
		if (membership_active(&d->mem, d->mem.nets[i]))
			a = network_announce(d->mem.nets[i], p->public_key);
	if (a && a->nendpoints > 0) {
		p->endpoint_candidate = 0;
		p->endpoint_tried_at = d->dev.now;
		device_peer_set_endpoint(&d->dev, p, &a->endpoints[0]);
	}
}

static void member_index(struct mantad *d, struct peer *p, const struct member_record *r)
{
	char b64[KEY_B64_LEN];

	if (p->v4_index == r->v4_index)
		return;
	host_routes(d, p, false);
	if (device_peer_set_v4_index(&d->dev, p, r->v4_index) < 0) {
		key_to_base64(p->public_key, b64);
		log_warn("peer", "%s (%s): its IPv4 index %u clashes with another peer", p->name,
			 r->hostname, r->v4_index);
	}
	host_routes(d, p, true);
}

static int add_member(struct mantad *d, const struct member_record *r)
{
	struct peer *p;
	int r2;

	r2 = device_peer_add(&d->dev, r->x25519_pk, &p);
	if (r2 < 0) {
		log_warn("peer", "member %s: cannot add it as a peer: %s", r->hostname,
			 r2 == -EADDRINUSE ? "its address is another peer's" : strerror(-r2));
		return r2;
	}
	log_info("peer", "%s: added (member %s)", p->name, r->hostname);
	member_index(d, p, r);
	host_routes(d, p, true);
	member_endpoint(d, p);
	return 0;
}

int peers_sync(struct mantad *d, const struct config *cfg)
{
	const struct config *old = &d->cfg;
	struct peer *p, *next;
	int r;

	dns_zone_changed(d->dns); /* member lists changed: cached answers go */
	for (p = d->dev.peers.head; p; p = next) {
		next = p->list_next;
		if (!wanted(d, cfg, p->public_key)) {
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
	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];

		if (!membership_active(&d->mem, n))
			continue;
		for (size_t j = 0; j < n->nmembers; j++) {
			const struct member_record *rec = &n->members[j];

			if (rec->flags & MEMBER_FLAG_REVOKED ||
			    memcmp(rec->x25519_pk, d->id->x_pk, KEY_LEN) == 0)
				continue;
			p = peer_table_by_key(&d->dev.peers, rec->x25519_pk);
			if (!p) {
				(void)add_member(d, rec);
				continue;
			}
			if (!find_config_peer(cfg, p->public_key))
				member_index(d, p, membership_record_for(&d->mem, p->public_key));
			member_endpoint(d, p);
		}
	}
	filter_refresh(d, cfg);
	return 0;
}
