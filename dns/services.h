/*
 * Service names: the signed service sets this node knows (its own and every
 * member's, per network), and the names this node itself registered with
 * `manta dns add`. Kept in STATE_DIR/dns/services.json:
 *
 *   {"own": [{"name": "api", "network": "home"}, {"name": "www", "network": null}],
 *    "sets": ["<base64 of a signed service set>", ...]}
 *
 * A name without a network is registered in every network this node is in,
 * including those it joins later. Sets are verified again when loaded; a
 * set counts only while its signer is a live member whose record binds the
 * signing key (checked at every use, so a kick takes effect at once).
 * Owner: struct dns.
 */
#ifndef MANTA_DNS_SERVICES_H
#define MANTA_DNS_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/network.h"
#include "mesh/service.h"

#define DNS_OWN_SERVICES_MAX 64

struct dns_own_service {
	char name[HOSTNAME_MAX + 1];
	char network[NETWORK_LABEL_MAX + 1]; /* "" = every network */
};

struct dns_services {
	struct service_set *sets; /* sorted by (network_pk, x25519_pk) */
	size_t nsets, cap;
	struct dns_own_service own[DNS_OWN_SERVICES_MAX];
	size_t nown;
};

void dns_services_init(struct dns_services *s);
void dns_services_free(struct dns_services *s);

/* Load / save the file; a missing file is an empty store. Errors name the
 * path and the entry. */
int dns_services_load(struct dns_services *s, const char *path, char *err,
		      size_t errlen) WARN_UNUSED;
int dns_services_save(const struct dns_services *s, const char *path, char *err,
		      size_t errlen) WARN_UNUSED;

/* A verified set for network n: 1 if it is news (stored), 0 if known or
 * older, -EPERM if its signer is not a live member of n binding that key,
 * -EINVAL if it names another network, -ENOMEM. */
int dns_services_merge(struct dns_services *s, const struct network *n,
		       const struct service_set *set) WARN_UNUSED;
/* The set a member published in n, or NULL (whether it counts or not). */
const struct service_set *dns_services_get(const struct dns_services *s,
					   const uint8_t network_pk[NETWORK_KEY_LEN],
					   const uint8_t x25519[32]);
/* True if member r of the network registered name (len bytes) with the key
 * its record binds. The caller has found r live (zone.c looks members up
 * first); a set is filed under the X25519 form of its signing key, so
 * equal ed25519 keys are all the binding check needs here. */
bool dns_services_has(const struct dns_services *s, const uint8_t network_pk[NETWORK_KEY_LEN],
		      const struct member_record *r, const char *name, size_t len);
/* True if the set's signer is a live member of n whose record binds its key. */
bool dns_services_counts(const struct network *n, const struct service_set *set);
/* The highest seq of any set (for the SOA serial). */
uint64_t dns_services_newest(const struct dns_services *s);
/* BLAKE2b-128 over (x25519, seq) of n's counting sets, sorted; false (and
 * out untouched) when n has none. */
bool dns_services_digest(const struct dns_services *s, const struct network *n,
			 uint8_t out[NETWORK_DIGEST_LEN]);

/* The own names that apply to n, as a set to sign (seq and keys unset);
 * false if more than SERVICE_MAX_NAMES apply (the first ones are kept). */
bool dns_services_own_for(const struct dns_services *s, const struct network *n,
			  struct service_set *out);

#endif
