/*
 * Joining a network: the exchange between a joiner and the owner, on the
 * data-plane UDP socket, before any tunnel exists between them.
 *
 *   request  0x10 0 0 0 | joiner_x25519[32] | nonce[24] | box
 *            box = crypto_box(joiner_sk -> owner_pk) of
 *            network_pk[32] | secret[16] | ed25519_pk[32] | wanted_index u32
 *            | host_len u8 | host
 *   response 0x11 0 0 0 | owner_x25519[32] | nonce[24] | box
 *            box = crypto_box(owner_sk -> joiner_pk) of
 *            status u8 (0 admitted) | msg_len u8 | msg | n u8
 *            | n × (len u16 | member record)      the joiner's and the owner's
 *
 * crypto_box authenticates both ends: only the holder of the joiner's key
 * can ask in its name, and only the owner the invite names can answer.
 * The joiner retries once a second for JOIN_TRIES seconds; the owner
 * answers a retry with the record it already issued. Requests are rate
 * limited (each costs the owner an X25519 operation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/mantad.h"
#include "daemon/membership.h"
#include "mesh/address.h"

#define JOIN_REQUEST 0x10
#define JOIN_RESPONSE 0x11
#define JOIN_HEADER (4 + 32 + crypto_box_NONCEBYTES)
#define JOIN_REQ_PLAIN_MAX (32 + INVITE_SECRET_LEN + 32 + 4 + 1 + HOSTNAME_MAX)
#define JOIN_RESP_PLAIN_MAX (2 + 255 + 1 + 2 * (2 + MEMBER_RECORD_MAX))
#define JOIN_TRIES 10
#define JOIN_SYNC_MS 5000
#define JOIN_RATE 20 /* requests a second */

enum join_state { JOIN_ASKING, JOIN_SYNCING };

struct join_attempt {
	struct join_attempt *next;
	struct membership *m;
	struct command_call *call;
	struct invite inv;
	char label[NETWORK_LABEL_MAX + 1];
	char hostname[HOSTNAME_MAX + 1];
	uv_timer_t timer;
	unsigned tries;
	enum join_state state;
	uint8_t request[JOIN_HEADER + JOIN_REQ_PLAIN_MAX + crypto_box_MACBYTES];
	size_t request_len;
};

bool join_is_message(const uint8_t *buf, size_t len)
{
	return len >= 4 && (buf[0] == JOIN_REQUEST || buf[0] == JOIN_RESPONSE) && !buf[1] &&
	       !buf[2] && !buf[3];
}

static void endpoint_text(const struct sockaddr_in6 *e, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&e->sin6_addr)) {
		inet_ntop(AF_INET, e->sin6_addr.s6_addr + 12, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(e->sin6_port));
	} else {
		inet_ntop(AF_INET6, &e->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(e->sin6_port));
	}
}

/* --- the joiner's side ----------------------------------------------------- */

static void on_attempt_closed(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct join_attempt, timer));
}

static void attempt_end(struct join_attempt *j)
{
	struct join_attempt **pp;

	for (pp = &j->m->joins; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	sodium_memzero(&j->inv, sizeof(j->inv));
	uv_close((uv_handle_t *)&j->timer, on_attempt_closed);
}

static void send_request(struct join_attempt *j)
{
	struct mantad *d = j->m->d;

	for (size_t i = 0; i < j->inv.nendpoints && j->request_len; i++)
		dataplane_send(&d->dp, &j->inv.endpoints[i], j->request, j->request_len);
}

static void build_request(struct join_attempt *j)
{
	struct identity *id = j->m->d->id;
	uint8_t plain[JOIN_REQ_PLAIN_MAX], *p = plain;
	size_t hl = strlen(j->hostname);

	memcpy(p, j->inv.network_pk, 32);
	memcpy(p + 32, j->inv.secret, INVITE_SECRET_LEN);
	p += 32 + INVITE_SECRET_LEN;
	memcpy(p, id->ed_pk, 32);
	put_le32(p + 32, id->v4_index);
	p[36] = (uint8_t)hl;
	memcpy(p + 37, j->hostname, hl);
	p += 37 + hl;

	memset(j->request, 0, 4);
	j->request[0] = JOIN_REQUEST;
	memcpy(j->request + 4, id->x_pk, 32);
	randombytes_buf(j->request + 36, crypto_box_NONCEBYTES);
	if (crypto_box_easy(j->request + JOIN_HEADER, plain, (size_t)(p - plain), j->request + 36,
			    j->inv.owner_x25519_pk, id->x_sk) != 0)
		j->request_len = 0; /* cannot happen: the message is short */
	else
		j->request_len = JOIN_HEADER + (size_t)(p - plain) + crypto_box_MACBYTES;
	sodium_memzero(plain, sizeof(plain));
}

static void finish(struct join_attempt *j)
{
	struct network *n = membership_find_key(j->m, j->inv.network_pk);

	if (n)
		command_reply(j->call, membership_joined_json(j->m->d, n));
	else
		command_fail(j->call, "the network was removed while joining");
	j->call = NULL;
	attempt_end(j);
}

static void on_attempt_timer(uv_timer_t *t)
{
	struct join_attempt *j = container_of(t, struct join_attempt, timer);
	char eps[INVITE_MAX_ENDPOINTS * 56] = "", one[56];

	if (j->state == JOIN_SYNCING) {
		command_progress(j->call, "the member list is still arriving; it keeps syncing "
					  "in the background");
		finish(j);
		return;
	}
	if (++j->tries < JOIN_TRIES) {
		send_request(j);
		return;
	}
	for (size_t i = 0; i < j->inv.nendpoints; i++) {
		endpoint_text(&j->inv.endpoints[i], one, sizeof(one));
		snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%s%s", i ? ", " : "", one);
	}
	command_fail(j->call,
		     "the owner of `%s' did not answer at %s within %u s: is it running and "
		     "reachable over UDP?",
		     j->inv.label, eps, JOIN_TRIES);
	j->call = NULL;
	attempt_end(j);
}

void command_join(struct mantad *d, struct command_call *call, json_t *args)
{
	struct membership *m = &d->mem;
	const char *token = json_string_value(json_object_get(args, "token"));
	const char *host = json_string_value(json_object_get(args, "hostname"));
	const char *name = json_string_value(json_object_get(args, "name"));
	struct join_attempt *j;
	struct network *n;
	char err[256], when[64] = "never";
	time_t exp;

	j = calloc(1, sizeof(*j));
	if (!j) {
		command_fail(call, "out of memory");
		return;
	}
	if (invite_decode(token, &j->inv, err, sizeof(err)) < 0) {
		command_fail(call, "the invite is not valid: %s", err);
		free(j);
		return;
	}
	if (j->inv.expires && (uint64_t)time(NULL) >= j->inv.expires) {
		exp = (time_t)j->inv.expires;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&exp));
		command_fail(call, "the invite for `%s' expired at %s; ask its owner for a new one",
			     j->inv.label, when);
		free(j);
		return;
	}
	snprintf(j->label, sizeof(j->label), "%s", name ? name : j->inv.label);
	snprintf(j->hostname, sizeof(j->hostname), "%s", host ? host : "");
	n = membership_find_key(m, j->inv.network_pk);
	if (n && membership_active(m, n)) {
		command_fail(call, "this node is already a member of that network, as `%s' in `%s'",
			     n->hostname, n->label);
		free(j);
		return;
	}
	if (!host || !membership_names_ok(call, j->label, j->hostname) ||
	    (!n && !membership_label_free(d, call, j->label))) {
		if (!host)
			command_fail(call, "a hostname is needed to join");
		free(j);
		return;
	}
	for (struct join_attempt *o = m->joins; o; o = o->next) {
		if (memcmp(o->inv.network_pk, j->inv.network_pk, 32) == 0) {
			command_fail(call, "a join of `%s' is already under way", o->label);
			free(j);
			return;
		}
	}
	j->m = m;
	j->call = call;
	uv_timer_init(&d->loop, &j->timer);
	j->next = m->joins;
	m->joins = j;
	build_request(j);
	if (j->inv.expires) {
		exp = (time_t)j->inv.expires;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&exp));
	}
	command_progress(call, "invite for network `%s' (%s, expires %s)", j->inv.label,
			 j->inv.flags & INVITE_FLAG_REUSABLE ? "reusable" : "single use", when);
	command_progress(call, "asking the owner at %zu endpoint%s", j->inv.nendpoints,
			 j->inv.nendpoints == 1 ? "" : "s");
	send_request(j);
	uv_timer_start(&j->timer, on_attempt_timer, 1000, 1000);
}

void join_check(struct membership *m, const struct network *n)
{
	for (struct join_attempt *j = m->joins; j; j = j->next) {
		if (j->state == JOIN_SYNCING && memcmp(j->inv.network_pk, n->pk, 32) == 0) {
			size_t live = 0;

			for (size_t i = 0; i < n->nmembers; i++)
				live += !(n->members[i].flags & MEMBER_FLAG_REVOKED);
			command_progress(j->call, "member list received: %zu members", live);
			finish(j);
			return;
		}
	}
}

/* The owner gave this node a different IPv4 index: take it, if no other
 * network holds this node to its current one. */
static bool adopt_index(struct join_attempt *j, const struct member_record *mine)
{
	struct mantad *d = j->m->d;
	struct identity *id = d->id;
	uint8_t v4[4];
	int r;

	if (mine->v4_index == id->v4_index)
		return true;
	for (size_t i = 0; i < j->m->nnets; i++) {
		if (membership_active(j->m, j->m->nets[i])) {
			command_fail(
				j->call,
				"the owner gave this node IPv4 index %u, but it uses %u in `%s'",
				mine->v4_index, id->v4_index, j->m->nets[i]->label);
			return false;
		}
	}
	address_v4_from_key_index(id->x_pk, mine->v4_index, v4);
	r = tun_addr_replace(d->ifname, AF_INET, id->v4, v4);
	if (r < 0) {
		command_fail(j->call, "cannot change this node's IPv4 address: %s", strerror(-r));
		return false;
	}
	memcpy(id->v4, v4, 4);
	id->v4_index = mine->v4_index;
	return true;
}

static bool admitted(struct join_attempt *j, const struct sockaddr_in6 *src,
		     const struct member_record *recs, size_t nrecs)
{
	struct mantad *d = j->m->d;
	const struct member_record *mine = NULL, *owner = NULL;
	struct network *n;
	struct peer *p;
	char where[80];
	uint8_t v4[4];
	size_t len;

	for (size_t i = 0; i < nrecs; i++) {
		if (memcmp(recs[i].network_pk, j->inv.network_pk, 32) != 0)
			continue;
		if (memcmp(recs[i].x25519_pk, d->id->x_pk, 32) == 0)
			mine = &recs[i];
		else if (memcmp(recs[i].x25519_pk, j->inv.owner_x25519_pk, 32) == 0 &&
			 recs[i].flags & MEMBER_FLAG_OWNER)
			owner = &recs[i];
	}
	if (!mine || !owner || mine->flags & MEMBER_FLAG_REVOKED) {
		command_fail(j->call, "the owner's answer lacks a valid member record");
		return false;
	}
	if (!adopt_index(j, mine))
		return false;
	n = membership_find_key(j->m, j->inv.network_pk);
	if (!n) {
		n = network_new(j->label, j->inv.network_pk);
		if (!n || membership_add(&d->mem, n) < 0) {
			network_free(n);
			command_fail(j->call, "out of memory");
			return false;
		}
	}
	snprintf(n->hostname, sizeof(n->hostname), "%s", mine->hostname);
	if (network_merge_record(n, mine) < 0 || network_merge_record(n, owner) < 0 ||
	    membership_save(&d->mem, n) < 0) {
		command_fail(j->call, "cannot save network `%s' (see the log)", n->label);
		membership_remove(&d->mem, n);
		return false;
	}
	address_v4_from_key_index(d->id->x_pk, mine->v4_index, v4);
	inet_ntop(AF_INET, v4, where, sizeof(where));
	command_progress(j->call, "admitted as `%s' (%s)", mine->hostname, where);
	membership_sync_peers(&d->mem);
	p = peer_table_by_key(&d->dev.peers, owner->x25519_pk);
	if (p)
		device_peer_set_endpoint(&d->dev, p, src);
	membership_announce(&d->mem);
	gossip_hurry(&d->mem);
	len = gossip_build_pull(n->pk, d->mem.tx, sizeof(d->mem.tx));
	gossip_send_to(&d->mem, owner->x25519_pk, d->mem.tx, len);
	endpoint_text(src, where, sizeof(where));
	command_progress(j->call, "connecting to the owner `%s' at %s for the member list",
			 owner->hostname, where);
	return true;
}

static void joiner_receive(struct membership *m, const struct sockaddr_in6 *src, const uint8_t *buf,
			   size_t len)
{
	struct join_attempt *j;
	uint8_t plain[JOIN_RESP_PLAIN_MAX];
	struct member_record recs[2];
	size_t plen, off, nrecs = 0;
	char err[256], msg[256];

	for (j = m->joins; j; j = j->next)
		if (j->state == JOIN_ASKING && memcmp(j->inv.owner_x25519_pk, buf + 4, 32) == 0)
			break;
	if (!j || len < JOIN_HEADER + crypto_box_MACBYTES + 3 ||
	    len - JOIN_HEADER - crypto_box_MACBYTES > sizeof(plain))
		return;
	plen = len - JOIN_HEADER - crypto_box_MACBYTES;
	if (crypto_box_open_easy(plain, buf + JOIN_HEADER, len - JOIN_HEADER, buf + 36, buf + 4,
				 m->d->id->x_sk) != 0)
		return;
	off = 2 + plain[1];
	if (off + 1 > plen)
		return;
	snprintf(msg, sizeof(msg), "%.*s", plain[1], (const char *)plain + 2);
	if (plain[0] != 0) {
		command_fail(j->call, "the owner refused: %s", msg);
		j->call = NULL;
		attempt_end(j);
		return;
	}
	size_t count = plain[off++];

	for (size_t i = 0; i < count && nrecs < ARRAY_SIZE(recs); i++) {
		size_t rl;

		if (off + 2 > plen)
			break;
		rl = get_le16(plain + off);
		off += 2;
		if (off + rl > plen)
			break;
		if (member_record_decode(plain + off, rl, &recs[nrecs], err, sizeof(err)) == 0)
			nrecs++;
		off += rl;
	}
	if (!admitted(j, src, recs, nrecs)) {
		j->call = NULL;
		attempt_end(j);
		return;
	}
	j->state = JOIN_SYNCING;
	uv_timer_start(&j->timer, on_attempt_timer, JOIN_SYNC_MS, 0);
}

/* --- the owner's side ------------------------------------------------------ */

static void respond(struct membership *m, const struct sockaddr_in6 *to, const uint8_t joiner[32],
		    const char *refusal, const struct member_record *recs, size_t nrecs)
{
	struct identity *id = m->d->id;
	uint8_t plain[JOIN_RESP_PLAIN_MAX],
		out[JOIN_HEADER + JOIN_RESP_PLAIN_MAX + crypto_box_MACBYTES];
	size_t off, ml = refusal ? strlen(refusal) : 0;

	plain[0] = refusal ? 1 : 0;
	plain[1] = (uint8_t)MIN(ml, 255);
	memcpy(plain + 2, refusal ? refusal : "", plain[1]);
	off = 2 + plain[1];
	plain[off++] = (uint8_t)nrecs;
	for (size_t i = 0; i < nrecs; i++) {
		size_t rl =
			member_record_encode(&recs[i], plain + off + 2, sizeof(plain) - off - 2);

		put_le16(plain + off, (uint16_t)rl);
		off += 2 + rl;
	}
	memset(out, 0, 4);
	out[0] = JOIN_RESPONSE;
	memcpy(out + 4, id->x_pk, 32);
	randombytes_buf(out + 36, crypto_box_NONCEBYTES);
	if (crypto_box_easy(out + JOIN_HEADER, plain, off, out + 36, joiner, id->x_sk) != 0)
		return;
	dataplane_send(&m->d->dp, to, out, JOIN_HEADER + off + crypto_box_MACBYTES);
	if (refusal) {
		m->counters.join_refused++;
		log_info("join", "refused a join request: %s", refusal);
	}
}

static bool rate_ok(struct membership *m)
{
	uint64_t now = uv_hrtime() / NSEC_PER_SEC;

	if (now != m->join_tokens_at) {
		m->join_tokens_at = now;
		m->join_tokens = JOIN_RATE;
	}
	if (!m->join_tokens)
		return false;
	m->join_tokens--;
	return true;
}

struct join_request {
	uint8_t joiner[32], network_pk[32], secret[INVITE_SECRET_LEN], ed_pk[32];
	uint32_t wanted;
	char host[HOSTNAME_MAX + 1];
};

static bool open_request(struct membership *m, const uint8_t *buf, size_t len,
			 struct join_request *q)
{
	uint8_t plain[JOIN_REQ_PLAIN_MAX];
	size_t plen;

	if (len < JOIN_HEADER + crypto_box_MACBYTES + 32 + INVITE_SECRET_LEN + 32 + 4 + 1 ||
	    len > JOIN_HEADER + crypto_box_MACBYTES + JOIN_REQ_PLAIN_MAX)
		return false;
	plen = len - JOIN_HEADER - crypto_box_MACBYTES;
	if (crypto_box_open_easy(plain, buf + JOIN_HEADER, len - JOIN_HEADER, buf + 36, buf + 4,
				 m->d->id->x_sk) != 0)
		return false;
	memcpy(q->joiner, buf + 4, 32);
	memcpy(q->network_pk, plain, 32);
	memcpy(q->secret, plain + 32, INVITE_SECRET_LEN);
	memcpy(q->ed_pk, plain + 48, 32);
	q->wanted = get_le32(plain + 80);
	if (plain[84] > HOSTNAME_MAX || 85 + (size_t)plain[84] != plen)
		return false;
	memcpy(q->host, plain + 85, plain[84]);
	q->host[plain[84]] = '\0';
	sodium_memzero(plain, sizeof(plain));
	return true;
}

static void owner_receive(struct membership *m, const struct sockaddr_in6 *src, const uint8_t *buf,
			  size_t len)
{
	struct mantad *d = m->d;
	struct join_request q;
	struct network *n;
	const struct member_record *cur, *taken;
	struct member_record recs[2];
	char err[256], why[256];
	int r;

	m->counters.join_requests++;
	if (!rate_ok(m) || !open_request(m, buf, len, &q)) {
		m->counters.join_dropped++;
		return;
	}
	n = membership_find_key(m, q.network_pk);
	if (!n || !n->owner) {
		respond(m, src, q.joiner, "this node does not own that network", NULL, 0);
		return;
	}
	if (!hostname_valid(q.host)) {
		snprintf(why, sizeof(why), "`%s' is not a valid hostname", q.host);
		respond(m, src, q.joiner, why, NULL, 0);
		return;
	}
	cur = network_member(n, q.joiner);
	taken = network_member_by_host(n, q.host);
	if (taken && memcmp(taken->x25519_pk, q.joiner, 32) != 0) {
		snprintf(why, sizeof(why), "hostname `%s' is taken in `%s'; join with --hostname",
			 q.host, n->label);
		respond(m, src, q.joiner, why, NULL, 0);
		return;
	}
	r = network_invite_use(n, q.secret, q.joiner, (uint64_t)time(NULL));
	if (r < 0) {
		respond(m, src, q.joiner,
			r == -ETIMEDOUT ? "the invite has expired" :
			r == -EALREADY	? "the invite was already used (it is single-use)" :
					  "the invite is not known to the owner (revoked, or "
					  "for another network)",
			NULL, 0);
		membership_save_soon(m, n);
		return;
	}
	if (cur && !(cur->flags & MEMBER_FLAG_REVOKED) && strcmp(cur->hostname, q.host) == 0) {
		recs[0] = *cur; /* a retried request */
	} else {
		r = network_admit(n, q.joiner, q.ed_pk, q.host, q.wanted, (uint64_t)time(NULL),
				  &recs[0], err, sizeof(err));
		if (r < 0) {
			respond(m, src, q.joiner, err, NULL, 0);
			return;
		}
		if (membership_save(m, n) < 0) {
			respond(m, src, q.joiner, "the owner cannot save the member list", NULL, 0);
			return;
		}
		log_info("join", "%s: admitted `%s'", n->label, q.host);
		gossip_flood_records(m, n, &recs[0], 1, q.joiner, GOSSIP_ALL);
		gossip_hurry(m);
		membership_sync_peers(&d->mem);
	}
	recs[1] = *network_member(n, d->id->x_pk);
	struct peer *p = peer_table_by_key(&d->dev.peers, q.joiner);

	if (p)
		device_peer_set_endpoint(&d->dev, p, src);
	respond(m, src, q.joiner, NULL, recs, 2);
	sodium_memzero(&q, sizeof(q));
}

void join_receive(struct membership *m, const struct sockaddr_in6 *src, const uint8_t *buf,
		  size_t len)
{
	if (len < JOIN_HEADER)
		return;
	if (buf[0] == JOIN_REQUEST)
		owner_receive(m, src, buf, len);
	else
		joiner_receive(m, src, buf, len);
}

void join_stop(struct membership *m)
{
	while (m->joins) {
		struct join_attempt *j = m->joins;

		command_fail(j->call, "mantad is stopping");
		j->call = NULL;
		attempt_end(j);
	}
}
