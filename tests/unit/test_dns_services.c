/* Service names: the signed set's codec (mesh/service.c), the store and its
 * merge rules, the anti-entropy digest, this node's registrations, the
 * file, and SERVICES gossip frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "dns_fixture.h"
#include "mesh/gossip.h"

static int setup(void **state)
{
	*state = fix_new();
	return 0;
}

static int teardown(void **state)
{
	fix_free(*state);
	return 0;
}

static void make(struct dns_fix *f, int net, int node, uint64_t seq, size_t n,
		 struct service_set *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->network_pk, f->nets[net]->pk, 32);
	s->seq = seq;
	for (size_t i = 0; i < n; i++)
		snprintf(s->names[s->nnames++], sizeof(s->names[0]), "svc-%zu", i);
	service_set_sign(s, f->edsk[node]);
}

static void test_codec(void **state)
{
	struct dns_fix *f = *state;
	static struct service_set s, d;
	static uint8_t buf[SERVICE_MAX], again[SERVICE_MAX];
	char err[128];
	size_t len;

	make(f, 0, FIX_BOB, 7, SERVICE_MAX_NAMES, &s);
	for (size_t i = 0; i < s.nnames; i++) { /* the longest names there are */
		memset(s.names[i], 'a', HOSTNAME_MAX);
		s.names[i][0] = (char)('a' + i);
		s.names[i][HOSTNAME_MAX] = '\0';
	}
	service_set_sign(&s, f->edsk[FIX_BOB]);
	len = service_set_encode(&s, buf, sizeof(buf));
	assert_int_equal(len, SERVICE_MAX);
	assert_int_equal(service_set_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_memory_equal(d.x25519_pk, f->x[FIX_BOB], 32);
	assert_int_equal(d.seq, 7);
	assert_int_equal(d.nnames, SERVICE_MAX_NAMES);
	assert_int_equal(service_set_encode(&d, again, sizeof(again)), len);
	assert_memory_equal(buf, again, len);
	/* every single flipped bit: malformed or unsigned, never accepted */
	for (size_t i = 0; i < len * 8; i += 7) {
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_true(service_set_decode(buf, len, &d, NULL, 0) < 0);
		buf[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	assert_int_equal(service_set_decode(buf, len - 1, &d, err, sizeof(err)), -EBADMSG);
	/* names must be labels, distinct */
	make(f, 0, FIX_BOB, 7, 2, &s);
	strcpy(s.names[1], s.names[0]);
	assert_int_equal(service_set_encode(&s, buf, sizeof(buf)), 0);
	strcpy(s.names[1], "Not_A-Label");
	assert_int_equal(service_set_encode(&s, buf, sizeof(buf)), 0);
	make(f, 0, FIX_BOB, 7, 0, &s); /* empty: withdraws every name */
	assert_true(service_set_encode(&s, buf, sizeof(buf)) > 0);
}

static void test_merge(void **state)
{
	struct dns_fix *f = *state;
	static struct service_set s;
	struct member_record rec;

	make(f, 0, FIX_BOB, 10, 1, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), 1);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), 0); /* known */
	make(f, 0, FIX_BOB, 9, 2, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), 0); /* older */
	assert_int_equal(dns_services_get(&f->svc, f->nets[0]->pk, f->x[FIX_BOB])->nnames, 1);
	make(f, 0, FIX_BOB, 11, 2, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), 1); /* newer */
	assert_int_equal(dns_services_get(&f->svc, f->nets[0]->pk, f->x[FIX_BOB])->nnames, 2);
	make(f, 0, FIX_DAVE, 1, 1, &s); /* dave is not in home */
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), -EPERM);
	make(f, 1, FIX_DAVE, 1, 1, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), -EINVAL);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[1], &s), 1);
	assert_int_equal(network_revoke(f->nets[1], f->x[FIX_DAVE], 5000, &rec), 0);
	assert_false(dns_services_counts(f->nets[1], &s));
	make(f, 1, FIX_DAVE, 2, 1, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[1], &s), -EPERM);
	assert_int_equal(dns_services_newest(&f->svc), 11);
}

/* Equal knowledge, equal digests, whatever the order it came in; no sets,
 * no digest (the network's own is used unchanged). */
static void test_digest(void **state)
{
	struct dns_fix *f = *state;
	static struct service_set s[3];
	static struct dns_services other;
	uint8_t d1[16], d2[16];

	assert_false(dns_services_digest(&f->svc, f->nets[0], d1));
	make(f, 0, FIX_BOB, 3, 1, &s[0]);
	make(f, 0, FIX_CAROL, 4, 2, &s[1]);
	make(f, 1, FIX_DAVE, 5, 1, &s[2]);
	dns_services_init(&other);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dns_services_merge(&f->svc, f->nets[i == 2], &s[i]), 1);
		assert_int_equal(dns_services_merge(&other, f->nets[(2 - i) == 2], &s[2 - i]), 1);
	}
	assert_true(dns_services_digest(&f->svc, f->nets[0], d1));
	assert_true(dns_services_digest(&other, f->nets[0], d2));
	assert_memory_equal(d1, d2, 16);
	make(f, 0, FIX_BOB, 6, 1, &s[0]);
	assert_int_equal(dns_services_merge(&other, f->nets[0], &s[0]), 1);
	assert_true(dns_services_digest(&other, f->nets[0], d2));
	assert_memory_not_equal(d1, d2, 16);
	dns_services_free(&other);
}

static void test_own_and_file(void **state)
{
	struct dns_fix *f = *state;
	static struct service_set want, s;
	static struct dns_services back;
	char path[] = "/tmp/manta-svc-test.XXXXXX", err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	f->svc.own[f->svc.nown++] = (struct dns_own_service){ "api", "" };
	f->svc.own[f->svc.nown++] = (struct dns_own_service){ "web", "work" };
	f->svc.own[f->svc.nown++] = (struct dns_own_service){ "api", "home" };
	assert_true(dns_services_own_for(&f->svc, f->nets[0], &want));
	assert_int_equal(want.nnames, 1); /* api, once */
	assert_true(dns_services_own_for(&f->svc, f->nets[1], &want));
	assert_int_equal(want.nnames, 2);
	make(f, 0, FIX_BOB, 3, 4, &s);
	assert_int_equal(dns_services_merge(&f->svc, f->nets[0], &s), 1);
	assert_int_equal(dns_services_save(&f->svc, path, err, sizeof(err)), 0);
	dns_services_init(&back);
	assert_int_equal(dns_services_load(&back, path, err, sizeof(err)), 0);
	assert_int_equal(back.nown, 3);
	assert_string_equal(back.own[1].network, "work");
	assert_int_equal(back.nsets, 1);
	assert_int_equal(back.sets[0].nnames, 4);
	/* a tampered file is refused, naming the entry */
	{
		FILE *fp = fopen(path, "w");

		fputs("{\"own\": [], \"sets\": [\"TVNWMQ==\"]}", fp);
		fclose(fp);
	}
	assert_int_equal(dns_services_load(&back, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sets[0]"));
	unlink(path);
	assert_int_equal(dns_services_load(&back, path, err, sizeof(err)), 0); /* none: empty */
	assert_int_equal(back.nsets, 0);
	dns_services_free(&back);
}

/* SERVICES frames: packed across datagrams, parsed and verified. */
static void test_gossip(void **state)
{
	struct dns_fix *f = *state;
	static struct service_set sets[5];
	struct gossip_msg *m = malloc(sizeof(*m));
	static uint8_t buf[GOSSIP_MAX];
	size_t first = 0, len = 0, got = 0, frames = 0;
	char err[128];

	for (int i = 0; i < 5; i++)
		make(f, 0, FIX_BOB, (uint64_t)i + 1, i == 0 ? SERVICE_MAX_NAMES : 3, &sets[i]);
	for (size_t i = 0; i < SERVICE_MAX_NAMES; i++) {
		memset(sets[0].names[i], 'a', HOSTNAME_MAX);
		sets[0].names[i][0] = (char)('a' + i);
		sets[0].names[i][HOSTNAME_MAX] = '\0';
	}
	service_set_sign(&sets[0], f->edsk[FIX_BOB]);
	while (first < 5) {
		len = gossip_build_services(f->nets[0]->pk, sets, 5, &first, buf, sizeof(buf));
		assert_true(len > 0 && len <= GOSSIP_MAX);
		assert_int_equal(gossip_parse(buf, len, m, err, sizeof(err)), 0);
		assert_int_equal(m->type, GOSSIP_SERVICES);
		assert_int_equal(m->rejected, 0);
		got += m->nservices;
		frames++;
	}
	assert_int_equal(got, 5);
	assert_true(frames >= 2); /* the full set fills a datagram alone */
	buf[len - 1] ^= 1; /* a bad signature: skipped and counted */
	assert_int_equal(gossip_parse(buf, len, m, err, sizeof(err)), 0);
	assert_int_equal(m->rejected, 1);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gossip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
