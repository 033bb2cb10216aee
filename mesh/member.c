/*
 * Member records. The decoder checks the frame before the signature, so a
 * malformed record costs no curve operation, and it accepts exactly one
 * encoding of each record (no trailing bytes, no unknown flags), so that
 * decode followed by encode gives back the same bytes.
 */
#include "common/errmsg.h"
#include "mesh/member.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define MEMBER_MAGIC "MMR1"
#define MEMBER_MAGIC_TAGS "MMR2"
#define MEMBER_CONTEXT "manta member record"
#define MEMBER_CONTEXT_LEN (sizeof(MEMBER_CONTEXT) - 1)
#define MEMBER_FLAGS_KNOWN (MEMBER_FLAG_REVOKED | MEMBER_FLAG_OWNER)
#define OFF_HOSTNAME_LEN (MEMBER_RECORD_FIXED - 1)
#define MEMBER_BODY_MAX (MEMBER_RECORD_MAX - MEMBER_SIG_LEN)

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool label_valid(const char *h, size_t max)
{
	size_t n = strnlen(h, max + 1);

	if (n == 0 || n > max || h[0] == '-' || h[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!label_char(h[i]))
			return false;
	return true;
}

bool hostname_valid(const char *h)
{
	return label_valid(h, HOSTNAME_MAX);
}

bool tag_valid(const char *t)
{
	return label_valid(t, MEMBER_TAG_MAX);
}

/* Tags are a set, kept in one order so that each record has one encoding. */
static bool tags_valid(const struct member_record *r)
{
	if (r->ntags > MEMBER_TAGS_MAX)
		return false;
	for (size_t i = 0; i < r->ntags; i++) {
		if (!tag_valid(r->tags[i]))
			return false;
		if (i > 0 && strcmp(r->tags[i - 1], r->tags[i]) >= 0)
			return false;
	}
	return true;
}

static uint8_t *put_tags(const struct member_record *r, uint8_t *p)
{
	*p++ = r->ntags;
	for (size_t i = 0; i < r->ntags; i++) {
		size_t len = strlen(r->tags[i]);

		*p++ = (uint8_t)len;
		memcpy(p, r->tags[i], len);
		p += len;
	}
	return p;
}

/* Writes everything before the signature; returns its length, or 0 if the
 * record could not be decoded again (bad hostname or tags, unknown flags). */
static size_t put_body(const struct member_record *r, uint8_t *out)
{
	size_t hlen = strnlen(r->hostname, sizeof(r->hostname));
	uint8_t *p = out;

	if (!hostname_valid(r->hostname) || (r->flags & ~MEMBER_FLAGS_KNOWN) || !tags_valid(r))
		return 0;
	memcpy(p, r->ntags ? MEMBER_MAGIC_TAGS : MEMBER_MAGIC, 4);
	p += 4;
	memcpy(p, r->network_pk, NETWORK_KEY_LEN);
	p += NETWORK_KEY_LEN;
	memcpy(p, r->x25519_pk, 32);
	p += 32;
	memcpy(p, r->ed25519_pk, 32);
	p += 32;
	put_le64(p, r->version);
	p += 8;
	put_le32(p, r->v4_index);
	p += 4;
	*p++ = r->flags;
	*p++ = (uint8_t)hlen;
	memcpy(p, r->hostname, hlen);
	p += hlen;
	if (r->ntags)
		p = put_tags(r, p);
	return (size_t)(p - out);
}

void member_record_sign(struct member_record *r, const uint8_t network_sk[NETWORK_SECRET_LEN])
{
	uint8_t msg[MEMBER_CONTEXT_LEN + MEMBER_BODY_MAX];
	size_t len;

	memcpy(msg, MEMBER_CONTEXT, MEMBER_CONTEXT_LEN);
	len = put_body(r, msg + MEMBER_CONTEXT_LEN);
	if (!len) {
		/* Nothing valid to sign; encode refuses this record anyway. */
		memset(r->sig, 0, sizeof(r->sig));
		return;
	}
	crypto_sign_detached(r->sig, NULL, msg, MEMBER_CONTEXT_LEN + len, network_sk);
}

size_t member_record_encode(const struct member_record *r, uint8_t *out, size_t cap)
{
	uint8_t body[MEMBER_BODY_MAX];
	size_t len = put_body(r, body);

	if (!len || cap < len + MEMBER_SIG_LEN)
		return 0;
	memcpy(out, body, len);
	memcpy(out + len, r->sig, MEMBER_SIG_LEN);
	return len + MEMBER_SIG_LEN;
}

/* The tag area of an MMR2 record, within the avail bytes before the
 * signature: ntags | ntags × (len | tag). Sets *used to its length. */
static int parse_tags(const uint8_t *p, size_t avail, struct member_record *r, size_t *used,
		      char *err, size_t errlen)
{
	size_t n, off = 1;

	if (avail < 1)
		return errmsg(err, errlen, -EBADMSG, "member record truncated before its tags");
	n = p[0];
	if (n == 0 || n > MEMBER_TAGS_MAX)
		return errmsg(err, errlen, -EBADMSG, "member record has %zu tags, not 1 to %d", n,
			      MEMBER_TAGS_MAX);
	for (size_t i = 0; i < n; i++) {
		size_t tl;

		if (off >= avail)
			return errmsg(err, errlen, -EBADMSG, "member record truncated in tag %zu",
				      i);
		tl = p[off];
		if (tl == 0 || tl > MEMBER_TAG_MAX)
			return errmsg(err, errlen, -EBADMSG,
				      "member record tag length %zu is not 1 to %d", tl,
				      MEMBER_TAG_MAX);
		if (avail - off - 1 < tl)
			return errmsg(err, errlen, -EBADMSG, "member record truncated in tag %zu",
				      i);
		memcpy(r->tags[i], p + off + 1, tl);
		r->tags[i][tl] = '\0';
		if (strlen(r->tags[i]) != tl || !tag_valid(r->tags[i]))
			return errmsg(err, errlen, -EBADMSG,
				      "member record tag is not a label (a-z, 0-9 and '-', "
				      "not first or last)");
		if (i > 0 && strcmp(r->tags[i - 1], r->tags[i]) >= 0)
			return errmsg(err, errlen, -EBADMSG,
				      "member record tags are not in ascending order");
		off += 1 + tl;
	}
	r->ntags = (uint8_t)n;
	*used = off;
	return 0;
}

/* Checks the frame and fills r from it; the signature is checked after. */
static int parse(const uint8_t *buf, size_t len, struct member_record *r, char *err, size_t errlen)
{
	const uint8_t *p = buf + 4;
	size_t hlen, tlen = 0;
	bool tagged;
	int ret;

	if (len < MEMBER_RECORD_FIXED)
		return errmsg(err, errlen, -EBADMSG, "member record truncated: %zu bytes", len);
	tagged = memcmp(buf, MEMBER_MAGIC_TAGS, 4) == 0;
	if (!tagged && memcmp(buf, MEMBER_MAGIC, 4) != 0)
		return errmsg(err, errlen, -EBADMSG, "member record magic is not %s or %s",
			      MEMBER_MAGIC, MEMBER_MAGIC_TAGS);
	hlen = buf[OFF_HOSTNAME_LEN];
	if (hlen == 0)
		return errmsg(err, errlen, -EBADMSG, "member record hostname is empty");
	if (hlen > HOSTNAME_MAX)
		return errmsg(err, errlen, -EBADMSG, "hostname length %zu exceeds %d", hlen,
			      HOSTNAME_MAX);
	if (len < MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "member record truncated: %zu of %zu bytes",
			      len, MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN);
	if (tagged) {
		ret = parse_tags(buf + MEMBER_RECORD_FIXED + hlen,
				 len - MEMBER_RECORD_FIXED - hlen - MEMBER_SIG_LEN, r, &tlen, err,
				 errlen);
		if (ret < 0)
			return ret;
	}
	if (len > MEMBER_RECORD_FIXED + hlen + tlen + MEMBER_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "member record has %zu trailing bytes",
			      len - (MEMBER_RECORD_FIXED + hlen + tlen + MEMBER_SIG_LEN));

	memcpy(r->network_pk, p, NETWORK_KEY_LEN);
	p += NETWORK_KEY_LEN;
	memcpy(r->x25519_pk, p, 32);
	p += 32;
	memcpy(r->ed25519_pk, p, 32);
	p += 32;
	r->version = get_le64(p);
	p += 8;
	r->v4_index = get_le32(p);
	p += 4;
	r->flags = *p;
	p += 2;
	if (r->flags & ~MEMBER_FLAGS_KNOWN)
		return errmsg(err, errlen, -EBADMSG, "member record has unknown flags 0x%02x",
			      r->flags & ~MEMBER_FLAGS_KNOWN);
	memcpy(r->hostname, p, hlen);
	r->hostname[hlen] = '\0';
	if (strlen(r->hostname) != hlen || !hostname_valid(r->hostname))
		return errmsg(err, errlen, -EBADMSG,
			      "member record hostname is not a DNS label (a-z, 0-9 and '-', "
			      "not first or last)");
	memcpy(r->sig, p + hlen + tlen, MEMBER_SIG_LEN);
	return 0;
}

int member_record_decode(const uint8_t *buf, size_t len, struct member_record *r, char *err,
			 size_t errlen)
{
	uint8_t msg[MEMBER_CONTEXT_LEN + MEMBER_BODY_MAX];
	size_t body;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = parse(buf, len, r, err, errlen);
	if (ret < 0)
		goto err;
	body = len - MEMBER_SIG_LEN;
	memcpy(msg, MEMBER_CONTEXT, MEMBER_CONTEXT_LEN);
	memcpy(msg + MEMBER_CONTEXT_LEN, buf, body);
	if (crypto_sign_verify_detached(r->sig, msg, MEMBER_CONTEXT_LEN + body, r->network_pk) !=
	    0) {
		ret = errmsg(err, errlen, -EPERM, "member record signature does not verify");
		goto err;
	}
	return 0;
err:
	memset(r, 0, sizeof(*r));
	return ret;
}

bool member_record_keys_bound(const struct member_record *r)
{
	static const uint8_t zero[32];
	uint8_t x[32];

	if (memcmp(r->ed25519_pk, zero, sizeof(zero)) == 0)
		return false;
	if (crypto_sign_ed25519_pk_to_curve25519(x, r->ed25519_pk) != 0)
		return false;
	return memcmp(x, r->x25519_pk, sizeof(x)) == 0;
}
