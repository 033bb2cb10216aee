/*
 * The he_6in4 driver (he6in4.h): choosing the mode, the outer and inner
 * packet checks of the userspace tunnel, status, and watching the local
 * IPv4 address for the broker's endpoint update (he_update.h). The links,
 * sockets and netlink are in he6in4_linux.c.
 *
 * mode = auto tries the kernel's sit first and falls back to userspace
 * when the kernel has no sit (the module is missing, or cannot be loaded
 * from a network namespace); mode = kernel fails then, naming the module.
 *
 * Timer: local_timer, every HE6IN4_LOCAL_CHECK_MS while up: with
 * local_ipv4 empty, the kernel's source address toward the server is looked
 * up again; a change moves the tunnel's end and sends an endpoint update.
 */
#include "uplink/he6in4.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/mantad.h"
#include "uplink/he_update.h"

void uplink_he6in4_server_v6(const struct uplink_config *cfg, struct in6_addr *out)
{
	*out = cfg->client_ipv6;
	for (unsigned bit = cfg->client_plen; bit < 128; bit++)
		out->s6_addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	out->s6_addr[15] |= 1;
}

bool he6in4_inner_ok(const uint8_t *pkt, size_t len)
{
	return len >= 40 && (pkt[0] >> 4) == 6 && 40 + (size_t)get_be16(pkt + 4) <= len;
}

int he6in4_decap(const uint8_t *pkt, size_t len, struct in_addr server, struct in_addr local,
		 size_t *inner_len, enum he6in4_drop *why)
{
	size_t ihl, total;

	if (len < 20) {
		*why = HE6IN4_DROP_SHORT;
		return -1;
	}
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = get_be16(pkt + 2);
	if ((pkt[0] >> 4) != 4 || pkt[9] != 41) {
		*why = HE6IN4_DROP_NOT_41;
		return -1;
	}
	if (ihl < 20 || total < ihl || total > len) {
		*why = HE6IN4_DROP_SHORT;
		return -1;
	}
	if (get_be16(pkt + 6) & 0x3fff) { /* MF, or an offset */
		*why = HE6IN4_DROP_FRAGMENT;
		return -1;
	}
	if (memcmp(pkt + 12, &server, 4) != 0) {
		*why = HE6IN4_DROP_SOURCE;
		return -1;
	}
	if (local.s_addr && memcmp(pkt + 16, &local, 4) != 0) {
		*why = HE6IN4_DROP_DEST;
		return -1;
	}
	if (!he6in4_inner_ok(pkt + ihl, total - ihl)) {
		*why = HE6IN4_DROP_INNER;
		return -1;
	}
	*inner_len = 40 + (size_t)get_be16(pkt + ihl + 4);
	return (int)ihl;
}

/* --- lifetime ------------------------------------------------------------- */

void he6in4_handle_closed(struct he6in4 *t)
{
	if (--t->open_handles == 0 && t->closing)
		free(t);
}

static void local_timer_closed(uv_handle_t *h)
{
	he6in4_handle_closed(h->data);
}

static void default_ifname(const struct uplink *u, char out[IFNAMSIZ])
{
	if (u->cfg.ifname[0])
		snprintf(out, IFNAMSIZ, "%s", u->cfg.ifname);
	else
		snprintf(out, IFNAMSIZ, "he-%.12s", u->cfg.name);
}

/* [testing] uplink_local_check, or HE6IN4_LOCAL_CHECK_MS. */
static uint64_t local_check_ms(const struct uplink *u)
{
	uint64_t ns = u->set->d->cfg.timers.uplink_local_check;

	return ns ? MAX(ns / 1000000, 1) : HE6IN4_LOCAL_CHECK_MS;
}

static void on_local_timer(uv_timer_t *timer)
{
	struct he6in4 *t = timer->data;
	struct in_addr now, old = t->local;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], err[256];

	if (t->u->cfg.local_ipv4.s_addr || he6in4_os_route_source(t->server, &now) < 0 ||
	    now.s_addr == t->local.s_addr)
		return;
	inet_ntop(AF_INET, &old, a, sizeof(a));
	inet_ntop(AF_INET, &now, b, sizeof(b));
	log_info("uplink", "%s: the local IPv4 address changed from %s to %s", t->u->cfg.name, a,
		 b);
	t->local = now;
	if (he6in4_os_set_local(t, err, sizeof(err)) < 0)
		log_err("uplink", "%s: cannot move the tunnel to %s: %s", t->u->cfg.name, b, err);
	if (t->update)
		he_update_set_local(t->update, now);
}

static int find_local(struct he6in4 *t, char *err, size_t errlen)
{
	char server[INET_ADDRSTRLEN];
	int r;

	t->local = t->u->cfg.local_ipv4;
	if (t->local.s_addr)
		return 0;
	r = he6in4_os_route_source(t->server, &t->local);
	if (r < 0) {
		inet_ntop(AF_INET, &t->server, server, sizeof(server));
		snprintf(err, errlen, "no local IPv4 address toward server_ipv4 %s: %s", server,
			 strerror(-r));
	}
	return r;
}

/* The tunnel itself, in the configured mode or auto's choice. */
static int open_tunnel(struct he6in4 *t, char *err, size_t errlen)
{
	const struct uplink_config *cfg = &t->u->cfg;
	int r = -EOPNOTSUPP;

	if (cfg->mode != UPLINK_MODE_USERSPACE) {
		r = he6in4_os_kernel_up(t, err, errlen);
		t->kernel = r == 0;
		if (r == -EOPNOTSUPP && cfg->mode == UPLINK_MODE_KERNEL)
			snprintf(err, errlen,
				 "mode = kernel, but the kernel has no sit device (is the sit "
				 "module loaded?); mode = auto or userspace works without it");
		if (r == -EOPNOTSUPP && cfg->mode == UPLINK_MODE_AUTO)
			log_info("uplink", "%s: the kernel has no sit device: userspace tunnel",
				 cfg->name);
		if (r != -EOPNOTSUPP || cfg->mode == UPLINK_MODE_KERNEL)
			return r;
	}
	err[0] = '\0';
	return he6in4_os_userspace_up(t, err, errlen);
}

static int he_up(struct uplink *u, char *err, size_t errlen)
{
	struct he6in4 *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->u = u;
	t->tun_fd = -1;
	t->server = u->cfg.server_ipv4;
	default_ifname(u, t->ifname);
	r = find_local(t, err, errlen);
	if (r == 0)
		r = open_tunnel(t, err, errlen);
	if (r < 0) {
		if (!t->closing) /* else it goes when its handles have closed */
			free(t);
		return r;
	}
	r = he6in4_os_configure(t, err, errlen);
	if (r < 0) {
		t->closing = true;
		he6in4_os_down(t);
		if (t->open_handles == 0)
			free(t);
		return r;
	}
	uv_timer_init(u->set->loop, &t->local_timer);
	t->local_timer.data = t;
	t->open_handles++;
	uv_timer_start(&t->local_timer, on_local_timer, local_check_ms(u), local_check_ms(u));
	if (u->cfg.he_username[0]) {
		t->update = he_update_start(u->set->loop, &u->cfg);
		if (t->update)
			he_update_set_local(t->update, t->local);
		else
			log_err("uplink", "%s: no endpoint update: out of memory", u->cfg.name);
	}
	snprintf(u->ifname, sizeof(u->ifname), "%s", t->ifname);
	u->priv = t;
	return 0;
}

static void he_down(struct uplink *u)
{
	struct he6in4 *t = u->priv;

	if (!t)
		return;
	u->priv = NULL;
	t->closing = true;
	he_update_stop(t->update);
	t->update = NULL;
	uv_close((uv_handle_t *)&t->local_timer, local_timer_closed);
	he6in4_os_down(t);
}

static void he_status(const struct uplink *u, json_t *obj)
{
	const struct he6in4 *t = u->priv;
	char text[INET6_ADDRSTRLEN + 5], ip[INET6_ADDRSTRLEN];
	json_t *drops, *counters;

	inet_ntop(AF_INET, &u->cfg.server_ipv4, ip, sizeof(ip));
	json_object_set_new(obj, "server_ipv4", json_string(ip));
	inet_ntop(AF_INET6, &u->cfg.client_ipv6, ip, sizeof(ip));
	snprintf(text, sizeof(text), "%s/%u", ip, u->cfg.client_plen);
	json_object_set_new(obj, "client_ipv6", json_string(text));
	if (u->cfg.routed_plen) {
		inet_ntop(AF_INET6, &u->cfg.routed_prefix, ip, sizeof(ip));
		snprintf(text, sizeof(text), "%s/%u", ip, u->cfg.routed_plen);
		json_object_set_new(obj, "routed_prefix", json_string(text));
	} else {
		json_object_set_new(obj, "routed_prefix", json_null());
	}
	json_object_set_new(obj, "default_route", json_boolean(u->cfg.default_route));
	if (!t) {
		json_object_set_new(obj, "mode", json_null());
		return;
	}
	json_object_set_new(obj, "mode", json_string(t->kernel ? "kernel" : "userspace"));
	inet_ntop(AF_INET, &t->local, ip, sizeof(ip));
	json_object_set_new(obj, "local_ipv4", json_string(ip));
	if (!t->kernel) {
		counters = json_object();
		json_object_set_new(counters, "rx_packets",
				    json_integer((json_int_t)t->c.rx_packets));
		json_object_set_new(counters, "rx_bytes", json_integer((json_int_t)t->c.rx_bytes));
		json_object_set_new(counters, "tx_packets",
				    json_integer((json_int_t)t->c.tx_packets));
		json_object_set_new(counters, "tx_bytes", json_integer((json_int_t)t->c.tx_bytes));
		json_object_set_new(counters, "ptb_sent", json_integer((json_int_t)t->c.ptb_sent));
		json_object_set_new(obj, "tunnel", counters);
		drops = json_object();
		for (int i = 0; i < HE6IN4_DROP_COUNT; i++)
			json_object_set_new(drops, he6in4_drop_name((enum he6in4_drop)i),
					    json_integer((json_int_t)t->c.drops[i]));
		json_object_set_new(obj, "drops", drops);
	}
	if (t->update)
		he_update_status(t->update, obj);
}

const struct uplink_driver uplink_he6in4 = {
	.type = "he_6in4",
	.up = he_up,
	.down = he_down,
	.status = he_status,
};
