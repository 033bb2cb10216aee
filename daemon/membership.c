/*
 * The networks this node belongs to, their files, and what they contribute
 * to `status`. Each network lives in STATE_DIR/networks/LABEL.json; a file
 * that does not load is reported with its path and reason and left as it
 * is (a network of that label cannot be created or joined until someone
 * looks at it).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/probe_udp.h"
#include "daemon/membership.h"
#include "mesh/address.h"

static int network_path(const struct membership *m, const char *label, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s.json", m->dir, label);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

struct network *membership_find(const struct membership *m, const char *label)
{
	for (size_t i = 0; i < m->nnets; i++)
		if (strcmp(m->nets[i]->label, label) == 0)
			return m->nets[i];
	return NULL;
}

struct network *membership_find_key(const struct membership *m, const uint8_t pk[NETWORK_KEY_LEN])
{
	for (size_t i = 0; i < m->nnets; i++)
		if (memcmp(m->nets[i]->pk, pk, NETWORK_KEY_LEN) == 0)
			return m->nets[i];
	return NULL;
}

bool membership_active(const struct membership *m, const struct network *n)
{
	return network_has_member(n, m->d->id->x_pk);
}

const struct member_record *membership_record_for(const struct membership *m,
						  const uint8_t x25519[32])
{
	for (size_t i = 0; i < m->nnets; i++) {
		const struct network *n = m->nets[i];
		const struct member_record *r;

		if (!membership_active(m, n))
			continue;
		r = network_member(n, x25519);
		if (r && !(r->flags & MEMBER_FLAG_REVOKED))
			return r;
	}
	return NULL;
}

int membership_save(struct membership *m, const struct network *n)
{
	char path[600], err[1024];
	int r = network_path(m, n->label, path, sizeof(path));

	if (r == 0)
		r = network_save(n, path, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s/%s.json: path too long", m->dir, n->label);
	if (r < 0)
		log_err("network", "%s", err);
	return r;
}

void membership_sync_peers(struct membership *m)
{
	if (peers_sync(m->d, &m->d->cfg) < 0)
		log_warn("network", "the peer set could not be fully updated");
}

void membership_save_soon(struct membership *m, const struct network *n)
{
	for (size_t i = 0; i < m->nnets; i++)
		if (m->nets[i] == n)
			m->dirty[i] = true;
}

void membership_flush(struct membership *m)
{
	for (size_t i = 0; i < m->nnets; i++) {
		if (m->dirty[i]) {
			m->dirty[i] = false;
			membership_save(m, m->nets[i]);
		}
	}
}

int membership_add(struct membership *m, struct network *n)
{
	struct network **nets = realloc(m->nets, (m->nnets + 1) * sizeof(*nets));
	bool *dirty;

	if (!nets)
		return -ENOMEM;
	m->nets = nets;
	dirty = realloc(m->dirty, (m->nnets + 1) * sizeof(*dirty));
	if (!dirty)
		return -ENOMEM;
	m->dirty = dirty;
	m->dirty[m->nnets] = false;
	m->nets[m->nnets++] = n;
	return 0;
}

void membership_remove(struct membership *m, struct network *n)
{
	char path[600];

	if (network_path(m, n->label, path, sizeof(path)) == 0 && unlink(path) != 0 &&
	    errno != ENOENT)
		log_warn("network", "%s: cannot remove: %s", path, strerror(errno));
	for (size_t i = 0; i < m->nnets; i++) {
		if (m->nets[i] == n) {
			m->nets[i] = m->nets[--m->nnets];
			m->dirty[i] = m->dirty[m->nnets];
			break;
		}
	}
	network_free(n);
}

static bool is_network_file(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && strcmp(name + len - 5, ".json") == 0 && name[0] != '.';
}

/* This node's IPv4 index: the one its records carry (every network's owner
 * admitted it with the same one), else the identity's first valid one. */
static void pick_own_index(struct membership *m)
{
	struct identity *id = m->d->id;

	for (size_t i = 0; i < m->nnets; i++) {
		const struct member_record *r = network_member(m->nets[i], id->x_pk);

		if (r && !(r->flags & MEMBER_FLAG_REVOKED)) {
			if (r->v4_index != id->v4_index) {
				id->v4_index = r->v4_index;
				address_v4_from_key_index(id->x_pk, id->v4_index, id->v4);
			}
			return;
		}
	}
}

int membership_load(struct membership *m, struct mantad *d)
{
	struct dirent **names = NULL;
	int count, r = 0;

	m->d = d;
	if (snprintf(m->dir, sizeof(m->dir), "%s/networks", d->cfg.state_dir) >=
	    (int)sizeof(m->dir))
		return -ENAMETOOLONG;
	if (mkdir(m->dir, 0700) != 0 && errno != EEXIST) {
		log_err("network", "%s: cannot create: %s", m->dir, strerror(errno));
		return -errno;
	}
	m->msg = calloc(1, sizeof(*m->msg));
	if (!m->msg)
		return -ENOMEM;
	count = scandir(m->dir, &names, NULL, alphasort);
	if (count < 0) {
		log_err("network", "%s: cannot read: %s", m->dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < count; i++) {
		char path[600], err[1024];
		struct network *n;

		if (r == 0 && is_network_file(names[i]->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", m->dir, names[i]->d_name);
			if (network_load(path, &n, err, sizeof(err)) < 0) {
				log_err("network", "%s (skipped; the file is left as it is)", err);
			} else if (membership_find_key(m, n->pk)) {
				log_err("network", "%s: the same network as `%s' (skipped)", path,
					membership_find_key(m, n->pk)->label);
				network_free(n);
			} else {
				r = membership_add(m, n);
				if (r < 0)
					network_free(n);
				else
					log_info("network", "%s: %zu members, this node is `%s'%s",
						 n->label, n->nmembers, n->hostname,
						 n->owner ? " (owner)" : "");
			}
		}
		free(names[i]);
	}
	free(names);
	pick_own_index(m);
	return r;
}

int membership_start(struct membership *m)
{
	membership_announce(m);
	return gossip_start(m);
}

void membership_stop(struct membership *m)
{
	membership_flush(m);
	join_stop(m);
	ping_stop(m);
	probe_udp_stop(m);
	rename_stop(m);
	gossip_stop(m);
}

void membership_free(struct membership *m)
{
	for (size_t i = 0; i < m->nnets; i++)
		network_free(m->nets[i]);
	free(m->nets);
	free(m->dirty);
	free(m->msg);
	m->dirty = NULL;
	m->nets = NULL;
	m->msg = NULL;
	m->nnets = 0;
}

static json_t *network_summary(const struct membership *m, const struct network *n)
{
	char b64[KEY_B64_LEN];
	size_t live = 0;

	for (size_t i = 0; i < n->nmembers; i++)
		live += !(n->members[i].flags & MEMBER_FLAG_REVOKED);
	key_to_base64(n->pk, b64);
	return json_pack("{s:s,s:s,s:b,s:s,s:I,s:b}", "name", n->label, "network_key", b64, "owner",
			 n->owner, "hostname", n->hostname, "members", (json_int_t)live, "active",
			 membership_active(m, n));
}

void membership_status(struct membership *m, json_t *status)
{
	json_t *nets = json_array(), *peers = json_object_get(status, "peers");
	size_t i, j;
	json_t *pj;

	for (i = 0; i < m->nnets; i++)
		json_array_append_new(nets, network_summary(m, m->nets[i]));
	json_object_set_new(status, "networks", nets);
	json_array_foreach(peers, i, pj)
	{
		uint8_t pk[KEY_LEN];
		json_t *names = json_array();
		const char *host = NULL;

		if (!key_from_base64(json_string_value(json_object_get(pj, "public_key")), pk)) {
			json_decref(names);
			continue;
		}
		for (j = 0; j < m->nnets; j++) {
			const struct member_record *r = network_member(m->nets[j], pk);

			if (!r || r->flags & MEMBER_FLAG_REVOKED ||
			    !membership_active(m, m->nets[j]))
				continue;
			if (!host)
				host = r->hostname;
			json_array_append_new(names, json_string(m->nets[j]->label));
		}
		json_object_set_new(pj, "hostname", host ? json_string(host) : json_null());
		json_object_set_new(pj, "networks", names);
	}
	json_object_set_new(status, "gossip",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rx",
				      (json_int_t)m->counters.gossip_rx, "tx",
				      (json_int_t)m->counters.gossip_tx, "rx_invalid",
				      (json_int_t)m->counters.gossip_rx_invalid, "rx_not_member",
				      (json_int_t)m->counters.gossip_rx_not_member,
				      "items_rejected",
				      (json_int_t)m->counters.gossip_items_rejected,
				      "join_requests", (json_int_t)m->counters.join_requests,
				      "join_refused", (json_int_t)m->counters.join_refused,
				      "join_dropped", (json_int_t)m->counters.join_dropped));
}
