/* [uplink.NAME] sections of the configuration: each type with its keys and
 * defaults, and every class of error with its exact "FILE:LINE: message". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config.h"

#define NAME "manta.conf"

static void expect_error(const char *text, const char *want)
{
	struct config c;
	char err[512];

	config_init(&c);
	if (config_parse_string(text, NAME, &c, err, sizeof(err)))
		fail_msg("accepted, expected `%s'", want);
	if (strcmp(err, want) != 0)
		fail_msg("got      `%s'\nexpected `%s'", err, want);
	assert_null(c.uplinks);
	assert_int_equal(c.nuplinks, 0);
	config_free(&c);
}

static void parse_ok(const char *text, struct config *c)
{
	char err[512];

	config_init(c);
	if (!config_parse_string(text, NAME, c, err, sizeof(err)))
		fail_msg("rejected: %s", err);
	if (c->warnings)
		fail_msg("warnings: %s", c->warnings);
}

static void assert_v6(const struct in6_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_v4(const struct in_addr *a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_he_full(void **state)
{
	struct config c;
	const struct uplink_config *u;

	parse_ok("[node]\ntun = manta0\n\n"
		 "[uplink.he]\n"
		 "type = he_6in4\n"
		 "interface = he-ipv6\n"
		 "autostart = false\n"
		 "health_targets = 2001:db8:1::1, 2001:db8::53\n"
		 "probe_interval = 0.5\n"
		 "mode = userspace\n"
		 "server_ipv4 = 192.0.2.1\n"
		 "local_ipv4 = 198.51.100.7\n"
		 "client_ipv6 = 2001:db8:1::2/64\n"
		 "routed_prefix = 2001:db8:2::/48\n"
		 "mtu = 1472\n"
		 "default_route = true\n"
		 "metric = 3000\n"
		 "he_username = alice\n"
		 "he_update_key = s3cr3t!\n"
		 "he_tunnel_id = 123456\n"
		 "he_update_url = http://127.0.0.1:8080/nic/update\n",
		 &c);
	assert_int_equal(c.nuplinks, 1);
	u = &c.uplinks[0];
	assert_string_equal(u->name, "he");
	assert_int_equal(u->type, UPLINK_HE_6IN4);
	assert_int_equal(u->line, 4);
	assert_string_equal(u->ifname, "he-ipv6");
	assert_false(u->autostart);
	assert_int_equal(u->ntargets, 2);
	assert_v6(&u->targets[0], "2001:db8:1::1");
	assert_v6(&u->targets[1], "2001:db8::53");
	assert_int_equal(u->probe_interval_ns, 500000000ull);
	assert_int_equal(u->mode, UPLINK_MODE_USERSPACE);
	assert_v4(&u->server_ipv4, "192.0.2.1");
	assert_v4(&u->local_ipv4, "198.51.100.7");
	assert_v6(&u->client_ipv6, "2001:db8:1::2");
	assert_int_equal(u->client_plen, 64);
	assert_v6(&u->routed_prefix, "2001:db8:2::");
	assert_int_equal(u->routed_plen, 48);
	assert_int_equal(u->mtu, 1472);
	assert_true(u->default_route);
	assert_int_equal(u->metric, 3000);
	assert_string_equal(u->he_username, "alice");
	assert_string_equal(u->he_update_key, "s3cr3t!");
	assert_string_equal(u->he_tunnel_id, "123456");
	assert_string_equal(u->he_update_url, "http://127.0.0.1:8080/nic/update");
	config_free(&c);
	assert_null(c.uplinks);
}

/* The smallest of each type, with the defaults. */
static void test_defaults(void **state)
{
	struct config c;
	const struct uplink_config *u;

	parse_ok("[uplink.he]\ntype = he_6in4\nserver_ipv4 = 192.0.2.1\n"
		 "client_ipv6 = 2001:db8:1::2/64\n"
		 "[uplink.wg6]\ntype = wireguard\nconfig = /etc/wireguard/wg6.conf\n"
		 "wireguard_go = /usr/bin/wireguard-go\n"
		 "[uplink.lan_v6-1]\ntype = external\ninterface = eth0\n",
		 &c);
	assert_int_equal(c.nuplinks, 3);
	u = &c.uplinks[0];
	assert_true(u->autostart);
	assert_int_equal(u->mode, UPLINK_MODE_AUTO);
	assert_int_equal(u->mtu, 1480);
	assert_false(u->default_route);
	assert_int_equal(u->ntargets, 0);
	assert_int_equal(u->probe_interval_ns, HEALTH_DEFAULT_INTERVAL_NS);
	assert_int_equal(u->local_ipv4.s_addr, 0);
	assert_int_equal(u->routed_plen, 0);
	assert_string_equal(u->ifname, "");
	assert_string_equal(u->he_update_url, "");
	u = &c.uplinks[1];
	assert_string_equal(u->name, "wg6");
	assert_int_equal(u->type, UPLINK_WIREGUARD);
	assert_string_equal(u->wg_config, "/etc/wireguard/wg6.conf");
	assert_string_equal(u->wg_go, "/usr/bin/wireguard-go");
	assert_int_equal(u->mtu, 0);
	assert_true(u->autostart);
	u = &c.uplinks[2];
	assert_string_equal(u->name, "lan_v6-1");
	assert_int_equal(u->type, UPLINK_EXTERNAL);
	assert_string_equal(u->ifname, "eth0");
	assert_int_equal(u->line, 9);
	config_free(&c);

	/* local_ipv4 empty is auto; a [peer] after an uplink ends it. */
	parse_ok("[uplink.x]\ntype = he_6in4\nlocal_ipv4 =\nserver_ipv4 = 192.0.2.1\n"
		 "client_ipv6 = 2001:db8:1::2/128\n"
		 "[peer]\npublic_key = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		 &c);
	assert_int_equal(c.nuplinks, 1);
	assert_int_equal(c.npeers, 1);
	assert_int_equal(c.uplinks[0].client_plen, 128);
	config_free(&c);
}

static void test_max(void **state)
{
	static char text[4096];
	size_t n = 0;
	struct config c;

	for (int i = 0; i < UPLINK_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[uplink.u%d]\ntype = external\ninterface = eth%d\n", i, i);
	parse_ok(text, &c);
	assert_int_equal(c.nuplinks, UPLINK_MAX);
	assert_string_equal(c.uplinks[UPLINK_MAX - 1].name, "u7");
	config_free(&c);
	snprintf(text + n, sizeof(text) - n, "[uplink.one_too_many]\n");
	expect_error(text, NAME ":25: at most 8 [uplink.NAME] sections: `[uplink.one_too_many]'");
}

#define HE "type = he_6in4\nserver_ipv4 = 192.0.2.1\nclient_ipv6 = 2001:db8:1::2/64\n"

static void test_section_errors(void **state)
{
	expect_error("[uplink.]\n", NAME ":1: an uplink's name must be 1-31 letters, digits, "
					 "`_' or `-': `[uplink.]'");
	expect_error("[uplink.a b]\n", NAME ":1: an uplink's name must be 1-31 letters, digits, "
					    "`_' or `-': `[uplink.a b]'");
	expect_error("[uplink.a.b]\n", NAME ":1: an uplink's name must be 1-31 letters, digits, "
					    "`_' or `-': `[uplink.a.b]'");
	expect_error("[uplink.abcdefghijabcdefghijabcdefghij12]\n",
		     NAME ":1: an uplink's name must be 1-31 letters, digits, `_' or `-': "
			  "`[uplink.abcdefghijabcdefghijabcdefghij12]'");
	expect_error("[uplink]\n",
		     NAME ":1: unknown section [uplink] (did you mean [uplink.NAME]?)");
	expect_error("[uplinks.he]\n",
		     NAME ":1: unknown section [uplinks.he] (did you mean [uplink.NAME]?)");
	expect_error("[Uplink.he]\n",
		     NAME ":1: unknown section [Uplink.he] (did you mean [uplink.NAME]?)");
	expect_error("[uplink.he]\n" HE "[uplink.he]\n" HE,
		     NAME ":5: duplicate section [uplink.he] (the first is at line 1)");
	expect_error("[uplink.he]\n" HE "type = external\n",
		     NAME ":5: duplicate key `type' in [uplink.he]");
	expect_error("[uplink.he]\ninterface = x\n",
		     NAME ":1: [uplink.he] without type (he_6in4, wireguard or external)");
	expect_error("[node]\nmtu = 1480\n",
		     NAME ":2: `mtu' belongs in [uplink.NAME], not in [node]");
	expect_error("[uplink.he]\n" HE "listen_port = 1\n",
		     NAME ":5: `listen_port' belongs in [node], not in [uplink.he]");
	expect_error("[uplink.he]\n" HE "mode = kernl\n",
		     NAME ":5: mode must be auto, kernel or userspace: `kernl'");
	expect_error("[uplink.he]\n" HE "serverr_ipv4 = 1.2.3.4\n",
		     NAME ":5: unknown key `serverr_ipv4' in [uplink.he] (did you mean "
			  "`server_ipv4'?)");
}

static void test_type_errors(void **state)
{
	expect_error("[uplink.x]\ntype = sit\n",
		     NAME ":2: type must be he_6in4, wireguard or external: `sit'");
	expect_error("[uplink.x]\ntype = he_6in4\nclient_ipv6 = 2001:db8::2/64\n",
		     NAME ":1: [uplink.x]: a he_6in4 uplink needs server_ipv4");
	expect_error("[uplink.x]\ntype = he_6in4\nserver_ipv4 = 192.0.2.1\n",
		     NAME ":1: [uplink.x]: a he_6in4 uplink needs client_ipv6");
	expect_error("[uplink.x]\ntype = wireguard\n",
		     NAME ":1: [uplink.x]: a wireguard uplink needs config (a wg-quick file)");
	expect_error("[uplink.x]\ntype = external\n",
		     NAME ":1: [uplink.x]: an external uplink needs interface");
	/* a key of another type, wherever type is */
	expect_error("[uplink.x]\nmtu = 1400\ntype = external\ninterface = eth0\n",
		     NAME ":2: `mtu' is not a key of a external uplink ([uplink.x])");
	expect_error("[uplink.x]\ntype = wireguard\nconfig = /w.conf\nmode = kernel\n",
		     NAME ":4: `mode' is not a key of a wireguard uplink ([uplink.x])");
	expect_error("[uplink.x]\n" HE "config = /w.conf\n",
		     NAME ":5: `config' is not a key of a he_6in4 uplink ([uplink.x])");
	expect_error("[uplink.x]\ntype = external\ninterface = e\nmetric = 5\n",
		     NAME ":4: `metric' is not a key of a external uplink ([uplink.x])");
	expect_error("[uplink.x]\ntype = external\ninterface = e\nwireguard_go = /bin/wg\n",
		     NAME ":4: `wireguard_go' is not a key of a external uplink ([uplink.x])");
	/* the endpoint update: all three or none */
	expect_error("[uplink.x]\n" HE "he_username = a\nhe_tunnel_id = 1\n",
		     NAME ":1: [uplink.x]: the endpoint update needs all of he_username, "
			  "he_update_key and he_tunnel_id");
	expect_error("[uplink.x]\n" HE "he_update_url = http://h/u\n",
		     NAME ":5: he_update_url without he_username, he_update_key and he_tunnel_id");
}

static void test_value_errors(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		/* 1 */ { "interface = a/b",
			  "interface must be a device name of 1-15 characters without `/', `:' "
			  "or white space: `a/b'" },
		/* 2 */
		{ "interface = abcdefghijklmnop",
		  "interface must be a device name of 1-15 characters without `/', `:' "
		  "or white space: `abcdefghijklmnop'" },
		/* 3 */ { "autostart = yes", "autostart must be true or false: `yes'" },
		/* 4 */ { "default_route = 1", "default_route must be true or false: `1'" },
		/* 5 */
		{ "health_targets = 192.0.2.1",
		  "health_targets: not an IPv6 address: `192.0.2.1'" },
		/* 6 */
		{ "health_targets = ::1,::2,::3,::4,::5",
		  "health_targets: at most 4 addresses: `::1,::2,::3,::4,::5'" },
		/* 7 */ { "probe_interval = 0.05", "probe_interval must be 0.1-3600 seconds: `0.05'" },
		/* 8 */ { "probe_interval = -1", "probe_interval must be 0.1-3600 seconds: `-1'" },
		/* 9 */ { "probe_interval = 3601", "probe_interval must be 0.1-3600 seconds: `3601'" },
		/* 10 */ { "server_ipv4 = 0.0.0.0", "server_ipv4 must be an IPv4 address: `0.0.0.0'" },
		/* 11 */ { "server_ipv4 = he.net", "server_ipv4 must be an IPv4 address: `he.net'" },
		/* 12 */
		{ "local_ipv4 = 1.2.3",
		  "local_ipv4 must be an IPv4 address or empty (auto): `1.2.3'" },
		/* 13 */
		{ "client_ipv6 = 2001:db8::2",
		  "client_ipv6 must be an IPv6 address with its prefix length "
		  "(2001:db8:1::2/64): `2001:db8::2'" },
		/* 14 */
		{ "client_ipv6 = 2001:db8::2/129",
		  "client_ipv6 must be an IPv6 address with its prefix length "
		  "(2001:db8:1::2/64): `2001:db8::2/129'" },
		/* 15 */
		{ "routed_prefix = 2001:db8::/32",
		  "routed_prefix must be an IPv6 prefix of length 48 to 64 "
		  "(2001:db8:2::/48): `2001:db8::/32'" },
		/* 16 */
		{ "routed_prefix = 2001:db8:2::1/64",
		  "routed_prefix has bits set after its /64: `2001:db8:2::1/64'" },
		/* 17 */ { "mtu = 1279", "mtu must be 1280-1500: `1279'" },
		/* 18 */ { "mtu = 1501", "mtu must be 1280-1500: `1501'" },
		/* 19 */
		{ "he_username = a:b",
		  "he_username must be printable characters without white space or `:': "
		  "`a:b'" },
		/* 20 */
		{ "he_tunnel_id = 12&x=1",
		  "he_tunnel_id must be letters, digits, `.', `_' and `-': `12&x=1'" },
		/* 21 */ { "he_update_key = ", "he_update_key must be 1-127 characters: `'" },
		/* 22 */
		{ "he_update_url = ftp://x/",
		  "he_update_url must be an http:// or https:// URL of at most 255 "
		  "characters, without white space or a query: `ftp://x/'" },
		/* 23 */
		{ "he_update_url = http://x/u?a=1",
		  "he_update_url must be an http:// or https:// URL of at most 255 "
		  "characters, without white space or a query: `http://x/u?a=1'" },
		/* 24 */ { "mode = ", "mode must be auto, kernel or userspace: `'" },
		/* 25 */ { "metric = 0", "metric must be 1-4095: `0'" },
		/* 26 */ { "metric = 4096", "metric must be 1-4095: `4096'" },
	};
	char text[512], want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[uplink.he]\ntype = he_6in4\n%s\n", cases[i].line);
		snprintf(want, sizeof(want), NAME ":3: %s", cases[i].want);
		expect_error(text, want);
	}
	expect_error("[uplink.w]\ntype = wireguard\nconfig = wg6.conf\n",
		     NAME ":3: config must be an absolute path of at most 255 characters: "
			  "`wg6.conf'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_he_full),	    cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_max),	    cmocka_unit_test(test_section_errors),
		cmocka_unit_test(test_type_errors), cmocka_unit_test(test_value_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
