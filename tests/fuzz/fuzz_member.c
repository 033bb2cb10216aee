/* libFuzzer harness for the signed blobs members relay for each other:
 * member records and endpoint announcements. What decodes must encode back
 * to the same bytes (each has exactly one encoding). */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/announce.h"
#include "mesh/member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[MAX(MEMBER_RECORD_MAX, ANNOUNCE_MAX)];
	struct member_record r;
	struct announce a;
	char err[256];

	if (sodium_init() < 0)
		abort();
	err[0] = '\0';
	if (member_record_decode(data, size, &r, err, sizeof(err)) == 0) {
		if (member_record_encode(&r, out, sizeof(out)) != size || memcmp(out, data, size))
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	err[0] = '\0';
	if (announce_decode(data, size, &a, err, sizeof(err)) == 0) {
		if (announce_encode(&a, out, sizeof(out)) != size || memcmp(out, data, size))
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	return 0;
}
