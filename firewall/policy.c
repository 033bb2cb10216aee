/*
 * The firewall policy and its state file:
 *
 *   {"version": 1,
 *    "default": {"in": "deny", "out": "allow", "static": "allow"},
 *    "reject": false,
 *    "max_flows": 65536,
 *    "rules": [{"direction": "in", "action": "allow", "proto": "icmp",
 *               "ports": "any", "peer": "any"}, ...]}
 *
 * Loading is strict: an unknown field, a bad value or a bad rule refuses
 * the whole file with its path and the place quoted, because a firewall
 * that silently ignores part of its rules is worse than one that says so.
 */
#include "firewall/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"

#define POLICY_VERSION 1

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

static const char *const default_names[] = { "in", "out", "static" };

const char *fw_action_name(uint8_t action)
{
	return action == FW_ALLOW ? "allow" : "deny";
}

bool fw_default_parse(const char *s, enum fw_default *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(default_names); i++) {
		if (strcmp(s, default_names[i]) == 0) {
			*out = (enum fw_default)i;
			return true;
		}
	}
	return false;
}

static void set_defaults(struct fw_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->defaults[FW_DEFAULT_IN] = FW_DENY;
	p->defaults[FW_DEFAULT_OUT] = FW_ALLOW;
	p->defaults[FW_DEFAULT_STATIC] = FW_ALLOW;
	p->max_flows = FW_FLOWS_DEFAULT;
}

int fw_policy_init(struct fw_policy *p)
{
	struct fw_rule ping;

	set_defaults(p);
	fw_rule_init(&ping, FW_IN, FW_ALLOW);
	ping.proto = FW_PROTO_ICMP;
	return fw_policy_insert(p, 0, &ping);
}

void fw_policy_free(struct fw_policy *p)
{
	if (!p)
		return;
	free(p->rules);
	p->rules = NULL;
	p->nrules = p->cap = 0;
}

int fw_policy_copy(struct fw_policy *dst, const struct fw_policy *src)
{
	*dst = *src;
	dst->rules = NULL;
	dst->cap = dst->nrules = 0;
	if (!src->nrules)
		return 0;
	dst->rules = malloc(src->nrules * sizeof(*dst->rules));
	if (!dst->rules)
		return -ENOMEM;
	memcpy(dst->rules, src->rules, src->nrules * sizeof(*dst->rules));
	dst->nrules = dst->cap = src->nrules;
	return 0;
}

int fw_policy_insert(struct fw_policy *p, size_t at, const struct fw_rule *r)
{
	if (p->nrules >= FW_RULES_MAX)
		return -ENOSPC;
	if (at > p->nrules)
		at = p->nrules;
	if (p->nrules == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		struct fw_rule *n = realloc(p->rules, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->rules = n;
		p->cap = ncap;
	}
	memmove(&p->rules[at + 1], &p->rules[at], (p->nrules - at) * sizeof(*r));
	p->rules[at] = *r;
	p->nrules++;
	return 0;
}

void fw_policy_delete(struct fw_policy *p, size_t at)
{
	if (at >= p->nrules)
		return;
	memmove(&p->rules[at], &p->rules[at + 1], (p->nrules - at - 1) * sizeof(*p->rules));
	p->nrules--;
}

/* --- JSON ------------------------------------------------------------------ */

static bool parse_defaults(json_t *o, struct fw_policy *p, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	enum fw_default which;

	if (!json_is_object(o))
		return say(err, errlen, "`default' must be an object");
	json_object_foreach(o, key, v)
	{
		const char *s = json_string_value(v);

		if (!fw_default_parse(key, &which))
			return say(err, errlen, "default: unknown field `%.64s' (in, out, static)",
				   key);
		if (!s || (strcmp(s, "allow") && strcmp(s, "deny")))
			return say(err, errlen, "default.%s must be \"allow\" or \"deny\"", key);
		p->defaults[which] = strcmp(s, "allow") == 0 ? FW_ALLOW : FW_DENY;
	}
	return true;
}

static bool parse_rules(json_t *a, struct fw_policy *p, char *err, size_t errlen)
{
	char why[256];
	struct fw_rule r;
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return say(err, errlen, "`rules' must be an array");
	if (json_array_size(a) > FW_RULES_MAX)
		return say(err, errlen, "more than %d rules", FW_RULES_MAX);
	json_array_foreach(a, i, v)
	{
		if (!fw_rule_from_json(v, &r, why, sizeof(why)))
			return say(err, errlen, "rules[%zu]: %s", i, why);
		if (fw_policy_insert(p, p->nrules, &r) < 0)
			return say(err, errlen, "out of memory");
	}
	return true;
}

static bool parse_top(json_t *j, struct fw_policy *p, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(j))
		return say(err, errlen, "not a JSON object");
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "version") && strcmp(key, "default") && strcmp(key, "reject") &&
		    strcmp(key, "max_flows") && strcmp(key, "rules"))
			return say(err, errlen, "unknown field `%.64s'", key);
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != POLICY_VERSION)
		return say(err, errlen, "`version' must be %d", POLICY_VERSION);
	v = json_object_get(j, "default");
	if (v && !parse_defaults(v, p, err, errlen))
		return false;
	v = json_object_get(j, "reject");
	if (v && !json_is_boolean(v))
		return say(err, errlen, "`reject' must be true or false");
	p->reject = json_is_true(v);
	v = json_object_get(j, "max_flows");
	if (v && (!json_is_integer(v) || json_integer_value(v) < FW_FLOWS_MIN ||
		  json_integer_value(v) > FW_FLOWS_MAX))
		return say(err, errlen, "`max_flows' must be an integer from %d to %u",
			   FW_FLOWS_MIN, FW_FLOWS_MAX);
	if (v)
		p->max_flows = (uint32_t)json_integer_value(v);
	v = json_object_get(j, "rules");
	if (!v)
		return say(err, errlen, "missing `rules'");
	return parse_rules(v, p, err, errlen);
}

bool fw_policy_from_json(const char *text, size_t len, struct fw_policy *p, char *err,
			 size_t errlen)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	bool ok;

	set_defaults(p);
	if (!j)
		return say(err, errlen, "not JSON: %s (line %d)", jerr.text, jerr.line);
	ok = parse_top(j, p, err, errlen);
	json_decref(j);
	if (!ok)
		fw_policy_free(p);
	return ok;
}

char *fw_policy_to_json(const struct fw_policy *p)
{
	json_t *rules = json_array(), *j;
	char *text = NULL;

	if (!rules)
		return NULL;
	for (size_t i = 0; i < p->nrules; i++) {
		if (json_array_append_new(rules, fw_rule_to_json(&p->rules[i])) < 0) {
			json_decref(rules);
			return NULL;
		}
	}
	j = json_pack("{s:i,s:{s:s,s:s,s:s},s:b,s:I,s:o}", "version", POLICY_VERSION, "default",
		      "in", fw_action_name(p->defaults[FW_DEFAULT_IN]), "out",
		      fw_action_name(p->defaults[FW_DEFAULT_OUT]), "static",
		      fw_action_name(p->defaults[FW_DEFAULT_STATIC]), "reject", p->reject,
		      "max_flows", (json_int_t)p->max_flows, "rules", rules);
	if (j)
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return text;
}

/* The whole file, NUL-terminated, at most FW_POLICY_FILE_MAX bytes. */
static int slurp(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0) {
		int e = -errno;

		if (e != -ENOENT)
			say(err, errlen, "%s: cannot open: %s", path, strerror(-e));
		return e;
	}
	if (fstat(fd, &st) != 0 || st.st_size > FW_POLICY_FILE_MAX) {
		close(fd);
		say(err, errlen, "%s: larger than %u bytes", path, FW_POLICY_FILE_MAX);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		say(err, errlen, "%s: short read", path);
		return -EIO;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

int fw_policy_load(const char *path, struct fw_policy *p, char *err, size_t errlen)
{
	char why[512], *text = NULL;
	struct fw_policy next;
	size_t len = 0;
	int r = slurp(path, &text, &len, err, errlen);

	if (r < 0)
		return r;
	if (!fw_policy_from_json(text, len, &next, why, sizeof(why))) {
		free(text);
		say(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	free(text);
	fw_policy_free(p);
	*p = next;
	return 0;
}

int fw_policy_save(const char *path, const struct fw_policy *p, char *err, size_t errlen)
{
	char *text = fw_policy_to_json(p);
	int r;

	if (!text) {
		say(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	r = atomic_write_file(path, text, strlen(text), 0600);
	free(text);
	if (r < 0)
		say(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}
