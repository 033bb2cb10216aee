/* libFuzzer harness for gossip datagrams as they arrive from a peer. The
 * parsed message is large, so it is kept in the heap across runs, as the
 * daemon keeps one. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/gossip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gossip_msg *m;
	char err[256];

	if (!m) {
		if (sodium_init() < 0)
			abort();
		m = malloc(sizeof(*m));
		if (!m)
			abort();
	}
	err[0] = '\0';
	if (gossip_parse(data, size, m, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (m->ndigests > GOSSIP_MAX_DIGESTS ||
	    m->nrecords + m->nannounces + m->rejected > GOSSIP_MAX_ITEMS)
		abort();
	if (m->type == GOSSIP_HOSTNAME && !hostname_valid(m->hostname))
		abort();
	if (m->type == GOSSIP_PROBE) {
		uint8_t back[GOSSIP_MAX];

		/* A request that parsed has a port and encodes back to the same bytes. */
		if (m->probe.port == 0 ||
		    gossip_build_probe(&m->probe, back, sizeof(back)) != size ||
		    memcmp(back, data, size) != 0)
			abort();
	}
	if (m->type == GOSSIP_PROBE_ACK && (unsigned)m->probe_ack.status > PROBE_STATUS_MAX)
		abort();
	return 0;
}
