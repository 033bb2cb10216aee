/*
 * The choice of how to point the host at the resolver, and the resolv.conf
 * text it reads and writes (see system.h). No I/O here: the tests hand in
 * file contents and probe results.
 */
#include "dns/system.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/packet.h"

const char *dns_mode_name(enum dns_mode m)
{
	static const char *const names[] = {
		[DNS_MODE_OFF] = "off",
		[DNS_MODE_DIRECT] = "direct",
		[DNS_MODE_RESOLVCONF] = "resolvconf",
		[DNS_MODE_RESOLVED] = "resolved",
		[DNS_MODE_FAILED] = "failed",
	};

	return (size_t)m < ARRAY_SIZE(names) ? names[m] : "unknown";
}

/* Calls fn on each line (without its newline); stops when fn returns false. */
static void each_line(const char *text, bool (*fn)(const char *line, size_t len, void *ctx),
		      void *ctx)
{
	while (text && *text) {
		size_t len = strcspn(text, "\n");

		if (!fn(text, len, ctx))
			return;
		text += len;
		if (*text == '\n')
			text++;
	}
}

/* The first word of a line and what follows it, blanks skipped. */
static bool keyword(const char *line, size_t len, const char *kw, const char **rest,
		    size_t *rest_len)
{
	size_t k = strlen(kw), i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < k + 1 || memcmp(line + i, kw, k) != 0 ||
	    !(line[i + k] == ' ' || line[i + k] == '\t'))
		return false;
	i += k;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*rest = line + i;
	*rest_len = len - i;
	return true;
}

struct ns_ctx {
	struct sockaddr_storage *out;
	size_t max, n;
};

static bool add_nameserver(const char *line, size_t len, void *vctx)
{
	struct ns_ctx *c = vctx;
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *rest;
	size_t rlen, alen;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char *pct;

	if (c->n == c->max || !keyword(line, len, "nameserver", &rest, &rlen))
		return c->n < c->max;
	alen = strcspn(rest, " \t#;\n");
	alen = MIN(alen, rlen);
	if (alen == 0 || alen >= sizeof(addr))
		return true;
	memcpy(addr, rest, alen);
	addr[alen] = '\0';
	pct = strchr(addr, '%');
	if (pct) {
		s6->sin6_scope_id = if_nametoindex(pct + 1);
		*pct = '\0';
	}
	if (!pct && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		if (memcmp(&s4->sin_addr, dns_resolver_v4, 4) == 0)
			return true;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(DNS_PORT);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		if (memcmp(&s6->sin6_addr, dns_resolver_v6, 16) == 0)
			return true;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(DNS_PORT);
	} else {
		return true;
	}
	c->out[c->n++] = ss;
	return true;
}

size_t dns_resolv_conf_nameservers(const char *text, struct sockaddr_storage *out, size_t max)
{
	struct ns_ctx c = { out, max, 0 };

	each_line(text, add_nameserver, &c);
	return c.n;
}

bool dns_resolv_conf_is_ours(const char *text, size_t len)
{
	size_t m = strlen(DNS_OURS_MARK);

	return text && len >= m && memcmp(text, DNS_OURS_MARK, m) == 0;
}

struct make_ctx {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void append(struct make_ctx *c, const char *s, size_t n)
{
	if (c->oom)
		return;
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *b = realloc(c->buf, cap);

		if (!b) {
			c->oom = true;
			return;
		}
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

static bool keep_line(const char *line, size_t len, void *vctx)
{
	const char *rest;
	size_t rlen;

	if (keyword(line, len, "search", &rest, &rlen) ||
	    keyword(line, len, "domain", &rest, &rlen) ||
	    keyword(line, len, "options", &rest, &rlen)) {
		append(vctx, line, len);
		append(vctx, "\n", 1);
	}
	return true;
}

char *dns_resolv_conf_make(const char *original, const char *backup_path)
{
	struct make_ctx c = { 0 };
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "%s (Magic DNS); DO NOT EDIT.\n"
			 "# The file it replaced is kept in %s and is put back when\n"
			 "# mantad stops, or when it starts again after a crash.\n"
			 "nameserver 100.100.100.53\n",
			 DNS_OURS_MARK, backup_path);

	if (n < 0 || (size_t)n >= sizeof(head))
		return NULL;
	append(&c, head, (size_t)n);
	if (original && !dns_resolv_conf_is_ours(original, strlen(original)))
		each_line(original, keep_line, &c);
	if (c.oom) {
		free(c.buf);
		return NULL;
	}
	return c.buf;
}

struct hosts_ctx {
	char *buf;
	size_t cap;
	bool found;
};

static bool find_hosts(const char *line, size_t len, void *vctx)
{
	struct hosts_ctx *c = vctx;
	size_t i = 0, n;

	while (i < len && isspace((unsigned char)line[i]))
		i++;
	if (len - i < 6 || memcmp(line + i, "hosts:", 6) != 0)
		return true;
	i += 6;
	n = strcspn(line + i, "#\n");
	n = MIN(n, len - i);
	snprintf(c->buf, c->cap, "%.*s", (int)n, line + i);
	c->found = true;
	return false;
}

bool dns_nsswitch_hosts(const char *text, char *buf, size_t cap)
{
	struct hosts_ctx c = { buf, cap, false };

	if (cap)
		buf[0] = '\0';
	each_line(text, find_hosts, &c);
	return c.found;
}

/* True if the word appears in s as a whole word (nsswitch service names). */
static bool has_word(const char *s, const char *word)
{
	size_t w = strlen(word);

	for (const char *p = s; p && (p = strstr(p, word)); p += w) {
		bool start = p == s || !isalnum((unsigned char)p[-1]);
		bool end = !isalnum((unsigned char)p[w]) && p[w] != '_';

		if (start && end)
			return true;
	}
	return false;
}

static bool names_stub(const char *text)
{
	struct sockaddr_storage ns[8];
	size_t n = dns_resolv_conf_nameservers(text, ns, ARRAY_SIZE(ns));

	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&ns[i];
		uint32_t a = ntohl(s->sin_addr.s_addr);

		if (ns[i].ss_family == AF_INET && (a == 0x7f000035 || a == 0x7f000036))
			return true;
	}
	return false;
}

/* resolvconf writes a header naming itself (Debian's resolvconf,
 * openresolv); its output lives in /run/resolvconf or /etc/resolvconf/run. */
static bool resolvconf_owns(const struct dns_probe *p)
{
	const char *l = p->resolv_conf_link;

	if (l && (strstr(l, "/run/resolvconf/") || strstr(l, "resolvconf/run/")))
		return true;
	if (!p->resolv_conf)
		return false;
	for (const char *t = p->resolv_conf; *t == '#' || *t == '\n';) {
		size_t len = strcspn(t, "\n");

		if (*t == '#' && len && memmem(t, len, "resolvconf", 10))
			return true;
		t += len;
		if (*t == '\n')
			t++;
	}
	return false;
}

enum dns_mode dns_system_choose(const struct dns_probe *p, bool accept_dns, char *why,
				size_t whylen)
{
	bool stub = p->resolv_conf && names_stub(p->resolv_conf);
	bool nss = p->nsswitch_hosts && has_word(p->nsswitch_hosts, "resolve");

	if (!accept_dns) {
		snprintf(why, whylen, "accept_dns is off: the host's DNS is left alone");
		return DNS_MODE_OFF;
	}
	if ((stub || nss) && p->resolved_answers) {
		snprintf(why, whylen, "systemd-resolved is in the resolution path (%s)",
			 stub ? "resolv.conf names its stub 127.0.0.53" :
				"nsswitch.conf's hosts line has `resolve'");
		return DNS_MODE_RESOLVED;
	}
	if (resolvconf_owns(p) && p->resolvconf_installed) {
		snprintf(why, whylen, "resolv.conf is generated by resolvconf");
		return DNS_MODE_RESOLVCONF;
	}
	if (stub || nss)
		snprintf(why, whylen,
			 "resolv.conf or nsswitch.conf point at systemd-resolved, but it does "
			 "not answer on D-Bus: rewriting resolv.conf");
	else if (resolvconf_owns(p))
		snprintf(why, whylen,
			 "resolv.conf says resolvconf wrote it, but resolvconf is not "
			 "installed: rewriting resolv.conf");
	else
		snprintf(why, whylen, "no resolver manager owns resolv.conf: rewriting it");
	return DNS_MODE_DIRECT;
}
