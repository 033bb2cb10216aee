/* libFuzzer harness for what reaches the resolver: the input is a DNS
 * message (answered as over UDP and over TCP from a fixed zone, and, when
 * it is not ours, made fit and turned into a SERVFAIL as a forwarded
 * answer would be) and also an IP packet read from the TUN (classified, and
 * reflected if it is TCP). Invariants: a UDP answer never exceeds the
 * client's limit, every answer of ours parses, and the id is the query's. */
#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/dns_fixture.h"
#include "common/bytes.h"
#include "dns/packet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_fix *f;
static void *keep[4];

/* The zone is made once, outside any input's leak accounting. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[] = { "api", "www" };

	f = fix_new();
	if (fix_services(f, 0, FIX_BOB, 1, names, 2) != 1)
		abort();
	/* struct network lives in sodium_malloc memory, which LeakSanitizer
	 * does not scan: keep its arrays reachable from here. */
	for (int i = 0; i < 2; i++) {
		keep[2 * i] = f->nets[i]->members;
		keep[2 * i + 1] = f->nets[i]->invites;
	}
	return 0;
}

/* parse: the answer is ours (an upstream's that fits is passed on as it
 * came, id aside, parsable or not). */
static void check(const uint8_t *out, size_t len, const struct dns_query *q, size_t limit,
		  bool parse)
{
	ldns_pkt *p = NULL;

	if (len > limit || len < DNS_HEADER_LEN || get_be16(out) != q->id)
		abort();
	if (parse && len > DNS_HEADER_LEN && ldns_wire2pkt(&p, out, len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[DNS_TCP_MAX], buf[DNS_TCP_MAX], pkt[2048];
	struct dns_query q;
	struct dns_flow flow;
	size_t len;

	if (dns_answer(&f->z, data, size, false, out, DNS_UDP_PAYLOAD_MAX, &len, &q) == DNS_REPLY)
		check(out, len, &q, q.limit, true);
	if (dns_answer(&f->z, data, size, true, out, sizeof(out), &len, &q) == DNS_FORWARD) {
		/* as if upstream had answered with these bytes */
		if (size <= sizeof(buf) && size >= DNS_HEADER_LEN) {
			memcpy(buf, data, size);
			buf[2] |= 0x80;
			q.limit = 512;
			len = dns_answer_fit(buf, size, sizeof(buf), &q);
			if (len)
				check(buf, len, &q, 512, len != size);
		}
		len = dns_answer_error(data, size, DNS_RCODE_SERVFAIL, &q, out, sizeof(out));
		if (len)
			check(out, len, &q, q.limit, true);
	}
	if (size <= sizeof(pkt)) {
		enum dns_pkt kind;

		memcpy(pkt, data, size);
		kind = dns_packet_classify(pkt, size, &flow);
		if (kind == DNS_PKT_TCP)
			(void)dns_packet_reflect_tcp(pkt, size, 40000);
		else if (kind == DNS_PKT_UDP &&
			 (flow.payload < pkt || flow.payload + flow.payload_len > pkt + size))
			abort();
	}
	return 0;
}
