/* firewall/rule.c and firewall/policy.c: the rule syntax, what bad rules
 * are told (with the bad part quoted), the text and JSON forms read back
 * to the same rule, and the state file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firewall/policy.h"
#include "firewall/rule.h"

#define KEY "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M="

/* Splits a rule line into words (in place) and parses it. */
static bool parse_line(const char *line, struct fw_rule *r, char *err, size_t errlen)
{
	static char buf[512];
	char *words[32], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w && n < 32; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return fw_rule_parse_words(n, words, r, err, errlen);
}

/* 1. Good rules, and the canonical text each one prints as. */
static void test_good_rules(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		/* 0 */ { "in allow", "in allow -p any" },
		/* 1 */ { "out deny -p tcp", "out deny -p tcp" },
		/* 2 */ { "in allow -p tcp -P 22 --peer bob", "in allow -p tcp -P 22 --peer bob" },
		/* 3: merged and sorted */
		{ "in allow -p udp -P 443,80,81,82-90,1000-2000,1500",
		  "in allow -p udp -P 80-90,443,1000-2000" },
		/* 4: HOST.NET */
		{ "in allow --peer bob.home", "in allow -p any --peer bob --network home" },
		/* 5 */
		{ "in allow --peer bob.home --network home",
		  "in allow -p any --peer bob --network home" },
		/* 6 */ { "in deny --peer tag:servers -p icmp", "in deny -p icmp --peer tag:servers" },
		/* 7 */ { "in allow --peer " KEY, "in allow -p any --peer " KEY },
		/* 8: any as a value */
		{ "in allow --peer any --network any -P any", "in allow -p any" },
		/* 9: long options */
		{ "in allow --proto tcp --port 1-65535", "in allow -p tcp -P 1-65535" },
		/* 10 */ { "in allow -P 5,5,5", "in allow -p any -P 5" },
		/* 11: any.NET is every peer of NET (found by fuzzing) */
		{ "out deny -p icmp --peer any.work", "out deny -p icmp --network work" },
	};
	char err[256], text[FW_RULE_TEXT_MAX];
	struct fw_rule r, back;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		if (!parse_line(good[i].in, &r, err, sizeof(err)))
			fail_msg("good rule %zu `%s' refused: %s", i, good[i].in, err);
		fw_rule_format(&r, text, sizeof(text));
		if (strcmp(text, good[i].out) != 0)
			fail_msg("rule %zu prints as `%s', not `%s'", i, text, good[i].out);
		/* the text form reads back to the same rule */
		assert_true(parse_line(text, &back, err, sizeof(err)));
		assert_true(fw_rule_equal(&r, &back));
	}
}

/* 2. Bad rules: refused, and the message quotes the bad part. */
static void test_bad_rules(void **state)
{
	static const struct {
		const char *in, *says;
	} bad[] = {
		/* 0 */ { "", "in|out" },
		/* 1 */ { "sideways allow", "`sideways' is not a direction" },
		/* 2 */ { "in maybe", "`maybe' is not an action" },
		/* 3 */ { "in allow -p sctp", "`sctp' is not a protocol" },
		/* 4 */ { "in allow -P 0", "`0' is not a port" },
		/* 5 */ { "in allow -P 65536", "`65536' is not a port" },
		/* 6 */ { "in allow -P 9000-8000", "port range `9000-8000' runs backwards" },
		/* 7 */ { "in allow -P 22,,80", "empty port in the list `22,,80'" },
		/* 8 */ { "in allow -P 22,", "empty port in the list `22,'" },
		/* 9 */ { "in allow -P ssh", "`ssh' is not a port" },
		/* 10 */ { "in allow -P 1-2-3", "`1-2-3' is not a port range" },
		/* 11 */
		{ "in allow -P 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
		  "more than 16 ports or ranges" },
		/* 12 */ { "in allow --peer Bob!", "`Bob!' is not a peer" },
		/* 13 */ { "in allow --peer tag:", "`tag:' is not a tag" },
		/* 14 */ { "in allow --peer tag:Web", "`tag:Web' is not a tag" },
		/* 15 */ { "in allow --peer bob.Home", "`Home' is not a network name" },
		/* 16 */
		{ "in allow --peer bob.home --network work",
		  "network `work' (from --network) conflicts with network `home'" },
		/* 17 */ { "in allow --network -x", "`-x' is not a network name" },
		/* 18 */ { "in allow -p icmp -P 22", "ports apply to tcp and udp, not to icmp" },
		/* 19 */ { "in allow -p", "option `-p' needs a value" },
		/* 20 */ { "in allow --from bob", "unknown option `--from'" },
		/* 21 */ { "in allow -P 99999999999999999999", "is not a port" },
	};
	char err[256];
	struct fw_rule r;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (parse_line(bad[i].in, &r, err, sizeof(err)))
			fail_msg("bad rule %zu `%s' accepted", i, bad[i].in);
		if (!strstr(err, bad[i].says))
			fail_msg("bad rule %zu `%s' says `%s', not `%s'", i, bad[i].in, err,
				 bad[i].says);
	}
}

/* 3. JSON: each rule through to_json and from_json is the same; bad JSON
 * names the field. */
static void test_json(void **state)
{
	static const char *const lines[] = {
		"in allow -p tcp -P 22,80 --peer bob --network home",
		"out deny -p icmp --peer tag:web",
		("in allow --peer " KEY),
	};
	static const struct {
		const char *json, *says;
	} bad[] = {
		{ "[]", "a rule must be a JSON object" },
		{ "{\"action\":\"allow\"}", "missing `direction'" },
		{ "{\"direction\":\"in\",\"action\":\"allow\",\"colour\":\"red\"}",
		  "unknown field `colour'" },
		{ "{\"direction\":\"in\",\"action\":\"allow\",\"ports\":22}",
		  "`ports' must be a string" },
		{ "{\"direction\":\"in\",\"action\":\"allow\",\"ports\":\"22-1\"}",
		  "ports: port range `22-1' runs backwards" },
	};
	char err[256];
	struct fw_rule r, back;

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		json_t *j;

		assert_true(parse_line(lines[i], &r, err, sizeof(err)));
		j = fw_rule_to_json(&r);
		assert_non_null(j);
		if (!fw_rule_from_json(j, &back, err, sizeof(err)))
			fail_msg("rule %zu does not read back: %s", i, err);
		assert_true(fw_rule_equal(&r, &back));
		json_decref(j);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_t *j = json_loads(bad[i].json, 0, NULL);

		assert_non_null(j);
		assert_false(fw_rule_from_json(j, &r, err, sizeof(err)));
		if (!strstr(err, bad[i].says))
			fail_msg("JSON %zu says `%s', not `%s'", i, err, bad[i].says);
		json_decref(j);
	}
}

/* 4. The defaults: inbound deny with one removable ICMP rule, outbound
 * allow, static peers allow. */
static void test_defaults(void **state)
{
	struct fw_policy p;
	char text[FW_RULE_TEXT_MAX];

	assert_int_equal(fw_policy_init(&p), 0);
	assert_int_equal(p.defaults[FW_DEFAULT_IN], FW_DENY);
	assert_int_equal(p.defaults[FW_DEFAULT_OUT], FW_ALLOW);
	assert_int_equal(p.defaults[FW_DEFAULT_STATIC], FW_ALLOW);
	assert_false(p.reject);
	assert_int_equal(p.max_flows, 65536);
	assert_int_equal(p.nrules, 1);
	fw_rule_format(&p.rules[0], text, sizeof(text));
	assert_string_equal(text, "in allow -p icmp");
	fw_policy_delete(&p, 0);
	assert_int_equal(p.nrules, 0);
	fw_policy_free(&p);
}

/* 5. The state file: saved at 0600, loaded back equal; a missing file is
 * -ENOENT; a bad one names the path and the place. */
static void test_file(void **state)
{
	char dir[] = "/tmp/manta-test-fw.XXXXXX", path[128], err[512];
	struct fw_policy p, back;
	struct fw_rule r;
	struct stat st;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/firewall.json", dir);
	assert_int_equal(fw_policy_load(path, &back, err, sizeof(err)), -ENOENT);
	assert_int_equal(fw_policy_init(&p), 0);
	assert_true(parse_line("in allow -p tcp -P 22 --peer bob.home", &r, err, sizeof(err)));
	assert_int_equal(fw_policy_insert(&p, 0, &r), 0);
	p.reject = true;
	p.max_flows = 1000;
	p.defaults[FW_DEFAULT_STATIC] = FW_DENY;
	assert_int_equal(fw_policy_save(path, &p, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	memset(&back, 0, sizeof(back));
	assert_int_equal(fw_policy_load(path, &back, err, sizeof(err)), 0);
	assert_int_equal(back.nrules, 2);
	assert_true(fw_rule_equal(&back.rules[0], &r));
	assert_true(back.reject);
	assert_int_equal(back.max_flows, 1000);
	assert_int_equal(back.defaults[FW_DEFAULT_STATIC], FW_DENY);
	fw_policy_free(&back);

	f = fopen(path, "w");
	fputs("{\"version\":1,\"rules\":[{\"direction\":\"in\",\"action\":\"allow\"},"
	      "{\"direction\":\"in\",\"action\":\"allow\",\"peer\":\"Bad Name\"}]}",
	      f);
	fclose(f);
	assert_int_equal(fw_policy_load(path, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "rules[1]: peer: `Bad Name' is not a peer"));
	f = fopen(path, "w");
	fputs("{\"version\":1,\"max_flows\":3,\"rules\":[]}", f);
	fclose(f);
	assert_int_equal(fw_policy_load(path, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "max_flows"));
	f = fopen(path, "w");
	fputs("{\"version\":1,\"default\":{\"in\":\"maybe\"},\"rules\":[]}", f);
	fclose(f);
	assert_int_equal(fw_policy_load(path, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "default.in"));
	fw_policy_free(&p);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_rules), cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_json),	   cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
