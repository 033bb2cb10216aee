/*
 * One firewall rule as a user writes it: direction, action, protocol,
 * destination ports, peer and network. Rules keep names (a hostname, a tag,
 * a network label), not addresses, so that a rule follows the member lists:
 * ruleset.c resolves them each time the rules or the members change.
 *
 *   in|out allow|deny [-p tcp|udp|icmp|any] [-P 22|8000-8100|80,443]
 *                     [--peer any|HOST[.NET]|KEY|tag:T] [--network NET]
 *
 * Ports are the packet's destination port: the service's port for the
 * packet that opens a flow in either direction. With ports, `any' means
 * TCP or UDP; ICMP has no ports. `--peer HOST.NET' is `--peer HOST
 * --network NET'. The parsers return false and say what is wrong with the
 * offending part quoted, e.g. "port range `9000-8000' runs backwards".
 */
#ifndef MANTA_FIREWALL_RULE_H
#define MANTA_FIREWALL_RULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/member.h"

#define FW_NAME_MAX HOSTNAME_MAX /* a hostname or a network label */
#define FW_PORT_RANGES_MAX 16
/* The longest rule in its text form (fw_rule_format), with the NUL. */
#define FW_RULE_TEXT_MAX 512

enum fw_dir { FW_IN = 0, FW_OUT = 1 };
enum fw_action { FW_ALLOW = 0, FW_DENY = 1 };
enum fw_proto { FW_PROTO_ANY = 0, FW_PROTO_TCP, FW_PROTO_UDP, FW_PROTO_ICMP };
enum fw_peer_kind { FW_PEER_ANY = 0, FW_PEER_HOST, FW_PEER_KEY, FW_PEER_TAG };

struct fw_port_range {
	uint16_t lo, hi;
};

struct fw_rule {
	uint8_t dir; /* enum fw_dir */
	uint8_t action; /* enum fw_action */
	uint8_t proto; /* enum fw_proto */
	uint8_t peer_kind; /* enum fw_peer_kind */
	uint8_t nports; /* 0: every port */
	struct fw_port_range ports[FW_PORT_RANGES_MAX]; /* ascending, not overlapping */
	char name[FW_NAME_MAX + 1]; /* FW_PEER_HOST: hostname; FW_PEER_TAG: tag */
	uint8_t key[32]; /* FW_PEER_KEY */
	char network[FW_NAME_MAX + 1]; /* "" = every network */
};

/* A rule that allows everything inbound (the caller changes fields). */
void fw_rule_init(struct fw_rule *r, enum fw_dir dir, enum fw_action action);

/* Field parsers: each fills its part of r. */
bool fw_rule_parse_dir(const char *s, struct fw_rule *r, char *err, size_t errlen);
bool fw_rule_parse_action(const char *s, struct fw_rule *r, char *err, size_t errlen);
bool fw_rule_parse_proto(const char *s, struct fw_rule *r, char *err, size_t errlen);
/* "22", "8000-8100", "80,443,8000-8100", "any": merged and sorted. */
bool fw_rule_parse_ports(const char *s, struct fw_rule *r, char *err, size_t errlen);
/* "any", "HOST", "HOST.NET" (sets network), a base64 key, "tag:T". */
bool fw_rule_parse_peer(const char *s, struct fw_rule *r, char *err, size_t errlen);
bool fw_rule_parse_network(const char *s, struct fw_rule *r, char *err, size_t errlen);
/* The checks across fields (ports need TCP or UDP, HOST.NET against
 * --network); run after the fields are set. */
bool fw_rule_check(const struct fw_rule *r, char *err, size_t errlen);

/* The CLI form as words, "in allow -p tcp -P 22 --peer bob": every field
 * parser and fw_rule_check. */
bool fw_rule_parse_words(int argc, char *const *argv, struct fw_rule *r, char *err, size_t errlen);
/* The canonical text form, which fw_rule_parse_words reads back to the
 * same rule: "in allow -p tcp -P 22,80 --peer bob --network home". */
void fw_rule_format(const struct fw_rule *r, char *out, size_t cap);
/* Ports as text: "22,8000-8100", or "any". */
void fw_rule_format_ports(const struct fw_rule *r, char *out, size_t cap);
/* Peer as text: "any", "bob", "tag:web" or the base64 key. */
void fw_rule_format_peer(const struct fw_rule *r, char *out, size_t cap);

/* JSON: {"direction","action","proto","ports","peer","network"}, absent
 * fields at their defaults. from_json names the field that is wrong. */
json_t *fw_rule_to_json(const struct fw_rule *r);
bool fw_rule_from_json(json_t *o, struct fw_rule *r, char *err, size_t errlen);

bool fw_rule_equal(const struct fw_rule *a, const struct fw_rule *b);

#endif
