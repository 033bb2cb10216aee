/* macOS: no capabilities to keep, and no TUN without root yet. */
#include "daemon/privdrop.h"

#include <errno.h>

#include "common/log.h"

int privdrop_become(const char *user, uid_t uid, gid_t gid, bool child_net_admin)
{
	log_err("mantad", "--user %s: not supported yet on macOS", user);
	return -ENOTSUP;
}

int privdrop_keep_runtime_caps(bool child_net_admin)
{
	return 0;
}
