/*
 * The resolver in the daemon: queries taken from the TUN's packet stream
 * (UDP answered in place, TCP reflected to tcp.c), answered from the member
 * lists or forwarded, and the module's start, stop and status.
 *
 * Only this node's own programs are served: a query whose source lies in
 * the overlay but is not this node's own address (a peer's packet that the
 * host routed back into the TUN) is dropped, so members cannot use this
 * node as their forwarder.
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/log.h"
#include "daemon/mantad.h"
#include "mesh/address.h"

#define TICK_MS 1000

struct pending {
	struct dns *dns;
	struct dns_reply_to to;
	struct dns_query q;
	size_t qlen;
	uint8_t query[];
};

struct dns_zone dns_zone_now(const struct dns *dns)
{
	return (struct dns_zone){
		.nets = dns->d->mem.nets,
		.nnets = dns->d->mem.nnets,
		.self_x25519 = dns->d->id->x_pk,
		.svc = &dns->svc,
	};
}

static void write_tun(struct dns *dns, const uint8_t *pkt, size_t len)
{
	int fd = dns->d->dp.tun_fd;

	if (fd < 0 || write(fd, pkt, len) != (ssize_t)len)
		dns->counters.dropped++;
}

static void reply(struct dns *dns, const struct dns_reply_to *to, const uint8_t *msg, size_t len)
{
	size_t n;

	if (to->tcp) {
		dns_tcp_send(to->conn, msg, len);
		return;
	}
	n = dns_packet_build_udp(&to->flow, msg, len, dns->pkt, sizeof(dns->pkt));
	if (n)
		write_tun(dns, dns->pkt, n);
	else
		dns->counters.dropped++;
}

static void servfail(struct dns *dns, const struct dns_reply_to *to, const uint8_t *query,
		     size_t qlen, const struct dns_query *q)
{
	size_t n = dns_answer_error(query, qlen, DNS_RCODE_SERVFAIL, q, dns->answer,
				    sizeof(dns->answer));

	dns->counters.upstream_failed++;
	if (n)
		reply(dns, to, dns->answer, n);
}

static void on_forwarded(void *arg, int status, const uint8_t *answer, size_t len)
{
	struct pending *p = arg;
	struct dns *dns = p->dns;
	size_t n = 0;

	if (status == -ECANCELED)
		goto out;
	if (status == 0 && len <= sizeof(dns->answer)) {
		memcpy(dns->answer, answer, len);
		n = dns_answer_fit(dns->answer, len, sizeof(dns->answer), &p->q);
	}
	if (n)
		reply(dns, &p->to, dns->answer, n);
	else
		servfail(dns, &p->to, p->query, p->qlen, &p->q);
out:
	if (p->to.tcp)
		dns_tcp_put(p->to.conn);
	free(p);
}

static void forward(struct dns *dns, const uint8_t *msg, size_t len, const struct dns_query *q,
		    const struct dns_reply_to *to)
{
	struct pending *p = malloc(sizeof(*p) + len);
	int r;

	if (!p) {
		servfail(dns, to, msg, len, q);
		return;
	}
	p->dns = dns;
	p->to = *to;
	p->to.flow.payload = NULL;
	p->q = *q;
	p->qlen = len;
	memcpy(p->query, msg, len);
	if (to->tcp)
		dns_tcp_get(to->conn);
	dns->counters.forwarded++;
	/* on_forwarded may run before this returns: p is not touched after. */
	r = dns_forward_send(&dns->fwd, msg, len, on_forwarded, p);
	if (r < 0) {
		if (to->tcp)
			dns_tcp_put(to->conn);
		free(p);
		servfail(dns, to, msg, len, q);
	}
}

void dns_handle_query(struct dns *dns, const uint8_t *msg, size_t len, bool tcp,
		      const struct dns_reply_to *to)
{
	struct dns_zone z = dns_zone_now(dns);
	struct dns_query q;
	size_t n;

	if (!tcp) {
		n = dns_cache_get(&dns->cache, msg, len, uv_now(&dns->d->loop), dns->answer,
				  DNS_UDP_PAYLOAD_MAX);
		if (n) {
			dns->counters.answered++;
			reply(dns, to, dns->answer, n);
			return;
		}
	}
	switch (dns_answer(&z, msg, len, tcp, dns->answer,
			   tcp ? sizeof(dns->answer) : DNS_UDP_PAYLOAD_MAX, &n, &q)) {
	case DNS_REPLY:
		dns->counters.answered++;
		if (!tcp)
			dns_cache_put(&dns->cache, msg, len, uv_now(&dns->d->loop), dns->answer, n);
		reply(dns, to, dns->answer, n);
		return;
	case DNS_DROP:
		dns->counters.dropped++;
		return;
	case DNS_FORWARD:
		forward(dns, msg, len, &q, to);
		return;
	}
}

/* This node's own programs, or hosts behind it; never another member. */
static bool client_allowed(const struct dns *dns, const struct dns_flow *f)
{
	const struct identity *id = dns->d->id;

	if (f->family == AF_INET)
		return memcmp(f->client, id->v4, 4) == 0 || !address_v4_in_overlay(f->client);
	return memcmp(f->client, id->v6, 16) == 0 || !address_v6_in_overlay(f->client);
}

bool dns_intercept(struct dns *dns, uint8_t *pkt, size_t len)
{
	struct dns_reply_to to = { .tcp = false };
	enum dns_pkt kind;

	if (!dns)
		return false;
	kind = dns_packet_classify(pkt, len, &to.flow);
	if (kind == DNS_PKT_OTHER)
		return false;
	if (kind == DNS_PKT_DROP || !client_allowed(dns, &to.flow)) {
		dns->counters.dropped++;
		return true;
	}
	if (kind == DNS_PKT_TCP) {
		if (dns->listener_open && dns_packet_reflect_tcp(pkt, len, dns->listen_port))
			write_tun(dns, pkt, len);
		else
			dns->counters.dropped++;
		return true;
	}
	dns->counters.udp_queries++;
	dns_handle_query(dns, to.flow.payload, to.flow.payload_len, false, &to);
	return true;
}

/* --- start, stop, status ----------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	struct dns *dns = container_of(t, struct dns, tick);

	dns_tcp_sweep(dns);
	dns_services_refresh(dns);
	if (dns->svc_dirty)
		dns_services_save_now(dns);
}

static void accept_path(const struct dns *dns, char *out, size_t cap)
{
	snprintf(out, cap, "%s/accept_dns", dns->dir);
}

/* accept_dns: what `manta up --accept-dns' said last, else the config. */
static bool accept_in_force(const struct dns *dns)
{
	char path[600], buf[8] = "";
	FILE *f;

	accept_path(dns, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return dns->d->cfg.accept_dns;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strncmp(buf, "false", 5) != 0;
}

static void resolver_routes(struct dns *dns)
{
	/* The overlay prefixes cover both addresses, unless another link owns
	 * a prefix (host-route mode): then these /32 and /128 are needed. */
	if (tun_route_host_add(dns->d->ifname, AF_INET, dns_resolver_v4) < 0 ||
	    tun_route_host_add(dns->d->ifname, AF_INET6, dns_resolver_v6) < 0)
		log_warn("dns", "%s: no route to the resolver's addresses", dns->d->ifname);
}

static void load_services(struct dns *dns)
{
	char path[600], err[1024];

	snprintf(path, sizeof(path), "%s/services.json", dns->dir);
	if (dns_services_load(&dns->svc, path, err, sizeof(err)) < 0)
		log_err("dns",
			"%s (service names start empty; the file is kept as it is until "
			"one is added)",
			err);
}

int dns_start(struct mantad *d)
{
	struct dns *dns = calloc(1, sizeof(*dns));
	int r;

	if (!dns)
		return -ENOMEM;
	d->dns = dns;
	dns->d = d;
	if (snprintf(dns->dir, sizeof(dns->dir), "%s/dns", d->cfg.state_dir) >=
	    (int)sizeof(dns->dir))
		return -ENAMETOOLONG;
	if (mkdir(dns->dir, 0700) < 0 && errno != EEXIST) {
		log_err("dns", "%s: cannot create: %s", dns->dir, strerror(errno));
		return -errno;
	}
	dns_services_init(&dns->svc);
	load_services(dns);
	r = dns_forward_init(&dns->fwd, &d->loop);
	if (r < 0)
		return r;
	dns->fwd_open = true;
	dns_system_start(&dns->sys, &d->loop, dns->dir, d->cfg.resolv_conf, d->ifname,
			 accept_in_force(dns) && !d->down);
	r = dns_forward_set_upstreams(&dns->fwd, dns->sys.upstreams, dns->sys.nupstreams);
	if (r < 0)
		log_warn("dns", "c-ares refused the upstream list: %s", strerror(-r));
	if (!d->down) {
		resolver_routes(dns);
		r = dns_tcp_open(dns);
		if (r < 0)
			log_warn("dns", "no DNS over TCP: %s", uv_strerror(r));
	}
	uv_timer_init(&d->loop, &dns->tick);
	dns->tick_open = true;
	r = uv_timer_start(&dns->tick, on_tick, TICK_MS, TICK_MS);
	if (r < 0)
		return r;
	log_info("dns",
		 "resolver at 100.100.100.53 and 200::53 (tcp via port %u), %zu upstreams, "
		 "mode %s",
		 dns->listen_port, dns->sys.nupstreams, dns_mode_name(dns->sys.mode));
	return 0;
}

void dns_stop(struct mantad *d)
{
	struct dns *dns = d->dns;

	if (!dns)
		return;
	dns_system_stop(&dns->sys);
	if (dns->svc_dirty)
		dns_services_save_now(dns);
	if (dns->fwd_open) {
		dns_forward_close(&dns->fwd);
		dns->fwd_open = false;
	}
	dns_tcp_close(dns);
	if (dns->tick_open) {
		uv_close((uv_handle_t *)&dns->tick, NULL);
		dns->tick_open = false;
	}
}

void dns_free(struct mantad *d)
{
	if (!d->dns)
		return;
	dns_services_free(&d->dns->svc);
	dns_cache_free(&d->dns->cache);
	free(d->dns);
	d->dns = NULL;
}

void dns_zone_changed(struct dns *dns)
{
	if (dns)
		dns_cache_flush(&dns->cache);
}

void dns_tun_down(struct dns *dns)
{
	if (!dns)
		return;
	dns_system_revert(&dns->sys);
	dns_tcp_close(dns);
}

void dns_tun_up(struct dns *dns)
{
	int r;

	if (!dns)
		return;
	resolver_routes(dns);
	r = dns_tcp_open(dns);
	if (r < 0)
		log_warn("dns", "no DNS over TCP: %s", uv_strerror(r));
	if (dns->sys.accept)
		dns_system_apply(&dns->sys);
}

void dns_set_accept(struct dns *dns, bool accept)
{
	char path[600];
	const char *text = accept ? "true\n" : "false\n";
	int r;

	if (!dns)
		return;
	accept_path(dns, path, sizeof(path));
	r = atomic_write_file(path, text, strlen(text), 0600);
	if (r < 0)
		log_warn("dns", "%s: cannot write: %s", path, strerror(-r));
	dns->sys.accept = accept;
	if (!accept) {
		dns_system_revert(&dns->sys);
		dns_system_choose(&(struct dns_probe){ 0 }, false, dns->sys.why,
				  sizeof(dns->sys.why));
		dns->sys.mode = DNS_MODE_OFF;
	} else if (!dns->d->down) {
		dns_system_apply(&dns->sys);
	}
}

static json_t *addr_json(const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN] = "?";
	const void *p = ss->ss_family == AF_INET ?
				(const void *)&((const struct sockaddr_in *)ss)->sin_addr :
				(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	inet_ntop(ss->ss_family, p, a, sizeof(a));
	return json_string(a);
}

void dns_status(struct dns *dns, json_t *status)
{
	const struct dns_counters *c = &dns->counters;
	json_t *ups = json_array(), *own = json_array(), *o;

	for (size_t i = 0; i < dns->sys.nupstreams; i++)
		json_array_append_new(ups, addr_json(&dns->sys.upstreams[i]));
	for (size_t i = 0; i < dns->svc.nown; i++)
		json_array_append_new(own, json_pack("{s:s,s:o}", "name", dns->svc.own[i].name,
						     "network",
						     dns->svc.own[i].network[0] ?
							     json_string(dns->svc.own[i].network) :
							     json_null()));
	o = json_pack("{s:s,s:b,s:b,s:s,s:s,s:[s,s],s:o,s:i,s:o}", "mode",
		      dns_mode_name(dns->sys.mode), "accept_dns", dns->sys.accept, "applied",
		      dns->sys.applied, "why", dns->sys.why, "resolv_conf", dns->sys.path,
		      "resolver", "100.100.100.53", "200::53", "upstreams", ups, "tcp_port",
		      (int)dns->listen_port, "services", own);
	if (!o)
		return;
	json_object_set_new(
		o, "counters",
		json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "cache_hits",
			  (json_int_t)dns->cache.hits, "udp_queries", (json_int_t)c->udp_queries,
			  "tcp_queries", (json_int_t)c->tcp_queries, "tcp_connections",
			  (json_int_t)c->tcp_connections, "answered", (json_int_t)c->answered,
			  "forwarded", (json_int_t)c->forwarded, "upstream_failed",
			  (json_int_t)c->upstream_failed, "dropped", (json_int_t)c->dropped));
	json_object_set_new(status, "dns", o);
}
