/* wireguard-go's UAPI text (wguapi.h). */
#include "uplink/wguapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) static void put(struct wbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

static void put_hex_key(struct wbuf *b, const char *key, const uint8_t bin[WGQ_KEY_LEN])
{
	char hex[2 * WGQ_KEY_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), bin, WGQ_KEY_LEN);
	put(b, "%s=%s\n", key, hex);
	sodium_memzero(hex, sizeof(hex));
}

static void put_endpoint(struct wbuf *b, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		put(b, "endpoint=[%s]:%u\n", ip, ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		put(b, "endpoint=%s:%u\n", ip, ntohs(s4->sin_port));
	}
}

char *wguapi_set_request(const struct wgq_config *c, const struct sockaddr_storage *eps,
			 size_t *len)
{
	struct wbuf b = { .p = sodium_malloc(WGUAPI_REQUEST_MAX), .cap = WGUAPI_REQUEST_MAX };
	char text[64];

	if (!b.p)
		return NULL;
	put(&b, "set=1\n");
	put_hex_key(&b, "private_key", c->private_key);
	if (c->listen_port >= 0)
		put(&b, "listen_port=%d\n", c->listen_port);
	put(&b, "fwmark=%u\n", c->has_fwmark ? c->fwmark : 0);
	put(&b, "replace_peers=true\n");
	for (size_t i = 0; i < c->npeers; i++) {
		const struct wgq_peer *p = &c->peers[i];

		put_hex_key(&b, "public_key", p->public_key);
		if (p->has_preshared_key)
			put_hex_key(&b, "preshared_key", p->preshared_key);
		put_endpoint(&b, &eps[i]);
		put(&b, "persistent_keepalive_interval=%u\n", p->keepalive);
		put(&b, "replace_allowed_ips=true\n");
		for (size_t j = 0; j < p->nallowed; j++) {
			wgq_prefix_format(&p->allowed[j], text, sizeof(text));
			put(&b, "allowed_ip=%s\n", text);
		}
	}
	put(&b, "\n");
	if (b.overflow) { /* cannot happen within the parser's limits */
		sodium_free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

int wguapi_answer(const char *text, size_t len, long *uapi_errno)
{
	const char *e, *end;

	if (len < 2 || memcmp(text + len - 2, "\n\n", 2) != 0)
		return 0;
	/* the last line before the blank one */
	for (e = text + len - 2; e > text && e[-1] != '\n'; e--)
		;
	if (strncmp(e, "errno=", 6) != 0)
		return -EPROTO;
	errno = 0;
	*uapi_errno = strtol(e + 6, (char **)&end, 10);
	if (errno || end == e + 6 || *end != '\n')
		return -EPROTO;
	return 1;
}

static void peer_field(struct wguapi_peer *p, const char *key, const char *value)
{
	uint64_t v = strtoull(value, NULL, 10);

	if (!strcmp(key, "endpoint"))
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", value);
	else if (!strcmp(key, "last_handshake_time_sec"))
		p->handshake_sec = v;
	else if (!strcmp(key, "last_handshake_time_nsec"))
		p->handshake_nsec = v;
	else if (!strcmp(key, "rx_bytes"))
		p->rx_bytes = v;
	else if (!strcmp(key, "tx_bytes"))
		p->tx_bytes = v;
}

size_t wguapi_parse_get(char *text, struct wguapi_peer *out, size_t max)
{
	struct wguapi_peer *cur = NULL;
	char *save = NULL, *line;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		size_t binlen = 0;

		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(line, "public_key") != 0) {
			if (cur)
				peer_field(cur, line, eq + 1);
			continue;
		}
		cur = NULL;
		if (n == max)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		if (sodium_hex2bin(out[n].public_key, WGQ_KEY_LEN, eq + 1, strlen(eq + 1), NULL,
				   &binlen, NULL) == 0 &&
		    binlen == WGQ_KEY_LEN)
			cur = &out[n++];
	}
	return n;
}
