/*
 * The firewall on the data path: one call per packet, after decryption
 * (inbound, from a peer) or before encryption (outbound, from the TUN).
 *
 * Order of decisions for one packet:
 *   1. A packet that cannot be parsed is dropped (invalid); so is an
 *      inbound packet not addressed to this node (a peer may not use this
 *      node as a router into its other networks).
 *   2. mantad's own control traffic passes: UDP between the GOSSIP_PORT
 *      sockets on the overlay IPv6 addresses (member lists, endpoint
 *      announcements, `manta ping'). Only mantad holds that socket, so
 *      this opens nothing else; see fw_control_ports in firewall.c.
 *   3. A later fragment of a datagram whose first fragment passed, passes.
 *   4. The rules, first match wins. An explicit deny wins over everything
 *      below: it also stops return traffic.
 *   5. No rule matched: the default for the direction (inbound from a
 *      static [peer] has its own). If it denies, the packet still passes
 *      if it is return traffic of a tracked flow (the other direction of a
 *      flow this node let through), or an ICMP error about such a flow.
 * Whatever passes updates connection tracking (TCP, UDP, echo).
 *
 * Concurrency: the compiled rule set is reached through one atomic
 * pointer, read once per packet and replaced whole by fw_install, so a
 * packet sees the old set or the new one, never a mix, and matching takes
 * no lock. mantad runs the data path on its one event-loop thread, which
 * is also where rule sets are installed, so the old set is freed at once;
 * a data path on other threads would have to free it after a grace period
 * instead. Connection tracking belongs to the data-path thread.
 */
#ifndef MANTA_FIREWALL_FIREWALL_H
#define MANTA_FIREWALL_FIREWALL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "firewall/conntrack.h"
#include "firewall/packet.h"
#include "firewall/ruleset.h"

#define FW_FRAGS 256
#define FW_FRAG_NS (10ull * 1000000000ull)

/* Packets by what happened to them; `manta status' shows these. */
struct fw_counters {
	uint64_t in_denied_rule, in_denied_default; /* dropped inbound: a deny rule; the default */
	uint64_t out_denied_rule, out_denied_default;
	uint64_t not_local; /* inbound, not addressed to this node */
	uint64_t invalid; /* could not be parsed */
	uint64_t passed_return; /* passed only as return traffic of a tracked flow */
	uint64_t passed_related; /* ICMP errors about a tracked flow */
	uint64_t passed_control; /* mantad's own gossip */
	uint64_t passed_fragment; /* later fragments of a datagram that passed */
	uint64_t rejected; /* replies sent in reject mode */
};

enum fw_verdict { FW_PASS = 0, FW_DROP, FW_REJECT };

/* A first fragment that passed, so the rest of its datagram follows. */
struct fw_frag {
	uint8_t family, proto;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint64_t until;
};

struct fw {
	_Atomic(struct fw_ruleset *) rs;
	struct fw_conntrack ct;
	struct fw_frag frags[FW_FRAGS];
	struct fw_packet last; /* the packet fw_filter parsed last */
	struct fw_counters counters;
};

int fw_init(struct fw *fw, uint32_t max_flows) WARN_UNUSED;
void fw_deinit(struct fw *fw);
/* Takes rs and makes it the live set (the old one is freed); resizes
 * connection tracking if rs asks for another size (on failure the table
 * keeps its size and this returns the error, the set is live anyway). */
int fw_install(struct fw *fw, struct fw_ruleset *rs);
static inline const struct fw_ruleset *fw_current(struct fw *fw)
{
	return atomic_load_explicit(&fw->rs, memory_order_acquire);
}

/* The verdict for one packet; now is monotonic ns. FW_REJECT when reject
 * mode is on and the packet is denied: the caller asks fw_reject for the
 * reply. Allocates nothing. */
enum fw_verdict fw_filter(struct fw *fw, enum fw_dir dir, const uint8_t *ip, size_t len,
			  uint64_t now);
/* The reply to the packet fw_filter just rejected (ip and len as given to
 * it), into out (FW_REJECT_MAX bytes); its length or 0. */
size_t fw_reject(struct fw *fw, const uint8_t *ip, size_t len, uint8_t *out, size_t cap);
/* Forget idle flows; call about once a second. */
void fw_tick(struct fw *fw, uint64_t now);

#endif
