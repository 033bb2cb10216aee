/*
 * manta firewall add|list|del|default|reject|flows, and manta tag. The
 * CLI checks the shape of the command (which words, which options); the
 * daemon checks every value and says what is wrong with it, so the rules
 * mean the same whichever transport sent them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

__attribute__((format(printf, 2, 3))) static int sub_usage(const struct cli *cli, const char *fmt,
							   ...)
{
	va_list ap;

	fprintf(stderr, "%s firewall: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	return cli_usage(cli, "firewall");
}

static int print_or_json(const struct cli *cli, json_t *res, void (*human)(json_t *res))
{
	int r = CLI_EXIT_OK;

	if (cli->json)
		r = cli_print_json(cli, "firewall", res);
	else
		human(res);
	json_decref(res);
	return r;
}

/* --- list ------------------------------------------------------------------ */

static const char *field(json_t *o, const char *key)
{
	return cli_str(o, key, "any");
}

static void print_rules(json_t *res)
{
	json_t *rules = json_object_get(res, "rules"), *def = json_object_get(res, "default"), *r;
	size_t i;

	printf("default: inbound %s (from static peers: %s), outbound %s; reject %s\n",
	       cli_str(def, "in", "?"), cli_str(def, "static", "?"), cli_str(def, "out", "?"),
	       json_is_true(json_object_get(res, "reject")) ? "on" : "off");
	printf("flows: %lld of at most %lld\n",
	       (long long)json_integer_value(json_object_get(res, "flows")),
	       (long long)json_integer_value(json_object_get(res, "max_flows")));
	if (json_is_string(json_object_get(res, "error")))
		printf("warning: %s\n", cli_str(res, "error", ""));
	if (json_array_size(rules) == 0) {
		printf("no rules\n");
		return;
	}
	printf("%4s  %-3s  %-6s  %-5s  %-16s  %-24s  %s\n", "#", "dir", "action", "proto", "ports",
	       "peer", "network");
	json_array_foreach(rules, i, r)
	{
		printf("%4lld  %-3s  %-6s  %-5s  %-16s  %-24s  %s\n",
		       (long long)json_integer_value(json_object_get(r, "index")),
		       field(r, "direction"), field(r, "action"), field(r, "proto"),
		       field(r, "ports"), field(r, "peer"), field(r, "network"));
	}
}

static int firewall_list(struct cli *cli, int argc, char **argv)
{
	json_t *res;
	int r;

	if (argc != 1)
		return sub_usage(cli, "`list' takes no arguments");
	r = cli_call(cli, "firewall_list", NULL, &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_rules);
}

/* --- add ------------------------------------------------------------------- */

static const struct {
	const char *opt, *alias, *key;
} add_opts[] = {
	{ "-p", "--proto", "proto" },	  { "-P", "--port", "ports" },
	{ "--ports", NULL, "ports" },	  { "--peer", NULL, "peer" },
	{ "--network", NULL, "network" },
};

static void print_added(json_t *res)
{
	json_t *rule = json_object_get(res, "rule"), *peers = json_object_get(res, "peers");

	printf("rule %lld: %s\n", (long long)json_integer_value(json_object_get(rule, "index")),
	       cli_str(rule, "text", "?"));
	if (json_is_integer(peers) && json_integer_value(peers) == 0)
		printf("note: no current peer matches it (yet)\n");
}

/* One option of `add' at argv[*i] into args; CLI_EXIT_OK or a usage error. */
static int add_option(struct cli *cli, int argc, char **argv, int *i, json_t *args)
{
	const char *o = argv[*i];
	long long at;

	if (*i + 1 >= argc)
		return sub_usage(cli, "option `%s' needs a value", o);
	if (strcmp(o, "--at") == 0) {
		if (!cli_parse_int(argv[*i + 1], 1, 10000, &at))
			return sub_usage(cli, "--at takes a rule number from 1, not `%s'",
					 argv[*i + 1]);
		json_object_set_new(args, "at", json_integer(at));
		(*i)++;
		return CLI_EXIT_OK;
	}
	for (size_t k = 0; k < sizeof(add_opts) / sizeof(add_opts[0]); k++) {
		if (strcmp(o, add_opts[k].opt) == 0 ||
		    (add_opts[k].alias && strcmp(o, add_opts[k].alias) == 0)) {
			json_object_set_new(args, add_opts[k].key, json_string(argv[++*i]));
			return CLI_EXIT_OK;
		}
	}
	return sub_usage(cli, "unknown option `%s'", o);
}

static int firewall_add(struct cli *cli, int argc, char **argv)
{
	json_t *args = json_object(), *res;
	int npos = 0, r;

	if (!args)
		return CLI_EXIT_FAIL;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			r = add_option(cli, argc, argv, &i, args);
		} else if (npos < 2) {
			json_object_set_new(args, npos++ ? "action" : "direction",
					    json_string(argv[i]));
			r = CLI_EXIT_OK;
		} else {
			r = sub_usage(cli, "unexpected `%s'", argv[i]);
		}
		if (r != CLI_EXIT_OK) {
			json_decref(args);
			return r;
		}
	}
	if (npos < 2) {
		json_decref(args);
		return sub_usage(cli,
				 "`add' needs a direction (in|out) and an action (allow|deny)");
	}
	r = cli_call(cli, "firewall_add", args, &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_added);
}

/* --- del, default, reject, flows ------------------------------------------- */

static void print_done(json_t *res)
{
	print_rules(res);
}

static int firewall_del(struct cli *cli, int argc, char **argv)
{
	long long n;
	json_t *res;
	int r;

	if (argc != 2 || !cli_parse_int(argv[1], 1, 10000, &n))
		return sub_usage(cli, "`del' takes one rule number (see `firewall list')");
	r = cli_call(cli, "firewall_del", json_pack("{s:I}", "index", (json_int_t)n), &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_done);
}

static int firewall_default(struct cli *cli, int argc, char **argv)
{
	json_t *res;
	int r;

	if (argc != 3)
		return sub_usage(cli, "`default' takes in|out|static and allow|deny");
	r = cli_call(cli, "firewall_default",
		     json_pack("{s:s,s:s}", "which", argv[1], "action", argv[2]), &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_done);
}

static int firewall_reject(struct cli *cli, int argc, char **argv)
{
	json_t *res;
	int r;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return sub_usage(cli, "`reject' takes on or off");
	r = cli_call(cli, "firewall_reject",
		     json_pack("{s:b}", "enabled", strcmp(argv[1], "on") == 0), &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_done);
}

static int firewall_flows(struct cli *cli, int argc, char **argv)
{
	long long n;
	json_t *res;
	int r;

	if (argc != 2 || !cli_parse_int(argv[1], 16, 4194304, &n))
		return sub_usage(cli, "`flows' takes the most flows to track, 16 to 4194304");
	r = cli_call(cli, "firewall_flows", json_pack("{s:I}", "max_flows", (json_int_t)n), &res);
	if (r != CLI_EXIT_OK)
		return r;
	return print_or_json(cli, res, print_done);
}

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} subcommands[] = {
	{ "list", firewall_list },	 { "add", firewall_add },	{ "del", firewall_del },
	{ "default", firewall_default }, { "reject", firewall_reject }, { "flows", firewall_flows },
};

int cmd_firewall(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(cli, argv[0]);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(cli, argc - 1, argv + 1);
	return sub_usage(cli, "unknown subcommand `%s'", argv[1]);
}

/* --- tag ------------------------------------------------------------------- */

int cmd_tag(struct cli *cli, int argc, char **argv)
{
	char tags[512] = "";
	size_t off = 0;
	json_t *res, *list, *t;
	size_t i;
	int r;

	if (argc < 3)
		return cli_usage(cli, argv[0]);
	for (int k = 3; k < argc; k++) {
		int n = snprintf(tags + off, sizeof(tags) - off, "%s%s", off ? " " : "", argv[k]);

		if (n < 0 || (size_t)n >= sizeof(tags) - off)
			return cli_usage_error(cli, argv[0], "too many tags");
		off += (size_t)n;
	}
	r = cli_call(cli, "tag",
		     json_pack("{s:s,s:s,s:s}", "name", argv[1], "host", argv[2], "tags", tags),
		     &res);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
		json_decref(res);
		return r;
	}
	list = json_object_get(res, "tags");
	if (json_array_size(list) == 0)
		printf("%s has no tags on %s\n", cli_str(res, "host", argv[2]),
		       cli_str(res, "name", argv[1]));
	else
		printf("%s on %s has tags:", cli_str(res, "host", argv[2]),
		       cli_str(res, "name", argv[1]));
	json_array_foreach(list, i, t) printf(" %s", json_string_value(t));
	if (json_array_size(list))
		printf("\n");
	json_decref(res);
	return CLI_EXIT_OK;
}

const char cmd_firewall_options[] =
	"  list                       the rules, in order, and the defaults\n"
	"  add in|out allow|deny [-p tcp|udp|icmp|any] [-P 22|8000-8100|80,443]\n"
	"      [--peer any|HOST[.NET]|KEY|tag:TAG] [--network NET] [--at N]\n"
	"                             a rule, at the end or before rule N; the first\n"
	"                             rule that matches a packet decides; -P is the\n"
	"                             destination port (tcp and udp)\n"
	"  del N                      delete rule N\n"
	"  default in|out|static allow|deny\n"
	"                             what happens when no rule matches: inbound from\n"
	"                             members, outbound, inbound from [peer] sections\n"
	"                             (defaults: deny, allow, allow); return traffic\n"
	"                             of allowed flows passes a default deny\n"
	"  reject on|off              answer denied packets with a TCP reset or an\n"
	"                             ICMP unreachable instead of dropping them\n"
	"  flows N                    the most flows to track (default 65536)\n";

/* `manta status': the firewall's lines (from status.firewall). */
void cli_print_firewall_status(json_t *fw)
{
	json_t *def = json_object_get(fw, "default"), *drop = json_object_get(fw, "dropped");

	if (!json_is_object(fw))
		return;
#define I(o, k) ((long long)json_integer_value(json_object_get(o, k)))
	printf("  firewall: %lld rules; inbound %s (static peers %s), outbound %s; reject %s\n",
	       I(fw, "rules"), cli_str(def, "in", "?"), cli_str(def, "static", "?"),
	       cli_str(def, "out", "?"),
	       json_is_true(json_object_get(fw, "reject")) ? "on" : "off");
	printf("  firewall flows: %lld of at most %lld\n", I(fw, "flows"), I(fw, "max_flows"));
	printf("  firewall dropped: inbound %lld by rule, %lld by default; outbound %lld by rule, "
	       "%lld by default; %lld not for this node, %lld malformed\n",
	       I(drop, "in_rule"), I(drop, "in_default"), I(drop, "out_rule"),
	       I(drop, "out_default"), I(drop, "not_local"), I(drop, "invalid"));
#undef I
	if (json_is_string(json_object_get(fw, "error")))
		printf("  firewall warning: %s\n", cli_str(fw, "error", ""));
}
