/* libFuzzer harness for the firewall's packet path: any bytes as an IP
 * packet from a peer and from the TUN, through the parser, the rules,
 * connection tracking and reject mode. A reply that is built must itself
 * parse, and be no longer than its bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "firewall/firewall.h"
#include "firewall/reject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fw fw;
static bool ready;

static void setup(void)
{
	struct fw_local local = { { 2 }, { 100, 64, 0, 1 } };
	struct fw_member_info m = { "home", "bob", NULL, 0 };
	struct fw_identity id = { .nets = &m, .nnets = 1 };
	struct fw_policy p;
	struct fw_rule r;

	if (fw_init(&fw, 256) < 0 || fw_policy_init(&p) < 0)
		abort();
	id.v6[0] = 2;
	id.v6[15] = 2;
	memcpy(id.v4, "\x64\x40\x00\x02", 4);
	fw_rule_init(&r, FW_IN, FW_ALLOW);
	r.proto = FW_PROTO_UDP;
	r.nports = 1;
	r.ports[0].lo = 53;
	r.ports[0].hi = 53;
	if (fw_policy_insert(&p, 1, &r) < 0)
		abort();
	p.reject = true;
	p.max_flows = 256;
	if (fw_install(&fw, fw_ruleset_compile(&p, &id, 1, &local, 1)) < 0)
		abort();
	fw_policy_free(&p);
	ready = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now = 1;
	uint8_t out[FW_REJECT_MAX], *copy;
	struct fw_packet p;

	if (!ready)
		setup();
	if (size > 2048)
		return 0;
	copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	now += 1000000000ull;
	for (int dir = FW_IN; dir <= FW_OUT; dir++) {
		if (fw_filter(&fw, (enum fw_dir)dir, copy, size, now) == FW_REJECT) {
			size_t n = fw_reject(&fw, copy, size, out, sizeof(out));

			if (n > FW_REJECT_MAX || (n && !fw_packet_parse(out, n, &p)))
				abort();
		}
	}
	fw_tick(&fw, now);
	free(copy);
	return 0;
}
