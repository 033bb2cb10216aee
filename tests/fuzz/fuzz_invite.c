/* libFuzzer harness for invite tokens: the input as pasted text, and the
 * input as the token's binary body (wrapped in base64url here), so that the
 * fuzzer reaches the field parser without having to learn base64. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX_LEN (sizeof(INVITE_PREFIX) - 1)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void check(const char *token)
{
	struct invite inv;
	char err[256];

	err[0] = '\0';
	if (invite_decode(token, &inv, err, sizeof(err)) == 0) {
		/* what decodes is within the header's limits */
		if (!hostname_valid(inv.label) || inv.nendpoints > INVITE_MAX_ENDPOINTS ||
		    (inv.flags & ~INVITE_FLAG_REUSABLE))
			abort();
		for (size_t i = 0; i < inv.nendpoints; i++)
			if (inv.endpoints[i].sin6_port == 0)
				abort();
	} else if (err[0] == '\0') {
		abort(); /* every failure says why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (sodium_init() < 0)
		abort();
	text = malloc(PREFIX_LEN + sodium_base64_ENCODED_LEN(size, B64));
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check(text);
	memcpy(text, INVITE_PREFIX, PREFIX_LEN);
	sodium_bin2base64(text + PREFIX_LEN, sodium_base64_ENCODED_LEN(size, B64), data, size, B64);
	check(text);
	free(text);
	return 0;
}
