/*
 * mantad's lifecycle. Start: configuration, identity, TUN with its addresses
 * and routes, the networks, the protocol engine and its peers, the UDP
 * socket, gossip, the control socket, signals and the timer tick (with
 * --user, the switch to that user comes right after the configuration;
 * main.c sends READY=1 once this returns). Stop (SIGTERM,
 * SIGINT): every handle is closed, so uv_run returns and uv_loop_close
 * succeeds; closing the TUN descriptor deletes the device, and with it its
 * addresses and routes. SIGHUP re-reads the peer list and the firewall's
 * policy file.
 */
#include "daemon/mantad.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/privdrop.h"
#include "daemon/supervisor.h"

static const struct device_ops device_ops = { .send = dataplane_send,
					      .link_mtu = pathmtu_link_mtu };

static void copy_timers(struct device_timers *t, const struct config_timers *c)
{
	t->rekey_after_time = c->rekey_after_time;
	t->reject_after_time = c->reject_after_time;
	t->rekey_timeout = c->rekey_timeout;
	t->keepalive_timeout = c->keepalive_timeout;
	t->rekey_attempt_time = c->rekey_attempt_time;
	t->pmtu_probe_timeout = c->pmtu_probe_timeout;
	t->pmtu_raise_interval = c->pmtu_raise_interval;
}

static void on_tick(uv_timer_t *t)
{
	struct mantad *d = container_of(t, struct mantad, tick);

	d->dev.now = uv_hrtime();
	device_tick(&d->dev);
	supervisor_tick(d);
}

static void reload(struct mantad *d)
{
	struct config next;
	char err[1024];

	if (!d->config_path) {
		log_info("config", "SIGHUP: no configuration file to re-read");
		return;
	}
	config_init(&next);
	if (!config_load(d->config_path, &next, err, sizeof(err))) {
		log_err("config", "SIGHUP: keeping the running configuration: %s", err);
		config_free(&next); /* a failed load leaves it re-initialised */
		return;
	}
	if (next.listen_port != d->cfg.listen_port || strcmp(next.tun_name, d->cfg.tun_name) != 0)
		log_warn("config", "%s: listen_port and tun take effect on restart only",
			 d->config_path);
	d->dev.now = uv_hrtime();
	if (peers_sync(d, &next) < 0)
		log_err("config", "%s: some peers could not be applied", d->config_path);
	/* The engine's timers and the node settings stay; the peer list is new. */
	free(d->cfg.peers);
	d->cfg.peers = next.peers;
	d->cfg.npeers = next.npeers;
	next.peers = NULL;
	next.npeers = 0;
	if (next.nuplinks != d->cfg.nuplinks ||
	    (next.nuplinks &&
	     memcmp(next.uplinks, d->cfg.uplinks, next.nuplinks * sizeof(*next.uplinks)) != 0))
		log_warn("config", "%s: [uplink.*] changes take effect on restart only",
			 d->config_path);
	config_free(&next);
	log_info("config", "%s: re-read, %zu peers", d->config_path, d->cfg.npeers);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct mantad *d = s->data;

	if (signum == SIGHUP) {
		supervisor_reloading(d);
		reload(d);
		filter_reload(&d->fw, &d->cfg); /* its own file: even if the config was refused */
		supervisor_ready(d);
		return;
	}
	log_info("mantad", "%s: shutting down", strsignal(signum));
	mantad_stop(d);
}

static int start_signals(struct mantad *d)
{
	uv_signal_t *sigs[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
	int nums[] = { SIGTERM, SIGINT, SIGHUP };

	for (int i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, sigs[i]);
		sigs[i]->data = d;
		int r = uv_signal_start(sigs[i], on_signal, nums[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

static int load_config(struct mantad *d)
{
	char err[1024];

	config_init(&d->cfg);
	if (d->config_path && !config_load(d->config_path, &d->cfg, err, sizeof(err))) {
		log_err("config", "%s", err);
		return -EINVAL;
	}
	if (d->state_dir_override) {
		char *s = strdup(d->state_dir_override);

		if (!s)
			return -ENOMEM;
		free(d->cfg.state_dir);
		d->cfg.state_dir = s;
	}
	return 0;
}

int mantad_open_tun(struct mantad *d)
{
	int fd = tun_open(d->cfg.tun_name, d->ifname);
	int r;

	if (fd < 0) {
		log_err("tun", "%s: cannot open the TUN device: %s", d->cfg.tun_name,
			strerror(-fd));
		return fd;
	}
	r = tun_configure(d->ifname, TUN_MTU, d->id->v6, d->id->v4, &d->route_mode);
	if (r < 0) {
		log_err("tun", "%s: cannot configure: %s", d->ifname, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

int mantad_start(struct mantad *d)
{
	char err[1024];
	struct device_timers timers;
	int r, tun_fd;

	d->started_at = (uint64_t)time(NULL);
	r = uv_loop_init(&d->loop);
	if (r < 0)
		return r;
	r = load_config(d);
	if (r < 0)
		return r;
	r = privdrop_start(d->user, d->cfg.state_dir, d->socket_path, d->config_path,
			   config_has_uplink(&d->cfg, UPLINK_WIREGUARD));
	if (r < 0)
		return r;
	r = identity_load_or_create(d->cfg.state_dir, &d->id, err, sizeof(err));
	if (r < 0) {
		log_err("identity", "%s", err);
		return r;
	}
	r = membership_load(&d->mem, d);
	if (r < 0)
		return r;
	r = filter_start(&d->fw, d);
	if (r < 0)
		return r;
	tun_fd = mantad_open_tun(d);
	if (tun_fd < 0)
		return tun_fd;
	r = dataplane_open(&d->dp, d, tun_fd, d->cfg.listen_port);
	if (r < 0)
		return r;

	copy_timers(&timers, &d->cfg.timers);
	device_init(&d->dev, d->id->x_sk, &timers, &device_ops, &d->dp);
	d->dev.under_load_mode = (enum device_under_load)d->cfg.timers.under_load;
	d->dev.pmtu_probing = true;
	d->dev.now = uv_hrtime();
	d->dev_ready = true;

	r = dataplane_start(&d->dp);
	if (r < 0)
		return r;
	r = peers_sync(d, &d->cfg);
	if (r < 0)
		return r;
	r = uplinks_start(&d->uplinks, d, &d->cfg);
	if (r < 0)
		return r;
	r = membership_start(&d->mem);
	if (r < 0)
		return r;
	r = dns_start(d);
	if (r < 0)
		return r;
	r = control_start(&d->ctl, d, d->socket_path);
	if (r < 0)
		return r;
	r = api_http_start(&d->api, d);
	if (r < 0)
		return r;
	r = start_signals(d);
	if (r < 0)
		return r;
	uv_timer_init(&d->loop, &d->tick);
	r = uv_timer_start(&d->tick, on_tick, DEVICE_TICK_NS / 1000000, DEVICE_TICK_NS / 1000000);
	if (r < 0)
		return r;

	char b64[KEY_B64_LEN];

	key_to_base64(d->id->x_pk, b64);
	log_info("mantad", "%s up: key %s, udp port %u, %zu static peers, %zu networks", d->ifname,
		 b64, d->cfg.listen_port, d->cfg.npeers, d->mem.nnets);
	return 0;
}

static void close_if_active(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, NULL);
}

void mantad_stop(struct mantad *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	supervisor_stopping(d);
	dns_stop(d);
	membership_stop(&d->mem);
	filter_stop(&d->fw);
	control_close(&d->ctl);
	api_http_close(&d->api);
	uplinks_stop(&d->uplinks);
	dataplane_close(&d->dp);
	close_if_active((uv_handle_t *)&d->tick);
	close_if_active((uv_handle_t *)&d->sig_term);
	close_if_active((uv_handle_t *)&d->sig_int);
	close_if_active((uv_handle_t *)&d->sig_hup);
}

void mantad_cleanup(struct mantad *d)
{
	if (d->dev_ready) {
		/* The TUN is gone, and its routes with it: only memory is left. */
		device_deinit(&d->dev);
		d->dev_ready = false;
	}
	dns_free(d);
	membership_free(&d->mem);
	filter_free(&d->fw);
	identity_destroy(d->id);
	d->id = NULL;
	uplinks_free(&d->uplinks);
	config_free(&d->cfg);
}
