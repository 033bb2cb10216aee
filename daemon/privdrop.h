/*
 * Running as an unprivileged user that keeps only the capabilities mantad
 * needs. Two ways get there, with the same result:
 *
 *  - systemd starts mantad as User=manta with AmbientCapabilities= (the
 *    unit in packaging/systemd), so it never runs as root;
 *  - root starts `mantad --user manta`: once the configuration has been
 *    read, privdrop_start makes sure the state directory and the control
 *    socket's directory belong to that user (creating them if missing),
 *    then becomes the user, keeping CAP_NET_ADMIN, CAP_NET_RAW and
 *    CAP_NET_BIND_SERVICE with the bounding set cut down to those three.
 *
 * Either way the TUN, the sockets and every file are then opened by the
 * user, so the files it creates are its own, and once everything is bound
 * privdrop_finish keeps only CAP_NET_ADMIN (TUN, netlink routes,
 * SO_RCVBUFFORCE) and CAP_NET_RAW (raw sockets for the uplinks): binding a
 * port below 1024 is not needed again.
 *
 * With a WireGuard uplink configured (child_net_admin), CAP_NET_ADMIN also
 * stays in the inheritable and ambient sets, so that the wireguard-go
 * mantad spawns can create its TUN; and /var/run/wireguard, where
 * wireguard-go puts its socket, is created for the user (the systemd unit
 * has it as a RuntimeDirectory). No other capability reaches a child.
 */
#ifndef MANTA_DAEMON_PRIVDROP_H
#define MANTA_DAEMON_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/util.h"

#define PRIVDROP_WIREGUARD_DIR "/var/run/wireguard"

/* user NULL: nothing to do. Otherwise root (or that user already) is
 * required; the directories are prepared and the process becomes the user.
 * 0 or a negative errno after logging why. */
int privdrop_start(const char *user, const char *state_dir, const char *socket_path,
		   const char *config_path, bool child_net_admin) WARN_UNUSED;
/* Not root: keep only the run-time capabilities (above). Root without
 * --user stays root. 0 or a negative errno after logging why. */
int privdrop_finish(void) WARN_UNUSED;

/* Platform half (privdrop_linux.c, privdrop_darwin.c). */
/* Switch to uid/gid and user's groups keeping the start-up capabilities
 * (and CAP_NET_ADMIN ambient for children with child_net_admin). */
int privdrop_become(const char *user, uid_t uid, gid_t gid, bool child_net_admin) WARN_UNUSED;
/* Permitted and effective sets cut down to the run-time capabilities. */
int privdrop_keep_runtime_caps(bool child_net_admin) WARN_UNUSED;

#endif
