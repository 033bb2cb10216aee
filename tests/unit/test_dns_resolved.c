/* The systemd-resolved backend (dns/resolved_linux.c) over a real D-Bus:
 * a private dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS points mantad's sd-bus at
 * it) and, in a child process, a fake org.freedesktop.resolve1 that logs
 * every call it gets. Shown: no bus or no resolved means no resolved mode;
 * the link settings exactly as resolvectl would make them; RevertLink; and
 * the settings made again when resolved restarts (NameOwnerChanged).
 * What this cannot show is how a real resolved routes ~pi: it is not
 * running on the test machines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "dns/system.h"

static char dir[64], calls[128], busaddr[160];
static pid_t bus_pid;

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Wait up to ms for path to exist (polling, 10 ms at a time). */
static bool wait_file(const char *path, int ms)
{
	for (int i = 0; i < ms / 10 && !exists(path); i++)
		usleep(10000);
	return exists(path);
}

/* --- the fake resolved (child process) -------------------------------------- */

static int on_call(sd_bus_message *m, void *data, sd_bus_error *e)
{
	const char *member = sd_bus_message_get_member(m), *s;
	FILE *f = fopen(calls, "a");
	int32_t idx = 0, fam, b;
	size_t n = 0, len;
	const void *addr;
	char a[INET6_ADDRSTRLEN];

	if (!f)
		return -EIO;
	if (strcmp(member, "FlushCaches") != 0)
		sd_bus_message_read(m, "i", &idx);
	fprintf(f, "%s %d", member, idx);
	if (!strcmp(member, "SetLinkDNS")) {
		sd_bus_message_enter_container(m, 'a', "(iay)");
		while (sd_bus_message_enter_container(m, 'r', "iay") > 0) {
			sd_bus_message_read(m, "i", &fam);
			sd_bus_message_read_array(m, 'y', &addr, &len);
			inet_ntop(fam, addr, a, sizeof(a));
			fprintf(f, " %d:%s", fam, a);
			sd_bus_message_exit_container(m);
		}
	} else if (!strcmp(member, "SetLinkDomains")) {
		sd_bus_message_enter_container(m, 'a', "(sb)");
		while (sd_bus_message_read(m, "(sb)", &s, &b) > 0)
			if (n++ < 2 || !strcmp(s, "3.0.ip6.arpa"))
				fprintf(f, " %s%s", b ? "~" : "", s);
		fprintf(f, " (%zu)", n);
	} else if (!strcmp(member, "SetLinkDefaultRoute")) {
		sd_bus_message_read(m, "b", &b);
		fprintf(f, " %d", b);
	} else if (strncmp(member, "SetLink", 7) == 0) {
		sd_bus_message_read(m, "s", &s);
		fprintf(f, " %s", s);
	}
	fputc('\n', f);
	fclose(f);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable manager[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetLinkDNS", "ia(iay)", "", on_call, 0),
	SD_BUS_METHOD("SetLinkDomains", "ia(sb)", "", on_call, 0),
	SD_BUS_METHOD("SetLinkDefaultRoute", "ib", "", on_call, 0),
	SD_BUS_METHOD("SetLinkLLMNR", "is", "", on_call, 0),
	SD_BUS_METHOD("SetLinkMulticastDNS", "is", "", on_call, 0),
	SD_BUS_METHOD("FlushCaches", "", "", on_call, 0),
	SD_BUS_METHOD("RevertLink", "i", "", on_call, 0),
	SD_BUS_VTABLE_END,
};

static pid_t fake_resolved(void)
{
	char ready[128];
	pid_t pid;

	snprintf(ready, sizeof(ready), "%s/ready", dir);
	unlink(ready);
	pid = fork();
	if (pid == 0) {
		sd_bus *bus = NULL;
		FILE *f;

		/* Never outlive the test, nor hold its output open. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		if (sd_bus_open_system(&bus) < 0 ||
		    sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/resolve1",
					     "org.freedesktop.resolve1.Manager", manager,
					     NULL) < 0 ||
		    sd_bus_request_name(bus, "org.freedesktop.resolve1", 0) < 0)
			_exit(1);
		f = fopen(ready, "w");
		if (f)
			fclose(f);
		for (;;) {
			int r = sd_bus_process(bus, NULL);

			if (r < 0 || (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0))
				_exit(0);
		}
	}
	assert_true(pid > 0);
	assert_true(wait_file(ready, 5000));
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* --- the private bus ----------------------------------------------------------- */

static int setup(void **state)
{
	char conf[128], sock[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/manta-dbus-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(calls, sizeof(calls), "%s/calls", dir);
	snprintf(conf, sizeof(conf), "%s/bus.conf", dir);
	snprintf(sock, sizeof(sock), "%s/bus", dir);
	snprintf(busaddr, sizeof(busaddr), "unix:path=%s", sock);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration "
		"1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig><type>custom</type><listen>%s</listen><auth>EXTERNAL</auth>\n"
		"<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>"
		"<allow send_destination=\"*\"/><allow receive_sender=\"*\"/></policy>"
		"</busconfig>\n",
		busaddr);
	fclose(f);
	bus_pid = fork();
	if (bus_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", "--config-file",
		       conf, (char *)NULL);
		_exit(127);
	}
	if (!wait_file(sock, 5000))
		return -1;
	setenv("DBUS_SYSTEM_BUS_ADDRESS", busaddr, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	stop(bus_pid);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *read_calls(void)
{
	static char buf[8192];
	FILE *f = fopen(calls, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* 1-2: without a bus, or without resolved on it, no resolved mode. */
static void test_absent(void **state)
{
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus", 1);
	assert_null(dns_resolved_open(NULL));
	setenv("DBUS_SYSTEM_BUS_ADDRESS", busaddr, 1);
	assert_null(dns_resolved_open(NULL));
}

/* 3: the link settings, then RevertLink. */
static void test_apply_revert(void **state)
{
	pid_t fake = fake_resolved();
	struct dns_resolved *r = dns_resolved_open(NULL);
	char *log;

	assert_non_null(r);
	assert_int_equal(dns_resolved_apply(r, "lo"), 0);
	dns_resolved_revert(r);
	dns_resolved_close(r);
	stop(fake);
	log = read_calls();
	assert_string_equal(log, "SetLinkDNS 1 2:100.100.100.53 10:200::53\n"
				 "SetLinkDomains 1 ~pi ~64.100.in-addr.arpa ~3.0.ip6.arpa (67)\n"
				 "SetLinkDefaultRoute 1 0\n"
				 "SetLinkLLMNR 1 no\n"
				 "SetLinkMulticastDNS 1 no\n"
				 "FlushCaches 0\n"
				 "RevertLink 1\n");
}

static void on_poll(uv_timer_t *t)
{
	char *log = read_calls();
	const char *first = strstr(log, "SetLinkDNS");

	if ((first && strstr(first + 1, "SetLinkDNS")) || uv_now(t->loop) > 8000)
		uv_stop(t->loop);
}

/* 4: resolved restarts: the link is configured again. */
static void test_restart(void **state)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct dns_resolved *r;
	pid_t fake = fake_resolved();
	const char *log, *first;

	unlink(calls);
	uv_loop_init(&loop);
	r = dns_resolved_open(&loop);
	assert_non_null(r);
	assert_int_equal(dns_resolved_apply(r, "lo"), 0);
	stop(fake);
	fake = fake_resolved();
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, on_poll, 20, 20);
	uv_run(&loop, UV_RUN_DEFAULT);
	log = read_calls();
	first = strstr(log, "SetLinkDNS");
	assert_non_null(first);
	assert_non_null(strstr(first + 1, "SetLinkDNS 1 2:100.100.100.53 10:200::53"));
	uv_close((uv_handle_t *)&t, NULL);
	dns_resolved_close(r); /* RevertLink to the new resolved */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	stop(fake);
	assert_non_null(strstr(read_calls(), "RevertLink 1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_apply_revert),
		cmocka_unit_test(test_restart),
	};

	if (access("/usr/bin/dbus-daemon", X_OK) != 0) {
		printf("test_dns_resolved: no dbus-daemon (make deps installs it)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
