#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *const level_names[] = { "debug", "info", "warn", "error" };
static const int syslog_levels[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };

/* File-scope state is the one exception to the no-globals rule: a logger is
 * needed before, and after, any daemon context exists. */
static bool log_to_syslog;
static enum log_level log_min = LOG_LEVEL_INFO;

void log_init(const char *ident, bool use_syslog, enum log_level min_level)
{
	log_to_syslog = use_syslog;
	log_min = min_level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_msg(enum log_level level, const char *subsystem, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_to_syslog) {
		syslog(syslog_levels[level], "%s: %s", subsystem, line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, level_names[level], subsystem, line);
}
