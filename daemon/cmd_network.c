/*
 * The network commands that finish at once: create, invite, leave, kick,
 * networks, whois, and the registry table for all of them. join, ping and
 * a member's hostname change wait for other nodes (join.c, ping.c,
 * rename.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "mesh/address.h"

static const char *arg_string(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

static json_t *address_json(int family, const void *a)
{
	char s[INET6_ADDRSTRLEN];

	inet_ntop(family, a, s, sizeof(s));
	return json_string(s);
}

static json_t *key_json(const uint8_t key[KEY_LEN])
{
	char b64[KEY_B64_LEN];

	key_to_base64(key, b64);
	return json_string(b64);
}

/* The network named in args, or NULL after failing the call. */
static struct network *named_network(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *name = arg_string(args, "name");
	struct network *n = membership_find(&d->mem, name);

	if (!n)
		command_fail(call, "no network named `%s' (see `manta networks')", name);
	return n;
}

static const struct member_record *owner_record(const struct network *n)
{
	for (size_t i = 0; i < n->nmembers; i++)
		if (n->members[i].flags & MEMBER_FLAG_OWNER)
			return &n->members[i];
	return NULL;
}

static bool must_own(struct command_call *call, const struct network *n, const char *what)
{
	const struct member_record *o = owner_record(n);

	if (n->owner)
		return true;
	command_fail(call, "only the owner of `%s' can %s; its owner is `%s'", n->label, what,
		     o ? o->hostname : "unknown");
	return false;
}

/* The default hostname: this machine's name as a DNS label. */
static void default_hostname(char out[HOSTNAME_MAX + 1])
{
	char h[256] = "";
	size_t j = 0;

	gethostname(h, sizeof(h) - 1);
	for (size_t i = 0; h[i] && h[i] != '.' && j < HOSTNAME_MAX; i++) {
		char c = (char)tolower((unsigned char)h[i]);

		if (isalnum((unsigned char)c) || (c == '-' && j > 0))
			out[j++] = c;
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = '\0';
	if (!j)
		snprintf(out, HOSTNAME_MAX + 1, "node");
}

bool membership_names_ok(struct command_call *call, const char *label, const char *host)
{
	if (label && !hostname_valid(label)) {
		command_fail(call,
			     "`%s' is not a valid network name: use 1 to 63 of a-z, 0-9 and '-', "
			     "not starting or ending with '-'",
			     label);
		return false;
	}
	if (host && !hostname_valid(host)) {
		command_fail(call,
			     "`%s' is not a valid hostname: use 1 to 63 of a-z, 0-9 and '-', "
			     "not starting or ending with '-'",
			     host);
		return false;
	}
	return true;
}

/* A label is free if no network has it and no file that failed to load
 * claims it. */
bool membership_label_free(struct mantad *d, struct command_call *call, const char *label)
{
	char path[600];
	struct stat st;

	if (membership_find(&d->mem, label)) {
		command_fail(call, "a network named `%s' already exists", label);
		return false;
	}
	snprintf(path, sizeof(path), "%s/%s.json", d->mem.dir, label);
	if (stat(path, &st) == 0) {
		command_fail(call, "%s exists but did not load (see the log); move it away first",
			     path);
		return false;
	}
	return true;
}

json_t *membership_joined_json(struct mantad *d, const struct network *n)
{
	size_t live = 0;

	for (size_t i = 0; i < n->nmembers; i++)
		live += !(n->members[i].flags & MEMBER_FLAG_REVOKED);
	return json_pack("{s:s,s:o,s:s,s:o,s:o,s:I,s:b}", "name", n->label, "network_key",
			 key_json(n->pk), "hostname", n->hostname, "ipv6",
			 address_json(AF_INET6, d->id->v6), "ipv4",
			 address_json(AF_INET, d->id->v4), "members", (json_int_t)live, "owner",
			 n->owner);
}

static void command_create(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *label = arg_string(args, "name"), *host = arg_string(args, "hostname");
	char fallback[HOSTNAME_MAX + 1];
	struct network *n;
	int r;

	if (!host) {
		default_hostname(fallback);
		host = fallback;
	}
	if (!membership_names_ok(call, label, host) || !membership_label_free(d, call, label))
		return;
	r = network_create(label, host, d->id->x_pk, d->id->ed_pk, d->id->v4_index, &n);
	if (r < 0) {
		command_fail(call, "cannot create `%s': %s", label, strerror(-r));
		return;
	}
	if (n->members[0].v4_index != d->id->v4_index) {
		/* network_create keeps the index it is given for the first member. */
		command_fail(call, "cannot create `%s': IPv4 index mismatch", label);
		network_free(n);
		return;
	}
	if (membership_save(&d->mem, n) < 0) {
		command_fail(call, "cannot save `%s' (see the log)", label);
		network_free(n);
		return;
	}
	if (membership_add(&d->mem, n) < 0) {
		command_fail(call, "out of memory");
		network_free(n);
		return;
	}
	log_info("network", "%s: created, this node is `%s'", label, host);
	membership_announce(&d->mem);
	command_reply(call, membership_joined_json(d, n));
}

static void command_invite(struct mantad *d, struct command_call *call, json_t *args)
{
	struct network *n = named_network(d, call, args);
	json_t *e = json_object_get(args, "expires");
	uint64_t now = (uint64_t)time(NULL), ttl = e ? (uint64_t)json_integer_value(e) : 86400;
	bool reusable = json_is_true(json_object_get(args, "reusable"));
	struct invite inv = { 0 };
	char token[INVITE_TOKEN_MAX];
	int r;

	if (!n || !must_own(call, n, "invite"))
		return;
	inv.nendpoints =
		endpoints_local(d->ifname, d->cfg.listen_port, inv.endpoints, INVITE_MAX_ENDPOINTS);
	if (inv.nendpoints == 0) {
		command_fail(call, "this node has no usable address to put in an invite "
				   "(no global IPv6 or IPv4 address outside the mesh)");
		return;
	}
	memcpy(inv.network_pk, n->pk, NETWORK_KEY_LEN);
	memcpy(inv.owner_x25519_pk, d->id->x_pk, KEY_LEN);
	randombytes_buf(inv.secret, sizeof(inv.secret));
	inv.expires = ttl ? now + ttl : 0;
	inv.flags = reusable ? INVITE_FLAG_REUSABLE : 0;
	snprintf(inv.label, sizeof(inv.label), "%s", n->label);
	r = network_invite_add(n, inv.secret, now, inv.expires, reusable);
	if (r == -ENOSPC) {
		command_fail(call, "`%s' has too many open invites; wait until some expire",
			     n->label);
		return;
	}
	if (r == 0)
		r = invite_encode(&inv, n->sk, token, sizeof(token));
	if (r < 0) {
		command_fail(call, "cannot make an invite: %s", strerror(-r));
		return;
	}
	if (membership_save(&d->mem, n) < 0) {
		command_fail(call, "cannot save `%s' (see the log)", n->label);
		return;
	}
	sodium_memzero(inv.secret, sizeof(inv.secret));
	log_info("network", "%s: invite made (%s, %s)", n->label,
		 reusable ? "reusable" : "single use", inv.expires ? "expires" : "never expires");
	command_reply(call, json_pack("{s:s,s:s,s:I,s:b}", "name", n->label, "token", token,
				      "expires", (json_int_t)inv.expires, "reusable", reusable));
}

static void command_kick(struct mantad *d, struct command_call *call, json_t *args)
{
	struct network *n = named_network(d, call, args);
	const char *host = arg_string(args, "host");
	const struct member_record *victim;
	struct member_record rec;

	if (!n || !must_own(call, n, "kick"))
		return;
	victim = network_member_by_host(n, host);
	if (!victim) {
		command_fail(call, "`%s' has no member `%s'", n->label, host);
		return;
	}
	if (memcmp(victim->x25519_pk, d->id->x_pk, KEY_LEN) == 0) {
		command_fail(call, "the owner cannot kick itself; use `manta leave %s'", n->label);
		return;
	}
	if (network_revoke(n, victim->x25519_pk, (uint64_t)time(NULL), &rec) < 0 ||
	    membership_save(&d->mem, n) < 0) {
		command_fail(call, "cannot revoke `%s' (see the log)", host);
		return;
	}
	log_info("network", "%s: kicked `%s'", n->label, rec.hostname);
	gossip_flood_records(&d->mem, n, &rec, 1, NULL, GOSSIP_ALL);
	membership_sync_peers(&d->mem);
	command_reply(call, json_pack("{s:s,s:s,s:o}", "name", n->label, "host", rec.hostname,
				      "public_key", key_json(rec.x25519_pk)));
}

static json_t *member_json(const struct member_record *r)
{
	uint8_t v6[16], v4[4];

	json_t *tags = json_array();

	address_v6_from_key(r->x25519_pk, v6);
	address_v4_from_key_index(r->x25519_pk, r->v4_index, v4);
	for (size_t i = 0; i < r->ntags; i++) /* set by the owner (`manta tag') */
		json_array_append_new(tags, json_string(r->tags[i]));
	return json_pack("{s:s,s:o,s:o,s:o,s:b,s:b,s:o}", "hostname", r->hostname, "public_key",
			 key_json(r->x25519_pk), "ipv6", address_json(AF_INET6, v6), "ipv4",
			 address_json(AF_INET, v4), "owner", (r->flags & MEMBER_FLAG_OWNER) != 0,
			 "revoked", (r->flags & MEMBER_FLAG_REVOKED) != 0, "tags", tags);
}

static void command_networks(struct mantad *d, struct command_call *call, json_t *args)
{
	json_t *out = json_array();

	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];
		json_t *members = json_array();

		uint8_t dg[NETWORK_DIGEST_LEN];
		char hex[2 * NETWORK_DIGEST_LEN + 1];

		for (size_t j = 0; j < n->nmembers; j++)
			json_array_append_new(members, member_json(&n->members[j]));
		network_digest(n, dg);
		sodium_bin2hex(hex, sizeof(hex), dg, sizeof(dg));
		json_array_append_new(out, json_pack("{s:s,s:o,s:b,s:s,s:b,s:o,s:s,s:I}", "name",
						     n->label, "network_key", key_json(n->pk),
						     "owner", n->owner, "hostname", n->hostname,
						     "active", membership_active(&d->mem, n),
						     "members", members, "digest", hex,
						     "announcements", (json_int_t)n->nannounces));
	}
	command_reply(call, out);
}

static bool member_matches(const struct member_record *r, const uint8_t *v6, const uint8_t *v4)
{
	uint8_t a[16];

	if (v6) {
		address_v6_from_key(r->x25519_pk, a);
		return memcmp(a, v6, 16) == 0;
	}
	address_v4_from_key_index(r->x25519_pk, r->v4_index, a);
	return memcmp(a, v4, 4) == 0;
}

static void command_whois(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *q = arg_string(args, "query");
	uint8_t v6[16], v4[4];
	bool is6 = inet_pton(AF_INET6, q, v6) == 1, is4 = inet_pton(AF_INET, q, v4) == 1;
	char host[256], *dot;
	const char *net = NULL;
	json_t *out = json_array();

	snprintf(host, sizeof(host), "%s", q);
	dot = strchr(host, '.');
	if (!is6 && !is4 && dot) {
		*dot = '\0';
		net = dot + 1;
		size_t l = strlen(net);

		if (l > 3 && strcmp(net + l - 3, ".pi") == 0)
			dot[1 + l - 3] = '\0';
	}
	for (size_t i = 0; i < d->mem.nnets; i++) {
		const struct network *n = d->mem.nets[i];

		if (net && strcmp(net, n->label) != 0)
			continue;
		for (size_t j = 0; j < n->nmembers; j++) {
			const struct member_record *r = &n->members[j];
			json_t *mj;

			if (is6 || is4 ? !member_matches(r, is6 ? v6 : NULL, v4) :
					 strcmp(r->hostname, host) != 0)
				continue;
			if (r->flags & MEMBER_FLAG_REVOKED && !(is6 || is4))
				continue;
			mj = member_json(r);
			json_object_set_new(mj, "network", json_string(n->label));
			json_array_append_new(out, mj);
		}
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		command_fail(call, "`%s' is no member of any network this node is in", q);
		return;
	}
	command_reply(call, out);
}

static void command_peers(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *net = arg_string(args, "network");
	json_t *st, *peers, *out = json_array(), *p;
	size_t i;

	if (net && !membership_find(&d->mem, net)) {
		json_decref(out);
		command_fail(call, "no network named `%s' (see `manta networks')", net);
		return;
	}
	st = status_object(d);
	peers = json_object_get(st, "peers");
	json_array_foreach(peers, i, p)
	{
		json_t *nets = json_object_get(p, "networks"), *v;
		size_t k;
		bool in = !net;

		json_array_foreach(nets, k, v) in |= strcmp(json_string_value(v), net) == 0;
		if (in)
			json_array_append(out, p);
	}
	json_decref(st);
	command_reply(call, out);
}

#define OBJ(props, req) \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}" req "}"
#define STR(name) "\"" name "\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255}"

const struct command membership_commands[] = {
	{ "create", "create a network owned by this node",
	  OBJ(STR("name") "," STR("hostname"), ",\"required\":[\"name\"]"), true, command_create },
	{ "invite", "make an invite token for a network this node owns",
	  OBJ(STR("name") ",\"expires\":{\"type\":\"integer\",\"minimum\":0,"
			  "\"maximum\":31536000},\"reusable\":{\"type\":\"boolean\"}",
	      ",\"required\":[\"name\"]"),
	  true, command_invite },
	{ "join", "join a network with an invite token",
	  OBJ("\"token\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2048}," STR(
		      "hostname") "," STR("name"),
	      ",\"required\":[\"token\"]"),
	  true, command_join },
	{ "leave", "leave a network", OBJ(STR("name"), ",\"required\":[\"name\"]"), true,
	  command_leave },
	{ "kick", "revoke a member (owner)",
	  OBJ(STR("name") "," STR("host"), ",\"required\":[\"name\",\"host\"]"), true,
	  command_kick },
	{ "hostname", "change this node's hostname in a network",
	  OBJ(STR("name") "," STR("hostname"), ",\"required\":[\"name\",\"hostname\"]"), true,
	  command_hostname },
	{ "networks", "the networks and their members", OBJ("", ""), false, command_networks },
	{ "peers", "peers, or those of one network", OBJ(STR("network"), ""), false,
	  command_peers },
	{ "whois", "which member has this address or name",
	  OBJ(STR("query"), ",\"required\":[\"query\"]"), false, command_whois },
	{ "up", "bring the data plane back (TUN, addresses, routes)",
	  OBJ("\"accept_dns\":{\"type\":\"boolean\"}", ""), true, command_up },
	{ "down", "take the data plane off this host; sessions stay", OBJ("", ""), true,
	  command_down },
	{ "ping", "probe a member over the mesh",
	  OBJ(STR("host") ",\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}",
	      ",\"required\":[\"host\"]"),
	  false, command_ping },
};
const size_t membership_commands_count = ARRAY_SIZE(membership_commands);
