/*
 * The service store (see services.h): a sorted array of signed sets, one
 * per (network, member), and this node's own registrations; JSON on disk,
 * written whole with atomic_write_file.
 */
#include "common/errmsg.h"
#include "dns/services.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomicfile.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

void dns_services_init(struct dns_services *s)
{
	memset(s, 0, sizeof(*s));
}

void dns_services_free(struct dns_services *s)
{
	if (!s)
		return;
	free(s->sets);
	memset(s, 0, sizeof(*s));
}

static int cmp_key(const struct service_set *a, const uint8_t *net, const uint8_t *x)
{
	int c = memcmp(a->network_pk, net, NETWORK_KEY_LEN);

	return c ? c : memcmp(a->x25519_pk, x, 32);
}

/* Binary search: the set's index, or where it would go (*found false). */
static size_t find(const struct dns_services *s, const uint8_t *net, const uint8_t *x, bool *found)
{
	size_t lo = 0, hi = s->nsets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(&s->sets[mid], net, x);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct service_set *dns_services_get(const struct dns_services *s,
					   const uint8_t network_pk[NETWORK_KEY_LEN],
					   const uint8_t x25519[32])
{
	bool found;
	size_t i = find(s, network_pk, x25519, &found);

	return found ? &s->sets[i] : NULL;
}

/* Stores set, replacing an older one; 1 news, 0 not newer, -ENOMEM. */
static int store(struct dns_services *s, const struct service_set *set)
{
	bool found;
	size_t i = find(s, set->network_pk, set->x25519_pk, &found);

	if (found) {
		if (set->seq <= s->sets[i].seq)
			return 0;
		s->sets[i] = *set;
		return 1;
	}
	if (s->nsets == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct service_set *sets = reallocarray(s->sets, cap, sizeof(*sets));

		if (!sets)
			return -ENOMEM;
		s->sets = sets;
		s->cap = cap;
	}
	memmove(&s->sets[i + 1], &s->sets[i], (s->nsets - i) * sizeof(*set));
	s->sets[i] = *set;
	s->nsets++;
	return 1;
}

bool dns_services_counts(const struct network *n, const struct service_set *set)
{
	const struct member_record *r = network_member(n, set->x25519_pk);

	return r && !(r->flags & MEMBER_FLAG_REVOKED) &&
	       memcmp(r->ed25519_pk, set->ed25519_pk, 32) == 0;
}

int dns_services_merge(struct dns_services *s, const struct network *n,
		       const struct service_set *set)
{
	if (memcmp(set->network_pk, n->pk, NETWORK_KEY_LEN) != 0)
		return -EINVAL;
	if (!dns_services_counts(n, set))
		return -EPERM;
	return store(s, set);
}

bool dns_services_has(const struct dns_services *s, const uint8_t network_pk[NETWORK_KEY_LEN],
		      const struct member_record *r, const char *name, size_t len)
{
	const struct service_set *set = dns_services_get(s, network_pk, r->x25519_pk);

	return set && memcmp(set->ed25519_pk, r->ed25519_pk, 32) == 0 &&
	       service_set_has(set, name, len);
}

uint64_t dns_services_newest(const struct dns_services *s)
{
	uint64_t newest = 0;

	for (size_t i = 0; i < s->nsets; i++)
		newest = s->sets[i].seq > newest ? s->sets[i].seq : newest;
	return newest;
}

bool dns_services_digest(const struct dns_services *s, const struct network *n,
			 uint8_t out[NETWORK_DIGEST_LEN])
{
	crypto_generichash_state st;
	uint8_t item[32 + 8];
	bool found;
	bool any = false;
	size_t i = find(s, n->pk, (const uint8_t[32]){ 0 }, &found);

	crypto_generichash_init(&st, NULL, 0, NETWORK_DIGEST_LEN);
	for (; i < s->nsets && memcmp(s->sets[i].network_pk, n->pk, NETWORK_KEY_LEN) == 0; i++) {
		if (!dns_services_counts(n, &s->sets[i]))
			continue;
		memcpy(item, s->sets[i].x25519_pk, 32);
		for (int b = 0; b < 8; b++)
			item[32 + b] = (uint8_t)(s->sets[i].seq >> (8 * b));
		crypto_generichash_update(&st, item, sizeof(item));
		any = true;
	}
	if (any)
		crypto_generichash_final(&st, out, NETWORK_DIGEST_LEN);
	return any;
}

bool dns_services_own_for(const struct dns_services *s, const struct network *n,
			  struct service_set *out)
{
	bool all = true;

	memset(out, 0, sizeof(*out));
	memcpy(out->network_pk, n->pk, NETWORK_KEY_LEN);
	for (size_t i = 0; i < s->nown; i++) {
		const struct dns_own_service *o = &s->own[i];

		if (o->network[0] && strcmp(o->network, n->label) != 0)
			continue;
		if (service_set_has(out, o->name, strlen(o->name)))
			continue;
		if (out->nnames == SERVICE_MAX_NAMES) {
			all = false;
			continue;
		}
		snprintf(out->names[out->nnames++], sizeof(out->names[0]), "%s", o->name);
	}
	return all;
}

/* --- the file ---------------------------------------------------------------- */

static int load_own(struct dns_services *s, json_t *own, const char *path, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(own))
		return errmsg(err, errlen, -EINVAL, "%s: \"own\" is not an array", path);
	json_array_foreach(own, i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		json_t *net = json_object_get(v, "network");
		struct dns_own_service *o;

		if (!name || !hostname_valid(name) ||
		    !(json_is_null(net) ||
		      (json_is_string(net) && hostname_valid(json_string_value(net)))) ||
		    s->nown == DNS_OWN_SERVICES_MAX)
			return errmsg(
				err, errlen, -EINVAL,
				"%s: own[%zu]: not {\"name\": LABEL, \"network\": LABEL or null}",
				path, i);
		o = &s->own[s->nown++];
		snprintf(o->name, sizeof(o->name), "%s", name);
		snprintf(o->network, sizeof(o->network), "%s",
			 json_is_string(net) ? json_string_value(net) : "");
	}
	return 0;
}

static int load_sets(struct dns_services *s, json_t *sets, const char *path, char *err,
		     size_t errlen)
{
	uint8_t blob[SERVICE_MAX];
	struct service_set set;
	char why[128];
	size_t i, len;
	json_t *v;

	if (!json_is_array(sets))
		return errmsg(err, errlen, -EINVAL, "%s: \"sets\" is not an array", path);
	json_array_foreach(sets, i, v)
	{
		const char *b = json_string_value(v);

		if (!b ||
		    sodium_base642bin(blob, sizeof(blob), b, strlen(b), NULL, &len, NULL, B64) != 0)
			return errmsg(err, errlen, -EINVAL,
				      "%s: sets[%zu]: not the base64 of a service set", path, i);
		if (service_set_decode(blob, len, &set, why, sizeof(why)) < 0)
			return errmsg(err, errlen, -EINVAL, "%s: sets[%zu]: %s", path, i, why);
		if (store(s, &set) < 0)
			return errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	return 0;
}

int dns_services_load(struct dns_services *s, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	int r;

	dns_services_free(s);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		FILE *f = fopen(path, "re");

		if (!f && errno == ENOENT)
			return 0;
		if (f)
			fclose(f);
		return errmsg(err, errlen, -EINVAL, "%s:%d: %s", path, je.line, je.text);
	}
	r = json_is_object(root) ? 0 : errmsg(err, errlen, -EINVAL, "%s: not an object", path);
	if (r == 0)
		r = load_own(s, json_object_get(root, "own"), path, err, errlen);
	if (r == 0)
		r = load_sets(s, json_object_get(root, "sets"), path, err, errlen);
	json_decref(root);
	if (r < 0)
		dns_services_free(s);
	return r;
}

static json_t *to_json(const struct dns_services *s)
{
	json_t *root = json_object(), *own = json_array(), *sets = json_array();
	uint8_t blob[SERVICE_MAX];
	char b64[sodium_base64_ENCODED_LEN(SERVICE_MAX, B64)];

	json_object_set_new(root, "own", own);
	json_object_set_new(root, "sets", sets);
	for (size_t i = 0; i < s->nown; i++)
		json_array_append_new(own, json_pack("{s:s,s:o}", "name", s->own[i].name, "network",
						     s->own[i].network[0] ?
							     json_string(s->own[i].network) :
							     json_null()));
	for (size_t i = 0; i < s->nsets; i++) {
		size_t len = service_set_encode(&s->sets[i], blob, sizeof(blob));

		if (!len)
			continue;
		sodium_bin2base64(b64, sizeof(b64), blob, len, B64);
		json_array_append_new(sets, json_string(b64));
	}
	return root;
}

int dns_services_save(const struct dns_services *s, const char *path, char *err, size_t errlen)
{
	json_t *root = to_json(s);
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	int r = -ENOMEM;

	if (text)
		r = atomic_write_file(path, text, strlen(text), 0600);
	if (r < 0)
		errmsg(err, errlen, r, "%s: cannot write: %s", path, strerror(-r));
	free(text);
	json_decref(root);
	return r;
}
