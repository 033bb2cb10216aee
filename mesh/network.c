/*
 * One network as this node knows it (mesh/network.h). The state file is
 * read and written in network_file.c; this file keeps the lists and issues
 * the owner's records.
 *
 * Member records and announcements are each kept sorted by x25519 key: a
 * lookup is a binary search, and the digest is one pass in a fixed order,
 * so two nodes that know the same things compute the same digest whatever
 * order they learnt them in. A revoked record stays in the list, so that
 * the older, valid record it replaced cannot be merged back.
 *
 * Versions. The owner issues version = max(now × 10^6, last_version + 1):
 * values that read as a time, yet strictly increase even when the clock
 * steps back. The owner's last_version follows every record merged (its own
 * records coming back from members after a restore from an old backup
 * included), so a record it issues always beats every record it has seen.
 *
 * An announcement lives only as long as its member's record accepts it:
 * when a merged record revokes the member or binds another ed25519 key, the
 * announcement is dropped. A node that saw the announcement before the
 * revocation and a node that saw only the revocation then hold the same
 * knowledge, and their digests agree instead of differing forever.
 *
 * Invites are at most INVITES_MAX slots. An invite that is added to a full
 * list evicts the oldest expired slot, else the oldest used single-use one;
 * when all are live it is refused (-ENOSPC).
 */
#include "mesh/network.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"
#include "mesh/address.h"

/* Versions are stored as JSON integers, which are signed 64-bit. */
#define VERSION_MAX ((uint64_t)INT64_MAX)
#define VERSION_PER_SECOND 1000000u
/* IPv4 indexes tried for one member before giving up. Each try clashes with
 * a probability of about members / 4 million. */
#define PICK_TRIES 64
#define INVITES_MAX 256
#define DIGEST_SEPARATOR 0xff

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- sorted arrays --------------------------------------------------------- */

/* The first of n elements (of size bytes, sorted by the 32-byte key at
 * offset off) whose key is not below key: where key is, or would go. */
static size_t lower_bound(const void *base, size_t n, size_t size, size_t off,
			  const uint8_t key[32])
{
	const uint8_t *p = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(p + mid * size + off, key, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The array arr of *cap elements, reallocated with room for more; NULL (and
 * arr untouched) when out of memory. */
static void *grow(void *arr, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p;

	if (ncap > SIZE_MAX / size)
		return NULL;
	p = realloc(arr, ncap * size);
	if (p)
		*cap = ncap;
	return p;
}

static struct member_record *find_member(const struct network *n, const uint8_t x25519[32],
					 size_t *pos)
{
	size_t i = lower_bound(n->members, n->nmembers, sizeof(*n->members),
			       offsetof(struct member_record, x25519_pk), x25519);

	if (pos)
		*pos = i;
	if (i < n->nmembers && memcmp(n->members[i].x25519_pk, x25519, 32) == 0)
		return &n->members[i];
	return NULL;
}

static struct announce *find_announce(const struct network *n, const uint8_t x25519[32],
				      size_t *pos)
{
	size_t i = lower_bound(n->announces, n->nannounces, sizeof(*n->announces),
			       offsetof(struct announce, x25519_pk), x25519);

	if (pos)
		*pos = i;
	if (i < n->nannounces && memcmp(n->announces[i].x25519_pk, x25519, 32) == 0)
		return &n->announces[i];
	return NULL;
}

static int insert_member(struct network *n, size_t pos, const struct member_record *r)
{
	if (n->nmembers == n->members_cap) {
		struct member_record *p = grow(n->members, &n->members_cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->members = p;
	}
	memmove(&n->members[pos + 1], &n->members[pos], (n->nmembers - pos) * sizeof(*r));
	n->members[pos] = *r;
	n->nmembers++;
	return 0;
}

static int insert_announce(struct network *n, size_t pos, const struct announce *a)
{
	if (n->nannounces == n->announces_cap) {
		struct announce *p = grow(n->announces, &n->announces_cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->announces = p;
	}
	memmove(&n->announces[pos + 1], &n->announces[pos], (n->nannounces - pos) * sizeof(*a));
	n->announces[pos] = *a;
	n->nannounces++;
	return 0;
}

static void remove_announce(struct network *n, size_t pos)
{
	memmove(&n->announces[pos], &n->announces[pos + 1],
		(n->nannounces - pos - 1) * sizeof(*n->announces));
	n->nannounces--;
}

/* --- life cycle and lookups ------------------------------------------------ */

struct network *network_new(const char *label, const uint8_t pk[NETWORK_KEY_LEN])
{
	struct network *n;

	if (!hostname_valid(label) || sodium_init() < 0)
		return NULL;
	/* sodium_malloc: the struct may come to hold the network secret. */
	n = sodium_malloc(sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	snprintf(n->label, sizeof(n->label), "%s", label);
	memcpy(n->pk, pk, NETWORK_KEY_LEN);
	return n;
}

void network_free(struct network *n)
{
	if (!n)
		return;
	free(n->members);
	free(n->announces);
	free(n->invites);
	sodium_memzero(n->sk, sizeof(n->sk));
	sodium_free(n); /* wipes the rest */
}

const struct member_record *network_member(const struct network *n, const uint8_t x25519[32])
{
	return find_member(n, x25519, NULL);
}

const struct member_record *network_member_by_host(const struct network *n, const char *host)
{
	for (size_t i = 0; i < n->nmembers; i++) {
		const struct member_record *m = &n->members[i];

		if (!(m->flags & MEMBER_FLAG_REVOKED) && strcmp(m->hostname, host) == 0)
			return m;
	}
	return NULL;
}

bool network_has_member(const struct network *n, const uint8_t x25519[32])
{
	const struct member_record *m = network_member(n, x25519);

	return m && !(m->flags & MEMBER_FLAG_REVOKED);
}

const struct announce *network_announce(const struct network *n, const uint8_t x25519[32])
{
	return find_announce(n, x25519, NULL);
}

/* --- merging --------------------------------------------------------------- */

/* The member's record accepts this announcement: not revoked, and it binds
 * the ed25519 key that signed it to the x25519 key it is filed under. */
static bool announce_allowed(const struct member_record *m, const struct announce *a)
{
	return !(m->flags & MEMBER_FLAG_REVOKED) && member_record_keys_bound(m) &&
	       memcmp(m->ed25519_pk, a->ed25519_pk, 32) == 0;
}

int network_merge_record(struct network *n, const struct member_record *r)
{
	struct member_record *m;
	struct announce *a;
	size_t pos;

	if (memcmp(r->network_pk, n->pk, NETWORK_KEY_LEN) != 0)
		return -EINVAL;
	m = find_member(n, r->x25519_pk, &pos);
	if (m && r->version <= m->version)
		return 0;
	if (m)
		*m = *r;
	else if (insert_member(n, pos, r) < 0)
		return -ENOMEM;
	if (n->owner && r->version > n->last_version)
		n->last_version = r->version;
	a = find_announce(n, r->x25519_pk, &pos);
	if (a && !announce_allowed(r, a))
		remove_announce(n, pos);
	return 1;
}

int network_merge_announce(struct network *n, const struct announce *a)
{
	const struct member_record *m = network_member(n, a->x25519_pk);
	struct announce *old;
	size_t pos;

	if (!m || !announce_allowed(m, a))
		return -EPERM;
	old = find_announce(n, a->x25519_pk, &pos);
	if (old && a->seq <= old->seq)
		return 0;
	if (old)
		*old = *a;
	else if (insert_announce(n, pos, a) < 0)
		return -ENOMEM;
	return 1;
}

void network_digest(const struct network *n, uint8_t out[NETWORK_DIGEST_LEN])
{
	const uint8_t separator = DIGEST_SEPARATOR;
	crypto_generichash_state st;
	uint8_t item[32 + 8];

	crypto_generichash_init(&st, NULL, 0, NETWORK_DIGEST_LEN);
	for (size_t i = 0; i < n->nmembers; i++) {
		memcpy(item, n->members[i].x25519_pk, 32);
		put_le64(item + 32, n->members[i].version);
		crypto_generichash_update(&st, item, sizeof(item));
	}
	crypto_generichash_update(&st, &separator, 1);
	for (size_t i = 0; i < n->nannounces; i++) {
		memcpy(item, n->announces[i].x25519_pk, 32);
		put_le64(item + 32, n->announces[i].seq);
		crypto_generichash_update(&st, item, sizeof(item));
	}
	crypto_generichash_final(&st, out, NETWORK_DIGEST_LEN);
}

/* --- the owner's records --------------------------------------------------- */

/* True if addr is the IPv4 address of a non-revoked member other than the
 * one with key x25519. */
static bool v4_taken(const struct network *n, const uint8_t x25519[32], const uint8_t addr[4])
{
	uint8_t a[4];

	for (size_t i = 0; i < n->nmembers; i++) {
		const struct member_record *m = &n->members[i];

		if ((m->flags & MEMBER_FLAG_REVOKED) || memcmp(m->x25519_pk, x25519, 32) == 0)
			continue;
		address_v4_from_key_index(m->x25519_pk, m->v4_index, a);
		if (memcmp(a, addr, 4) == 0)
			return true;
	}
	return false;
}

/* The IPv4 index for key x25519: the first one from wanted whose address is
 * neither reserved nor another member's. */
static int pick_index(const struct network *n, const uint8_t x25519[32], uint32_t wanted,
		      uint32_t *index)
{
	uint32_t i = wanted;
	uint8_t a[4];

	for (int tries = 0; tries < PICK_TRIES; tries++, i++) {
		i = address_v4_next_index(x25519, i);
		address_v4_from_key_index(x25519, i, a);
		if (!v4_taken(n, x25519, a)) {
			*index = i;
			return 0;
		}
	}
	return -EADDRINUSE;
}

static int next_version(const struct network *n, uint64_t now_unix, uint64_t *version)
{
	uint64_t t = VERSION_MAX;

	if (n->last_version >= VERSION_MAX)
		return -EOVERFLOW;
	if (now_unix < VERSION_MAX / VERSION_PER_SECOND)
		t = now_unix * VERSION_PER_SECOND;
	*version = MAX(t, n->last_version + 1);
	return 0;
}

/* Gives r a new version, signs it and merges it. */
static int issue(struct network *n, struct member_record *r, uint64_t now_unix)
{
	int ret = next_version(n, now_unix, &r->version);

	if (ret < 0)
		return ret;
	member_record_sign(r, n->sk);
	ret = network_merge_record(n, r);
	return ret < 0 ? ret : 0;
}

/* Checks the member's keys and fills in r's network and keys. */
static int set_keys(const struct network *n, struct member_record *r, const uint8_t x25519[32],
		    const uint8_t ed25519[32], char *err, size_t errlen)
{
	uint8_t v6[16];

	address_v6_from_key(x25519, v6);
	if (address_v6_reserved(v6)) {
		say(err, errlen, "this key derives the reserved address 200::53");
		return -EINVAL;
	}
	memcpy(r->network_pk, n->pk, NETWORK_KEY_LEN);
	memcpy(r->x25519_pk, x25519, 32);
	memcpy(r->ed25519_pk, ed25519, 32);
	/* All zero is a stock WireGuard leaf, which has no signing key. */
	if (!sodium_is_zero(ed25519, 32) && !member_record_keys_bound(r)) {
		say(err, errlen, "the ed25519 key is not the one the x25519 key derives from");
		return -EINVAL;
	}
	return 0;
}

static int admit(struct network *n, const uint8_t x25519[32], const uint8_t ed25519[32],
		 const char *hostname, uint32_t wanted, uint8_t flags, uint64_t now_unix,
		 struct member_record *out, char *err, size_t errlen)
{
	const struct member_record *old = network_member(n, x25519);
	const struct member_record *holder;
	int ret;

	if (!hostname_valid(hostname)) {
		say(err, errlen,
		    "invalid hostname `%.80s': use 1 to 63 of a-z, 0-9 and '-', "
		    "not starting or ending with '-'",
		    hostname);
		return -EINVAL;
	}
	holder = network_member_by_host(n, hostname);
	if (holder && memcmp(holder->x25519_pk, x25519, 32) != 0) {
		say(err, errlen, "hostname `%s' is taken in network `%s'", hostname, n->label);
		return -EEXIST;
	}
	memset(out, 0, sizeof(*out));
	ret = set_keys(n, out, x25519, ed25519, err, errlen);
	if (ret < 0)
		return ret;
	out->flags = flags;
	snprintf(out->hostname, sizeof(out->hostname), "%s", hostname);
	/* A rename keeps the member's tags; a member admitted again after a
	 * revocation starts without. */
	if (old && !(old->flags & MEMBER_FLAG_REVOKED)) {
		out->ntags = old->ntags;
		memcpy(out->tags, old->tags, sizeof(out->tags));
	}
	/* A member admitted again keeps its address unless it now clashes. */
	if (old)
		wanted = old->v4_index;
	ret = pick_index(n, x25519, wanted, &out->v4_index);
	if (ret < 0) {
		say(err, errlen,
		    "no free IPv4 address for `%s' in network `%s' (%d tried from index %u)",
		    hostname, n->label, PICK_TRIES, wanted);
		return ret;
	}
	ret = issue(n, out, now_unix);
	if (ret < 0)
		say(err, errlen, "cannot issue a record for `%s': %s", hostname, strerror(-ret));
	return ret;
}

static uint64_t unix_now(void)
{
	time_t t = time(NULL);

	return t > 0 ? (uint64_t)t : 0;
}

int network_create(const char *label, const char *hostname, const uint8_t self_x25519[32],
		   const uint8_t self_ed25519[32], uint32_t self_v4_index, struct network **out)
{
	static const uint8_t no_key[NETWORK_KEY_LEN];
	struct member_record r;
	struct network *n;
	int ret;

	if (!hostname_valid(label) || !hostname_valid(hostname))
		return -EINVAL;
	n = network_new(label, no_key);
	if (!n)
		return -ENOMEM;
	crypto_sign_keypair(n->pk, n->sk);
	n->owner = true;
	snprintf(n->hostname, sizeof(n->hostname), "%s", hostname);
	ret = admit(n, self_x25519, self_ed25519, hostname, self_v4_index, MEMBER_FLAG_OWNER,
		    unix_now(), &r, NULL, 0);
	if (ret < 0) {
		network_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

int network_admit(struct network *n, const uint8_t x25519[32], const uint8_t ed25519[32],
		  const char *hostname, uint32_t wanted_index, uint64_t now_unix,
		  struct member_record *out, char *err, size_t errlen)
{
	const struct member_record *old;
	struct member_record r;
	uint8_t flags;
	int ret;

	if (!n->owner) {
		say(err, errlen, "network `%s': only its owner admits members", n->label);
		return -EPERM;
	}
	old = network_member(n, x25519);
	flags = old ? old->flags & MEMBER_FLAG_OWNER : 0;
	ret = admit(n, x25519, ed25519, hostname, wanted_index, flags, now_unix, &r, err, errlen);
	if (ret < 0)
		return ret;
	/* The owner renaming itself. */
	if (r.flags & MEMBER_FLAG_OWNER)
		snprintf(n->hostname, sizeof(n->hostname), "%s", r.hostname);
	if (out)
		*out = r;
	return 0;
}

int network_revoke(struct network *n, const uint8_t x25519[32], uint64_t now_unix,
		   struct member_record *out)
{
	const struct member_record *m;
	struct member_record r;
	int ret;

	if (!n->owner)
		return -EPERM;
	m = network_member(n, x25519);
	if (!m)
		return -ENOENT;
	if (m->flags & MEMBER_FLAG_OWNER)
		return -EPERM;
	r = *m;
	/* Revoking twice changes nothing: no new version to gossip. */
	if (!(r.flags & MEMBER_FLAG_REVOKED)) {
		r.flags |= MEMBER_FLAG_REVOKED;
		ret = issue(n, &r, now_unix);
		if (ret < 0)
			return ret;
	}
	if (out)
		*out = r;
	return 0;
}

static int tag_order(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The tags as a record keeps them: checked, sorted, without duplicates. */
static int tags_normalize(const char *const *tags, size_t ntags, struct member_record *r, char *err,
			  size_t errlen)
{
	char sorted[MEMBER_TAGS_MAX * 4][MEMBER_TAG_MAX + 1];
	size_t kept = 0;

	for (size_t i = 0; i < ntags; i++) {
		if (!tag_valid(tags[i])) {
			say(err, errlen,
			    "invalid tag `%.80s': use 1 to %d of a-z, 0-9 and '-', "
			    "not starting or ending with '-'",
			    tags[i], MEMBER_TAG_MAX);
			return -EINVAL;
		}
	}
	if (ntags > ARRAY_SIZE(sorted)) {
		say(err, errlen, "a member has at most %d tags", MEMBER_TAGS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < ntags; i++)
		snprintf(sorted[i], sizeof(sorted[i]), "%s", tags[i]);
	qsort(sorted, ntags, sizeof(sorted[0]), tag_order);
	for (size_t i = 0; i < ntags; i++) {
		if (kept && strcmp(r->tags[kept - 1], sorted[i]) == 0)
			continue;
		if (kept == MEMBER_TAGS_MAX) {
			say(err, errlen, "a member has at most %d tags", MEMBER_TAGS_MAX);
			return -EINVAL;
		}
		memcpy(r->tags[kept++], sorted[i], sizeof(sorted[i]));
	}
	r->ntags = (uint8_t)kept;
	return 0;
}

int network_set_tags(struct network *n, const uint8_t x25519[32], const char *const *tags,
		     size_t ntags, uint64_t now_unix, struct member_record *out, char *err,
		     size_t errlen)
{
	const struct member_record *m;
	struct member_record r;
	int ret;

	if (!n->owner) {
		say(err, errlen, "network `%s': only its owner sets tags", n->label);
		return -EPERM;
	}
	m = network_member(n, x25519);
	if (!m || (m->flags & MEMBER_FLAG_REVOKED)) {
		say(err, errlen, "network `%s' has no such member", n->label);
		return -ENOENT;
	}
	r = *m;
	memset(r.tags, 0, sizeof(r.tags));
	ret = tags_normalize(tags, ntags, &r, err, errlen);
	if (ret < 0)
		return ret;
	ret = issue(n, &r, now_unix);
	if (ret < 0) {
		say(err, errlen, "cannot issue a record for `%s': %s", r.hostname, strerror(-ret));
		return ret;
	}
	if (out)
		*out = r;
	return 0;
}

/* --- invites --------------------------------------------------------------- */

static bool expired(const struct invite_slot *s, uint64_t now_unix)
{
	return s->expires != 0 && now_unix >= s->expires;
}

static bool spent(const struct invite_slot *s, uint64_t now_unix)
{
	return s->used && !s->reusable;
}

static size_t find_invite(const struct network *n, const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < n->ninvites; i++)
		if (sodium_memcmp(n->invites[i].secret_hash, hash, 32) == 0)
			break;
	return i;
}

/* The oldest slot for which dead() holds, or ninvites if none does. */
static size_t oldest(const struct network *n, bool (*dead)(const struct invite_slot *, uint64_t),
		     uint64_t now_unix)
{
	size_t best = n->ninvites;

	for (size_t i = 0; i < n->ninvites; i++) {
		if (!dead(&n->invites[i], now_unix))
			continue;
		if (best == n->ninvites || n->invites[i].created < n->invites[best].created)
			best = i;
	}
	return best;
}

static void remove_invite(struct network *n, size_t i)
{
	memmove(&n->invites[i], &n->invites[i + 1], (n->ninvites - i - 1) * sizeof(*n->invites));
	n->ninvites--;
}

static int make_room(struct network *n, uint64_t now_unix)
{
	while (n->ninvites >= INVITES_MAX) {
		size_t i = oldest(n, expired, now_unix);

		if (i == n->ninvites)
			i = oldest(n, spent, now_unix);
		if (i == n->ninvites)
			return -ENOSPC;
		remove_invite(n, i);
	}
	if (n->ninvites == n->invites_cap) {
		struct invite_slot *p = grow(n->invites, &n->invites_cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		n->invites = p;
	}
	return 0;
}

int network_invite_add(struct network *n, const uint8_t secret[INVITE_SECRET_LEN],
		       uint64_t now_unix, uint64_t expires, bool reusable)
{
	struct invite_slot s;
	int ret;

	if (!n->owner)
		return -EPERM;
	memset(&s, 0, sizeof(s));
	invite_secret_hash(secret, s.secret_hash);
	if (find_invite(n, s.secret_hash) < n->ninvites)
		return -EEXIST;
	ret = make_room(n, now_unix);
	if (ret < 0)
		return ret;
	s.created = now_unix;
	s.expires = expires;
	s.reusable = reusable;
	n->invites[n->ninvites++] = s;
	return 0;
}

static int check_invite(struct invite_slot *s, const uint8_t joiner_x25519[32], uint64_t now_unix)
{
	if (expired(s, now_unix))
		return -ETIMEDOUT;
	if (s->used && !s->reusable)
		return memcmp(s->used_by, joiner_x25519, 32) == 0 ? 0 : -EALREADY;
	if (!s->used) {
		s->used = true;
		memcpy(s->used_by, joiner_x25519, 32);
	}
	return 0;
}

int network_invite_use(struct network *n, const uint8_t secret[INVITE_SECRET_LEN],
		       const uint8_t joiner_x25519[32], uint64_t now_unix)
{
	uint8_t hash[32];
	size_t i, kept = 0;
	int ret = -ENOENT;

	invite_secret_hash(secret, hash);
	i = find_invite(n, hash);
	if (i < n->ninvites)
		ret = check_invite(&n->invites[i], joiner_x25519, now_unix);
	for (i = 0; i < n->ninvites; i++)
		if (!expired(&n->invites[i], now_unix))
			n->invites[kept++] = n->invites[i];
	n->ninvites = kept;
	return ret;
}
