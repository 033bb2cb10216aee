/*
 * `manta dns add|rm|list|export': service names and zone files. add and rm
 * change this node's own registrations (dns/services.h), which the next
 * refresh signs and gossips at once; list shows every service name this
 * node can resolve; export prints a network's zone file.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mantad.h"
#include "dns/dns.h"
#include "dns/export.h"

static const char *arg(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

static struct dns *dns_of(struct mantad *d, struct command_call *call)
{
	if (!d->dns)
		command_fail(call, "Magic DNS is not running");
	return d->dns;
}

/* The network named in args (optional key), checked; false after failing. */
static bool network_arg(struct mantad *d, struct command_call *call, json_t *args,
			const struct network **out)
{
	const char *name = arg(args, "network");

	*out = NULL;
	if (!name)
		return true;
	*out = membership_find(&d->mem, name);
	if (!*out || !membership_active(&d->mem, *out)) {
		command_fail(call, "no network named `%s' that this node is a member of", name);
		return false;
	}
	return true;
}

/* NAME.HOST.NET.pi for each network an own registration applies to. */
static json_t *own_names(struct mantad *d, const struct dns_own_service *o)
{
	json_t *names = json_array();
	char full[300];

	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];

		if (!membership_active(&d->mem, n) ||
		    (o->network[0] && strcmp(o->network, n->label)))
			continue;
		snprintf(full, sizeof(full), "%s.%s.%s.pi", o->name, n->hostname, n->label);
		json_array_append_new(names, json_string(full));
	}
	return names;
}

static void changed(struct dns *dns)
{
	dns_services_refresh(dns);
	dns_services_save_now(dns);
}

static void command_dns_add(struct mantad *d, struct command_call *call, json_t *args)
{
	struct dns *dns = dns_of(d, call);
	const char *name = arg(args, "name");
	const struct network *n;
	struct dns_own_service o = { 0 };

	if (!dns || !network_arg(d, call, args, &n))
		return;
	if (!hostname_valid(name)) {
		command_fail(
			call,
			"`%s' is not a DNS label (1-63 of a-z, 0-9 and '-', not first or last)",
			name);
		return;
	}
	snprintf(o.name, sizeof(o.name), "%s", name);
	snprintf(o.network, sizeof(o.network), "%s", n ? n->label : "");
	for (size_t i = 0; i < dns->svc.nown; i++) {
		if (strcmp(dns->svc.own[i].name, o.name) == 0 &&
		    strcmp(dns->svc.own[i].network, o.network) == 0) {
			command_reply(call, json_pack("{s:s,s:o}", "name", name, "names",
						      own_names(d, &o)));
			return;
		}
	}
	if (dns->svc.nown == DNS_OWN_SERVICES_MAX) {
		command_fail(call, "this node has %d service names already; remove one first",
			     DNS_OWN_SERVICES_MAX);
		return;
	}
	dns->svc.own[dns->svc.nown++] = o;
	changed(dns);
	command_reply(call, json_pack("{s:s,s:o}", "name", name, "names", own_names(d, &o)));
}

static void command_dns_rm(struct mantad *d, struct command_call *call, json_t *args)
{
	struct dns *dns = dns_of(d, call);
	const char *name = arg(args, "name"), *net = arg(args, "network");
	size_t removed = 0;

	if (!dns)
		return;
	for (size_t i = 0; i < dns->svc.nown;) {
		struct dns_own_service *o = &dns->svc.own[i];

		if (strcmp(o->name, name) == 0 && (!net || strcmp(o->network, net) == 0)) {
			*o = dns->svc.own[--dns->svc.nown];
			removed++;
		} else {
			i++;
		}
	}
	if (!removed) {
		command_fail(call, "no service name `%s'%s%s registered on this node", name,
			     net ? " in " : "", net ? net : "");
		return;
	}
	changed(dns);
	command_reply(call, json_pack("{s:s,s:I}", "name", name, "removed", (json_int_t)removed));
}

static json_t *entry_json(const struct network *n, const struct member_record *r, const char *svc,
			  bool own)
{
	char full[300], a6[INET6_ADDRSTRLEN], a4[INET_ADDRSTRLEN];
	uint8_t v6[16], v4[4];

	dns_member_addresses(r, v6, v4);
	inet_ntop(AF_INET6, v6, a6, sizeof(a6));
	inet_ntop(AF_INET, v4, a4, sizeof(a4));
	snprintf(full, sizeof(full), "%s.%s.%s.pi", svc, r->hostname, n->label);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "name", full, "service", svc, "host",
			 r->hostname, "network", n->label, "ipv6", a6, "ipv4", a4, "own", own);
}

static void command_dns_list(struct mantad *d, struct command_call *call, json_t *args)
{
	struct dns *dns = dns_of(d, call);
	const struct network *only;
	json_t *out;

	if (!dns || !network_arg(d, call, args, &only))
		return;
	out = json_array();
	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];

		if ((only && n != only) || !membership_active(&d->mem, n))
			continue;
		for (size_t j = 0; j < n->nmembers; j++) {
			const struct member_record *r = &n->members[j];
			const struct service_set *s =
				dns_services_get(&dns->svc, n->pk, r->x25519_pk);
			bool own = memcmp(r->x25519_pk, d->id->x_pk, 32) == 0;

			if (!s || r->flags & MEMBER_FLAG_REVOKED || !dns_services_counts(n, s))
				continue;
			for (size_t k = 0; k < s->nnames; k++)
				json_array_append_new(out, entry_json(n, r, s->names[k], own));
		}
	}
	command_reply(call, out);
}

static void command_dns_export(struct mantad *d, struct command_call *call, json_t *args)
{
	struct dns *dns = dns_of(d, call);
	const struct network *n;
	struct dns_zone z;
	char *text, zone[80];

	if (!dns || !network_arg(d, call, args, &n))
		return;
	z = dns_zone_now(dns);
	text = dns_export(&z, n);
	if (!text) {
		command_fail(call, "cannot write the zone of `%s' (out of memory)", n->label);
		return;
	}
	snprintf(zone, sizeof(zone), "%s.pi.", n->label);
	command_reply(call,
		      json_pack("{s:s,s:s,s:s}", "network", n->label, "zone", zone, "text", text));
	free(text);
}

#define OBJ(props, req) \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}" req "}"
#define STR(name) "\"" name "\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255}"

const struct command dns_commands[] = {
	{ "dns_add", "register NAME.HOST.NET.pi for this node (every network, or one)",
	  OBJ(STR("name") "," STR("network"), ",\"required\":[\"name\"]"), true, command_dns_add },
	{ "dns_rm", "remove a service name of this node",
	  OBJ(STR("name") "," STR("network"), ",\"required\":[\"name\"]"), true, command_dns_rm },
	{ "dns_list", "the service names this node resolves", OBJ(STR("network"), ""), false,
	  command_dns_list },
	{ "dns_export", "a network's names as an RFC 1035 zone file",
	  OBJ(STR("network"), ",\"required\":[\"network\"]"), false, command_dns_export },
};
const size_t dns_commands_count = ARRAY_SIZE(dns_commands);
