/*
 * The tunnel broker's endpoint update (he_update.h) over libcurl's multi
 * interface on the daemon's libuv loop; libcurl itself is loaded on first
 * use (curl_dl.h), so calls go through `cu'.
 *
 * libcurl says which sockets to watch (socket_cb: one uv_poll_t each, in a
 * struct curl_sock that curl_multi_assign ties to the socket) and when to
 * call it back (timer_cb: curl_timer); both end in curl_multi_socket_action,
 * after which finished transfers are collected (collect). One request runs
 * at a time; a change of the local address during one sends another after
 * it.
 *
 * Timers:
 *   curl_timer   libcurl's own timeouts (CURLMOPT_TIMERFUNCTION)
 *   retry_timer  the backoff after a failed update: 1 min, doubling, 1 h
 *
 * he_update_stop removes the transfer, cleans up the multi handle (which
 * reports every socket as removed: their polls close) and closes the two
 * timers; the struct is freed when the last handle has closed.
 */
#include "uplink/he_update.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "uplink/curl_dl.h"

#define BODY_MAX 256

/* libcurl, once he_update_start has loaded it. */
static const struct curl_api *cu;

struct he_update {
	uv_loop_t *loop;
	CURLM *multi;
	CURL *easy; /* the request in flight, or NULL */
	uv_timer_t curl_timer, retry_timer;
	int open_handles;
	bool stopping;
	char name[UPLINK_NAME_MAX];
	char url[UPLINK_PATH_MAX], user[64], key[128], tunnel_id[32];
	bool have_local, again; /* again: the address changed during a request */
	struct in_addr local;
	unsigned failures;
	uint64_t last_at, next_at; /* unix seconds; next_at 0 = nothing planned */
	char last_answer[128];
	char body[BODY_MAX];
	size_t body_len;
	char errbuf[CURL_ERROR_SIZE];
};

struct curl_sock {
	uv_poll_t poll;
	struct he_update *up;
	curl_socket_t fd;
};

/* --- pure parts ------------------------------------------------------------ */

bool he_update_public_v4(struct in_addr a)
{
	uint32_t x = ntohl(a.s_addr);

	return !((x >> 24) == 10 || (x >> 20) == (172u << 4 | 1) ||
		 (x >> 16) == (192u << 8 | 168) || (x >> 22) == (100u << 2 | 1) /* 100.64/10 */ ||
		 (x >> 24) == 127 || (x >> 16) == (169u << 8 | 254) || (x >> 24) == 0 ||
		 (x >> 28) >= 14);
}

int he_update_build_url(const char *base, const char *tunnel_id, struct in_addr local, char *out,
			size_t outlen)
{
	char ip[INET_ADDRSTRLEN];
	int n;

	if (he_update_public_v4(local) && inet_ntop(AF_INET, &local, ip, sizeof(ip)))
		n = snprintf(out, outlen, "%s?hostname=%s&myip=%s", base, tunnel_id, ip);
	else
		n = snprintf(out, outlen, "%s?hostname=%s", base, tunnel_id);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

bool he_update_answer_ok(const char *body)
{
	return strncmp(body, "good", 4) == 0 || strncmp(body, "nochg", 5) == 0;
}

uint64_t he_update_backoff_ms(unsigned failures)
{
	uint64_t ms = HE_UPDATE_BACKOFF_MIN_MS;

	for (unsigned i = 1; i < failures && ms < HE_UPDATE_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < HE_UPDATE_BACKOFF_MAX_MS ? ms : HE_UPDATE_BACKOFF_MAX_MS;
}

/* --- handles ------------------------------------------------------------- */

static void maybe_free(struct he_update *up)
{
	if (!up->stopping || up->open_handles > 0)
		return;
	explicit_bzero(up->key, sizeof(up->key));
	free(up);
}

static void handle_closed(uv_handle_t *h)
{
	struct he_update *up = h->data;

	up->open_handles--;
	maybe_free(up);
}

static void sock_closed(uv_handle_t *h)
{
	struct curl_sock *cs = container_of((uv_poll_t *)h, struct curl_sock, poll);
	struct he_update *up = cs->up;

	free(cs);
	up->open_handles--;
	maybe_free(up);
}

static void request(struct he_update *up);

static void on_retry(uv_timer_t *t)
{
	struct he_update *up = t->data;

	up->next_at = 0;
	request(up);
}

/* The one line the broker answered, without its line end, for the log. */
static void answer_line(struct he_update *up, char *out, size_t size)
{
	size_t len = strcspn(up->body, "\r\n");

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)up->body[i] < 0x20 || (unsigned char)up->body[i] > 0x7e)
			up->body[i] = '?';
	snprintf(out, size, "%.*s", (int)len, up->body);
}

static void finish(struct he_update *up, CURLcode result)
{
	long status = 0;
	uint64_t delay;
	bool ok;

	cu->easy_getinfo(up->easy, CURLINFO_RESPONSE_CODE, &status);
	cu->multi_remove_handle(up->multi, up->easy);
	cu->easy_cleanup(up->easy);
	up->easy = NULL;
	up->body[up->body_len] = '\0';
	up->last_at = (uint64_t)time(NULL);
	if (result != CURLE_OK)
		snprintf(up->last_answer, sizeof(up->last_answer), "error: %.100s",
			 up->errbuf[0] ? up->errbuf : cu->easy_strerror(result));
	else if (status != 200)
		snprintf(up->last_answer, sizeof(up->last_answer), "HTTP %ld", status);
	else
		answer_line(up, up->last_answer, sizeof(up->last_answer));
	ok = result == CURLE_OK && status == 200 && he_update_answer_ok(up->body);
	if (ok) {
		up->failures = 0;
		log_info("uplink", "%s: endpoint update: the broker says `%s'", up->name,
			 up->last_answer);
	} else {
		up->failures++;
		delay = he_update_backoff_ms(up->failures);
		up->next_at = up->last_at + delay / 1000;
		log_warn("uplink", "%s: endpoint update failed: `%s'; again in %llu s", up->name,
			 up->last_answer, (unsigned long long)(delay / 1000));
		uv_timer_start(&up->retry_timer, on_retry, delay, 0);
	}
	if (up->again) {
		up->again = false;
		uv_timer_stop(&up->retry_timer);
		up->next_at = 0;
		request(up);
	}
}

static void collect(struct he_update *up)
{
	CURLMsg *msg;
	int left;

	while ((msg = cu->multi_info_read(up->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == up->easy)
			finish(up, msg->data.result);
}

static void on_sock(uv_poll_t *p, int status, int events)
{
	struct curl_sock *cs = container_of(p, struct curl_sock, poll);
	struct he_update *up = cs->up;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	cu->multi_socket_action(up->multi, cs->fd, flags, &running);
	collect(up);
}

static void on_curl_timer(uv_timer_t *t)
{
	struct he_update *up = t->data;
	int running;

	cu->multi_socket_action(up->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(up);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct he_update *up = userp;
	struct curl_sock *cs = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (cs) {
			uv_poll_stop(&cs->poll);
			uv_close((uv_handle_t *)&cs->poll, sock_closed);
			if (!up->stopping)
				cu->multi_assign(up->multi, fd, NULL);
		}
		return 0;
	}
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs || uv_poll_init_socket(up->loop, &cs->poll, fd) < 0) {
			free(cs);
			return -1;
		}
		cs->up = up;
		cs->fd = fd;
		up->open_handles++;
		cu->multi_assign(up->multi, fd, cs);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&cs->poll, events, on_sock);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct he_update *up = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&up->curl_timer);
	else
		uv_timer_start(&up->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct he_update *up = userp;
	size_t len = size * n, room = BODY_MAX - 1 - up->body_len;

	memcpy(up->body + up->body_len, data, len < room ? len : room);
	up->body_len += len < room ? len : room;
	return len;
}

/* --- requests ------------------------------------------------------------ */

static void request(struct he_update *up)
{
	char url[UPLINK_PATH_MAX + 64];
	CURL *e;

	if (up->stopping || !up->have_local)
		return;
	if (up->easy) {
		up->again = true;
		return;
	}
	if (he_update_build_url(up->url, up->tunnel_id, up->local, url, sizeof(url)) < 0) {
		log_err("uplink", "%s: endpoint update: the URL is too long", up->name);
		return;
	}
	e = cu->easy_init();
	if (!e) {
		log_err("uplink", "%s: endpoint update: out of memory", up->name);
		return;
	}
	up->body_len = 0;
	up->errbuf[0] = '\0';
	cu->easy_setopt(e, CURLOPT_URL, url);
	cu->easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	cu->easy_setopt(e, CURLOPT_USERNAME, up->user);
	cu->easy_setopt(e, CURLOPT_PASSWORD, up->key);
	cu->easy_setopt(e, CURLOPT_USERAGENT, "manta/" MANTA_VERSION);
	cu->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(e, CURLOPT_TIMEOUT, HE_UPDATE_TIMEOUT_S);
	cu->easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	cu->easy_setopt(e, CURLOPT_WRITEDATA, up);
	cu->easy_setopt(e, CURLOPT_ERRORBUFFER, up->errbuf);
	cu->easy_setopt(e, CURLOPT_PRIVATE, up);
	if (cu->multi_add_handle(up->multi, e) != CURLM_OK) {
		cu->easy_cleanup(e);
		log_err("uplink", "%s: endpoint update: libcurl refused the request", up->name);
		return;
	}
	up->easy = e;
	log_info("uplink", "%s: endpoint update: GET %s", up->name, url);
}

struct he_update *he_update_start(uv_loop_t *loop, const struct uplink_config *cfg)
{
	struct he_update *up;
	char err[256];

	cu = curl_api_load(err, sizeof(err));
	if (!cu) {
		log_err("uplink", "%s: no endpoint update: %s", cfg->name, err);
		return NULL;
	}
	up = calloc(1, sizeof(*up));
	if (!up)
		return NULL;
	up->multi = cu->multi_init();
	if (!up->multi) {
		free(up);
		return NULL;
	}
	up->loop = loop;
	snprintf(up->name, sizeof(up->name), "%s", cfg->name);
	snprintf(up->url, sizeof(up->url), "%s",
		 cfg->he_update_url[0] ? cfg->he_update_url : HE_UPDATE_DEFAULT_URL);
	snprintf(up->user, sizeof(up->user), "%s", cfg->he_username);
	snprintf(up->key, sizeof(up->key), "%s", cfg->he_update_key);
	snprintf(up->tunnel_id, sizeof(up->tunnel_id), "%s", cfg->he_tunnel_id);
	cu->multi_setopt(up->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	cu->multi_setopt(up->multi, CURLMOPT_SOCKETDATA, up);
	cu->multi_setopt(up->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	cu->multi_setopt(up->multi, CURLMOPT_TIMERDATA, up);
	uv_timer_init(loop, &up->curl_timer);
	uv_timer_init(loop, &up->retry_timer);
	up->curl_timer.data = up->retry_timer.data = up;
	up->open_handles = 2;
	return up;
}

void he_update_set_local(struct he_update *up, struct in_addr local)
{
	if (up->have_local && up->local.s_addr == local.s_addr)
		return;
	up->have_local = true;
	up->local = local;
	up->failures = 0;
	uv_timer_stop(&up->retry_timer);
	up->next_at = 0;
	request(up);
}

void he_update_stop(struct he_update *up)
{
	if (!up || up->stopping)
		return;
	up->stopping = true;
	if (up->easy) {
		cu->multi_remove_handle(up->multi, up->easy);
		cu->easy_cleanup(up->easy);
		up->easy = NULL;
	}
	cu->multi_cleanup(up->multi);
	up->multi = NULL;
	uv_close((uv_handle_t *)&up->curl_timer, handle_closed);
	uv_close((uv_handle_t *)&up->retry_timer, handle_closed);
}

void he_update_status(const struct he_update *up, json_t *obj)
{
	json_t *o = json_object();

	json_object_set_new(o, "url", json_string(up->url));
	json_object_set_new(o, "tunnel_id", json_string(up->tunnel_id));
	json_object_set_new(o, "last_answer",
			    up->last_at ? json_string(up->last_answer) : json_null());
	json_object_set_new(o, "last_at", json_integer((json_int_t)up->last_at));
	json_object_set_new(o, "failures", json_integer(up->failures));
	json_object_set_new(o, "next_at", json_integer((json_int_t)up->next_at));
	json_object_set_new(obj, "he_update", o);
}
