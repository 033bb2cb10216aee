/*
 * Queries parsed and answers built with ldns (see answer.h). ldns status
 * codes stay in this file: callers see a verdict and a length.
 *
 *   ours, name exists, type present   NOERROR, AA, the records
 *   ours, name exists, type absent    NOERROR, AA, no answer, SOA (NODATA)
 *   ours, name absent                 NXDOMAIN, AA, SOA
 *   ours, class not IN (or ANY)       REFUSED
 *   not ours                          forwarded upstream
 *   unparsable, QDCOUNT != 1          FORMERR;  opcode not QUERY: NOTIMP
 */
#include "dns/answer.h"

#include <ldns/ldns.h>
#include <string.h>

#include "common/bytes.h"
#include "dns/packet.h"

#define SOA_REFRESH 3600
#define SOA_RETRY 600
#define SOA_EXPIRE 86400
#define SOA_MINIMUM DNS_TTL
#define UDP_LIMIT_MIN 512
#define EDNS_BADVERS_HIGH 1 /* extended rcode 16 = BADVERS: its upper 8 bits */

#define FLAG_QR 0x80 /* in byte 2 */
#define FLAG_TC 0x02 /* in byte 2 */

static const uint8_t pi_apex[] = { 2, 'p', 'i', 0 };
static const uint8_t hostmaster_pi[] = { 10,  'h', 'o', 's', 't', 'm', 'a', 's',
					 't', 'e', 'r', 2,   'p', 'i', 0 };

static ldns_rdf *dname(const uint8_t *wire, size_t len)
{
	return ldns_dname_new_frm_data((uint16_t)len, wire);
}

/* HOST.NET.pi. in wire form; 0 if it does not fit. */
static size_t target_wire(const struct dns_ptr_target *t, uint8_t *out, size_t cap)
{
	size_t h = strlen(t->host), n = strlen(t->net), len = 1 + h + 1 + n + sizeof(pi_apex);

	if (h == 0 || h > 63 || n == 0 || n > 63 || len > cap)
		return 0;
	out[0] = (uint8_t)h;
	memcpy(out + 1, t->host, h);
	out[1 + h] = (uint8_t)n;
	memcpy(out + 2 + h, t->net, n);
	memcpy(out + 2 + h + n, pi_apex, sizeof(pi_apex));
	return len;
}

static ldns_rr *rr_new(ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();

	if (!rr || !owner) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* Adds rr (with its one rdata field rd) to a section; false on failure. */
static bool push1(ldns_pkt *p, ldns_pkt_section sec, ldns_rr *rr, ldns_rdf *rd)
{
	if (!rr || !rd || !ldns_rr_push_rdf(rr, rd)) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(rd);
		return false;
	}
	return ldns_pkt_push_rr(p, sec, rr);
}

static bool push_addr(ldns_pkt *p, ldns_pkt_section sec, const ldns_rdf *owner, bool v6,
		      const uint8_t *addr)
{
	ldns_rr *rr =
		rr_new(ldns_rdf_clone(owner), v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A, DNS_TTL);

	return push1(p, sec, rr,
		     ldns_rdf_new_frm_data(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, v6 ? 16 : 4,
					   addr));
}

static bool push_soa(ldns_pkt *p, ldns_pkt_section sec, const struct dns_lookup *l, uint32_t serial)
{
	ldns_rr *rr = rr_new(dname(l->apex, l->apex_len), LDNS_RR_TYPE_SOA, DNS_TTL);
	ldns_rdf *f[7] = {
		dname(pi_apex, sizeof(pi_apex)),
		dname(hostmaster_pi, sizeof(hostmaster_pi)),
		ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, serial),
		ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, SOA_REFRESH),
		ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, SOA_RETRY),
		ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, SOA_EXPIRE),
		ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, SOA_MINIMUM),
	};
	bool ok = rr != NULL;

	for (size_t i = 0; i < 7; i++) {
		if (ok && f[i] && ldns_rr_push_rdf(rr, f[i]))
			continue;
		ok = false;
		ldns_rdf_deep_free(f[i]);
	}
	if (!ok) {
		ldns_rr_free(rr);
		return false;
	}
	return ldns_pkt_push_rr(p, sec, rr);
}

static bool push_ns(ldns_pkt *p, const struct dns_lookup *l)
{
	return push1(p, LDNS_SECTION_ANSWER,
		     rr_new(dname(l->apex, l->apex_len), LDNS_RR_TYPE_NS, DNS_TTL),
		     dname(pi_apex, sizeof(pi_apex)));
}

static bool push_ptrs(ldns_pkt *p, const ldns_rdf *owner, const struct dns_lookup *l)
{
	uint8_t wire[DNS_NAME_MAX];

	for (size_t i = 0; i < l->nptr; i++) {
		size_t len = target_wire(&l->ptr[i], wire, sizeof(wire));

		if (len && !push1(p, LDNS_SECTION_ANSWER,
				  rr_new(ldns_rdf_clone(owner), LDNS_RR_TYPE_PTR, DNS_TTL),
				  dname(wire, len)))
			return false;
	}
	return true;
}

static bool wants(ldns_rr_type qtype, ldns_rr_type t)
{
	return qtype == t || qtype == LDNS_RR_TYPE_ANY;
}

/* The answer section for a name that exists; false on allocation failure. */
static bool add_answers(ldns_pkt *p, const ldns_rdf *owner, ldns_rr_type qt,
			const struct dns_lookup *l, uint32_t serial)
{
	bool ok = true;

	switch (l->kind) {
	case DNS_NAME_APEX:
		if (wants(qt, LDNS_RR_TYPE_SOA))
			ok = ok && push_soa(p, LDNS_SECTION_ANSWER, l, serial);
		if (wants(qt, LDNS_RR_TYPE_NS))
			ok = ok && push_ns(p, l);
		if (l->zone == DNS_ZONE_PI && wants(qt, LDNS_RR_TYPE_A))
			ok = ok && push_addr(p, LDNS_SECTION_ANSWER, owner, false, dns_resolver_v4);
		if (l->zone == DNS_ZONE_PI && wants(qt, LDNS_RR_TYPE_AAAA))
			ok = ok && push_addr(p, LDNS_SECTION_ANSWER, owner, true, dns_resolver_v6);
		return ok;
	case DNS_NAME_HOST:
		if (wants(qt, LDNS_RR_TYPE_A))
			ok = ok && push_addr(p, LDNS_SECTION_ANSWER, owner, false, l->v4);
		if (wants(qt, LDNS_RR_TYPE_AAAA))
			ok = ok && push_addr(p, LDNS_SECTION_ANSWER, owner, true, l->v6);
		return ok;
	case DNS_NAME_PTR:
		return !wants(qt, LDNS_RR_TYPE_PTR) || push_ptrs(p, owner, l);
	default:
		return true;
	}
}

/* A reply skeleton: the query's id, opcode, RD, CD and question. */
static ldns_pkt *reply_new(const ldns_pkt *query, const struct dns_query *q)
{
	ldns_pkt *r = ldns_pkt_new();
	ldns_rr_list *qs = ldns_pkt_question(query);

	if (!r)
		return NULL;
	ldns_pkt_set_id(r, ldns_pkt_id(query));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(query));
	ldns_pkt_set_rd(r, ldns_pkt_rd(query));
	ldns_pkt_set_cd(r, ldns_pkt_cd(query));
	ldns_pkt_set_ra(r, true);
	if (ldns_rr_list_rr_count(qs) == 1 &&
	    !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, 0)))) {
		ldns_pkt_free(r);
		return NULL;
	}
	if (q->edns) {
		ldns_pkt_set_edns_udp_size(r, DNS_EDNS_PAYLOAD);
		ldns_pkt_set_edns_do(r, q->do_bit);
	}
	return r;
}

/* Drops everything but the question (and EDNS) and sets TC. */
static void truncate_pkt(ldns_pkt *p)
{
	ldns_rr_list_deep_free(ldns_pkt_answer(p));
	ldns_rr_list_deep_free(ldns_pkt_authority(p));
	ldns_rr_list_deep_free(ldns_pkt_additional(p));
	ldns_pkt_set_answer(p, ldns_rr_list_new());
	ldns_pkt_set_authority(p, ldns_rr_list_new());
	ldns_pkt_set_additional(p, ldns_rr_list_new());
	ldns_pkt_set_ancount(p, 0);
	ldns_pkt_set_nscount(p, 0);
	ldns_pkt_set_arcount(p, 0);
	ldns_pkt_set_tc(p, true);
}

/* The packet as wire bytes in out, cut with TC above limit; its length, or
 * 0 if it cannot be encoded or does not fit cap. */
static size_t encode(ldns_pkt *p, size_t limit, uint8_t *out, size_t cap)
{
	ldns_buffer *b = ldns_buffer_new(UDP_LIMIT_MIN);
	size_t len = 0;

	if (!b)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		ldns_buffer_clear(b);
		if (ldns_pkt2buffer_wire(b, p) != LDNS_STATUS_OK)
			break;
		len = ldns_buffer_position(b);
		if (len <= limit && len <= cap) {
			memcpy(out, ldns_buffer_begin(b), len);
			break;
		}
		len = 0;
		truncate_pkt(p);
	}
	ldns_buffer_free(b);
	return len;
}

/* A header-only answer to a message ldns could not parse. */
static size_t formerr_raw(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	if (len < DNS_HEADER_LEN || cap < DNS_HEADER_LEN)
		return 0;
	memset(out, 0, DNS_HEADER_LEN);
	memcpy(out, msg, 2);
	out[2] = (uint8_t)(FLAG_QR | (msg[2] & 0x79)); /* opcode and RD kept */
	out[3] = 0x80 | DNS_RCODE_FORMERR; /* RA */
	return DNS_HEADER_LEN;
}

static void query_limits(const ldns_pkt *query, bool tcp, struct dns_query *q)
{
	q->id = ldns_pkt_id(query);
	q->edns = ldns_pkt_edns(query);
	q->do_bit = q->edns && ldns_pkt_edns_do(query);
	q->limit = UDP_LIMIT_MIN;
	if (tcp)
		q->limit = DNS_TCP_MAX;
	else if (q->edns && ldns_pkt_edns_udp_size(query) > UDP_LIMIT_MIN)
		q->limit = MIN((size_t)ldns_pkt_edns_udp_size(query), (size_t)DNS_EDNS_PAYLOAD);
}

/* The answer to a parsed query that is ours (or an error); DNS_FORWARD if
 * it is not ours. */
static enum dns_verdict respond(const struct dns_zone *z, const ldns_pkt *query,
				const struct dns_query *q, uint8_t *out, size_t cap,
				size_t *out_len)
{
	ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	const ldns_rdf *owner;
	ldns_rr_type qt;
	struct dns_lookup l;
	ldns_pkt *r;
	bool ok = true;

	if (ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY || ldns_pkt_qdcount(query) != 1 ||
	    !qrr) {
		r = reply_new(query, q);
		if (r)
			ldns_pkt_set_rcode(r, ldns_pkt_get_opcode(query) != LDNS_PACKET_QUERY ?
						      DNS_RCODE_NOTIMP :
						      DNS_RCODE_FORMERR);
		goto out;
	}
	owner = ldns_rr_owner(qrr);
	qt = ldns_rr_get_type(qrr);
	dns_zone_lookup(z, ldns_rdf_data(owner), ldns_rdf_size(owner), &l);
	if (l.kind == DNS_NAME_OUTSIDE)
		return DNS_FORWARD;
	r = reply_new(query, q);
	if (!r)
		goto out;
	ldns_pkt_set_aa(r, true);
	if (ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN &&
	    ldns_rr_get_class(qrr) != LDNS_RR_CLASS_ANY) {
		ldns_pkt_set_aa(r, false);
		ldns_pkt_set_rcode(r, DNS_RCODE_REFUSED);
	} else if (l.kind == DNS_NAME_NXDOMAIN) {
		ldns_pkt_set_rcode(r, DNS_RCODE_NXDOMAIN);
		ok = push_soa(r, LDNS_SECTION_AUTHORITY, &l, dns_zone_serial(z));
	} else {
		ok = add_answers(r, owner, qt, &l, dns_zone_serial(z));
		if (ok && ldns_pkt_ancount(r) == 0)
			ok = push_soa(r, LDNS_SECTION_AUTHORITY, &l, dns_zone_serial(z));
	}
out:
	*out_len = r && ok ? encode(r, q->limit, out, cap) : 0;
	ldns_pkt_free(r);
	return *out_len ? DNS_REPLY : DNS_DROP;
}

enum dns_verdict dns_answer(const struct dns_zone *z, const uint8_t *msg, size_t len, bool tcp,
			    uint8_t *out, size_t cap, size_t *out_len, struct dns_query *q)
{
	ldns_pkt *query = NULL;
	enum dns_verdict v;

	*out_len = 0;
	memset(q, 0, sizeof(*q));
	q->limit = tcp ? DNS_TCP_MAX : UDP_LIMIT_MIN;
	/* A response (QR set) is never answered: that is how loops start. */
	if (len < DNS_HEADER_LEN || msg[2] & FLAG_QR)
		return DNS_DROP;
	q->id = get_be16(msg);
	if (ldns_wire2pkt(&query, msg, len) != LDNS_STATUS_OK) {
		*out_len = formerr_raw(msg, len, out, cap);
		return *out_len ? DNS_REPLY : DNS_DROP;
	}
	query_limits(query, tcp, q);
	if (q->edns && ldns_pkt_edns_version(query) > 0) {
		ldns_pkt *r = reply_new(query, q);

		if (r) {
			ldns_pkt_set_edns_extended_rcode(r, EDNS_BADVERS_HIGH);
			*out_len = encode(r, q->limit, out, cap);
			ldns_pkt_free(r);
		}
		v = *out_len ? DNS_REPLY : DNS_DROP;
	} else {
		v = respond(z, query, q, out, cap, out_len);
	}
	ldns_pkt_free(query);
	return v;
}

size_t dns_answer_fit(uint8_t *buf, size_t len, size_t cap, const struct dns_query *q)
{
	ldns_pkt *p = NULL;
	size_t n;

	if (len < DNS_HEADER_LEN || !(buf[2] & FLAG_QR))
		return 0;
	put_be16(buf, q->id);
	if (len <= q->limit)
		return len;
	if (ldns_wire2pkt(&p, buf, len) != LDNS_STATUS_OK)
		return 0;
	truncate_pkt(p);
	n = encode(p, q->limit, buf, cap);
	ldns_pkt_free(p);
	return n;
}

size_t dns_answer_error(const uint8_t *query, size_t qlen, enum dns_rcode rcode,
			const struct dns_query *q, uint8_t *out, size_t cap)
{
	ldns_pkt *p = NULL, *r;
	size_t n = 0;

	if (ldns_wire2pkt(&p, query, qlen) != LDNS_STATUS_OK)
		return formerr_raw(query, qlen, out, cap);
	r = reply_new(p, q);
	if (r) {
		ldns_pkt_set_rcode(r, (uint8_t)rcode);
		n = encode(r, q->limit, out, cap);
		ldns_pkt_free(r);
	}
	ldns_pkt_free(p);
	return n;
}
