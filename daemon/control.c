/*
 * A connection's life: it reads lines into buf; process() runs them one at
 * a time through the registry. A call the handler does not answer at once
 * stays `pending': later lines wait in buf (reading goes on, to notice the
 * client leaving, until buf holds more than one request's worth). When the
 * call is answered, the reply is written and the connection is marked
 * `ready'; the resume idle handle then runs what waits, from the loop
 * rather than from inside whoever answered. At EOF the remaining lines
 * still run (a client may send its request and shut down its side), then
 * the connection ends once the replies have been written. A client that
 * closes its socket while a call is pending, or any read or write error,
 * closes the connection at once and detaches the call.
 */
#include "daemon/control.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/api_mcp.h"
#include "daemon/commands.h"
#include "daemon/mantad.h"

/* One connection, owned by ctl->clients until its handle has closed. */
struct control_client {
	uv_pipe_t pipe;
	uv_shutdown_t shutdown;
	struct control *ctl;
	struct control_client *prev, *next;
	char *buf; /* received, not yet run */
	size_t len, cap;
	struct command_call *pending; /* the request running now */
	bool may_mutate;
	bool dispatching; /* inside commands_dispatch */
	bool ready; /* its call was answered: run what waits */
	bool reading;
	bool eof; /* the client sends nothing more */
	bool mcp; /* its first JSON-RPC line made it an MCP session (api_mcp.h) */
	bool ending;
	bool closing;
};

struct reply {
	uv_write_t req;
	char *data;
};

static void process(struct control_client *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void unlink_client(struct control_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void on_client_closed(uv_handle_t *h)
{
	struct control_client *c = container_of((uv_pipe_t *)h, struct control_client, pipe);

	free(c->buf);
	free(c);
}

/* Now: unsent replies are dropped, a pending call is detached. */
static void client_close(struct control_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	command_call_detach(c->pending);
	c->pending = NULL;
	unlink_client(c);
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	client_close(container_of(req, struct control_client, shutdown));
}

/* Once the replies written so far have gone out. */
static void client_end(struct control_client *c)
{
	if (c->closing || c->ending)
		return;
	c->ending = true;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = false;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown) != 0)
		client_close(c);
}

/* Root, or a member of the manta group (primary or supplementary, read from
 * /proc since SO_PEERCRED carries only the primary group). */
static bool caller_may_mutate(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct group *g;
	char path[64], line[1024];
	bool ok = false;
	FILE *f;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	if (cred.uid == 0)
		return true;
	g = getgrnam("manta");
	if (!g)
		return false;
	if (cred.gid == g->gr_gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cred.pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (char *tok = strtok(line + 7, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
			if ((gid_t)strtoul(tok, NULL, 10) == g->gr_gid)
				ok = true;
	}
	fclose(f);
	return ok;
}

/* The client closed its socket, not just its sending side (a client that
 * wrote its request and then shut down writing still waits for the reply). */
static bool peer_gone(struct control_client *c)
{
	uv_os_fd_t fd;
	struct pollfd p = { .events = 0 };

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return true;
	p.fd = fd;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void on_written(uv_write_t *req, int status)
{
	struct reply *r = container_of(req, struct reply, req);

	free(r->data);
	free(r);
}

static void send_line(struct control_client *c, json_t *msg)
{
	struct reply *r;
	char *text;
	uv_buf_t b;
	size_t n;

	if (c->closing || c->ending)
		return;
	r = malloc(sizeof(*r));
	text = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(9));
	if (!r || !text) {
		free(r);
		free(text);
		client_close(c);
		return;
	}
	n = strlen(text);
	text[n] = '\n'; /* json_dumps left room for its NUL */
	r->data = text;
	b = uv_buf_init(text, (unsigned)n + 1);
	if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
		free(text);
		free(r);
		client_close(c);
	}
}

__attribute__((format(printf, 2, 3))) static void send_error(struct control_client *c,
							     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *reply;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply = json_pack("{s:b,s:s}", "ok", 0, "error", msg);
	if (reply)
		send_line(c, reply);
	else
		client_close(c);
	json_decref(reply);
}

static void on_resume(uv_idle_t *idle)
{
	struct control *ctl = container_of(idle, struct control, resume);
	struct control_client *c;

	uv_idle_stop(idle);
	/* From the head again after each: running a request may close clients. */
	for (c = ctl->clients; c;) {
		if (!c->ready) {
			c = c->next;
			continue;
		}
		c->ready = false;
		process(c);
		c = ctl->clients;
	}
}

static void on_call_reply(void *ctx, json_t *reply)
{
	struct control_client *c = ctx;

	if (!c->dispatching) {
		/* Answered later: the next request runs from the loop, not from
		 * inside whichever callback answered this one. */
		c->pending = NULL;
		c->ready = true;
		if (c->ctl->open)
			uv_idle_start(&c->ctl->resume, on_resume);
	}
	send_line(c, reply);
}

static void on_call_progress(void *ctx, json_t *progress)
{
	send_line(ctx, progress);
}

static const struct command_transport transport = {
	.reply = on_call_reply,
	.progress = on_call_progress,
};

static void run_line(struct control_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req;
	struct command_call *call;

	if (len == 0 || (len == 1 && line[0] == '\r'))
		return; /* blank lines are not requests */
	req = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	c->mcp |= mcp_is_message(req);
	if (!req && !c->mcp) {
		send_error(c, "request is not JSON: %s", jerr.text);
		return;
	}
	c->dispatching = true;
	if (c->mcp)
		call = mcp_dispatch(c->ctl->d, req, jerr.text, c->may_mutate, &transport, c);
	else
		call = commands_dispatch(c->ctl->d, req, c->may_mutate, &transport, c);
	c->dispatching = false;
	json_decref(req);
	if (c->closing)
		command_call_detach(call);
	else
		c->pending = call;
}

/* Run the complete lines received, one at a time, each once the one before
 * was answered. */
static void run_lines(struct control_client *c)
{
	while (!c->closing && !c->pending && c->len > 0) {
		char *nl = memchr(c->buf, '\n', c->len);
		size_t line_len, used;

		if (!nl && !c->eof)
			return;
		/* At the end of input the last line needs no newline. */
		line_len = nl ? (size_t)(nl - c->buf) : c->len;
		if (line_len > CONTROL_MAX_REQUEST)
			return;
		run_line(c, c->buf, line_len);
		used = nl ? line_len + 1 : line_len;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
}

/* Read while a call runs too, to notice the client leaving, but hold no
 * more than one request's worth. */
static void flow(struct control_client *c)
{
	if (c->closing || c->ending || c->eof)
		return;
	if (c->reading && c->len > CONTROL_MAX_REQUEST) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	} else if (!c->reading && c->len <= CONTROL_MAX_REQUEST) {
		c->reading = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0;
		if (!c->reading)
			client_close(c);
	}
}

/* After new input or an answer: run what can run, then read on, wait, or
 * end the connection. */
static void process(struct control_client *c)
{
	run_lines(c);
	if (c->closing)
		return;
	if (!c->pending && c->len > CONTROL_MAX_REQUEST) {
		/* No newline in sight to start again from: give up on this client. */
		send_error(c, "request larger than 1 MiB");
		client_end(c);
		return;
	}
	if (!c->pending && c->eof) {
		client_end(c);
		return;
	}
	flow(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct control_client *c = container_of((uv_pipe_t *)h, struct control_client, pipe);

	if (c->cap - c->len < 4096) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		char *nb = realloc(c->buf, cap);

		if (!nb) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->buf = nb;
		c->cap = cap;
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct control_client *c = container_of((uv_pipe_t *)s, struct control_client, pipe);

	if (nread == UV_EOF) {
		uv_read_stop(s);
		c->reading = false;
		c->eof = true;
		if (c->pending && peer_gone(c))
			client_close(c);
		else
			process(c);
		return;
	}
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	process(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *ctl = container_of((uv_pipe_t *)server, struct control, server);
	struct control_client *c;
	uv_os_fd_t fd;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->ctl = ctl;
	uv_pipe_init(&ctl->d->loop, &c->pipe, 0);
	c->next = ctl->clients;
	if (ctl->clients)
		ctl->clients->prev = c;
	ctl->clients = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
		client_close(c);
		return;
	}
	c->may_mutate = uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 && caller_may_mutate(fd);
	c->reading = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0;
	if (!c->reading)
		client_close(c);
}

static int prepare_socket_path(const char *path)
{
	char dir[256];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
	}
	/* A socket left by a daemon that died is replaced; anything else is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	return 0;
}

int control_start(struct control *ctl, struct mantad *d, const char *path)
{
	struct group *g;
	int r;

	memset(ctl, 0, sizeof(*ctl));
	ctl->d = d;
	ctl->path = strdup(path);
	if (!ctl->path)
		return -ENOMEM;
	r = prepare_socket_path(path);
	if (r < 0) {
		log_err("control", "%s: cannot use this path for the control socket: %s", path,
			strerror(-r));
		return r;
	}
	uv_pipe_init(&d->loop, &ctl->server, 0);
	uv_idle_init(&d->loop, &ctl->resume);
	ctl->open = true;
	r = uv_pipe_bind(&ctl->server, path);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
	if (r < 0) {
		log_err("control", "%s: cannot listen: %s", path, uv_strerror(r));
		return r;
	}
	g = getgrnam("manta");
	if (g && chown(path, (uid_t)-1, g->gr_gid) != 0)
		log_warn("control", "%s: cannot give the socket to group manta: %s", path,
			 strerror(errno));
	chmod(path, 0660);
	return 0;
}

void control_close(struct control *ctl)
{
	/* Each detaches its pending call: the call's owner answers it later
	 * (at the latest as the daemon stops) into the void. */
	while (ctl->clients)
		client_close(ctl->clients);
	if (ctl->open) {
		uv_close((uv_handle_t *)&ctl->server, NULL);
		uv_close((uv_handle_t *)&ctl->resume, NULL);
		ctl->open = false;
		unlink(ctl->path);
	}
	free(ctl->path);
	ctl->path = NULL;
}
