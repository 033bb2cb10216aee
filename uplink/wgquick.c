/*
 * The wg-quick configuration file parser (wgquick.h).
 *
 * One pass over the lines: a comment is cut at `#', blanks around keys and
 * values go, a `[Section]' line switches the section, every other line is
 * `Key = Value'. The first error stops the parse with its file and line.
 * Each line is copied into one buffer that is wiped before it is freed:
 * lines may hold keys.
 */
#include "uplink/wgquick.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/decimal.h"
#include "common/errmsg.h"
#include "common/log.h"

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

struct parser {
	struct wgq_config *c;
	const char *name;
	unsigned line;
	enum section sec;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static bool bad(struct parser *p, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errmsg(p->err, p->errlen, -EINVAL, "%s:%u: %s", p->name, p->line, msg);
	return false;
}

struct wgq_config *wgq_config_alloc(void)
{
	struct wgq_config *c;

	if (sodium_init() < 0)
		return NULL;
	c = sodium_malloc(sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->listen_port = -1;
	return c;
}

void wgq_config_free(struct wgq_config *c)
{
	if (c)
		sodium_free(c); /* wipes it */
}

static char *trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* base64 of exactly 32 bytes, as `wg genkey' writes them. */
static bool parse_key(const char *value, uint8_t out[WGQ_KEY_LEN])
{
	size_t binlen = 0;
	const char *end = NULL;

	if (strlen(value) != 44)
		return false;
	if (sodium_base642bin(out, WGQ_KEY_LEN, value, 44, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return binlen == WGQ_KEY_LEN && end == value + 44;
}

/* "addr" or "addr/plen"; without a length the address alone (/32, /128). */
static bool parse_prefix(const char *s, struct wgq_prefix *p)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long plen;

	if (n == 0 || n >= sizeof(ip))
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET6, ip, p->addr) == 1)
		p->family = AF_INET6;
	else if (inet_pton(AF_INET, ip, p->addr) == 1)
		p->family = AF_INET;
	else
		return false;
	plen = p->family == AF_INET6 ? 128 : 32;
	if (slash && !parse_decimal(slash + 1, plen, &plen))
		return false;
	p->plen = (uint8_t)plen;
	return true;
}

/* A comma separated list of prefixes appended to v (n of max used). */
static bool parse_prefixes(struct parser *p, const char *key, char *value, struct wgq_prefix *v,
			   size_t *n, size_t max)
{
	char *save = NULL, *item;

	if (!*value)
		return true;
	if (value[strlen(value) - 1] == ',')
		return bad(p, "%s has an empty item: `%s'", key, value);
	for (item = strtok_r(value, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		if (!*item)
			return bad(p, "%s has an empty item", key);
		if (*n >= max)
			return bad(p, "%s: more than %zu prefixes", key, max);
		if (!parse_prefix(item, &v[*n]))
			return bad(p, "%s: `%s' is not an address or a prefix (ADDRESS[/LENGTH])",
				   key, item);
		(*n)++;
	}
	return true;
}

static bool host_valid(const char *h)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, h, &a6) == 1)
		return true;
	for (const char *s = h; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return false;
	return *h != '\0';
}

/* HOST:PORT, [IPV6]:PORT. */
static bool parse_endpoint(struct parser *p, const char *value, struct wgq_peer *peer)
{
	const char *host = value, *colon;
	size_t hlen;
	unsigned long port;

	if (*value == '[') {
		const char *close = strchr(value, ']');

		if (!close || close[1] != ':')
			return bad(p, "Endpoint `%s' is not [IPV6]:PORT", value);
		host = value + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(value, ':');
		if (!colon)
			return bad(p, "Endpoint `%s' has no port (HOST:PORT)", value);
		if (memchr(value, ':', (size_t)(colon - value)))
			return bad(p, "Endpoint `%s': an IPv6 address needs brackets ([IPV6]:PORT)",
				   value);
		hlen = (size_t)(colon - value);
	}
	if (hlen == 0 || hlen > WGQ_HOST_MAX)
		return bad(p, "Endpoint `%s' has no valid host", value);
	memcpy(peer->endpoint_host, host, hlen);
	peer->endpoint_host[hlen] = '\0';
	if (!host_valid(peer->endpoint_host) ||
	    (*value == '[' && !strchr(peer->endpoint_host, ':'))) {
		peer->endpoint_host[0] = '\0';
		return bad(p, "Endpoint `%s' has no valid host", value);
	}
	if (!parse_decimal(colon + 1, 65535, &port) || port == 0) {
		peer->endpoint_host[0] = '\0';
		return bad(p, "Endpoint `%s' has no valid port (1-65535)", value);
	}
	peer->endpoint_port = (uint16_t)port;
	return true;
}

static const char *const ignored_keys[] = {
	"DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig",
};

static bool interface_key(struct parser *p, const char *key, char *value)
{
	struct wgq_config *c = p->c;
	unsigned long v;

	if (!strcasecmp(key, "PrivateKey")) {
		if (!parse_key(value, c->private_key))
			return bad(p, "PrivateKey is not a base64 32-byte key (value not shown)");
		c->has_private_key = true;
		return true;
	}
	if (!strcasecmp(key, "Address"))
		return parse_prefixes(p, key, value, c->addrs, &c->naddrs, WGQ_ADDRS_MAX);
	if (!strcasecmp(key, "ListenPort")) {
		if (!parse_decimal(value, 65535, &v))
			return bad(p, "ListenPort `%s' is not a port (0-65535)", value);
		c->listen_port = (int)v;
		return true;
	}
	if (!strcasecmp(key, "MTU")) {
		if (!parse_decimal(value, 65535, &v) || v < 1280)
			return bad(p,
				   "MTU `%s' is not a number from 1280 (IPv6's minimum) to 65535",
				   value);
		c->mtu = (uint16_t)v;
		return true;
	}
	if (!strcasecmp(key, "FwMark")) {
		char *end;

		if (!strcasecmp(value, "off")) {
			c->has_fwmark = false;
			return true;
		}
		errno = 0;
		v = strtoul(value, &end, 0);
		if (!*value || *end || errno || v > UINT32_MAX || *value == '-' || *value == '+')
			return bad(p, "FwMark `%s' is not a 32-bit number or `off'", value);
		c->fwmark = (uint32_t)v;
		c->has_fwmark = v != 0;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ignored_keys); i++) {
		if (!strcasecmp(key, ignored_keys[i])) {
			log_warn("uplink",
				 "%s:%u: %s is ignored: manta never runs wg-quick's hooks and does "
				 "not change DNS, routing tables or the file",
				 p->name, p->line, ignored_keys[i]);
			c->nignored++;
			return true;
		}
	}
	return bad(p, "unknown key `%s' in [Interface]", key);
}

static bool peer_key(struct parser *p, const char *key, char *value)
{
	struct wgq_peer *peer = &p->c->peers[p->c->npeers - 1];
	unsigned long v;

	if (!strcasecmp(key, "PublicKey")) {
		if (peer->has_public_key)
			return bad(p, "a second PublicKey in one [Peer]");
		if (!parse_key(value, peer->public_key))
			return bad(p, "PublicKey `%s' is not a base64 32-byte key", value);
		peer->has_public_key = true;
		return true;
	}
	if (!strcasecmp(key, "PresharedKey")) {
		if (!parse_key(value, peer->preshared_key))
			return bad(p, "PresharedKey is not a base64 32-byte key (value not shown)");
		peer->has_preshared_key = true;
		return true;
	}
	if (!strcasecmp(key, "Endpoint"))
		return parse_endpoint(p, value, peer);
	if (!strcasecmp(key, "AllowedIPs"))
		return parse_prefixes(p, key, value, peer->allowed, &peer->nallowed,
				      WGQ_ALLOWED_MAX);
	if (!strcasecmp(key, "PersistentKeepalive")) {
		if (!strcasecmp(value, "off")) {
			peer->keepalive = 0;
			return true;
		}
		if (!parse_decimal(value, 65535, &v))
			return bad(p, "PersistentKeepalive `%s' is not seconds (0-65535) or `off'",
				   value);
		peer->keepalive = (uint16_t)v;
		return true;
	}
	return bad(p, "unknown key `%s' in [Peer]", key);
}

/* The [Peer] that just ended must have a key no other peer has. */
static bool peer_done(struct parser *p)
{
	struct wgq_config *c = p->c;
	struct wgq_peer *peer;

	if (p->sec != SEC_PEER)
		return true;
	peer = &c->peers[c->npeers - 1];
	if (!peer->has_public_key) {
		p->line = peer->line;
		return bad(p, "[Peer] has no PublicKey");
	}
	for (size_t i = 0; i + 1 < c->npeers; i++) {
		if (!sodium_memcmp(c->peers[i].public_key, peer->public_key, WGQ_KEY_LEN)) {
			p->line = peer->line;
			return bad(p, "[Peer] has the same PublicKey as the [Peer] of line %u",
				   c->peers[i].line);
		}
	}
	return true;
}

static bool section(struct parser *p, const char *s)
{
	if (!peer_done(p))
		return false;
	if (!strcasecmp(s, "[Interface]")) {
		p->sec = SEC_INTERFACE;
		return true;
	}
	if (strcasecmp(s, "[Peer]") != 0)
		return bad(p, "unknown section `%s' (expected [Interface] or [Peer])", s);
	if (p->c->npeers >= WGQ_PEERS_MAX)
		return bad(p, "more than %d [Peer] sections", WGQ_PEERS_MAX);
	memset(&p->c->peers[p->c->npeers], 0, sizeof(p->c->peers[0]));
	p->c->peers[p->c->npeers].line = p->line;
	p->c->npeers++;
	p->sec = SEC_PEER;
	return true;
}

static bool parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#'), *eq, *key, *value;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return true;
	if (*line == '[')
		return section(p, line);
	eq = strchr(line, '=');
	if (!eq)
		return bad(p, "expected `Key = Value' or a [Section]");
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (!*key)
		return bad(p, "a value without a key");
	/* A bare base64 key ends in `=': what stands before it is no key
	 * name, and may be a secret. */
	if (strlen(key) > 32)
		return bad(p,
			   "expected `Key = Value' or a [Section] (%zu characters before `=', "
			   "not shown)",
			   strlen(key));
	if (p->sec == SEC_NONE)
		return bad(p, "`%s' before any [Interface] or [Peer]", key);
	return p->sec == SEC_INTERFACE ? interface_key(p, key, value) : peer_key(p, key, value);
}

bool wgq_parse(struct wgq_config *c, const char *name, const char *text, size_t len, char *err,
	       size_t errlen)
{
	struct parser p = { .c = c, .name = name, .err = err, .errlen = errlen };
	char *buf = malloc(WGQ_LINE_MAX + 1);
	size_t pos = 0;
	bool ok = true;

	if (!buf) {
		errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
		return false;
	}
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3; /* a UTF-8 byte order mark, as some editors write */
	while (ok && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (n > WGQ_LINE_MAX) {
			ok = bad(&p, "line longer than %d bytes", WGQ_LINE_MAX);
			break;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (strlen(buf) != n)
			ok = bad(&p, "a NUL byte in the line");
		else
			ok = parse_line(&p, buf);
		pos += n + (nl ? 1 : 0);
	}
	sodium_memzero(buf, WGQ_LINE_MAX + 1);
	free(buf);
	if (ok)
		ok = peer_done(&p);
	if (ok && !c->has_private_key) {
		errmsg(err, errlen, -EINVAL, "%s: [Interface] has no PrivateKey", name);
		ok = false;
	}
	return ok;
}

struct wgq_config *wgq_load(const char *path, char *err, size_t errlen)
{
	struct wgq_config *c = NULL;
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		errmsg(err, errlen, -errno, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errmsg(err, errlen, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > WGQ_FILE_MAX) {
		errmsg(err, errlen, -EFBIG, "%s: larger than %d bytes", path, WGQ_FILE_MAX);
		goto out;
	}
	if (st.st_mode & S_IRWXO)
		log_warn("uplink", "%s is world accessible (mode %04o): it holds a private key",
			 path, (unsigned)(st.st_mode & 07777));
	buf = sodium_malloc(WGQ_FILE_MAX);
	if (!buf) {
		errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (size_t got = 0;; got += (size_t)n) {
		n = read(fd, buf + got, WGQ_FILE_MAX - got);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0) {
			errmsg(err, errlen, -errno, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0 || got + (size_t)n == WGQ_FILE_MAX) {
			n = (ssize_t)(got + (size_t)n);
			break;
		}
	}
	c = wgq_config_alloc();
	if (!c) {
		errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (!wgq_parse(c, path, buf, (size_t)n, err, errlen)) {
		wgq_config_free(c);
		c = NULL;
	}
out:
	sodium_free(buf); /* wipes it; NULL is fine */
	close(fd);
	return c;
}

void wgq_prefix_format(const struct wgq_prefix *p, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, size, "%s/%u", ip, p->plen);
}

bool wgq_prefix_contains(const struct wgq_prefix *p, int family, const uint8_t *addr)
{
	unsigned full = p->plen / 8, rest = p->plen % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (p->addr[full] & mask) == (addr[full] & mask);
	}
	return true;
}
