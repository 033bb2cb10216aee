/* Prometheus text from a status object: exact lines for a known status,
 * escaping, counters the renderer does not know, missing fields, and a
 * check of every line against the exposition format's grammar (names,
 * labels, one TYPE per family before its samples, counters in _total). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"

#define STATUS                                                                                      \
	"{\"public_key\":\"K+/=\",\"ipv6\":\"2fa::1\",\"ipv4\":\"100.64.0.1\",\"tun\":\"manta0\","  \
	"\"version\":\"1.2.3\",\"started_at\":1700000000,\"state\":\"up\","                         \
	"\"peers\":[{\"public_key\":\"P1\",\"hostname\":\"bob\",\"rx_bytes\":10,\"tx_bytes\":20,"   \
	"\"handshakes\":2,\"last_handshake\":1700000100,\"session\":true},"                         \
	"{\"public_key\":\"P2\",\"hostname\":null,\"rx_bytes\":0,\"tx_bytes\":0,"                   \
	"\"handshakes\":0,\"last_handshake\":null,\"session\":false}],"                             \
	"\"counters\":{\"rx_replay\":4,\"tx_no_route\":5,\"cookie_sent\":6,\"udp_rx_datagrams\":7," \
	"\"brand-new.counter\":8,\"not_a_number\":\"x\"},"                                          \
	"\"gossip\":{\"rx\":9,\"join_refused\":1},"                                                 \
	"\"networks\":[{\"name\":\"ho\\\"me\\\\\\n\",\"members\":3}],"                              \
	"\"dns\":{\"mode\":\"direct\",\"counters\":{\"udp_queries\":11,\"answered\":10}},"          \
	"\"firewall\":{\"rules\":2,\"flows\":1,\"flows_created\":5,\"rejected\":0,"                 \
	"\"dropped\":{\"in_rule\":3,\"in_default\":4},\"passed\":{\"return\":6}}}"

static char *render(const char *status_text, size_t *len)
{
	json_t *st = json_loads(status_text, 0, NULL);
	char *text;

	assert_non_null(st);
	text = metrics_render(st, len);
	json_decref(st);
	assert_non_null(text);
	assert_int_equal(strlen(text), *len);
	return text;
}

static void expect_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line `%s' in\n%s", line, text);
}

static void expect_no(const char *text, const char *part)
{
	if (strstr(text, part))
		fail_msg("`%s' should not be in\n%s", part, text);
}

/* The grammar, line by line. */
static void check_format(const char *text)
{
	regex_t help, type, sample;
	static char families[128][128];
	size_t nfam = 0, len = strlen(text);
	const char *p = text;

	assert_true(len > 0 && text[len - 1] == '\n');
	assert_int_equal(regcomp(&help, "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* [^\n]*$", REG_EXTENDED),
			 0);
	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$",
				 REG_EXTENDED),
			 0);
	assert_int_equal(
		regcomp(&sample,
			"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
			"\\\\[\"\\\\n])*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
			"\\\\[\"\\\\n])*\")*\\})? -?[0-9]+$",
			REG_EXTENDED),
		0);
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[1024];
		regmatch_t m[2];
		size_t n = (size_t)(nl - p);

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (regexec(&type, line, 2, m, 0) == 0) {
			char name[128];

			snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
			for (size_t i = 0; i < nfam; i++)
				if (strcmp(families[i], name) == 0)
					fail_msg("TYPE of %s twice", name);
			if (strstr(line, " counter") && !strstr(name, "_total"))
				fail_msg("counter %s without _total", name);
			strcpy(families[nfam++], name);
			continue;
		}
		if (regexec(&help, line, 0, NULL, 0) == 0)
			continue;
		if (regexec(&sample, line, 2, m, 0) != 0)
			fail_msg("not a metrics line: `%s'", line);
		/* A sample belongs to the last family declared. */
		if (nfam == 0 || strncmp(line, families[nfam - 1], strlen(families[nfam - 1])) != 0)
			fail_msg("`%s' is not of family %s", line, nfam ? families[nfam - 1] : "-");
	}
	regfree(&help);
	regfree(&type);
	regfree(&sample);
}

static void test_render(void **state)
{
	size_t len;
	char *text = render(STATUS, &len);

	check_format(text);
	assert_true(strncmp(text, "# HELP manta_info ", 18) == 0);
	expect_line(text, "manta_info{version=\"1.2.3\",public_key=\"K+/=\",ipv6=\"2fa::1\","
			  "ipv4=\"100.64.0.1\",tun=\"manta0\"} 1");
	expect_line(text, "manta_up 1");
	expect_line(text, "manta_start_time_seconds 1700000000");
	expect_line(text, "manta_peers 2");
	expect_line(text, "manta_peers_with_session 1");
	expect_line(text, "# TYPE manta_peer_rx_bytes_total counter");
	expect_line(text, "manta_peer_rx_bytes_total{public_key=\"P1\",hostname=\"bob\"} 10");
	expect_line(text, "manta_peer_rx_bytes_total{public_key=\"P2\",hostname=\"\"} 0");
	expect_line(text, "manta_peer_tx_bytes_total{public_key=\"P1\",hostname=\"bob\"} 20");
	expect_line(text, "manta_peer_handshakes_total{public_key=\"P1\",hostname=\"bob\"} 2");
	expect_line(
		text,
		"manta_peer_last_handshake_seconds{public_key=\"P1\",hostname=\"bob\"} 1700000100");
	expect_no(text, "manta_peer_last_handshake_seconds{public_key=\"P2\"");
	expect_line(text, "manta_peer_session{public_key=\"P1\",hostname=\"bob\"} 1");
	expect_line(text, "manta_peer_session{public_key=\"P2\",hostname=\"\"} 0");
	expect_line(text, "manta_packets_dropped_total{direction=\"rx\",reason=\"replay\"} 4");
	expect_line(text, "manta_packets_dropped_total{direction=\"tx\",reason=\"no_route\"} 5");
	expect_no(text, "reason=\"bad_mac1\""); /* not in this status */
	expect_line(text, "manta_cookie_replies_sent_total 6");
	expect_line(text, "manta_udp_rx_datagrams_total 7");
	/* One the renderer does not know: under its own (cleaned) name. */
	expect_line(text, "# TYPE manta_brand_new_counter_total counter");
	expect_line(text, "manta_brand_new_counter_total 8");
	expect_no(text, "not_a_number");
	expect_line(text, "manta_gossip_rx_total 9");
	expect_line(text, "manta_gossip_join_refused_total 1");
	expect_line(text, "manta_networks 1");
	expect_line(text, "manta_network_members{network=\"ho\\\"me\\\\\\n\"} 3");
	expect_line(text, "manta_dns_udp_queries_total 11");
	expect_line(text, "manta_dns_answered_total 10");
	expect_line(text, "manta_firewall_dropped_total{reason=\"in_rule\"} 3");
	expect_line(text, "manta_firewall_dropped_total{reason=\"in_default\"} 4");
	expect_line(text, "manta_firewall_passed_total{reason=\"return\"} 6");
	expect_line(text, "manta_firewall_rejected_total 0");
	expect_line(text, "manta_firewall_rules 2");
	expect_line(text, "manta_firewall_flows 1");
	expect_line(text, "manta_firewall_flows_created_total 5");
	expect_no(text, "manta_firewall_flows_max");
	free(text);
}

static void test_sparse(void **state)
{
	size_t len;
	char *text = render("{\"state\":\"down\"}", &len);

	check_format(text);
	expect_line(text, "manta_up 0");
	expect_line(text,
		    "manta_info{version=\"\",public_key=\"\",ipv6=\"\",ipv4=\"\",tun=\"\"} 1");
	expect_no(text, "manta_peers");
	expect_no(text, "manta_packets_dropped_total");
	expect_no(text, "manta_start_time_seconds");
	free(text);
	text = render("{}", &len);
	check_format(text);
	expect_line(text, "manta_up 1");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
