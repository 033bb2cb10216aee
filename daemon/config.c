/*
 * The INI configuration (reference in config.h and README.md).
 *
 * inih splits `key = value` lines and strips comments, but it does not say
 * where a section starts: two `[peer]` sections in a row look like one. So
 * inih reads through our own line reader (read_line), which counts lines and
 * handles every `[section]` header itself before inih sees the line. The key
 * handler then knows the section, its ordinal and the current line, which is
 * what the "FILE:LINE: message `value'" errors need. The reader also strips
 * leading white space, which keeps inih's multi-line continuation (an
 * indented line continuing the previous value) from ever applying: an
 * indented `key = value` is an ordinary line here.
 *
 * The first error stops the parse. An unknown section or key is not an
 * error but a warning (c->warnings, logged by config_load), so that a file
 * written for a newer mantad still starts this one; a near miss of a known
 * name, or a known key in the wrong section, stays an error. Nothing here
 * resolves names or touches the network: a fuzzer runs config_parse_string.
 */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h> /* isfinite */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#include "common/decimal.h"
#include "mesh/identity.h"
#include "mesh/messages.h"
#include "uplink/route.h"

#define CONFIG_FILE_MAX (1 << 20)
#define CONFIG_WARNINGS_MAX 32
#define SECONDS_MAX 86400.0

enum section { SECT_NONE, SECT_NODE, SECT_PEER, SECT_TESTING, SECT_API, SECT_UPLINK, SECT_UNKNOWN };

static const char *const section_names[] = {
	[SECT_NODE] = "node",
	[SECT_PEER] = "peer",
	[SECT_TESTING] = "testing",
	[SECT_API] = "api",
	/* [uplink.NAME] is matched by its prefix; this is for messages */
	[SECT_UPLINK] = "uplink.NAME",
};

struct parser {
	const char *name; /* the file, in messages */
	const char *text;
	const char *cursor;
	unsigned line; /* the line inih is working on */
	enum section section;
	unsigned section_line;
	uint64_t seen; /* keys seen in this section, by their index in keys[] */
	unsigned key_line[64]; /* where each of them was, for [uplink.NAME] checks */
	char sect_name[8 + UPLINK_NAME_MAX]; /* "uplink.NAME" of the current one */
	unsigned node_line, testing_line, api_line;
	struct config *c;
	size_t peers_cap;
	unsigned err_line; /* 0 while there is no error */
	bool oom;
	char *err;
	size_t errlen;
	unsigned nwarnings;
};

enum key_id {
	KEY_LISTEN_PORT,
	KEY_TUN,
	KEY_STATE_DIR,
	KEY_LOG_LEVEL,
	KEY_PUBLIC_KEY,
	KEY_ENDPOINT,
	KEY_KEEPALIVE,
	KEY_REKEY_AFTER_TIME,
	KEY_REJECT_AFTER_TIME,
	KEY_REKEY_TIMEOUT,
	KEY_KEEPALIVE_TIMEOUT,
	KEY_REKEY_ATTEMPT_TIME,
	KEY_UNDER_LOAD,
	KEY_PMTU_PROBE_TIMEOUT,
	KEY_PMTU_RAISE_INTERVAL,
	KEY_UPLINK_LOCAL_CHECK,
	KEY_API_ENABLED,
	KEY_API_LISTEN,
	KEY_API_PORT,
	KEY_API_ALLOW_MUTATING,
	KEY_ACCEPT_DNS,
	KEY_RESOLV_CONF,
	KEY_UP_TYPE,
	KEY_UP_INTERFACE,
	KEY_UP_AUTOSTART,
	KEY_UP_HEALTH_TARGETS,
	KEY_UP_PROBE_INTERVAL,
	KEY_UP_MODE,
	KEY_UP_SERVER_IPV4,
	KEY_UP_LOCAL_IPV4,
	KEY_UP_CLIENT_IPV6,
	KEY_UP_ROUTED_PREFIX,
	KEY_UP_MTU,
	KEY_UP_DEFAULT_ROUTE,
	KEY_UP_METRIC,
	KEY_UP_HE_USERNAME,
	KEY_UP_HE_UPDATE_KEY,
	KEY_UP_HE_TUNNEL_ID,
	KEY_UP_HE_UPDATE_URL,
	KEY_UP_CONFIG,
	KEY_UP_WIREGUARD_GO,
	KEY_COUNT,
};

_Static_assert(KEY_COUNT <= 64, "one bit of parser.seen per key");
#define SEEN(k) (UINT64_C(1) << (k))

/* Which uplink types a key of [uplink.NAME] is for (struct key.types). */
#define T_HE (1u << UPLINK_HE_6IN4)
#define T_WG (1u << UPLINK_WIREGUARD)
#define T_EXT (1u << UPLINK_EXTERNAL)
#define T_ALL (T_HE | T_WG | T_EXT)

struct key {
	enum section section;
	const char *name;
	bool (*set)(struct parser *p, const struct key *k, const char *value);
	size_t timer; /* offset in struct config_timers, for the timers */
};

static bool fail(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err_line)
		return false;
	p->err_line = line;
	if (!p->errlen)
		return false;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static void warn(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line of c->warnings; past CONFIG_WARNINGS_MAX they are only counted. */
static void warn(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[512], *w;
	size_t old, len;
	va_list ap;
	int n;

	if (p->err_line || ++p->nwarnings > CONFIG_WARNINGS_MAX)
		return;
	n = snprintf(msg, sizeof(msg), "%s:%u: ", p->name, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	old = p->c->warnings ? strlen(p->c->warnings) : 0;
	len = strlen(msg);
	w = realloc(p->c->warnings, old + len + 2);
	if (!w) {
		p->oom = true;
		fail(p, line, "out of memory");
		return;
	}
	memcpy(w + old, msg, len);
	memcpy(w + old + len, "\n", 2);
	p->c->warnings = w;
}

/* Equal ignoring case, or one typing mistake apart: a character inserted,
 * deleted or replaced, or two neighbours swapped. */
static bool near_miss(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0;

	if (la == lb && strcasecmp(a, b) == 0)
		return true;
	if (la > lb) {
		const char *t = a;

		a = b;
		b = t;
		la = lb;
		lb = strlen(b);
	}
	if (lb - la > 1)
		return false;
	while (i < la && a[i] == b[i])
		i++;
	if (la < lb)
		return strcmp(a + i, b + i + 1) == 0;
	if (i == la)
		return true;
	return strcmp(a + i + 1, b + i + 1) == 0 ||
	       (a[i + 1] == b[i] && a[i] == b[i + 1] && strcmp(a + i + 2, b + i + 2) == 0);
}

/* Positive decimal seconds ("5", "0.25") to nanoseconds. */
static bool parse_seconds(const char *s, uint64_t *ns)
{
	bool digit = false, dot = false;
	char *end;
	double v;

	for (const char *q = s; *q; q++) {
		if (*q >= '0' && *q <= '9')
			digit = true;
		else if (*q == '.' && !dot)
			dot = true;
		else
			return false;
	}
	if (!digit)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v <= 0 || v > SECONDS_MAX)
		return false;
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return *ns > 0;
}

static bool valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

/* --- endpoints ----------------------------------------------------------- */

/* A DNS name or an IPv4 literal: labels of letters, digits, '-' and '_'. */
static bool valid_host(const char *h)
{
	size_t len = strlen(h), label = 0;
	bool numeric = true;
	struct in_addr a;

	if (len == 0 || len > 253)
		return false;
	for (const char *q = h; *q; q++) {
		if (*q == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
			return false;
		if (!isdigit((unsigned char)*q))
			numeric = false;
		if (++label > 63)
			return false;
	}
	/* All digits and dots is an IPv4 address or nothing. */
	return !numeric || inet_pton(AF_INET, h, &a) == 1;
}

/* "[fe80::1%eth0]": an IPv6 literal with an optional zone. */
static bool valid_v6(const char *h)
{
	char addr[INET6_ADDRSTRLEN];
	const char *zone = strchr(h, '%');
	size_t len = zone ? (size_t)(zone - h) : strlen(h);
	struct in6_addr a;

	if (len >= sizeof(addr))
		return false;
	memcpy(addr, h, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1)
		return false;
	return !zone || valid_ifname(zone + 1);
}

/* Splits an endpoint into host (brackets removed) and port. */
static bool split_endpoint(const char *s, char host[CONFIG_ENDPOINT_MAX], uint16_t *port)
{
	const char *colon;
	unsigned long v;
	size_t len;
	bool ok;

	if (strlen(s) >= CONFIG_ENDPOINT_MAX)
		return false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		len = (size_t)(close - s - 1);
		colon = close + 1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		ok = valid_v6(host);
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		len = (size_t)(colon - s);
		memcpy(host, s, len);
		host[len] = '\0';
		ok = valid_host(host); /* a bare IPv6 address has ':' in its host part */
	}
	if (!ok || !parse_decimal(colon + 1, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool config_has_uplink(const struct config *c, enum uplink_type type)
{
	for (size_t i = 0; i < c->nuplinks; i++)
		if (c->uplinks[i].type == type)
			return true;
	return false;
}

bool config_endpoint_valid(const char *s)
{
	char host[CONFIG_ENDPOINT_MAX];
	uint16_t port;

	return split_endpoint(s, host, &port);
}

static int gai_errno(int e)
{
	switch (e) {
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
		return -ENOENT;
	default:
		return -EINVAL;
	}
}

int config_resolve_endpoint(const char *s, struct sockaddr_in6 *out, char *err, size_t errlen)
{
	char host[CONFIG_ENDPOINT_MAX], port[8];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res, *ai;
	uint16_t portnum;
	int e, r = -EAFNOSUPPORT;

	if (!split_endpoint(s, host, &portnum)) {
		snprintf(err, errlen, "not host:port or [IPv6]:port with a port of 1-65535");
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", portnum);
	hints.ai_flags = AI_NUMERICSERV | (s[0] == '[' ? AI_NUMERICHOST : 0);
	e = getaddrinfo(host, port, &hints, &res);
	if (e) {
		r = gai_errno(e);
		snprintf(err, errlen, "%s", e == EAI_SYSTEM ? strerror(-r) : gai_strerror(e));
		return r;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		memset(out, 0, sizeof(*out));
		out->sin6_family = AF_INET6;
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(*out)) {
			memcpy(out, ai->ai_addr, sizeof(*out));
			r = 0;
			break;
		}
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)ai->ai_addr;

			/* ::ffff:a.b.c.d, for the dual-stack socket */
			out->sin6_port = in->sin_port;
			out->sin6_addr.s6_addr[10] = 0xff;
			out->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&out->sin6_addr.s6_addr[12], &in->sin_addr, 4);
			r = 0;
			break;
		}
	}
	freeaddrinfo(res);
	if (r < 0)
		snprintf(err, errlen, "no IPv4 or IPv6 address");
	return r;
}

/* --- values ------------------------------------------------------------- */

static bool set_listen_port(struct parser *p, const struct key *k, const char *v)
{
	unsigned long port;

	if (!parse_decimal(v, 65535, &port) || port == 0)
		return fail(p, p->line, "listen_port must be 1-65535: `%s'", v);
	p->c->listen_port = (uint16_t)port;
	return true;
}

static bool set_tun(struct parser *p, const struct key *k, const char *v)
{
	if (!valid_ifname(v))
		return fail(p, p->line,
			    "tun must be a device name of 1-%d characters "
			    "without `/', `:' or white space: `%s'",
			    IFNAMSIZ - 1, v);
	strcpy(p->c->tun_name, v);
	return true;
}

static bool set_state_dir(struct parser *p, const struct key *k, const char *v)
{
	char *dup;

	if (!*v)
		return fail(p, p->line, "state_dir must not be empty");
	dup = strdup(v);
	if (!dup) {
		p->oom = true;
		return fail(p, p->line, "out of memory");
	}
	free(p->c->state_dir);
	p->c->state_dir = dup;
	return true;
}

static bool set_log_level(struct parser *p, const struct key *k, const char *v)
{
	if (!log_level_parse(v, &p->c->log_level))
		return fail(p, p->line, "log_level must be debug, info, warn or error: `%s'", v);
	return true;
}

static struct config_peer *current_peer(struct parser *p)
{
	return &p->c->peers[p->c->npeers - 1];
}

static bool set_public_key(struct parser *p, const struct key *k, const char *v)
{
	struct config_peer *peer = current_peer(p);

	if (!key_from_base64(v, peer->public_key))
		return fail(p, p->line, "public_key is not a valid key: `%s'", v);
	for (size_t i = 0; i + 1 < p->c->npeers; i++)
		if (!memcmp(p->c->peers[i].public_key, peer->public_key, KEY_LEN))
			return fail(p, p->line,
				    "2 peers with public key `%s' (the other [peer] is at line %u)",
				    v, p->c->peers[i].line);
	return true;
}

static bool set_endpoint(struct parser *p, const struct key *k, const char *v)
{
	if (!config_endpoint_valid(v))
		return fail(
			p, p->line,
			"endpoint must be host:port or [IPv6]:port with a port of 1-65535: `%s'",
			v);
	strcpy(current_peer(p)->endpoint, v);
	return true;
}

static bool set_keepalive(struct parser *p, const struct key *k, const char *v)
{
	unsigned long secs = 0;

	if (strcmp(v, "off") != 0 && !parse_decimal(v, 65535, &secs))
		return fail(p, p->line, "persistent_keepalive must be 0-65535 seconds or off: `%s'",
			    v);
	current_peer(p)->persistent_keepalive = (uint16_t)secs;
	return true;
}

static bool set_timer(struct parser *p, const struct key *k, const char *v)
{
	uint64_t ns;

	if (!parse_seconds(v, &ns))
		return fail(p, p->line, "%s must be seconds, more than 0 and at most %.0f: `%s'",
			    k->name, SECONDS_MAX, v);
	memcpy((char *)&p->c->timers + k->timer, &ns, sizeof(ns));
	return true;
}

/* The index of v among names, or -1: the enum-valued keys. */
static int name_index(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static bool set_under_load(struct parser *p, const struct key *k, const char *v)
{
	static const char *const modes[] = {
		[UNDER_LOAD_AUTO] = "auto",
		[UNDER_LOAD_ALWAYS] = "always",
		[UNDER_LOAD_NEVER] = "never",
	};
	int i = name_index(modes, ARRAY_SIZE(modes), v);

	if (i < 0)
		return fail(p, p->line, "under_load must be auto, always or never: `%s'", v);
	p->c->timers.under_load = (enum config_under_load)i;
	return true;
}

/* [api]: "true" or "false", as every boolean of the file. */
static bool set_api_bool(struct parser *p, const struct key *k, const char *v)
{
	bool on = strcmp(v, "true") == 0;

	if (!on && strcmp(v, "false") != 0)
		return fail(p, p->line, "%s must be true or false: `%s'", k->name, v);
	if (strcmp(k->name, "enabled") == 0)
		p->c->api.enabled = on;
	else
		p->c->api.allow_mutating = on;
	return true;
}

static bool set_api_port(struct parser *p, const struct key *k, const char *v)
{
	unsigned long port;

	if (!parse_decimal(v, 65535, &port) || port == 0)
		return fail(p, p->line, "port must be 1-65535: `%s'", v);
	p->c->api.port = (uint16_t)port;
	return true;
}

/* IP literals separated by commas or white space, no names (nothing here
 * resolves) and no ports (that is `port'). */
static bool set_api_listen(struct parser *p, const struct key *k, const char *v)
{
	struct config_api *api = &p->c->api;
	const char *s = v;
	uint8_t a[16];

	api->nlisten = 0;
	while (*s) {
		size_t len = strcspn(s, ", \t");
		char addr[INET6_ADDRSTRLEN];

		if (len == 0) {
			s++;
			continue;
		}
		if (len >= sizeof(addr))
			return fail(p, p->line, "listen: not an IP address: `%.*s'", (int)len, s);
		memcpy(addr, s, len);
		addr[len] = '\0';
		if (inet_pton(AF_INET, addr, a) != 1 && inet_pton(AF_INET6, addr, a) != 1)
			return fail(p, p->line, "listen: not an IPv4 or IPv6 address: `%s'", addr);
		if (api->nlisten == CONFIG_API_LISTEN_MAX)
			return fail(p, p->line, "listen: at most %d addresses: `%s'",
				    CONFIG_API_LISTEN_MAX, v);
		strcpy(api->listen[api->nlisten++], addr);
		s += len;
	}
	if (api->nlisten == 0)
		return fail(p, p->line,
			    "listen must name at least one address (or enabled = false)");
	return true;
}

/* [node] accept_dns: true or false (Magic DNS takes over the host's DNS). */
static bool set_accept_dns(struct parser *p, const struct key *k, const char *v)
{
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return fail(p, p->line, "accept_dns must be true or false: `%s'", v);
	p->c->accept_dns = strcmp(v, "true") == 0;
	return true;
}

/* [node] resolv_conf: an absolute path. */
static bool set_resolv_conf(struct parser *p, const struct key *k, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(p->c->resolv_conf))
		return fail(p, p->line,
			    "resolv_conf must be an absolute path of at most %zu "
			    "characters: `%s'",
			    sizeof(p->c->resolv_conf) - 1, v);
	strcpy(p->c->resolv_conf, v);
	return true;
}

/* --- [uplink.NAME] ------------------------------------------------------ */

static struct uplink_config *current_uplink(struct parser *p)
{
	return &p->c->uplinks[p->c->nuplinks - 1];
}

static bool parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

static bool set_up_type(struct parser *p, const struct key *k, const char *v)
{
	static const char *const types[] = {
		[UPLINK_HE_6IN4] = "he_6in4",
		[UPLINK_WIREGUARD] = "wireguard",
		[UPLINK_EXTERNAL] = "external",
	};
	int i = name_index(types, ARRAY_SIZE(types), v);

	if (i < 0)
		return fail(p, p->line, "type must be he_6in4, wireguard or external: `%s'", v);
	current_uplink(p)->type = (enum uplink_type)i;
	return true;
}

static bool set_up_interface(struct parser *p, const struct key *k, const char *v)
{
	if (!valid_ifname(v))
		return fail(p, p->line,
			    "interface must be a device name of 1-%d characters "
			    "without `/', `:' or white space: `%s'",
			    IFNAMSIZ - 1, v);
	strcpy(current_uplink(p)->ifname, v);
	return true;
}

static bool set_up_bool(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);

	if (!parse_bool(v, strcmp(k->name, "autostart") == 0 ? &u->autostart : &u->default_route))
		return fail(p, p->line, "%s must be true or false: `%s'", k->name, v);
	return true;
}

/* IPv6 literals separated by commas or white space. */
static bool set_up_targets(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);
	const char *s = v;

	u->ntargets = 0;
	while (*s) {
		size_t len = strcspn(s, ", \t");
		char addr[INET6_ADDRSTRLEN];

		if (len == 0) {
			s++;
			continue;
		}
		if (len >= sizeof(addr))
			return fail(p, p->line, "health_targets: not an IPv6 address: `%.*s'",
				    (int)len, s);
		memcpy(addr, s, len);
		addr[len] = '\0';
		if (u->ntargets == HEALTH_TARGETS_MAX)
			return fail(p, p->line, "health_targets: at most %d addresses: `%s'",
				    HEALTH_TARGETS_MAX, v);
		if (inet_pton(AF_INET6, addr, &u->targets[u->ntargets]) != 1)
			return fail(p, p->line, "health_targets: not an IPv6 address: `%s'", addr);
		u->ntargets++;
		s += len;
	}
	return true;
}

static bool set_up_interval(struct parser *p, const struct key *k, const char *v)
{
	uint64_t ns;

	if (!parse_seconds(v, &ns) || ns < 100000000ull || ns > 3600000000000ull)
		return fail(p, p->line, "probe_interval must be 0.1-3600 seconds: `%s'", v);
	current_uplink(p)->probe_interval_ns = ns;
	return true;
}

static bool set_up_mode(struct parser *p, const struct key *k, const char *v)
{
	static const char *const modes[] = {
		[UPLINK_MODE_AUTO] = "auto",
		[UPLINK_MODE_KERNEL] = "kernel",
		[UPLINK_MODE_USERSPACE] = "userspace",
	};
	int i = name_index(modes, ARRAY_SIZE(modes), v);

	if (i < 0)
		return fail(p, p->line, "mode must be auto, kernel or userspace: `%s'", v);
	current_uplink(p)->mode = (enum uplink_mode)i;
	return true;
}

/* server_ipv4: an IPv4 literal, not 0.0.0.0; local_ipv4 may be empty
 * (auto: the source the kernel picks toward the server). */
static bool set_up_ipv4(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);
	bool local = strcmp(k->name, "local_ipv4") == 0;
	struct in_addr a = { 0 };

	if (local && !*v) {
		u->local_ipv4 = a;
		return true;
	}
	if (inet_pton(AF_INET, v, &a) != 1 || a.s_addr == htonl(INADDR_ANY))
		return fail(p, p->line, "%s must be an IPv4 address%s: `%s'", k->name,
			    local ? " or empty (auto)" : "", v);
	if (local)
		u->local_ipv4 = a;
	else
		u->server_ipv4 = a;
	return true;
}

/* "ADDR/PLEN" with PLEN in min..max. */
static bool parse_prefix(const char *v, unsigned min, unsigned max, struct in6_addr *a,
			 uint8_t *plen)
{
	const char *slash = strchr(v, '/');
	char addr[INET6_ADDRSTRLEN];
	unsigned long len;

	if (!slash || (size_t)(slash - v) >= sizeof(addr))
		return false;
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1 || !parse_decimal(slash + 1, 128, &len) ||
	    len < min || len > max)
		return false;
	*plen = (uint8_t)len;
	return true;
}

static bool set_up_client(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);

	if (!parse_prefix(v, 1, 128, &u->client_ipv6, &u->client_plen))
		return fail(p, p->line,
			    "client_ipv6 must be an IPv6 address with its prefix length "
			    "(2001:db8:1::2/64): `%s'",
			    v);
	return true;
}

static bool set_up_routed(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);

	if (!parse_prefix(v, 48, 64, &u->routed_prefix, &u->routed_plen))
		return fail(p, p->line,
			    "routed_prefix must be an IPv6 prefix of length 48 to 64 "
			    "(2001:db8:2::/48): `%s'",
			    v);
	for (unsigned bit = u->routed_plen; bit < 128; bit++)
		if (u->routed_prefix.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return fail(p, p->line, "routed_prefix has bits set after its /%u: `%s'",
				    u->routed_plen, v);
	return true;
}

static bool set_up_mtu(struct parser *p, const struct key *k, const char *v)
{
	unsigned long mtu;

	if (!parse_decimal(v, 1500, &mtu) || mtu < 1280)
		return fail(p, p->line, "mtu must be 1280-1500: `%s'", v);
	current_uplink(p)->mtu = (uint16_t)mtu;
	return true;
}

/* Below the failover's UPLINK_DEMOTE_METRIC, so a demoted route always
 * comes after every healthy one. */
static bool set_up_metric(struct parser *p, const struct key *k, const char *v)
{
	unsigned long m;

	if (!parse_decimal(v, UPLINK_DEMOTE_METRIC - 1, &m) || m < 1)
		return fail(p, p->line, "metric must be 1-%u: `%s'", UPLINK_DEMOTE_METRIC - 1, v);
	current_uplink(p)->metric = (uint32_t)m;
	return true;
}

/* A string of printable characters without white space, shorter than max;
 * the tunnel broker's user name also without `:' (HTTP basic auth), its
 * tunnel id only of [A-Za-z0-9._-] (a query parameter, never escaped). */
static bool set_up_string(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);
	char *dst;
	size_t max;
	const char *what = "printable characters without white space";

	if (!strcmp(k->name, "he_username")) {
		dst = u->he_username;
		max = sizeof(u->he_username);
		what = "printable characters without white space or `:'";
	} else if (!strcmp(k->name, "he_update_key")) {
		dst = u->he_update_key;
		max = sizeof(u->he_update_key);
	} else {
		dst = u->he_tunnel_id;
		max = sizeof(u->he_tunnel_id);
		what = "letters, digits, `.', `_' and `-'";
	}
	for (const char *q = v; *q; q++) {
		bool ok = isgraph((unsigned char)*q);

		if (dst == u->he_username)
			ok = ok && *q != ':';
		if (dst == u->he_tunnel_id)
			ok = isalnum((unsigned char)*q) || strchr("._-", *q);
		if (!ok)
			return fail(p, p->line, "%s must be %s: `%s'", k->name, what, v);
	}
	if (!*v || strlen(v) >= max)
		return fail(p, p->line, "%s must be 1-%zu characters: `%s'", k->name, max - 1, v);
	strcpy(dst, v);
	return true;
}

static bool set_up_url(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);
	bool ok = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;

	for (const char *q = v; *q && ok; q++)
		ok = isgraph((unsigned char)*q);
	if (!ok || strlen(v) >= sizeof(u->he_update_url) || strchr(v, '?'))
		return fail(p, p->line,
			    "he_update_url must be an http:// or https:// URL of at most %zu "
			    "characters, without white space or a query: `%s'",
			    sizeof(u->he_update_url) - 1, v);
	strcpy(u->he_update_url, v);
	return true;
}

/* config (the wg-quick file) and wireguard_go: absolute paths. */
static bool set_up_path(struct parser *p, const struct key *k, const char *v)
{
	struct uplink_config *u = current_uplink(p);
	char *dst = strcmp(k->name, "config") == 0 ? u->wg_config : u->wg_go;

	if (v[0] != '/' || strlen(v) >= UPLINK_PATH_MAX)
		return fail(p, p->line,
			    "%s must be an absolute path of at most %d characters: `%s'", k->name,
			    UPLINK_PATH_MAX - 1, v);
	strcpy(dst, v);
	return true;
}

#define TIMER(name) SECT_TESTING, #name, set_timer, offsetof(struct config_timers, name)

static const struct key keys[] = {
	[KEY_LISTEN_PORT] = { SECT_NODE, "listen_port", set_listen_port, 0 },
	[KEY_TUN] = { SECT_NODE, "tun", set_tun, 0 },
	[KEY_STATE_DIR] = { SECT_NODE, "state_dir", set_state_dir, 0 },
	[KEY_LOG_LEVEL] = { SECT_NODE, "log_level", set_log_level, 0 },
	[KEY_ACCEPT_DNS] = { SECT_NODE, "accept_dns", set_accept_dns, 0 },
	[KEY_RESOLV_CONF] = { SECT_NODE, "resolv_conf", set_resolv_conf, 0 },
	[KEY_PUBLIC_KEY] = { SECT_PEER, "public_key", set_public_key, 0 },
	[KEY_ENDPOINT] = { SECT_PEER, "endpoint", set_endpoint, 0 },
	[KEY_KEEPALIVE] = { SECT_PEER, "persistent_keepalive", set_keepalive, 0 },
	[KEY_REKEY_AFTER_TIME] = { TIMER(rekey_after_time) },
	[KEY_REJECT_AFTER_TIME] = { TIMER(reject_after_time) },
	[KEY_REKEY_TIMEOUT] = { TIMER(rekey_timeout) },
	[KEY_KEEPALIVE_TIMEOUT] = { TIMER(keepalive_timeout) },
	[KEY_REKEY_ATTEMPT_TIME] = { TIMER(rekey_attempt_time) },
	[KEY_UNDER_LOAD] = { SECT_TESTING, "under_load", set_under_load, 0 },
	[KEY_PMTU_PROBE_TIMEOUT] = { TIMER(pmtu_probe_timeout) },
	[KEY_PMTU_RAISE_INTERVAL] = { TIMER(pmtu_raise_interval) },
	[KEY_UPLINK_LOCAL_CHECK] = { TIMER(uplink_local_check) },
	[KEY_API_ENABLED] = { SECT_API, "enabled", set_api_bool, 0 },
	[KEY_API_LISTEN] = { SECT_API, "listen", set_api_listen, 0 },
	[KEY_API_PORT] = { SECT_API, "port", set_api_port, 0 },
	[KEY_API_ALLOW_MUTATING] = { SECT_API, "allow_mutating", set_api_bool, 0 },
	[KEY_UP_TYPE] = { SECT_UPLINK, "type", set_up_type, 0 },
	[KEY_UP_INTERFACE] = { SECT_UPLINK, "interface", set_up_interface, 0 },
	[KEY_UP_AUTOSTART] = { SECT_UPLINK, "autostart", set_up_bool, 0 },
	[KEY_UP_HEALTH_TARGETS] = { SECT_UPLINK, "health_targets", set_up_targets, 0 },
	[KEY_UP_PROBE_INTERVAL] = { SECT_UPLINK, "probe_interval", set_up_interval, 0 },
	[KEY_UP_MODE] = { SECT_UPLINK, "mode", set_up_mode, 0 },
	[KEY_UP_SERVER_IPV4] = { SECT_UPLINK, "server_ipv4", set_up_ipv4, 0 },
	[KEY_UP_LOCAL_IPV4] = { SECT_UPLINK, "local_ipv4", set_up_ipv4, 0 },
	[KEY_UP_CLIENT_IPV6] = { SECT_UPLINK, "client_ipv6", set_up_client, 0 },
	[KEY_UP_ROUTED_PREFIX] = { SECT_UPLINK, "routed_prefix", set_up_routed, 0 },
	[KEY_UP_MTU] = { SECT_UPLINK, "mtu", set_up_mtu, 0 },
	[KEY_UP_DEFAULT_ROUTE] = { SECT_UPLINK, "default_route", set_up_bool, 0 },
	[KEY_UP_METRIC] = { SECT_UPLINK, "metric", set_up_metric, 0 },
	[KEY_UP_HE_USERNAME] = { SECT_UPLINK, "he_username", set_up_string, 0 },
	[KEY_UP_HE_UPDATE_KEY] = { SECT_UPLINK, "he_update_key", set_up_string, 0 },
	[KEY_UP_HE_TUNNEL_ID] = { SECT_UPLINK, "he_tunnel_id", set_up_string, 0 },
	[KEY_UP_HE_UPDATE_URL] = { SECT_UPLINK, "he_update_url", set_up_url, 0 },
	[KEY_UP_CONFIG] = { SECT_UPLINK, "config", set_up_path, 0 },
	[KEY_UP_WIREGUARD_GO] = { SECT_UPLINK, "wireguard_go", set_up_path, 0 },
};

/* [uplink.NAME]: which types each key is for (end_uplink checks). */
static const unsigned uplink_key_types[KEY_COUNT] = {
	[KEY_UP_TYPE] = T_ALL,
	[KEY_UP_INTERFACE] = T_ALL,
	[KEY_UP_AUTOSTART] = T_ALL,
	[KEY_UP_HEALTH_TARGETS] = T_ALL,
	[KEY_UP_PROBE_INTERVAL] = T_ALL,
	[KEY_UP_MODE] = T_HE,
	[KEY_UP_SERVER_IPV4] = T_HE,
	[KEY_UP_LOCAL_IPV4] = T_HE,
	[KEY_UP_CLIENT_IPV6] = T_HE,
	[KEY_UP_ROUTED_PREFIX] = T_HE,
	[KEY_UP_MTU] = T_HE,
	[KEY_UP_DEFAULT_ROUTE] = T_HE,
	[KEY_UP_METRIC] = T_HE | T_WG,
	[KEY_UP_HE_USERNAME] = T_HE,
	[KEY_UP_HE_UPDATE_KEY] = T_HE,
	[KEY_UP_HE_TUNNEL_ID] = T_HE,
	[KEY_UP_HE_UPDATE_URL] = T_HE,
	[KEY_UP_CONFIG] = T_WG,
	[KEY_UP_WIREGUARD_GO] = T_WG,
};

/* --- sections and lines -------------------------------------------------- */

/* The end of an [uplink.NAME]: what its type requires, what it does not
 * take, and the type's defaults. */
static void end_uplink(struct parser *p)
{
	struct uplink_config *u = current_uplink(p);
	const char *type = uplink_type_name(u->type);
	uint64_t he_update = SEEN(KEY_UP_HE_USERNAME) | SEEN(KEY_UP_HE_UPDATE_KEY) |
			     SEEN(KEY_UP_HE_TUNNEL_ID);

	if (!(p->seen & SEEN(KEY_UP_TYPE))) {
		fail(p, p->section_line, "[%s] without type (he_6in4, wireguard or external)",
		     p->sect_name);
		return;
	}
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if ((p->seen & SEEN(i)) && !(uplink_key_types[i] & (1u << u->type))) {
			fail(p, p->key_line[i], "`%s' is not a key of a %s uplink ([%s])",
			     keys[i].name, type, p->sect_name);
			return;
		}
	}
	if (u->type == UPLINK_HE_6IN4 && !(p->seen & SEEN(KEY_UP_SERVER_IPV4)))
		fail(p, p->section_line, "[%s]: a he_6in4 uplink needs server_ipv4", p->sect_name);
	else if (u->type == UPLINK_HE_6IN4 && !(p->seen & SEEN(KEY_UP_CLIENT_IPV6)))
		fail(p, p->section_line, "[%s]: a he_6in4 uplink needs client_ipv6", p->sect_name);
	else if ((p->seen & he_update) && (p->seen & he_update) != he_update)
		fail(p, p->section_line,
		     "[%s]: the endpoint update needs all of he_username, he_update_key "
		     "and he_tunnel_id",
		     p->sect_name);
	else if ((p->seen & SEEN(KEY_UP_HE_UPDATE_URL)) && !(p->seen & he_update))
		fail(p, p->key_line[KEY_UP_HE_UPDATE_URL],
		     "he_update_url without he_username, he_update_key and he_tunnel_id");
	else if (u->type == UPLINK_WIREGUARD && !(p->seen & SEEN(KEY_UP_CONFIG)))
		fail(p, p->section_line, "[%s]: a wireguard uplink needs config (a wg-quick file)",
		     p->sect_name);
	else if (u->type == UPLINK_EXTERNAL && !u->ifname[0])
		fail(p, p->section_line, "[%s]: an external uplink needs interface", p->sect_name);
	if (u->type == UPLINK_HE_6IN4 && !u->mtu)
		u->mtu = 1480;
}

/* "[uplink.NAME]": NAME of [A-Za-z0-9_-], unique, at most UPLINK_MAX. */
static void add_uplink(struct parser *p, const char *name, size_t len)
{
	struct config *c = p->c;
	struct uplink_config *u;

	snprintf(p->sect_name, sizeof(p->sect_name), "uplink.%.*s",
		 (int)(len < UPLINK_NAME_MAX ? len : UPLINK_NAME_MAX - 1), name);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			len = 0;
	if (len == 0 || len >= UPLINK_NAME_MAX) {
		fail(p, p->line,
		     "an uplink's name must be 1-%d letters, digits, `_' or `-': `[uplink.%.*s]'",
		     UPLINK_NAME_MAX - 1, (int)strcspn(name, "]"), name);
		return;
	}
	for (size_t i = 0; i < c->nuplinks; i++) {
		if (strcmp(c->uplinks[i].name, p->sect_name + 7) == 0) {
			fail(p, p->line, "duplicate section [%s] (the first is at line %u)",
			     p->sect_name, c->uplinks[i].line);
			return;
		}
	}
	if (c->nuplinks == UPLINK_MAX) {
		fail(p, p->line, "at most %d [uplink.NAME] sections: `[%s]'", UPLINK_MAX,
		     p->sect_name);
		return;
	}
	if (!c->uplinks) {
		c->uplinks = calloc(UPLINK_MAX, sizeof(*c->uplinks));
		if (!c->uplinks) {
			p->oom = true;
			fail(p, p->line, "out of memory");
			return;
		}
	}
	u = &c->uplinks[c->nuplinks++];
	memset(u, 0, sizeof(*u));
	strcpy(u->name, p->sect_name + 7);
	u->line = p->line;
	u->autostart = true;
	u->probe_interval_ns = HEALTH_DEFAULT_INTERVAL_NS;
}

static void end_section(struct parser *p)
{
	if (p->section == SECT_PEER && !(p->seen & SEEN(KEY_PUBLIC_KEY)))
		fail(p, p->section_line, "[peer] without public_key");
	if (p->section == SECT_UPLINK && !p->err_line)
		end_uplink(p);
}

static bool add_peer(struct parser *p)
{
	struct config *c = p->c;

	if (c->npeers == p->peers_cap) {
		size_t cap = p->peers_cap ? 2 * p->peers_cap : 8;
		struct config_peer *peers = reallocarray(c->peers, cap, sizeof(*peers));

		if (!peers) {
			p->oom = true;
			return fail(p, p->line, "out of memory");
		}
		c->peers = peers;
		p->peers_cap = cap;
	}
	memset(&c->peers[c->npeers], 0, sizeof(c->peers[0]));
	c->peers[c->npeers++].line = p->line;
	return true;
}

/* Once-only sections: [node] and [testing]. */
static bool first_of(struct parser *p, unsigned *first)
{
	if (*first)
		return fail(p, p->line, "duplicate section [%s] (the first is at line %u)",
			    section_names[p->section], *first);
	*first = p->line;
	return true;
}

/* An unknown section is skipped with its keys and a warning, so that a
 * newer configuration still starts an older mantad; a near miss of a known
 * name (`[Peer]', `[nodes]') is an error, as a typo must not go unnoticed. */
static void unknown_section(struct parser *p, const char *name, size_t len)
{
	size_t start = 0, end = len;
	char trimmed[32];

	while (start < end && isspace((unsigned char)name[start]))
		start++;
	while (end > start && isspace((unsigned char)name[end - 1]))
		end--;
	if (end - start < sizeof(trimmed)) {
		memcpy(trimmed, name + start, end - start);
		trimmed[end - start] = '\0';
		/* [uplink], [Uplink.x], [uplinks.x], [uplink x]: what comes before
		 * the first `.' or blank. */
		trimmed[strcspn(trimmed, ". \t")] = '\0';
		if (near_miss(trimmed, "uplink")) {
			fail(p, p->line, "unknown section [%.*s] (did you mean [uplink.NAME]?)",
			     (int)len, name);
			return;
		}
		memcpy(trimmed, name + start, end - start);
		trimmed[end - start] = '\0';
		for (size_t n = 1; n < ARRAY_SIZE(section_names); n++) {
			if (near_miss(trimmed, section_names[n])) {
				fail(p, p->line, "unknown section [%.*s] (did you mean [%s]?)",
				     (int)len, name, section_names[n]);
				return;
			}
		}
	}
	warn(p, p->line, "unknown section [%.*s], ignored with its keys", (int)len, name);
}

/* The same for keys; a key of another section is an error too. */
static void unknown_key(struct parser *p, const char *name, const char *sect)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].section != p->section && strcmp(keys[i].name, name) == 0) {
			fail(p, p->line, "`%s' belongs in [%s], not in [%s]", name,
			     section_names[keys[i].section], sect);
			return;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].section == p->section && near_miss(name, keys[i].name)) {
			fail(p, p->line, "unknown key `%s' in [%s] (did you mean `%s'?)", name,
			     sect, keys[i].name);
			return;
		}
	}
	warn(p, p->line, "unknown key `%s' in [%s], ignored", name, sect);
}

/* A line that starts with '[' (white space already skipped). */
static void start_section(struct parser *p, const char *s, size_t len)
{
	const char *close = memchr(s, ']', len);
	size_t i;

	end_section(p);
	p->section = SECT_UNKNOWN;
	p->section_line = p->line;
	p->seen = 0;
	if (!close)
		goto err_syntax;
	for (i = (size_t)(close - s) + 1; i < len && isspace((unsigned char)s[i]); i++)
		;
	if (i < len && s[i] != ';' && s[i] != '#')
		goto err_syntax;
	if ((size_t)(close - s - 1) >= 7 && !memcmp(s + 1, "uplink.", 7)) {
		p->section = SECT_UPLINK;
		add_uplink(p, s + 8, (size_t)(close - s - 8));
		return;
	}
	for (size_t n = 1; n < ARRAY_SIZE(section_names); n++) {
		if (n == SECT_UPLINK)
			continue;
		if (strlen(section_names[n]) == (size_t)(close - s - 1) &&
		    !memcmp(section_names[n], s + 1, (size_t)(close - s - 1))) {
			p->section = (enum section)n;
			break;
		}
	}
	switch (p->section) {
	case SECT_NODE:
		first_of(p, &p->node_line);
		return;
	case SECT_TESTING:
		first_of(p, &p->testing_line);
		return;
	case SECT_API:
		first_of(p, &p->api_line);
		return;
	case SECT_PEER:
		add_peer(p);
		return;
	default:
		unknown_section(p, s + 1, (size_t)(close - s - 1));
		return;
	}

err_syntax:
	fail(p, p->line, "not a section header: `%.*s'", (int)len, s);
}

/* The ini_reader: one call, one line of text, so inih's line numbers and
 * ours agree. Section headers are handled here and reach inih as blank lines. */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *s = p->cursor, *nl;
	size_t len;

	if (!*s || p->err_line)
		return NULL;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) : strlen(s);
	p->cursor = nl ? nl + 1 : s + len;
	p->line++;
	if (p->line == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	str[0] = '\0';
	if (len > 0 && s[0] == '[') {
		start_section(p, s, len);
	} else if (len > 0 && (s[0] == ';' || s[0] == '#')) {
		/* a comment: inih would skip it, and it may be of any length */
	} else if (len + 1 > (size_t)num) {
		fail(p, p->line, "line is longer than %d characters", num - 1);
	} else {
		memcpy(str, s, len);
		str[len] = '\0';
	}
	return str;
}

static int handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const char *sect = p->section == SECT_UPLINK ? p->sect_name :
			   p->section < SECT_UNKNOWN ? section_names[p->section] :
						       NULL;

	if (p->err_line || p->section == SECT_UNKNOWN)
		return 1;
	if (p->section == SECT_NONE) {
		fail(p, p->line, "key `%s' before any section header", name);
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (keys[i].section != p->section || strcmp(keys[i].name, name) != 0)
			continue;
		if (p->seen & SEEN(i)) {
			fail(p, p->line, "duplicate key `%s' in [%s]", name, sect);
			return 1;
		}
		p->seen |= SEEN(i);
		p->key_line[i] = p->line;
		keys[i].set(p, &keys[i], value);
		return 1;
	}
	unknown_key(p, name, sect);
	return 1;
}

/* inih's own complaint: a line that is neither a comment nor key = value. */
static void syntax_error(struct parser *p, unsigned line)
{
	const char *s = p->text;
	size_t len;

	for (unsigned i = 1; i < line && s; i++) {
		s = strchr(s, '\n');
		s = s ? s + 1 : NULL;
	}
	if (!s)
		s = "";
	len = strcspn(s, "\n");
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	p->err_line = 0;
	fail(p, line, "expected `key = value': `%.*s'", (int)len, s);
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_port = CONFIG_DEFAULT_PORT;
	strcpy(c->tun_name, CONFIG_DEFAULT_TUN);
	c->state_dir = strdup(CONFIG_DEFAULT_STATE_DIR);
	if (!c->state_dir)
		abort(); /* 15 bytes at start-up: nothing sensible to do without them */
	c->log_level = LOG_LEVEL_INFO;
	c->accept_dns = true;
	strcpy(c->resolv_conf, CONFIG_DEFAULT_RESOLV_CONF);
	c->timers.rekey_after_time = REKEY_AFTER_TIME_NS;
	c->timers.reject_after_time = REJECT_AFTER_TIME_NS;
	c->timers.rekey_timeout = REKEY_TIMEOUT_NS;
	c->timers.keepalive_timeout = KEEPALIVE_TIMEOUT_NS;
	c->timers.rekey_attempt_time = REKEY_ATTEMPT_TIME_NS;
	c->timers.under_load = UNDER_LOAD_AUTO;
	c->api.enabled = true;
	c->api.port = CONFIG_API_DEFAULT_PORT;
	strcpy(c->api.listen[0], "127.0.0.1");
	strcpy(c->api.listen[1], "::1");
	c->api.nlisten = 2;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->warnings);
	free(c->state_dir);
	free(c->peers);
	free(c->uplinks);
	memset(c, 0, sizeof(*c));
}

bool config_parse_string(const char *text, const char *name, struct config *c, char *err,
			 size_t errlen)
{
	struct config next;
	struct parser p = {
		.name = name,
		.text = text,
		.cursor = text,
		.c = &next,
		.err = err,
		.errlen = errlen,
	};
	int r;

	if (errlen)
		err[0] = '\0';
	config_init(&next);
	r = ini_parse_stream(read_line, &p, handle_key, &p);
	if (r == -2)
		p.oom = true;
	if (r > 0 && (!p.err_line || (unsigned)r < p.err_line))
		syntax_error(&p, (unsigned)r);
	if (!p.err_line && !p.oom)
		end_section(&p);
	if (p.nwarnings > CONFIG_WARNINGS_MAX) {
		unsigned more = p.nwarnings - CONFIG_WARNINGS_MAX;

		p.nwarnings = 0;
		warn(&p, p.line,
		     "%u more unknown keys or sections ignored (the first %d are listed)", more,
		     CONFIG_WARNINGS_MAX);
	}
	if (p.oom && errlen)
		snprintf(err, errlen, "%s: out of memory", name);
	config_free(c);
	if (p.err_line || p.oom) {
		config_free(&next);
		config_init(c);
		return false;
	}
	*c = next;
	return true;
}

/* The whole file, NUL-terminated, or NULL with a message in err. */
static char *read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL, *b;
	size_t len = 0, cap = 0, n;
	int e = 0;

	if (!f) {
		e = errno;
		goto out;
	}
	errno = 0;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 16384;
			b = cap <= CONFIG_FILE_MAX ? realloc(buf, cap + 1) : NULL;
			if (!b) {
				e = cap > CONFIG_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (!e && ferror(f))
		e = errno ? errno : EIO;
	fclose(f);
out:
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		unsigned line = 1;

		for (const char *q = buf; *q; q++)
			line += *q == '\n';
		snprintf(err, errlen, "%s:%u: the file contains a NUL byte", path, line);
		free(buf);
		return NULL;
	}
	return buf;
}

bool config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	char *text = read_file(path, err, errlen);
	bool ok;

	if (!text) {
		config_free(c);
		config_init(c);
		return false;
	}
	ok = config_parse_string(text, path, c, err, errlen);
	free(text);
	for (const char *w = ok ? c->warnings : NULL; w && *w; w = strchr(w, '\n') + 1)
		log_warn("config", "%.*s", (int)strcspn(w, "\n"), w);
	return ok;
}
