/*
 * Invite tokens. A token carries the invite secret, so no message here ever
 * quotes the token, and the buffers that held the secret are wiped.
 */
#include "common/errmsg.h"
#include "mesh/invite.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "mesh/announce.h"

#define INVITE_VERSION 1
#define INVITE_CONTEXT "manta invite"
#define INVITE_CONTEXT_LEN (sizeof(INVITE_CONTEXT) - 1)
#define INVITE_PREFIX_LEN (sizeof(INVITE_PREFIX) - 1)
#define INVITE_FLAGS_KNOWN INVITE_FLAG_REUSABLE
#define INVITE_FIXED (1 + NETWORK_KEY_LEN + 32 + INVITE_SECRET_LEN + 8 + 1 + 1)
#define INVITE_SIG_LEN 64
#define INVITE_BODY_MAX (INVITE_FIXED + INVITE_LABEL_MAX + 1 + INVITE_MAX_ENDPOINTS * 19)
#define INVITE_BLOB_MAX (INVITE_BODY_MAX + INVITE_SIG_LEN)
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

_Static_assert(INVITE_PREFIX_LEN + sodium_base64_ENCODED_LEN(INVITE_BLOB_MAX, B64_VARIANT) <=
		       INVITE_TOKEN_MAX,
	       "INVITE_TOKEN_MAX too small for the largest invite");

/* Writes everything before the signature; returns its length or -EINVAL. */
static int put_body(const struct invite *inv, uint8_t *out)
{
	size_t llen = strnlen(inv->label, sizeof(inv->label));
	uint8_t *p = out;
	int n;

	if (!hostname_valid(inv->label) || (inv->flags & ~INVITE_FLAGS_KNOWN) ||
	    inv->nendpoints > INVITE_MAX_ENDPOINTS)
		return -EINVAL;
	*p++ = INVITE_VERSION;
	memcpy(p, inv->network_pk, NETWORK_KEY_LEN);
	p += NETWORK_KEY_LEN;
	memcpy(p, inv->owner_x25519_pk, 32);
	p += 32;
	memcpy(p, inv->secret, INVITE_SECRET_LEN);
	p += INVITE_SECRET_LEN;
	put_le64(p, inv->expires);
	p += 8;
	*p++ = inv->flags;
	*p++ = (uint8_t)llen;
	memcpy(p, inv->label, llen);
	p += llen;
	n = endpoints_encode(inv->endpoints, inv->nendpoints, p,
			     (size_t)(out + INVITE_BODY_MAX - p));
	if (n < 0)
		return -EINVAL;
	return (int)(p - out) + n;
}

int invite_encode(const struct invite *inv, const uint8_t network_sk[NETWORK_SECRET_LEN], char *out,
		  size_t cap)
{
	/* "manta invite" || body || signature; the blob is body || signature. */
	uint8_t msg[INVITE_CONTEXT_LEN + INVITE_BLOB_MAX];
	uint8_t *blob = msg + INVITE_CONTEXT_LEN;
	int ret = put_body(inv, blob);
	size_t blen;

	if (ret < 0)
		goto out;
	memcpy(msg, INVITE_CONTEXT, INVITE_CONTEXT_LEN);
	crypto_sign_detached(blob + ret, NULL, msg, INVITE_CONTEXT_LEN + (size_t)ret, network_sk);
	blen = (size_t)ret + INVITE_SIG_LEN;
	if (cap < INVITE_PREFIX_LEN + sodium_base64_ENCODED_LEN(blen, B64_VARIANT)) {
		ret = -ENOSPC;
		goto out;
	}
	memcpy(out, INVITE_PREFIX, INVITE_PREFIX_LEN);
	sodium_bin2base64(out + INVITE_PREFIX_LEN, cap - INVITE_PREFIX_LEN, blob, blen,
			  B64_VARIANT);
	ret = (int)strlen(out);
out:
	sodium_memzero(msg, sizeof(msg));
	return ret;
}

/* Checks the frame and fills inv from it; returns the signed length. */
static int parse(const uint8_t *blob, size_t len, struct invite *inv, char *err, size_t errlen)
{
	const uint8_t *p = blob + 1;
	size_t llen, n;
	int used;

	if (len < INVITE_FIXED + 1 + INVITE_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "invite truncated: %zu bytes", len);
	if (blob[0] != INVITE_VERSION)
		return errmsg(err, errlen, -EBADMSG, "invite version %u is not %d", blob[0],
			      INVITE_VERSION);
	memcpy(inv->network_pk, p, NETWORK_KEY_LEN);
	p += NETWORK_KEY_LEN;
	memcpy(inv->owner_x25519_pk, p, 32);
	p += 32;
	memcpy(inv->secret, p, INVITE_SECRET_LEN);
	p += INVITE_SECRET_LEN;
	inv->expires = get_le64(p);
	p += 8;
	inv->flags = *p++;
	if (inv->flags & ~INVITE_FLAGS_KNOWN)
		return errmsg(err, errlen, -EBADMSG, "invite has unknown flags 0x%02x",
			      inv->flags & ~INVITE_FLAGS_KNOWN);
	llen = *p++;
	if (llen == 0)
		return errmsg(err, errlen, -EBADMSG, "invite label is empty");
	if (llen > INVITE_LABEL_MAX)
		return errmsg(err, errlen, -EBADMSG, "label length %zu exceeds %d", llen,
			      INVITE_LABEL_MAX);
	if (len < INVITE_FIXED + llen + 1 + INVITE_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "invite truncated in its label");
	memcpy(inv->label, p, llen);
	inv->label[llen] = '\0';
	if (strlen(inv->label) != llen || !hostname_valid(inv->label))
		return errmsg(
			err, errlen, -EBADMSG,
			"invite label is not a DNS label (a-z, 0-9 and '-', not first or last)");
	p += llen;
	n = (size_t)(blob + len - INVITE_SIG_LEN - p);
	used = endpoints_decode(p, n, inv->endpoints, INVITE_MAX_ENDPOINTS, &inv->nendpoints);
	if (used == -E2BIG)
		return errmsg(err, errlen, -EBADMSG, "invite endpoint count %zu exceeds %d",
			      inv->nendpoints, INVITE_MAX_ENDPOINTS);
	if (used < 0)
		return errmsg(err, errlen, -EBADMSG, "invite endpoint %zu: %s", inv->nendpoints,
			      endpoints_strerror(used));
	if ((size_t)used != n)
		return errmsg(err, errlen, -EBADMSG, "invite has %zu trailing bytes",
			      n - (size_t)used);
	return (int)(len - INVITE_SIG_LEN);
}

/* Finds the base64url text in a token: white space trimmed, prefix gone. */
static int unwrap(const char *token, const char **b64, size_t *b64len, char *err, size_t errlen)
{
	const char *end;

	while (isspace((unsigned char)*token))
		token++;
	end = token + strlen(token);
	while (end > token && isspace((unsigned char)end[-1]))
		end--;
	if (end == token)
		return errmsg(err, errlen, -EBADMSG, "invite is empty");
	if ((size_t)(end - token) < INVITE_PREFIX_LEN ||
	    memcmp(token, INVITE_PREFIX, INVITE_PREFIX_LEN) != 0)
		return errmsg(err, errlen, -EBADMSG, "invite does not start with %s",
			      INVITE_PREFIX);
	*b64 = token + INVITE_PREFIX_LEN;
	*b64len = (size_t)(end - *b64);
	if (*b64len > sodium_base64_ENCODED_LEN(INVITE_BLOB_MAX, B64_VARIANT) - 1)
		return errmsg(err, errlen, -EBADMSG, "invite is too long: %zu characters after %s",
			      *b64len, INVITE_PREFIX);
	return 0;
}

int invite_decode(const char *token, struct invite *out, char *err, size_t errlen)
{
	uint8_t msg[INVITE_CONTEXT_LEN + INVITE_BLOB_MAX];
	uint8_t *blob = msg + INVITE_CONTEXT_LEN;
	const char *b64 = NULL;
	size_t b64len = 0, blen;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = unwrap(token, &b64, &b64len, err, errlen);
	if (ret < 0)
		goto out;
	if (sodium_base642bin(blob, INVITE_BLOB_MAX, b64, b64len, NULL, &blen, NULL, B64_VARIANT) !=
	    0) {
		ret = errmsg(err, errlen, -EBADMSG, "invite is not base64url after %s",
			     INVITE_PREFIX);
		goto out;
	}
	ret = parse(blob, blen, out, err, errlen);
	if (ret < 0)
		goto out;
	memcpy(msg, INVITE_CONTEXT, INVITE_CONTEXT_LEN);
	if (crypto_sign_verify_detached(blob + ret, msg, INVITE_CONTEXT_LEN + (size_t)ret,
					out->network_pk) != 0)
		ret = errmsg(err, errlen, -EPERM,
			     "invite signature does not verify: the invite was altered or forged");
	else
		ret = 0;
out:
	if (ret < 0)
		sodium_memzero(out, sizeof(*out));
	sodium_memzero(msg, sizeof(msg));
	return ret;
}

void invite_secret_hash(const uint8_t secret[INVITE_SECRET_LEN], uint8_t out[32])
{
	crypto_generichash(out, 32, secret, INVITE_SECRET_LEN, NULL, 0);
}
