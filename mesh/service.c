/*
 * Service sets (see service.h). One encoding per set: names are checked on
 * encode as on decode, so decode followed by encode gives back the bytes
 * that were signed.
 */
#include "common/errmsg.h"
#include "mesh/service.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define SERVICE_MAGIC "MSV1"
#define SERVICE_CONTEXT "manta services"
#define SERVICE_CONTEXT_LEN (sizeof(SERVICE_CONTEXT) - 1)
#define BODY_MAX (SERVICE_MAX - MEMBER_SIG_LEN)

_Static_assert(SERVICE_MAX == 1165, "service set size as docs/protocol.md gives it");

bool service_set_has(const struct service_set *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nnames; i++)
		if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
			return true;
	return false;
}

/* Names valid and distinct. */
static bool names_ok(const struct service_set *s)
{
	if (s->nnames > SERVICE_MAX_NAMES)
		return false;
	for (size_t i = 0; i < s->nnames; i++) {
		if (!hostname_valid(s->names[i]))
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->names[i], s->names[j]) == 0)
				return false;
	}
	return true;
}

/* Everything before the signature; its length, or 0 if the set is invalid. */
static size_t put_body(const struct service_set *s, uint8_t *out)
{
	size_t off = SERVICE_FIXED;

	if (!names_ok(s))
		return 0;
	memcpy(out, SERVICE_MAGIC, 4);
	memcpy(out + 4, s->network_pk, NETWORK_KEY_LEN);
	memcpy(out + 4 + NETWORK_KEY_LEN, s->ed25519_pk, 32);
	put_le64(out + 4 + NETWORK_KEY_LEN + 32, s->seq);
	out[SERVICE_FIXED - 1] = (uint8_t)s->nnames;
	for (size_t i = 0; i < s->nnames; i++) {
		size_t l = strlen(s->names[i]);

		out[off] = (uint8_t)l;
		memcpy(out + off + 1, s->names[i], l);
		off += 1 + l;
	}
	return off;
}

void service_set_sign(struct service_set *s, const uint8_t ed_sk[64])
{
	uint8_t msg[SERVICE_CONTEXT_LEN + BODY_MAX];
	size_t len;

	/* libsodium's secret key is seed || public key. */
	memcpy(s->ed25519_pk, ed_sk + 32, 32);
	if (crypto_sign_ed25519_pk_to_curve25519(s->x25519_pk, s->ed25519_pk) != 0)
		memset(s->x25519_pk, 0, sizeof(s->x25519_pk));
	memcpy(msg, SERVICE_CONTEXT, SERVICE_CONTEXT_LEN);
	len = put_body(s, msg + SERVICE_CONTEXT_LEN);
	if (!len) {
		memset(s->sig, 0, sizeof(s->sig)); /* encode refuses it anyway */
		return;
	}
	crypto_sign_detached(s->sig, NULL, msg, SERVICE_CONTEXT_LEN + len, ed_sk);
}

size_t service_set_encode(const struct service_set *s, uint8_t *out, size_t cap)
{
	uint8_t body[BODY_MAX];
	size_t len = put_body(s, body);

	if (!len || cap < len + MEMBER_SIG_LEN)
		return 0;
	memcpy(out, body, len);
	memcpy(out + len, s->sig, MEMBER_SIG_LEN);
	return len + MEMBER_SIG_LEN;
}

/* Checks the frame and fills s; returns the signed length. */
static int parse(const uint8_t *buf, size_t len, struct service_set *s, char *err, size_t errlen)
{
	size_t off = SERVICE_FIXED, n;

	if (len < SERVICE_FIXED + MEMBER_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "service set truncated: %zu bytes", len);
	if (memcmp(buf, SERVICE_MAGIC, 4) != 0)
		return errmsg(err, errlen, -EBADMSG, "service set magic is not %s", SERVICE_MAGIC);
	memcpy(s->network_pk, buf + 4, NETWORK_KEY_LEN);
	memcpy(s->ed25519_pk, buf + 4 + NETWORK_KEY_LEN, 32);
	s->seq = get_le64(buf + 4 + NETWORK_KEY_LEN + 32);
	n = buf[SERVICE_FIXED - 1];
	if (n > SERVICE_MAX_NAMES)
		return errmsg(err, errlen, -EBADMSG, "service set has %zu names, more than %d", n,
			      SERVICE_MAX_NAMES);
	for (size_t i = 0; i < n; i++) {
		size_t l;

		if (len - MEMBER_SIG_LEN - off < 1)
			return errmsg(err, errlen, -EBADMSG, "service name %zu truncated", i);
		l = buf[off];
		if (l == 0 || l > HOSTNAME_MAX || len - MEMBER_SIG_LEN - off - 1 < l)
			return errmsg(err, errlen, -EBADMSG,
				      "service name %zu has a bad length %zu", i, l);
		memcpy(s->names[i], buf + off + 1, l);
		s->names[i][l] = '\0';
		off += 1 + l;
	}
	s->nnames = n;
	if (!names_ok(s))
		return errmsg(
			err, errlen, -EBADMSG,
			"service names must be distinct DNS labels (1-63 of a-z, 0-9 and '-')");
	if (len != off + MEMBER_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "service set has %zu trailing bytes",
			      len - off - MEMBER_SIG_LEN);
	memcpy(s->sig, buf + off, MEMBER_SIG_LEN);
	return (int)off;
}

int service_set_decode(const uint8_t *buf, size_t len, struct service_set *s, char *err,
		       size_t errlen)
{
	uint8_t msg[SERVICE_CONTEXT_LEN + BODY_MAX];
	int ret;

	memset(s, 0, sizeof(*s));
	ret = parse(buf, len, s, err, errlen);
	if (ret < 0)
		goto err;
	memcpy(msg, SERVICE_CONTEXT, SERVICE_CONTEXT_LEN);
	memcpy(msg + SERVICE_CONTEXT_LEN, buf, (size_t)ret);
	if (crypto_sign_verify_detached(s->sig, msg, SERVICE_CONTEXT_LEN + (size_t)ret,
					s->ed25519_pk) != 0) {
		ret = errmsg(err, errlen, -EPERM, "service set signature does not verify");
		goto err;
	}
	if (crypto_sign_ed25519_pk_to_curve25519(s->x25519_pk, s->ed25519_pk) != 0) {
		ret = errmsg(err, errlen, -EBADMSG, "service set ed25519 key has no X25519 form");
		goto err;
	}
	return 0;
err:
	memset(s, 0, sizeof(*s));
	return ret;
}
