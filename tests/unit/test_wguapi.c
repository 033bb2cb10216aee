/* wireguard-go's UAPI text (uplink/wguapi.c): the exact `set' request for a
 * wg-quick file, answers whole or not, and the peers of a `get' answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "uplink/wguapi.h"

#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K3 "//////////////////////////////////////////8="
#define H1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define H2 "0000000000000000000000000000000000000000000000000000000000000000"
#define H3 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static struct wgq_config *parse(const char *text)
{
	struct wgq_config *c = wgq_config_alloc();
	char err[256];

	assert_non_null(c);
	if (!wgq_parse(c, "t.conf", text, strlen(text), err, sizeof(err)))
		fail_msg("%s", err);
	return c;
}

static void test_set_request(void **state)
{
	struct wgq_config *c = parse("[Interface]\nPrivateKey = " K1 "\nListenPort = 51821\n"
				     "FwMark = 0x10\n"
				     "[Peer]\nPublicKey = " K2 "\nPresharedKey = " K3 "\n"
				     "AllowedIPs = ::/0, 10.0.0.0/8\nPersistentKeepalive = 25\n"
				     "[Peer]\nPublicKey = " K3 "\n");
	struct sockaddr_storage eps[WGQ_PEERS_MAX] = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&eps[0];
	const char *want = "set=1\n"
			   "private_key=" H1 "\n"
			   "listen_port=51821\n"
			   "fwmark=16\n"
			   "replace_peers=true\n"
			   "public_key=" H2 "\n"
			   "preshared_key=" H3 "\n"
			   "endpoint=[2001:db8::7]:51820\n"
			   "persistent_keepalive_interval=25\n"
			   "replace_allowed_ips=true\n"
			   "allowed_ip=::/0\n"
			   "allowed_ip=10.0.0.0/8\n"
			   "public_key=" H3 "\n"
			   "persistent_keepalive_interval=0\n"
			   "replace_allowed_ips=true\n"
			   "\n";
	size_t len = 0;
	char *req;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(51820);
	inet_pton(AF_INET6, "2001:db8::7", &s6->sin6_addr);
	req = wguapi_set_request(c, eps, &len);
	assert_non_null(req);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(req, want, len);
	sodium_free(req);
	wgq_config_free(c);

	/* no listen port, no fwmark (0 clears it), an IPv4 endpoint */
	c = parse("[Interface]\nPrivateKey = " K1 "\n[Peer]\nPublicKey = " K2 "\n");
	memset(eps, 0, sizeof(eps));
	((struct sockaddr_in *)&eps[0])->sin_family = AF_INET;
	((struct sockaddr_in *)&eps[0])->sin_port = htons(4500);
	inet_pton(AF_INET, "192.0.2.1", &((struct sockaddr_in *)&eps[0])->sin_addr);
	req = wguapi_set_request(c, eps, &len);
	assert_non_null(req);
	want = "set=1\nprivate_key=" H1 "\nfwmark=0\nreplace_peers=true\npublic_key=" H2
	       "\nendpoint=192.0.2.1:4500\npersistent_keepalive_interval=0\n"
	       "replace_allowed_ips=true\n\n";
	assert_int_equal(len, strlen(want));
	assert_memory_equal(req, want, len);
	sodium_free(req);
	wgq_config_free(c);
}

static int answer(const char *text, long *e)
{
	return wguapi_answer(text, strlen(text), e);
}

static void test_answer(void **state)
{
	long e = 99;

	assert_int_equal(answer("", &e), 0);
	assert_int_equal(answer("errno=0\n", &e), 0);
	assert_int_equal(answer("public_key=" H2 "\nrx_bytes=1\n", &e), 0);
	assert_int_equal(answer("errno=0\n\n", &e), 1);
	assert_int_equal(e, 0);
	assert_int_equal(answer("errno=-22\n\n", &e), 1);
	assert_int_equal(e, -22);
	assert_int_equal(answer("private_key=" H1 "\npublic_key=" H2 "\nerrno=0\n\n", &e), 1);
	assert_int_equal(e, 0);
	assert_int_equal(answer("rx_bytes=5\n\n", &e), -EPROTO);
	assert_int_equal(answer("errno=\n\n", &e), -EPROTO);
	assert_int_equal(answer("errno=1x\n\n", &e), -EPROTO);
	assert_int_equal(answer("\n\n", &e), -EPROTO);
}

static void test_parse_get(void **state)
{
	char text[] = "private_key=" H1 "\n"
		      "listen_port=51821\n"
		      "public_key=" H2 "\n"
		      "preshared_key=" H2 "\n"
		      "protocol_version=1\n"
		      "endpoint=10.0.0.1:51820\n"
		      "last_handshake_time_sec=1795000000\n"
		      "last_handshake_time_nsec=123\n"
		      "tx_bytes=2532\n"
		      "rx_bytes=2444\n"
		      "persistent_keepalive_interval=25\n"
		      "allowed_ip=::/0\n"
		      "public_key=nothex\n"
		      "rx_bytes=7\n"
		      "public_key=" H3 "\n"
		      "endpoint=[2001:db8::7]:4500\n"
		      "last_handshake_time_sec=0\n"
		      "rx_bytes=0\n"
		      "tx_bytes=148\n"
		      "garbage\n"
		      "errno=0\n";
	char copy[sizeof(text)];
	struct wguapi_peer p[3];
	uint8_t k2[WGQ_KEY_LEN] = { 0 }, k3[WGQ_KEY_LEN];

	memset(k3, 0xff, sizeof(k3));
	memcpy(copy, text, sizeof(text));
	assert_int_equal(wguapi_parse_get(text, p, 3), 2);
	assert_memory_equal(p[0].public_key, k2, WGQ_KEY_LEN);
	assert_string_equal(p[0].endpoint, "10.0.0.1:51820");
	assert_int_equal(p[0].handshake_sec, 1795000000);
	assert_int_equal(p[0].handshake_nsec, 123);
	assert_int_equal(p[0].tx_bytes, 2532);
	assert_int_equal(p[0].rx_bytes, 2444);
	assert_memory_equal(p[1].public_key, k3, WGQ_KEY_LEN);
	assert_string_equal(p[1].endpoint, "[2001:db8::7]:4500");
	assert_int_equal(p[1].handshake_sec, 0);
	assert_int_equal(p[1].rx_bytes, 0);
	assert_int_equal(p[1].tx_bytes, 148);

	/* room for one: the first, untouched by the second's lines */
	assert_int_equal(wguapi_parse_get(copy, p, 1), 1);
	assert_int_equal(p[0].tx_bytes, 2532);
	assert_string_equal(p[0].endpoint, "10.0.0.1:51820");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_request),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_parse_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
