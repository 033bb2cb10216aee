/* mesh/network.c and mesh/network_file.c: the owner's records (create,
 * admit, revoke, IPv4 index choice), merging on a member's copy, the
 * digest, invites, and the state file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "mesh/address.h"
#include "mesh/announce.h"
#include "mesh/identity.h"
#include "mesh/invite.h"
#include "mesh/member.h"
#include "mesh/network.h"

/* A fixed clock later than the real one (2096), so versions are NOW × 10^6. */
#define NOW 4000000000u
#define V(t) ((uint64_t)(t)*1000000u)

struct fixture {
	struct identity *alice, *bob, *carol, *dave;
	struct network *home; /* owned by alice, who is its only member */
	char dir[64];
	char file[128];
};

static struct identity *node(uint8_t tag)
{
	struct identity *id = NULL;
	uint8_t seed[KEY_LEN];

	memset(seed, tag, sizeof(seed));
	assert_int_equal(identity_from_seed(seed, &id), 0);
	return id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->alice = node('a');
	f->bob = node('b');
	f->carol = node('c');
	f->dave = node('d');
	if (network_create("home", "alice", f->alice->x_pk, f->alice->ed_pk, f->alice->v4_index,
			   &f->home) != 0)
		return -1;
	strcpy(f->dir, "/tmp/manta-test-network.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->file, sizeof(f->file), "%s/home.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	network_free(f->home);
	identity_destroy(f->alice);
	identity_destroy(f->bob);
	identity_destroy(f->carol);
	identity_destroy(f->dave);
	free(f);
	return 0;
}

static struct member_record admit(struct network *n, const struct identity *id, const char *host,
				  uint64_t now)
{
	struct member_record r;
	char err[256] = "";

	if (network_admit(n, id->x_pk, id->ed_pk, host, id->v4_index, now, &r, err, sizeof(err)))
		fail_msg("admitting %s: %s", host, err);
	return r;
}

static void v4_of(const struct member_record *r, uint8_t a[4])
{
	address_v4_from_key_index(r->x25519_pk, r->v4_index, a);
}

/* Through the wire form and back, as a member receives a record. */
static struct member_record wire(const struct member_record *r)
{
	uint8_t buf[MEMBER_RECORD_MAX];
	struct member_record back;
	char err[128];
	size_t len = member_record_encode(r, buf, sizeof(buf));

	assert_true(len > 0);
	if (member_record_decode(buf, len, &back, err, sizeof(err)) != 0)
		fail_msg("record does not decode: %s", err);
	return back;
}

static void assert_records_equal(const struct member_record *a, const struct member_record *b)
{
	uint8_t ea[MEMBER_RECORD_MAX], eb[MEMBER_RECORD_MAX];
	size_t la = member_record_encode(a, ea, sizeof(ea));
	size_t lb = member_record_encode(b, eb, sizeof(eb));

	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(ea, eb, la);
}

static struct announce announcement(const struct identity *id, uint64_t seq, uint8_t last_octet)
{
	struct announce a, back;
	uint8_t buf[ANNOUNCE_MAX];
	char addr[32], err[128];
	size_t len;

	memset(&a, 0, sizeof(a));
	a.seq = seq;
	a.nendpoints = 1;
	a.endpoints[0].sin6_family = AF_INET6;
	a.endpoints[0].sin6_port = htons(51820);
	snprintf(addr, sizeof(addr), "::ffff:192.0.2.%u", last_octet);
	assert_int_equal(inet_pton(AF_INET6, addr, &a.endpoints[0].sin6_addr), 1);
	announce_sign(&a, id->ed_sk);
	len = announce_encode(&a, buf, sizeof(buf));
	assert_true(len > 0);
	if (announce_decode(buf, len, &back, err, sizeof(err)) != 0)
		fail_msg("announcement does not decode: %s", err);
	return back;
}

/* A member's copy of n: the empty network, then every record of n merged
 * (from its wire form) in the given order of indexes. */
static struct network *copy_of(const struct network *n, const size_t *order)
{
	struct network *m = network_new(n->label, n->pk);

	assert_non_null(m);
	for (size_t i = 0; i < n->nmembers; i++) {
		struct member_record r = wire(&n->members[order ? order[i] : i]);

		assert_int_equal(network_merge_record(m, &r), 1);
	}
	return m;
}

/* --- create and admit ------------------------------------------------------ */

static void test_create(void **state)
{
	struct fixture *f = *state;
	const struct network *n = f->home;
	const struct member_record *m;
	struct member_record back;
	uint8_t pk[32];
	struct network *bad = NULL;

	assert_true(n->owner);
	assert_string_equal(n->label, "home");
	assert_string_equal(n->hostname, "alice");
	assert_int_equal(crypto_sign_ed25519_sk_to_pk(pk, n->sk), 0);
	assert_memory_equal(pk, n->pk, 32);
	assert_int_equal(n->nmembers, 1);
	m = network_member(n, f->alice->x_pk);
	assert_non_null(m);
	assert_int_equal(m->flags, MEMBER_FLAG_OWNER);
	assert_string_equal(m->hostname, "alice");
	assert_int_equal(m->v4_index, f->alice->v4_index);
	assert_memory_equal(m->network_pk, n->pk, 32);
	assert_true(member_record_keys_bound(m));
	/* the signature verifies (decode checks it) */
	back = wire(m);
	assert_int_equal(back.version, m->version);
	assert_int_equal(n->last_version, m->version);
	assert_true(m->version >= V(time(NULL) - 5));
	assert_true(network_has_member(n, f->alice->x_pk));
	assert_ptr_equal(network_member_by_host(n, "alice"), m);

	assert_int_equal(network_create("Home", "alice", f->alice->x_pk, f->alice->ed_pk, 0, &bad),
			 -EINVAL);
	assert_int_equal(network_create("home", "-alice", f->alice->x_pk, f->alice->ed_pk, 0, &bad),
			 -EINVAL);
	assert_null(bad);
}

static void test_admit_two(void **state)
{
	struct fixture *f = *state;
	struct member_record b = admit(f->home, f->bob, "bob", NOW);
	struct member_record c = admit(f->home, f->carol, "carol", NOW + 1);
	const struct member_record *a = network_member(f->home, f->alice->x_pk);
	uint8_t va[4], vb[4], vc[4];

	assert_int_equal(f->home->nmembers, 3);
	assert_int_equal(b.flags, 0);
	assert_int_equal(b.version, V(NOW));
	assert_int_equal(c.version, V(NOW + 1));
	assert_int_equal(f->home->last_version, V(NOW + 1));
	assert_records_equal(network_member(f->home, f->bob->x_pk), &b);
	assert_records_equal(network_member_by_host(f->home, "carol"), &c);
	assert_string_not_equal(b.hostname, c.hostname);
	v4_of(a, va);
	v4_of(&b, vb);
	v4_of(&c, vc);
	assert_memory_not_equal(va, vb, 4);
	assert_memory_not_equal(va, vc, 4);
	assert_memory_not_equal(vb, vc, 4);
	assert_true(address_v4_in_overlay(vb) && !address_v4_reserved(vb));
	assert_true(member_record_keys_bound(&b));
	(void)wire(&b);
	/* sorted by key */
	for (size_t i = 1; i < f->home->nmembers; i++)
		assert_true(memcmp(f->home->members[i - 1].x25519_pk, f->home->members[i].x25519_pk,
				   32) < 0);
}

static void test_admit_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t zero[32] = { 0 };
	struct network *m;
	char err[256] = "";
	struct member_record r, b;

	b = admit(f->home, f->bob, "bob", NOW);
	assert_int_equal(network_admit(f->home, f->dave->x_pk, f->dave->ed_pk, "bob", 0, NOW, &r,
				       err, sizeof(err)),
			 -EEXIST);
	assert_string_equal(err, "hostname `bob' is taken in network `home'");
	assert_int_equal(network_admit(f->home, f->dave->x_pk, f->dave->ed_pk, "Bob_1", 0, NOW, &r,
				       err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "`Bob_1'"));
	/* an ed25519 key that is not this x25519 key's */
	assert_int_equal(network_admit(f->home, f->dave->x_pk, f->carol->ed_pk, "dave", 0, NOW, &r,
				       err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(f->home->nmembers, 2);
	/* a stock WireGuard leaf has no ed25519 key */
	assert_int_equal(network_admit(f->home, f->dave->x_pk, zero, "phone", 0, NOW, &r, err,
				       sizeof(err)),
			 0);
	assert_false(member_record_keys_bound(&r));

	/* only the owner admits */
	m = copy_of(f->home, NULL);
	assert_int_equal(network_admit(m, f->carol->x_pk, f->carol->ed_pk, "carol", 0, NOW, &r, err,
				       sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "home"));
	network_free(m);

	/* bob renamed: same address, new version; his old name is free again */
	r = admit(f->home, f->bob, "robert", NOW - 100);
	assert_int_equal(r.v4_index, b.v4_index);
	assert_true(r.version > b.version);
	assert_null(network_member_by_host(f->home, "bob"));
	(void)admit(f->home, f->carol, "bob", NOW);
}

/* The owner's versions go up even when its clock steps back. */
static void test_versions_monotonic(void **state)
{
	struct fixture *f = *state;
	struct member_record b1, b2, c, rev;

	b1 = admit(f->home, f->bob, "bob", NOW);
	b2 = admit(f->home, f->bob, "bob", NOW - 3600);
	c = admit(f->home, f->carol, "carol", 1);
	assert_int_equal(b1.version, V(NOW));
	assert_int_equal(b2.version, V(NOW) + 1);
	assert_int_equal(c.version, V(NOW) + 2);
	assert_int_equal(network_revoke(f->home, f->carol->x_pk, 0, &rev), 0);
	assert_int_equal(rev.version, V(NOW) + 3);
	assert_int_equal(f->home->last_version, V(NOW) + 3);
	b1 = admit(f->home, f->bob, "bob", NOW + 10);
	assert_int_equal(b1.version, V(NOW + 10));
}

/* Finds a pair of indexes under which two keys derive the same IPv4
 * address (a birthday search over 2 × 8192 addresses in a 22-bit space:
 * about 16 pairs expected), both usable. */
struct slot {
	uint32_t addr, index;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void addresses(const uint8_t pk[32], struct slot *s, size_t n)
{
	uint8_t a[4];

	for (size_t i = 0; i < n; i++) {
		address_v4_from_key_index(pk, (uint32_t)i, a);
		s[i].addr = address_v4_reserved(a) ?
				    0 :
				    (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
		s[i].index = (uint32_t)i;
	}
	qsort(s, n, sizeof(*s), slot_cmp);
}

static bool find_clash(const uint8_t a[32], const uint8_t b[32], uint32_t *ia, uint32_t *ib)
{
	enum { N = 8192 };
	struct slot *sa = calloc(N, sizeof(*sa)), *sb = calloc(N, sizeof(*sb));
	size_t i = 0, j = 0;
	bool found = false;

	assert_non_null(sa);
	assert_non_null(sb);
	addresses(a, sa, N);
	addresses(b, sb, N);
	while (!found && i < N && j < N) {
		if (sa[i].addr < sb[j].addr || !sa[i].addr)
			i++;
		else if (sa[i].addr > sb[j].addr || !sb[j].addr)
			j++;
		else
			found = true;
	}
	if (found) {
		*ia = sa[i].index;
		*ib = sb[j].index;
	}
	free(sa);
	free(sb);
	return found;
}

/* A member whose wanted index gives another member's address gets the next
 * usable one. A revoked member holds no address, and a member admitted
 * again keeps its index unless that now clashes. */
static void test_v4_clash(void **state)
{
	struct fixture *f = *state;
	struct member_record b, c;
	struct network *lab = NULL;
	uint32_t ib = 0, ic = 0;
	uint8_t vb[4], vc[4];
	char err[256];

	assert_true(find_clash(f->bob->x_pk, f->carol->x_pk, &ib, &ic));
	address_v4_from_key_index(f->bob->x_pk, ib, vb);
	address_v4_from_key_index(f->carol->x_pk, ic, vc);
	assert_memory_equal(vb, vc, 4);

	assert_int_equal(network_admit(f->home, f->bob->x_pk, f->bob->ed_pk, "bob", ib, NOW, &b,
				       err, sizeof(err)),
			 0);
	assert_int_equal(b.v4_index, ib);
	assert_int_equal(network_admit(f->home, f->carol->x_pk, f->carol->ed_pk, "carol", ic, NOW,
				       &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.v4_index, address_v4_next_index(f->carol->x_pk, ic + 1));
	v4_of(&c, vc);
	assert_memory_not_equal(vb, vc, 4);

	/* The other way round: carol first at ic, revoked; bob then gets ib;
	 * carol back finds her index taken and moves on. */
	assert_int_equal(network_create("lab", "alice", f->alice->x_pk, f->alice->ed_pk,
					f->alice->v4_index, &lab),
			 0);
	assert_int_equal(network_admit(lab, f->carol->x_pk, f->carol->ed_pk, "carol", ic, NOW, &c,
				       err, sizeof(err)),
			 0);
	assert_int_equal(c.v4_index, ic);
	assert_int_equal(network_revoke(lab, f->carol->x_pk, NOW, NULL), 0);
	assert_int_equal(network_admit(lab, f->bob->x_pk, f->bob->ed_pk, "bob", ib, NOW, &b, err,
				       sizeof(err)),
			 0);
	assert_int_equal(b.v4_index, ib);
	c = admit(lab, f->carol, "carol", NOW);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.v4_index, address_v4_next_index(f->carol->x_pk, ic + 1));
	/* bob admitted again keeps his */
	b = admit(lab, f->bob, "bob", NOW);
	assert_int_equal(b.v4_index, ib);
	network_free(lab);
}

/* --- revoke and merge ------------------------------------------------------ */

static void test_revoke_merge(void **state)
{
	struct fixture *f = *state;
	struct member_record old_bob, rev, rev2, r;
	const struct member_record *m;
	struct network *copy;

	old_bob = admit(f->home, f->bob, "bob", NOW);
	(void)admit(f->home, f->carol, "carol", NOW);
	assert_int_equal(network_revoke(f->home, f->bob->x_pk, NOW + 1, &rev), 0);
	assert_int_equal(rev.flags, MEMBER_FLAG_REVOKED);
	assert_string_equal(rev.hostname, "bob");
	assert_int_equal(rev.v4_index, old_bob.v4_index);
	assert_true(rev.version > old_bob.version);
	(void)wire(&rev);
	/* revoking again issues nothing new */
	assert_int_equal(network_revoke(f->home, f->bob->x_pk, NOW + 2, &rev2), 0);
	assert_int_equal(rev2.version, rev.version);
	assert_int_equal(network_revoke(f->home, f->dave->x_pk, NOW, NULL), -ENOENT);
	assert_int_equal(network_revoke(f->home, f->alice->x_pk, NOW, NULL), -EPERM);
	assert_false(network_has_member(f->home, f->bob->x_pk));
	assert_null(network_member_by_host(f->home, "bob"));

	copy = copy_of(f->home, NULL);
	assert_int_equal(copy->nmembers, 3);
	assert_false(copy->owner);
	m = network_member(copy, f->bob->x_pk);
	assert_non_null(m);
	assert_true(m->flags & MEMBER_FLAG_REVOKED);
	assert_false(network_has_member(copy, f->bob->x_pk));
	assert_true(network_has_member(copy, f->carol->x_pk));
	/* the older, valid record does not come back */
	r = wire(&old_bob);
	assert_int_equal(network_merge_record(copy, &r), 0);
	assert_false(network_has_member(copy, f->bob->x_pk));
	/* the same record twice changes nothing */
	r = wire(&rev);
	assert_int_equal(network_merge_record(copy, &r), 0);
	/* a member does not revoke */
	assert_int_equal(network_revoke(copy, f->carol->x_pk, NOW, NULL), -EPERM);
	network_free(copy);
}

static void test_merge_other_network(void **state)
{
	struct fixture *f = *state;
	struct network *work = NULL;
	struct member_record r;

	assert_int_equal(network_create("work", "bob", f->bob->x_pk, f->bob->ed_pk,
					f->bob->v4_index, &work),
			 0);
	r = wire(&work->members[0]);
	assert_int_equal(network_merge_record(f->home, &r), -EINVAL);
	assert_int_equal(f->home->nmembers, 1);
	assert_false(network_has_member(f->home, f->bob->x_pk));
	network_free(work);
}

/* --- announcements --------------------------------------------------------- */

static void test_announce(void **state)
{
	struct fixture *f = *state;
	struct announce a;

	(void)admit(f->home, f->bob, "bob", NOW);
	(void)admit(f->home, f->carol, "carol", NOW);
	a = announcement(f->bob, 1, 1);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	assert_int_equal(network_merge_announce(f->home, &a), 0);
	a = announcement(f->bob, 3, 3);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	a = announcement(f->bob, 2, 2);
	assert_int_equal(network_merge_announce(f->home, &a), 0);
	assert_int_equal(network_announce(f->home, f->bob->x_pk)->seq, 3);
	assert_int_equal(f->home->nannounces, 1);

	/* from a non-member */
	a = announcement(f->dave, 1, 4);
	assert_int_equal(network_merge_announce(f->home, &a), -EPERM);
	assert_null(network_announce(f->home, f->dave->x_pk));
	/* from a revoked member */
	assert_int_equal(network_revoke(f->home, f->carol->x_pk, NOW, NULL), 0);
	a = announcement(f->carol, 1, 5);
	assert_int_equal(network_merge_announce(f->home, &a), -EPERM);
	/* revoking bob drops the announcement he had */
	assert_int_equal(network_revoke(f->home, f->bob->x_pk, NOW, NULL), 0);
	assert_null(network_announce(f->home, f->bob->x_pk));
	assert_int_equal(f->home->nannounces, 0);
}

/* A member admitted without an ed25519 key (a WireGuard leaf) cannot
 * announce, even with a key that derives its x25519 key. */
static void test_announce_needs_bound_key(void **state)
{
	struct fixture *f = *state;
	uint8_t zero[32] = { 0 };
	struct announce a;
	char err[128];

	assert_int_equal(network_admit(f->home, f->dave->x_pk, zero, "phone", 0, NOW, NULL, err,
				       sizeof(err)),
			 0);
	a = announcement(f->dave, 1, 1);
	assert_int_equal(network_merge_announce(f->home, &a), -EPERM);
}

/* --- digest ---------------------------------------------------------------- */

static void test_digest(void **state)
{
	static const size_t reverse[] = { 2, 1, 0 };
	struct fixture *f = *state;
	uint8_t d0[NETWORK_DIGEST_LEN], d1[NETWORK_DIGEST_LEN], d2[NETWORK_DIGEST_LEN];
	struct network *m1, *m2, *empty;
	struct announce b1, b2, c1, c5;
	struct member_record rev;

	(void)admit(f->home, f->bob, "bob", NOW);
	(void)admit(f->home, f->carol, "carol", NOW);
	b1 = announcement(f->bob, 1, 1);
	b2 = announcement(f->bob, 2, 2);
	c1 = announcement(f->carol, 1, 3);
	c5 = announcement(f->carol, 5, 4);

	m1 = copy_of(f->home, NULL);
	m2 = copy_of(f->home, reverse);
	assert_int_equal(network_merge_announce(m1, &b2), 1);
	assert_int_equal(network_merge_announce(m1, &c1), 1);
	assert_int_equal(network_merge_announce(m2, &c1), 1);
	assert_int_equal(network_merge_announce(m2, &b1), 1);
	assert_int_equal(network_merge_announce(m2, &b2), 1);
	network_digest(m1, d1);
	network_digest(m2, d2);
	assert_memory_equal(d1, d2, sizeof(d1));
	assert_int_equal(network_merge_announce(f->home, &c1), 1);
	assert_int_equal(network_merge_announce(f->home, &b2), 1);
	network_digest(f->home, d0);
	assert_memory_equal(d0, d1, sizeof(d0));

	/* one newer announcement: different, until the other has it too */
	assert_int_equal(network_merge_announce(m2, &c5), 1);
	network_digest(m2, d2);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	assert_int_equal(network_merge_announce(m1, &c5), 1);
	network_digest(m1, d1);
	assert_memory_equal(d1, d2, sizeof(d1));

	/* one newer record: different, until the other has it too. m1 drops
	 * bob's announcement with the revocation, and m2 never sees it
	 * again: still the same knowledge. */
	assert_int_equal(network_revoke(f->home, f->bob->x_pk, NOW + 1, &rev), 0);
	rev = wire(&rev);
	assert_int_equal(network_merge_record(m1, &rev), 1);
	network_digest(m1, d1);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	assert_int_equal(network_merge_record(m2, &rev), 1);
	network_digest(m2, d2);
	assert_memory_equal(d1, d2, sizeof(d1));

	empty = network_new("home", f->home->pk);
	network_digest(empty, d0);
	assert_memory_not_equal(d0, d1, sizeof(d0));
	network_free(empty);
	network_free(m1);
	network_free(m2);
}

/* The digest is exactly what the header says: BLAKE2b-128 over each
 * record's x25519 || le64 version in key order, a 0xff byte, then each
 * announcement's x25519 || le64 seq. Other implementations must agree. */
static void test_digest_definition(void **state)
{
	struct fixture *f = *state;
	const struct network *n = f->home;
	uint8_t want[NETWORK_DIGEST_LEN], got[NETWORK_DIGEST_LEN];
	uint8_t buf[3 * 40 + 1 + 2 * 40], *p = buf;
	struct announce a;

	(void)admit(f->home, f->bob, "bob", NOW);
	(void)admit(f->home, f->carol, "carol", NOW);
	a = announcement(f->carol, 9, 1);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	a = announcement(f->alice, 2, 1);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	assert_int_equal(n->nmembers, 3);
	assert_int_equal(n->nannounces, 2);
	for (size_t i = 0; i < 3; i++, p += 40) {
		memcpy(p, n->members[i].x25519_pk, 32);
		put_le64(p + 32, n->members[i].version);
	}
	*p++ = 0xff;
	for (size_t i = 0; i < 2; i++, p += 40) {
		memcpy(p, n->announces[i].x25519_pk, 32);
		put_le64(p + 32, n->announces[i].seq);
	}
	assert_true(memcmp(n->announces[0].x25519_pk, n->announces[1].x25519_pk, 32) < 0);
	crypto_generichash(want, sizeof(want), buf, sizeof(buf), NULL, 0);
	network_digest(n, got);
	assert_memory_equal(got, want, sizeof(want));
}

/* --- invites --------------------------------------------------------------- */

static void secret_of(uint32_t i, uint8_t s[INVITE_SECRET_LEN])
{
	memset(s, 0x5a, INVITE_SECRET_LEN);
	put_le32(s, i);
}

static void test_invites(void **state)
{
	struct fixture *f = *state;
	struct network *n = f->home, *copy;
	uint8_t s1[16], s2[16], s3[16], s4[16], unknown[16];
	const uint8_t *bob = f->bob->x_pk, *carol = f->carol->x_pk, *dave = f->dave->x_pk;

	secret_of(1, s1);
	secret_of(2, s2);
	secret_of(3, s3);
	secret_of(4, s4);
	secret_of(99, unknown);
	assert_int_equal(network_invite_add(n, s1, NOW, NOW + 3600, false), 0);
	assert_int_equal(network_invite_add(n, s2, NOW, 0, true), 0);
	assert_int_equal(network_invite_add(n, s3, NOW, NOW + 10, false), 0);
	assert_int_equal(network_invite_add(n, s4, NOW, NOW + 10, true), 0);
	assert_int_equal(network_invite_add(n, s1, NOW, 0, false), -EEXIST);
	assert_int_equal(n->ninvites, 4);

	assert_int_equal(network_invite_use(n, unknown, bob, NOW), -ENOENT);
	/* single use: the first key, again (a retry), then another key */
	assert_int_equal(network_invite_use(n, s1, bob, NOW), 0);
	assert_int_equal(network_invite_use(n, s1, bob, NOW + 1), 0);
	assert_int_equal(network_invite_use(n, s1, carol, NOW + 1), -EALREADY);
	/* reusable: anyone, and the first joiner is remembered */
	assert_int_equal(network_invite_use(n, s2, carol, NOW), 0);
	assert_int_equal(network_invite_use(n, s2, bob, NOW), 0);
	assert_int_equal(network_invite_use(n, s2, dave, NOW), 0);
	assert_memory_equal(n->invites[1].used_by, carol, 32);
	assert_true(n->invites[1].used);
	/* expired at exactly `expires`, then dropped: unknown */
	assert_int_equal(network_invite_use(n, s3, bob, NOW + 10), -ETIMEDOUT);
	assert_int_equal(network_invite_use(n, s3, bob, NOW + 10), -ENOENT);
	assert_int_equal(network_invite_use(n, s4, bob, NOW + 10), -ENOENT);
	assert_int_equal(n->ninvites, 2);

	copy = copy_of(n, NULL);
	assert_int_equal(network_invite_add(copy, s3, NOW, 0, false), -EPERM);
	assert_int_equal(network_invite_use(copy, s2, bob, NOW), -ENOENT);
	network_free(copy);
}

/* At most 256 slots: an add evicts the oldest expired slot, then the
 * oldest used single-use one, else fails. */
static void test_invite_limit(void **state)
{
	struct fixture *f = *state;
	struct network *n = f->home;
	uint8_t s[16];

	secret_of(0, s);
	assert_int_equal(network_invite_add(n, s, NOW, 0, false), 0);
	assert_int_equal(network_invite_use(n, s, f->bob->x_pk, NOW), 0);
	secret_of(1, s);
	assert_int_equal(network_invite_add(n, s, NOW + 1, NOW + 100, false), 0);
	for (uint32_t i = 2; i < 256; i++) {
		secret_of(i, s);
		assert_int_equal(network_invite_add(n, s, NOW + i, 0, i % 2), 0);
	}
	assert_int_equal(n->ninvites, 256);
	/* the expired one goes first, although the spent one is older */
	secret_of(1000, s);
	assert_int_equal(network_invite_add(n, s, NOW + 200, 0, false), 0);
	assert_int_equal(n->ninvites, 256);
	assert_int_equal(n->invites[0].created, NOW);
	assert_int_equal(n->invites[1].created, NOW + 2);
	/* then the spent one */
	secret_of(1001, s);
	assert_int_equal(network_invite_add(n, s, NOW + 201, 0, false), 0);
	secret_of(0, s);
	assert_int_equal(network_invite_use(n, s, f->bob->x_pk, NOW + 201), -ENOENT);
	/* then nothing: all are live */
	secret_of(1002, s);
	assert_int_equal(network_invite_add(n, s, NOW + 202, 0, false), -ENOSPC);
	assert_int_equal(n->ninvites, 256);
}

/* --- the state file -------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void assert_networks_equal(const struct network *a, const struct network *b)
{
	assert_string_equal(a->label, b->label);
	assert_memory_equal(a->pk, b->pk, NETWORK_KEY_LEN);
	assert_memory_equal(a->sk, b->sk, NETWORK_SECRET_LEN);
	assert_int_equal(a->owner, b->owner);
	assert_string_equal(a->hostname, b->hostname);
	assert_int_equal(a->last_version, b->last_version);
	assert_int_equal(a->nmembers, b->nmembers);
	for (size_t i = 0; i < a->nmembers; i++)
		assert_records_equal(&a->members[i], &b->members[i]);
	assert_int_equal(a->nannounces, b->nannounces);
	for (size_t i = 0; i < a->nannounces; i++) {
		uint8_t ea[ANNOUNCE_MAX], eb[ANNOUNCE_MAX];
		size_t la = announce_encode(&a->announces[i], ea, sizeof(ea));

		assert_int_equal(la, announce_encode(&b->announces[i], eb, sizeof(eb)));
		assert_memory_equal(ea, eb, la);
	}
	assert_int_equal(a->ninvites, b->ninvites);
	for (size_t i = 0; i < a->ninvites; i++) {
		const struct invite_slot *x = &a->invites[i], *y = &b->invites[i];

		assert_memory_equal(x->secret_hash, y->secret_hash, 32);
		assert_int_equal(x->created, y->created);
		assert_int_equal(x->expires, y->expires);
		assert_int_equal(x->reusable, y->reusable);
		assert_int_equal(x->used, y->used);
		assert_memory_equal(x->used_by, y->used_by, 32);
	}
}

/* home with two members (one revoked), an announcement and three
 * invites, one of them used. */
static void populate(struct fixture *f)
{
	struct announce a;
	uint8_t s[16];

	(void)admit(f->home, f->bob, "bob", NOW);
	(void)admit(f->home, f->carol, "carol", NOW);
	assert_int_equal(network_revoke(f->home, f->carol->x_pk, NOW, NULL), 0);
	a = announcement(f->bob, 7, 7);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	a = announcement(f->alice, 1, 1);
	assert_int_equal(network_merge_announce(f->home, &a), 1);
	for (uint32_t i = 0; i < 3; i++) {
		secret_of(i, s);
		assert_int_equal(network_invite_add(f->home, s, NOW, i ? NOW + 600 : 0, i == 2), 0);
	}
	secret_of(1, s);
	assert_int_equal(network_invite_use(f->home, s, f->bob->x_pk, NOW), 0);
}

static void test_save_load(void **state)
{
	struct fixture *f = *state;
	struct network *back = NULL, *member = NULL;
	char err[512] = "", again[160];
	char *text1, *text2;
	size_t len1, len2;
	struct stat st;

	populate(f);
	/* a file that was there with a looser mode is replaced at 0600 */
	spit(f->file, "{}");
	assert_int_equal(chmod(f->file, 0644), 0);
	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(network_load(f->file, &back, err, sizeof(err)), 0);
	assert_networks_equal(f->home, back);
	/* saving what was loaded gives the same bytes */
	snprintf(again, sizeof(again), "%s/again.json", f->dir);
	assert_int_equal(network_save(back, again, err, sizeof(err)), 0);
	text1 = slurp(f->file, &len1);
	text2 = slurp(again, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(text1, text2, len1);
	assert_non_null(strstr(text1, "\"network_secret\""));
	free(text1);
	free(text2);
	network_free(back);

	/* a member's file: no secret */
	member = copy_of(f->home, NULL);
	snprintf(member->hostname, sizeof(member->hostname), "bob");
	assert_int_equal(network_save(member, again, err, sizeof(err)), 0);
	text2 = slurp(again, &len2);
	assert_null(strstr(text2, "network_secret"));
	free(text2);
	assert_int_equal(network_load(again, &back, err, sizeof(err)), 0);
	assert_false(back->owner);
	assert_true(sodium_is_zero(back->sk, sizeof(back->sk)));
	assert_networks_equal(member, back);
	network_free(back);
	network_free(member);
}

/* An owner restored from an old file learns its newer records back from a
 * member, and then issues versions above them. */
static void test_old_backup(void **state)
{
	struct fixture *f = *state;
	struct network *restored = NULL;
	struct member_record b, r;
	char err[256];

	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	b = admit(f->home, f->bob, "bob", NOW + 100);
	assert_int_equal(network_load(f->file, &restored, err, sizeof(err)), 0);
	r = wire(&b);
	assert_int_equal(network_merge_record(restored, &r), 1);
	assert_int_equal(restored->last_version, b.version);
	r = admit(restored, f->bob, "bob", NOW);
	assert_true(r.version > b.version);
	network_free(restored);
}

/* --- files that do not load ------------------------------------------------ */

/* Replaces one character of a base64 string with another valid one. */
static void flip_b64(json_t *s, size_t at)
{
	char *copy = strdup(json_string_value(s));

	assert_non_null(copy);
	assert_true(at < strlen(copy));
	copy[at] = copy[at] == 'A' ? 'B' : 'A';
	assert_int_equal(json_string_set(s, copy), 0);
	free(copy);
}

static void tamper_member(json_t *root)
{
	/* byte 45: inside the x25519 key, covered by the signature */
	flip_b64(json_array_get(json_object_get(root, "members"), 1), 60);
}

static void tamper_announce(json_t *root)
{
	flip_b64(json_array_get(json_object_get(root, "announces"), 0), 80);
}

static void foreign_member(json_t *root)
{
	struct network *work = NULL;
	uint8_t buf[MEMBER_RECORD_MAX];
	char b64[512];
	size_t len;
	uint8_t x[32], ed[32];

	randombytes_buf(x, sizeof(x));
	memset(ed, 0, sizeof(ed));
	assert_int_equal(network_create("work", "eve", x, ed, 0, &work), 0);
	len = member_record_encode(&work->members[0], buf, sizeof(buf));
	sodium_bin2base64(b64, sizeof(b64), buf, len, sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(json_array_set_new(json_object_get(root, "members"), 0, json_string(b64)),
			 0);
	network_free(work);
}

static void other_secret(json_t *root)
{
	uint8_t pk[32], sk[64];
	char b64[128];

	crypto_sign_keypair(pk, sk);
	sodium_bin2base64(b64, sizeof(b64), sk, sizeof(sk), sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(root, "network_secret", json_string(b64));
}

/* Flips one bit of the secret at byte at. */
static void flip_secret(json_t *root, size_t at)
{
	uint8_t sk[64];
	size_t len;
	char b64[128];
	const char *s = json_string_value(json_object_get(root, "network_secret"));

	assert_int_equal(sodium_base642bin(sk, sizeof(sk), s, strlen(s), NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	sk[at] ^= 1;
	sodium_bin2base64(b64, sizeof(b64), sk, sizeof(sk), sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(root, "network_secret", json_string(b64));
}

/* The right public half, but a seed that is not its: what comparing only
 * the public half would accept. */
static void wrong_seed(json_t *root)
{
	flip_secret(root, 0);
}

/* The right seed, but a public half that is not its. */
static void wrong_public_half(json_t *root)
{
	flip_secret(root, 40);
}

static void format_2(json_t *root)
{
	json_object_set_new(root, "format", json_integer(2));
}

static void no_label(json_t *root)
{
	json_object_del(root, "label");
}

static void label_number(json_t *root)
{
	json_object_set_new(root, "label", json_integer(5));
}

static void bad_key(json_t *root)
{
	json_object_set_new(root, "network_key", json_string("not-a-key"));
}

static void bad_used_by(json_t *root)
{
	json_t *inv = json_array_get(json_object_get(root, "invites"), 1);

	json_object_set_new(inv, "used_by", json_string("AAAA"));
}

static void members_object(json_t *root)
{
	json_object_set_new(root, "members", json_object());
}

static void negative_version(json_t *root)
{
	json_object_set_new(root, "last_version", json_integer(-1));
}

static void bad_hostname(json_t *root)
{
	json_object_set_new(root, "hostname", json_string("Alice"));
}

static const struct bad_file {
	void (*mutate)(json_t *root);
	const char *says;
} bad_files[] = {
	/* 0 */ { tamper_member, ": members[1]: member record signature does not verify" },
	/* 1 */ { tamper_announce, ": announces[0]: " },
	/* 2 */ { foreign_member, ": members[0]: a record of another network" },
	/* 3 */ { other_secret, ": \"network_secret\" does not match \"network_key\"" },
	/* 4 */ { wrong_seed, ": \"network_secret\" does not match \"network_key\"" },
	/* 4b */ { wrong_public_half, ": \"network_secret\" does not match \"network_key\"" },
	/* 5 */ { format_2, ": \"format\" is 2" },
	/* 6 */ { no_label, ": \"label\" is missing" },
	/* 7 */ { label_number, ": \"label\" must be a string" },
	/* 8 */ { bad_key, ": \"network_key\" is not a key (44 characters of base64): `not-a-key'" },
	/* 9 */ { bad_used_by, ": invites[1]: \"used_by\" is not a key: `AAAA'" },
	/* 10 */ { members_object, ": \"members\" must be an array" },
	/* 11 */ { negative_version, ": \"last_version\" must be a non-negative integer" },
	/* 12 */ { bad_hostname, ": \"hostname\" is not a valid hostname: `Alice'" },
};

/* Loading path fails, says `says' after the path, and leaves the file as it
 * was. */
static void expect_refused(const char *path, const char *says)
{
	struct network *n = NULL;
	struct stat before, after;
	char err[512] = "", *t1, *t2;
	size_t l1, l2;

	assert_int_equal(stat(path, &before), 0);
	t1 = slurp(path, &l1);
	assert_true(network_load(path, &n, err, sizeof(err)) < 0);
	assert_null(n);
	if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, says))
		fail_msg("message `%s' does not name %s and say `%s'", err, path, says);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	t2 = slurp(path, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
}

static void test_load_refuses(void **state)
{
	struct fixture *f = *state;
	char err[256], bad[160];

	populate(f);
	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	snprintf(bad, sizeof(bad), "%s/bad.json", f->dir);
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		json_error_t jerr;
		json_t *root = json_load_file(f->file, 0, &jerr);

		assert_non_null(root);
		bad_files[i].mutate(root);
		assert_int_equal(json_dump_file(root, bad, JSON_INDENT(2)), 0);
		json_decref(root);
		expect_refused(bad, bad_files[i].says);
	}
}

static void test_load_not_json(void **state)
{
	struct fixture *f = *state;
	struct network *n = NULL;
	char err[256], path[160], *text, *broken;
	size_t len;

	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	/* a stray character at the start of line 3 */
	text = slurp(f->file, &len);
	broken = malloc(len + 2);
	assert_non_null(broken);
	char *nl = strchr(strchr(text, '\n') + 1, '\n') + 1;
	memcpy(broken, text, (size_t)(nl - text));
	broken[nl - text] = '#';
	strcpy(broken + (nl - text) + 1, nl);
	spit(f->file, broken);
	free(text);
	free(broken);
	expect_refused(f->file, ": not JSON: ");
	assert_int_equal(network_load(f->file, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, " at line 3 column "));

	spit(f->file, "");
	expect_refused(f->file, ": not JSON: ");
	spit(f->file, "[1, 2]");
	expect_refused(f->file, ": not a JSON object");
	spit(f->file, "{\"format\": 1, \"format\": 1}");
	expect_refused(f->file, ": not JSON: ");
	spit(f->file, "{\"label\": \"home\"}");
	expect_refused(f->file, ": \"format\" is missing");

	snprintf(path, sizeof(path), "%s/missing.json", f->dir);
	assert_int_equal(network_load(path, &n, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
	assert_int_equal(network_load(f->dir, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(n);
}

static void test_load_too_big(void **state)
{
	struct fixture *f = *state;
	struct network *n = NULL;
	char err[256];
	int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	close(fd);
	assert_int_equal(network_load(f->file, &n, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "16 MiB"));
	assert_null(n);
}

/* A good file is not rewritten by loading it either. */
static void test_load_keeps_file(void **state)
{
	struct fixture *f = *state;
	struct network *n = NULL;
	struct stat before, after;
	char err[256];

	populate(f);
	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	assert_int_equal(stat(f->file, &before), 0);
	assert_int_equal(network_load(f->file, &n, err, sizeof(err)), 0);
	assert_int_equal(stat(f->file, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	network_free(n);
	network_free(NULL);
}

/* --- tags ------------------------------------------------------------------ */

/* The owner sets tags (sorted, deduplicated, checked); the record is a new
 * version a member merges; a rename keeps them; the file keeps them; none
 * clears them; a revoked member admitted again starts without. */
static void test_tags(void **state)
{
	static const char *const want[] = { "web", "db", "web", "ops-1" };
	static const char *const bad[] = { "Web" };
	struct fixture *f = *state;
	struct member_record r, bob = admit(f->home, f->bob, "bob", NOW);
	struct network *member = copy_of(f->home, NULL), *back = NULL;
	const struct member_record *m;
	char err[256] = "";

	assert_int_equal(network_set_tags(f->home, f->bob->x_pk, want, ARRAY_SIZE(want), NOW + 1,
					  &r, err, sizeof(err)),
			 0);
	assert_int_equal(r.ntags, 3);
	assert_string_equal(r.tags[0], "db");
	assert_string_equal(r.tags[1], "ops-1");
	assert_string_equal(r.tags[2], "web");
	assert_true(r.version > bob.version);
	r = wire(&r);
	assert_int_equal(network_merge_record(member, &r), 1);
	m = network_member(member, f->bob->x_pk);
	assert_int_equal(m->ntags, 3);
	assert_string_equal(m->tags[1], "ops-1");
	/* a rename keeps them */
	r = admit(f->home, f->bob, "robert", NOW + 2);
	assert_int_equal(r.ntags, 3);
	assert_string_equal(r.hostname, "robert");
	/* the state file keeps them */
	assert_int_equal(network_save(f->home, f->file, err, sizeof(err)), 0);
	assert_int_equal(network_load(f->file, &back, err, sizeof(err)), 0);
	assert_int_equal(network_member(back, f->bob->x_pk)->ntags, 3);
	network_free(back);
	/* a bad tag is refused and quoted; so are too many; unknown members too */
	assert_int_equal(network_set_tags(f->home, f->bob->x_pk, bad, 1, NOW + 3, &r, err,
					  sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "`Web'"));
	{
		const char *many[MEMBER_TAGS_MAX + 1];
		char names[MEMBER_TAGS_MAX + 1][8];

		for (int i = 0; i <= MEMBER_TAGS_MAX; i++) {
			snprintf(names[i], sizeof(names[i]), "t%d", i);
			many[i] = names[i];
		}
		assert_int_equal(network_set_tags(f->home, f->bob->x_pk, many, ARRAY_SIZE(many),
						  NOW + 3, &r, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "at most 8 tags"));
	}
	assert_int_equal(network_set_tags(f->home, f->carol->x_pk, want, 1, NOW + 3, &r, err,
					  sizeof(err)),
			 -ENOENT);
	/* only the owner */
	assert_int_equal(network_set_tags(member, f->bob->x_pk, want, 1, NOW + 3, &r, err,
					  sizeof(err)),
			 -EPERM);
	/* none clears them */
	assert_int_equal(
		network_set_tags(f->home, f->bob->x_pk, NULL, 0, NOW + 4, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ntags, 0);
	assert_int_equal(
		network_set_tags(f->home, f->bob->x_pk, want, 1, NOW + 5, &r, err, sizeof(err)), 0);
	assert_int_equal(network_revoke(f->home, f->bob->x_pk, NOW + 6, &r), 0);
	r = admit(f->home, f->bob, "bob", NOW + 7);
	assert_int_equal(r.ntags, 0);
	network_free(member);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_admit_two),
		T(test_admit_errors),
		T(test_versions_monotonic),
		T(test_v4_clash),
		T(test_revoke_merge),
		T(test_merge_other_network),
		T(test_announce),
		T(test_announce_needs_bound_key),
		T(test_digest),
		T(test_digest_definition),
		T(test_invites),
		T(test_invite_limit),
		T(test_save_load),
		T(test_old_backup),
		T(test_load_refuses),
		T(test_load_not_json),
		T(test_load_too_big),
		T(test_load_keeps_file),
		T(test_tags),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
