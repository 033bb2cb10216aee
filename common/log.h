/*
 * Logging: log_info("peer", "alice (245:b453::…): handshake complete").
 * Lines go to stderr in the foreground and to syslog (the journal) otherwise.
 * Object first, lower case, never key material.
 */
#ifndef MANTA_COMMON_LOG_H
#define MANTA_COMMON_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERR };

void log_init(const char *ident, bool use_syslog, enum log_level min_level);
bool log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *subsystem, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(sub, ...) log_msg(LOG_LEVEL_DEBUG, sub, __VA_ARGS__)
#define log_info(sub, ...) log_msg(LOG_LEVEL_INFO, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LOG_LEVEL_WARN, sub, __VA_ARGS__)
#define log_err(sub, ...) log_msg(LOG_LEVEL_ERR, sub, __VA_ARGS__)

#endif
