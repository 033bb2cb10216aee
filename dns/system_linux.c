/*
 * The host side of Magic DNS on Linux (see system.h): what a killed run
 * left is undone, the upstreams are read, the mode is chosen from what the
 * host looks like, and applied; stop undoes it.
 *
 * STATE_DIR/dns/takeover holds one line, written (atomically) before the
 * host is changed and removed after the change is undone:
 *   direct               resolv.conf was rewritten; resolv.conf.orig is its copy
 *   resolvconf RECORD    `resolvconf -a RECORD' was run
 *   resolved IFINDEX     resolved was told about the link
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "common/log.h"
#include "dns/system.h"

static void path_in(const struct dns_system *s, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", s->dir, name);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &len, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char file[1024];

	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(file, sizeof(file), "%.*s/%s", (int)len, path, prog);
		if (len && access(file, X_OK) == 0)
			return true;
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

int dns_bind_to_device(int fd, const char *ifname)
{
	return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0 ?
		       -errno :
		       0;
}

/* --- the takeover record --------------------------------------------------- */

static int takeover_write(struct dns_system *s, const char *line)
{
	char path[600];
	int r;

	path_in(s, "takeover", path, sizeof(path));
	r = atomic_write_file(path, line, strlen(line), 0600);
	if (r < 0)
		log_err("dns", "%s: cannot write: %s (the host's DNS is left alone)", path,
			strerror(-r));
	return r;
}

static void takeover_clear(struct dns_system *s)
{
	char path[600];

	path_in(s, "takeover", path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("dns", "%s: cannot remove: %s", path, strerror(errno));
}

/* Undo what the record says a previous run did. */
__attribute__((noinline)) static void recover(struct dns_system *s)
{
	char path[600], backup[600], err[1024], *line;
	int r;

	path_in(s, "takeover", path, sizeof(path));
	path_in(s, "resolv.conf.orig", backup, sizeof(backup));
	line = read_text(path);
	if (!line)
		return;
	log_warn("dns", "%s: the last run did not undo its DNS changes; undoing them now", path);
	if (strncmp(line, "direct", 6) == 0) {
		r = dns_direct_restore(s->path, backup, err, sizeof(err));
		if (r < 0)
			log_err("dns", "%s", err);
		else
			log_info("dns", "%s: %s", s->path,
				 r ? "the original is back" :
				     "changed by someone else since; left as it is");
	} else if (strncmp(line, "resolvconf ", 11) == 0) {
		line[strcspn(line, "\n")] = '\0';
		if (dns_resolvconf_set(line + 11, false, err, sizeof(err)) < 0)
			log_warn("dns", "%s", err);
	}
	/* resolved: the link died with the TUN, and resolved forgot it. */
	free(line);
	takeover_clear(s);
}

/* --- upstreams -------------------------------------------------------------- */

static void save_upstreams(struct dns_system *s)
{
	char path[600], text[DNS_UPSTREAMS_MAX * 64] = "", a[INET6_ADDRSTRLEN];
	size_t off = 0;
	int r;

	for (size_t i = 0; i < s->nupstreams; i++) {
		const struct sockaddr_storage *u = &s->upstreams[i];
		const void *addr =
			u->ss_family == AF_INET ?
				(const void *)&((const struct sockaddr_in *)u)->sin_addr :
				(const void *)&((const struct sockaddr_in6 *)u)->sin6_addr;

		inet_ntop(u->ss_family, addr, a, sizeof(a));
		off += (size_t)snprintf(text + off, sizeof(text) - off, "nameserver %s\n", a);
	}
	path_in(s, "upstreams", path, sizeof(path));
	r = atomic_write_file(path, text, off, 0600);
	if (r < 0)
		log_warn("dns", "%s: cannot write: %s", path, strerror(-r));
}

/* From resolv.conf unless it is ours (then from what an earlier run saw). */
__attribute__((noinline)) static void capture_upstreams(struct dns_system *s)
{
	char path[600];
	char *text = read_text(s->path);

	if (text && !dns_resolv_conf_is_ours(text, strlen(text))) {
		s->nupstreams = dns_resolv_conf_nameservers(text, s->upstreams, DNS_UPSTREAMS_MAX);
		if (s->nupstreams == 0) {
			/* resolv.conf(5): no nameserver line means the local one */
			struct sockaddr_in *lo = (struct sockaddr_in *)&s->upstreams[0];

			memset(lo, 0, sizeof(s->upstreams[0]));
			lo->sin_family = AF_INET;
			lo->sin_port = htons(53);
			lo->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			s->nupstreams = 1;
		}
		save_upstreams(s);
	} else {
		free(text);
		path_in(s, "upstreams", path, sizeof(path));
		text = read_text(path);
		s->nupstreams = dns_resolv_conf_nameservers(text, s->upstreams, DNS_UPSTREAMS_MAX);
		log_info("dns", "%s is mantad's own: forwarding to the %zu upstreams saved in %s",
			 s->path, s->nupstreams, path);
	}
	free(text);
}

/* --- modes ------------------------------------------------------------------ */

/* (not inlined: each of these keeps its buffers in its own frame) */
__attribute__((noinline)) static enum dns_mode choose(struct dns_system *s)
{
	struct dns_probe p = { 0 };
	char link[1024], hosts[256];
	char *resolv = read_text(s->path), *nss = read_text(DNS_NSSWITCH_CONF);
	ssize_t n = readlink(s->path, link, sizeof(link) - 1);
	enum dns_mode mode;

	if (n > 0) {
		link[n] = '\0';
		p.resolv_conf_link = link;
	}
	p.resolv_conf = resolv;
	if (nss && dns_nsswitch_hosts(nss, hosts, sizeof(hosts)))
		p.nsswitch_hosts = hosts;
	s->resolved = dns_resolved_open(s->loop);
	p.resolved_answers = s->resolved != NULL;
	p.resolvconf_installed = in_path("resolvconf");
	mode = dns_system_choose(&p, s->accept, s->why, sizeof(s->why));
	if (mode != DNS_MODE_RESOLVED) {
		dns_resolved_close(s->resolved);
		s->resolved = NULL;
	}
	free(resolv);
	free(nss);
	return mode;
}

__attribute__((noinline)) static int apply_mode(struct dns_system *s, char *err, size_t errlen)
{
	char line[64], backup[600];
	int r;

	switch (s->mode) {
	case DNS_MODE_DIRECT:
		path_in(s, "resolv.conf.orig", backup, sizeof(backup));
		r = takeover_write(s, "direct\n");
		if (r == 0)
			r = dns_direct_apply(s->path, backup, err, errlen);
		if (r < 0 && dns_direct_restore(s->path, backup, line, sizeof(line)) >= 0)
			takeover_clear(s);
		return r;
	case DNS_MODE_RESOLVCONF:
		snprintf(line, sizeof(line), "resolvconf tun.%s\n", s->ifname);
		r = takeover_write(s, line);
		line[strcspn(line, "\n")] = '\0';
		if (r == 0)
			r = dns_resolvconf_set(line + strlen("resolvconf "), true, err, errlen);
		return r;
	case DNS_MODE_RESOLVED:
		snprintf(line, sizeof(line), "resolved %s\n", s->ifname);
		r = takeover_write(s, line);
		if (r == 0)
			r = dns_resolved_apply(s->resolved, s->ifname);
		if (r < 0)
			snprintf(err, errlen, "systemd-resolved refused the link settings: %s",
				 strerror(-r));
		return r;
	default:
		return 0;
	}
}

void dns_system_apply(struct dns_system *s)
{
	char err[1024] = "";
	int r;

	if (s->applied)
		return;
	s->mode = choose(s);
	log_info("dns", "mode %s: %s", dns_mode_name(s->mode), s->why);
	if (s->mode == DNS_MODE_OFF)
		return;
	r = apply_mode(s, err, sizeof(err));
	if (r < 0) {
		log_err("dns", "%s; the host's DNS is left as it was", err);
		snprintf(s->why, sizeof(s->why), "%s", err);
		s->mode = DNS_MODE_FAILED;
		return;
	}
	s->applied = true;
}

void dns_system_revert(struct dns_system *s)
{
	char err[1024], backup[600], record[IFNAMSIZ + 8];
	int r = 0;

	if (!s->applied)
		return;
	switch (s->mode) {
	case DNS_MODE_DIRECT:
		path_in(s, "resolv.conf.orig", backup, sizeof(backup));
		r = dns_direct_restore(s->path, backup, err, sizeof(err));
		if (r == 0)
			log_warn("dns",
				 "%s was changed by someone else while mantad ran: left as "
				 "it is",
				 s->path);
		break;
	case DNS_MODE_RESOLVCONF:
		snprintf(record, sizeof(record), "tun.%s", s->ifname);
		r = dns_resolvconf_set(record, false, err, sizeof(err));
		break;
	case DNS_MODE_RESOLVED:
		dns_resolved_revert(s->resolved);
		break;
	default:
		break;
	}
	if (r < 0) {
		log_err("dns", "%s (the takeover record stays for the next start)", err);
		return;
	}
	takeover_clear(s);
	s->applied = false;
	log_info("dns", "mode %s undone", dns_mode_name(s->mode));
}

void dns_system_start(struct dns_system *s, uv_loop_t *loop, const char *dir,
		      const char *resolv_conf, const char *ifname, bool accept)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->accept = accept;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->path, sizeof(s->path), "%s", resolv_conf ? resolv_conf : DNS_RESOLV_CONF);
	snprintf(s->ifname, sizeof(s->ifname), "%s", ifname);
	recover(s);
	capture_upstreams(s);
	if (accept)
		dns_system_apply(s);
	else
		dns_system_choose(&(struct dns_probe){ 0 }, false, s->why, sizeof(s->why));
}

void dns_system_stop(struct dns_system *s)
{
	dns_system_revert(s);
	dns_resolved_close(s->resolved);
	s->resolved = NULL;
}
