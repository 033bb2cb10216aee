/*
 * The WireGuard uplink (`type = wireguard'): an interface from a wg-quick
 * style file (wgquick.h), run by wireguard-go and configured over its UAPI
 * socket (the cross-platform configuration protocol: `set=1' / `get=1',
 * keys in hex, an `errno=N' answer), with its MTU, addresses and routes set
 * over netlink (wireguard_linux.c).
 *
 * Kernel WireGuard: up() probes whether the kernel makes links of kind
 * "wireguard" and says so in the log and in status, but configuring a
 * kernel device (generic netlink) is not built yet, so wireguard-go runs
 * either way and status says "mode": "wireguard-go".
 *
 * The protocol's text is wguapi.c's. wireguard-go runs in the foreground (`wireguard-go -f IFNAME'), spawned
 * with uv_spawn (no shell), its stdout and stderr those of mantad. Nothing
 * here blocks: each step is a callback, and the socket is polled with a
 * timer. The socket's other end must be our child (its pid checked), never
 * a stale or foreign wireguard-go of the same name.
 *
 * States, and what the one timer does in each:
 *   RESOLVING     Endpoint host names are being looked up (uv_getaddrinfo).
 *   WAITING       wireguard-go started; the timer looks for its UAPI socket
 *                 every SOCKET_POLL_MS, for SOCKET_WAIT_MS at most.
 *   CONFIGURING   the `set' request is out; its errno decides.
 *   RUNNING       the timer sends `get' every WATCH_FAST_MS until the first
 *                 handshake (for FAST_FOR_MS at most), then every WATCH_MS:
 *                 handshake times and byte counters for status.
 *   BACKOFF       wireguard-go exited unasked: logged, shown as the
 *                 uplink's error, restarted after 1, 2, 4 ... BACKOFF_MAX_S
 *                 seconds (from 1 again once it ran STABLE_AFTER_S).
 *   FAILED        wireguard-go refused the configuration, or netlink did, or
 *                 the socket never came: wireguard-go is stopped and stays
 *                 stopped until the next `up' (a bad file does not mend
 *                 itself).
 *   STOPPING      down() let go of it: SIGTERM (wireguard-go then removes
 *                 its socket and its TUN, and with it the addresses and
 *                 routes), SIGKILL after KILL_AFTER_MS; freed when every
 *                 handle has closed.
 *
 * Key material: the private and preshared keys live in sodium_malloc memory
 * (the parsed file, the `set' request, the `get' answer, which repeats the
 * private key) that is wiped once used; they are never logged. The parsed
 * file is dropped once wireguard-go has it, and read again on a restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "uplink/uplink.h"
#include "uplink/wgquick.h"
#include "uplink/wguapi.h"
#include "uplink/wireguard.h"

#define WG_DEFAULT_MTU 1420
#define SOCKET_POLL_MS 20
#define SOCKET_WAIT_MS 10000
#define WATCH_FAST_MS 1000
#define WATCH_MS 5000
#define FAST_FOR_MS 60000
#define KILL_AFTER_MS 3000
#define BACKOFF_MAX_S 30
#define STABLE_AFTER_S 60
#define REPLY_MAX (64 * 1024)

enum wg_state {
	WG_RESOLVING,
	WG_WAITING,
	WG_CONFIGURING,
	WG_RUNNING,
	WG_BACKOFF,
	WG_FAILED,
	WG_STOPPING,
};

static const char *const state_names[] = {
	[WG_RESOLVING] = "resolving", [WG_WAITING] = "starting",   [WG_CONFIGURING] = "configuring",
	[WG_RUNNING] = "running",     [WG_BACKOFF] = "restarting", [WG_FAILED] = "failed",
	[WG_STOPPING] = "stopping",
};

struct wg_write {
	uv_write_t req;
	char *buf; /* sodium_malloc */
};

/* One per uplink that is up; owned by the uplink (u->priv) until down(),
 * then by its own handles. */
struct wg {
	struct uplink *u; /* NULL once down() let go */
	char name[UPLINK_NAME_MAX];
	char ifname[IFNAMSIZ];
	char config[UPLINK_PATH_MAX];
	char go[UPLINK_PATH_MAX];
	char sock_path[sizeof(WG_UAPI_DIR) + IFNAMSIZ + 8];
	uv_loop_t *loop;
	enum wg_state state;
	bool kernel_available;
	unsigned mtu_override; /* the uplink's `mtu', 0 = the file's or 1420 */
	unsigned mtu;
	uint32_t metric; /* of its default routes */
	struct wgq_config *cfg; /* the file, until wireguard-go has it */
	struct sockaddr_storage eps[WGQ_PEERS_MAX];
	uv_getaddrinfo_t gai[WGQ_PEERS_MAX];
	bool gai_busy[WGQ_PEERS_MAX];
	unsigned resolving;
	uv_process_t proc;
	bool proc_open, child_alive;
	int pid;
	uv_timer_t timer;
	bool timer_open;
	uv_pipe_t pipe;
	bool pipe_open, op_get;
	char *reply; /* sodium_malloc, REPLY_MAX */
	size_t rlen;
	uint64_t wait_until, started_at;
	unsigned backoff_s, restarts;
	struct wguapi_peer peers[WGQ_PEERS_MAX]; /* the file's, as last reported */
	size_t npeers;
	struct wguapi_peer seen[WGQ_PEERS_MAX]; /* the last answer's */
	unsigned pending; /* open handles and outstanding requests */
};

static void on_timer(uv_timer_t *t);
static void on_closed(uv_handle_t *h);

static void set_error(struct wg *w, const char *msg)
{
	if (w->u)
		snprintf(w->u->error, sizeof(w->u->error), "%s", msg);
}

static void free_wg(struct wg *w)
{
	wgq_config_free(w->cfg);
	sodium_free(w->reply);
	free(w);
}

/* A let-go instance is freed once nothing of it is left in the loop: the
 * timer closes last, and its close callback frees. */
static void finish(struct wg *w)
{
	if (w->u || w->state != WG_STOPPING)
		return;
	if (w->proc_open || w->pipe_open || w->resolving)
		return;
	if (w->timer_open) {
		if (!uv_is_closing((uv_handle_t *)&w->timer)) {
			uv_timer_stop(&w->timer);
			uv_close((uv_handle_t *)&w->timer, on_closed);
		}
		return;
	}
	if (w->pending == 0)
		free_wg(w);
}

static void on_closed(uv_handle_t *h)
{
	struct wg *w = h->data;

	if (h == (uv_handle_t *)&w->proc)
		w->proc_open = false;
	else if (h == (uv_handle_t *)&w->pipe)
		w->pipe_open = false;
	else
		w->timer_open = false;
	w->pending--;
	finish(w);
}

static void close_pipe(struct wg *w)
{
	if (w->pipe_open && !uv_is_closing((uv_handle_t *)&w->pipe))
		uv_close((uv_handle_t *)&w->pipe, on_closed);
	sodium_memzero(w->reply, REPLY_MAX);
	w->rlen = 0;
}

static void stop_child(struct wg *w)
{
	if (!w->child_alive)
		return;
	uv_process_kill(&w->proc, SIGTERM);
	uv_timer_start(&w->timer, on_timer, KILL_AFTER_MS, 0);
}

/* A configuration error: stop wireguard-go and stay down until `up'. */
__attribute__((format(printf, 2, 3))) static void fatal(struct wg *w, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("uplink", "%s: %s", w->name, msg);
	set_error(w, msg);
	w->state = WG_FAILED;
	wgq_config_free(w->cfg);
	w->cfg = NULL;
	close_pipe(w);
	uv_timer_stop(&w->timer);
	stop_child(w);
}

/* --- the UAPI conversation ------------------------------------------------ */

static void on_written(uv_write_t *req, int status)
{
	struct wg_write *wr = container_of(req, struct wg_write, req);

	sodium_free(wr->buf);
	free(wr);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct wg *w = h->data;

	*buf = uv_buf_init(w->reply + w->rlen, (unsigned)(REPLY_MAX - 1 - w->rlen));
}

static void set_done(struct wg *w, int err, long uapi_errno);
static void get_done(struct wg *w, int err, long uapi_errno);

/* Until the answer is whole: its errno line, then a blank line. */
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct wg *w = s->data;
	long uapi_errno = 0;
	int err = 0, r;

	if (nread == 0)
		return;
	if (nread > 0) {
		w->rlen += (size_t)nread;
		w->reply[w->rlen] = '\0';
		r = wguapi_answer(w->reply, w->rlen, &uapi_errno);
		if (r == 0 && w->rlen < REPLY_MAX - 1)
			return;
		err = r < 0 ? r : r == 0 ? -EMSGSIZE : 0;
	} else {
		err = nread == UV_EOF ? -EPIPE : (int)nread;
	}
	uv_read_stop(s);
	if (w->op_get)
		get_done(w, err, uapi_errno);
	else
		set_done(w, err, uapi_errno);
	close_pipe(w);
}

/* Send req (sodium_malloc memory, taken over) on the connected fd. */
static int uapi_start(struct wg *w, int fd, char *req, size_t len, bool get)
{
	struct wg_write *wr;
	uv_buf_t buf = uv_buf_init(req, (unsigned)len);
	int r;

	r = uv_pipe_init(w->loop, &w->pipe, 0);
	if (r < 0) {
		close(fd);
		sodium_free(req);
		return r;
	}
	w->pipe.data = w;
	w->pipe_open = true;
	w->pending++;
	w->rlen = 0;
	w->op_get = get;
	r = uv_pipe_open(&w->pipe, fd);
	if (r < 0) {
		close(fd);
		goto fail;
	}
	wr = malloc(sizeof(*wr));
	if (!wr) {
		r = UV_ENOMEM;
		goto fail;
	}
	wr->buf = req;
	req = NULL;
	r = uv_write(&wr->req, (uv_stream_t *)&w->pipe, &buf, 1, on_written);
	if (r < 0) {
		sodium_free(wr->buf);
		free(wr);
		goto fail;
	}
	r = uv_read_start((uv_stream_t *)&w->pipe, on_alloc, on_read);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sodium_free(req);
	close_pipe(w);
	return r;
}

/* --- watching ------------------------------------------------------------ */

static struct wguapi_peer *peer_find(struct wg *w, const uint8_t key[WGQ_KEY_LEN])
{
	for (size_t i = 0; i < w->npeers; i++)
		if (!memcmp(w->peers[i].public_key, key, WGQ_KEY_LEN))
			return &w->peers[i];
	return NULL;
}

static void get_done(struct wg *w, int err, long uapi_errno)
{
	char b64[sodium_base64_ENCODED_LEN(WGQ_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
	size_t n;

	if (err || uapi_errno) {
		log_warn("uplink", "%s: reading wireguard-go's state failed: %s", w->name,
			 err ? strerror(-err) : "an errno answer");
		return;
	}
	n = wguapi_parse_get(w->reply, w->seen, ARRAY_SIZE(w->seen));
	for (size_t i = 0; i < n; i++) {
		struct wguapi_peer *p = peer_find(w, w->seen[i].public_key);

		if (!p)
			continue;
		if (w->seen[i].handshake_sec && !p->handshake_sec) {
			sodium_bin2base64(b64, sizeof(b64), p->public_key, WGQ_KEY_LEN,
					  sodium_base64_VARIANT_ORIGINAL);
			log_info("uplink", "%s: first handshake with peer %.8s…", w->name, b64);
		}
		*p = w->seen[i];
	}
}

static bool any_handshake(const struct wg *w)
{
	for (size_t i = 0; i < w->npeers; i++)
		if (w->peers[i].handshake_sec)
			return true;
	return false;
}

static void watch(struct wg *w)
{
	bool fast = !any_handshake(w) && uv_now(w->loop) - w->started_at < FAST_FOR_MS;
	char *req;
	int fd, r;

	uv_timer_start(&w->timer, on_timer, fast ? WATCH_FAST_MS : WATCH_MS, 0);
	if (w->pipe_open)
		return; /* the last one is still out */
	fd = wg_os_uapi_connect(w->sock_path, w->pid);
	if (fd < 0) {
		log_warn("uplink", "%s: cannot connect to %s: %s", w->name, w->sock_path,
			 strerror(-fd));
		return;
	}
	req = sodium_malloc(8);
	if (!req) {
		close(fd);
		return;
	}
	memcpy(req, "get=1\n\n", 7);
	r = uapi_start(w, fd, req, 7, true);
	if (r < 0)
		log_warn("uplink", "%s: cannot ask wireguard-go: %s", w->name, uv_strerror(r));
}

/* --- bringing it up ------------------------------------------------------ */

static void set_done(struct wg *w, int err, long uapi_errno)
{
	char msg[256];
	int r;

	if (err) {
		fatal(w, "lost wireguard-go's UAPI socket while configuring it: %s",
		      strerror(-err));
		return;
	}
	if (uapi_errno) {
		fatal(w, "wireguard-go refused the configuration from %s: errno=%ld (%s)",
		      w->config, uapi_errno, strerror((int)labs(uapi_errno)));
		return;
	}
	r = wg_os_link_configure(w->ifname, w->mtu, w->metric, w->cfg, w->eps, msg, sizeof(msg));
	if (r < 0) {
		fatal(w, "%s", msg);
		return;
	}
	log_info("uplink",
		 "%s: %s up with wireguard-go (pid %d), mtu %u, %zu address(es), %zu peer(s)",
		 w->name, w->ifname, w->pid, w->mtu, w->cfg->naddrs, w->cfg->npeers);
	wgq_config_free(w->cfg);
	w->cfg = NULL;
	w->state = WG_RUNNING;
	w->started_at = uv_now(w->loop);
	set_error(w, "");
	uv_timer_start(&w->timer, on_timer, 0, 0);
}

/* The timer in WAITING: is the socket there, and ours? */
static void wait_socket(struct wg *w)
{
	size_t len = 0;
	char *req;
	int fd, r;

	fd = wg_os_uapi_connect(w->sock_path, w->pid);
	if (fd < 0) {
		bool retry = fd == -ENOENT || fd == -ECONNREFUSED || fd == -EAGAIN ||
			     fd == -EADDRINUSE;

		if (retry && uv_now(w->loop) < w->wait_until) {
			uv_timer_start(&w->timer, on_timer, SOCKET_POLL_MS, 0);
			return;
		}
		fatal(w, "wireguard-go (pid %d) did not open %s within %d s: %s", w->pid,
		      w->sock_path, SOCKET_WAIT_MS / 1000, strerror(-fd));
		return;
	}
	req = wguapi_set_request(w->cfg, w->eps, &len);
	if (!req) {
		close(fd);
		fatal(w, "cannot build the UAPI request: out of memory");
		return;
	}
	r = uapi_start(w, fd, req, len, false);
	if (r < 0) {
		fatal(w, "cannot talk to wireguard-go on %s: %s", w->sock_path, uv_strerror(r));
		return;
	}
	w->state = WG_CONFIGURING;
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig);

static int spawn_child(struct wg *w, char *err, size_t errlen)
{
	const char *file = w->go[0] ? w->go : "wireguard-go";
	char *args[] = { (char *)file, (char *)"-f", w->ifname, NULL };
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = STDOUT_FILENO },
		{ .flags = UV_INHERIT_FD, .data.fd = STDERR_FILENO },
	};
	uv_process_options_t opt = {
		.exit_cb = on_child_exit,
		.file = file,
		.args = args,
		.stdio_count = 3,
		.stdio = stdio,
	};
	int r;

	if (w->proc_open)
		return errmsg(err, errlen, -EBUSY, "the last wireguard-go has not been reaped yet");
	w->proc.data = w;
	w->proc_open = true;
	w->pending++;
	r = uv_spawn(w->loop, &w->proc, &opt);
	if (r < 0) {
		/* uv_spawn initialised the handle all the same. */
		uv_close((uv_handle_t *)&w->proc, on_closed);
		return errmsg(err, errlen, r, "cannot start `%s': %s%s", file, uv_strerror(r),
			      r == UV_ENOENT ?
				      " (install wireguard-go, or set wireguard_go = PATH)" :
				      "");
	}
	w->child_alive = true;
	w->pid = w->proc.pid;
	w->state = WG_WAITING;
	w->wait_until = uv_now(w->loop) + SOCKET_WAIT_MS;
	log_info("uplink", "%s: started %s -f %s (pid %d)", w->name, file, w->ifname, w->pid);
	uv_timer_start(&w->timer, on_timer, SOCKET_POLL_MS, 0);
	return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct wg *w = req->data;
	size_t i = (size_t)(req - w->gai);
	char err[256];

	w->gai_busy[i] = false;
	w->resolving--;
	w->pending--;
	if (w->state != WG_RESOLVING) {
		uv_freeaddrinfo(res);
		finish(w);
		return;
	}
	if (status < 0 || !res) {
		fatal(w, "cannot resolve `%s', the Endpoint of the [Peer] of %s:%u: %s",
		      w->cfg->peers[i].endpoint_host, w->config, w->cfg->peers[i].line,
		      uv_strerror(status));
		uv_freeaddrinfo(res);
		return;
	}
	memcpy(&w->eps[i], res->ai_addr, MIN((size_t)res->ai_addrlen, sizeof(w->eps[i])));
	if (res->ai_family == AF_INET6)
		((struct sockaddr_in6 *)&w->eps[i])->sin6_port =
			htons(w->cfg->peers[i].endpoint_port);
	else
		((struct sockaddr_in *)&w->eps[i])->sin_port =
			htons(w->cfg->peers[i].endpoint_port);
	uv_freeaddrinfo(res);
	if (w->resolving == 0 && spawn_child(w, err, sizeof(err)) < 0)
		fatal(w, "%s", err);
}

/* Each peer's Endpoint into w->eps: literals at once, names through
 * uv_getaddrinfo (then w->resolving counts them). */
static int resolve(struct wg *w, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };

	memset(w->eps, 0, sizeof(w->eps));
	for (size_t i = 0; i < w->cfg->npeers; i++) {
		const struct wgq_peer *p = &w->cfg->peers[i];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&w->eps[i];
		struct sockaddr_in *s4 = (struct sockaddr_in *)&w->eps[i];
		int r;

		if (!p->endpoint_host[0])
			continue;
		if (inet_pton(AF_INET6, p->endpoint_host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(p->endpoint_port);
			continue;
		}
		if (inet_pton(AF_INET, p->endpoint_host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(p->endpoint_port);
			continue;
		}
		w->gai[i].data = w;
		r = uv_getaddrinfo(w->loop, &w->gai[i], on_resolved, p->endpoint_host, NULL,
				   &hints);
		if (r < 0)
			return errmsg(err, errlen, r, "cannot resolve `%s': %s", p->endpoint_host,
				      uv_strerror(r));
		w->gai_busy[i] = true;
		w->resolving++;
		w->pending++;
	}
	return 0;
}

/* Load the file (unless up() just did), resolve, start wireguard-go. */
static int begin(struct wg *w, char *err, size_t errlen)
{
	int r;

	if (!w->cfg) {
		w->cfg = wgq_load(w->config, err, errlen);
		if (!w->cfg)
			return -EINVAL;
	}
	w->mtu = w->mtu_override ? w->mtu_override : w->cfg->mtu ? w->cfg->mtu : WG_DEFAULT_MTU;
	memset(w->peers, 0, sizeof(w->peers));
	w->npeers = w->cfg->npeers;
	for (size_t i = 0; i < w->npeers; i++)
		memcpy(w->peers[i].public_key, w->cfg->peers[i].public_key, WGQ_KEY_LEN);
	if (w->npeers == 0)
		log_warn("uplink", "%s: %s has no [Peer]: nothing will flow", w->name, w->config);
	r = resolve(w, err, errlen);
	if (r < 0)
		return r;
	if (w->resolving) {
		w->state = WG_RESOLVING;
		return 0;
	}
	return spawn_child(w, err, errlen);
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
	struct wg *w = container_of(p, struct wg, proc);
	char why[64], msg[256];

	w->child_alive = false;
	uv_close((uv_handle_t *)p, on_closed);
	close_pipe(w);
	if (sig)
		snprintf(why, sizeof(why), "was killed by signal %d", sig);
	else
		snprintf(why, sizeof(why), "exited with status %lld", (long long)status);
	if (w->state == WG_STOPPING || w->state == WG_FAILED) {
		log_info("uplink", "%s: wireguard-go (pid %d) stopped", w->name, w->pid);
		uv_timer_stop(&w->timer);
		return;
	}
	if (w->state == WG_RUNNING && uv_now(w->loop) - w->started_at >= STABLE_AFTER_S * 1000ull)
		w->backoff_s = 0;
	w->backoff_s = w->backoff_s ? MIN(w->backoff_s * 2, BACKOFF_MAX_S) : 1;
	snprintf(msg, sizeof(msg), "wireguard-go (pid %d) %s; restarting in %u s", w->pid, why,
		 w->backoff_s);
	log_err("uplink", "%s: %s", w->name, msg);
	set_error(w, msg);
	wgq_config_free(w->cfg);
	w->cfg = NULL;
	w->state = WG_BACKOFF;
	uv_timer_start(&w->timer, on_timer, w->backoff_s * 1000ull, 0);
}

static void restart(struct wg *w)
{
	char err[256];

	if (w->proc_open) { /* not reaped yet */
		uv_timer_start(&w->timer, on_timer, 100, 0);
		return;
	}
	w->restarts++;
	if (begin(w, err, sizeof(err)) < 0)
		fatal(w, "%s", err);
}

static void on_timer(uv_timer_t *t)
{
	struct wg *w = container_of(t, struct wg, timer);

	switch (w->state) {
	case WG_WAITING:
		wait_socket(w);
		break;
	case WG_RUNNING:
		watch(w);
		break;
	case WG_BACKOFF:
		restart(w);
		break;
	case WG_FAILED:
	case WG_STOPPING:
		if (w->child_alive) {
			log_warn("uplink", "%s: wireguard-go (pid %d) ignored SIGTERM, killing it",
				 w->name, w->pid);
			uv_process_kill(&w->proc, SIGKILL);
		}
		break;
	default:
		break;
	}
}

/* wg-quick's rule for interface names. */
static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=+.-",
			    *s))
			return false;
	return true;
}

/* The uplink's `interface', else the file's name without its directory and
 * ".conf", as wg-quick names it. */
static int pick_ifname(const struct uplink_config *c, char out[IFNAMSIZ], char *err, size_t errlen)
{
	const char *base = strrchr(c->wg_config, '/');
	char name[UPLINK_PATH_MAX];
	size_t n;

	if (c->ifname[0]) {
		snprintf(name, sizeof(name), "%s", c->ifname);
	} else {
		snprintf(name, sizeof(name), "%s", base ? base + 1 : c->wg_config);
		n = strlen(name);
		if (n > 5 && !strcmp(name + n - 5, ".conf"))
			name[n - 5] = '\0';
	}
	if (!ifname_valid(name))
		return errmsg(err, errlen, -EINVAL,
			      "`%s' is not a valid interface name (1-%d of A-Z a-z 0-9 _=+.-); set "
			      "`interface'",
			      name, IFNAMSIZ - 1);
	memcpy(out, name, strlen(name) + 1);
	return 0;
}

static void wg_down(struct uplink *u);

static void probe_kernel(struct wg *w)
{
	int r = wg_os_kernel_probe(w->ifname);

	w->kernel_available = r == 0;
	if (r == 0)
		log_info("uplink",
			 "%s: the kernel has WireGuard, but manta configures it only through "
			 "wireguard-go so far: using wireguard-go",
			 w->name);
	else if (r == -EOPNOTSUPP)
		log_info("uplink", "%s: kernel WireGuard is not available, using wireguard-go",
			 w->name);
	else
		log_info("uplink", "%s: kernel WireGuard probe failed (%s), using wireguard-go",
			 w->name, strerror(-r));
}

static int wg_up(struct uplink *u, char *err, size_t errlen)
{
	char ifname[IFNAMSIZ];
	struct wg *w;
	int r;

	if (u->priv)
		wg_down(u);
	r = wg_os_check(u->cfg.name, err, errlen);
	if (r < 0)
		return r;
	if (!u->cfg.wg_config[0])
		return errmsg(err, errlen, -EINVAL, "no `config' (a wg-quick file) given");
	r = pick_ifname(&u->cfg, ifname, err, errlen);
	if (r < 0)
		return r;
	if (if_nametoindex(ifname))
		return errmsg(err, errlen, -EEXIST,
			      "interface %s exists already (another wg-quick or wireguard-go, or "
			      "the last one still exiting): not touching it",
			      ifname);
	w = calloc(1, sizeof(*w));
	if (!w)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	w->reply = sodium_malloc(REPLY_MAX);
	w->cfg = wgq_load(u->cfg.wg_config, err, errlen);
	if (!w->reply || !w->cfg) {
		r = w->reply ? -EINVAL : errmsg(err, errlen, -ENOMEM, "out of memory");
		free_wg(w);
		return r;
	}
	w->loop = u->set->loop;
	snprintf(w->name, sizeof(w->name), "%s", u->cfg.name);
	memcpy(w->ifname, ifname, sizeof(ifname));
	snprintf(w->config, sizeof(w->config), "%s", u->cfg.wg_config);
	snprintf(w->go, sizeof(w->go), "%s", u->cfg.wg_go);
	snprintf(w->sock_path, sizeof(w->sock_path), "%s/%s.sock", WG_UAPI_DIR, ifname);
	w->mtu_override = u->cfg.mtu;
	w->metric = u->cfg.metric ? u->cfg.metric : WG_DEFAULT_ROUTE_METRIC;
	uv_timer_init(w->loop, &w->timer);
	w->timer.data = w;
	w->timer_open = true;
	w->pending++;
	w->u = u;
	u->priv = w;
	probe_kernel(w);
	r = begin(w, err, errlen);
	if (r < 0) {
		wg_down(u);
		return r;
	}
	snprintf(u->ifname, sizeof(u->ifname), "%s", ifname);
	return 0;
}

static void wg_down(struct uplink *u)
{
	struct wg *w = u->priv;

	if (!w)
		return;
	u->priv = NULL;
	w->u = NULL;
	w->state = WG_STOPPING;
	wgq_config_free(w->cfg);
	w->cfg = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(w->gai); i++)
		if (w->gai_busy[i])
			uv_cancel((uv_req_t *)&w->gai[i]);
	close_pipe(w);
	uv_timer_stop(&w->timer);
	if (w->child_alive) {
		log_info("uplink", "%s: stopping wireguard-go (pid %d)", w->name, w->pid);
		stop_child(w);
	}
	finish(w);
}

static json_t *peer_json(const struct wguapi_peer *p, time_t now)
{
	char b64[sodium_base64_ENCODED_LEN(WGQ_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), p->public_key, WGQ_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	return json_pack(
		"{s:s, s:o, s:o, s:I, s:I}", "public_key", b64, "endpoint",
		p->endpoint[0] ? json_string(p->endpoint) : json_null(), "handshake_age",
		p->handshake_sec ?
			json_integer(MAX((json_int_t)now - (json_int_t)p->handshake_sec, 0)) :
			json_null(),
		"rx_bytes", (json_int_t)p->rx_bytes, "tx_bytes", (json_int_t)p->tx_bytes);
}

static void wg_status(const struct uplink *u, json_t *obj)
{
	const struct wg *w = u->priv;
	json_t *peers = json_array();
	time_t now = time(NULL);
	uint64_t newest = 0;

	json_object_set_new(obj, "mode", w ? json_string("wireguard-go") : json_null());
	json_object_set_new(obj, "peers", peers);
	if (!w) {
		json_object_set_new(obj, "handshake_age", json_null());
		return;
	}
	for (size_t i = 0; i < w->npeers; i++) {
		json_array_append_new(peers, peer_json(&w->peers[i], now));
		newest = MAX(newest, w->peers[i].handshake_sec);
	}
	json_object_set_new(obj, "handshake_age",
			    newest ? json_integer(MAX((json_int_t)now - (json_int_t)newest, 0)) :
				     json_null());
	json_object_set_new(obj, "wireguard_go_state", json_string(state_names[w->state]));
	json_object_set_new(obj, "wireguard_go_pid",
			    w->child_alive ? json_integer(w->pid) : json_null());
	json_object_set_new(obj, "kernel_wireguard", json_boolean(w->kernel_available));
	json_object_set_new(obj, "restarts", json_integer(w->restarts));
}

const struct uplink_driver uplink_wireguard = {
	.type = "wireguard",
	.up = wg_up,
	.down = wg_down,
	.status = wg_status,
};
