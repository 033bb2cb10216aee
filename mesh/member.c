/*
 * Member records. The decoder checks the frame before the signature, so a
 * malformed record costs no curve operation, and it accepts exactly one
 * encoding of each record (no trailing bytes, no unknown flags), so that
 * decode followed by encode gives back the same bytes.
 */
#include "mesh/member.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define MEMBER_MAGIC "MMR1"
#define MEMBER_CONTEXT "manta member record"
#define MEMBER_CONTEXT_LEN (sizeof(MEMBER_CONTEXT) - 1)
#define MEMBER_FLAGS_KNOWN (MEMBER_FLAG_REVOKED | MEMBER_FLAG_OWNER)
#define OFF_HOSTNAME_LEN (MEMBER_RECORD_FIXED - 1)

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc,
						      const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool hostname_valid(const char *h)
{
	size_t n = strnlen(h, HOSTNAME_MAX + 1);

	if (n == 0 || n > HOSTNAME_MAX || h[0] == '-' || h[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!label_char(h[i]))
			return false;
	return true;
}

/* Writes everything before the signature; returns its length, or 0 if the
 * record could not be decoded again (bad hostname or unknown flags). */
static size_t put_body(const struct member_record *r, uint8_t *out)
{
	size_t hlen = strnlen(r->hostname, sizeof(r->hostname));
	uint8_t *p = out;

	if (!hostname_valid(r->hostname) || (r->flags & ~MEMBER_FLAGS_KNOWN))
		return 0;
	memcpy(p, MEMBER_MAGIC, 4);
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
	return MEMBER_RECORD_FIXED + hlen;
}

void member_record_sign(struct member_record *r, const uint8_t network_sk[NETWORK_SECRET_LEN])
{
	uint8_t msg[MEMBER_CONTEXT_LEN + MEMBER_RECORD_FIXED + HOSTNAME_MAX];
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
	uint8_t body[MEMBER_RECORD_FIXED + HOSTNAME_MAX];
	size_t len = put_body(r, body);

	if (!len || cap < len + MEMBER_SIG_LEN)
		return 0;
	memcpy(out, body, len);
	memcpy(out + len, r->sig, MEMBER_SIG_LEN);
	return len + MEMBER_SIG_LEN;
}

/* Checks the frame and fills r from it; the signature is checked after. */
static int parse(const uint8_t *buf, size_t len, struct member_record *r, char *err, size_t errlen)
{
	const uint8_t *p = buf + 4;
	size_t hlen;

	if (len < MEMBER_RECORD_FIXED)
		return fail(err, errlen, -EBADMSG, "member record truncated: %zu bytes", len);
	if (memcmp(buf, MEMBER_MAGIC, 4) != 0)
		return fail(err, errlen, -EBADMSG, "member record magic is not %s", MEMBER_MAGIC);
	hlen = buf[OFF_HOSTNAME_LEN];
	if (hlen == 0)
		return fail(err, errlen, -EBADMSG, "member record hostname is empty");
	if (hlen > HOSTNAME_MAX)
		return fail(err, errlen, -EBADMSG, "hostname length %zu exceeds %d", hlen,
			    HOSTNAME_MAX);
	if (len < MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN)
		return fail(err, errlen, -EBADMSG, "member record truncated: %zu of %zu bytes", len,
			    MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN);
	if (len > MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN)
		return fail(err, errlen, -EBADMSG, "member record has %zu trailing bytes",
			    len - (MEMBER_RECORD_FIXED + hlen + MEMBER_SIG_LEN));

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
		return fail(err, errlen, -EBADMSG, "member record has unknown flags 0x%02x",
			    r->flags & ~MEMBER_FLAGS_KNOWN);
	memcpy(r->hostname, p, hlen);
	r->hostname[hlen] = '\0';
	if (strlen(r->hostname) != hlen || !hostname_valid(r->hostname))
		return fail(err, errlen, -EBADMSG,
			    "member record hostname is not a DNS label (a-z, 0-9 and '-', "
			    "not first or last)");
	memcpy(r->sig, p + hlen, MEMBER_SIG_LEN);
	return 0;
}

int member_record_decode(const uint8_t *buf, size_t len, struct member_record *r, char *err,
			 size_t errlen)
{
	uint8_t msg[MEMBER_CONTEXT_LEN + MEMBER_RECORD_FIXED + HOSTNAME_MAX];
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
		ret = fail(err, errlen, -EPERM, "member record signature does not verify");
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
