/*
 * `manta dns export NET': the names of one network as an RFC 1035 zone
 * file for BIND or CoreDNS, written by ldns. The zone is NET.pi.; its name
 * server is `pi.', which is outside it (so the file needs no glue, and
 * named-checkzone takes it as it is) and is what mantad's own resolver
 * answers for. Records: HOST.NET.pi. A and AAAA for every live member, and
 * NAME.HOST.NET.pi. for every service name it registered; TTL 60.
 */
#include "dns/export.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/answer.h"
#include "dns/services.h"

static bool push(ldns_zone *zone, const char *text)
{
	ldns_rr *rr = NULL;

	if (ldns_rr_new_frm_str(&rr, text, DNS_TTL, NULL, NULL) != LDNS_STATUS_OK)
		return false;
	if (!ldns_zone_push_rr(zone, rr)) {
		ldns_rr_free(rr);
		return false;
	}
	return true;
}

/* A and AAAA of owner (a full name with its final dot). */
static bool push_host(ldns_zone *zone, const char *owner, const struct member_record *r)
{
	char line[512], a6[INET6_ADDRSTRLEN], a4[INET_ADDRSTRLEN];
	uint8_t v6[16], v4[4];

	dns_member_addresses(r, v6, v4);
	inet_ntop(AF_INET6, v6, a6, sizeof(a6));
	inet_ntop(AF_INET, v4, a4, sizeof(a4));
	snprintf(line, sizeof(line), "%s %d IN A %s", owner, DNS_TTL, a4);
	if (!push(zone, line))
		return false;
	snprintf(line, sizeof(line), "%s %d IN AAAA %s", owner, DNS_TTL, a6);
	return push(zone, line);
}

static bool fill(ldns_zone *zone, const struct dns_zone *z, const struct network *n)
{
	const struct service_set *set;
	char owner[300];

	for (size_t i = 0; i < n->nmembers; i++) {
		const struct member_record *r = &n->members[i];

		if (r->flags & MEMBER_FLAG_REVOKED)
			continue;
		snprintf(owner, sizeof(owner), "%s.%s.pi.", r->hostname, n->label);
		if (!push_host(zone, owner, r))
			return false;
		set = z->svc ? dns_services_get(z->svc, n->pk, r->x25519_pk) : NULL;
		if (!set || !dns_services_counts(n, set))
			continue;
		for (size_t j = 0; j < set->nnames; j++) {
			snprintf(owner, sizeof(owner), "%s.%s.%s.pi.", set->names[j], r->hostname,
				 n->label);
			if (!push_host(zone, owner, r))
				return false;
		}
	}
	return true;
}

char *dns_export(const struct dns_zone *z, const struct network *n)
{
	ldns_zone *zone = ldns_zone_new();
	ldns_rr *soa = NULL;
	char line[512], *text = NULL;
	size_t len = 0;
	FILE *f = NULL;
	bool ok;

	if (!zone)
		return NULL;
	snprintf(line, sizeof(line), "%s.pi. %d IN SOA pi. hostmaster.pi. %u 3600 600 86400 %d",
		 n->label, DNS_TTL, dns_zone_serial(z), DNS_TTL);
	ok = ldns_rr_new_frm_str(&soa, line, DNS_TTL, NULL, NULL) == LDNS_STATUS_OK;
	if (ok)
		ldns_zone_set_soa(zone, soa);
	snprintf(line, sizeof(line), "%s.pi. %d IN NS pi.", n->label, DNS_TTL);
	ok = ok && push(zone, line) && fill(zone, z, n);
	if (ok) {
		ldns_zone_sort(zone);
		f = open_memstream(&text, &len);
	}
	if (f) {
		fprintf(f, "; zone %s.pi. of the manta network `%s', exported by mantad\n",
			n->label, n->label);
		ldns_zone_print(f, zone);
		fclose(f);
	}
	ldns_zone_deep_free(zone);
	return text;
}
