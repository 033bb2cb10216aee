/* One request, one reply, over the daemon's control socket (JSON lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

static int connect_socket(const struct cli *cli)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(cli->socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s: socket path too long: `%s'\n", cli->prog, cli->socket_path);
		return -1;
	}
	strcpy(sa.sun_path, cli->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "%s: cannot reach mantad at %s: %s%s\n", cli->prog,
			cli->socket_path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ? " (is mantad running?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read up to the first newline; the caller frees. */
static char *read_line(int fd)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);

	while (buf) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			return buf;
	}
	free(buf);
	return NULL;
}

int cli_call(const struct cli *cli, const char *cmd, json_t *args, json_t **result)
{
	json_t *req = json_pack("{s:s,s:o}", "command", cmd, "args", args ? args : json_object());
	json_t *reply = NULL;
	char *text = NULL, *line = NULL;
	int fd = -1, ret = CLI_EXIT_FAIL;
	json_error_t jerr;

	*result = NULL;
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!text)
		goto out;
	fd = connect_socket(cli);
	if (fd < 0)
		goto out;
	if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0) {
		fprintf(stderr, "%s: sending to mantad failed: %s\n", cli->prog, strerror(errno));
		goto out;
	}
	line = read_line(fd);
	if (!line) {
		fprintf(stderr, "%s: mantad closed the connection without a reply\n", cli->prog);
		goto out;
	}
	reply = json_loads(line, 0, &jerr);
	if (!json_is_object(reply)) {
		fprintf(stderr, "%s: mantad sent a reply that is not JSON: %s\n", cli->prog,
			jerr.text);
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *e = json_string_value(json_object_get(reply, "error"));

		fprintf(stderr, "%s %s: %s\n", cli->prog, cmd, e ? e : "failed");
		goto out;
	}
	*result = json_incref(json_object_get(reply, "result"));
	ret = CLI_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(text);
	json_decref(reply);
	json_decref(req);
	return ret;
}
