/*
 * resolvconf mode: `resolvconf -a RECORD' with our nameserver on its
 * standard input, `resolvconf -d RECORD' to take it back. The record is
 * tun.IFNAME, which Debian's resolvconf orders with the VPN links (tun*)
 * ahead of the uplinks. Run synchronously: resolvconf is a short shell
 * script, called at start, stop, down and up only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns/system.h"

extern char **environ;

int dns_resolvconf_set(const char *record, bool add, char *err, size_t errlen)
{
	static const char input[] = "nameserver 100.100.100.53\n";
	char *argv[] = { "resolvconf", add ? "-a" : "-d", (char *)record, NULL };
	char *argv_f[] = { "resolvconf", "-d", (char *)record, "-f", NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
	r = posix_spawnp(&pid, "resolvconf", &fa, NULL, add ? argv : argv_f, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[0]);
	if (r != 0) {
		close(pipefd[1]);
		snprintf(err, errlen, "cannot run resolvconf: %s", strerror(r));
		return -r;
	}
	if (add && write(pipefd[1], input, sizeof(input) - 1) < 0)
		r = -errno;
	close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		snprintf(err, errlen, "resolvconf %s %s failed (status %d)", add ? "-a" : "-d",
			 record, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		r = -EIO;
	}
	return r;
}
