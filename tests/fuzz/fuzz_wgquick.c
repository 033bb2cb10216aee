/* libFuzzer harness for the wg-quick file parser (uplink/wgquick.c): any
 * bytes in, a parse and a free out, with no crash, leak or sanitizer
 * report. A file that parses holds only what the parser promises; one that
 * does not names the file in its message. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "uplink/wgquick.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct wgq_config *c)
{
	if (!c->has_private_key || c->naddrs > WGQ_ADDRS_MAX || c->npeers > WGQ_PEERS_MAX)
		abort();
	if (c->mtu && c->mtu < 1280)
		abort();
	for (size_t i = 0; i < c->npeers; i++) {
		const struct wgq_peer *p = &c->peers[i];

		if (!p->has_public_key || p->nallowed > WGQ_ALLOWED_MAX)
			abort();
		if (p->endpoint_host[0] && p->endpoint_port == 0)
			abort();
		for (size_t j = 0; j < p->nallowed; j++)
			if (p->allowed[j].plen > (p->allowed[j].family == AF_INET6 ? 128 : 32))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct wgq_config *c;
	char err[512];

	if (!quiet) {
		log_init("fuzz", false, LOG_LEVEL_ERR);
		quiet = 1;
	}
	c = wgq_config_alloc();
	if (!c)
		return 0;
	if (wgq_parse(c, "fuzz.conf", (const char *)data, size, err, sizeof(err)))
		check(c);
	else if (strncmp(err, "fuzz.conf:", 10) != 0)
		abort(); /* every message names the file */
	wgq_config_free(c);
	return 0;
}
