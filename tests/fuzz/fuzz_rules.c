/* libFuzzer harness for the firewall rule syntax: a rule as CLI words, or
 * a whole firewall.json. Whatever parses must read back to the same thing
 * through its text and JSON forms, and compile; whatever does not must
 * say why. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/policy.h"
#include "firewall/rule.h"
#include "firewall/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 64

static void check_rule(const struct fw_rule *r)
{
	char text[FW_RULE_TEXT_MAX], err[512], *words[MAX_WORDS], *save = NULL;
	struct fw_rule back;
	json_t *j;
	int n = 0;

	fw_rule_format(r, text, sizeof(text));
	for (char *w = strtok_r(text, " ", &save); w && n < MAX_WORDS;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (!fw_rule_parse_words(n, words, &back, err, sizeof(err)) || !fw_rule_equal(r, &back))
		abort(); /* the text form must read back */
	j = fw_rule_to_json(r);
	if (!j || !fw_rule_from_json(j, &back, err, sizeof(err)) || !fw_rule_equal(r, &back))
		abort(); /* and the JSON form */
	json_decref(j);
}

/* Compile against two peers, to run the compiler over what parsed. */
static void compile(const struct fw_policy *p)
{
	static const char *const tags[] = { "web" };
	struct fw_member_info m[2] = { { "home", "bob", tags, 1 }, { "work", "carol", NULL, 0 } };
	struct fw_identity ids[2] = { { .nets = &m[0], .nnets = 1 },
				      { .nets = &m[1], .nnets = 1, .is_static = true } };
	struct fw_local local = { { 2 }, { 100, 64, 0, 1 } };
	struct fw_ruleset *rs;

	ids[0].v6[0] = ids[1].v6[0] = 2;
	ids[1].v6[1] = 1;
	ids[1].v4[3] = 1;
	rs = fw_ruleset_compile(p, ids, 2, &local, 1);
	if (!rs)
		abort();
	fw_ruleset_free(rs);
}

static void policy(const char *text, size_t len)
{
	struct fw_policy p, back;
	char err[512] = "", *out;

	if (!fw_policy_from_json(text, len, &p, err, sizeof(err))) {
		if (!err[0])
			abort();
		return;
	}
	for (size_t i = 0; i < p.nrules; i++)
		check_rule(&p.rules[i]);
	compile(&p);
	out = fw_policy_to_json(&p);
	if (!out || !fw_policy_from_json(out, strlen(out), &back, err, sizeof(err)))
		abort();
	if (back.nrules != p.nrules || back.reject != p.reject || back.max_flows != p.max_flows ||
	    memcmp(back.defaults, p.defaults, sizeof(p.defaults)) != 0)
		abort();
	for (size_t i = 0; i < p.nrules; i++)
		if (!fw_rule_equal(&p.rules[i], &back.rules[i]))
			abort();
	free(out);
	fw_policy_free(&back);
	fw_policy_free(&p);
}

static void words(char *text)
{
	char *w[MAX_WORDS], *save = NULL, err[512] = "";
	struct fw_policy p = { 0 };
	struct fw_rule r;
	int n = 0;

	for (char *t = strtok_r(text, " \t\n", &save); t && n < MAX_WORDS;
	     t = strtok_r(NULL, " \t\n", &save))
		w[n++] = t;
	if (!fw_rule_parse_words(n, w, &r, err, sizeof(err))) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return;
	}
	check_rule(&r);
	if (fw_policy_insert(&p, 0, &r) == 0)
		compile(&p);
	fw_policy_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (size && text[0] == '{')
		policy(text, size);
	else
		words(text);
	free(text);
	return 0;
}
