/*
 * manta, the command-line client. Dispatch follows wireguard-tools' wg.c: a
 * table of {name, function, usage, description} in main.c, help generated
 * from it, one file per group of subcommands (cmd_*.c). Exit codes: 0 ok, 1
 * the operation failed, 2 usage. Human output by default; --json prints one
 * JSON value on stdout for scripts (progress and errors go to stderr).
 */
#ifndef MANTA_CLI_CLI_H
#define MANTA_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_DEFAULT_SOCKET "/run/manta/manta.sock"
/* A DNS label: what a hostname or a network name may be at most. */
#define CLI_LABEL_MAX 63

struct cli {
	const char *prog;
	const char *socket_path;
	bool json;
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv); /* argv[0] is the subcommand */
	const char *args; /* usage text after the name */
	const char *description; /* one line, for `manta --help' */
	const char *options; /* option lines for `manta NAME --help', or NULL */
};

/* Print the usage of the subcommand name to stderr; returns 2. */
int cli_usage(const struct cli *cli, const char *name);
/* "manta NAME: message" and the usage, on stderr; returns 2. */
__attribute__((format(printf, 3, 4))) int cli_usage_error(const struct cli *cli, const char *name,
							  const char *fmt, ...);
/* Parse the options of a subcommand with getopt_long (permuting, so options
 * may follow arguments). Returns the option character, -1 at the end, or
 * '?' after printing what is wrong and the usage (the caller returns 2). */
int cli_getopt(const struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* One request over the control socket: {"command": cmd, "args": args}.
 * Progress lines are printed as they arrive (stdout, or stderr under
 * --json). On success *result holds the reply's "result" (caller decrefs)
 * and 0 returns; on failure a message has been printed and 1 returns.
 * Steals args (NULL = {}). */
int cli_call(const struct cli *cli, const char *cmd, json_t *args, json_t **result);
/* A connected stream socket to mantad, or -1 after printing why. */
int cli_connect(const struct cli *cli);

/* Output helpers (output.c). */
/* The value as indented JSON on stdout; 0, or 1 if it cannot be written. */
int cli_print_json(const struct cli *cli, const char *cmd, json_t *v);
/* o[key] if it is a string, else fallback. */
const char *cli_str(json_t *o, const char *key, const char *fallback);
/* "512 B", "1.20 MiB". */
void cli_format_bytes(uint64_t n, char *out, size_t cap);
/* Unix time t (JSON integer, or null for never) relative to now: "12s ago",
 * "5m ago", "3h ago", "2d ago", "never". */
void cli_format_ago(json_t *t, time_t now, char *out, size_t cap);
/* "30m", "24h", "7d", "2w", "90s", "3600" (seconds), "never" or "0" (0);
 * false if s is none of these or too large. */
bool cli_parse_duration(const char *s, long long *seconds);
/* A decimal integer in [min, max]. */
bool cli_parse_int(const char *s, long long min, long long max, long long *out);
/* This machine's name as a DNS label: gethostname() up to its first dot,
 * lower case, other characters turned into `-', at most 63 characters;
 * "node" if nothing is left. */
void cli_default_hostname(char out[CLI_LABEL_MAX + 1]);

/* A QR code of text as UTF-8 half blocks on f (qr.c); 0 or 1. */
int cli_print_qr(FILE *f, const char *text, bool colour);

/* Subcommands. */
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_peers(struct cli *cli, int argc, char **argv);
int cmd_networks(struct cli *cli, int argc, char **argv);
int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_invite(struct cli *cli, int argc, char **argv);
int cmd_join(struct cli *cli, int argc, char **argv);
int cmd_leave(struct cli *cli, int argc, char **argv);
int cmd_kick(struct cli *cli, int argc, char **argv);
int cmd_hostname(struct cli *cli, int argc, char **argv);
int cmd_whois(struct cli *cli, int argc, char **argv);
int cmd_ping(struct cli *cli, int argc, char **argv);
int cmd_probe(struct cli *cli, int argc, char **argv);
extern const char cmd_probe_options[]; /* cmd_probe.c */
int cmd_up(struct cli *cli, int argc, char **argv);
int cmd_down(struct cli *cli, int argc, char **argv);
int cmd_genkey(struct cli *cli, int argc, char **argv);
int cmd_pubkey(struct cli *cli, int argc, char **argv);
int cmd_addresses(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);
int cmd_mcp(struct cli *cli, int argc, char **argv);
int cmd_firewall(struct cli *cli, int argc, char **argv);
int cmd_tag(struct cli *cli, int argc, char **argv);
extern const char cmd_firewall_options[]; /* cmd_firewall.c */
void cli_print_firewall_status(json_t *firewall); /* status.firewall, for `manta status' */
int cmd_service(struct cli *cli, int argc, char **argv);
int cmd_dns(struct cli *cli, int argc, char **argv);
extern const char cmd_dns_options[]; /* cmd_dns.c */
int cmd_uplink(struct cli *cli, int argc, char **argv);
extern const char cmd_uplink_options[]; /* cmd_uplink.c */

/* Shared by status and peers (cmd_status.c). */
void cli_print_peer(json_t *peer, time_t now);

#endif
