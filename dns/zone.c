/*
 * Name lookups in the member lists (see zone.h). The name arrives as wire
 * labels; each is copied in lower case and matched against hostnames and
 * network labels, which are DNS labels of [a-z0-9-] already, so a label
 * holding anything else (a dot, a NUL byte) simply matches nothing.
 */
#include "dns/zone.h"

#include <string.h>

#include "dns/services.h"
#include "mesh/address.h"

#define LABELS_MAX 128

struct name {
	size_t n; /* labels, from the left */
	const uint8_t *label[LABELS_MAX]; /* lower-case copies */
	uint8_t len[LABELS_MAX];
	uint8_t buf[DNS_NAME_MAX];
};

static bool name_parse(const uint8_t *wire, size_t len, struct name *nm)
{
	size_t off = 0, used = 0;

	nm->n = 0;
	while (off < len) {
		uint8_t l = wire[off];

		if (l == 0)
			return off + 1 == len;
		if (l > 63 || off + 1 + l > len || nm->n == LABELS_MAX || used + l > DNS_NAME_MAX)
			return false;
		for (size_t i = 0; i < l; i++) {
			uint8_t c = wire[off + 1 + i];

			nm->buf[used + i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
		}
		nm->label[nm->n] = nm->buf + used;
		nm->len[nm->n++] = l;
		used += l;
		off += 1 + l;
	}
	return false;
}

/* Label i counted from the right (0 = the last one). */
static bool is(const struct name *nm, size_t from_right, const char *s)
{
	size_t i, l = strlen(s);

	if (from_right >= nm->n)
		return false;
	i = nm->n - 1 - from_right;
	return nm->len[i] == l && memcmp(nm->label[i], s, l) == 0;
}

static bool label_is(const struct name *nm, size_t i, const char *s)
{
	size_t l = strlen(s);

	return nm->len[i] == l && memcmp(nm->label[i], s, l) == 0;
}

/* The apex is the name's last `labels' labels, in wire form. */
static void set_apex(const struct name *nm, size_t labels, struct dns_lookup *out)
{
	size_t off = 0;

	for (size_t i = nm->n - labels; i < nm->n; i++) {
		out->apex[off++] = nm->len[i];
		memcpy(out->apex + off, nm->label[i], nm->len[i]);
		off += nm->len[i];
	}
	out->apex[off++] = 0;
	out->apex_len = off;
}

bool dns_zone_active(const struct dns_zone *z, const struct network *n)
{
	return network_has_member(n, z->self_x25519);
}

void dns_member_addresses(const struct member_record *r, uint8_t v6[16], uint8_t v4[4])
{
	address_v6_from_key(r->x25519_pk, v6);
	address_v4_from_key_index(r->x25519_pk, r->v4_index, v4);
}

static const struct network *active_network(const struct dns_zone *z, const uint8_t *label,
					    size_t len)
{
	for (size_t i = 0; i < z->nnets; i++) {
		const struct network *n = z->nets[i];

		if (strlen(n->label) == len && memcmp(n->label, label, len) == 0 &&
		    dns_zone_active(z, n))
			return n;
	}
	return NULL;
}

static const struct member_record *member(const struct network *n, const uint8_t *label, size_t len)
{
	char host[HOSTNAME_MAX + 1];

	if (len == 0 || len > HOSTNAME_MAX)
		return NULL;
	memcpy(host, label, len);
	host[len] = '\0';
	return strlen(host) == len ? network_member_by_host(n, host) : NULL;
}

/* HOST.pi: the member of that name, if every active network that has one
 * means the same node; *net is one of those networks. */
static const struct member_record *unique_host(const struct dns_zone *z, const uint8_t *label,
					       size_t len, const struct network **net)
{
	const struct member_record *found = NULL;

	for (size_t i = 0; i < z->nnets; i++) {
		const struct member_record *r;

		if (!dns_zone_active(z, z->nets[i]))
			continue;
		r = member(z->nets[i], label, len);
		if (!r)
			continue;
		if (found && memcmp(found->x25519_pk, r->x25519_pk, 32) != 0)
			return NULL;
		if (!found) {
			found = r;
			*net = z->nets[i];
		}
	}
	return found;
}

static bool has_service(const struct dns_zone *z, const struct network *n,
			const struct member_record *r, const struct name *nm, size_t i)
{
	return z->svc && dns_services_has(z->svc, n->pk, r, (const char *)nm->label[i], nm->len[i]);
}

static void host_result(const struct member_record *r, struct dns_lookup *out)
{
	out->kind = DNS_NAME_HOST;
	dns_member_addresses(r, out->v6, out->v4);
}

/* Names under pi.: nm->n >= 1 and the last label is "pi". */
static void lookup_pi(const struct dns_zone *z, const struct name *nm, struct dns_lookup *out)
{
	const struct network *n = NULL;
	const struct member_record *r = NULL;
	size_t k = nm->n - 1; /* labels left of "pi" */

	out->zone = DNS_ZONE_PI;
	set_apex(nm, 1, out);
	out->kind = DNS_NAME_NXDOMAIN;
	if (k == 0) {
		out->kind = DNS_NAME_APEX;
		return;
	}
	if (k == 1) {
		r = unique_host(z, nm->label[0], nm->len[0], &n);
		if (r)
			host_result(r, out);
		else if (active_network(z, nm->label[0], nm->len[0]))
			out->kind = DNS_NAME_EMPTY;
		return;
	}
	if (k > 3)
		return;
	/* HOST.NET.pi, NAME.HOST.NET.pi */
	n = active_network(z, nm->label[k - 1], nm->len[k - 1]);
	r = n ? member(n, nm->label[k - 2], nm->len[k - 2]) : NULL;
	if (r && k == 2) {
		host_result(r, out);
		return;
	}
	if (r && k == 3 && has_service(z, n, r, nm, 0)) {
		host_result(r, out);
		return;
	}
	/* NAME.HOST.pi */
	if (k == 2) {
		r = unique_host(z, nm->label[1], nm->len[1], &n);
		if (r && has_service(z, n, r, nm, 0))
			host_result(r, out);
	}
}

/* --- reverse zones -------------------------------------------------------- */

static int nibble(const struct name *nm, size_t i)
{
	uint8_t c = nm->label[i][0];

	if (nm->len[i] != 1)
		return -1;
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A decimal octet without leading zeros, or -1. */
static int octet(const struct name *nm, size_t i)
{
	int v = 0;

	if (nm->len[i] == 0 || nm->len[i] > 3 || (nm->len[i] > 1 && nm->label[i][0] == '0'))
		return -1;
	for (size_t j = 0; j < nm->len[i]; j++) {
		if (nm->label[i][j] < '0' || nm->label[i][j] > '9')
			return -1;
		v = v * 10 + nm->label[i][j] - '0';
	}
	return v <= 255 ? v : -1;
}

/* Every live member of every active network whose address starts with the
 * first `bits' bits of addr: PTR targets, up to DNS_PTR_MAX, and how many. */
static size_t match_members(const struct dns_zone *z, int family, const uint8_t *addr,
			    unsigned bits, struct dns_lookup *out)
{
	size_t found = 0;

	for (size_t i = 0; i < z->nnets; i++) {
		const struct network *n = z->nets[i];

		if (!dns_zone_active(z, n))
			continue;
		for (size_t j = 0; j < n->nmembers; j++) {
			const struct member_record *r = &n->members[j];
			uint8_t v6[16], v4[4];
			const uint8_t *a = family == 4 ? v4 : v6;
			bool same = true;

			if (r->flags & MEMBER_FLAG_REVOKED)
				continue;
			dns_member_addresses(r, v6, v4);
			for (unsigned b = 0; b < bits && same; b++)
				same = ((a[b / 8] ^ addr[b / 8]) & (0x80 >> (b % 8))) == 0;
			if (!same)
				continue;
			if (out->nptr < DNS_PTR_MAX)
				out->ptr[out->nptr++] =
					(struct dns_ptr_target){ r->hostname, n->label };
			found++;
		}
	}
	return found;
}

/* d.c.B.100.in-addr.arpa: apex B.100.in-addr.arpa, B in 64..127. */
static bool lookup_rev4(const struct dns_zone *z, const struct name *nm, struct dns_lookup *out)
{
	uint8_t addr[4] = { 100 };
	size_t extra;
	int b;

	if (nm->n < 4 || !is(nm, 0, "arpa") || !is(nm, 1, "in-addr") || !is(nm, 2, "100"))
		return false;
	b = octet(nm, nm->n - 4);
	if (b < 64 || b > 127)
		return false;
	out->zone = DNS_ZONE_REV4;
	set_apex(nm, 4, out);
	extra = nm->n - 4;
	out->kind = DNS_NAME_NXDOMAIN;
	if (extra > 2)
		return true;
	addr[1] = (uint8_t)b;
	for (size_t i = 0; i < extra; i++) {
		int v = octet(nm, nm->n - 5 - i);

		if (v < 0)
			return true;
		addr[2 + i] = (uint8_t)v;
	}
	if (extra == 0) {
		out->kind = DNS_NAME_APEX;
		return true;
	}
	if (match_members(z, 4, addr, (unsigned)(16 + 8 * extra), out) == 0)
		return true;
	out->kind = extra == 2 ? DNS_NAME_PTR : DNS_NAME_EMPTY;
	return true;
}

/* 32 nibbles .ip6.arpa under 2.0.ip6.arpa or 3.0.ip6.arpa. */
static bool lookup_rev6(const struct dns_zone *z, const struct name *nm, struct dns_lookup *out)
{
	uint8_t addr[16] = { 0 };
	size_t extra;

	if (nm->n < 4 || !is(nm, 0, "arpa") || !is(nm, 1, "ip6") || !is(nm, 2, "0") ||
	    !(is(nm, 3, "2") || is(nm, 3, "3")))
		return false;
	out->zone = DNS_ZONE_REV6;
	set_apex(nm, 4, out);
	out->kind = DNS_NAME_NXDOMAIN;
	extra = nm->n - 4;
	if (extra > 30)
		return true;
	addr[0] = is(nm, 3, "2") ? 0x02 : 0x03;
	for (size_t i = 0; i < extra; i++) {
		int v = nibble(nm, nm->n - 5 - i);
		size_t pos = 2 + i; /* nibble index in the address */

		if (v < 0)
			return true;
		addr[pos / 2] |= (uint8_t)(pos % 2 ? v : v << 4);
	}
	if (extra == 0) {
		out->kind = DNS_NAME_APEX;
		return true;
	}
	if (match_members(z, 6, addr, (unsigned)(8 + 4 * extra), out) == 0)
		return true;
	out->kind = extra == 30 ? DNS_NAME_PTR : DNS_NAME_EMPTY;
	return true;
}

void dns_zone_lookup(const struct dns_zone *z, const uint8_t *name, size_t len,
		     struct dns_lookup *out)
{
	struct name nm;

	out->kind = DNS_NAME_OUTSIDE;
	out->nptr = 0;
	out->apex_len = 0;
	if (!name_parse(name, len, &nm) || nm.n == 0)
		return;
	if (label_is(&nm, nm.n - 1, "pi")) {
		lookup_pi(z, &nm, out);
		return;
	}
	if (!lookup_rev4(z, &nm, out))
		lookup_rev6(z, &nm, out);
}

uint32_t dns_zone_serial(const struct dns_zone *z)
{
	uint64_t newest = z->svc ? dns_services_newest(z->svc) : 0;

	for (size_t i = 0; i < z->nnets; i++) {
		const struct network *n = z->nets[i];

		if (!dns_zone_active(z, n))
			continue;
		for (size_t j = 0; j < n->nmembers; j++)
			newest = n->members[j].version > newest ? n->members[j].version : newest;
	}
	/* versions are microseconds since the epoch (or small test numbers) */
	return (uint32_t)(newest > 1000000000000ull ? newest / 1000000u : newest);
}
