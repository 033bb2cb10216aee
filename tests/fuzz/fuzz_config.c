/* libFuzzer harness for the INI configuration parser: any bytes in, a
 * parse and a free out, with no crash, leak or sanitizer report. The parser
 * never resolves names, so this touches no network. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct config c;
	char err[512];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_init(&c);
	if (config_parse_string(text, "fuzz.conf", &c, err, sizeof(err))) {
		/* A config that parses has only valid endpoints. */
		for (size_t i = 0; i < c.npeers; i++)
			if (c.peers[i].endpoint[0] && !config_endpoint_valid(c.peers[i].endpoint))
				abort();
	} else if (strncmp(err, "fuzz.conf:", 10) != 0) {
		abort(); /* every message names the file */
	}
	config_free(&c);
	free(text);
	return 0;
}
