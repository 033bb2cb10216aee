/* The wg-quick file parser (uplink/wgquick.c): a full valid file, and every
 * class of error with its exact "FILE:LINE: message" text; key values never
 * appear in an error about a private or preshared key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uplink/wgquick.h"

#define NAME "/etc/wireguard/wg6.conf"
#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K3 "//////////////////////////////////////////8="
#define IFACE "[Interface]\nPrivateKey = " K1 "\n"

static struct wgq_config *expect_ok(const char *text)
{
	struct wgq_config *c = wgq_config_alloc();
	char err[512];

	assert_non_null(c);
	if (!wgq_parse(c, NAME, text, strlen(text), err, sizeof(err)))
		fail_msg("rejected: %s", err);
	return c;
}

static void expect_error(const char *text, const char *want)
{
	struct wgq_config *c = wgq_config_alloc();
	char err[512];

	assert_non_null(c);
	if (wgq_parse(c, NAME, text, strlen(text), err, sizeof(err)))
		fail_msg("accepted, expected `%s'", want);
	if (strcmp(err, want) != 0)
		fail_msg("got      `%s'\nexpected `%s'", err, want);
	wgq_config_free(c);
}

static void assert_prefix(const struct wgq_prefix *p, const char *want)
{
	char text[64];

	wgq_prefix_format(p, text, sizeof(text));
	assert_string_equal(text, want);
}

static void assert_key(const uint8_t *key, const char *b64)
{
	uint8_t want[WGQ_KEY_LEN];
	size_t n = 0;

	assert_int_equal(sodium_base642bin(want, sizeof(want), b64, strlen(b64), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(n, WGQ_KEY_LEN);
	assert_memory_equal(key, want, WGQ_KEY_LEN);
}

static const char full[] = "# wg6.conf from the provider\n" /*  1 */
			   "[interface]\n" /*  2 */
			   "privatekey = " K1 "\n" /*  3 */
			   "Address = 2001:db8:77::2/64, 10.77.0.2/24\n" /*  4 */
			   "ADDRESS = fd00::2\n" /*  5 */
			   "ListenPort = 51821\n" /*  6 */
			   "MTU = 1380\n" /*  7 */
			   "FwMark = 0xca6c\n" /*  8 */
			   "DNS = 2001:db8::53\n" /*  9 */
			   "PostUp = iptables -A FORWARD -j ACCEPT\n" /* 10 */
			   "Table = off\n" /* 11 */
			   "\n" /* 12 */
			   "[Peer]   # the provider\n" /* 13 */
			   "  PublicKey=" K2 "\r\n" /* 14 */
			   "PresharedKey = " K3 "\n" /* 15 */
			   "Endpoint = 192.0.2.7:51820\n" /* 16 */
			   "AllowedIPs = ::/0, 2001:db8:77::/64\n" /* 17 */
			   "AllowedIPs = 10.77.0.0/24\n" /* 18 */
			   "PersistentKeepalive = 25\n" /* 19 */
			   "[PEER]\n" /* 20 */
			   "PublicKey = " K3 "\n" /* 21 */
			   "Endpoint = [2001:db8::7]:4500\n" /* 22 */
			   "AllowedIPs =\n" /* 23 */
			   "PersistentKeepalive = off\n" /* 24 */
			   "[Peer]\n" /* 25 */
			   "PublicKey = " K1 "\n" /* 26 */
			   "Endpoint = vpn.example.net:51820\n"; /* 27 */

static void test_full(void **state)
{
	struct wgq_config *c = expect_ok(full);

	assert_true(c->has_private_key);
	assert_key(c->private_key, K1);
	assert_int_equal(c->naddrs, 3);
	assert_prefix(&c->addrs[0], "2001:db8:77::2/64");
	assert_prefix(&c->addrs[1], "10.77.0.2/24");
	assert_prefix(&c->addrs[2], "fd00::2/128");
	assert_int_equal(c->listen_port, 51821);
	assert_int_equal(c->mtu, 1380);
	assert_true(c->has_fwmark);
	assert_int_equal(c->fwmark, 0xca6c);
	assert_int_equal(c->nignored, 3);
	assert_int_equal(c->npeers, 3);

	assert_int_equal(c->peers[0].line, 13);
	assert_key(c->peers[0].public_key, K2);
	assert_true(c->peers[0].has_preshared_key);
	assert_key(c->peers[0].preshared_key, K3);
	assert_string_equal(c->peers[0].endpoint_host, "192.0.2.7");
	assert_int_equal(c->peers[0].endpoint_port, 51820);
	assert_int_equal(c->peers[0].nallowed, 3);
	assert_prefix(&c->peers[0].allowed[0], "::/0");
	assert_prefix(&c->peers[0].allowed[1], "2001:db8:77::/64");
	assert_prefix(&c->peers[0].allowed[2], "10.77.0.0/24");
	assert_int_equal(c->peers[0].keepalive, 25);

	assert_int_equal(c->peers[1].line, 20);
	assert_key(c->peers[1].public_key, K3);
	assert_false(c->peers[1].has_preshared_key);
	assert_string_equal(c->peers[1].endpoint_host, "2001:db8::7");
	assert_int_equal(c->peers[1].endpoint_port, 4500);
	assert_int_equal(c->peers[1].nallowed, 0);
	assert_int_equal(c->peers[1].keepalive, 0);

	assert_string_equal(c->peers[2].endpoint_host, "vpn.example.net");
	wgq_config_free(c);
	wgq_config_free(NULL);
}

static void test_minimal(void **state)
{
	struct wgq_config *c = expect_ok("\xef\xbb\xbf" IFACE);

	assert_int_equal(c->npeers, 0);
	assert_int_equal(c->naddrs, 0);
	assert_int_equal(c->listen_port, -1);
	assert_int_equal(c->mtu, 0);
	assert_false(c->has_fwmark);
	wgq_config_free(c);

	c = expect_ok(IFACE "FwMark = off\nListenPort = 0\n");
	assert_false(c->has_fwmark);
	assert_int_equal(c->listen_port, 0);
	wgq_config_free(c);
}

static void test_interface_errors(void **state)
{
	expect_error("[Interface]\nPrivateKey = c2VjcmV0\n",
		     NAME ":2: PrivateKey is not a base64 32-byte key (value not shown)");
	/* 33 bytes' worth of base64 is not a key either */
	expect_error("[Interface]\nPrivateKey = " K1 "AAAA\n",
		     NAME ":2: PrivateKey is not a base64 32-byte key (value not shown)");
	expect_error(IFACE "Address = 10.0.0.1/33\n",
		     NAME ":3: Address: `10.0.0.1/33' is not an address or a prefix "
			  "(ADDRESS[/LENGTH])");
	expect_error(IFACE "Address = 2001:db8::zz/64\n",
		     NAME ":3: Address: `2001:db8::zz/64' is not an address or a prefix "
			  "(ADDRESS[/LENGTH])");
	expect_error(IFACE "Address = 2001:db8::1/64,\n",
		     NAME ":3: Address has an empty item: `2001:db8::1/64,'");
	expect_error(IFACE "Address = 2001:db8::1/64, ,10.0.0.1\n",
		     NAME ":3: Address has an empty item");
	expect_error(IFACE "ListenPort = 65536\n",
		     NAME ":3: ListenPort `65536' is not a port (0-65535)");
	expect_error(IFACE "MTU = 1279\n",
		     NAME ":3: MTU `1279' is not a number from 1280 (IPv6's minimum) to 65535");
	expect_error(IFACE "FwMark = 0x100000000\n",
		     NAME ":3: FwMark `0x100000000' is not a 32-bit number or `off'");
	expect_error(IFACE "FwMark = -1\n", NAME ":3: FwMark `-1' is not a 32-bit number or `off'");
	expect_error(IFACE "SaveConfg = true\n", NAME ":3: unknown key `SaveConfg' in [Interface]");
	expect_error(IFACE "PublicKey = " K2 "\n",
		     NAME ":3: unknown key `PublicKey' in [Interface]");
	expect_error("[Interface]\nAddress = 10.0.0.1/24\n",
		     NAME ": [Interface] has no PrivateKey");
	expect_error("", NAME ": [Interface] has no PrivateKey");
}

static void test_peer_errors(void **state)
{
	expect_error(IFACE "[Peer]\nEndpoint = 192.0.2.1:1\n", NAME ":3: [Peer] has no PublicKey");
	expect_error(IFACE "[Peer]\nAllowedIPs = ::/0\n[Peer]\nPublicKey = " K2 "\n",
		     NAME ":3: [Peer] has no PublicKey");
	expect_error(IFACE "[Peer]\nPublicKey = abc\n",
		     NAME ":4: PublicKey `abc' is not a base64 32-byte key");
	expect_error(IFACE "[Peer]\nPublicKey = " K2 "\nPublicKey = " K3 "\n",
		     NAME ":5: a second PublicKey in one [Peer]");
	expect_error(IFACE "[Peer]\nPublicKey = " K2 "\n[Peer]\nPublicKey = " K2 "\n",
		     NAME ":5: [Peer] has the same PublicKey as the [Peer] of line 3");
	expect_error(IFACE "[Peer]\nPresharedKey = " K2 "=\n",
		     NAME ":4: PresharedKey is not a base64 32-byte key (value not shown)");
	expect_error(IFACE "[Peer]\nAllowedIPs = ::/129\n",
		     NAME ":4: AllowedIPs: `::/129' is not an address or a prefix "
			  "(ADDRESS[/LENGTH])");
	expect_error(IFACE "[Peer]\nAllowedIPs = 10.0.0.0/8/8\n",
		     NAME ":4: AllowedIPs: `10.0.0.0/8/8' is not an address or a prefix "
			  "(ADDRESS[/LENGTH])");
	expect_error(IFACE "[Peer]\nPersistentKeepalive = 25s\n",
		     NAME ":4: PersistentKeepalive `25s' is not seconds (0-65535) or `off'");
	expect_error(IFACE "[Peer]\nPersistentKeepalive = 65536\n",
		     NAME ":4: PersistentKeepalive `65536' is not seconds (0-65535) or `off'");
	expect_error(IFACE "[Peer]\nEndpont = 192.0.2.1:1\n",
		     NAME ":4: unknown key `Endpont' in [Peer]");
	expect_error(IFACE "[Peer]\nPrivateKey = " K2 "\n",
		     NAME ":4: unknown key `PrivateKey' in [Peer]");
}

static void test_endpoint_errors(void **state)
{
	expect_error(IFACE "[Peer]\nEndpoint = 192.0.2.1\n",
		     NAME ":4: Endpoint `192.0.2.1' has no port (HOST:PORT)");
	expect_error(IFACE "[Peer]\nEndpoint = 2001:db8::1:51820\n",
		     NAME ":4: Endpoint `2001:db8::1:51820': an IPv6 address needs brackets "
			  "([IPV6]:PORT)");
	expect_error(IFACE "[Peer]\nEndpoint = [2001:db8::1]51820\n",
		     NAME ":4: Endpoint `[2001:db8::1]51820' is not [IPV6]:PORT");
	expect_error(IFACE "[Peer]\nEndpoint = [2001:db8::1:51820\n",
		     NAME ":4: Endpoint `[2001:db8::1:51820' is not [IPV6]:PORT");
	expect_error(IFACE "[Peer]\nEndpoint = [192.0.2.1]:5\n",
		     NAME ":4: Endpoint `[192.0.2.1]:5' has no valid host");
	expect_error(IFACE "[Peer]\nEndpoint = []:5\n",
		     NAME ":4: Endpoint `[]:5' has no valid host");
	expect_error(IFACE "[Peer]\nEndpoint = :5\n", NAME ":4: Endpoint `:5' has no valid host");
	expect_error(IFACE "[Peer]\nEndpoint = vpn example:5\n",
		     NAME ":4: Endpoint `vpn example:5' has no valid host");
	expect_error(IFACE "[Peer]\nEndpoint = 192.0.2.1:0\n",
		     NAME ":4: Endpoint `192.0.2.1:0' has no valid port (1-65535)");
	expect_error(IFACE "[Peer]\nEndpoint = [2001:db8::1]:65536\n",
		     NAME ":4: Endpoint `[2001:db8::1]:65536' has no valid port (1-65535)");
	expect_error(IFACE "[Peer]\nEndpoint = 192.0.2.1:http\n",
		     NAME ":4: Endpoint `192.0.2.1:http' has no valid port (1-65535)");
}

static void test_structure_errors(void **state)
{
	expect_error("PrivateKey = " K1 "\n",
		     NAME ":1: `PrivateKey' before any [Interface] or [Peer]");
	expect_error("# a comment\n[Interfaces]\n",
		     NAME ":2: unknown section `[Interfaces]' (expected [Interface] or [Peer])");
	expect_error(IFACE "just words\n", NAME ":3: expected `Key = Value' or a [Section]");
	/* the whole line may be a bare key: never echoed */
	expect_error(IFACE K2 "\n", NAME ":3: expected `Key = Value' or a [Section] (43 characters "
					 "before `=', not shown)");
	expect_error(IFACE " = 5\n", NAME ":3: a value without a key");
}

static void test_limits(void **state)
{
	char *text = malloc(WGQ_LINE_MAX * 2);
	struct wgq_config *c = wgq_config_alloc();
	char err[256];
	size_t n;

	assert_non_null(text);
	/* a NUL inside the text */
	memcpy(text, IFACE "MTU = 1400\0\n", sizeof(IFACE "MTU = 1400\0\n") - 1);
	assert_false(
		wgq_parse(c, NAME, text, sizeof(IFACE "MTU = 1400\0\n") - 1, err, sizeof(err)));
	assert_string_equal(err, NAME ":3: a NUL byte in the line");

	n = (size_t)snprintf(text, WGQ_LINE_MAX * 2, "%s", IFACE "Address = ");
	memset(text + n, ' ', WGQ_LINE_MAX);
	n += WGQ_LINE_MAX;
	assert_false(wgq_parse(c, NAME, text, n, err, sizeof(err)));
	assert_string_equal(err, NAME ":3: line longer than 4096 bytes");

	n = (size_t)snprintf(text, WGQ_LINE_MAX * 2, "%s", IFACE);
	for (int i = 0; i <= WGQ_PEERS_MAX; i++) {
		uint8_t key[WGQ_KEY_LEN] = { (uint8_t)i, 1 };
		char b64[64];

		sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
				  sodium_base64_VARIANT_ORIGINAL);
		n += (size_t)snprintf(text + n, WGQ_LINE_MAX * 2 - n, "[Peer]\nPublicKey=%s\n",
				      b64);
	}
	wgq_config_free(c);
	c = wgq_config_alloc();
	assert_false(wgq_parse(c, NAME, text, n, err, sizeof(err)));
	assert_string_equal(err, NAME ":35: more than 16 [Peer] sections");
	wgq_config_free(c);
	free(text);
}

static void test_secrets_not_echoed(void **state)
{
	const char *text = "[Interface]\nPrivateKey = not-a-key-but-a-secret\n";
	struct wgq_config *c = wgq_config_alloc();
	char err[256];

	assert_false(wgq_parse(c, NAME, text, strlen(text), err, sizeof(err)));
	assert_null(strstr(err, "secret"));
	wgq_config_free(c);
}

static void test_prefix_contains(void **state)
{
	struct wgq_prefix p;
	struct in6_addr a6;
	struct in_addr a4;
	struct wgq_config *c = expect_ok(IFACE
					 "[Peer]\nPublicKey = " K2
					 "\nAllowedIPs = ::/0, 10.0.0.0/9, 2001:db8:7f::/47\n");

	inet_pton(AF_INET6, "2001:db8:7e::1", &a6);
	inet_pton(AF_INET, "10.127.255.255", &a4);
	p = c->peers[0].allowed[0];
	assert_true(wgq_prefix_contains(&p, AF_INET6, a6.s6_addr));
	assert_false(wgq_prefix_contains(&p, AF_INET, (uint8_t *)&a4));
	p = c->peers[0].allowed[1];
	assert_true(wgq_prefix_contains(&p, AF_INET, (uint8_t *)&a4));
	inet_pton(AF_INET, "10.128.0.0", &a4);
	assert_false(wgq_prefix_contains(&p, AF_INET, (uint8_t *)&a4));
	p = c->peers[0].allowed[2]; /* host bits set, as written: 2001:db8:7e::/47 */
	assert_true(wgq_prefix_contains(&p, AF_INET6, a6.s6_addr));
	inet_pton(AF_INET6, "2001:db8:80::", &a6);
	assert_false(wgq_prefix_contains(&p, AF_INET6, a6.s6_addr));
	wgq_config_free(c);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_wgquick.XXXXXX";
	char err[256];
	struct wgq_config *c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, strlen(full)), (ssize_t)strlen(full));
	close(fd);
	chmod(path, 0644); /* world-readable: a warning, not an error */
	c = wgq_load(path, err, sizeof(err));
	if (!c)
		fail_msg("wgq_load: %s", err);
	assert_int_equal(c->npeers, 3);
	wgq_config_free(c);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[Interface]\nMTU = 9\n", 20), 20);
	close(fd);
	assert_null(wgq_load(path, err, sizeof(err)));
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ":2: MTU `9'"));
	unlink(path);

	assert_null(wgq_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open: No such file or directory"));
	assert_null(wgq_load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_interface_errors),
		cmocka_unit_test(test_peer_errors),
		cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
