#include "mesh/device.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "mesh/address.h"
#include "mesh/send.h"
#include "mesh/timers.h"

void device_timers_default(struct device_timers *t)
{
	t->rekey_after_time = REKEY_AFTER_TIME_NS;
	t->reject_after_time = REJECT_AFTER_TIME_NS;
	t->rekey_timeout = REKEY_TIMEOUT_NS;
	t->keepalive_timeout = KEEPALIVE_TIMEOUT_NS;
	t->rekey_attempt_time = REKEY_ATTEMPT_TIME_NS;
	t->pmtu_probe_timeout = PMTU_PROBE_TIMEOUT_NS;
	t->pmtu_raise_interval = PMTU_RAISE_INTERVAL_NS;
}

void device_init(struct device *dev, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN],
		 const struct device_timers *timers, const struct device_ops *ops, void *ctx)
{
	memset(dev, 0, sizeof(*dev));
	noise_local_init(&dev->local, private_key);
	cookie_checker_init(&dev->cookie_checker, dev->local.public_key);
	index_table_init(&dev->index);
	peer_table_init(&dev->peers);
	dev->timers = *timers;
	dev->ops = ops;
	dev->ops_ctx = ctx;
}

void device_deinit(struct device *dev)
{
	while (dev->peers.head)
		device_peer_remove(dev, dev->peers.head);
	sodium_memzero(&dev->local, sizeof(dev->local));
	sodium_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
}

int device_peer_add(struct device *dev, const uint8_t pk[NOISE_PUBLIC_KEY_LEN], struct peer **out)
{
	struct peer *p;
	char v6[INET6_ADDRSTRLEN];

	if (peer_table_by_key(&dev->peers, pk))
		return -EEXIST;
	if (memcmp(pk, dev->local.public_key, NOISE_PUBLIC_KEY_LEN) == 0)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev = dev;
	memcpy(p->public_key, pk, NOISE_PUBLIC_KEY_LEN);
	address_v6_from_key(pk, p->v6);
	p->v4_index = address_v4_next_index(pk, 0);
	address_v4_from_key_index(pk, p->v4_index, p->v4);
	if (peer_table_by_v6(&dev->peers, p->v6) || peer_table_by_v4(&dev->peers, p->v4)) {
		free(p);
		return -EADDRINUSE;
	}
	if (!noise_handshake_init(&p->handshake, &dev->local, pk, NULL)) {
		free(p);
		return -EINVAL;
	}
	p->handshake_entry.type = INDEX_HANDSHAKE;
	p->handshake_entry.peer = p;
	p->handshake_entry.object = &p->handshake;
	cookie_init(&p->cookie, pk);
	pmtu_init(p);
	inet_ntop(AF_INET6, p->v6, v6, sizeof(v6));
	snprintf(p->name, sizeof(p->name), "%s", v6);
	peer_table_link(&dev->peers, p);
	*out = p;
	return 0;
}

void device_peer_remove(struct device *dev, struct peer *p)
{
	if (!p)
		return;
	timers_stop(p);
	peer_keypairs_clear(p);
	index_table_remove(&dev->index, &p->handshake_entry);
	peer_staged_purge(p);
	peer_table_unlink(&dev->peers, p);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

int device_peer_set_v4_index(struct device *dev, struct peer *p, uint32_t index)
{
	uint8_t v4[4];
	struct peer *other;

	address_v4_from_key_index(p->public_key, index, v4);
	other = peer_table_by_v4(&dev->peers, v4);
	if (other == p)
		return 0;
	if (other)
		return -EADDRINUSE;
	peer_table_unlink(&dev->peers, p);
	p->v4_index = index;
	memcpy(p->v4, v4, sizeof(v4));
	peer_table_link(&dev->peers, p);
	return 0;
}

void device_peer_set_endpoint(struct device *dev, struct peer *p, const struct sockaddr_in6 *ep)
{
	p->endpoint = *ep;
	p->has_endpoint = true;
}

void device_peer_set_keepalive(struct device *dev, struct peer *p, uint16_t seconds)
{
	bool was_off = !p->persistent_keepalive;

	p->persistent_keepalive = seconds;
	if (!seconds) {
		p->t_persistent_keepalive = 0;
		return;
	}
	/* Turning it on sends one at once, as wg(8) does. */
	if (was_off && p->has_endpoint)
		send_keepalive(p);
}

struct peer *device_peer_for_destination(struct device *dev, const uint8_t *ip, size_t len)
{
	if (len >= 20 && ip[0] >> 4 == 4)
		return peer_table_by_v4(&dev->peers, ip + 16);
	if (len >= 40 && ip[0] >> 4 == 6)
		return peer_table_by_v6(&dev->peers, ip + 24);
	return NULL;
}

void device_peer_initiate(struct device *dev, struct peer *p)
{
	send_queued_handshake_initiation(p, false);
}

void device_tick(struct device *dev)
{
	struct peer *next;

	for (struct peer *p = dev->peers.head; p; p = next) {
		next = p->list_next;
		timers_tick_peer(p);
		pmtu_tick(p);
	}
}
