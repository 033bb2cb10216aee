/*
 * `manta hostname NET NEWHOST`: the owner signs its own new record at once;
 * a member asks the owner (gossip HOSTNAME) and waits for the re-signed
 * record to come back, so the command says whether it took effect.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"

#define RENAME_WAIT_MS 8000

struct rename_wait {
	struct rename_wait *next;
	struct membership *m;
	struct command_call *call;
	uint8_t network_pk[NETWORK_KEY_LEN];
	char hostname[HOSTNAME_MAX + 1];
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

static void on_timeout(uv_timer_t *t)
{
	struct rename_wait *w = container_of(t, struct rename_wait, timer);

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
		if (memcmp(w->network_pk, n->pk, NETWORK_KEY_LEN) != 0 || !mine ||
		    strcmp(mine->hostname, w->hostname) != 0)
			continue;
		snprintf(((struct network *)n)->hostname, sizeof(n->hostname), "%s", w->hostname);
		membership_save(m, n);
		command_reply(w->call,
			      json_pack("{s:s,s:s}", "name", n->label, "hostname", w->hostname));
		wait_end(w);
	}
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
	for (size_t i = 0; i < n->nmembers; i++)
		if (n->members[i].flags & MEMBER_FLAG_OWNER)
			owner = &n->members[i];
	if (!owner) {
		command_fail(call, "`%s' has no known owner to sign a new hostname", label);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		command_fail(call, "out of memory");
		return;
	}
	w->m = &d->mem;
	w->call = call;
	memcpy(w->network_pk, n->pk, NETWORK_KEY_LEN);
	snprintf(w->hostname, sizeof(w->hostname), "%s", host);
	uv_timer_init(&d->loop, &w->timer);
	w->next = d->mem.renames;
	d->mem.renames = w;
	command_progress(call, "asking the owner `%s' to sign `%s'", owner->hostname, host);
	len = gossip_build_hostname(n->pk, host, d->mem.tx, sizeof(d->mem.tx));
	gossip_send_to(&d->mem, owner->x25519_pk, d->mem.tx, len);
	uv_timer_start(&w->timer, on_timeout, RENAME_WAIT_MS, 0);
}

void rename_stop(struct membership *m)
{
	while (m->renames) {
		command_fail(m->renames->call, "mantad is stopping");
		wait_end(m->renames);
	}
}
