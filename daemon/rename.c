/*
 * Requests a member makes of its network's owner, and waits on:
 * `manta hostname NET NEWHOST` (the owner re-signs the record with the new
 * name; the owner itself signs at once) and `manta leave NET` (the owner
 * revokes the record, so every member drops this node at once; the network
 * is then forgotten here). Each waits for the owner's record to come back
 * by gossip, so the command says whether it took effect.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"

#define RENAME_WAIT_MS 8000
#define LEAVE_WAIT_MS 3000

struct rename_wait {
	struct rename_wait *next;
	struct membership *m;
	struct command_call *call;
	uint8_t network_pk[NETWORK_KEY_LEN];
	char hostname[HOSTNAME_MAX + 1];
	bool leave;
	uv_timer_t timer;
};

static void on_closed(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct rename_wait, timer));
}

static void wait_end(struct rename_wait *w)
{
	struct rename_wait **pp;

	for (pp = &w->m->renames; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	uv_close((uv_handle_t *)&w->timer, on_closed);
}

/* Forget the network here and answer. */
static void left(struct rename_wait *w, bool confirmed)
{
	struct network *n = membership_find_key(w->m, w->network_pk);
	json_t *res;

	if (!n) {
		command_fail(w->call, "the network was removed meanwhile");
		return;
	}
	res = json_pack("{s:s,s:b,s:b}", "name", n->label, "was_owner", n->owner,
			"revoked_by_owner", confirmed);
	log_info("network", "%s: left%s", n->label,
		 confirmed ? " (the owner revoked this node's record)" : "");
	membership_remove(w->m, n);
	membership_sync_peers(w->m);
	command_reply(w->call, res);
}

static void on_timeout(uv_timer_t *t)
{
	struct rename_wait *w = container_of(t, struct rename_wait, timer);

	if (w->leave) {
		command_progress(w->call,
				 "the owner did not confirm within %d s; leaving anyway "
				 "(members keep this node's record until the owner revokes it)",
				 LEAVE_WAIT_MS / 1000);
		left(w, false);
		wait_end(w);
		return;
	}
	command_fail(w->call,
		     "the owner did not confirm the new hostname within %d s; it must be online "
		     "to sign it (the request stands if it comes back)",
		     RENAME_WAIT_MS / 1000);
	wait_end(w);
}

void rename_check(struct membership *m, const struct network *n)
{
	const struct member_record *mine = network_member(n, m->d->id->x_pk);
	struct rename_wait *w, *next;

	for (w = m->renames; w; w = next) {
		next = w->next;
		if (memcmp(w->network_pk, n->pk, NETWORK_KEY_LEN) != 0 || !mine)
			continue;
		if (w->leave) {
			if (mine->flags & MEMBER_FLAG_REVOKED) {
				uv_timer_stop(&w->timer);
				left(w, true);
				wait_end(w);
				return; /* n is gone */
			}
			continue;
		}
		if (strcmp(mine->hostname, w->hostname) != 0)
			continue;
		snprintf(((struct network *)n)->hostname, sizeof(n->hostname), "%s", w->hostname);
		membership_save(m, n);
		command_reply(w->call,
			      json_pack("{s:s,s:s}", "name", n->label, "hostname", w->hostname));
		wait_end(w);
	}
}

static struct rename_wait *wait_start(struct mantad *d, struct command_call *call,
				      const struct network *n, unsigned ms)
{
	struct rename_wait *w = calloc(1, sizeof(*w));

	if (!w) {
		command_fail(call, "out of memory");
		return NULL;
	}
	w->m = &d->mem;
	w->call = call;
	memcpy(w->network_pk, n->pk, NETWORK_KEY_LEN);
	uv_timer_init(&d->loop, &w->timer);
	w->next = d->mem.renames;
	d->mem.renames = w;
	uv_timer_start(&w->timer, on_timeout, ms, 0);
	return w;
}

static const struct member_record *owner_of(const struct network *n)
{
	for (size_t i = 0; i < n->nmembers; i++)
		if (n->members[i].flags & MEMBER_FLAG_OWNER)
			return &n->members[i];
	return NULL;
}

void command_leave(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *label = json_string_value(json_object_get(args, "name"));
	struct network *n = membership_find(&d->mem, label);
	const struct member_record *o;
	struct rename_wait *w;
	size_t len;

	if (!n) {
		command_fail(call, "no network named `%s' (see `manta networks')", label);
		return;
	}
	o = owner_of(n);
	if (n->owner || !o || !membership_active(&d->mem, n)) {
		/* Nobody to tell: the owner's members keep working without it,
		 * and a revoked member has nothing to give back. */
		json_t *res = json_pack("{s:s,s:b,s:b}", "name", n->label, "was_owner", n->owner,
					"revoked_by_owner", false);

		log_info("network", "%s: left", n->label);
		membership_remove(&d->mem, n);
		membership_sync_peers(&d->mem);
		command_reply(call, res);
		return;
	}
	w = wait_start(d, call, n, LEAVE_WAIT_MS);
	if (!w)
		return;
	w->leave = true;
	command_progress(call, "asking the owner `%s' to revoke this node", o->hostname);
	len = gossip_build_leave(n->pk, d->mem.tx, sizeof(d->mem.tx));
	gossip_send_to(&d->mem, o->x25519_pk, d->mem.tx, len);
}

void command_hostname(struct mantad *d, struct command_call *call, json_t *args)
{
	const char *label = json_string_value(json_object_get(args, "name"));
	const char *host = json_string_value(json_object_get(args, "hostname"));
	struct network *n = membership_find(&d->mem, label);
	const struct member_record *mine, *taken, *owner = NULL;
	struct member_record rec;
	struct rename_wait *w;
	char err[256];
	size_t len;

	if (!n) {
		command_fail(call, "no network named `%s' (see `manta networks')", label);
		return;
	}
	if (!membership_names_ok(call, NULL, host))
		return;
	mine = network_member(n, d->id->x_pk);
	taken = network_member_by_host(n, host);
	if (!mine || !membership_active(&d->mem, n)) {
		command_fail(call, "this node is no longer a member of `%s'", label);
		return;
	}
	if (taken && taken != mine) {
		command_fail(call, "hostname `%s' is taken in `%s'", host, label);
		return;
	}
	if (n->owner) {
		if (network_admit(n, d->id->x_pk, d->id->ed_pk, host, mine->v4_index,
				  (uint64_t)time(NULL), &rec, err, sizeof(err)) < 0) {
			command_fail(call, "%s", err);
			return;
		}
		snprintf(n->hostname, sizeof(n->hostname), "%s", host);
		if (membership_save(&d->mem, n) < 0) {
			command_fail(call, "cannot save `%s' (see the log)", label);
			return;
		}
		gossip_flood_records(&d->mem, n, &rec, 1, NULL, GOSSIP_ALL);
		command_reply(call, json_pack("{s:s,s:s}", "name", label, "hostname", host));
		return;
	}
	owner = owner_of(n);
	if (!owner) {
		command_fail(call, "`%s' has no known owner to sign a new hostname", label);
		return;
	}
	w = wait_start(d, call, n, RENAME_WAIT_MS);
	if (!w)
		return;
	snprintf(w->hostname, sizeof(w->hostname), "%s", host);
	command_progress(call, "asking the owner `%s' to sign `%s'", owner->hostname, host);
	len = gossip_build_hostname(n->pk, host, d->mem.tx, sizeof(d->mem.tx));
	gossip_send_to(&d->mem, owner->x25519_pk, d->mem.tx, len);
}

void rename_stop(struct membership *m)
{
	while (m->renames) {
		command_fail(m->renames->call, "mantad is stopping");
		wait_end(m->renames);
	}
}
