/*
 * The state file of a network (mesh/network.h), STATE_DIR/networks/LABEL.json,
 * mode 0600 because an owner's file holds the network secret:
 *
 *   {
 *     "format": 1,
 *     "label": "home",                  local name, a hostname_valid() label
 *     "network_key": "<base64>",        32 bytes: 44 characters, as key_to_base64
 *     "network_secret": "<base64>",     64 bytes, libsodium's ed25519 layout;
 *                                       present only on the owner
 *     "hostname": "alice",              this node's hostname in the network
 *     "last_version": 1700000000000000, owner: highest record version issued
 *     "members": ["<base64 of a signed member record>", ...],
 *     "announces": ["<base64 of a signed endpoint announcement>", ...],
 *     "invites": [{"secret_hash": "<base64 of 32 bytes>",
 *                  "created": 1700000000, "expires": 0,   unix seconds, 0 never
 *                  "reusable": false, "used": true,
 *                  "used_by": "<base64 x25519 key; only once used>"}, ...]
 *   }
 *
 * Base64 is the standard alphabet with padding. Integers are below 2^63.
 * Fields not listed are ignored. Every record and announcement is verified
 * again on load and must belong to this network, and the secret must be the
 * key's; a file that fails is reported with its path and the first thing
 * wrong, and never rewritten. The file is replaced whole (atomic_write_file).
 */
#include "mesh/network.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomicfile.h"
#include "mesh/identity.h"

#define FORMAT 1
#define FILE_MAX (16 << 20)
#define B64 sodium_base64_VARIANT_ORIGINAL
/* The longest binary value stored as base64. */
#define BLOB_MAX MAX(MEMBER_RECORD_MAX, ANNOUNCE_MAX)
/* Longest part of a value quoted in a message. */
#define QUOTE_MAX 48

_Static_assert(NETWORK_SECRET_LEN <= BLOB_MAX, "the secret fits the base64 buffer");

/* The file being read or written, and where to say what is wrong with it. */
struct where {
	const char *path;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int fail(const struct where *w, int code,
						      const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (!w->err || !w->errlen)
		return code;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errlen, "%s: %s", w->path, what);
	return code;
}

/* jansson frees strings without wiping them; a string that held the secret
 * is wiped in place first. */
static void wipe_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

/* --- load ------------------------------------------------------------------ */

/* Reads all of n bytes or up to the end of the file: the length read, or
 * -errno. */
static ssize_t read_all(int fd, char *buf, size_t n)
{
	size_t len = 0;

	while (len < n) {
		ssize_t r = read(fd, buf + len, n - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	return (ssize_t)len;
}

/* Reads the whole file, refusing anything but a regular file of at most
 * FILE_MAX bytes. */
static int read_file(const struct where *w, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t len;
	size_t cap;
	int fd, ret;

	fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(w, -errno, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = fail(w, -errno, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = fail(w, -EINVAL, "not a regular file");
		goto out;
	}
	if (st.st_size > FILE_MAX) {
		ret = fail(w, -EFBIG, "larger than 16 MiB: not a network state file");
		goto out;
	}
	/* One byte more than the size, to notice a file that grew meanwhile. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		ret = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	len = read_all(fd, buf, cap);
	if (len < 0)
		ret = fail(w, (int)len, "cannot read: %s", strerror((int)-len));
	else if ((size_t)len == cap)
		ret = fail(w, -EAGAIN, "changed while being read");
	else
		ret = 0;
	if (ret < 0) {
		free(buf);
		goto out;
	}
	*out = buf;
	*outlen = (size_t)len;
out:
	close(fd);
	return ret;
}

/* obj[key], which must be there. prefix names the object for messages. */
static json_t *get(const struct where *w, const char *prefix, json_t *obj, const char *key,
		   int *ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = v ? 0 : fail(w, -EINVAL, "%s\"%s\" is missing", prefix, key);
	return v;
}

static int get_string(const struct where *w, const char *prefix, json_t *obj, const char *key,
		      const char **out)
{
	int ret;
	json_t *v = get(w, prefix, obj, key, &ret);

	if (ret < 0)
		return ret;
	if (!json_is_string(v))
		return fail(w, -EINVAL, "%s\"%s\" must be a string", prefix, key);
	*out = json_string_value(v);
	return 0;
}

static int get_uint(const struct where *w, const char *prefix, json_t *obj, const char *key,
		    uint64_t *out)
{
	int ret;
	json_t *v = get(w, prefix, obj, key, &ret);

	if (ret < 0)
		return ret;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(w, -EINVAL, "%s\"%s\" must be a non-negative integer", prefix, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_bool(const struct where *w, const char *prefix, json_t *obj, const char *key,
		    bool *out)
{
	int ret;
	json_t *v = get(w, prefix, obj, key, &ret);

	if (ret < 0)
		return ret;
	if (!json_is_boolean(v))
		return fail(w, -EINVAL, "%s\"%s\" must be true or false", prefix, key);
	*out = json_is_true(v);
	return 0;
}

static int get_array(const struct where *w, json_t *obj, const char *key, json_t **out)
{
	int ret;

	*out = get(w, "", obj, key, &ret);
	if (ret < 0)
		return ret;
	if (!json_is_array(*out))
		return fail(w, -EINVAL, "\"%s\" must be an array", key);
	return 0;
}

/* Standard base64 of at most max bytes, the whole string. */
static bool unbase64(const char *s, uint8_t *out, size_t max, size_t *len)
{
	return sodium_base642bin(out, max, s, strlen(s), NULL, len, NULL, B64) == 0;
}

static const char *ellipsis(const char *s)
{
	return strlen(s) > QUOTE_MAX ? "..." : "";
}

/* The secret is checked against the key by deriving the pair again from
 * its seed half: libsodium's secret key is seed || public key, and only
 * comparing the public half would accept a secret with a wrong seed. */
static int load_secret(const struct where *w, struct network *n, const char *s)
{
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	size_t len = 0;
	int ret = 0;

	if (!unbase64(s, n->sk, sizeof(n->sk), &len) || len != sizeof(n->sk)) {
		ret = fail(w, -EINVAL, "\"network_secret\" is not base64 of %d bytes",
			   NETWORK_SECRET_LEN);
		goto out;
	}
	crypto_sign_ed25519_sk_to_seed(seed, n->sk);
	crypto_sign_seed_keypair(pk, sk, seed);
	if (memcmp(pk, n->pk, sizeof(pk)) != 0 || sodium_memcmp(sk, n->sk, sizeof(sk)) != 0) {
		ret = fail(w, -EINVAL, "\"network_secret\" does not match \"network_key\"");
		goto out;
	}
	n->owner = true;
out:
	if (ret < 0)
		sodium_memzero(n->sk, sizeof(n->sk));
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	return ret;
}

/* Everything but the lists: makes the network. */
static int load_head(const struct where *w, json_t *root, struct network **out)
{
	const char *label, *key, *hostname, *secret;
	uint64_t format, last_version;
	uint8_t pk[NETWORK_KEY_LEN];
	struct network *n;
	int ret;

	if (!json_is_object(root))
		return fail(w, -EINVAL, "not a JSON object");
	ret = get_uint(w, "", root, "format", &format);
	if (ret < 0)
		return ret;
	if (format != FORMAT)
		return fail(w, -EINVAL, "\"format\" is %llu; this version of manta reads %d",
			    (unsigned long long)format, FORMAT);
	ret = get_string(w, "", root, "label", &label);
	if (ret < 0)
		return ret;
	if (!hostname_valid(label))
		return fail(w, -EINVAL, "\"label\" is not a valid name: `%.*s%s'", QUOTE_MAX, label,
			    ellipsis(label));
	ret = get_string(w, "", root, "network_key", &key);
	if (ret < 0)
		return ret;
	if (!key_from_base64(key, pk))
		return fail(w, -EINVAL,
			    "\"network_key\" is not a key (44 characters of base64): `%.*s%s'",
			    QUOTE_MAX, key, ellipsis(key));
	ret = get_string(w, "", root, "hostname", &hostname);
	if (ret < 0)
		return ret;
	if (!hostname_valid(hostname))
		return fail(w, -EINVAL, "\"hostname\" is not a valid hostname: `%.*s%s'", QUOTE_MAX,
			    hostname, ellipsis(hostname));
	ret = get_uint(w, "", root, "last_version", &last_version);
	if (ret < 0)
		return ret;
	n = network_new(label, pk);
	if (!n)
		return fail(w, -ENOMEM, "out of memory");
	snprintf(n->hostname, sizeof(n->hostname), "%s", hostname);
	n->last_version = last_version;
	if (json_object_get(root, "network_secret")) {
		ret = get_string(w, "", root, "network_secret", &secret);
		if (ret == 0)
			ret = load_secret(w, n, secret);
	}
	if (ret < 0) {
		network_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

static int load_members(const struct where *w, json_t *root, struct network *n)
{
	uint8_t blob[MEMBER_RECORD_MAX];
	struct member_record r;
	char why[128];
	json_t *list, *v;
	size_t i, len;
	int ret;

	ret = get_array(w, root, "members", &list);
	if (ret < 0)
		return ret;
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v) || !unbase64(json_string_value(v), blob, sizeof(blob), &len))
			return fail(w, -EINVAL, "members[%zu]: not the base64 of a member record",
				    i);
		why[0] = '\0';
		ret = member_record_decode(blob, len, &r, why, sizeof(why));
		if (ret < 0)
			return fail(w, ret, "members[%zu]: %s", i, why);
		if (memcmp(r.network_pk, n->pk, NETWORK_KEY_LEN) != 0)
			return fail(w, -EINVAL, "members[%zu]: a record of another network", i);
		ret = network_merge_record(n, &r);
		if (ret < 0)
			return fail(w, ret, "members[%zu]: %s", i, strerror(-ret));
	}
	return 0;
}

static int load_announces(const struct where *w, json_t *root, struct network *n)
{
	uint8_t blob[ANNOUNCE_MAX];
	struct announce a;
	char why[128];
	json_t *list, *v;
	size_t i, len;
	int ret;

	ret = get_array(w, root, "announces", &list);
	if (ret < 0)
		return ret;
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v) || !unbase64(json_string_value(v), blob, sizeof(blob), &len))
			return fail(w, -EINVAL, "announces[%zu]: not the base64 of an announcement",
				    i);
		why[0] = '\0';
		ret = announce_decode(blob, len, &a, why, sizeof(why));
		if (ret < 0)
			return fail(w, ret, "announces[%zu]: %s", i, why);
		ret = network_merge_announce(n, &a);
		if (ret == -EPERM)
			return fail(w, ret,
				    "announces[%zu]: not signed by a member of this network", i);
		if (ret < 0)
			return fail(w, ret, "announces[%zu]: %s", i, strerror(-ret));
	}
	return 0;
}

static int load_invite(const struct where *w, json_t *obj, size_t i, struct invite_slot *s)
{
	const char *hash, *used_by;
	char prefix[32];
	size_t len = 0;
	int ret;

	snprintf(prefix, sizeof(prefix), "invites[%zu]: ", i);
	if (!json_is_object(obj))
		return fail(w, -EINVAL, "%smust be an object", prefix);
	memset(s, 0, sizeof(*s));
	ret = get_string(w, prefix, obj, "secret_hash", &hash);
	if (ret < 0)
		return ret;
	if (!unbase64(hash, s->secret_hash, sizeof(s->secret_hash), &len) ||
	    len != sizeof(s->secret_hash))
		return fail(w, -EINVAL, "%s\"secret_hash\" is not base64 of 32 bytes", prefix);
	ret = get_uint(w, prefix, obj, "created", &s->created);
	if (ret == 0)
		ret = get_uint(w, prefix, obj, "expires", &s->expires);
	if (ret == 0)
		ret = get_bool(w, prefix, obj, "reusable", &s->reusable);
	if (ret == 0)
		ret = get_bool(w, prefix, obj, "used", &s->used);
	if (ret < 0 || !json_object_get(obj, "used_by"))
		return ret;
	ret = get_string(w, prefix, obj, "used_by", &used_by);
	if (ret < 0)
		return ret;
	if (!key_from_base64(used_by, s->used_by))
		return fail(w, -EINVAL, "%s\"used_by\" is not a key: `%.*s%s'", prefix, QUOTE_MAX,
			    used_by, ellipsis(used_by));
	return 0;
}

static int load_invites(const struct where *w, json_t *root, struct network *n)
{
	json_t *list, *v;
	size_t i;
	int ret;

	ret = get_array(w, root, "invites", &list);
	if (ret < 0 || json_array_size(list) == 0)
		return ret;
	n->invites = calloc(json_array_size(list), sizeof(*n->invites));
	if (!n->invites)
		return fail(w, -ENOMEM, "out of memory");
	n->invites_cap = json_array_size(list);
	json_array_foreach(list, i, v)
	{
		ret = load_invite(w, v, i, &n->invites[i]);
		if (ret < 0)
			return ret;
		n->ninvites++;
	}
	return 0;
}

int network_load(const char *path, struct network **out, char *err, size_t errlen)
{
	const struct where w = { path, err, errlen };
	struct network *n = NULL;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	json_t *root;
	int ret;

	ret = read_file(&w, &text, &len);
	if (ret < 0)
		return ret;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	sodium_memzero(text, len);
	free(text);
	if (!root)
		return fail(&w, -EINVAL, "not JSON: %s at line %d column %d", jerr.text, jerr.line,
			    jerr.column);
	ret = load_head(&w, root, &n);
	/* The owner flag is set by now, so merging raises last_version to the
	 * highest record version, whatever the file said. */
	if (ret == 0)
		ret = load_members(&w, root, n);
	if (ret == 0)
		ret = load_announces(&w, root, n);
	if (ret == 0)
		ret = load_invites(&w, root, n);
	wipe_string(root, "network_secret");
	json_decref(root);
	if (ret < 0) {
		network_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

/* --- save ------------------------------------------------------------------ */

static json_t *base64(const uint8_t *bin, size_t len)
{
	char s[sodium_base64_ENCODED_LEN(BLOB_MAX, B64)];
	json_t *v;

	if (len > BLOB_MAX)
		return NULL;
	sodium_bin2base64(s, sizeof(s), bin, len, B64);
	v = json_string(s);
	sodium_memzero(s, sizeof(s)); /* it may have been the secret */
	return v;
}

/* json_object_set_new and json_array_append_new, taking a NULL value (a
 * failed allocation) as a failure. Both consume v. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

static int push(json_t *list, json_t *v)
{
	return v ? json_array_append_new(list, v) : -1;
}

static int save_head(const struct network *n, json_t *root)
{
	char key[KEY_B64_LEN];
	int bad = 0;

	key_to_base64(n->pk, key);
	bad |= put(root, "format", json_integer(FORMAT));
	bad |= put(root, "label", json_string(n->label));
	bad |= put(root, "network_key", json_string(key));
	if (n->owner)
		bad |= put(root, "network_secret", base64(n->sk, sizeof(n->sk)));
	bad |= put(root, "hostname", json_string(n->hostname));
	bad |= put(root, "last_version", json_integer((json_int_t)n->last_version));
	return bad ? -ENOMEM : 0;
}

/* -EINVAL if a record or announcement does not encode (never one that was
 * merged, as those were decoded or signed here). */
static int save_lists(const struct network *n, json_t *members, json_t *announces)
{
	uint8_t blob[BLOB_MAX];
	size_t len;

	for (size_t i = 0; i < n->nmembers; i++) {
		len = member_record_encode(&n->members[i], blob, sizeof(blob));
		if (!len)
			return -EINVAL;
		if (push(members, base64(blob, len)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n->nannounces; i++) {
		len = announce_encode(&n->announces[i], blob, sizeof(blob));
		if (!len)
			return -EINVAL;
		if (push(announces, base64(blob, len)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static json_t *save_invite(const struct invite_slot *s)
{
	json_t *obj = json_object();
	char key[KEY_B64_LEN];
	int bad = 0;

	if (!obj)
		return NULL;
	bad |= put(obj, "secret_hash", base64(s->secret_hash, sizeof(s->secret_hash)));
	bad |= put(obj, "created", json_integer((json_int_t)s->created));
	bad |= put(obj, "expires", json_integer((json_int_t)s->expires));
	bad |= put(obj, "reusable", json_boolean(s->reusable));
	bad |= put(obj, "used", json_boolean(s->used));
	if (s->used) {
		key_to_base64(s->used_by, key);
		bad |= put(obj, "used_by", json_string(key));
	}
	if (bad) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int save_json(const struct network *n, json_t **out)
{
	json_t *root = json_object(), *members = json_array(), *announces = json_array();
	json_t *invites = json_array();
	int ret = -ENOMEM;

	if (!root || !members || !announces || !invites || save_head(n, root) < 0)
		goto out;
	ret = save_lists(n, members, announces);
	for (size_t i = 0; ret == 0 && i < n->ninvites; i++)
		if (push(invites, save_invite(&n->invites[i])) < 0)
			ret = -ENOMEM;
	if (ret == 0 && (json_object_set(root, "members", members) < 0 ||
			 json_object_set(root, "announces", announces) < 0 ||
			 json_object_set(root, "invites", invites) < 0))
		ret = -ENOMEM;
out:
	json_decref(members);
	json_decref(announces);
	json_decref(invites);
	if (ret < 0 && root) {
		wipe_string(root, "network_secret");
		json_decref(root);
		return ret;
	}
	*out = root;
	return ret;
}

int network_save(const struct network *n, const char *path, char *err, size_t errlen)
{
	const struct where w = { path, err, errlen };
	json_t *root = NULL;
	char *text;
	size_t len;
	int ret;

	ret = save_json(n, &root);
	if (ret == -EINVAL)
		return fail(&w, ret, "not saved: a record or announcement does not encode");
	if (ret < 0)
		return fail(&w, ret, "not saved: out of memory");
	/* Sized first, so the text (secret included) is never reallocated and
	 * left behind in freed memory; then a final newline. */
	len = json_dumpb(root, NULL, 0, JSON_INDENT(2));
	text = len ? malloc(len + 1) : NULL;
	if (text && json_dumpb(root, text, len, JSON_INDENT(2)) == len)
		text[len++] = '\n';
	else
		len = 0;
	wipe_string(root, "network_secret");
	json_decref(root);
	if (!len) {
		free(text);
		return fail(&w, -ENOMEM, "not saved: out of memory");
	}
	ret = atomic_write_file(path, text, len, 0600);
	sodium_memzero(text, len);
	free(text);
	if (ret < 0)
		return fail(&w, ret, "cannot write: %s", strerror(-ret));
	return 0;
}
