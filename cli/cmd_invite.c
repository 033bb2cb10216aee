/*
 * manta invite NAME: an invite token for a network this node owns. The
 * token alone goes to stdout (TOKEN=$(manta invite home) works), what it
 * allows to stderr, and with --qr a QR code of it follows the token.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define DEFAULT_EXPIRES (24 * 3600)

static const struct option opts[] = {
	{ "expires", required_argument, NULL, 'e' },
	{ "reusable", no_argument, NULL, 'r' },
	{ "qr", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 },
};

static void print_terms(json_t *res)
{
	json_t *exp = json_object_get(res, "expires");
	bool reusable = json_is_true(json_object_get(res, "reusable"));
	char when[64] = "";

	if (json_is_integer(exp) && json_integer_value(exp) > 0) {
		time_t t = (time_t)json_integer_value(exp);
		struct tm tm;

		if (localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M %Z", &tm);
	}
	if (when[0])
		fprintf(stderr, "valid until %s, %s\n", when,
			reusable ? "for any number of joins" : "for one join");
	else
		fprintf(stderr, "never expires, %s\n",
			reusable ? "for any number of joins" : "for one join");
}

int cmd_invite(struct cli *cli, int argc, char **argv)
{
	long long expires = DEFAULT_EXPIRES;
	bool reusable = false, qr = false;
	const char *token;
	json_t *res;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'e':
			if (!cli_parse_duration(optarg, &expires))
				return cli_usage_error(cli, argv[0],
						       "`%s' is not a duration (30m, 24h, 7d, "
						       "3600 or never)",
						       optarg);
			break;
		case 'r':
			reusable = true;
			break;
		case 'q':
			qr = true;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, argv[0]);
	r = cli_call(cli, "invite",
		     json_pack("{s:s,s:I,s:b}", "name", argv[optind], "expires",
			       (json_int_t)expires, "reusable", reusable),
		     &res);
	if (r != CLI_EXIT_OK)
		return r;
	token = cli_str(res, "token", NULL);
	if (cli->json) {
		r = cli_print_json(cli, argv[0], res);
	} else if (!token) {
		fprintf(stderr, "%s %s: mantad's reply has no token\n", cli->prog, argv[0]);
		r = CLI_EXIT_FAIL;
	} else {
		printf("%s\n", token);
		fflush(stdout);
		print_terms(res);
		if (qr)
			r = cli_print_qr(stdout, token, isatty(STDOUT_FILENO));
	}
	json_decref(res);
	return r;
}
