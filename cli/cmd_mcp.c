/*
 * `manta mcp': an MCP server on stdio, for MCP clients that start their
 * servers as commands (the SDKs' stdio transport, desktop AI apps). It is
 * a relay: bytes from stdin go to mantad's control socket and bytes from
 * the socket go to stdout, untouched, so MCP has one implementation, in
 * the daemon (daemon/api_mcp.h), and the caller's rights are decided there
 * as for any other client of the socket.
 *
 * Before the client's first byte the relay sends one line of its own, a
 * JSON-RPC notification (which MCP never answers), so the connection is
 * in MCP mode from the start: even a first line that is not JSON then gets
 * a JSON-RPC error. When stdin ends, the socket's sending side is shut
 * down and answers still on their way are relayed until mantad closes;
 * then the relay exits 0. Nothing but the daemon's bytes reaches stdout;
 * errors go to stderr and exit 1.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"

#define RELAY_HELLO "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/manta/relay\"}\n"
#define CHUNK 65536

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = fd == STDOUT_FILENO ? write(fd, p, n) : send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One read from `from' written whole to `to': 1 on data, 0 at its end,
 * -1 on an error (errno says which). */
static int pass(int from, int to, char *buf)
{
	ssize_t n;

	do
		n = read(from, buf, CHUNK);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (int)n;
	return write_all(to, buf, (size_t)n) == 0 ? 1 : -1;
}

static int relay(const struct cli *cli, int sock)
{
	static char buf[CHUNK];
	struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				 { .fd = sock, .events = POLLIN } };

	for (;;) {
		int r;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents) {
			r = pass(sock, STDOUT_FILENO, buf);
			if (r == 0)
				return CLI_EXIT_OK; /* mantad is done */
			if (r < 0) {
				fprintf(stderr, "%s mcp: relaying from mantad: %s\n", cli->prog,
					strerror(errno));
				return CLI_EXIT_FAIL;
			}
		}
		if (fds[0].revents) {
			r = pass(STDIN_FILENO, sock, buf);
			if (r < 0) {
				fprintf(stderr, "%s mcp: relaying to mantad: %s\n", cli->prog,
					strerror(errno));
				return CLI_EXIT_FAIL;
			}
			if (r == 0) {
				/* The client is done; its answers still come. */
				shutdown(sock, SHUT_WR);
				fds[0].fd = -1;
			}
		}
	}
	fprintf(stderr, "%s mcp: %s\n", cli->prog, strerror(errno));
	return CLI_EXIT_FAIL;
}

int cmd_mcp(struct cli *cli, int argc, char **argv)
{
	int sock, r;

	if (argc != 1)
		return cli_usage(cli, argv[0]);
	/* A client that closes stdout ends the relay with EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	sock = cli_connect(cli);
	if (sock < 0)
		return CLI_EXIT_FAIL;
	if (write_all(sock, RELAY_HELLO, strlen(RELAY_HELLO)) != 0) {
		fprintf(stderr, "%s mcp: sending to mantad failed: %s\n", cli->prog,
			strerror(errno));
		close(sock);
		return CLI_EXIT_FAIL;
	}
	r = relay(cli, sock);
	close(sock);
	return r;
}
