/* What several subcommands share: JSON output, human units, durations and
 * the default hostname. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_print_json(const struct cli *cli, const char *cmd, json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
					   JSON_REAL_PRECISION(9));
	int r = CLI_EXIT_OK;

	if (!text || printf("%s\n", text) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "%s %s: cannot write the output\n", cli->prog, cmd);
		r = CLI_EXIT_FAIL;
	}
	free(text);
	return r;
}

const char *cli_str(json_t *o, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : fallback;
}

void cli_format_bytes(uint64_t n, char *out, size_t cap)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(out, cap, "%llu B", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, cap, "%.2f %s", v, units[u]);
}

void cli_format_ago(json_t *t, time_t now, char *out, size_t cap)
{
	long long ago;

	if (!json_is_integer(t) || json_integer_value(t) <= 0) {
		snprintf(out, cap, "never");
		return;
	}
	ago = (long long)now - (long long)json_integer_value(t);
	if (ago < 0)
		ago = 0; /* the clock moved */
	if (ago < 60)
		snprintf(out, cap, "%llds ago", ago);
	else if (ago < 3600)
		snprintf(out, cap, "%lldm ago", ago / 60);
	else if (ago < 2 * 86400)
		snprintf(out, cap, "%lldh ago", ago / 3600);
	else
		snprintf(out, cap, "%lldd ago", ago / 86400);
}

bool cli_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_duration(const char *s, long long *seconds)
{
	/* Ten years: far past anything mantad accepts, far from overflow. */
	const long long max = 10LL * 366 * 86400;
	long long unit = 1, v;
	char num[24];
	size_t len = strlen(s);

	if (strcmp(s, "never") == 0) {
		*seconds = 0;
		return true;
	}
	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		len++; /* no unit: seconds */
		break;
	}
	num[len - 1] = '\0';
	if (num[0] == '-' || !cli_parse_int(num, 0, max / unit, &v))
		return false;
	*seconds = v * unit;
	return true;
}

void cli_default_hostname(char out[CLI_LABEL_MAX + 1])
{
	char host[256] = "";
	size_t n = 0;

	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	for (const char *p = host; *p && *p != '.' && n < CLI_LABEL_MAX; p++) {
		char ch = (char)tolower((unsigned char)*p);

		if (!isalnum((unsigned char)ch) || (unsigned char)ch > 127)
			ch = '-';
		/* No leading hyphen, and no runs of them. */
		if (ch == '-' && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = ch;
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, CLI_LABEL_MAX + 1, "node");
}
