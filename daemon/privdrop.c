/* --user: the directories the user needs, then the switch (privdrop.h). */
#include "daemon/privdrop.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* mkdir -p: parents get 0755 and stay root's, the last one gets mode and
 * the user. A directory that exists must already be the user's: handing
 * over a tree someone else owns is the administrator's decision (and a
 * recursive chown by root is how hard links get abused). */
static int own_dir(const char *path, mode_t mode, const struct passwd *pw, const char *what)
{
	struct stat st;
	char *p;
	int r = 0;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			log_err("mantad", "%s: the %s is not a directory", path, what);
			return -ENOTDIR;
		}
		if (st.st_uid != pw->pw_uid) {
			log_err("mantad",
				"%s: the %s belongs to uid %u, not to %s (chown -R %s: %s)", path,
				what, (unsigned)st.st_uid, pw->pw_name, pw->pw_name, path);
			return -EPERM;
		}
		return 0;
	}
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			goto err;
		*s = '/';
	}
	if (mkdir(p, mode) != 0 || chown(p, pw->pw_uid, pw->pw_gid) != 0)
		goto err;
	log_info("mantad", "%s: created the %s for %s", path, what, pw->pw_name);
	goto out;

err:
	r = -errno;
	log_err("mantad", "%s: cannot create the %s: %s", p, what, strerror(-r));
out:
	free(p);
	return r;
}

/* The control socket's directory is created for the user if it is missing
 * (/run/manta after a reboot); one that exists may be shared (/run), and
 * whether the user may create the socket there shows when it does. */
static int socket_dir(const char *socket_path, const struct passwd *pw)
{
	const char *slash = strrchr(socket_path, '/');
	struct stat st;
	char *dir;
	int r = 0;

	if (!slash || slash == socket_path)
		return 0;
	dir = strndup(socket_path, (size_t)(slash - socket_path));
	if (!dir)
		return -ENOMEM;
	if (stat(dir, &st) != 0)
		r = own_dir(dir, 0755, pw, "control socket's directory");
	free(dir);
	return r;
}

/* Whether children get CAP_NET_ADMIN (privdrop.h), for privdrop_finish. */
static bool child_caps;

int privdrop_start(const char *user, const char *state_dir, const char *socket_path,
		   const char *config_path, bool child_net_admin)
{
	struct passwd *pw;
	int r;

	child_caps = child_net_admin;
	if (!user)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		log_err("mantad", "--user %s: %s", user, errno ? strerror(errno) : "no such user");
		return errno ? -errno : -ENOENT;
	}
	if (getuid() == pw->pw_uid && pw->pw_uid != 0)
		return 0; /* already that user (systemd's User=) */
	if (geteuid() != 0) {
		log_err("mantad", "--user %s: only root can become another user", user);
		return -EPERM;
	}
	r = own_dir(state_dir, 0700, pw, "state directory");
	if (r < 0)
		return r;
	r = socket_dir(socket_path, pw);
	if (r < 0)
		return r;
	if (child_net_admin) {
		r = own_dir(PRIVDROP_WIREGUARD_DIR, 0755, pw, "wireguard-go socket directory");
		if (r < 0)
			return r;
	}
	r = privdrop_become(user, pw->pw_uid, pw->pw_gid, child_net_admin);
	if (r < 0)
		return r;
	log_info("mantad", "running as %s (uid %u)", user, (unsigned)pw->pw_uid);
	if (config_path && access(config_path, R_OK) != 0)
		log_warn("config", "%s: %s cannot read it, so SIGHUP cannot re-read it: %s",
			 config_path, user, strerror(errno));
	return 0;
}

int privdrop_finish(void)
{
	if (getuid() == 0)
		return 0;
	return privdrop_keep_runtime_caps(child_caps);
}
