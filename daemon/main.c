/* mantad: the manta daemon. See `mantad --help` and README.md. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/privdrop.h"
#include "daemon/supervisor.h"

#define DEFAULT_SOCKET "/run/manta/manta.sock"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: mantad [--config FILE] [--state-dir DIR] [--socket PATH]\n"
		"              [--user USER] [--foreground] [--log-level LEVEL]\n"
		"\n"
		"  --config FILE     INI configuration (manta.conf(5)); default: none\n"
		"  --state-dir DIR   node key and state (default /var/lib/manta)\n"
		"  --socket PATH     control socket (default %s)\n"
		"  --user USER       started as root: run as USER, keeping only the\n"
		"                    network capabilities (CAP_NET_ADMIN, CAP_NET_RAW)\n"
		"  --foreground      log to standard error instead of syslog\n"
		"  --log-level L     debug, info, warn or error (default: from the config)\n"
		"  --version         print the version\n"
		"\n"
		"SIGHUP re-reads the configuration, SIGTERM stops. See mantad(8).\n",
		DEFAULT_SOCKET);
}

struct options {
	bool foreground;
	const char *log_level;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct mantad *d, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:s:S:u:fl:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 's':
			d->state_dir_override = optarg;
			break;
		case 'S':
			d->socket_path = optarg;
			break;
		case 'u':
			d->user = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'l':
			o->log_level = optarg;
			break;
		case 'V':
			printf("mantad %s\n", MANTA_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mantad: unexpected argument `%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct mantad d;
	struct options o = { 0 };
	enum log_level level = LOG_LEVEL_INFO;
	int code, r;

	/* A client that goes away while a reply is being written, or a peer
	 * socket that breaks, must not kill the daemon: writes fail with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	d.socket_path = getenv("MANTA_SOCKET") ? getenv("MANTA_SOCKET") : DEFAULT_SOCKET;
	d.dp.tun_fd = d.dp.udp_fd = -1;
	code = parse_args(argc, argv, &d, &o);
	if (code >= 0)
		return code;
	if (o.log_level && !log_level_parse(o.log_level, &level)) {
		fprintf(stderr, "mantad: --log-level must be debug, info, warn or error: `%s'\n",
			o.log_level);
		return 2;
	}
	log_init("mantad", !o.foreground, level);
	supervisor_init(&d.svc);

	/* Everything is open once mantad_start returns (as --user's user, if
	 * given): the capabilities needed only for that go before READY=1. */
	r = mantad_start(&d);
	if (r == 0)
		r = privdrop_finish();
	if (r == 0 && !o.log_level)
		log_init("mantad", !o.foreground, d.cfg.log_level);
	if (r == 0) {
		supervisor_ready(&d);
		uv_run(&d.loop, UV_RUN_DEFAULT);
	}
	mantad_stop(&d);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	mantad_cleanup(&d);
	if (uv_loop_close(&d.loop) != 0) {
		log_err("mantad", "event loop still has open handles at exit");
		return 1;
	}
	if (r == 0)
		log_info("mantad", "stopped");
	return r == 0 ? 0 : 1;
}
