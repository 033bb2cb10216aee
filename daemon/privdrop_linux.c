/*
 * Linux capabilities with prctl(2) and capset(2) directly: the whole job is
 * a few bit masks, which does not need libcap's text parser. Bits above 31
 * live in the second word of the version 3 structures.
 */
#include "daemon/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "common/log.h"

/* Opening the TUN and netlink, raw sockets, binding ports below 1024. */
static const int start_caps[] = { CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE };
/* What stays once everything is open. */
static const int runtime_caps[] = { CAP_NET_ADMIN, CAP_NET_RAW };

struct caps {
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
};

static int caps_get(struct caps *c)
{
	memset(c, 0, sizeof(*c));
	c->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return syscall(SYS_capget, &c->hdr, c->data) == 0 ? 0 : -errno;
}

static int caps_set(struct caps *c)
{
	c->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	c->hdr.pid = 0;
	return syscall(SYS_capset, &c->hdr, c->data) == 0 ? 0 : -errno;
}

static bool in(const int *set, size_t n, int cap)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == cap)
			return true;
	return false;
}

/* Permitted = effective = set ∩ what is permitted now; inheritable empty,
 * or CAP_NET_ADMIN alone with child_net_admin (then ambient too). */
static int keep_only(const int *set, size_t n, bool child_net_admin)
{
	struct caps c;
	int r = caps_get(&c);

	if (r < 0)
		return r;
	for (int cap = 0; cap < 32 * _LINUX_CAPABILITY_U32S_3; cap++) {
		uint32_t bit = 1u << (cap % 32);
		struct __user_cap_data_struct *w = &c.data[cap / 32];

		if (!in(set, n, cap))
			w->permitted &= ~bit;
		w->effective = w->permitted;
		if (cap == CAP_NET_ADMIN && child_net_admin)
			w->inheritable |= w->permitted & bit;
		else
			w->inheritable &= ~bit;
	}
	r = caps_set(&c);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
		return -errno;
	if (child_net_admin &&
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) != 0)
		return -errno;
	return 0;
}

static int drop_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (in(start_caps, ARRAY_SIZE(start_caps), cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			return -errno;
	}
	return 0;
}

int privdrop_become(const char *user, uid_t uid, gid_t gid, bool child_net_admin)
{
	int r;

	/* Keep the permitted set across setresuid; the bounding set needs
	 * CAP_SETPCAP, so it goes first. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		goto err_errno;
	r = drop_bounding_set();
	if (r < 0)
		goto err;
	if (initgroups(user, gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		goto err_errno;
	r = keep_only(start_caps, ARRAY_SIZE(start_caps), child_net_admin);
	if (r < 0)
		goto err;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		goto err_errno;
	/* Belt and braces: the way back to root must be closed. */
	if (setresuid(0, 0, 0) == 0) {
		log_err("mantad", "--user %s: could become root again after the switch", user);
		return -EPERM;
	}
	return 0;

err_errno:
	r = -errno;
err:
	log_err("mantad", "--user %s: cannot switch to uid %u gid %u: %s", user, (unsigned)uid,
		(unsigned)gid, strerror(-r));
	return r;
}

int privdrop_keep_runtime_caps(bool child_net_admin)
{
	int r = keep_only(runtime_caps, ARRAY_SIZE(runtime_caps), child_net_admin);

	if (r < 0)
		log_err("mantad", "cannot drop capabilities: %s", strerror(-r));
	return r;
}
