#include "common/checksum.h"

uint32_t checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t checksum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t checksum_ipv6_pseudo(const uint8_t src[16], const uint8_t dst[16], uint32_t len,
			      uint8_t nh)
{
	uint8_t tail[8] = { (uint8_t)(len >> 24),
			    (uint8_t)(len >> 16),
			    (uint8_t)(len >> 8),
			    (uint8_t)len,
			    0,
			    0,
			    0,
			    nh };
	uint32_t sum = checksum_add(0, src, 16);

	sum = checksum_add(sum, dst, 16);
	return checksum_add(sum, tail, sizeof(tail));
}
