#include "daemon/control.h"

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/commands.h"
#include "daemon/mantad.h"

struct control_client {
	uv_pipe_t pipe;
	struct control *ctl;
	struct control_client *prev, *next;
	char *buf;
	size_t len, cap;
	bool may_mutate;
	bool closing;
};

struct reply {
	uv_write_t req;
	char *data;
};

static void unlink_client(struct control_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void on_client_closed(uv_handle_t *h)
{
	struct control_client *c = container_of((uv_pipe_t *)h, struct control_client, pipe);

	free(c->buf);
	free(c);
}

static void client_close(struct control_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	unlink_client(c);
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
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

static void on_written(uv_write_t *req, int status)
{
	struct reply *r = container_of(req, struct reply, req);

	free(r->data);
	free(r);
}

static void send_reply(struct control_client *c, json_t *reply)
{
	struct reply *r = malloc(sizeof(*r));
	char *text = json_dumps(reply, JSON_COMPACT);
	uv_buf_t b;

	if (!r || !text) {
		free(r);
		free(text);
		client_close(c);
		return;
	}
	size_t n = strlen(text);

	text[n] = '\n'; /* json_dumps left room for its NUL */
	r->data = text;
	b = uv_buf_init(text, (unsigned)n + 1);
	if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) != 0) {
		free(text);
		free(r);
		client_close(c);
	}
}

static void handle_line(struct control_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	json_t *reply;

	if (!req)
		reply = json_pack("{s:b,s:s+}", "ok", 0, "error",
				  "request is not JSON: ", jerr.text);
	else
		reply = commands_dispatch(c->ctl->d, req, c->may_mutate);
	send_reply(c, reply);
	json_decref(reply);
	json_decref(req);
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
	char *nl;

	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	while (!c->closing && (nl = memchr(c->buf, '\n', c->len))) {
		size_t line_len = (size_t)(nl - c->buf);

		handle_line(c, c->buf, line_len);
		memmove(c->buf, nl + 1, c->len - line_len - 1);
		c->len -= line_len + 1;
	}
	if (c->len > CONTROL_MAX_REQUEST) {
		json_t *r = json_pack("{s:b,s:s}", "ok", 0, "error", "request larger than 1 MiB");

		send_reply(c, r);
		json_decref(r);
		uv_read_stop(s);
		client_close(c);
	}
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
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
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
	ctl->open = true;
	r = uv_pipe_bind(&ctl->server, path);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&ctl->server, 16, on_connection);
	if (r < 0) {
		log_err("control", "%s: cannot listen: %s", path, uv_strerror(r));
		return r;
	}
	g = getgrnam("manta");
	if (g && chown(path, 0, g->gr_gid) != 0)
		log_warn("control", "%s: cannot give the socket to group manta: %s", path,
			 strerror(errno));
	chmod(path, 0660);
	return 0;
}

void control_close(struct control *ctl)
{
	while (ctl->clients)
		client_close(ctl->clients);
	if (ctl->open) {
		uv_close((uv_handle_t *)&ctl->server, NULL);
		ctl->open = false;
		unlink(ctl->path);
	}
	free(ctl->path);
	ctl->path = NULL;
}
