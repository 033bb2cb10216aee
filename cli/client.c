/* One request over the daemon's control socket (JSON lines): progress lines
 * as they come, then the reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

/* A reply larger than this is not from mantad. */
#define REPLY_MAX (64u << 20)

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

int cli_connect(const struct cli *cli)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *hint = "";
	int fd;

	if (strlen(cli->socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: `%s'\n", cli->prog, cli->socket_path);
		return -1;
	}
	strcpy(sa.sun_path, cli->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED)
		hint = " (is mantad running?)";
	else if (errno == EACCES)
		hint = " (run as root or as a member of the manta group)";
	fprintf(stderr, "%s: cannot reach mantad at %s: %s%s\n", cli->prog, cli->socket_path,
		strerror(errno), hint);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		/* MSG_NOSIGNAL: a daemon that went away is an error, not SIGPIPE. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The next line, NUL-terminated without its newline, valid until the next
 * call; NULL at the end of input or on error. */
static char *read_line(struct reader *r, size_t *consumed)
{
	char *nl;

	if (*consumed) {
		memmove(r->buf, r->buf + *consumed, r->len - *consumed);
		r->len -= *consumed;
		*consumed = 0;
	}
	while (!(nl = r->len ? memchr(r->buf, '\n', r->len) : NULL)) {
		if (r->cap - r->len < 4096) {
			size_t cap = r->cap ? r->cap * 2 : 16384;
			char *nb = cap <= REPLY_MAX ? realloc(r->buf, cap) : NULL;

			if (!nb)
				return NULL;
			r->buf = nb;
			r->cap = cap;
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		r->len += (size_t)n;
	}
	*nl = '\0';
	*consumed = (size_t)(nl - r->buf) + 1;
	return r->buf;
}

static void print_progress(const struct cli *cli, const char *text)
{
	FILE *f = cli->json ? stderr : stdout;

	fprintf(f, "  %s\n", text);
	fflush(f);
}

/* Progress lines until the reply, which is returned (caller decrefs). */
static json_t *read_reply(const struct cli *cli, const char *cmd, struct reader *r)
{
	size_t consumed = 0;
	json_error_t jerr;
	json_t *msg;
	char *line;

	while ((line = read_line(r, &consumed))) {
		msg = json_loads(line, 0, &jerr);
		if (!json_is_object(msg)) {
			fprintf(stderr, "%s %s: mantad sent a line that is not a JSON object%s%s\n",
				cli->prog, cmd, msg ? "" : ": ", msg ? "" : jerr.text);
			json_decref(msg);
			return NULL;
		}
		if (json_object_get(msg, "ok"))
			return msg;
		if (json_is_string(json_object_get(msg, "progress")))
			print_progress(cli, json_string_value(json_object_get(msg, "progress")));
		json_decref(msg);
	}
	fprintf(stderr, "%s %s: mantad closed the connection without a reply\n", cli->prog, cmd);
	return NULL;
}

int cli_call(const struct cli *cli, const char *cmd, json_t *args, json_t **result)
{
	json_t *req = json_pack("{s:s,s:o}", "command", cmd, "args", args ? args : json_object());
	struct reader r = { .fd = -1 };
	json_t *reply = NULL;
	char *text = NULL;
	int ret = CLI_EXIT_FAIL;

	*result = NULL;
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!text) {
		fprintf(stderr, "%s %s: out of memory\n", cli->prog, cmd);
		goto out;
	}
	r.fd = cli_connect(cli);
	if (r.fd < 0)
		goto out;
	if (send_all(r.fd, text, strlen(text)) != 0 || send_all(r.fd, "\n", 1) != 0) {
		fprintf(stderr, "%s %s: sending to mantad failed: %s\n", cli->prog, cmd,
			strerror(errno));
		goto out;
	}
	reply = read_reply(cli, cmd, &r);
	if (!reply)
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, "%s %s: %s\n", cli->prog, cmd,
			cli_str(reply, "error", "failed (mantad gave no reason)"));
		goto out;
	}
	*result = json_incref(json_object_get(reply, "result"));
	if (!*result)
		*result = json_null();
	ret = CLI_EXIT_OK;
out:
	if (r.fd >= 0)
		close(r.fd);
	free(r.buf);
	free(text);
	json_decref(reply);
	json_decref(req);
	return ret;
}
