/*
 * Endpoint announcements and the endpoint list codec they share with
 * invites. Each endpoint has one encoding: an IPv4 address always travels
 * as family 4, so a family 6 entry holding an IPv4-mapped address is
 * rejected, and decode followed by encode gives back the same bytes.
 */
#include "common/errmsg.h"
#include "mesh/announce.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define ANNOUNCE_MAGIC "MEA1"
#define ANNOUNCE_CONTEXT "manta endpoints"
#define ANNOUNCE_CONTEXT_LEN (sizeof(ANNOUNCE_CONTEXT) - 1)
#define ANNOUNCE_FIXED (4 + 32 + 8)
#define ANNOUNCE_SIG_LEN 64
#define ENDPOINTS_MAX_LEN (ANNOUNCE_MAX - ANNOUNCE_FIXED - ANNOUNCE_SIG_LEN)

/* --- endpoint lists -------------------------------------------------------- */

static size_t endpoint_size(const struct sockaddr_in6 *ep)
{
	return IN6_IS_ADDR_V4MAPPED(&ep->sin6_addr) ? 1 + 4 + 2 : 1 + 16 + 2;
}

int endpoints_encode(const struct sockaddr_in6 *eps, size_t n, uint8_t *out, size_t cap)
{
	size_t off = 1;

	if (n > UINT8_MAX)
		return -EINVAL;
	if (cap < 1)
		return -ENOSPC;
	out[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in6 *ep = &eps[i];
		size_t size = endpoint_size(ep);

		if (ep->sin6_family != AF_INET6 || ep->sin6_port == 0)
			return -EINVAL;
		if (cap - off < size)
			return -ENOSPC;
		if (size == 1 + 4 + 2) {
			out[off] = 4;
			memcpy(out + off + 1, &ep->sin6_addr.s6_addr[12], 4);
		} else {
			out[off] = 6;
			memcpy(out + off + 1, &ep->sin6_addr, 16);
		}
		/* sin6_port is already in network byte order, as on the wire. */
		memcpy(out + off + size - 2, &ep->sin6_port, 2);
		off += size;
	}
	return (int)off;
}

/* Decodes one entry at buf[0..len); returns its size or a negative errno. */
static int endpoint_decode(const uint8_t *buf, size_t len, struct sockaddr_in6 *ep)
{
	size_t alen;

	if (len < 1)
		return -EBADMSG;
	if (buf[0] == 4)
		alen = 4;
	else if (buf[0] == 6)
		alen = 16;
	else
		return -EAFNOSUPPORT;
	if (len < 1 + alen + 2)
		return -EBADMSG;
	memset(ep, 0, sizeof(*ep));
	ep->sin6_family = AF_INET6;
	if (alen == 4) {
		ep->sin6_addr.s6_addr[10] = 0xff;
		ep->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&ep->sin6_addr.s6_addr[12], buf + 1, 4);
	} else {
		memcpy(&ep->sin6_addr, buf + 1, 16);
		if (IN6_IS_ADDR_V4MAPPED(&ep->sin6_addr))
			return -EPROTO;
	}
	memcpy(&ep->sin6_port, buf + 1 + alen, 2);
	if (ep->sin6_port == 0)
		return -EINVAL;
	return (int)(1 + alen + 2);
}

int endpoints_decode(const uint8_t *buf, size_t len, struct sockaddr_in6 *eps, size_t max,
		     size_t *n)
{
	size_t count, off = 1;

	*n = 0;
	if (len < 1)
		return -EBADMSG;
	count = buf[0];
	if (count > max) {
		*n = count;
		return -E2BIG;
	}
	for (size_t i = 0; i < count; i++) {
		int used = endpoint_decode(buf + off, len - off, &eps[i]);

		if (used < 0) {
			*n = i;
			return used;
		}
		off += (size_t)used;
	}
	*n = count;
	return (int)off;
}

const char *endpoints_strerror(int rc)
{
	switch (rc) {
	case -EBADMSG:
		return "truncated";
	case -E2BIG:
		return "too many endpoints";
	case -EAFNOSUPPORT:
		return "address family is not 4 or 6";
	case -EINVAL:
		return "port 0";
	case -EPROTO:
		return "family 6 with an IPv4-mapped address";
	default:
		return "malformed";
	}
}

/* --- announcements --------------------------------------------------------- */

/* Writes everything before the signature; returns its length, or 0 if the
 * announcement has too many or unusable endpoints. */
static size_t put_body(const struct announce *a, uint8_t *out)
{
	int len;

	if (a->nendpoints > ANNOUNCE_MAX_ENDPOINTS)
		return 0;
	memcpy(out, ANNOUNCE_MAGIC, 4);
	memcpy(out + 4, a->ed25519_pk, 32);
	put_le64(out + 36, a->seq);
	len = endpoints_encode(a->endpoints, a->nendpoints, out + ANNOUNCE_FIXED,
			       ENDPOINTS_MAX_LEN);
	return len < 0 ? 0 : ANNOUNCE_FIXED + (size_t)len;
}

void announce_sign(struct announce *a, const uint8_t ed_sk[64])
{
	uint8_t msg[ANNOUNCE_CONTEXT_LEN + ANNOUNCE_MAX - ANNOUNCE_SIG_LEN];
	size_t len;

	/* libsodium's secret key is seed || public key. */
	memcpy(a->ed25519_pk, ed_sk + 32, 32);
	if (crypto_sign_ed25519_pk_to_curve25519(a->x25519_pk, a->ed25519_pk) != 0)
		memset(a->x25519_pk, 0, sizeof(a->x25519_pk));
	memcpy(msg, ANNOUNCE_CONTEXT, ANNOUNCE_CONTEXT_LEN);
	len = put_body(a, msg + ANNOUNCE_CONTEXT_LEN);
	if (!len) {
		/* Nothing valid to sign; encode refuses this announcement anyway. */
		memset(a->sig, 0, sizeof(a->sig));
		return;
	}
	crypto_sign_detached(a->sig, NULL, msg, ANNOUNCE_CONTEXT_LEN + len, ed_sk);
}

size_t announce_encode(const struct announce *a, uint8_t *out, size_t cap)
{
	uint8_t body[ANNOUNCE_MAX - ANNOUNCE_SIG_LEN];
	size_t len = put_body(a, body);

	if (!len || cap < len + ANNOUNCE_SIG_LEN)
		return 0;
	memcpy(out, body, len);
	memcpy(out + len, a->sig, ANNOUNCE_SIG_LEN);
	return len + ANNOUNCE_SIG_LEN;
}

/* Checks the frame and fills a from it; returns the signed length. */
static int parse(const uint8_t *buf, size_t len, struct announce *a, char *err, size_t errlen)
{
	size_t body;
	int used;

	if (len < ANNOUNCE_FIXED + 1 + ANNOUNCE_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "announcement truncated: %zu bytes", len);
	if (memcmp(buf, ANNOUNCE_MAGIC, 4) != 0)
		return errmsg(err, errlen, -EBADMSG, "announcement magic is not %s",
			      ANNOUNCE_MAGIC);
	memcpy(a->ed25519_pk, buf + 4, 32);
	a->seq = get_le64(buf + 36);
	used = endpoints_decode(buf + ANNOUNCE_FIXED, len - ANNOUNCE_FIXED - ANNOUNCE_SIG_LEN,
				a->endpoints, ANNOUNCE_MAX_ENDPOINTS, &a->nendpoints);
	if (used == -E2BIG)
		return errmsg(err, errlen, -EBADMSG, "announcement endpoint count %zu exceeds %d",
			      a->nendpoints, ANNOUNCE_MAX_ENDPOINTS);
	if (used < 0)
		return errmsg(err, errlen, -EBADMSG, "announcement endpoint %zu: %s", a->nendpoints,
			      endpoints_strerror(used));
	body = ANNOUNCE_FIXED + (size_t)used;
	if (len != body + ANNOUNCE_SIG_LEN)
		return errmsg(err, errlen, -EBADMSG, "announcement has %zu trailing bytes",
			      len - body - ANNOUNCE_SIG_LEN);
	memcpy(a->sig, buf + body, ANNOUNCE_SIG_LEN);
	return (int)body;
}

int announce_decode(const uint8_t *buf, size_t len, struct announce *a, char *err, size_t errlen)
{
	uint8_t msg[ANNOUNCE_CONTEXT_LEN + ANNOUNCE_MAX - ANNOUNCE_SIG_LEN];
	int ret;

	memset(a, 0, sizeof(*a));
	ret = parse(buf, len, a, err, errlen);
	if (ret < 0)
		goto err;
	memcpy(msg, ANNOUNCE_CONTEXT, ANNOUNCE_CONTEXT_LEN);
	memcpy(msg + ANNOUNCE_CONTEXT_LEN, buf, (size_t)ret);
	if (crypto_sign_verify_detached(a->sig, msg, ANNOUNCE_CONTEXT_LEN + (size_t)ret,
					a->ed25519_pk) != 0) {
		ret = errmsg(err, errlen, -EPERM, "announcement signature does not verify");
		goto err;
	}
	if (crypto_sign_ed25519_pk_to_curve25519(a->x25519_pk, a->ed25519_pk) != 0) {
		ret = errmsg(err, errlen, -EBADMSG, "announcement ed25519 key has no X25519 form");
		goto err;
	}
	return 0;
err:
	memset(a, 0, sizeof(*a));
	return ret;
}
