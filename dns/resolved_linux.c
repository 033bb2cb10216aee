/*
 * resolved mode, over D-Bus with sd-bus: org.freedesktop.resolve1.Manager
 * on /org/freedesktop/resolve1, every call with the TUN's ifindex:
 *   SetLinkDNS(i, a(iay))       100.100.100.53 and 200::53
 *   SetLinkDomains(i, a(sb))    ("pi", true) and the overlay's reverse
 *                               zones, routing-only (resolvectl's ~pi);
 *                               older resolved that refuses that many is
 *                               given ("pi", true) alone
 *   SetLinkDefaultRoute(i, b)   false: only those names come to us (the
 *                               method is missing before systemd 240;
 *                               that is ignored)
 *   SetLinkLLMNR / SetLinkMulticastDNS "no", FlushCaches: best effort
 *   RevertLink(i)               on stop
 * NameOwnerChanged for org.freedesktop.resolve1 is watched: a resolved that
 * restarts has forgotten the link, so it is told again.
 *
 * The bus descriptor is watched with a uv_poll_t and sd-bus's own timeout
 * with a uv_timer_t. sd-bus errors are converted here.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "common/log.h"
#include "dns/packet.h"
#include "dns/system.h"

#define RESOLVE1 "org.freedesktop.resolve1"
#define RESOLVE1_PATH "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_US 2000000

struct dns_resolved {
	sd_bus *bus;
	sd_bus_slot *watch;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles_open; /* uv handles not closed yet */
	int ifindex; /* the applied link, or 0 */
};

static int call(struct dns_resolved *r, const char *method, const char *sig, ...);

static int ping(sd_bus *bus)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int rc;

	rc = sd_bus_message_new_method_call(bus, &m, RESOLVE1, RESOLVE1_PATH,
					    "org.freedesktop.DBus.Peer", "Ping");
	if (rc >= 0)
		rc = sd_bus_call(bus, m, CALL_TIMEOUT_US, &e, &reply);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return rc;
}

/* (iay): one address. */
static int append_addr(sd_bus_message *m, int family, const uint8_t *a, size_t len)
{
	int rc = sd_bus_message_open_container(m, 'r', "iay");

	if (rc >= 0)
		rc = sd_bus_message_append(m, "i", family);
	if (rc >= 0)
		rc = sd_bus_message_append_array(m, 'y', a, len);
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

/* a(iay): both resolver addresses. */
static int append_dns(sd_bus_message *m)
{
	int rc = sd_bus_message_open_container(m, 'a', "(iay)");

	if (rc >= 0)
		rc = append_addr(m, AF_INET, dns_resolver_v4, 4);
	if (rc >= 0)
		rc = append_addr(m, AF_INET6, dns_resolver_v6, 16);
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

/* a(sb): pi, and with reverse, 64..127.100.in-addr.arpa, 2.0/3.0.ip6.arpa. */
static int append_domains(sd_bus_message *m, bool reverse)
{
	char name[32];
	int rc = sd_bus_message_open_container(m, 'a', "(sb)");

	if (rc >= 0)
		rc = sd_bus_message_append(m, "(sb)", "pi", 1);
	for (int b = 64; reverse && b < 128 && rc >= 0; b++) {
		snprintf(name, sizeof(name), "%d.100.in-addr.arpa", b);
		rc = sd_bus_message_append(m, "(sb)", name, 1);
	}
	if (reverse && rc >= 0)
		rc = sd_bus_message_append(m, "(sb)(sb)", "2.0.ip6.arpa", 1, "3.0.ip6.arpa", 1);
	if (rc >= 0)
		rc = sd_bus_message_close_container(m);
	return rc;
}

static int send_msg(struct dns_resolved *r, sd_bus_message *m, const char *what)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int rc = sd_bus_call(r->bus, m, CALL_TIMEOUT_US, &e, &reply);

	if (rc < 0 && !sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD))
		log_debug("dns", "resolved: %s: %s", what, e.message ? e.message : strerror(-rc));
	if (rc < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_METHOD))
		rc = -EOPNOTSUPP;
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return rc;
}

static int set_link(struct dns_resolved *r, const char *method,
		    int (*body)(sd_bus_message *m, bool arg), bool arg)
{
	sd_bus_message *m = NULL;
	int rc = sd_bus_message_new_method_call(r->bus, &m, RESOLVE1, RESOLVE1_PATH,
						RESOLVE1_MANAGER, method);

	if (rc >= 0)
		rc = sd_bus_message_append(m, "i", r->ifindex);
	if (rc >= 0)
		rc = body(m, arg);
	if (rc >= 0)
		rc = send_msg(r, m, method);
	sd_bus_message_unref(m);
	return rc;
}

static int dns_body(sd_bus_message *m, bool unused)
{
	return append_dns(m);
}

static int call(struct dns_resolved *r, const char *method, const char *sig, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int rc = sd_bus_message_new_method_call(r->bus, &m, RESOLVE1, RESOLVE1_PATH,
						RESOLVE1_MANAGER, method);

	if (rc >= 0 && sig) {
		va_start(ap, sig);
		rc = sd_bus_message_appendv(m, sig, ap);
		va_end(ap);
	}
	if (rc >= 0)
		rc = send_msg(r, m, method);
	sd_bus_message_unref(m);
	return rc;
}

/* Tell resolved about the link; 0 or a negative errno. */
static int apply_link(struct dns_resolved *r)
{
	int rc = set_link(r, "SetLinkDNS", dns_body, false);

	if (rc < 0)
		return rc;
	rc = set_link(r, "SetLinkDomains", append_domains, true);
	if (rc < 0 && rc != -EOPNOTSUPP)
		rc = set_link(r, "SetLinkDomains", append_domains, false);
	if (rc < 0)
		return rc;
	rc = call(r, "SetLinkDefaultRoute", "ib", r->ifindex, 0);
	if (rc < 0 && rc != -EOPNOTSUPP)
		return rc;
	(void)call(r, "SetLinkLLMNR", "is", r->ifindex, "no");
	(void)call(r, "SetLinkMulticastDNS", "is", r->ifindex, "no");
	(void)call(r, "FlushCaches", NULL);
	return 0;
}

static int on_owner_changed(sd_bus_message *m, void *data, sd_bus_error *ret)
{
	struct dns_resolved *r = data;
	const char *name, *old_owner, *new_owner;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, RESOLVE1) != 0 || !new_owner[0] || !r->ifindex)
		return 0;
	log_info("dns", "systemd-resolved restarted: telling it about the link again");
	if (apply_link(r) < 0)
		log_warn("dns", "systemd-resolved: could not configure the link again");
	return 0;
}

static void bus_rearm(struct dns_resolved *r);

static void on_bus_event(uv_poll_t *h, int status, int events)
{
	struct dns_resolved *r = container_of(h, struct dns_resolved, poll);

	while (sd_bus_process(r->bus, NULL) > 0)
		;
	bus_rearm(r);
}

static void on_bus_timer(uv_timer_t *t)
{
	struct dns_resolved *r = container_of(t, struct dns_resolved, timer);

	while (sd_bus_process(r->bus, NULL) > 0)
		;
	bus_rearm(r);
}

static void bus_rearm(struct dns_resolved *r)
{
	int ev = sd_bus_get_events(r->bus);
	uint64_t usec = UINT64_MAX, now;
	struct timespec ts;

	uv_poll_start(&r->poll,
		      (ev & POLLIN ? UV_READABLE : 0) | (ev & POLLOUT ? UV_WRITABLE : 0) |
			      UV_READABLE,
		      on_bus_event);
	if (sd_bus_get_timeout(r->bus, &usec) >= 0 && usec != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		uv_timer_start(&r->timer, on_bus_timer, usec > now ? (usec - now) / 1000 + 1 : 0,
			       0);
	}
}

struct dns_resolved *dns_resolved_open(uv_loop_t *loop)
{
	struct dns_resolved *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (sd_bus_open_system(&r->bus) < 0 || ping(r->bus) < 0)
		goto err;
	if (sd_bus_match_signal(r->bus, &r->watch, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				"org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed,
				r) < 0)
		goto err;
	if (loop) {
		if (uv_poll_init(loop, &r->poll, sd_bus_get_fd(r->bus)) < 0)
			goto err;
		uv_timer_init(loop, &r->timer);
		r->handles_open = 2;
		bus_rearm(r);
	}
	return r;
err:
	sd_bus_slot_unref(r->watch);
	sd_bus_flush_close_unref(r->bus);
	free(r);
	return NULL;
}

int dns_resolved_apply(struct dns_resolved *r, const char *ifname)
{
	int idx = (int)if_nametoindex(ifname);

	if (idx <= 0)
		return -ENODEV;
	r->ifindex = idx;
	return apply_link(r);
}

void dns_resolved_revert(struct dns_resolved *r)
{
	if (!r || !r->ifindex)
		return;
	if (call(r, "RevertLink", "i", r->ifindex) < 0)
		log_debug("dns", "resolved: RevertLink failed (the link may be gone already)");
	r->ifindex = 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct dns_resolved *r = h->data;

	if (--r->handles_open == 0) {
		sd_bus_flush_close_unref(r->bus);
		free(r);
	}
}

void dns_resolved_close(struct dns_resolved *r)
{
	if (!r)
		return;
	dns_resolved_revert(r);
	r->watch = sd_bus_slot_unref(r->watch);
	if (!r->handles_open) {
		sd_bus_flush_close_unref(r->bus);
		free(r);
		return;
	}
	/* Two handles: freed when the second has closed. */
	r->poll.data = r;
	r->timer.data = r;
	uv_close((uv_handle_t *)&r->poll, on_handle_closed);
	uv_close((uv_handle_t *)&r->timer, on_handle_closed);
}
