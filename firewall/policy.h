/*
 * The firewall as configured: the rule list (first match wins), the
 * default actions, reject mode and the flow table's size. It lives in
 * STATE_DIR/firewall.json (docs/protocol.md, "Firewall rules file"),
 * written atomically with mode 0600; without the file the defaults apply:
 *
 *   inbound from network members: deny, except rule 1, `in allow -p icmp'
 *     (an ordinary rule: `manta firewall del 1' removes it)
 *   inbound from static [peer]s: allow (they are trusted as wg-quick
 *     trusts them; `manta firewall default static deny' changes that)
 *   outbound: allow
 *
 * Owner: whoever holds the struct (the daemon keeps one, edits copies).
 */
#ifndef MANTA_FIREWALL_POLICY_H
#define MANTA_FIREWALL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "firewall/rule.h"

#define FW_RULES_MAX 10000
#define FW_FLOWS_DEFAULT 65536
#define FW_FLOWS_MIN 16
#define FW_FLOWS_MAX (1u << 22)
#define FW_POLICY_FILE_MAX (8u << 20)

/* Which default a packet that no rule matched gets. */
enum fw_default { FW_DEFAULT_IN = 0, FW_DEFAULT_OUT = 1, FW_DEFAULT_STATIC = 2 };

struct fw_policy {
	uint8_t defaults[3]; /* enum fw_action, indexed by enum fw_default */
	bool reject; /* denied packets get a TCP RST or an ICMP unreachable */
	uint32_t max_flows;
	struct fw_rule *rules;
	size_t nrules, cap;
};

/* The defaults above (allocates the one rule). */
int fw_policy_init(struct fw_policy *p) WARN_UNUSED;
void fw_policy_free(struct fw_policy *p);
int fw_policy_copy(struct fw_policy *dst, const struct fw_policy *src) WARN_UNUSED;
/* Insert before rule index `at' (0-based; nrules appends); -ENOSPC over
 * FW_RULES_MAX. */
int fw_policy_insert(struct fw_policy *p, size_t at, const struct fw_rule *r) WARN_UNUSED;
void fw_policy_delete(struct fw_policy *p, size_t at);

/* The file's text. from_json says which part is wrong ("rules[3]: ports:
 * port range `9000-8000' runs backwards"). */
bool fw_policy_from_json(const char *text, size_t len, struct fw_policy *p, char *err,
			 size_t errlen);
char *fw_policy_to_json(const struct fw_policy *p); /* malloc'd, NULL if out of memory */
/* -ENOENT when the file does not exist (p untouched), another negative
 * errno with err naming the path and the problem. */
int fw_policy_load(const char *path, struct fw_policy *p, char *err, size_t errlen) WARN_UNUSED;
int fw_policy_save(const char *path, const struct fw_policy *p, char *err,
		   size_t errlen) WARN_UNUSED;

const char *fw_action_name(uint8_t action);
/* "in", "out", "static" → enum fw_default; false if none. */
bool fw_default_parse(const char *s, enum fw_default *out);

#endif
