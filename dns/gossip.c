/*
 * Service names over the members' gossip (daemon/gossiper.c does the
 * socket; this file the service sets). The same rules as for endpoint
 * announcements: a node signs its own set per network and pushes it to
 * every live member of that network; a member that learns something new
 * from a push passes it on to GOSSIP_RELAY_FANOUT others; anti-entropy
 * covers the rest, because a network's digest also covers its service
 * sets (dns_gossip_digest), and a digest mismatch makes both sides send
 * everything, service sets included (dns_gossip_send_all).
 *
 * A network where nobody registered a name keeps the digest of the member
 * lists alone, exactly as before service names existed.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/mantad.h"
#include "dns/dns.h"

static bool target(const struct mantad *d, const struct member_record *r, const uint8_t *except)
{
	return !(r->flags & MEMBER_FLAG_REVOKED) && memcmp(r->x25519_pk, d->id->x_pk, 32) != 0 &&
	       !(except && memcmp(r->x25519_pk, except, 32) == 0);
}

/* Every live member of n but `except`, or `fanout' of them at random. */
static void spread(struct mantad *d, const struct network *n, const uint8_t *buf, size_t len,
		   const uint8_t *except, unsigned fanout)
{
	const uint8_t *pick[GOSSIP_RELAY_FANOUT];
	size_t seen = 0;

	for (size_t i = 0; i < n->nmembers; i++) {
		const struct member_record *r = &n->members[i];

		if (!target(d, r, except))
			continue;
		if (fanout == GOSSIP_ALL) {
			gossip_send_to(&d->mem, r->x25519_pk, buf, len);
		} else if (seen < fanout) {
			pick[seen] = r->x25519_pk;
		} else {
			uint32_t j = randombytes_uniform((uint32_t)(seen + 1));

			if (j < fanout)
				pick[j] = r->x25519_pk;
		}
		seen++;
	}
	for (size_t i = 0; fanout != GOSSIP_ALL && i < MIN(seen, (size_t)fanout); i++)
		gossip_send_to(&d->mem, pick[i], buf, len);
}

/* Sends sets (all of network n) to `to', or spread as above. */
static void send_sets(struct mantad *d, const struct network *n, const struct service_set *sets,
		      size_t count, const uint8_t *to, const uint8_t *except, unsigned fanout)
{
	uint8_t buf[GOSSIP_MAX];
	size_t first = 0, len;

	while (first < count) {
		len = gossip_build_services(n->pk, sets, count, &first, buf, sizeof(buf));
		if (!len)
			return;
		if (to)
			gossip_send_to(&d->mem, to, buf, len);
		else
			spread(d, n, buf, len, except, fanout);
	}
}

void dns_gossip_take(struct dns *dns, struct network *n, const struct gossip_msg *g,
		     const uint8_t from[32])
{
	struct service_set *fresh;
	size_t nfresh = 0;

	if (!dns || !g->nservices)
		return;
	fresh = malloc(g->nservices * sizeof(*fresh));
	if (!fresh)
		return;
	for (size_t i = 0; i < g->nservices; i++) {
		int r = dns_services_merge(&dns->svc, n, &g->services[i]);

		if (r == 1)
			fresh[nfresh++] = g->services[i];
		else if (r < 0)
			dns->d->mem.counters.gossip_items_rejected++;
	}
	for (size_t i = 0; i < nfresh; i++) {
		const struct member_record *r = network_member(n, fresh[i].x25519_pk);

		log_info("dns", "%s: `%s' has %zu service names", n->label, r ? r->hostname : "?",
			 fresh[i].nnames);
	}
	if (nfresh) {
		dns_zone_changed(dns);
		dns->svc_dirty = true;
		gossip_hurry(&dns->d->mem);
		send_sets(dns->d, n, fresh, nfresh, NULL, from, GOSSIP_RELAY_FANOUT);
	}
	free(fresh);
}

void dns_gossip_send_all(struct dns *dns, const struct network *n, const uint8_t to[32])
{
	struct service_set *sets;
	size_t count = 0;

	if (!dns || !dns->svc.nsets)
		return;
	sets = malloc(dns->svc.nsets * sizeof(*sets));
	if (!sets)
		return;
	for (size_t i = 0; i < dns->svc.nsets; i++) {
		const struct service_set *s = &dns->svc.sets[i];

		if (memcmp(s->network_pk, n->pk, NETWORK_KEY_LEN) == 0 && dns_services_counts(n, s))
			sets[count++] = *s;
	}
	send_sets(dns->d, n, sets, count, to, NULL, GOSSIP_ALL);
	free(sets);
}

void dns_gossip_digest(const struct dns *dns, const struct network *n, uint8_t digest[16])
{
	uint8_t svc[NETWORK_DIGEST_LEN], both[2 * NETWORK_DIGEST_LEN];

	if (!dns || !dns_services_digest(&dns->svc, n, svc))
		return;
	memcpy(both, digest, NETWORK_DIGEST_LEN);
	memcpy(both + NETWORK_DIGEST_LEN, svc, NETWORK_DIGEST_LEN);
	crypto_generichash(digest, NETWORK_DIGEST_LEN, both, sizeof(both), NULL, 0);
}

static bool same_names(const struct service_set *a, const struct service_set *b)
{
	if (a->nnames != b->nnames)
		return false;
	for (size_t i = 0; i < a->nnames; i++)
		if (!service_set_has(b, a->names[i], strlen(a->names[i])))
			return false;
	return true;
}

/* This node's set for n as its registrations want it: signed anew and
 * pushed when it changed. */
static void refresh_one(struct dns *dns, const struct network *n)
{
	const struct identity *id = dns->d->id;
	const struct service_set *cur = dns_services_get(&dns->svc, n->pk, id->x_pk);
	struct service_set want;
	uint64_t now = (uint64_t)time(NULL) * 1000000u;
	int r;

	if (!dns_services_own_for(&dns->svc, n, &want))
		log_warn("dns", "%s: more than %d service names; the first ones are announced",
			 n->label, SERVICE_MAX_NAMES);
	if (cur ? same_names(cur, &want) : want.nnames == 0)
		return;
	want.seq = cur && cur->seq >= now ? cur->seq + 1 : now;
	service_set_sign(&want, id->ed_sk);
	r = dns_services_merge(&dns->svc, n, &want);
	if (r != 1) {
		log_debug("dns",
			  "%s: this node's record does not bind its signing key; no service "
			  "names",
			  n->label);
		return;
	}
	log_info("dns", "%s: announcing %zu service names", n->label, want.nnames);
	dns_zone_changed(dns);
	dns->svc_dirty = true;
	send_sets(dns->d, n, &want, 1, NULL, NULL, GOSSIP_ALL);
}

void dns_services_refresh(struct dns *dns)
{
	struct membership *m = &dns->d->mem;

	for (size_t i = 0; i < m->nnets; i++)
		if (membership_active(m, m->nets[i]))
			refresh_one(dns, m->nets[i]);
}

void dns_services_save_now(struct dns *dns)
{
	char path[600], err[1024];

	snprintf(path, sizeof(path), "%s/services.json", dns->dir);
	if (dns_services_save(&dns->svc, path, err, sizeof(err)) < 0)
		log_err("dns", "%s", err);
	else
		dns->svc_dirty = false;
}
