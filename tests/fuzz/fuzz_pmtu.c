/* libFuzzer harness for what path MTU does with packets read from the TUN
 * (and, for the MSS clamp, from peers): byte 0 picks the MTU, byte 1 the
 * largest inner packet, the rest is the packet.
 *
 *   icmp_build_too_big: the error is at most 576 (IPv4) / 1280 (IPv6)
 *   bytes, quotes a prefix of the packet, and its checksums verify; no
 *   error is built about a packet icmp_may_answer refuses.
 *   pmtu_clamp_mss: changes at most the TCP checksum and the MSS value,
 *   never raises the MSS, and a TCP checksum that was right stays right.
 *
 * Probe and ack parsing (pmtu_receive) is reached by fuzz_receive, whose
 * sealed-plaintext mode hands arbitrary authenticated packets to the
 * engine. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/checksum.h"
#include "mesh/pmtu.h"
#include "tun/icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[ICMP_ERROR_MAX], pkt[2048];

static bool tcp6_sum_ok(const uint8_t *p, size_t len)
{
	size_t tlen;

	if (len < 40 || p[0] >> 4 != 6 || p[6] != 6)
		return false;
	tlen = get_be16(p + 4);
	if (tlen < 20 || 40 + tlen > len)
		return false;
	return checksum_finish(checksum_add(checksum_ipv6_pseudo(p + 8, p + 24, (uint32_t)tlen, 6),
					    p + 40, tlen)) == 0;
}

static void check_icmp(const uint8_t *p, size_t len, uint32_t mtu)
{
	size_t n = icmp_build_too_big(out, p, len, mtu, NULL);

	if (icmp_may_answer(p, len) != ICMP_OK) {
		if (n)
			abort();
		return;
	}
	if (p[0] >> 4 == 4) {
		if (n < 28 || n > ICMP4_ERROR_MAX || memcmp(out + 28, p, n - 28) != 0 ||
		    checksum_finish(checksum_add(0, out, 20)) != 0 ||
		    checksum_finish(checksum_add(0, out + 20, n - 20)) != 0)
			abort();
		return;
	}
	if (n < 48 || n > ICMP6_ERROR_MAX || memcmp(out + 48, p, n - 48) != 0 ||
	    checksum_finish(
		    checksum_add(checksum_ipv6_pseudo(out + 8, out + 24, (uint32_t)(n - 40), 58),
				 out + 40, n - 40)) != 0)
		abort();
}

static void check_clamp(const uint8_t *p, size_t len, unsigned max_inner)
{
	struct pmtu pm = { .max_inner = (uint16_t)max_inner, .outer_fragments = true };
	bool sum_ok = tcp6_sum_ok(p, len);
	size_t diffs = 0;

	memcpy(pkt, p, len);
	pmtu_clamp_mss(&pm, pkt, len);
	for (size_t i = 0; i < len; i++)
		if (pkt[i] != p[i])
			diffs++;
	if (diffs > 4 || (diffs && !pm.mss_clamped) || (!diffs && pm.mss_clamped > 1))
		abort();
	if (sum_ok && !tcp6_sum_ok(pkt, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size - 2 > sizeof(pkt))
		return 0;
	check_icmp(data + 2, size - 2, 1000 + (uint32_t)data[0] * 4);
	check_clamp(data + 2, size - 2, 1100 + (unsigned)data[1]);
	return 0;
}
