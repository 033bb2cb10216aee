/*
 * libFuzzer harness for the uplink health prober's reply path
 * (uplink/health_echo.h): whatever an ICMPv6 socket may hand over, from
 * whichever source, goes through health_echo_reply against a prober with
 * pending probes to two targets. Byte 0 picks the source (either target or
 * a stranger), byte 1 the arrival time; the rest is the ICMPv6 message.
 *
 *   - it matches exactly when an independent check says it should: an echo
 *     reply (type 129, code 0, 8 bytes at least) with the prober's
 *     identifier and the sequence number of a probe pending for that
 *     source;
 *   - a match frees that one slot and records one sample, a reply or (late)
 *     a loss; anything else leaves the prober byte for byte as it was.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "uplink/health.h"
#include "uplink/health_echo.h"

#define MS 1000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct health h, before;

static void setup(void)
{
	uint8_t req[HEALTH_ECHO_LEN];

	memset(&h, 0, sizeof(h));
	health_reset(&h);
	h.cfg.ntargets = 2;
	h.cfg.interval_ns = 1000 * MS;
	/* 2001:db8:ffff::1 and ::2 */
	for (int i = 0; i < 2; i++) {
		h.cfg.targets[i].s6_addr[0] = 0x20;
		h.cfg.targets[i].s6_addr[1] = 0x01;
		h.cfg.targets[i].s6_addr[2] = 0x0d;
		h.cfg.targets[i].s6_addr[3] = 0xb8;
		h.cfg.targets[i].s6_addr[4] = 0xff;
		h.cfg.targets[i].s6_addr[5] = 0xff;
		h.cfg.targets[i].s6_addr[15] = (uint8_t)(i + 1);
	}
	h.ident = 0x4d48;
	h.seq = 0xfffe; /* the sequence numbers wrap: 0xfffe, 0xffff, 0, 1 */
	for (int i = 0; i < 4; i++)
		(void)health_echo_build(&h, (uint8_t)(i % 2), (uint64_t)(i + 1) * 100 * MS, req);
	health_record_link(&h, true, true, 0, 0);
}

static bool should_match(const uint8_t *m, size_t len, const struct in6_addr *from)
{
	if (len < 8 || m[0] != 129 || m[1] != 0 || get_be16(m + 4) != 0x4d48)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(before.pending); i++) {
		const struct health_pending *p = &before.pending[i];

		if (p->used && p->seq == get_be16(m + 6) &&
		    memcmp(&before.cfg.targets[p->target], from, sizeof(*from)) == 0)
			return true;
	}
	return false;
}

static size_t used_slots(const struct health *x)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(x->pending); i++)
		n += x->pending[i].used;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in6_addr stranger = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 } };
	const struct in6_addr *from;
	uint8_t *msg;
	size_t len;
	bool matched;

	if (size < 2)
		return 0;
	setup();
	from = data[0] % 3 == 2 ? &stranger : &h.cfg.targets[data[0] % 3];
	len = size - 2;
	/* An exact-size copy, so that ASan sees any read past the end. */
	msg = malloc(len ? len : 1);
	if (!msg)
		return 0;
	memcpy(msg, data + 2, len);
	before = h;
	matched = health_echo_reply(&h, msg, len, from, (uint64_t)data[1] * 10 * MS);
	if (matched != should_match(msg, len, from))
		abort();
	if (!matched) {
		if (memcmp(&h, &before, sizeof(h)) != 0)
			abort();
	} else if (used_slots(&h) != used_slots(&before) - 1 || h.nsamples != before.nsamples + 1 ||
		   h.replies + h.consecutive_lost != before.replies + before.consecutive_lost + 1) {
		abort();
	}
	free(msg);
	return 0;
}
