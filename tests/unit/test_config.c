/* The INI configuration: a full valid file, defaults, and every class of
 * error with its exact "FILE:LINE: message" text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "mesh/identity.h"
#include "mesh/messages.h"

#define NAME "/etc/manta/manta.conf"
#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K3 "//////////////////////////////////////////8="

static void assert_defaults(const struct config *c)
{
	assert_int_equal(c->listen_port, CONFIG_DEFAULT_PORT);
	assert_string_equal(c->tun_name, CONFIG_DEFAULT_TUN);
	assert_string_equal(c->state_dir, CONFIG_DEFAULT_STATE_DIR);
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_int_equal(c->npeers, 0);
	assert_int_equal(c->timers.rekey_after_time, 120 * NSEC_PER_SEC);
	assert_int_equal(c->timers.reject_after_time, 180 * NSEC_PER_SEC);
	assert_int_equal(c->timers.rekey_timeout, 5 * NSEC_PER_SEC);
	assert_int_equal(c->timers.keepalive_timeout, 10 * NSEC_PER_SEC);
	assert_int_equal(c->timers.rekey_attempt_time, 90 * NSEC_PER_SEC);
	assert_int_equal(c->timers.under_load, UNDER_LOAD_AUTO);
	assert_true(c->api.enabled);
	assert_false(c->api.allow_mutating);
	assert_int_equal(c->api.port, 8642);
	assert_int_equal(c->api.nlisten, 2);
	assert_string_equal(c->api.listen[0], "127.0.0.1");
	assert_string_equal(c->api.listen[1], "::1");
}

/* Parses text, which must fail with exactly the message want; the config
 * is left with its defaults. */
static void expect_error(const char *text, const char *want)
{
	struct config c;
	char err[512];

	config_init(&c);
	if (config_parse_string(text, NAME, &c, err, sizeof(err)))
		fail_msg("accepted, expected `%s'", want);
	if (strcmp(err, want) != 0)
		fail_msg("got      `%s'\nexpected `%s'", err, want);
	assert_defaults(&c);
	assert_null(c.peers);
	config_free(&c);
}

static void expect_ok(const char *text, struct config *c)
{
	char err[512];

	config_init(c);
	if (!config_parse_string(text, NAME, c, err, sizeof(err)))
		fail_msg("rejected: %s", err);
}

static const char full[] = "# manta.conf\n" /*  1 */
			   "[node]\n" /*  2 */
			   "listen_port = 51821\n" /*  3 */
			   "tun = mesh0\n" /*  4 */
			   "state_dir = /srv/manta state\n" /*  5 */
			   "log_level = debug\n" /*  6 */
			   "\n" /*  7 */
			   "[peer]\n" /*  8 */
			   "public_key = " K1 "\n" /*  9 */
			   "endpoint = 192.0.2.7:51820\n" /* 10 */
			   "persistent_keepalive = 25\n" /* 11 */
			   "[peer]\n" /* 12 */
			   "public_key = " K2 "\n" /* 13 */
			   "endpoint = [2001:db8::7]:51820\n" /* 14 */
			   "\n" /* 15 */
			   "[peer] ; the third\n" /* 16 */
			   "  public_key = " K3 "\n" /* 17 */
			   "\tendpoint=peer.example.com:4500\n" /* 18 */
			   "persistent_keepalive = off\n" /* 19 */
			   "[testing]\n" /* 20 */
			   "rekey_after_time = 2.5\n" /* 21 */
			   "reject_after_time = 4\n" /* 22 */
			   "rekey_timeout = 0.25 ; short\n" /* 23 */
			   "keepalive_timeout = 1\n" /* 24 */
			   "rekey_attempt_time = 86400\n" /* 25 */
			   "under_load = always\n"; /* 26 */

static void test_full(void **state)
{
	uint8_t k[KEY_LEN];
	struct config c;

	expect_ok(full, &c);
	assert_int_equal(c.listen_port, 51821);
	assert_string_equal(c.tun_name, "mesh0");
	assert_string_equal(c.state_dir, "/srv/manta state");
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c.npeers, 3);

	assert_true(key_from_base64(K1, k));
	assert_memory_equal(c.peers[0].public_key, k, KEY_LEN);
	assert_string_equal(c.peers[0].endpoint, "192.0.2.7:51820");
	assert_int_equal(c.peers[0].persistent_keepalive, 25);
	assert_int_equal(c.peers[0].line, 8);

	assert_true(key_from_base64(K2, k));
	assert_memory_equal(c.peers[1].public_key, k, KEY_LEN);
	assert_string_equal(c.peers[1].endpoint, "[2001:db8::7]:51820");
	assert_int_equal(c.peers[1].persistent_keepalive, 0);
	assert_int_equal(c.peers[1].line, 12);

	assert_true(key_from_base64(K3, k));
	assert_memory_equal(c.peers[2].public_key, k, KEY_LEN);
	assert_string_equal(c.peers[2].endpoint, "peer.example.com:4500");
	assert_int_equal(c.peers[2].persistent_keepalive, 0);
	assert_int_equal(c.peers[2].line, 16);

	assert_int_equal(c.timers.rekey_after_time, 2500000000ULL);
	assert_int_equal(c.timers.reject_after_time, 4000000000ULL);
	assert_int_equal(c.timers.rekey_timeout, 250000000ULL);
	assert_int_equal(c.timers.keepalive_timeout, 1000000000ULL);
	assert_int_equal(c.timers.rekey_attempt_time, 86400000000000ULL);
	assert_int_equal(c.timers.under_load, UNDER_LOAD_ALWAYS);
	config_free(&c);
	config_free(&c); /* safe twice */
}

static void test_defaults(void **state)
{
	struct config c;

	config_init(&c);
	assert_defaults(&c);
	assert_null(c.peers);
	config_free(&c);

	expect_ok("", &c);
	assert_defaults(&c);
	config_free(&c);
	expect_ok("# only a comment\n; and another\n\n[node]\n[testing]\n", &c);
	assert_defaults(&c);
	config_free(&c);
}

/* One [peer] with only a key: everything else stays at its default. */
static void test_minimal_peer(void **state)
{
	struct config c;

	expect_ok("[peer]\npublic_key = " K1, &c); /* no final newline */
	assert_int_equal(c.npeers, 1);
	assert_string_equal(c.peers[0].endpoint, "");
	assert_int_equal(c.peers[0].persistent_keepalive, 0);
	assert_int_equal(c.peers[0].line, 1);
	config_free(&c);
}

static void test_crlf_bom(void **state)
{
	struct config c;

	expect_ok("\xef\xbb\xbf[node]\r\nlisten_port = 4000\r\n\r\n[peer]\r\npublic_key = " K1
		  "\r\n",
		  &c);
	assert_int_equal(c.listen_port, 4000);
	assert_int_equal(c.npeers, 1);
	assert_int_equal(c.peers[0].line, 4);
	config_free(&c);
}

/* A successful parse replaces what c held; a failed one leaves defaults. */
static void test_reparse(void **state)
{
	struct config c;
	char err[256];

	expect_ok(full, &c);
	assert_true(
		config_parse_string("[peer]\npublic_key = " K2 "\n", NAME, &c, err, sizeof(err)));
	assert_int_equal(c.npeers, 1);
	assert_int_equal(c.listen_port, CONFIG_DEFAULT_PORT);
	assert_false(
		config_parse_string("[nodes]\n", NAME, &c, err, 0)); /* no room for a message */
	assert_defaults(&c);
	config_free(&c);
	expect_ok(full, &c);
	assert_false(config_parse_string("[node]\nbad\n", NAME, &c, err, sizeof(err)));
	assert_defaults(&c);
	assert_null(c.peers);
	config_free(&c);
}

static void test_node_errors(void **state)
{
	expect_error("[node]\n\nlisen_port = 1\n",
		     NAME ":3: unknown key `lisen_port' in [node] (did you mean `listen_port'?)");
	expect_error("\n[node]\n\nlisten_port = 70000\n",
		     NAME ":4: listen_port must be 1-65535: `70000'");
	expect_error("[node]\nlisten_port = 0\n", NAME ":2: listen_port must be 1-65535: `0'");
	expect_error("[node]\nlisten_port = -1\n", NAME ":2: listen_port must be 1-65535: `-1'");
	expect_error("[node]\nlisten_port = 5x\n", NAME ":2: listen_port must be 1-65535: `5x'");
	expect_error("[node]\nlisten_port =\n", NAME ":2: listen_port must be 1-65535: `'");
	expect_error("[node]\nlisten_port = 99999999999999999999999\n",
		     NAME ":2: listen_port must be 1-65535: `99999999999999999999999'");
	expect_error("[node]\nlisten_port = 1\nlisten_port = 2\n",
		     NAME ":3: duplicate key `listen_port' in [node]");
	expect_error("[node]\nlog_level = verbose\n",
		     NAME ":2: log_level must be debug, info, warn or error: `verbose'");
	expect_error("[node]\nstate_dir =\n", NAME ":2: state_dir must not be empty");
	expect_error("[node]\ntun = manta-is-too-long\n",
		     NAME ":2: tun must be a device name of 1-15 characters without `/', `:' or "
			  "white space: `manta-is-too-long'");
	expect_error("[node]\ntun = a/b\n",
		     NAME ":2: tun must be a device name of 1-15 characters without `/', `:' or "
			  "white space: `a/b'");
	expect_error("[node]\ntun = a b\n",
		     NAME ":2: tun must be a device name of 1-15 characters without `/', `:' or "
			  "white space: `a b'");
	expect_error("[node]\ntun =\n",
		     NAME ":2: tun must be a device name of 1-15 characters without `/', `:' or "
			  "white space: `'");
	expect_error("[node]\n[node]\n",
		     NAME ":2: duplicate section [node] (the first is at line 1)");
}

static void test_peer_errors(void **state)
{
	expect_error("[peer]\npublic_key = " K1 "\n\n\n\n\npublic_key = abc\n",
		     NAME ":7: duplicate key `public_key' in [peer]");
	expect_error("[node]\n\n\n\n\n[peer]\npublic_key = abc\n",
		     NAME ":7: public_key is not a valid key: `abc'");
	expect_error("[peer]\npublic_key = " K1 "x\n",
		     NAME ":2: public_key is not a valid key: `" K1 "x'");
	expect_error("[peer]\npublic_key = " K1 "\n"
		     "endpoint = 192.0.2.1:1\n"
		     "persistent_keepalive = 5\n"
		     "\n\n\n\n"
		     "endpoint = 192.0.2.2:2\n",
		     NAME ":9: duplicate key `endpoint' in [peer]");
	expect_error("[peer]\npublic_key = " K1 "\nendpiont = x\n",
		     NAME ":3: unknown key `endpiont' in [peer] (did you mean `endpoint'?)");
	expect_error("[peer]\npublic_key = " K1 "\npersistent_keepalive = 65536\n",
		     NAME ":3: persistent_keepalive must be 0-65535 seconds or off: `65536'");
	expect_error("[peer]\npublic_key = " K1 "\npersistent_keepalive = on\n",
		     NAME ":3: persistent_keepalive must be 0-65535 seconds or off: `on'");
}

/* "[peer] without public_key" names the header's line, wherever the section
 * ends: at the next header, or at the end of the file. */
static void test_peer_without_key(void **state)
{
	expect_error("[peer]\npublic_key = " K1 "\n[peer]\nendpoint = 192.0.2.1:5\n[node]\n",
		     NAME ":3: [peer] without public_key");
	expect_error("[peer]\npublic_key = " K1 "\n[peer]\n[peer]\npublic_key = " K2 "\n",
		     NAME ":3: [peer] without public_key");
	expect_error("[node]\n\n\n\n\n\n\n\n\n\n\n\n\n\n[peer]\npersistent_keepalive = 1\n",
		     NAME ":15: [peer] without public_key");
	expect_error("[peer]", NAME ":1: [peer] without public_key");
}

static void test_duplicate_peer(void **state)
{
	expect_error("[peer]\npublic_key = " K1 "\n"
		     "[peer]\npublic_key = " K2 "\n"
		     "[peer]\npublic_key = " K1 "\n",
		     NAME ":6: 2 peers with public key `" K1 "' (the other [peer] is at line 1)");
}

static void test_endpoint_errors(void **state)
{
	static const char *const bad[] = {
		"192.0.2.7",
		"192.0.2.7:0",
		"192.0.2.7:65536",
		"192.0.2.7:",
		"2001:db8::1:51820",
		"[2001:db8::1]",
		"[2001:db8::1]51820",
		"[nothing]:1",
		"[]:1",
		"host:port",
		":51820",
		"a..b:1",
		"999.1.1.1:5",
		"[192.0.2.1]:5",
		"host name:1",
		"-",
		"[fe80::1%]:1",
		"[fe80::1%a/b]:1",
		"host:+1",
		"host: 1",
	};
	char text[256], want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(config_endpoint_valid(bad[i]));
		snprintf(text, sizeof(text), "[peer]\npublic_key = " K1 "\nendpoint = %s\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 NAME ":3: endpoint must be host:port or [IPv6]:port with a port of "
			      "1-65535: `%s'",
			 bad[i]);
		expect_error(text, want);
	}
}

static void test_endpoint_valid(void **state)
{
	static const char *const good[] = {
		"192.0.2.7:51820",
		"[2001:db8::7]:51820",
		"[::1]:1",
		"[::ffff:192.0.2.1]:65535",
		"[fe80::1%eth0]:51820",
		"[fe80::1%2]:5",
		"example.com:443",
		"example.com.:443",
		"peer_1.home.pi:9",
		"localhost:1",
		"a:01",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!config_endpoint_valid(good[i]))
			fail_msg("rejected `%s'", good[i]);
}

static void test_testing_errors(void **state)
{
	static const char *const bad[] = {
		"0",	   "0.0",   "-1", "inf",   "nan", "1e3", "0x10",
		"86400.5", "86401", "",	  "1.2.3", ".",	  "1,5", "0.0000000001",
	};
	char text[256], want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[testing]\nrekey_timeout = %s\n", bad[i]);
		snprintf(want, sizeof(want),
			 NAME ":2: rekey_timeout must be seconds, more than 0 and at most 86400: "
			      "`%s'",
			 bad[i]);
		expect_error(text, want);
	}
	expect_error("[testing]\nunder_load = sometimes\n",
		     NAME ":2: under_load must be auto, always or never: `sometimes'");
	expect_error("[testing]\nkeepalive_timeout = 1\nkeepalive_timeout = 2\n",
		     NAME ":3: duplicate key `keepalive_timeout' in [testing]");
	expect_error("[testing]\n[testing]\n",
		     NAME ":2: duplicate section [testing] (the first is at line 1)");
}

static void test_testing_values(void **state)
{
	struct config c;

	expect_ok("[testing]\nrekey_timeout = .5\nkeepalive_timeout = 3.\nunder_load = never\n"
		  "rekey_after_time = 0.000000001\n",
		  &c);
	assert_int_equal(c.timers.rekey_timeout, 500000000ULL);
	assert_int_equal(c.timers.keepalive_timeout, 3000000000ULL);
	assert_int_equal(c.timers.rekey_after_time, 1);
	assert_int_equal(c.timers.under_load, UNDER_LOAD_NEVER);
	config_free(&c);
}

static void test_structure_errors(void **state)
{
	expect_error("[node]\n\n\n\n\n\n\n\n\n\n\n[nodes]\n",
		     NAME ":12: unknown section [nodes] (did you mean [node]?)");
	expect_error("[Peer]\n", NAME ":1: unknown section [Peer] (did you mean [peer]?)");
	expect_error("[ peer ]\n", NAME ":1: unknown section [ peer ] (did you mean [peer]?)");
	expect_error("[nodes]\nlisten_port = x\n",
		     NAME ":1: unknown section [nodes] (did you mean [node]?)");
	expect_error("listen_port = 1\n", NAME ":1: key `listen_port' before any section header");
	expect_error("[peer\n", NAME ":1: not a section header: `[peer'");
	expect_error("[node] extra\n", NAME ":1: not a section header: `[node] extra'");
	expect_error("[node]\nlisten_port 51820\n",
		     NAME ":2: expected `key = value': `listen_port 51820'");
	/* The first error in the file is the one reported. */
	expect_error("[node]\nnonsense\nlisten_port = 0\n",
		     NAME ":2: expected `key = value': `nonsense'");
	expect_error("[node]\nlisten_port = 0\nnonsense\n",
		     NAME ":2: listen_port must be 1-65535: `0'");
	expect_error("[node]\nlisten_port = 0\ntun = a/b\n",
		     NAME ":2: listen_port must be 1-65535: `0'");
}

static void test_long_lines(void **state)
{
	char text[1024], want[256];
	struct config c;

	/* A long comment is fine; a long setting is an error with its line. */
	memset(text, 0, sizeof(text));
	strcpy(text, "# ");
	memset(text + 2, 'x', 500);
	strcat(text, "\n[node]\n");
	expect_ok(text, &c);
	config_free(&c);

	strcpy(text, "[node]\nstate_dir = /");
	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	snprintf(want, sizeof(want), NAME ":2: line is longer than 199 characters");
	expect_error(text, want);
}

static void test_error_buffer(void **state)
{
	struct config c;
	char err[16];

	config_init(&c);
	assert_false(config_parse_string("[nodes]\n", NAME, &c, err, sizeof(err)));
	assert_int_equal(strlen(err), sizeof(err) - 1); /* truncated, terminated */
	config_free(&c);
}

/* --- files --------------------------------------------------------------- */

static void write_tmp(char *path, const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/manta-test-config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_load(void **state)
{
	char path[64], err[512], want[256];
	struct config c;

	write_tmp(path, full, strlen(full));
	config_init(&c);
	assert_true(config_load(path, &c, err, sizeof(err)));
	assert_int_equal(c.npeers, 3);
	config_free(&c);
	unlink(path);

	write_tmp(path, "[node]\nport = 1\n", 16);
	config_init(&c);
	assert_false(config_load(path, &c, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: `port' belongs in [api], not in [node]", path);
	assert_string_equal(err, want);
	config_free(&c);
	unlink(path);

	write_tmp(path, "[node]\n\nlisten_port = 1\0\n", 24);
	config_init(&c);
	assert_false(config_load(path, &c, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: the file contains a NUL byte", path);
	assert_string_equal(err, want);
	config_free(&c);
	unlink(path);
}

/* A file of more than 1 MiB is refused before parsing. */
static void test_load_too_large(void **state)
{
	size_t len = (2 << 20) + 1;
	char path[64], err[512], want[256];
	char *big = malloc(len);
	struct config c;

	assert_non_null(big);
	memset(big, '\n', len);
	write_tmp(path, big, len);
	free(big);
	config_init(&c);
	assert_false(config_load(path, &c, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: File too large", path);
	assert_string_equal(err, want);
	config_free(&c);
	unlink(path);
}

static void test_load_missing(void **state)
{
	struct config c;
	char err[512];

	config_init(&c);
	assert_false(config_load("/nonexistent/manta.conf", &c, err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/manta.conf: No such file or directory");
	assert_defaults(&c);
	assert_false(config_load("/tmp", &c, err, sizeof(err)));
	assert_string_equal(err, "/tmp: Is a directory");
	assert_defaults(&c);
	config_free(&c);
}

/* Numeric endpoints resolve without a resolver; names are not tried here. */
static void test_resolve_numeric(void **state)
{
	struct sockaddr_in6 sa;
	char s[INET6_ADDRSTRLEN], err[256];

	assert_int_equal(config_resolve_endpoint("192.0.2.7:51820", &sa, err, sizeof(err)), 0);
	assert_int_equal(sa.sin6_family, AF_INET6);
	assert_int_equal(ntohs(sa.sin6_port), 51820);
	inet_ntop(AF_INET6, &sa.sin6_addr, s, sizeof(s));
	assert_string_equal(s, "::ffff:192.0.2.7");

	assert_int_equal(config_resolve_endpoint("[2001:db8::7]:1", &sa, err, sizeof(err)), 0);
	assert_int_equal(ntohs(sa.sin6_port), 1);
	inet_ntop(AF_INET6, &sa.sin6_addr, s, sizeof(s));
	assert_string_equal(s, "2001:db8::7");

	assert_int_equal(config_resolve_endpoint("192.0.2.7", &sa, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not host:port or [IPv6]:port with a port of 1-65535");
}

/* [api]: every key, the list syntax, and each error. */
static void test_api_values(void **state)
{
	struct config c;

	expect_ok("[api]\nenabled = false\nport = 9000\nallow_mutating = true\n"
		  "listen = 127.0.0.2,::1  192.0.2.1, fe80::1\n",
		  &c);
	assert_false(c.api.enabled);
	assert_true(c.api.allow_mutating);
	assert_int_equal(c.api.port, 9000);
	assert_int_equal(c.api.nlisten, 4);
	assert_string_equal(c.api.listen[0], "127.0.0.2");
	assert_string_equal(c.api.listen[1], "::1");
	assert_string_equal(c.api.listen[2], "192.0.2.1");
	assert_string_equal(c.api.listen[3], "fe80::1");
	config_free(&c);
	expect_ok("[node]\nlisten_port = 1\n[api]\nlisten = ::1\n", &c);
	assert_true(c.api.enabled);
	assert_int_equal(c.api.nlisten, 1);
	assert_string_equal(c.api.listen[0], "::1");
	config_free(&c);
}

static void test_api_errors(void **state)
{
	expect_error("[api]\nenabled = yes\n", NAME ":2: enabled must be true or false: `yes'");
	expect_error("[api]\nallow_mutating = 1\n",
		     NAME ":2: allow_mutating must be true or false: `1'");
	expect_error("[api]\nport = 0\n", NAME ":2: port must be 1-65535: `0'");
	expect_error("[api]\nport = 65536\n", NAME ":2: port must be 1-65535: `65536'");
	expect_error("[api]\nlisten = localhost\n",
		     NAME ":2: listen: not an IPv4 or IPv6 address: `localhost'");
	expect_error("[api]\nlisten = 127.0.0.1:8642\n",
		     NAME ":2: listen: not an IPv4 or IPv6 address: `127.0.0.1:8642'");
	expect_error("[api]\nlisten = [::1]\n",
		     NAME ":2: listen: not an IPv4 or IPv6 address: `[::1]'");
	expect_error("[api]\nlisten = , ,\n",
		     NAME ":2: listen must name at least one address (or enabled = false)");
	expect_error("[api]\nlisten = ::1 ::2 ::3 ::4 ::5\n",
		     NAME ":2: listen: at most 4 addresses: `::1 ::2 ::3 ::4 ::5'");
	expect_error("[api]\nlisten = 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa\n",
		     NAME ":2: listen: not an IP address: "
			  "`1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa'");
	expect_error("[api]\nport = 1\nport = 2\n", NAME ":3: duplicate key `port' in [api]");
	expect_error("[api]\n[api]\n", NAME ":2: duplicate section [api] (the first is at line 1)");
	expect_error("[api]\nprot = 1\n",
		     NAME ":2: unknown key `prot' in [api] (did you mean `port'?)");
}

/* A newer file on an older mantad: unknown sections and keys are skipped,
 * each with a "FILE:LINE:" warning, and the rest applies. */
static void test_unknown_keys(void **state)
{
	struct config c;
	static char text[1024];
	size_t n = 0;

	expect_ok("[node]\n" /* 1 */
		  "listen_port = 1\n" /* 2 */
		  "future_key = x\n" /* 3 */
		  "\n" /* 4 */
		  "[future]\n" /* 5 */
		  "listen_port = y\n" /* 6: not ours */
		  "[peer]\n" /* 7 */
		  "public_key = " K1 "\n" /* 8 */
		  "weight = 1400\n", /* 9 */
		  &c);
	assert_int_equal(c.listen_port, 1);
	assert_int_equal(c.npeers, 1);
	assert_string_equal(c.warnings,
			    NAME ":3: unknown key `future_key' in [node], ignored\n" NAME
				 ":5: unknown section [future], ignored with its keys\n" NAME
				 ":9: unknown key `weight' in [peer], ignored\n");
	config_free(&c);

	expect_ok("[node]\nlisten_port = 2\n", &c);
	assert_null(c.warnings);
	config_free(&c);

	/* Two typing mistakes from a known name is a new name. */
	expect_ok("[node]\nlistenprt = 1\n[peers2]\n", &c);
	assert_string_equal(c.warnings,
			    NAME ":2: unknown key `listenprt' in [node], ignored\n" NAME
				 ":3: unknown section [peers2], ignored with its keys\n");
	config_free(&c);

	/* Past 32 lines they are counted, not listed. */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "[node]\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "unknown_%02d = x\n", i);
	expect_ok(text, &c);
	assert_non_null(
		strstr(c.warnings, NAME ":33: unknown key `unknown_31' in [node], ignored\n"));
	assert_null(strstr(c.warnings, "unknown_32"));
	assert_non_null(strstr(c.warnings, NAME
			       ":41: 8 more unknown keys or sections ignored (the first 32 are "
			       "listed)\n"));
	config_free(&c);
}

/* A near miss of a known name, or a known key in another section, is a
 * mistake and stays an error. Vectors:
 *   1 case      2 deleted   3 inserted   4 replaced   5 swapped
 *   6 a key of another section           7-9 sections */
static void test_near_misses(void **state)
{
	expect_error("[node]\nLISTEN_PORT = 1\n",
		     NAME ":2: unknown key `LISTEN_PORT' in [node] (did you mean `listen_port'?)");
	expect_error("[node]\nlistenport = 1\n",
		     NAME ":2: unknown key `listenport' in [node] (did you mean `listen_port'?)");
	expect_error("[node]\nlisten__port = 1\n",
		     NAME ":2: unknown key `listen__port' in [node] (did you mean `listen_port'?)");
	expect_error("[node]\nlog_levle = info\n",
		     NAME ":2: unknown key `log_levle' in [node] (did you mean `log_level'?)");
	expect_error("[node]\ntnu = x\n",
		     NAME ":2: unknown key `tnu' in [node] (did you mean `tun'?)");
	expect_error("[node]\nendpoint = 192.0.2.1:1\n",
		     NAME ":2: `endpoint' belongs in [peer], not in [node]");
	expect_error("[tseting]\n", NAME ":1: unknown section [tseting] (did you mean [testing]?)");
	expect_error("[NODE]\n", NAME ":1: unknown section [NODE] (did you mean [node]?)");
	expect_error("[pee]\n", NAME ":1: unknown section [pee] (did you mean [peer]?)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),	       cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal_peer),   cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_reparse),	       cmocka_unit_test(test_node_errors),
		cmocka_unit_test(test_peer_errors),    cmocka_unit_test(test_peer_without_key),
		cmocka_unit_test(test_duplicate_peer), cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_endpoint_valid), cmocka_unit_test(test_testing_errors),
		cmocka_unit_test(test_testing_values), cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_long_lines),     cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_load),	       cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_missing),   cmocka_unit_test(test_resolve_numeric),
		cmocka_unit_test(test_api_values),     cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_unknown_keys),   cmocka_unit_test(test_near_misses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
