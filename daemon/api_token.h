/*
 * The REST API's bearer token file (api_token.c): STATE_DIR/api.token.
 */
#ifndef MANTA_DAEMON_API_TOKEN_H
#define MANTA_DAEMON_API_TOKEN_H

#include <stddef.h>

#include "common/util.h"

#define API_TOKEN_FILE "api.token"
#define API_TOKEN_MIN 16
#define API_TOKEN_MAX 256

/* STATE_DIR/api.token into token (NUL-terminated), created if missing.
 * 0, or a negative errno with err saying what is wrong with the file. */
int api_token_load(const char *state_dir, char token[API_TOKEN_MAX + 1], char *err,
		   size_t errlen) WARN_UNUSED;

#endif
