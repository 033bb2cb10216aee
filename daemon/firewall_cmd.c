/*
 * The firewall commands (firewall_list, firewall_add, firewall_del,
 * firewall_default, firewall_reject, firewall_flows) and `tag', which sets
 * a member's tags in a network this node owns. Every edit works on a copy
 * of the policy: parsed and checked, compiled, saved to firewall.json,
 * then swapped in (filter_apply), so a refused or failed edit changes
 * nothing, and an accepted one applies to the next packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/filter.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"

static const char *arg_string(json_t *args, const char *name)
{
	return json_string_value(json_object_get(args, name));
}

static json_t *rule_json(const struct fw_rule *r, size_t index)
{
	char text[FW_RULE_TEXT_MAX];
	json_t *o = fw_rule_to_json(r);

	fw_rule_format(r, text, sizeof(text));
	if (o) {
		json_object_set_new(o, "index", json_integer((json_int_t)index));
		json_object_set_new(o, "text", json_string(text));
	}
	return o;
}

static json_t *policy_json(const struct filter *f)
{
	const struct fw_policy *p = &f->policy;
	json_t *rules = json_array();

	for (size_t i = 0; i < p->nrules; i++)
		json_array_append_new(rules, rule_json(&p->rules[i], i + 1));
	return json_pack("{s:{s:s,s:s,s:s},s:b,s:I,s:I,s:s,s:o,s:o}", "default", "in",
			 fw_action_name(p->defaults[FW_DEFAULT_IN]), "out",
			 fw_action_name(p->defaults[FW_DEFAULT_OUT]), "static",
			 fw_action_name(p->defaults[FW_DEFAULT_STATIC]), "reject", p->reject,
			 "max_flows", (json_int_t)p->max_flows, "flows", (json_int_t)f->fw.ct.count,
			 "file", f->path, "error",
			 f->load_failed ? json_string(f->load_error) : json_null(), "rules", rules);
}

static void command_firewall_list(struct mantad *d, struct command_call *call, json_t *args)
{
	command_reply(call, policy_json(&d->fw));
}

/* A copy of the live policy to edit, or false after failing the call. */
static bool edit_copy(struct mantad *d, struct command_call *call, struct fw_policy *next)
{
	if (d->fw.load_failed) {
		command_fail(call, "%s; fix the file or move it away, then restart mantad",
			     d->fw.load_error);
		return false;
	}
	if (fw_policy_copy(next, &d->fw.policy) < 0) {
		command_fail(call, "out of memory");
		return false;
	}
	return true;
}

/* Make next the live policy; false after failing the call. */
static bool apply(struct mantad *d, struct command_call *call, struct fw_policy *next,
		  const char *what)
{
	char err[700];

	if (filter_apply(&d->fw, next, err, sizeof(err)) < 0) {
		fw_policy_free(next);
		command_fail(call, "%s", err);
		return false;
	}
	log_info("firewall", "%s", what);
	return true;
}

/* Apply next and answer with the whole policy. */
static void finish(struct mantad *d, struct command_call *call, struct fw_policy *next,
		   const char *what)
{
	if (apply(d, call, next, what))
		command_reply(call, policy_json(&d->fw));
}

/* The rule in args; false after failing the call with the field named. */
static bool rule_from_args(struct command_call *call, json_t *args, struct fw_rule *r)
{
	static const struct {
		const char *name;
		bool (*parse)(const char *s, struct fw_rule *r, char *err, size_t errlen);
	} fields[] = {
		{ "direction", fw_rule_parse_dir }, { "action", fw_rule_parse_action },
		{ "proto", fw_rule_parse_proto },   { "ports", fw_rule_parse_ports },
		{ "peer", fw_rule_parse_peer },	    { "network", fw_rule_parse_network },
	};
	char err[300];

	fw_rule_init(r, FW_IN, FW_ALLOW);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *v = arg_string(args, fields[i].name);

		if (v && !fields[i].parse(v, r, err, sizeof(err))) {
			command_fail(call, "bad rule: %s: %s", fields[i].name, err);
			return false;
		}
	}
	if (!fw_rule_check(r, err, sizeof(err))) {
		command_fail(call, "bad rule: %s", err);
		return false;
	}
	return true;
}

/* How many peers the rule at index applies to now (-1: every one). */
static long peers_matching(struct filter *f, size_t index)
{
	const struct fw_ruleset *rs = fw_current(&f->fw);
	const struct fw_rule *r = &f->policy.rules[index];
	long n = 0;

	if (!rs || (r->peer_kind == FW_PEER_ANY && !r->network[0]))
		return -1;
	for (uint32_t s = 0; s < rs->nslots; s++)
		n += (long)(rs->bits[index * rs->words + s / 64] >> (s % 64) & 1);
	return n;
}

static void command_firewall_add(struct mantad *d, struct command_call *call, json_t *args)
{
	json_t *at = json_object_get(args, "at");
	struct fw_policy next;
	struct fw_rule r;
	char text[FW_RULE_TEXT_MAX], what[FW_RULE_TEXT_MAX + 48];
	size_t pos;
	long n;

	if (!rule_from_args(call, args, &r) || !edit_copy(d, call, &next))
		return;
	pos = at ? (size_t)json_integer_value(at) - 1 : next.nrules;
	if (pos > next.nrules)
		pos = next.nrules;
	if (fw_policy_insert(&next, pos, &r) < 0) {
		fw_policy_free(&next);
		command_fail(call, "no room for another rule (at most %d)", FW_RULES_MAX);
		return;
	}
	fw_rule_format(&r, text, sizeof(text));
	snprintf(what, sizeof(what), "rule %zu added: %s", pos + 1, text);
	if (!apply(d, call, &next, what))
		return;
	/* How many peers it applies to now: 0 is worth a word to the user
	 * (a name not known yet, a tag nobody has, a network not shared). */
	n = peers_matching(&d->fw, pos);
	command_reply(call, json_pack("{s:o,s:o}", "rule", rule_json(&r, pos + 1), "peers",
				      n < 0 ? json_null() : json_integer(n)));
}

static void command_firewall_del(struct mantad *d, struct command_call *call, json_t *args)
{
	size_t index = (size_t)json_integer_value(json_object_get(args, "index"));
	char text[FW_RULE_TEXT_MAX], what[FW_RULE_TEXT_MAX + 48];
	struct fw_policy next;

	if (index < 1 || index > d->fw.policy.nrules) {
		command_fail(call,
			     "there is no rule %zu: the list has %zu (see `manta firewall list')",
			     index, d->fw.policy.nrules);
		return;
	}
	if (!edit_copy(d, call, &next))
		return;
	fw_rule_format(&next.rules[index - 1], text, sizeof(text));
	snprintf(what, sizeof(what), "rule %zu deleted: %s", index, text);
	fw_policy_delete(&next, index - 1);
	finish(d, call, &next, what);
}

static void command_firewall_default(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *which = arg_string(args, "which"), *action = arg_string(args, "action");
	struct fw_policy next;
	enum fw_default w;
	struct fw_rule tmp;
	char what[64], err[128];

	if (!fw_default_parse(which, &w)) {
		command_fail(call, "`%.64s' is no default: in, out or static", which);
		return;
	}
	if (!fw_rule_parse_action(action, &tmp, err, sizeof(err))) {
		command_fail(call, "%s", err);
		return;
	}
	if (!edit_copy(d, call, &next))
		return;
	next.defaults[w] = tmp.action;
	snprintf(what, sizeof(what), "default %s: %s", which, action);
	finish(d, call, &next, what);
}

static void command_firewall_reject(struct mantad *d, struct command_call *call, json_t *args)
{
	bool on = json_is_true(json_object_get(args, "enabled"));
	struct fw_policy next;

	if (!edit_copy(d, call, &next))
		return;
	next.reject = on;
	finish(d, call, &next, on ? "reject mode on" : "reject mode off");
}

static void command_firewall_flows(struct mantad *d, struct command_call *call, json_t *args)
{
	struct fw_policy next;
	char what[64];

	if (!edit_copy(d, call, &next))
		return;
	next.max_flows = (uint32_t)json_integer_value(json_object_get(args, "max_flows"));
	snprintf(what, sizeof(what), "flow table: at most %u flows", next.max_flows);
	finish(d, call, &next, what);
}

/* --- tag ------------------------------------------------------------------- */

/* Splits "a b,c" into tags (pointers into buf); false if too many. */
static bool split_tags(char *buf, const char **tags, size_t cap, size_t *n)
{
	*n = 0;
	for (char *save = NULL, *t = strtok_r(buf, " ,\t", &save); t;
	     t = strtok_r(NULL, " ,\t", &save)) {
		if (*n == cap)
			return false;
		tags[(*n)++] = t;
	}
	return true;
}

static void command_tag(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *label = arg_string(args, "name"), *host = arg_string(args, "host");
	const char *tags[MEMBER_TAGS_MAX * 4];
	char buf[512], err[256];
	const struct member_record *m;
	struct member_record rec;
	struct network *n = membership_find(&d->mem, label);
	json_t *list;
	size_t ntags;

	if (!n) {
		command_fail(call, "no network named `%s' (see `manta networks')", label);
		return;
	}
	if (!n->owner) {
		command_fail(call, "only the owner of `%s' can set tags", n->label);
		return;
	}
	m = network_member_by_host(n, host);
	if (!m) {
		command_fail(call, "`%s' has no member `%s'", n->label, host);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", arg_string(args, "tags"));
	if (!split_tags(buf, tags, ARRAY_SIZE(tags), &ntags)) {
		command_fail(call, "a member has at most %d tags", MEMBER_TAGS_MAX);
		return;
	}
	if (network_set_tags(n, m->x25519_pk, tags, ntags, (uint64_t)time(NULL), &rec, err,
			     sizeof(err)) < 0) {
		command_fail(call, "%s", err);
		return;
	}
	if (membership_save(&d->mem, n) < 0) {
		command_fail(call, "cannot save `%s' (see the log)", n->label);
		return;
	}
	log_info("network", "%s: `%s' now has %u tags", n->label, rec.hostname, rec.ntags);
	gossip_flood_records(&d->mem, n, &rec, 1, NULL, GOSSIP_ALL);
	membership_sync_peers(&d->mem);
	list = json_array();
	for (size_t i = 0; i < rec.ntags; i++)
		json_array_append_new(list, json_string(rec.tags[i]));
	command_reply(call, json_pack("{s:s,s:s,s:o}", "name", n->label, "host", rec.hostname,
				      "tags", list));
}

#define OBJ(props, req) \
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "}" req "}"
#define STR(name) "\"" name "\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":255}"

const struct command filter_commands[] = {
	{ "firewall_list", "the firewall rules and defaults", OBJ("", ""), false,
	  command_firewall_list },
	{ "firewall_add", "add a firewall rule (at the end, or before rule `at')",
	  OBJ(STR("direction") "," STR("action") "," STR("proto") "," STR("ports") "," STR(
		      "peer") "," STR("network") ",\"at\":{\"type\":\"integer\",\"minimum\":1,"
						 "\"maximum\":10000}",
	      ",\"required\":[\"direction\",\"action\"]"),
	  true, command_firewall_add },
	{ "firewall_del", "delete firewall rule `index' (from 1)",
	  OBJ("\"index\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000}",
	      ",\"required\":[\"index\"]"),
	  true, command_firewall_del },
	{ "firewall_default", "set a default: which (in, out, static), action (allow, deny)",
	  OBJ(STR("which") "," STR("action"), ",\"required\":[\"which\",\"action\"]"), true,
	  command_firewall_default },
	{ "firewall_reject", "answer denied packets with a TCP RST or an ICMP unreachable",
	  OBJ("\"enabled\":{\"type\":\"boolean\"}", ",\"required\":[\"enabled\"]"), true,
	  command_firewall_reject },
	{ "firewall_flows", "the most flows connection tracking keeps",
	  OBJ("\"max_flows\":{\"type\":\"integer\",\"minimum\":16,\"maximum\":4194304}",
	      ",\"required\":[\"max_flows\"]"),
	  true, command_firewall_flows },
	{ "tag", "set a member's tags in a network this node owns (none clears them)",
	  OBJ(STR("name") "," STR("host") ",\"tags\":{\"type\":\"string\",\"maxLength\":511}",
	      ",\"required\":[\"name\",\"host\",\"tags\"]"),
	  true, command_tag },
};
const size_t filter_commands_count = ARRAY_SIZE(filter_commands);
