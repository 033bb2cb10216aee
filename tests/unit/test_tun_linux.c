/*
 * The Linux TUN device and its netlink configuration (tun/tun_linux.c,
 * tun/netlink_linux.c), checked against the kernel with ip(8).
 *
 * Needs root. main() moves the whole process into a new network namespace
 * before any test runs, and every test starts in a further empty one, so the
 * host's interfaces and routes are never read or changed, and no packet is
 * sent anywhere: `ip route get' is a lookup, not a transmission.
 *
 *   "ygg0" (dummy, or veth where the kernel has no dummy driver)
 *        may own 200::/7 or 100.64.0.0/10, as Yggdrasil or a CGNAT uplink would
 *   "manta0" (tun)
 *        21e:1234::1/128, 100.64.1.2/32, mtu 1280
 *        peers 21e:5678::2 and 100.70.0.9
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tun/tun.h"

#define TUN "manta0"

static const uint8_t self6[16] = { 0x02, 0x1e, 0x12, 0x34, [15] = 1 };
static const uint8_t self4[4] = { 100, 64, 1, 2 };
static const uint8_t peer6[16] = { 0x02, 0x1e, 0x56, 0x78, [15] = 2 };
static const uint8_t peer4[4] = { 100, 70, 0, 9 };

/* Run a shell command; its stdout and stderr go to out. Returns its exit
 * status, or -1 if it did not exit. */
__attribute__((format(printf, 3, 4))) static int sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512];
	size_t n = 0, r;
	va_list ap;
	FILE *f;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (n + 1 < size && (r = fread(out + n, 1, size - 1 - n, f)) > 0)
		n += r;
	out[n] = '\0';
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define sh_ok(out, ...)                                      \
	do {                                                 \
		if (sh(out, sizeof(out), __VA_ARGS__) != 0)  \
			fail_msg("command failed: %s", out); \
	} while (0)

#define assert_contains(hay, needle)                                    \
	do {                                                            \
		if (!strstr(hay, needle))                               \
			fail_msg("expected `%s' in:\n%s", needle, hay); \
	} while (0)

#define assert_lacks(hay, needle)                                             \
	do {                                                                  \
		if (strstr(hay, needle))                                      \
			fail_msg("did not expect `%s' in:\n%s", needle, hay); \
	} while (0)

static int netns_fresh(void **state)
{
	if (unshare(CLONE_NEWNET) < 0) {
		print_error("unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* A link that owns a mesh prefix, as Yggdrasil's ygg0 would. The dummy
 * driver is the natural choice; kernels built without it get a veth end. */
static void other_link_add(const char *name)
{
	char out[1024];

	if (sh(out, sizeof(out), "ip link add %s type dummy", name) != 0)
		sh_ok(out, "ip link add %s type veth peer name %sp", name, name);
	sh_ok(out, "ip link set %s up", name);
}

static int open_tun(char ifname[IFNAMSIZ])
{
	int fd = tun_open(TUN, ifname);

	assert_true(fd >= 0);
	assert_string_equal(ifname, TUN);
	return fd;
}

static void configure(const char *ifname, bool v6_host, bool v4_host)
{
	struct tun_route_mode mode = { true, true };

	assert_int_equal(tun_configure(ifname, TUN_MTU, self6, self4, &mode), 0);
	assert_int_equal(mode.v6_host_routes, v6_host);
	assert_int_equal(mode.v4_host_routes, v4_host);
}

static void test_open(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];
	int fa, fb, fc, flags;

	fa = tun_open("manta%d", a);
	fb = tun_open("manta%d", b);
	fc = tun_open("abcdefghijklmno", c); /* IFNAMSIZ - 1 characters */
	assert_true(fa >= 0 && fb >= 0 && fc >= 0);
	assert_string_equal(a, "manta0");
	assert_string_equal(b, "manta1");
	assert_string_equal(c, "abcdefghijklmno");
	assert_true(if_nametoindex(a) > 0);
	assert_true(if_nametoindex(b) > 0);
	assert_true(if_nametoindex(c) > 0);

	flags = fcntl(fa, F_GETFL);
	assert_true(flags >= 0 && (flags & O_NONBLOCK) && (flags & O_ACCMODE) == O_RDWR);
	flags = fcntl(fa, F_GETFD);
	assert_true(flags >= 0 && (flags & FD_CLOEXEC));

	close(fc);
	close(fb);
	close(fa);
	assert_int_equal(if_nametoindex(a), 0);
	assert_int_equal(if_nametoindex(b), 0);
	assert_int_equal(if_nametoindex(c), 0);
}

static void test_open_bad_name(void **state)
{
	char ifname[IFNAMSIZ], out[2048];

	memset(ifname, 'x', sizeof(ifname));
	assert_int_equal(tun_open("abcdefghijklmnop", ifname), -ENAMETOOLONG);
	assert_int_equal(tun_open("a-much-too-long-interface-name", ifname), -ENAMETOOLONG);
	assert_int_equal(tun_open("bad/name", ifname), -EINVAL);
	assert_int_equal(ifname[0], 'x');

	sh_ok(out, "ip -o link show");
	assert_lacks(out, "abcdefghijklmno");
	assert_lacks(out, "a-much");
	assert_lacks(out, "bad");
}

static void test_configure(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	struct ifreq ifr;
	int fd, s;

	fd = open_tun(ifname);
	configure(ifname, false, false);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	assert_int_equal(ioctl(s, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1280);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	close(s);

	/* The IPv6 address is usable at once: not tentative. */
	sh_ok(out, "ip -o -6 addr show dev " TUN " scope global");
	assert_contains(out, "inet6 21e:1234::1/128 ");
	assert_contains(out, "nodad");
	assert_lacks(out, "tentative");
	sh_ok(out, "ip -o -4 addr show dev " TUN);
	assert_contains(out, "inet 100.64.1.2/32 ");

	sh_ok(out, "ip -6 route show table main exact 200::/7");
	assert_contains(out, "dev " TUN " ");
	sh_ok(out, "ip -4 route show table main exact 100.64.0.0/10");
	assert_contains(out, "dev " TUN " ");
	assert_contains(out, "scope link");

	/* Source selection: a mesh destination leaves from our own addresses. */
	sh_ok(out, "ip -6 route get 21e:5678::2");
	assert_contains(out, "dev " TUN " ");
	assert_contains(out, "src 21e:1234::1 ");
	sh_ok(out, "ip -4 route get 100.70.0.9");
	assert_contains(out, "dev " TUN " ");
	assert_contains(out, "src 100.64.1.2 ");

	/* Again, on a device that already has all of it. */
	configure(ifname, false, false);
	close(fd);
}

/* A network owner gave this node another IPv4 index: the /32 is swapped,
 * the new one first, and a repeat or a missing old address is no error. */
static void test_addr_replace(void **state)
{
	static const uint8_t old4[4] = { 100, 64, 1, 2 }, new4[4] = { 100, 64, 9, 9 };
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	fd = open_tun(ifname);
	configure(ifname, false, false);
	assert_int_equal(tun_addr_replace(ifname, AF_INET, old4, new4), 0);
	sh_ok(out, "ip -o -4 addr show dev " TUN);
	assert_contains(out, "inet 100.64.9.9/32 ");
	assert_lacks(out, "100.64.1.2");
	assert_int_equal(tun_addr_replace(ifname, AF_INET, old4, new4), 0);
	sh_ok(out, "ip -o -4 addr show dev " TUN);
	assert_contains(out, "inet 100.64.9.9/32 ");
	assert_int_equal(tun_addr_replace("nosuch0", AF_INET, new4, old4), -ENODEV);
	close(fd);
}

static void test_configure_v6_taken(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	other_link_add("ygg0");
	sh_ok(out, "ip -6 route add 200::/7 dev ygg0");
	fd = open_tun(ifname);
	configure(ifname, true, false);

	sh_ok(out, "ip -6 route show table main exact 200::/7");
	assert_contains(out, "dev ygg0 ");
	assert_lacks(out, "dev " TUN " ");
	sh_ok(out, "ip -4 route show table main exact 100.64.0.0/10");
	assert_contains(out, "dev " TUN " ");

	assert_int_equal(tun_route_host_add(ifname, AF_INET6, peer6), 0);
	sh_ok(out, "ip -6 route show table main exact 21e:5678::2/128");
	assert_contains(out, "dev " TUN " ");
	sh_ok(out, "ip -6 route get 21e:5678::2");
	assert_contains(out, "dev " TUN " ");
	assert_contains(out, "src 21e:1234::1 ");
	sh_ok(out, "ip -6 route get 21e:5678::3");
	assert_contains(out, "dev ygg0 ");

	assert_int_equal(tun_route_host_add(ifname, AF_INET6, peer6), 0);
	sh_ok(out, "ip -6 route show table main exact 21e:5678::2/128");
	assert_contains(out, "dev " TUN " ");

	assert_int_equal(tun_route_host_del(ifname, AF_INET6, peer6), 0);
	sh_ok(out, "ip -6 route show table main exact 21e:5678::2/128");
	assert_string_equal(out, "");
	assert_int_equal(tun_route_host_del(ifname, AF_INET6, peer6), 0);

	/* Deleting ours never takes another link's route to the same place. */
	sh_ok(out, "ip -6 route add 21e:5678::2/128 dev ygg0");
	assert_int_equal(tun_route_host_del(ifname, AF_INET6, peer6), 0);
	sh_ok(out, "ip -6 route show table main exact 21e:5678::2/128");
	assert_contains(out, "dev ygg0 ");
	close(fd);
}

static void test_configure_v4_taken(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	/* A carrier-grade NAT address: the kernel routes its /10 to ygg0. */
	other_link_add("ygg0");
	sh_ok(out, "ip addr add 100.72.0.1/10 dev ygg0");
	fd = open_tun(ifname);
	configure(ifname, false, true);

	sh_ok(out, "ip -4 route show table main exact 100.64.0.0/10");
	assert_contains(out, "dev ygg0 ");
	assert_lacks(out, "dev " TUN " ");
	sh_ok(out, "ip -6 route show table main exact 200::/7");
	assert_contains(out, "dev " TUN " ");

	assert_int_equal(tun_route_host_add(ifname, AF_INET, peer4), 0);
	assert_int_equal(tun_route_host_add(ifname, AF_INET, peer4), 0);
	sh_ok(out, "ip -4 route show table main exact 100.70.0.9/32");
	assert_contains(out, "dev " TUN " ");
	sh_ok(out, "ip -4 route get 100.70.0.9");
	assert_contains(out, "dev " TUN " ");
	assert_contains(out, "src 100.64.1.2 ");

	assert_int_equal(tun_route_host_del(ifname, AF_INET, peer4), 0);
	sh_ok(out, "ip -4 route show table main exact 100.70.0.9/32");
	assert_string_equal(out, "");
	assert_int_equal(tun_route_host_del(ifname, AF_INET, peer4), 0);
	sh_ok(out, "ip -4 route get 100.70.0.9");
	assert_contains(out, "dev ygg0 ");
	close(fd);
}

/* Only the exact prefix counts: a longer one elsewhere is not a conflict. */
static void test_configure_other_prefix_length(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	other_link_add("ygg0");
	sh_ok(out, "ip -6 route add 200::/8 dev ygg0");
	sh_ok(out, "ip -4 route add 100.64.0.0/11 dev ygg0");
	fd = open_tun(ifname);
	configure(ifname, false, false);

	sh_ok(out, "ip -6 route show table main exact 200::/7");
	assert_contains(out, "dev " TUN " ");
	sh_ok(out, "ip -4 route show table main exact 100.64.0.0/10");
	assert_contains(out, "dev " TUN " ");
	close(fd);
}

/* A route without a device (here: unreachable) also keeps the prefix. */
static void test_configure_unreachable_prefix(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	sh_ok(out, "ip -6 route add unreachable 200::/7");
	fd = open_tun(ifname);
	configure(ifname, true, false);
	assert_int_equal(tun_route_host_add(ifname, AF_INET6, peer6), 0);
	sh_ok(out, "ip -6 route get 21e:5678::2");
	assert_contains(out, "dev " TUN " ");
	close(fd);
}

static void test_close_removes_everything(void **state)
{
	char ifname[IFNAMSIZ], out[2048];
	int fd;

	fd = open_tun(ifname);
	configure(ifname, false, false);
	assert_int_equal(tun_route_host_add(ifname, AF_INET6, peer6), 0);
	assert_int_equal(tun_route_host_add(ifname, AF_INET, peer4), 0);
	sh_ok(out, "ip route show table all dev " TUN);
	assert_contains(out, "100.70.0.9");
	close(fd);

	assert_int_equal(if_nametoindex(ifname), 0);
	sh_ok(out, "ip -o link show");
	assert_lacks(out, TUN);
	sh_ok(out, "ip -6 route show table all");
	assert_lacks(out, "200::/7");
	assert_lacks(out, "21e:");
	sh_ok(out, "ip -4 route show table all");
	assert_lacks(out, "100.6");
	assert_lacks(out, "100.70");
	sh_ok(out, "ip addr show");
	assert_lacks(out, "21e:1234::1");
	assert_lacks(out, "100.64.1.2");
}

static void test_errors(void **state)
{
	struct tun_route_mode mode;
	char ifname[IFNAMSIZ];
	int fd;

	assert_int_equal(tun_configure("nosuch0", TUN_MTU, self6, self4, &mode), -ENODEV);
	assert_int_equal(tun_route_host_add("nosuch0", AF_INET6, peer6), -ENODEV);
	assert_int_equal(tun_route_host_del("nosuch0", AF_INET, peer4), -ENODEV);

	fd = open_tun(ifname);
	assert_int_equal(tun_configure(ifname, 1000, self6, self4, &mode), -EINVAL);
	assert_int_equal(tun_route_host_add(ifname, AF_UNIX, peer6), -EAFNOSUPPORT);
	/* The kernel's own refusal comes back as its errno: no MTU above 64k. */
	assert_int_equal(tun_configure(ifname, 70000, self6, self4, &mode), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open, netns_fresh),
		cmocka_unit_test_setup(test_open_bad_name, netns_fresh),
		cmocka_unit_test_setup(test_configure, netns_fresh),
		cmocka_unit_test_setup(test_addr_replace, netns_fresh),
		cmocka_unit_test_setup(test_configure_v6_taken, netns_fresh),
		cmocka_unit_test_setup(test_configure_v4_taken, netns_fresh),
		cmocka_unit_test_setup(test_configure_other_prefix_length, netns_fresh),
		cmocka_unit_test_setup(test_configure_unreachable_prefix, netns_fresh),
		cmocka_unit_test_setup(test_close_removes_everything, netns_fresh),
		cmocka_unit_test_setup(test_errors, netns_fresh),
	};

	/* Leave the host's namespace before anything else, for good. */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "test_tun_linux: unshare(CLONE_NEWNET): %s (needs root)\n",
			strerror(errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
