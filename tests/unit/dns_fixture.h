/*
 * A zone to answer from, for the DNS unit tests and the fuzzer: this node
 * (alice) owns two networks,
 *   home: alice, bob, carol
 *   work: alice, bob (the same key as in home), carol (another key), dave
 * so bob.pi and dave.pi are unique and carol.pi is not. Queries are built
 * with ldns.
 */
#ifndef MANTA_TESTS_DNS_FIXTURE_H
#define MANTA_TESTS_DNS_FIXTURE_H

#include <ldns/ldns.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/services.h"
#include "mesh/address.h"
#include "mesh/network.h"

enum { FIX_ALICE, FIX_BOB, FIX_CAROL, FIX_CAROL2, FIX_DAVE, FIX_NODES };

struct dns_fix {
	uint8_t x[FIX_NODES][32], ed[FIX_NODES][32], edsk[FIX_NODES][64];
	struct network *nets[2]; /* home, work */
	struct dns_services svc;
	struct dns_zone z;
};

static inline void fix_key(struct dns_fix *f, int i)
{
	crypto_sign_keypair(f->ed[i], f->edsk[i]);
	if (crypto_sign_ed25519_pk_to_curve25519(f->x[i], f->ed[i]) != 0)
		abort();
}

static inline void fix_admit(struct dns_fix *f, struct network *n, int i, const char *host)
{
	struct member_record rec;
	char err[256];

	if (network_admit(n, f->x[i], f->ed[i], host, address_v4_next_index(f->x[i], 0), 1000, &rec,
			  err, sizeof(err)) < 0)
		abort();
}

static inline struct dns_fix *fix_new(void)
{
	struct dns_fix *f = calloc(1, sizeof(*f));

	if (!f || sodium_init() < 0)
		abort();
	for (int i = 0; i < FIX_NODES; i++)
		fix_key(f, i);
	if (network_create("home", "alice", f->x[FIX_ALICE], f->ed[FIX_ALICE],
			   address_v4_next_index(f->x[FIX_ALICE], 0), &f->nets[0]) < 0 ||
	    network_create("work", "alice", f->x[FIX_ALICE], f->ed[FIX_ALICE],
			   address_v4_next_index(f->x[FIX_ALICE], 0), &f->nets[1]) < 0)
		abort();
	fix_admit(f, f->nets[0], FIX_BOB, "bob");
	fix_admit(f, f->nets[0], FIX_CAROL, "carol");
	fix_admit(f, f->nets[1], FIX_BOB, "bob");
	fix_admit(f, f->nets[1], FIX_CAROL2, "carol");
	fix_admit(f, f->nets[1], FIX_DAVE, "dave");
	dns_services_init(&f->svc);
	f->z = (struct dns_zone){ f->nets, 2, f->x[FIX_ALICE], &f->svc };
	return f;
}

static inline void fix_free(struct dns_fix *f)
{
	if (!f)
		return;
	network_free(f->nets[0]);
	network_free(f->nets[1]);
	dns_services_free(&f->svc);
	free(f);
}

/* A node's record in a network. */
static inline const struct member_record *fix_rec(struct dns_fix *f, int net, int node)
{
	return network_member(f->nets[net], f->x[node]);
}

/* A signed service set of node in network net with the given names. */
static inline int fix_services(struct dns_fix *f, int net, int node, uint64_t seq,
			       const char *const *names, size_t n)
{
	struct service_set s = { 0 };

	memcpy(s.network_pk, f->nets[net]->pk, 32);
	s.seq = seq;
	for (size_t i = 0; i < n; i++)
		strcpy(s.names[s.nnames++], names[i]);
	service_set_sign(&s, f->edsk[node]);
	return dns_services_merge(&f->svc, f->nets[net], &s);
}

/* A query in wire form; its length. udp 0: no EDNS. */
static inline size_t fix_query(const char *name, ldns_rr_type t, ldns_rr_class c, uint16_t udp,
			       uint8_t *out, size_t cap)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	if (ldns_pkt_query_new_frm_str(&p, name, t, c, LDNS_RD) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_set_id(p, 0x1234);
	if (udp)
		ldns_pkt_set_edns_udp_size(p, udp);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK || len > cap)
		abort();
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

#endif
