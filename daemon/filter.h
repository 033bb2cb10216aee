/*
 * The firewall in mantad: the policy and its file (STATE_DIR/firewall.json),
 * the identities its rules are compiled against (every peer: static [peer]s
 * and the members of the networks this node is active in, with their
 * hostnames and tags per network), the two data-path hooks, reject replies,
 * the flow-expiry timer, and what it adds to `status'. The commands that
 * edit it are in firewall_cmd.c.
 *
 * Where a packet's peer comes from: inbound, the peer whose session
 * decrypted it (the engine has checked that the inner source is that
 * peer's address, so the source address names it); outbound, the peer
 * that owns the destination address.
 */
#ifndef MANTA_DAEMON_FILTER_H
#define MANTA_DAEMON_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/util.h"
#include "daemon/commands.h"
#include "firewall/firewall.h"
#include "firewall/policy.h"

struct mantad;

struct filter {
	struct mantad *d;
	struct fw fw;
	struct fw_policy policy; /* the live one, as saved */
	char path[600];
	bool load_failed; /* the file is there but did not load: no edits */
	char load_error[600];
	uint64_t generation;
	uv_timer_t timer;
	bool timer_open, ready;
	uint8_t *reply; /* one reject reply, with room to seal it */
	uint64_t reject_window; /* monotonic ns */
	unsigned reject_budget;
};

/* The policy from its file (or the defaults) and the flow table; after
 * the identity and the networks are loaded, before peers_sync. */
int filter_start(struct filter *f, struct mantad *d) WARN_UNUSED;
void filter_stop(struct filter *f);
void filter_free(struct filter *f);

/* Compile the live policy against the peers as they are now, cfg's
 * [peer] sections being the static ones; peers_sync calls this after
 * every change of peers or member lists. */
struct config;
void filter_refresh(struct mantad *d, const struct config *cfg);
/* Make next the policy: compile, save, install; on success next is taken
 * (its rules belong to the filter). err says why not. */
int filter_apply(struct filter *f, struct fw_policy *next, char *err, size_t errlen) WARN_UNUSED;

/* SIGHUP: read the policy file again and, if it loads, make it the live
 * policy (compiled against cfg's peers); established flows stay. A file
 * that does not load is named in the log and the running rules stay. */
void filter_reload(struct filter *f, const struct config *cfg);

/* The data-path hooks: true if the packet goes on. A rejected packet's
 * reply is sent from here. */
bool filter_in(struct mantad *d, const uint8_t *ip, size_t len);
bool filter_out(struct mantad *d, const uint8_t *ip, size_t len);

/* Adds "firewall" to the status object. */
void filter_status(struct filter *f, json_t *status);

/* The firewall and tag commands (firewall_cmd.c), for the registry. */
extern const struct command filter_commands[];
extern const size_t filter_commands_count;

#endif
