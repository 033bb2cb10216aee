/* The resolver's answers (dns/answer.c over dns/zone.c): numbered vectors
 * of query -> rcode, flags and records; the error paths; truncation; and a
 * randomized differential test of name lookups against a naive table of
 * every name the fixture defines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>

#include "common/bytes.h"
#include "dns/cache.h"
#include "dns_fixture.h"

struct reply {
	ldns_pkt *p;
	enum dns_verdict v;
	struct dns_query q;
};

static struct reply ask(struct dns_fix *f, const char *name, ldns_rr_type t, uint16_t udp)
{
	static uint8_t q[512], out[DNS_TCP_MAX];
	size_t qlen = fix_query(name, t, LDNS_RR_CLASS_IN, udp, q, sizeof(q)), len;
	struct reply r = { 0 };

	r.v = dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &r.q);
	if (r.v == DNS_REPLY)
		assert_int_equal(ldns_wire2pkt(&r.p, out, len), LDNS_STATUS_OK);
	return r;
}

static int setup(void **state)
{
	*state = fix_new();
	return 0;
}

static int teardown(void **state)
{
	fix_free(*state);
	return 0;
}

/* The i-th answer record's rdata as text ("100.64.1.2", "bob.home.pi."). */
static char *rdata(ldns_pkt *p, size_t i)
{
	return ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), i), 0));
}

static void expect_host(struct reply r, ldns_rr_type t, const struct member_record *rec)
{
	uint8_t v6[16], v4[4];
	char want[INET6_ADDRSTRLEN], *got;
	ldns_rr *rr;

	assert_int_equal(r.v, DNS_REPLY);
	assert_int_equal(ldns_pkt_get_rcode(r.p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(r.p));
	assert_true(ldns_pkt_qr(r.p));
	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(r.p), 0);
	assert_int_equal(ldns_rr_get_type(rr), t);
	assert_int_equal(ldns_rr_ttl(rr), 60);
	dns_member_addresses(rec, v6, v4);
	inet_ntop(t == LDNS_RR_TYPE_A ? AF_INET : AF_INET6, t == LDNS_RR_TYPE_A ? (void *)v4 : v6,
		  want, sizeof(want));
	got = rdata(r.p, 0);
	assert_string_equal(got, want);
	free(got);
	ldns_pkt_free(r.p);
}

/* rcode, no answer, the SOA of apex in the authority section. */
static void expect_negative(struct reply r, ldns_pkt_rcode rcode, const char *apex)
{
	char *owner;

	assert_int_equal(r.v, DNS_REPLY);
	assert_int_equal(ldns_pkt_get_rcode(r.p), rcode);
	assert_true(ldns_pkt_aa(r.p));
	assert_int_equal(ldns_pkt_ancount(r.p), 0);
	assert_int_equal(ldns_pkt_nscount(r.p), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(r.p), 0)),
			 LDNS_RR_TYPE_SOA);
	owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_authority(r.p), 0)));
	assert_string_equal(owner, apex);
	free(owner);
	ldns_pkt_free(r.p);
}

/* 1-6: A and AAAA from the member lists, both name forms. */
static void test_hosts(void **state)
{
	struct dns_fix *f = *state;

	expect_host(ask(f, "bob.home.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 0, FIX_BOB)); /* 1 */
	expect_host(ask(f, "bob.home.pi", LDNS_RR_TYPE_AAAA, 1232), LDNS_RR_TYPE_AAAA,
		    fix_rec(f, 0, FIX_BOB)); /* 2 */
	expect_host(ask(f, "alice.work.pi.", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 1, FIX_ALICE)); /* 3: this node itself */
	expect_host(ask(f, "bob.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 0, FIX_BOB)); /* 4: in both networks, one node */
	expect_host(ask(f, "dave.pi", LDNS_RR_TYPE_AAAA, 0), LDNS_RR_TYPE_AAAA,
		    fix_rec(f, 1, FIX_DAVE)); /* 5 */
	expect_host(ask(f, "carol.work.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 1, FIX_CAROL2)); /* 6: the other carol */
}

/* 7: case does not matter, and the answer keeps the query's. */
static void test_case(void **state)
{
	struct dns_fix *f = *state;
	struct reply r = ask(f, "BoB.HoMe.Pi", LDNS_RR_TYPE_A, 0);
	char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(r.p), 0)));

	assert_string_equal(owner, "BoB.HoMe.Pi.");
	free(owner);
	expect_host(r, LDNS_RR_TYPE_A, fix_rec(f, 0, FIX_BOB));
}

/* 8-14: NXDOMAIN and NODATA, with the SOA. */
static void test_negative(void **state)
{
	struct dns_fix *f = *state;

	expect_negative(ask(f, "nobody.home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_negative(ask(f, "carol.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN,
			"pi."); /* 9: two nodes */
	expect_negative(ask(f, "bob.nowhere.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_negative(ask(f, "a.b.c.d.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_negative(ask(f, "bob.home.pi", LDNS_RR_TYPE_MX, 0), LDNS_RCODE_NOERROR,
			"pi."); /* 12: NODATA */
	expect_negative(ask(f, "home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NOERROR,
			"pi."); /* 13: a network: empty non-terminal */
	expect_negative(ask(f, "pi", LDNS_RR_TYPE_MX, 0), LDNS_RCODE_NOERROR, "pi.");
}

/* 15-18: the apex: SOA, NS, and the resolver's own addresses. */
static void test_apex(void **state)
{
	struct dns_fix *f = *state;
	struct reply r = ask(f, "pi", LDNS_RR_TYPE_SOA, 0);
	char *s;

	assert_int_equal(ldns_pkt_ancount(r.p), 1);
	s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(r.p), 0));
	assert_non_null(strstr(s, "pi.\t60\tIN\tSOA\tpi. hostmaster.pi. "));
	assert_non_null(strstr(s, " 3600 600 86400 60"));
	free(s);
	ldns_pkt_free(r.p);
	r = ask(f, "pi", LDNS_RR_TYPE_NS, 0);
	s = rdata(r.p, 0);
	assert_string_equal(s, "pi.");
	free(s);
	ldns_pkt_free(r.p);
	r = ask(f, "pi", LDNS_RR_TYPE_A, 0);
	s = rdata(r.p, 0);
	assert_string_equal(s, "100.100.100.53");
	free(s);
	ldns_pkt_free(r.p);
	r = ask(f, "pi", LDNS_RR_TYPE_AAAA, 0);
	s = rdata(r.p, 0);
	assert_string_equal(s, "200::53");
	free(s);
	ldns_pkt_free(r.p);
}

static char *reverse_name(int family, const uint8_t *a)
{
	ldns_rdf *addr =
		ldns_rdf_new_frm_data(family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
				      family == AF_INET ? 4 : 16, a);
	ldns_rdf *rev = ldns_rdf_address_reverse(addr);
	char *s = ldns_rdf2str(rev);

	ldns_rdf_deep_free(addr);
	ldns_rdf_deep_free(rev);
	return s;
}

/* 19-24: PTR for both families: bob is in two networks, so two names. */
static void test_ptr(void **state)
{
	struct dns_fix *f = *state;
	uint8_t v6[16], v4[4];
	char *name, *a, *b;
	struct reply r;

	dns_member_addresses(fix_rec(f, 0, FIX_BOB), v6, v4);
	for (int fam = 0; fam < 2; fam++) {
		name = reverse_name(fam ? AF_INET6 : AF_INET, fam ? v6 : v4);
		r = ask(f, name, LDNS_RR_TYPE_PTR, 0);
		assert_int_equal(ldns_pkt_get_rcode(r.p), LDNS_RCODE_NOERROR);
		assert_true(ldns_pkt_aa(r.p));
		assert_int_equal(ldns_pkt_ancount(r.p), 2);
		a = rdata(r.p, 0);
		b = rdata(r.p, 1);
		assert_true((!strcmp(a, "bob.home.pi.") && !strcmp(b, "bob.work.pi.")) ||
			    (!strcmp(b, "bob.home.pi.") && !strcmp(a, "bob.work.pi.")));
		free(a);
		free(b);
		ldns_pkt_free(r.p);
		/* A, say, on the PTR name: NODATA */
		expect_negative(ask(f, name, LDNS_RR_TYPE_A, 0), LDNS_RCODE_NOERROR,
				fam ? (v6[0] == 2 ? "2.0.ip6.arpa." : "3.0.ip6.arpa.") :
				      strchr(strchr(name, '.') + 1, '.') + 1);
		free(name);
	}
	/* 23: an overlay address nobody has */
	v4[3] ^= 1;
	v4[2] ^= 0x55;
	name = reverse_name(AF_INET, v4);
	r = ask(f, name, LDNS_RR_TYPE_PTR, 0);
	assert_int_equal(ldns_pkt_get_rcode(r.p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(r.p);
	free(name);
	/* 24: outside the overlay: forwarded */
	assert_int_equal(ask(f, "4.3.2.1.in-addr.arpa", LDNS_RR_TYPE_PTR, 0).v, DNS_FORWARD);
	assert_int_equal(ask(f, "4.3.2.100.in-addr.arpa", LDNS_RR_TYPE_PTR, 0).v, DNS_FORWARD);
	assert_int_equal(ask(f, "1.0.0.2.ip6.arpa", LDNS_RR_TYPE_PTR, 0).v, DNS_FORWARD);
}

/* 25-27: not ours, forwarded */
static void test_forward(void **state)
{
	struct dns_fix *f = *state;

	assert_int_equal(ask(f, "example.com", LDNS_RR_TYPE_A, 0).v, DNS_FORWARD);
	assert_int_equal(ask(f, "pi.example.com", LDNS_RR_TYPE_A, 0).v, DNS_FORWARD);
	assert_int_equal(ask(f, ".", LDNS_RR_TYPE_NS, 0).v, DNS_FORWARD);
}

/* 28-34: EDNS, errors, and what is never answered. */
static void test_errors(void **state)
{
	struct dns_fix *f = *state;
	static uint8_t q[512], out[4096];
	size_t qlen, len;
	struct dns_query dq;
	ldns_pkt *p = NULL;
	struct reply r = ask(f, "bob.home.pi", LDNS_RR_TYPE_A, 4096);

	assert_int_equal(ldns_pkt_edns_udp_size(r.p), 1232); /* 28 */
	assert_int_equal(r.q.limit, 1232);
	ldns_pkt_free(r.p);
	r = ask(f, "bob.home.pi", LDNS_RR_TYPE_A, 0);
	assert_false(ldns_pkt_edns(r.p)); /* 29 */
	assert_int_equal(r.q.limit, 512);
	ldns_pkt_free(r.p);

	qlen = fix_query("bob.home.pi", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232, q, sizeof(q));
	q[qlen - 5] = 1; /* 30: EDNS version 1 -> BADVERS */
	assert_int_equal(dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &dq), DNS_REPLY);
	assert_int_equal(ldns_wire2pkt(&p, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	ldns_pkt_free(p);

	qlen = fix_query("bob.home.pi", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 0, q, sizeof(q));
	assert_int_equal(dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &dq), DNS_REPLY);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_REFUSED); /* 31 */

	qlen = fix_query("bob.home.pi", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, q, sizeof(q));
	q[2] |= 0x80; /* 32: a response is never answered */
	assert_int_equal(dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &dq), DNS_DROP);
	q[2] &= 0x7f;
	q[2] |= 4 << 3; /* 33: NOTIFY: not implemented */
	assert_int_equal(dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &dq), DNS_REPLY);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_NOTIMP);
	assert_int_equal(get_be16(out), 0x1234);
	/* 34: garbage after a header: FORMERR with the id; shorter: nothing */
	memset(q + 12, 0xc0, 20);
	q[2] = 1;
	assert_int_equal(dns_answer(&f->z, q, 32, false, out, sizeof(out), &len, &dq), DNS_REPLY);
	assert_int_equal(len, 12);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_FORMERR);
	assert_int_equal(dns_answer(&f->z, q, 11, false, out, sizeof(out), &len, &dq), DNS_DROP);
	/* 35: QDCOUNT 2 */
	qlen = fix_query("bob.home.pi", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, q, sizeof(q));
	q[5] = 2;
	assert_int_equal(dns_answer(&f->z, q, qlen, false, out, sizeof(out), &len, &dq), DNS_REPLY);
	assert_int_equal(out[3] & 0x0f, DNS_RCODE_FORMERR);
}

/* 36-38: an upstream answer too big for the client: TC and the question
 * only; one that fits: only the id changes; SERVFAIL keeps the question. */
static void test_fit(void **state)
{
	ldns_pkt *p = NULL, *t = NULL;
	static uint8_t buf[8192], q[512], out[512];
	uint8_t *wire = NULL;
	size_t len, n, qlen;
	struct dns_query dq = { .id = 0xbeef, .limit = 512, .edns = false };

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "big.example", LDNS_RR_TYPE_TXT,
						    LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	for (int i = 0; i < 10; i++) {
		ldns_rr *rr = NULL;
		char text[200];

		snprintf(text, sizeof(text), "big.example. 60 IN TXT \"%080d\"", i);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 60, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len > 512);
	memcpy(buf, wire, len);
	n = dns_answer_fit(buf, len, sizeof(buf), &dq);
	assert_true(n > 0 && n <= 512);
	assert_int_equal(ldns_wire2pkt(&t, buf, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(t));
	assert_int_equal(ldns_pkt_id(t), 0xbeef);
	assert_int_equal(ldns_pkt_qdcount(t), 1);
	assert_int_equal(ldns_pkt_ancount(t), 0);
	ldns_pkt_free(t);
	dq.limit = DNS_TCP_MAX;
	memcpy(buf, wire, len);
	assert_int_equal(dns_answer_fit(buf, len, sizeof(buf), &dq), len);
	assert_int_equal(get_be16(buf), 0xbeef);
	assert_memory_equal(buf + 2, wire + 2, len - 2);
	free(wire);
	ldns_pkt_free(p);

	qlen = fix_query("x.example", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 1232, q, sizeof(q));
	dq = (struct dns_query){ .id = 0x1234, .limit = 1232, .edns = true };
	n = dns_answer_error(q, qlen, DNS_RCODE_SERVFAIL, &dq, out, sizeof(out));
	assert_int_equal(ldns_wire2pkt(&t, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(t), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_qdcount(t), 1);
	assert_true(ldns_pkt_edns(t));
	ldns_pkt_free(t);
}

/* 39-43: service names: registered, signed by their node, gone with it. */
static void test_services(void **state)
{
	struct dns_fix *f = *state;
	static const char *const names[] = { "api", "www" };
	struct member_record rec;

	assert_int_equal(fix_services(f, 0, FIX_BOB, 5, names, 2), 1);
	expect_host(ask(f, "api.bob.home.pi", LDNS_RR_TYPE_AAAA, 0), LDNS_RR_TYPE_AAAA,
		    fix_rec(f, 0, FIX_BOB));
	expect_host(ask(f, "WWW.bob.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 0, FIX_BOB));
	/* 41: not registered in work */
	expect_negative(ask(f, "api.bob.work.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	/* 42: carol cannot publish names for bob: her key signs, bob's is filed */
	{
		struct service_set s = { 0 };

		memcpy(s.network_pk, f->nets[0]->pk, 32);
		s.seq = 9;
		strcpy(s.names[s.nnames++], "evil");
		service_set_sign(&s, f->edsk[FIX_CAROL]);
		memcpy(s.x25519_pk, f->x[FIX_BOB], 32);
		assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), -EPERM);
		assert_int_equal(dns_services_merge(&f->svc, f->nets[1], &s), -EINVAL);
	}
	/* 43: bob kicked from home: his names and his host name go */
	assert_int_equal(network_revoke(f->nets[0], f->x[FIX_BOB], 2000, &rec), 0);
	expect_negative(ask(f, "api.bob.home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_negative(ask(f, "bob.home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_host(ask(f, "bob.work.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 1, FIX_BOB));
}

/* 44: a network this node is not a live member of does not count (seen
 * from dave, who is only in work). */
static void test_inactive(void **state)
{
	struct dns_fix *f = *state;

	f->z.self_x25519 = f->x[FIX_DAVE];
	expect_negative(ask(f, "bob.home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_negative(ask(f, "home.pi", LDNS_RR_TYPE_A, 0), LDNS_RCODE_NXDOMAIN, "pi.");
	expect_host(ask(f, "carol.pi", LDNS_RR_TYPE_A, 0), LDNS_RR_TYPE_A,
		    fix_rec(f, 1, FIX_CAROL2)); /* now unique */
}

/* 46-50: the answer cache: the same bytes back with the asker's id, until
 * the zone changes or the entry is a second old. */
static void test_cache(void **state)
{
	struct dns_cache c = { 0 };
	static uint8_t q[512], q2[512], out[512];
	const uint8_t answer[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 9, 9 };
	size_t qlen = fix_query("bob.home.pi", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, q, sizeof(q));

	assert_int_equal(dns_cache_get(&c, q, qlen, 0, out, sizeof(out)), 0); /* 46 */
	dns_cache_put(&c, q, qlen, 100, answer, sizeof(answer));
	memcpy(q2, q, qlen);
	q2[0] = 0xab; /* another id */
	q2[1] = 0xcd;
	assert_int_equal(dns_cache_get(&c, q2, qlen, 200, out, sizeof(out)), sizeof(answer));
	assert_int_equal(out[0], 0xab); /* 47: the asker's id */
	assert_int_equal(out[1], 0xcd);
	assert_memory_equal(out + 2, answer + 2, sizeof(answer) - 2);
	q2[qlen - 1] ^= 1; /* 48: another question */
	assert_int_equal(dns_cache_get(&c, q2, qlen, 200, out, sizeof(out)), 0);
	assert_int_equal(dns_cache_get(&c, q, qlen, 100 + DNS_CACHE_MAX_AGE_MS + 1, out,
				       sizeof(out)),
			 0); /* 49: too old */
	dns_cache_put(&c, q, qlen, 100, answer, sizeof(answer));
	dns_cache_flush(&c); /* 50: the zone changed */
	assert_int_equal(dns_cache_get(&c, q, qlen, 100, out, sizeof(out)), 0);
	assert_int_equal(c.hits, 1);
	dns_cache_free(&c);
}

/* The naive reference: every name of the fixture and its node. */
struct naive {
	char name[80];
	int node;
};

static size_t naive_names(struct dns_fix *f, struct naive *out)
{
	static const char *const hosts[] = { "alice", "bob", "carol", "carol", "dave" };
	static const int nets[FIX_NODES][2] = { { 1, 1 }, { 1, 1 }, { 1, 0 }, { 0, 1 }, { 0, 1 } };
	static const char *const labels[] = { "home", "work" };
	size_t n = 0;

	for (int i = 0; i < FIX_NODES; i++) {
		int count = 0;

		for (int k = 0; k < 2; k++) {
			if (!nets[i][k])
				continue;
			snprintf(out[n].name, sizeof(out[n].name), "%s.%s.pi", hosts[i], labels[k]);
			out[n++].node = i;
		}
		for (int j = 0; j < FIX_NODES; j++)
			count += strcmp(hosts[j], hosts[i]) == 0;
		if (count == 1) {
			snprintf(out[n].name, sizeof(out[n].name), "%s.pi", hosts[i]);
			out[n++].node = i;
		}
	}
	return n;
}

/* 45: random names, mixed case and mutated, against the naive table. */
static void test_differential(void **state)
{
	struct dns_fix *f = *state;
	struct naive table[32];
	size_t n = naive_names(f, table);
	static const char junk[] = "abcdehilmnoprstwk.-";

	for (int iter = 0; iter < 2000; iter++) {
		char name[80];
		int want = -1;
		struct reply r;

		snprintf(name, sizeof(name), "%s", table[randombytes_uniform((uint32_t)n)].name);
		if (iter % 3 == 1)
			name[randombytes_uniform((uint32_t)strlen(name) - 3)] =
				junk[randombytes_uniform(sizeof(junk) - 1)];
		if (iter % 5 == 2)
			name[0] = (char)(name[0] - 'a' + 'A');
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(table[i].name, name) == 0)
				want = table[i].node;
		if (strstr(name, "..") || name[0] == '.')
			continue;
		r = ask(f, name, LDNS_RR_TYPE_AAAA, 0);
		if (want >= 0) {
			int net = strstr(name, ".work.") || strcasecmp(name, "dave.pi") == 0 ? 1 :
											       0;

			expect_host(r, LDNS_RR_TYPE_AAAA, fix_rec(f, net, want));
		} else if (r.v == DNS_REPLY) {
			assert_int_equal(ldns_pkt_ancount(r.p), 0);
			ldns_pkt_free(r.p);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ptr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test(test_fit),
		cmocka_unit_test_setup_teardown(test_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
