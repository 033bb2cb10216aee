/* libFuzzer harness for incoming UDP datagrams: device_receive on a device
 * with a fixed private key and one peer, which is a second in-process device
 * with a live session (the seeds in tests/fuzz/seeds/fuzz_receive/ were made
 * with the same keys). The first input byte picks the mode:
 *
 *   0x00-0x3f  the whole input is the datagram
 *   0x40-0x5f  the rest is the datagram, and the device is under load
 *              (handshakes without mac2 get cookie replies)
 *   0x60-0x7f  the rest is the datagram; at the handshake sizes its mac1 is
 *              made valid (and a response's receiver index names the
 *              device's initiation in flight), so arbitrary handshake bodies
 *              reach the Noise code
 *   0x80-0x9f  the rest is a message under the live session: a 64-byte type 3
 *              gets the live receiver index, anything else becomes a data
 *              message with it (bytes 0..7 patched), so it reaches the
 *              decryption
 *   0xa0-0xbf  the same with the session past reject_after_time
 *   0xc0-0xff  bytes 1..8 are a counter (le64) and the rest a plaintext,
 *              sealed with the peer's real send key: the replay window and
 *              the inner-header checks see arbitrary authenticated packets;
 *              it is delivered twice (the second time is a replay)
 *
 * In the raw modes the peer's handshake replay state is reset first, so an
 * initiation from the peer (a seed) is consumed in full every time.
 * Datagrams the engine sends are dropped, except while the harness builds
 * the session. A delivered packet must lie inside the datagram, a sealed
 * plaintext must come out unchanged, and a replay must never be delivered. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sodium.h>

#include "common/bytes.h"
#include "common/log.h"
#include "mesh/device.h"
#include "mesh/send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW (1000 * NSEC_PER_SEC)
#define BUF_LEN (MESSAGE_MAX_DATAGRAM + 64)

struct node {
	struct device dev;
	struct sockaddr_in6 addr;
	struct peer *peer; /* its entry for the other node */
};

/* target: the device under test; remote: its peer. */
static struct node target, remote;
static bool capturing;
static struct {
	struct node *from;
	size_t len;
	uint8_t data[BUF_LEN];
} outbox[8];
static size_t outbox_len;

static void on_send(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len)
{
	if (!capturing || outbox_len == sizeof(outbox) / sizeof(outbox[0]) || len > BUF_LEN)
		return;
	outbox[outbox_len].from = ctx;
	outbox[outbox_len].len = len;
	memcpy(outbox[outbox_len].data, buf, len);
	outbox_len++;
}

static const struct device_ops ops = { .send = on_send };

/* The fixed keys the seeds were made with. */
static void fuzz_keys(uint8_t target_sk[32], uint8_t remote_sk[32])
{
	for (int i = 0; i < 32; i++) {
		target_sk[i] = (uint8_t)(3 * i + 1);
		remote_sk[i] = (uint8_t)(5 * i + 2);
	}
}

static void node_init(struct node *n, const uint8_t sk[32], const char *ip)
{
	struct device_timers t;

	device_timers_default(&t);
	device_init(&n->dev, sk, &t, &ops, n);
	n->dev.now = FUZZ_NOW;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sin6_family = AF_INET6;
	n->addr.sin6_port = htons(51820);
	if (inet_pton(AF_INET6, ip, &n->addr.sin6_addr) != 1)
		abort();
}

static void setup_once(void)
{
	static bool done;
	uint8_t target_sk[32], remote_sk[32];

	if (done)
		return;
	done = true;
	if (sodium_init() < 0)
		abort();
	log_init("fuzz_receive", false, LOG_LEVEL_ERR);
	fuzz_keys(target_sk, remote_sk);
	node_init(&target, target_sk, "2001:db8::1");
	node_init(&remote, remote_sk, "2001:db8::2");
	if (device_peer_add(&target.dev, remote.dev.local.public_key, &target.peer) != 0 ||
	    device_peer_add(&remote.dev, target.dev.local.public_key, &remote.peer) != 0)
		abort();
	device_peer_set_endpoint(&target.dev, target.peer, &remote.addr);
	device_peer_set_endpoint(&remote.dev, remote.peer, &target.addr);
}

/* The target's keypair the remote sends with, or NULL. */
static struct keypair *live_keypair(void)
{
	struct keypair *rk = remote.peer->current;
	struct index_entry *e;

	if (!send_keypair_usable(remote.peer, rk))
		return NULL;
	e = index_table_lookup(&target.dev.index, rk->kp.remote_index, INDEX_KEYPAIR);
	if (!e || e->peer != target.peer)
		return NULL;
	return e->object;
}

/* Remote initiates; the two exchange messages until done. Replay state is
 * reset first: wall-clock timestamps may not have moved since the last
 * session (the harness runs far faster than real handshakes). */
static void establish(void)
{
	static uint8_t buf[BUF_LEN];
	size_t ip_len;

	if (live_keypair())
		return;
	memset(target.peer->handshake.latest_timestamp, 0, NOISE_TIMESTAMP_LEN);
	target.peer->handshake.last_initiation_consumption = 0;
	remote.peer->last_sent_handshake = 0;
	target.dev.under_load_mode = DEVICE_LOAD_NEVER;
	capturing = true;
	outbox_len = 0;
	device_peer_initiate(&remote.dev, remote.peer);
	for (size_t i = 0; i < outbox_len; i++) {
		struct node *to = outbox[i].from == &remote ? &target : &remote;

		memcpy(buf, outbox[i].data, outbox[i].len);
		device_receive(&to->dev, &outbox[i].from->addr, buf, outbox[i].len, &ip_len);
	}
	capturing = false;
	outbox_len = 0;
	if (!live_keypair())
		abort(); /* two honest devices failed to agree */
}

/* A delivered packet lies inside the datagram and is an IP packet. */
static void check_delivery(enum device_rx r, const uint8_t *buf, size_t len, size_t ip_len)
{
	uint8_t version;

	if (r != DEVICE_RX_DELIVER)
		return;
	if (len < MESSAGE_DATA_MIN_LEN || ip_len > len - MESSAGE_DATA_MIN_LEN || ip_len < 20)
		abort();
	version = buf[MESSAGE_DATA_HEADER_LEN] >> 4;
	if (version != 4 && version != 6)
		abort();
}

static enum device_rx receive(uint8_t *buf, size_t len, size_t *ip_len)
{
	enum device_rx r;

	*ip_len = 0;
	r = device_receive(&target.dev, &remote.addr, buf, len, ip_len);
	check_delivery(r, buf, len, *ip_len);
	return r;
}

/* Seal plain under the remote's live keypair with the given counter. */
static size_t seal(uint8_t *buf, const uint8_t *plain, size_t plain_len, uint64_t counter)
{
	struct keypair *rk = remote.peer->current;
	uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES] = { 0 };
	uint8_t *payload = buf + MESSAGE_DATA_HEADER_LEN;

	put_le32(buf, MESSAGE_DATA);
	put_le32(buf + DATA_OFF_RECEIVER, rk->kp.remote_index);
	put_le64(buf + DATA_OFF_COUNTER, counter);
	put_le64(nonce + 4, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(payload, payload + plain_len, NULL,
							   plain, plain_len, NULL, 0, NULL, nonce,
							   rk->kp.send_key);
	return MESSAGE_DATA_MIN_LEN + plain_len;
}

/* Valid mac1 for the target; a response answers its initiation in flight. */
static void make_handshake(uint8_t *buf, size_t len)
{
	struct cookie c;

	if (len != MESSAGE_INITIATION_LEN && len != MESSAGE_RESPONSE_LEN)
		return;
	if (len == MESSAGE_RESPONSE_LEN) {
		if (target.peer->handshake.state != HANDSHAKE_CREATED_INITIATION) {
			target.peer->last_sent_handshake = 0;
			device_peer_initiate(&target.dev, target.peer);
		}
		if (target.peer->handshake_entry.linked)
			put_le32(buf + RESP_OFF_RECEIVER, target.peer->handshake_entry.index);
	}
	cookie_init(&c, target.dev.local.public_key);
	cookie_add_macs(&c, buf, len, target.dev.now);
}

static void session_message(uint8_t *buf, size_t len)
{
	uint32_t index = remote.peer->current->kp.remote_index;

	if (len == MESSAGE_COOKIE_LEN && buf[0] == MESSAGE_HANDSHAKE_COOKIE) {
		put_le32(buf + COOKIE_OFF_RECEIVER, index);
	} else if (len >= 8) {
		put_le32(buf, MESSAGE_DATA);
		put_le32(buf + DATA_OFF_RECEIVER, index);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[BUF_LEN], copy[BUF_LEN];
	uint8_t mode = size ? data[0] : 0;
	uint64_t counter = 0, replays;
	size_t len, ip_len, plain_len;

	setup_once();
	target.dev.under_load_mode = DEVICE_LOAD_NEVER;

	if (mode < 0x80) {
		/* As if no initiation had been accepted yet, so a seeded one
		 * from the peer goes all the way through every time. */
		memset(target.peer->handshake.latest_timestamp, 0, NOISE_TIMESTAMP_LEN);
		target.peer->handshake.last_initiation_consumption = 0;
		if (mode >= 0x40) {
			data++;
			size--;
		}
		len = size < BUF_LEN ? size : BUF_LEN;
		memcpy(buf, data, len);
		if (mode >= 0x40 && mode < 0x60)
			target.dev.under_load_mode = DEVICE_LOAD_ALWAYS;
		if (mode >= 0x60)
			make_handshake(buf, len);
		receive(buf, len, &ip_len);
		return 0;
	}

	establish();
	data++;
	size--;
	if (mode < 0xc0) {
		len = size < BUF_LEN ? size : BUF_LEN;
		memcpy(buf, data, len);
		session_message(buf, len);
		if (mode >= 0xa0)
			target.dev.now = FUZZ_NOW + target.dev.timers.reject_after_time;
		receive(buf, len, &ip_len);
		target.dev.now = FUZZ_NOW;
		return 0;
	}

	/* Each input starts from a fresh replay window, so it is reproducible. */
	replay_init(&live_keypair()->kp.replay);
	if (size >= 8) {
		counter = get_le64(data);
		data += 8;
		size -= 8;
	}
	plain_len = size < MESSAGE_MAX_PLAINTEXT ? size : MESSAGE_MAX_PLAINTEXT;
	len = seal(buf, data, plain_len, counter);
	memcpy(copy, buf, len);
	/* What comes out is a prefix of what went in. */
	if (receive(buf, len, &ip_len) == DEVICE_RX_DELIVER &&
	    (ip_len > plain_len || memcmp(buf + MESSAGE_DATA_HEADER_LEN, data, ip_len) != 0))
		abort();
	/* The same datagram again is a replay: counted once, never delivered. */
	replays = target.dev.counters.rx_replay;
	if (receive(copy, len, &ip_len) == DEVICE_RX_DELIVER ||
	    target.dev.counters.rx_replay != replays + 1)
		abort();
	return 0;
}
