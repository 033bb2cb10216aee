/*
 * Gossip datagrams. A frame that is malformed (bad header, wrong length, an
 * item length running past the end) is rejected whole; an item inside a
 * well-formed RECORDS or ANNOUNCE frame that does not decode or verify, or a
 * record of another network than the frame's, is only skipped and counted,
 * so one bad relay entry does not hide the others.
 */
#include "common/errmsg.h"
#include "mesh/gossip.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define GOSSIP_MAGIC "MG"
#define GOSSIP_VERSION 1
#define GOSSIP_HEADER 4
#define DIGEST_ENTRY (NETWORK_KEY_LEN + NETWORK_DIGEST_LEN)
/* header | network_pk | n: what RECORDS and ANNOUNCE carry before items. */
#define ITEMS_HEADER (GOSSIP_HEADER + NETWORK_KEY_LEN + 1)

static const char *type_name(enum gossip_type t)
{
	static const char *const names[] = {
		[GOSSIP_DIGEST] = "DIGEST",	  [GOSSIP_RECORDS] = "RECORDS",
		[GOSSIP_ANNOUNCE] = "ANNOUNCE",	  [GOSSIP_PULL] = "PULL",
		[GOSSIP_HOSTNAME] = "HOSTNAME",	  [GOSSIP_LEAVE] = "LEAVE",
		[GOSSIP_PING] = "PING",		  [GOSSIP_PONG] = "PONG",
		[GOSSIP_SERVICES] = "SERVICES",	  [GOSSIP_PROBE] = "PROBE",
		[GOSSIP_PROBE_ACK] = "PROBE_ACK",
	};

	return (size_t)t < ARRAY_SIZE(names) && names[t] ? names[t] : "unknown";
}

/* --- parsing --------------------------------------------------------------- */

static int parse_exact(const uint8_t *body, size_t len, size_t want, struct gossip_msg *m,
		       char *err, size_t errlen)
{
	if (len != want)
		return errmsg(err, errlen, -EBADMSG, "gossip %s body is %zu bytes, not %zu",
			      type_name(m->type), len, want);
	return 0;
}

static int parse_digest(const uint8_t *body, size_t len, struct gossip_msg *m, char *err,
			size_t errlen)
{
	size_t n;

	if (len < 1)
		return errmsg(err, errlen, -EBADMSG, "gossip DIGEST has no count");
	n = body[0];
	if (n > GOSSIP_MAX_DIGESTS)
		return errmsg(err, errlen, -EBADMSG, "gossip digest count %zu exceeds %d", n,
			      GOSSIP_MAX_DIGESTS);
	if (parse_exact(body, len, 1 + n * DIGEST_ENTRY, m, err, errlen) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = body + 1 + i * DIGEST_ENTRY;

		memcpy(m->digests[i].network_pk, e, NETWORK_KEY_LEN);
		memcpy(m->digests[i].digest, e + NETWORK_KEY_LEN, NETWORK_DIGEST_LEN);
	}
	m->ndigests = n;
	return 0;
}

/* One item of a RECORDS or ANNOUNCE frame; a bad item is only counted. */
static void parse_item(const uint8_t *item, size_t len, struct gossip_msg *m)
{
	if (m->type == GOSSIP_RECORDS) {
		struct member_record *r = &m->records[m->nrecords];

		if (member_record_decode(item, len, r, NULL, 0) < 0 ||
		    memcmp(r->network_pk, m->network_pk, NETWORK_KEY_LEN) != 0)
			m->rejected++;
		else
			m->nrecords++;
	} else if (m->type == GOSSIP_SERVICES) {
		struct service_set *s = &m->services[m->nservices];

		if (service_set_decode(item, len, s, NULL, 0) < 0 ||
		    memcmp(s->network_pk, m->network_pk, NETWORK_KEY_LEN) != 0)
			m->rejected++;
		else
			m->nservices++;
	} else {
		if (announce_decode(item, len, &m->announces[m->nannounces], NULL, 0) < 0)
			m->rejected++;
		else
			m->nannounces++;
	}
}

/* RECORDS and ANNOUNCE: network_pk | n u8 | n × (len u16 | item). The
 * frame is checked whole before any signature is. */
static int parse_items(const uint8_t *body, size_t len, struct gossip_msg *m, char *err,
		       size_t errlen)
{
	size_t n, off;

	if (len < NETWORK_KEY_LEN + 1)
		return errmsg(err, errlen, -EBADMSG, "gossip %s truncated: %zu bytes",
			      type_name(m->type), len);
	memcpy(m->network_pk, body, NETWORK_KEY_LEN);
	n = body[NETWORK_KEY_LEN];
	if (n > GOSSIP_MAX_ITEMS)
		return errmsg(err, errlen, -EBADMSG, "gossip %s item count %zu exceeds %d",
			      type_name(m->type), n, GOSSIP_MAX_ITEMS);
	off = NETWORK_KEY_LEN + 1;
	for (size_t i = 0; i < n; i++) {
		if (len - off < 2 || len - off - 2 < get_le16(body + off))
			return errmsg(err, errlen, -EBADMSG, "gossip %s item %zu truncated",
				      type_name(m->type), i);
		off += 2 + get_le16(body + off);
	}
	if (off != len)
		return errmsg(err, errlen, -EBADMSG, "gossip %s has %zu trailing bytes",
			      type_name(m->type), len - off);
	off = NETWORK_KEY_LEN + 1;
	for (size_t i = 0; i < n; i++) {
		size_t ilen = get_le16(body + off);

		parse_item(body + off + 2, ilen, m);
		off += 2 + ilen;
	}
	return 0;
}

static int parse_hostname(const uint8_t *body, size_t len, struct gossip_msg *m, char *err,
			  size_t errlen)
{
	size_t hlen;

	if (len < NETWORK_KEY_LEN + 1)
		return errmsg(err, errlen, -EBADMSG, "gossip HOSTNAME truncated: %zu bytes", len);
	memcpy(m->network_pk, body, NETWORK_KEY_LEN);
	hlen = body[NETWORK_KEY_LEN];
	if (hlen > HOSTNAME_MAX)
		return errmsg(err, errlen, -EBADMSG, "hostname length %zu exceeds %d", hlen,
			      HOSTNAME_MAX);
	if (parse_exact(body, len, NETWORK_KEY_LEN + 1 + hlen, m, err, errlen) < 0)
		return -EBADMSG;
	memcpy(m->hostname, body + NETWORK_KEY_LEN + 1, hlen);
	m->hostname[hlen] = '\0';
	if (strlen(m->hostname) != hlen || !hostname_valid(m->hostname))
		return errmsg(err, errlen, -EBADMSG,
			      "gossip hostname is not a DNS label (1-63 of a-z, 0-9 and '-', "
			      "not first or last)");
	return 0;
}

static int parse_body(const uint8_t *body, size_t len, struct gossip_msg *m, char *err,
		      size_t errlen)
{
	switch (m->type) {
	case GOSSIP_DIGEST:
		return parse_digest(body, len, m, err, errlen);
	case GOSSIP_RECORDS:
	case GOSSIP_ANNOUNCE:
	case GOSSIP_SERVICES:
		return parse_items(body, len, m, err, errlen);
	case GOSSIP_PULL:
	case GOSSIP_LEAVE:
		if (parse_exact(body, len, NETWORK_KEY_LEN, m, err, errlen) < 0)
			return -EBADMSG;
		memcpy(m->network_pk, body, NETWORK_KEY_LEN);
		return 0;
	case GOSSIP_HOSTNAME:
		return parse_hostname(body, len, m, err, errlen);
	case GOSSIP_PING:
	case GOSSIP_PONG:
		if (parse_exact(body, len, 8, m, err, errlen) < 0)
			return -EBADMSG;
		m->ping_id = get_le64(body);
		return 0;
	case GOSSIP_PROBE:
		return probe_request_decode(body, len, &m->probe, err, errlen);
	case GOSSIP_PROBE_ACK:
		return probe_ack_decode(body, len, &m->probe_ack, err, errlen);
	}
	return errmsg(err, errlen, -EBADMSG, "gossip type %d is unknown", (int)m->type);
}

int gossip_parse(const uint8_t *buf, size_t len, struct gossip_msg *m, char *err, size_t errlen)
{
	int ret;

	/* Only the scalars: the arrays are read up to their counts. */
	m->type = 0;
	memset(m->network_pk, 0, sizeof(m->network_pk));
	m->ndigests = m->nrecords = m->nannounces = m->nservices = m->rejected = 0;
	m->hostname[0] = '\0';
	m->ping_id = 0;

	if (len < GOSSIP_HEADER)
		return errmsg(err, errlen, -EBADMSG, "gossip datagram truncated: %zu bytes", len);
	if (len > GOSSIP_MAX)
		return errmsg(err, errlen, -EBADMSG, "gossip datagram length %zu exceeds %d", len,
			      GOSSIP_MAX);
	if (memcmp(buf, GOSSIP_MAGIC, 2) != 0)
		return errmsg(err, errlen, -EBADMSG, "gossip magic is not %s", GOSSIP_MAGIC);
	if (buf[2] != GOSSIP_VERSION)
		return errmsg(err, errlen, -EBADMSG, "gossip version %u is not %d", buf[2],
			      GOSSIP_VERSION);
	if (buf[3] < GOSSIP_DIGEST || buf[3] > GOSSIP_PROBE_ACK)
		return errmsg(err, errlen, -EBADMSG, "gossip type %u is unknown", buf[3]);
	m->type = (enum gossip_type)buf[3];
	ret = parse_body(buf + GOSSIP_HEADER, len - GOSSIP_HEADER, m, err, errlen);
	if (ret < 0) {
		m->ndigests = m->nrecords = m->nannounces = m->nservices = m->rejected = 0;
		m->hostname[0] = '\0';
	}
	return ret;
}

/* --- building -------------------------------------------------------------- */

/* Writes the header; returns its length, or 0 if cap cannot hold need. */
static size_t put_header(enum gossip_type type, size_t need, uint8_t *out, size_t cap)
{
	if (cap < need || need > GOSSIP_MAX)
		return 0;
	memcpy(out, GOSSIP_MAGIC, 2);
	out[2] = GOSSIP_VERSION;
	out[3] = (uint8_t)type;
	return GOSSIP_HEADER;
}

size_t gossip_build_digest(const struct gossip_digest *d, size_t n, uint8_t *out, size_t cap)
{
	size_t need = GOSSIP_HEADER + 1 + n * DIGEST_ENTRY;
	uint8_t *p = out + GOSSIP_HEADER + 1;

	if (n > GOSSIP_MAX_DIGESTS || !put_header(GOSSIP_DIGEST, need, out, cap))
		return 0;
	out[GOSSIP_HEADER] = (uint8_t)n;
	for (size_t i = 0; i < n; i++, p += DIGEST_ENTRY) {
		memcpy(p, d[i].network_pk, NETWORK_KEY_LEN);
		memcpy(p + NETWORK_KEY_LEN, d[i].digest, NETWORK_DIGEST_LEN);
	}
	return need;
}

static size_t build_key_only(enum gossip_type type, const uint8_t network_pk[NETWORK_KEY_LEN],
			     uint8_t *out, size_t cap)
{
	size_t need = GOSSIP_HEADER + NETWORK_KEY_LEN;

	if (!put_header(type, need, out, cap))
		return 0;
	memcpy(out + GOSSIP_HEADER, network_pk, NETWORK_KEY_LEN);
	return need;
}

size_t gossip_build_pull(const uint8_t network_pk[NETWORK_KEY_LEN], uint8_t *out, size_t cap)
{
	return build_key_only(GOSSIP_PULL, network_pk, out, cap);
}

size_t gossip_build_leave(const uint8_t network_pk[NETWORK_KEY_LEN], uint8_t *out, size_t cap)
{
	return build_key_only(GOSSIP_LEAVE, network_pk, out, cap);
}

size_t gossip_build_hostname(const uint8_t network_pk[NETWORK_KEY_LEN], const char *hostname,
			     uint8_t *out, size_t cap)
{
	size_t hlen, need;

	if (!hostname_valid(hostname))
		return 0;
	hlen = strlen(hostname);
	need = GOSSIP_HEADER + NETWORK_KEY_LEN + 1 + hlen;
	if (!put_header(GOSSIP_HOSTNAME, need, out, cap))
		return 0;
	memcpy(out + GOSSIP_HEADER, network_pk, NETWORK_KEY_LEN);
	out[GOSSIP_HEADER + NETWORK_KEY_LEN] = (uint8_t)hlen;
	memcpy(out + GOSSIP_HEADER + NETWORK_KEY_LEN + 1, hostname, hlen);
	return need;
}

size_t gossip_build_ping(enum gossip_type type, uint64_t id, uint8_t *out, size_t cap)
{
	if ((type != GOSSIP_PING && type != GOSSIP_PONG) ||
	    !put_header(type, GOSSIP_HEADER + 8, out, cap))
		return 0;
	put_le64(out + GOSSIP_HEADER, id);
	return GOSSIP_HEADER + 8;
}

size_t gossip_build_probe(const struct probe_request *r, uint8_t *out, size_t cap)
{
	size_t len;

	if (!put_header(GOSSIP_PROBE, GOSSIP_HEADER + PROBE_REQUEST_LEN, out, cap))
		return 0;
	len = probe_request_encode(r, out + GOSSIP_HEADER, cap - GOSSIP_HEADER);
	return len ? GOSSIP_HEADER + len : 0;
}

size_t gossip_build_probe_ack(const struct probe_ack *a, uint8_t *out, size_t cap)
{
	size_t len;

	if (!put_header(GOSSIP_PROBE_ACK, GOSSIP_HEADER + PROBE_ACK_LEN, out, cap))
		return 0;
	len = probe_ack_encode(a, out + GOSSIP_HEADER, cap - GOSSIP_HEADER);
	return len ? GOSSIP_HEADER + len : 0;
}

/* Encodes item i of a RECORDS (records) or ANNOUNCE (announces) list. */
struct items {
	enum gossip_type type;
	const struct member_record *records;
	const struct announce *announces;
	const struct service_set *services;
	size_t n;
};

static size_t encode_item(const struct items *it, size_t i, uint8_t *out, size_t cap)
{
	if (it->type == GOSSIP_RECORDS)
		return member_record_encode(&it->records[i], out, cap);
	if (it->type == GOSSIP_SERVICES)
		return service_set_encode(&it->services[i], out, cap);
	return announce_encode(&it->announces[i], out, cap);
}

/*
 * Packs items from *first while they fit in one datagram of at most
 * GOSSIP_MAX bytes. An item that cannot be encoded at all (invalid) is
 * skipped, so that it cannot stall the caller's loop. Returns 0 when no
 * item was packed: cap cannot hold the next one, or none was left (an
 * empty list is never sent).
 */
static size_t build_items(const uint8_t network_pk[NETWORK_KEY_LEN], const struct items *it,
			  size_t *first, uint8_t *out, size_t cap)
{
	uint8_t tmp[MAX(MAX(MEMBER_RECORD_MAX, ANNOUNCE_MAX), SERVICE_MAX)];
	size_t off = ITEMS_HEADER, count = 0;

	cap = MIN(cap, (size_t)GOSSIP_MAX);
	if (!put_header(it->type, ITEMS_HEADER, out, cap))
		return 0;
	memcpy(out + GOSSIP_HEADER, network_pk, NETWORK_KEY_LEN);
	while (*first < it->n && count < GOSSIP_MAX_ITEMS) {
		size_t len = encode_item(it, *first, tmp, sizeof(tmp));

		if (len && cap - off < 2 + len)
			break;
		if (len) {
			put_le16(out + off, (uint16_t)len);
			memcpy(out + off + 2, tmp, len);
			off += 2 + len;
			count++;
		}
		(*first)++;
	}
	if (count == 0)
		return 0;
	out[GOSSIP_HEADER + NETWORK_KEY_LEN] = (uint8_t)count;
	return off;
}

size_t gossip_build_records(const uint8_t network_pk[NETWORK_KEY_LEN],
			    const struct member_record *records, size_t n, size_t *first,
			    uint8_t *out, size_t cap)
{
	const struct items it = { .type = GOSSIP_RECORDS, .records = records, .n = n };

	return build_items(network_pk, &it, first, out, cap);
}

size_t gossip_build_announces(const uint8_t network_pk[NETWORK_KEY_LEN], const struct announce *a,
			      size_t n, size_t *first, uint8_t *out, size_t cap)
{
	const struct items it = { .type = GOSSIP_ANNOUNCE, .announces = a, .n = n };

	return build_items(network_pk, &it, first, out, cap);
}

size_t gossip_build_services(const uint8_t network_pk[NETWORK_KEY_LEN], const struct service_set *s,
			     size_t n, size_t *first, uint8_t *out, size_t cap)
{
	const struct items it = { .type = GOSSIP_SERVICES, .services = s, .n = n };

	return build_items(network_pk, &it, first, out, cap);
}
