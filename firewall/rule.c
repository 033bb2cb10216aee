/*
 * Firewall rules: parsing each field, the text and JSON forms. Every
 * parser says what is wrong and quotes the part it could not use (cut to
 * QUOTE_MAX characters); nothing here touches a packet.
 */
#include "firewall/rule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "mesh/identity.h"

#define QUOTE_MAX 64
#define TAG_PREFIX "tag:"
#define TAG_PREFIX_LEN (sizeof(TAG_PREFIX) - 1)

__attribute__((format(printf, 3, 4))) static bool say(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

void fw_rule_init(struct fw_rule *r, enum fw_dir dir, enum fw_action action)
{
	memset(r, 0, sizeof(*r));
	r->dir = (uint8_t)dir;
	r->action = (uint8_t)action;
}

bool fw_rule_parse_dir(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	if (strcmp(s, "in") == 0)
		r->dir = FW_IN;
	else if (strcmp(s, "out") == 0)
		r->dir = FW_OUT;
	else
		return say(err, errlen, "`%.*s' is not a direction: in or out", QUOTE_MAX, s);
	return true;
}

bool fw_rule_parse_action(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	if (strcmp(s, "allow") == 0)
		r->action = FW_ALLOW;
	else if (strcmp(s, "deny") == 0)
		r->action = FW_DENY;
	else
		return say(err, errlen, "`%.*s' is not an action: allow or deny", QUOTE_MAX, s);
	return true;
}

static const char *const proto_names[] = {
	[FW_PROTO_ANY] = "any",
	[FW_PROTO_TCP] = "tcp",
	[FW_PROTO_UDP] = "udp",
	[FW_PROTO_ICMP] = "icmp",
};

bool fw_rule_parse_proto(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(proto_names); i++) {
		if (strcmp(s, proto_names[i]) == 0) {
			r->proto = (uint8_t)i;
			return true;
		}
	}
	return say(err, errlen, "`%.*s' is not a protocol: tcp, udp, icmp or any", QUOTE_MAX, s);
}

/* One decimal port, 1..65535, exactly the characters [s, end). */
static bool port_number(const char *s, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return false;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* One item of a port list, [s, end): "N" or "N-M". */
static bool port_item(const char *s, const char *end, struct fw_port_range *out, char *err,
		      size_t errlen)
{
	const char *dash = memchr(s, '-', (size_t)(end - s));
	int len = (int)MIN(end - s, QUOTE_MAX);

	if (s == end)
		return say(err, errlen, "empty port in the list");
	if (!dash) {
		if (!port_number(s, end, &out->lo))
			return say(err, errlen, "`%.*s' is not a port (1 to 65535)", len, s);
		out->hi = out->lo;
		return true;
	}
	if (!port_number(s, dash, &out->lo) || !port_number(dash + 1, end, &out->hi))
		return say(err, errlen, "`%.*s' is not a port range (1 to 65535, as 8000-8100)",
			   len, s);
	if (out->lo > out->hi)
		return say(err, errlen, "port range `%.*s' runs backwards", len, s);
	return true;
}

static int range_order(const void *a, const void *b)
{
	const struct fw_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sorts the ranges and merges those that overlap or touch. */
static void merge_ranges(struct fw_rule *r)
{
	size_t kept = 0;

	qsort(r->ports, r->nports, sizeof(r->ports[0]), range_order);
	for (size_t i = 0; i < r->nports; i++) {
		struct fw_port_range *last = kept ? &r->ports[kept - 1] : NULL;

		if (last && (uint32_t)r->ports[i].lo <= (uint32_t)last->hi + 1) {
			last->hi = MAX(last->hi, r->ports[i].hi);
			continue;
		}
		r->ports[kept++] = r->ports[i];
	}
	r->nports = (uint8_t)kept;
}

bool fw_rule_parse_ports(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	const char *p = s;
	size_t n = 0;

	if (strcmp(s, "any") == 0) {
		r->nports = 0;
		return true;
	}
	for (;;) {
		const char *end = strchr(p, ',');

		if (!end)
			end = p + strlen(p);
		if (n == FW_PORT_RANGES_MAX)
			return say(err, errlen, "more than %d ports or ranges in `%.*s'",
				   FW_PORT_RANGES_MAX, QUOTE_MAX, s);
		if (!port_item(p, end, &r->ports[n], err, errlen)) {
			if (p == end)
				say(err, errlen, "empty port in the list `%.*s'", QUOTE_MAX, s);
			return false;
		}
		n++;
		if (!*end)
			break;
		p = end + 1;
	}
	r->nports = (uint8_t)n;
	merge_ranges(r);
	return true;
}

static bool set_network(struct fw_rule *r, const char *net, const char *from, char *err,
			size_t errlen)
{
	/* `any' is the keyword for "no network scope" (--network any), so it
	 * cannot also name a network: `bob.any' would not read back. */
	if (strcmp(net, "any") == 0)
		return say(err, errlen, "%s: `any' is not a network name", from);
	if (!hostname_valid(net))
		return say(err, errlen,
			   "`%.*s' is not a network name: use 1 to 63 of a-z, 0-9 and '-', not "
			   "starting or ending with '-'",
			   QUOTE_MAX, net);
	if (r->network[0] && strcmp(r->network, net) != 0)
		return say(err, errlen, "network `%s' (from %s) conflicts with network `%s'", net,
			   from, r->network);
	snprintf(r->network, sizeof(r->network), "%s", net);
	return true;
}

static bool parse_tag(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	const char *t = s + TAG_PREFIX_LEN;

	if (!tag_valid(t))
		return say(err, errlen,
			   "`%.*s' is not a tag: use tag: and 1 to %d of a-z, 0-9 and '-', not "
			   "starting or ending with '-'",
			   QUOTE_MAX, s, MEMBER_TAG_MAX);
	r->peer_kind = FW_PEER_TAG;
	snprintf(r->name, sizeof(r->name), "%s", t);
	return true;
}

bool fw_rule_parse_peer(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	char host[FW_NAME_MAX + 1];
	const char *dot = strchr(s, '.');
	size_t hlen = dot ? (size_t)(dot - s) : strlen(s);

	memset(r->name, 0, sizeof(r->name));
	memset(r->key, 0, sizeof(r->key));
	if (strcmp(s, "any") == 0) {
		r->peer_kind = FW_PEER_ANY;
		return true;
	}
	if (strncmp(s, TAG_PREFIX, TAG_PREFIX_LEN) == 0)
		return parse_tag(s, r, err, errlen);
	if (strlen(s) == KEY_B64_LEN - 1 && key_from_base64(s, r->key)) {
		r->peer_kind = FW_PEER_KEY;
		return true;
	}
	if (hlen <= FW_NAME_MAX) {
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (hlen > FW_NAME_MAX || !hostname_valid(host))
		return say(err, errlen,
			   "`%.*s' is not a peer: give any, a hostname (bob or bob.home), a public "
			   "key or tag:NAME",
			   QUOTE_MAX, s);
	if (dot) {
		char from[FW_NAME_MAX * 2 + 16];

		snprintf(from, sizeof(from), "peer `%.*s'", QUOTE_MAX, s);
		if (!set_network(r, dot + 1, from, err, errlen))
			return false;
	}
	/* "any" is the keyword, so any.NET is every peer in NET (a member
	 * named `any' is named by its key instead). */
	r->peer_kind = strcmp(host, "any") == 0 ? FW_PEER_ANY : FW_PEER_HOST;
	if (r->peer_kind == FW_PEER_HOST)
		memcpy(r->name, host, hlen + 1);
	return true;
}

bool fw_rule_parse_network(const char *s, struct fw_rule *r, char *err, size_t errlen)
{
	char from[16];

	if (strcmp(s, "any") == 0 && r->network[0])
		return say(err, errlen,
			   "network `any' (from --network) conflicts with network `%s'",
			   r->network);
	if (strcmp(s, "any") == 0)
		return true;
	snprintf(from, sizeof(from), "--network");
	return set_network(r, s, from, err, errlen);
}

bool fw_rule_check(const struct fw_rule *r, char *err, size_t errlen)
{
	if (r->dir > FW_OUT || r->action > FW_DENY || r->proto > FW_PROTO_ICMP ||
	    r->peer_kind > FW_PEER_TAG || r->nports > FW_PORT_RANGES_MAX)
		return say(err, errlen, "the rule has a field out of range");
	if (r->nports && r->proto == FW_PROTO_ICMP)
		return say(err, errlen, "ports apply to tcp and udp, not to icmp");
	return true;
}

/* --- the text form --------------------------------------------------------- */

/* The value after option argv[*i], or NULL after saying it is missing. */
static const char *option_value(int argc, char *const *argv, int *i, char *err, size_t errlen)
{
	if (*i + 1 >= argc) {
		say(err, errlen, "option `%.*s' needs a value", QUOTE_MAX, argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static bool parse_option(int argc, char *const *argv, int *i, struct fw_rule *r, char *err,
			 size_t errlen)
{
	const char *o = argv[*i], *v;

	if (strcmp(o, "-p") && strcmp(o, "--proto") && strcmp(o, "-P") && strcmp(o, "--port") &&
	    strcmp(o, "--ports") && strcmp(o, "--peer") && strcmp(o, "--network"))
		return say(err, errlen, "unknown option `%.*s'", QUOTE_MAX, o);
	v = option_value(argc, argv, i, err, errlen);
	if (!v)
		return false;
	if (!strcmp(o, "-p") || !strcmp(o, "--proto"))
		return fw_rule_parse_proto(v, r, err, errlen);
	if (!strcmp(o, "-P") || !strcmp(o, "--port") || !strcmp(o, "--ports"))
		return fw_rule_parse_ports(v, r, err, errlen);
	if (!strcmp(o, "--peer"))
		return fw_rule_parse_peer(v, r, err, errlen);
	return fw_rule_parse_network(v, r, err, errlen);
}

bool fw_rule_parse_words(int argc, char *const *argv, struct fw_rule *r, char *err, size_t errlen)
{
	fw_rule_init(r, FW_IN, FW_ALLOW);
	if (argc < 2)
		return say(err, errlen, "a rule starts with in|out and allow|deny");
	if (!fw_rule_parse_dir(argv[0], r, err, errlen) ||
	    !fw_rule_parse_action(argv[1], r, err, errlen))
		return false;
	for (int i = 2; i < argc; i++)
		if (!parse_option(argc, argv, &i, r, err, errlen))
			return false;
	return fw_rule_check(r, err, errlen);
}

void fw_rule_format_ports(const struct fw_rule *r, char *out, size_t cap)
{
	size_t off = 0;

	if (!cap)
		return;
	out[0] = '\0';
	if (!r->nports) {
		snprintf(out, cap, "any");
		return;
	}
	for (size_t i = 0; i < r->nports && off < cap; i++) {
		const struct fw_port_range *p = &r->ports[i];
		int n = p->lo == p->hi ?
				snprintf(out + off, cap - off, "%s%u", i ? "," : "", p->lo) :
				snprintf(out + off, cap - off, "%s%u-%u", i ? "," : "", p->lo,
					 p->hi);

		if (n < 0)
			return;
		off += (size_t)n;
	}
}

void fw_rule_format_peer(const struct fw_rule *r, char *out, size_t cap)
{
	char b64[KEY_B64_LEN];

	switch (r->peer_kind) {
	case FW_PEER_HOST:
		snprintf(out, cap, "%s", r->name);
		break;
	case FW_PEER_TAG:
		snprintf(out, cap, TAG_PREFIX "%s", r->name);
		break;
	case FW_PEER_KEY:
		key_to_base64(r->key, b64);
		snprintf(out, cap, "%s", b64);
		break;
	default:
		snprintf(out, cap, "any");
		break;
	}
}

void fw_rule_format(const struct fw_rule *r, char *out, size_t cap)
{
	char ports[FW_PORT_RANGES_MAX * 12 + 1], peer[KEY_B64_LEN + FW_NAME_MAX];
	int n;

	fw_rule_format_ports(r, ports, sizeof(ports));
	fw_rule_format_peer(r, peer, sizeof(peer));
	n = snprintf(out, cap, "%s %s -p %s", r->dir == FW_IN ? "in" : "out",
		     r->action == FW_ALLOW ? "allow" : "deny",
		     proto_names[r->proto < ARRAY_SIZE(proto_names) ? r->proto : 0]);
	if (n < 0 || (size_t)n >= cap)
		return;
	if (r->nports)
		n += snprintf(out + n, cap - (size_t)n, " -P %s", ports);
	if (r->peer_kind != FW_PEER_ANY && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, " --peer %s", peer);
	if (r->network[0] && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, " --network %s", r->network);
}

/* --- JSON ------------------------------------------------------------------ */

json_t *fw_rule_to_json(const struct fw_rule *r)
{
	char ports[FW_PORT_RANGES_MAX * 12 + 1], peer[KEY_B64_LEN + FW_NAME_MAX];
	json_t *o;

	fw_rule_format_ports(r, ports, sizeof(ports));
	fw_rule_format_peer(r, peer, sizeof(peer));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "direction", r->dir == FW_IN ? "in" : "out",
		      "action", r->action == FW_ALLOW ? "allow" : "deny", "proto",
		      proto_names[r->proto < ARRAY_SIZE(proto_names) ? r->proto : 0], "ports",
		      ports, "peer", peer);
	if (o && r->network[0])
		json_object_set_new(o, "network", json_string(r->network));
	return o;
}

typedef bool (*field_parser)(const char *s, struct fw_rule *r, char *err, size_t errlen);

static const struct {
	const char *name;
	field_parser parse;
	bool required;
} json_fields[] = {
	{ "direction", fw_rule_parse_dir, true }, { "action", fw_rule_parse_action, true },
	{ "proto", fw_rule_parse_proto, false },  { "ports", fw_rule_parse_ports, false },
	{ "peer", fw_rule_parse_peer, false },	  { "network", fw_rule_parse_network, false },
};

static bool known_field(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(json_fields); i++)
		if (strcmp(key, json_fields[i].name) == 0)
			return true;
	return false;
}

bool fw_rule_from_json(json_t *o, struct fw_rule *r, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t off;

	fw_rule_init(r, FW_IN, FW_ALLOW);
	if (!json_is_object(o))
		return say(err, errlen, "a rule must be a JSON object");
	json_object_foreach(o, key, v)
	{
		if (!known_field(key))
			return say(err, errlen, "unknown field `%.*s'", QUOTE_MAX, key);
	}
	for (size_t i = 0; i < ARRAY_SIZE(json_fields); i++) {
		v = json_object_get(o, json_fields[i].name);
		if (!v && json_fields[i].required)
			return say(err, errlen, "missing `%s'", json_fields[i].name);
		if (!v)
			continue;
		if (!json_is_string(v))
			return say(err, errlen, "`%s' must be a string", json_fields[i].name);
		off = (size_t)snprintf(err, errlen, "%s: ", json_fields[i].name);
		if (!json_fields[i].parse(json_string_value(v), r,
					  err ? err + MIN(off, errlen) : NULL,
					  errlen > off ? errlen - off : 0))
			return false;
	}
	if (err && errlen)
		err[0] = '\0';
	return fw_rule_check(r, err, errlen);
}

bool fw_rule_equal(const struct fw_rule *a, const struct fw_rule *b)
{
	if (a->dir != b->dir || a->action != b->action || a->proto != b->proto ||
	    a->peer_kind != b->peer_kind || a->nports != b->nports ||
	    strcmp(a->network, b->network) != 0)
		return false;
	if (memcmp(a->ports, b->ports, a->nports * sizeof(a->ports[0])) != 0)
		return false;
	if (a->peer_kind == FW_PEER_KEY)
		return memcmp(a->key, b->key, sizeof(a->key)) == 0;
	if (a->peer_kind == FW_PEER_HOST || a->peer_kind == FW_PEER_TAG)
		return strcmp(a->name, b->name) == 0;
	return true;
}
