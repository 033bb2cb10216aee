/* The session index table: unique random indices, lookups by type,
 * replacement in place, removal; scripted indices (a fake random source) for
 * collisions and chains in one bucket; and a randomized differential test
 * against a naive array of entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "mesh/index.h"

/* --- scripted indices ------------------------------------------------------ */

static uint32_t script[16];
static size_t script_len, script_pos;

static const char *script_name(void)
{
	return "test-script";
}

static uint32_t script_random(void)
{
	if (script_pos >= script_len)
		fail_msg("index script exhausted");
	return script[script_pos++];
}

static void script_buf(void *buf, size_t size)
{
	fail_msg("unexpected randombytes_buf(%zu)", size);
}

static struct randombytes_implementation script_rng = {
	.implementation_name = script_name,
	.random = script_random,
	.buf = script_buf,
};

static uint32_t insert_scripted(struct index_table *t, struct index_entry *e)
{
	randombytes_set_implementation(&script_rng);
	uint32_t index = index_table_insert(t, e);
	randombytes_set_implementation(&randombytes_sysrandom_implementation);
	return index;
}

/* --- tests ----------------------------------------------------------------- */

static void test_insert_unique(void **state)
{
	enum { N = 5000 };
	static struct index_table t;
	static struct index_entry e[N];

	index_table_init(&t);
	memset(e, 0, sizeof(e));
	for (unsigned i = 0; i < N; i++) {
		e[i].type = i % 2 ? INDEX_KEYPAIR : INDEX_HANDSHAKE;
		uint32_t index = index_table_insert(&t, &e[i]);

		assert_int_equal(index, e[i].index);
		assert_true(e[i].linked);
		assert_int_equal(t.count, i + 1);
	}
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = i + 1; j < N; j++)
			assert_int_not_equal(e[i].index, e[j].index);
		assert_ptr_equal(index_table_lookup(&t, e[i].index, e[i].type), &e[i]);
	}
	for (unsigned i = 0; i < N; i++)
		index_table_remove(&t, &e[i]);
	assert_int_equal(t.count, 0);
	for (unsigned i = 0; i < INDEX_BUCKETS; i++)
		assert_null(t.buckets[i]);
}

static void test_lookup_by_type(void **state)
{
	static struct index_table t;
	struct index_entry hs = { .type = INDEX_HANDSHAKE }, kp = { .type = INDEX_KEYPAIR };
	int object;

	kp.object = &object;
	index_table_init(&t);
	index_table_insert(&t, &hs);
	index_table_insert(&t, &kp);
	assert_ptr_equal(index_table_lookup(&t, hs.index, INDEX_HANDSHAKE), &hs);
	assert_null(index_table_lookup(&t, hs.index, INDEX_KEYPAIR));
	assert_ptr_equal(index_table_lookup(&t, kp.index, INDEX_KEYPAIR), &kp);
	assert_ptr_equal(index_table_lookup(&t, kp.index, INDEX_KEYPAIR)->object, &object);
	assert_null(index_table_lookup(&t, kp.index, INDEX_HANDSHAKE));
	assert_null(index_table_lookup(&t, hs.index ^ kp.index ^ 1, INDEX_HANDSHAKE));
}

/* A handshake's entry handed over to its keypair keeps the index. */
static void test_replace(void **state)
{
	static struct index_table t;
	struct index_entry hs = { .type = INDEX_HANDSHAKE }, kp = { .type = INDEX_KEYPAIR };
	struct index_entry other = { .type = INDEX_KEYPAIR };

	index_table_init(&t);
	uint32_t index = index_table_insert(&t, &hs);

	index_table_insert(&t, &other);
	index_table_replace(&t, &hs, &kp);
	assert_int_equal(kp.index, index);
	assert_true(kp.linked);
	assert_false(hs.linked);
	assert_int_equal(t.count, 2);
	assert_null(index_table_lookup(&t, index, INDEX_HANDSHAKE));
	assert_ptr_equal(index_table_lookup(&t, index, INDEX_KEYPAIR), &kp);
	assert_ptr_equal(index_table_lookup(&t, other.index, INDEX_KEYPAIR), &other);

	/* The old entry can be inserted again and gets a new index. */
	uint32_t again = index_table_insert(&t, &hs);

	assert_int_not_equal(again, index);
	assert_int_equal(t.count, 3);
	index_table_remove(&t, &kp);
	assert_null(index_table_lookup(&t, index, INDEX_KEYPAIR));
	assert_int_equal(t.count, 2);
}

static void test_remove(void **state)
{
	static struct index_table t;
	struct index_entry a = { .type = INDEX_HANDSHAKE }, b = { .type = INDEX_HANDSHAKE };

	index_table_init(&t);
	index_table_insert(&t, &a);
	index_table_insert(&t, &b);
	index_table_remove(&t, &a);
	assert_false(a.linked);
	assert_null(index_table_lookup(&t, a.index, INDEX_HANDSHAKE));
	assert_ptr_equal(index_table_lookup(&t, b.index, INDEX_HANDSHAKE), &b);
	assert_int_equal(t.count, 1);
	/* Twice, or never inserted: nothing happens. */
	index_table_remove(&t, &a);
	struct index_entry never = { .type = INDEX_KEYPAIR, .index = b.index };

	index_table_remove(&t, &never);
	assert_int_equal(t.count, 1);
	assert_ptr_equal(index_table_lookup(&t, b.index, INDEX_HANDSHAKE), &b);
}

/* Chains in one bucket, and a drawn index that is already taken. */
static void test_collisions(void **state)
{
	static struct index_table t;
	struct index_entry e[4] = {
		{ .type = INDEX_HANDSHAKE },
		{ .type = INDEX_KEYPAIR },
		{ .type = INDEX_HANDSHAKE },
		{ .type = INDEX_KEYPAIR },
	};
	struct index_entry r = { .type = INDEX_KEYPAIR };

	index_table_init(&t);
	script_pos = 0;
	script_len = 6;
	script[0] = 5;
	script[1] = 5; /* taken: drawn again */
	script[2] = 5 + INDEX_BUCKETS;
	script[3] = 5 + 2 * INDEX_BUCKETS;
	script[4] = 5 + INDEX_BUCKETS; /* taken */
	script[5] = 5 + 3 * INDEX_BUCKETS;
	assert_int_equal(insert_scripted(&t, &e[0]), 5);
	assert_int_equal(insert_scripted(&t, &e[1]), 5 + INDEX_BUCKETS);
	assert_int_equal(insert_scripted(&t, &e[2]), 5 + 2 * INDEX_BUCKETS);
	assert_int_equal(insert_scripted(&t, &e[3]), 5 + 3 * INDEX_BUCKETS);
	assert_int_equal(script_pos, script_len);
	assert_int_equal(t.count, 4);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(index_table_lookup(&t, e[i].index, e[i].type), &e[i]);
	assert_null(index_table_lookup(&t, 5 + 4 * INDEX_BUCKETS, INDEX_KEYPAIR));

	/* Replace and remove in the middle of the chain. */
	index_table_replace(&t, &e[1], &r);
	assert_ptr_equal(index_table_lookup(&t, 5 + INDEX_BUCKETS, INDEX_KEYPAIR), &r);
	index_table_remove(&t, &e[2]);
	assert_null(index_table_lookup(&t, 5 + 2 * INDEX_BUCKETS, INDEX_HANDSHAKE));
	assert_ptr_equal(index_table_lookup(&t, 5, INDEX_HANDSHAKE), &e[0]);
	assert_ptr_equal(index_table_lookup(&t, 5 + 3 * INDEX_BUCKETS, INDEX_KEYPAIR), &e[3]);
	assert_ptr_equal(index_table_lookup(&t, 5 + INDEX_BUCKETS, INDEX_KEYPAIR), &r);
	index_table_remove(&t, &e[3]);
	index_table_remove(&t, &e[0]);
	index_table_remove(&t, &r);
	assert_int_equal(t.count, 0);
	assert_null(t.buckets[5]);
}

/* Naive reference: which entries are linked, under what index. Every
 * operation is followed by checking count and a few lookups against it;
 * every 1000, all of them. */
static void test_differential(void **state)
{
	enum { N = 300, ROUNDS = 200000 };
	static struct index_table t;
	static struct index_entry e[N];
	static bool linked[N];
	static uint32_t idx[N];
	unsigned count = 0;

	srand(4321);
	index_table_init(&t);
	memset(e, 0, sizeof(e));
	memset(linked, 0, sizeof(linked));
	for (unsigned i = 0; i < N; i++)
		e[i].type = rand() % 2 ? INDEX_KEYPAIR : INDEX_HANDSHAKE;

	for (int round = 0; round < ROUNDS; round++) {
		unsigned a = (unsigned)rand() % N, b = (unsigned)rand() % N;

		switch (rand() % 4) {
		case 0: /* insert */
			if (linked[a])
				break;
			idx[a] = index_table_insert(&t, &e[a]);
			for (unsigned i = 0; i < N; i++)
				if (linked[i] && idx[i] == idx[a])
					fail_msg("round %d: index %u handed out twice", round,
						 idx[a]);
			linked[a] = true;
			count++;
			break;
		case 1: /* remove, linked or not */
			index_table_remove(&t, &e[a]);
			if (linked[a])
				count--;
			linked[a] = false;
			break;
		case 2: /* replace a linked entry by an unlinked one */
			if (!linked[a] || linked[b])
				break;
			index_table_replace(&t, &e[a], &e[b]);
			idx[b] = idx[a];
			linked[b] = true;
			linked[a] = false;
			break;
		default: /* look up something absent */
			if (!linked[a]) {
				uint32_t probe = (uint32_t)rand() << 16 ^ (uint32_t)rand();
				struct index_entry *f = index_table_lookup(&t, probe, e[a].type);

				if (f)
					assert_true(f->linked && f->index == probe &&
						    f->type == e[a].type);
			}
			break;
		}
		assert_int_equal(t.count, count);
		assert_int_equal(e[a].linked, linked[a]);
		assert_int_equal(e[b].linked, linked[b]);
		if (linked[a]) {
			enum index_type other = e[a].type == INDEX_KEYPAIR ? INDEX_HANDSHAKE :
									     INDEX_KEYPAIR;

			assert_ptr_equal(index_table_lookup(&t, idx[a], e[a].type), &e[a]);
			assert_null(index_table_lookup(&t, idx[a], other));
		}
		if (round % 1000 == 0) {
			for (unsigned i = 0; i < N; i++) {
				if (linked[i])
					assert_ptr_equal(index_table_lookup(&t, idx[i], e[i].type),
							 &e[i]);
			}
		}
	}
	/* Removed entries are never found again. */
	for (unsigned i = 0; i < N; i++) {
		if (!linked[i])
			continue;
		index_table_remove(&t, &e[i]);
		assert_null(index_table_lookup(&t, idx[i], e[i].type));
	}
	assert_int_equal(t.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_unique), cmocka_unit_test(test_lookup_by_type),
		cmocka_unit_test(test_replace),	      cmocka_unit_test(test_remove),
		cmocka_unit_test(test_collisions),    cmocka_unit_test(test_differential),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
