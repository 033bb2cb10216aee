/*
 * manta service install|uninstall|status: mantad as a service of the
 * running system, without a package. The service manager is detected
 * (systemd when /run/systemd/system exists, launchd when launchctl does) or
 * named with --init. install writes the files `make install' and the
 * Debian package ship (copies of packaging/ are built into this program:
 * the unit or the plist, the sysusers.d line, a commented configuration
 * unless one exists), creates the manta user and group, and enables and
 * starts the service; uninstall stops it and removes what install wrote,
 * keeping the configuration, the state (the node key) and the user. With
 * --root DIR the files go under DIR and nothing is started: for images,
 * chroots and tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/atomicfile.h"
#include "service_templates.h" /* generated from packaging/ (Makefile) */

#define UNIT_NAME "mantad.service"
#define UNIT_PATH "/etc/systemd/system/" UNIT_NAME
#define PLIST_LABEL "net.manta.mantad"
#define PLIST_PATH "/Library/LaunchDaemons/" PLIST_LABEL ".plist"
#define SYSCONFDIR "/etc"
#define CONFIG_PATH SYSCONFDIR "/manta/manta.conf"

enum init_system { INIT_NONE, INIT_SYSTEMD, INIT_LAUNCHD };

static const char *const init_names[] = {
	[INIT_NONE] = "none",
	[INIT_SYSTEMD] = "systemd",
	[INIT_LAUNCHD] = "launchd",
};

/* Where packages and `make install' put the unit; install leaves those be. */
static const char *const vendor_unit_dirs[] = {
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
};

static const struct option opts[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "init", required_argument, NULL, 'i' },
	{ "no-start", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

struct svc {
	const struct cli *cli;
	enum init_system init;
	const char *root; /* NULL: the running system */
	bool live; /* the running system, and its service manager is up */
	bool start; /* install: enable and start; uninstall: stop */
	json_t *steps; /* what was done, for --json */
};

/* One line of what was done: stdout, or stderr under --json. */
__attribute__((format(printf, 2, 3))) static void step(struct svc *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(s->cli->json ? stderr : stdout, "%s\n", line);
	json_array_append_new(s->steps, json_string(line));
}

static int failed(const struct svc *s, const char *what, const char *path, int err)
{
	fprintf(stderr, "%s service: %s %s: %s%s\n", s->cli->prog, what, path, strerror(err),
		err == EACCES || err == EPERM ? " (run as root)" : "");
	return CLI_EXIT_FAIL;
}

/* path under --root, or path itself; NULL only when out of memory. */
static char *at_root(const struct svc *s, const char *path)
{
	char *p;

	if (!s->root)
		return strdup(path);
	return asprintf(&p, "%s%s", s->root, path) < 0 ? NULL : p;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* mkdir -p of the directory holding path. */
static int make_parents(const char *path)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *q = p + 1; (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*q = '/';
	}
	free(p);
	return r;
}

static int write_file(struct svc *s, const char *path, const char *text, mode_t mode)
{
	char *full = at_root(s, path);
	int r = full ? make_parents(full) : -ENOMEM;

	if (r == 0)
		r = atomic_write_file(full, text, strlen(text), mode);
	if (r < 0) {
		failed(s, "cannot write", full ? full : path, -r);
		free(full);
		return -1;
	}
	step(s, "wrote %s", full);
	free(full);
	return 0;
}

/* A template with @SBINDIR@ and @SYSCONFDIR@ filled in (heap). */
static char *fill(const char *tmpl, const char *sbindir)
{
	static const char *const names[] = { "@SBINDIR@", "@SYSCONFDIR@" };
	const char *values[] = { sbindir, SYSCONFDIR };
	size_t cap = strlen(tmpl) + 1, len = 0;
	char *out;

	for (const char *t = tmpl; (t = strchr(t, '@')) != NULL; t++)
		cap += strlen(sbindir) + strlen(SYSCONFDIR);
	out = malloc(cap);
	if (!out)
		return NULL;
	while (*tmpl) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strncmp(tmpl, names[i], strlen(names[i])) == 0)
				break;
		if (i == ARRAY_SIZE(names)) {
			out[len++] = *tmpl++;
			continue;
		}
		memcpy(out + len, values[i], strlen(values[i]));
		len += strlen(values[i]);
		tmpl += strlen(names[i]);
	}
	out[len] = '\0';
	return out;
}

/* The directory of the mantad to run: next to this manta (a build
 * directory), in ../sbin from it (an installation), or in the usual places.
 * Heap, or NULL. */
static char *find_sbindir(void)
{
	static const char *const usual[] = { "/usr/sbin", "/usr/local/sbin" };
	char *self = realpath("/proc/self/exe", NULL), *dir = NULL, *p;

	if (self) {
		*strrchr(self, '/') = '\0';
		if (asprintf(&p, "%s/mantad", self) >= 0) {
			if (access(p, X_OK) == 0)
				dir = strdup(self);
			free(p);
		}
		if (!dir && asprintf(&p, "%s/../sbin/mantad", self) >= 0) {
			char *real = realpath(p, NULL);

			if (real && access(real, X_OK) == 0) {
				*strrchr(real, '/') = '\0';
				dir = real;
			} else {
				free(real);
			}
			free(p);
		}
		free(self);
	}
	for (size_t i = 0; !dir && i < ARRAY_SIZE(usual); i++) {
		if (asprintf(&p, "%s/mantad", usual[i]) < 0)
			break;
		if (access(p, X_OK) == 0)
			dir = strdup(usual[i]);
		free(p);
	}
	return dir;
}

/* Run argv, input (or nothing) on its stdin and its output into out (or
 * onto ours). Its exit status, 127 if it could not be run, -1 on failure. */
static int run(const char *const argv[], const char *input, char *out, size_t outlen)
{
	int in[2] = { -1, -1 }, res[2] = { -1, -1 }, status;
	pid_t pid;

	if (pipe(in) != 0 || pipe(res) != 0)
		goto err;
	pid = fork();
	if (pid < 0)
		goto err;
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		if (out) {
			dup2(res[1], STDOUT_FILENO);
			dup2(res[1], STDERR_FILENO);
		}
		close(in[0]);
		close(in[1]);
		close(res[0]);
		close(res[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	signal(SIGPIPE, SIG_IGN);
	if (input && write(in[1], input, strlen(input)) < 0)
		input = NULL; /* it did not want it; its status says more */
	close(in[1]);
	if (out && outlen) {
		size_t len = 0;
		ssize_t n;

		while (len + 1 < outlen && (n = read(res[0], out + len, outlen - 1 - len)) > 0)
			len += (size_t)n;
		out[len] = '\0';
		out[strcspn(out, "\n")] = '\0';
	}
	close(res[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;

err:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (res[i] >= 0)
			close(res[i]);
	}
	return -1;
}

/* Run a step of the service manager's; 0 if it succeeded. */
static int run_step(struct svc *s, const char *const argv[], const char *input)
{
	char cmd[256] = "";
	int r;

	for (size_t i = 0; argv[i]; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "",
			 argv[i]);
	r = run(argv, input, NULL, 0);
	if (r == 0) {
		step(s, "ran %s", cmd);
		return 0;
	}
	fprintf(stderr, "%s service: %s %s\n", s->cli->prog, cmd,
		r == 127 ? "could not be run" : "failed");
	return -1;
}

static int write_config(struct svc *s)
{
	char *path = at_root(s, CONFIG_PATH);
	bool have = path && exists(path);

	free(path);
	if (have) {
		step(s, "kept %s", CONFIG_PATH);
		return 0;
	}
	return write_file(s, CONFIG_PATH, tmpl_manta_conf, 0644);
}

/* --- systemd ---------------------------------------------------------------- */

/* A unit from a package or `make install', under --root; heap or NULL. */
static char *vendor_unit(const struct svc *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(vendor_unit_dirs); i++) {
		char *p = NULL;

		if (s->root ? asprintf(&p, "%s%s/%s", s->root, vendor_unit_dirs[i], UNIT_NAME) < 0 :
			      asprintf(&p, "%s/%s", vendor_unit_dirs[i], UNIT_NAME) < 0)
			return NULL;
		if (exists(p))
			return p;
		free(p);
	}
	return NULL;
}

static int sysusers(struct svc *s)
{
	char *opt = NULL;
	const char *argv[] = { "systemd-sysusers", "-", NULL, NULL };
	int r;

	if (s->root) {
		if (asprintf(&opt, "--root=%s", s->root) < 0)
			return -1;
		argv[1] = opt;
		argv[2] = "-";
	}
	r = run_step(s, argv, tmpl_manta_sysusers);
	free(opt);
	if (r < 0)
		fprintf(stderr,
			"%s service: create the manta user and group by hand: "
			"useradd --system --user-group --home-dir /var/lib/manta manta\n",
			s->cli->prog);
	return r;
}

static int systemd_install(struct svc *s, const char *sbindir)
{
	static const char *const reload[] = { "systemctl", "daemon-reload", NULL };
	static const char *const enable[] = { "systemctl", "enable", "--now", UNIT_NAME, NULL };
	char *vendor = vendor_unit(s), *unit;
	int r = 0;

	if (vendor) {
		step(s, "kept %s (from a package or make install)", vendor);
	} else {
		unit = fill(tmpl_mantad_service_in, sbindir);
		r = unit ? write_file(s, UNIT_PATH, unit, 0644) : -1;
		free(unit);
	}
	free(vendor);
	if (r == 0)
		r = sysusers(s);
	if (r == 0)
		r = write_config(s);
	if (r == 0 && s->live && s->start) {
		r = run_step(s, reload, NULL);
		if (r == 0)
			r = run_step(s, enable, NULL);
	} else if (r == 0 && !s->live) {
		step(s, "not started: %s", s->root ? "--root" : "systemd is not running here");
	}
	return r;
}

/* Only a unit that install wrote (it starts with the template's first
 * line) is removed; one an administrator wrote stays. */
static int systemd_uninstall(struct svc *s)
{
	static const char *const disable[] = { "systemctl", "disable", "--now", UNIT_NAME, NULL };
	static const char *const reload[] = { "systemctl", "daemon-reload", NULL };
	size_t first = strcspn(tmpl_mantad_service_in, "\n") + 1;
	char *path = at_root(s, UNIT_PATH), *vendor = vendor_unit(s), head[256] = "";
	FILE *f;

	if (!path)
		return -1;
	if (s->live && s->start && run(disable, NULL, head, sizeof(head)) == 0)
		step(s, "ran systemctl disable --now %s", UNIT_NAME);
	f = fopen(path, "re");
	if (f && fgets(head, (int)sizeof(head), f) && strlen(head) == first &&
	    strncmp(head, tmpl_mantad_service_in, first) == 0) {
		if (unlink(path) != 0) {
			fclose(f);
			failed(s, "cannot remove", path, errno);
			free(path);
			free(vendor);
			return -1;
		}
		step(s, "removed %s", path);
	} else if (f) {
		step(s, "kept %s: manta service install did not write it", path);
	}
	if (f)
		fclose(f);
	if (vendor)
		step(s, "kept %s: remove it with its package or make uninstall", vendor);
	if (s->live)
		run_step(s, reload, NULL);
	free(path);
	free(vendor);
	return 0;
}

static void systemd_status(struct svc *s, json_t *st)
{
	static const char *const enabled[] = { "systemctl", "is-enabled", UNIT_NAME, NULL };
	static const char *const active[] = { "systemctl", "is-active", UNIT_NAME, NULL };
	char *unit = at_root(s, UNIT_PATH), *vendor = vendor_unit(s), out[128];

	if (vendor)
		json_object_set_new(st, "unit", json_string(vendor));
	else if (unit && exists(unit))
		json_object_set_new(st, "unit", json_string(unit));
	if (s->live && run(enabled, NULL, out, sizeof(out)) >= 0 && out[0])
		json_object_set_new(st, "enabled", json_string(out));
	if (s->live && run(active, NULL, out, sizeof(out)) >= 0 && out[0])
		json_object_set_new(st, "active", json_string(out));
	free(unit);
	free(vendor);
}

/* --- launchd ---------------------------------------------------------------- */

static int launchd_install(struct svc *s, const char *sbindir)
{
	const char *const boot[] = { "launchctl", "bootstrap", "system", PLIST_PATH, NULL };
	char *plist = fill(tmpl_net_manta_mantad_plist_in, sbindir), *path;
	int r = plist ? write_file(s, PLIST_PATH, plist, 0644) : -1;

	free(plist);
	path = r == 0 && !s->root ? at_root(s, PLIST_PATH) : NULL;
	if (path && chown(path, 0, 0) != 0) { /* root:wheel, as launchd wants */
		failed(s, "cannot give to root:wheel", path, errno);
		r = -1;
	}
	free(path);
	if (r == 0)
		r = write_config(s);
	if (r == 0)
		step(s, "not created: the manta group (not supported yet on macOS; "
			"mantad runs as root)");
	if (r == 0 && s->live && s->start)
		r = run_step(s, boot, NULL);
	return r;
}

static int launchd_uninstall(struct svc *s)
{
	const char *const bootout[] = { "launchctl", "bootout", "system/" PLIST_LABEL, NULL };
	char *path = at_root(s, PLIST_PATH), out[256];

	if (!path)
		return -1;
	if (s->live && s->start && run(bootout, NULL, out, sizeof(out)) == 0)
		step(s, "ran launchctl bootout system/%s", PLIST_LABEL);
	if (unlink(path) == 0)
		step(s, "removed %s", path);
	else if (errno != ENOENT)
		failed(s, "cannot remove", path, errno);
	free(path);
	return 0;
}

static void launchd_status(struct svc *s, json_t *st)
{
	const char *const print[] = { "launchctl", "print", "system/" PLIST_LABEL, NULL };
	char *path = at_root(s, PLIST_PATH), out[128];

	if (path && exists(path))
		json_object_set_new(st, "unit", json_string(path));
	if (s->live)
		json_object_set_new(st, "active",
				    json_string(run(print, NULL, out, sizeof(out)) == 0 ?
							"loaded" :
							"not loaded"));
	free(path);
}

/* --- the subcommand ------------------------------------------------------------ */

static enum init_system detect(void)
{
	struct stat st;

	if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode))
		return INIT_SYSTEMD;
	if (access("/bin/launchctl", X_OK) == 0)
		return INIT_LAUNCHD;
	return INIT_NONE;
}

static int install(struct svc *s)
{
	char *sbindir = find_sbindir();
	int r;

	if (!sbindir) {
		fprintf(stderr,
			"%s service: no mantad next to manta, in /usr/sbin or in "
			"/usr/local/sbin\n",
			s->cli->prog);
		return CLI_EXIT_FAIL;
	}
	r = s->init == INIT_SYSTEMD ? systemd_install(s, sbindir) : launchd_install(s, sbindir);
	free(sbindir);
	return r == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int uninstall(struct svc *s)
{
	int r = s->init == INIT_SYSTEMD ? systemd_uninstall(s) : launchd_uninstall(s);

	if (r == 0)
		step(s, "kept %s, the state directory and the manta user and group", CONFIG_PATH);
	return r == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* Exit 0 when mantad answers on its socket, 1 when not. */
static int status(struct svc *s)
{
	static const char *const keys[] = { "init", "unit", "enabled", "active", "mantad" };
	json_t *st = json_pack("{s:s,s:b}", "init", init_names[s->init], "running", s->live);
	json_t *res = NULL;
	int r = CLI_EXIT_FAIL;

	if (!st)
		return CLI_EXIT_FAIL;
	/* With no service manager running, what is installed still shows. */
	if (s->init == INIT_LAUNCHD)
		launchd_status(s, st);
	else
		systemd_status(s, st);
	if (access(s->cli->socket_path, F_OK) == 0 &&
	    cli_call(s->cli, "version", NULL, &res) == 0) {
		json_object_set_new(st, "mantad", json_string(cli_str(res, "version", "unknown")));
		r = CLI_EXIT_OK;
	} else {
		json_object_set_new(st, "mantad", json_null());
	}
	json_decref(res);
	if (s->cli->json) {
		if (cli_print_json(s->cli, "service", st) != CLI_EXIT_OK)
			r = CLI_EXIT_FAIL;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			const char *v = cli_str(st, keys[i], NULL);

			if (v)
				printf("%-8s %s\n", keys[i], v);
		}
		if (!json_is_string(json_object_get(st, "mantad")))
			printf("%-8s not answering at %s\n", "mantad", s->cli->socket_path);
	}
	json_decref(st);
	return r;
}

static bool parse_init(const char *name, enum init_system *out)
{
	for (size_t i = INIT_SYSTEMD; i < ARRAY_SIZE(init_names); i++) {
		if (strcmp(name, init_names[i]) == 0) {
			*out = (enum init_system)i;
			return true;
		}
	}
	return false;
}

int cmd_service(struct cli *cli, int argc, char **argv)
{
	struct svc s = { .cli = cli, .start = true };
	enum init_system running = detect(), chosen = running;
	const char *action;
	int c, r;

	while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'r':
			s.root = strcmp(optarg, "/") == 0 ? NULL : optarg;
			break;
		case 'i':
			if (!parse_init(optarg, &chosen))
				return cli_usage_error(cli, argv[0],
						       "--init must be systemd or launchd: `%s'",
						       optarg);
			break;
		case 'n':
			s.start = false;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, argv[0]);
	action = argv[optind];
	if (strcmp(action, "install") != 0 && strcmp(action, "uninstall") != 0 &&
	    strcmp(action, "status") != 0)
		return cli_usage_error(cli, argv[0], "unknown action `%s'", action);
	s.init = chosen;
	s.live = !s.root && chosen == running && running != INIT_NONE;
	if (strcmp(action, "status") == 0)
		return status(&s);
	if (chosen == INIT_NONE) {
		fprintf(stderr,
			"%s service: neither systemd nor launchd runs here: start mantad from "
			"your init system (mantad(8)), or write the files with --init and --root\n",
			cli->prog);
		return CLI_EXIT_FAIL;
	}
	s.steps = json_array();
	r = strcmp(action, "install") == 0 ? install(&s) : uninstall(&s);
	if (cli->json && r == CLI_EXIT_OK) {
		json_t *out = json_pack("{s:s,s:s,s:O}", "init", init_names[s.init], "action",
					action, "steps", s.steps);

		r = out ? cli_print_json(cli, argv[0], out) : CLI_EXIT_FAIL;
		json_decref(out);
	}
	json_decref(s.steps);
	return r;
}
