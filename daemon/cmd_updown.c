/*
 * `manta down` takes the data plane off the host: the TUN device goes, and
 * with it the node's addresses and routes, and gossip pauses; the daemon,
 * its UDP socket and its sessions stay, so `manta up` is quick and peers
 * do not notice beyond the gap. (rayfish's "standby" does the same.)
 */
#include "common/log.h"
#include "daemon/mantad.h"

static json_t *state_json(struct mantad *d)
{
	return json_pack("{s:s,s:s}", "state", d->down ? "down" : "up", "tun", d->ifname);
}

void command_down(struct mantad *d, struct command_call *call, json_t *args)
{
	if (!d->down) {
		dns_tun_down(d->dns);
		gossip_stop(&d->mem);
		dataplane_tun_down(&d->dp);
		d->down = true;
		log_info("mantad", "%s: down (sessions kept)", d->ifname);
	}
	command_reply(call, state_json(d));
}

void command_up(struct mantad *d, struct command_call *call, json_t *args)
{
	json_t *accept = json_object_get(args, "accept_dns");
	int fd, r;

	if (accept)
		dns_set_accept(d->dns, json_is_true(accept)); /* --accept-dns=BOOL */
	if (!d->down) {
		command_reply(call, state_json(d));
		return;
	}
	if (d->dp.tun_fd >= 0) {
		command_fail(call, "the data plane is still going down; try again");
		return;
	}
	fd = mantad_open_tun(d);
	if (fd < 0) {
		command_fail(call, "cannot open the TUN device (see the log)");
		return;
	}
	r = dataplane_tun_up(&d->dp, fd);
	if (r < 0) {
		command_fail(call, "cannot watch the TUN device: %s", uv_strerror(r));
		return;
	}
	d->down = false;
	peers_routes_restore(d);
	dns_tun_up(d->dns);
	r = gossip_start(&d->mem);
	if (r < 0)
		log_warn("gossip", "gossip did not restart: %s", uv_strerror(r));
	log_info("mantad", "%s: up again", d->ifname);
	command_reply(call, state_json(d));
}
