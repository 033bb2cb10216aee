/*
 * Protocol timers, WireGuard's five per peer (src/timers.c), kept as
 * deadlines that the packet paths set with plain stores and one device-wide
 * tick (DEVICE_TICK_NS) fires. Nothing on the hot path touches the event loop.
 *
 * retransmit_handshake  armed when an initiation is sent: REKEY_TIMEOUT plus
 *                       up to 333 ms of jitter. Fires: send another, up to
 *                       REKEY_ATTEMPT_TIME / REKEY_TIMEOUT tries, then give
 *                       up, drop the staged packets and arm zero_key_material.
 * send_keepalive        armed when authenticated data arrives and nothing is
 *                       sent back within KEEPALIVE_TIMEOUT; cancelled by any
 *                       authenticated packet sent. Fires: send a keepalive.
 * new_handshake         armed when data is sent: KEEPALIVE_TIMEOUT +
 *                       REKEY_TIMEOUT + jitter; cancelled by any authenticated
 *                       packet received. Fires: the peer went quiet, so start
 *                       a fresh handshake.
 * zero_key_material     armed when a session is derived: 3 × REJECT_AFTER_TIME.
 *                       Fires: wipe every keypair and the handshake.
 * persistent_keepalive  re-armed by every authenticated packet that passes,
 *                       if configured. Fires: send a keepalive (keeps NAT
 *                       mappings open).
 */
#include "mesh/timers.h"

#include <sodium.h>
#include <time.h>

#include "common/log.h"
#include "mesh/device.h"
#include "mesh/send.h"

static uint64_t jitter(void)
{
	return (uint64_t)randombytes_uniform(REKEY_TIMEOUT_JITTER_MAX_NS / 1000) * 1000;
}

static uint64_t deadline(const struct peer *p, uint64_t after)
{
	/* 0 means "not armed"; a deadline is never 0. */
	return p->dev->now + after + 1;
}

void timers_event_data_sent(struct peer *p)
{
	const struct device_timers *t = &p->dev->timers;

	if (!p->t_new_handshake)
		p->t_new_handshake =
			deadline(p, t->keepalive_timeout + t->rekey_timeout + jitter());
}

void timers_event_data_received(struct peer *p)
{
	if (!p->t_send_keepalive)
		p->t_send_keepalive = deadline(p, p->dev->timers.keepalive_timeout);
	else
		p->need_another_keepalive = true;
}

void timers_event_any_authenticated_packet_sent(struct peer *p)
{
	p->t_send_keepalive = 0;
}

void timers_event_any_authenticated_packet_received(struct peer *p)
{
	p->t_new_handshake = 0;
}

void timers_event_any_authenticated_packet_traversal(struct peer *p)
{
	if (p->persistent_keepalive)
		p->t_persistent_keepalive =
			deadline(p, (uint64_t)p->persistent_keepalive * NSEC_PER_SEC);
}

void timers_event_handshake_initiated(struct peer *p)
{
	p->t_retransmit_handshake = deadline(p, p->dev->timers.rekey_timeout + jitter());
}

void timers_event_handshake_complete(struct peer *p)
{
	struct timespec ts;

	p->t_retransmit_handshake = 0;
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
	clock_gettime(CLOCK_REALTIME, &ts);
	p->last_handshake_realtime = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	p->handshakes++;
}

void timers_event_session_derived(struct peer *p)
{
	p->t_zero_key_material = deadline(p, p->dev->timers.reject_after_time * 3);
}

void timers_stop(struct peer *p)
{
	p->t_retransmit_handshake = 0;
	p->t_send_keepalive = 0;
	p->t_new_handshake = 0;
	p->t_zero_key_material = 0;
	p->t_persistent_keepalive = 0;
}

static void expired_retransmit_handshake(struct peer *p)
{
	const struct device_timers *t = &p->dev->timers;
	unsigned max_attempts = (unsigned)(t->rekey_attempt_time / t->rekey_timeout);

	if (p->handshake_attempts > max_attempts) {
		log_info("peer", "%s: handshake did not complete after %u attempts, giving up",
			 p->name, p->handshake_attempts + 1);
		p->t_send_keepalive = 0;
		p->dev->counters.tx_staged_dropped += p->staged_count;
		peer_staged_purge(p);
		if (!p->t_zero_key_material)
			p->t_zero_key_material = deadline(p, t->reject_after_time * 3);
		return;
	}
	p->handshake_attempts++;
	log_debug("peer", "%s: handshake did not complete after %llu ms, retrying (try %u)",
		  p->name, (unsigned long long)(t->rekey_timeout / 1000000),
		  p->handshake_attempts + 1);
	send_queued_handshake_initiation(p, true);
}

static void expired_send_keepalive(struct peer *p)
{
	send_keepalive(p);
	if (p->need_another_keepalive) {
		p->need_another_keepalive = false;
		p->t_send_keepalive = deadline(p, p->dev->timers.keepalive_timeout);
	}
}

static void expired_new_handshake(struct peer *p)
{
	log_debug("peer", "%s: no reply for %llu ms, starting a new handshake", p->name,
		  (unsigned long long)((p->dev->timers.keepalive_timeout +
					p->dev->timers.rekey_timeout) /
				       1000000));
	send_queued_handshake_initiation(p, false);
	pmtu_event_quiet(p); /* maybe the path shrank under big packets */
}

static void expired_zero_key_material(struct peer *p)
{
	log_debug("peer", "%s: no new session for a long time, wiping keys", p->name);
	peer_keypairs_clear(p);
	index_table_remove(&p->dev->index, &p->handshake_entry);
	noise_handshake_clear(&p->handshake);
}

static void expired_persistent_keepalive(struct peer *p)
{
	if (p->persistent_keepalive)
		send_keepalive(p);
}

static bool due(uint64_t *t, uint64_t now)
{
	if (!*t || *t > now)
		return false;
	*t = 0;
	return true;
}

void timers_tick_peer(struct peer *p)
{
	uint64_t now = p->dev->now;

	if (due(&p->t_retransmit_handshake, now))
		expired_retransmit_handshake(p);
	if (due(&p->t_send_keepalive, now))
		expired_send_keepalive(p);
	if (due(&p->t_new_handshake, now))
		expired_new_handshake(p);
	if (due(&p->t_zero_key_material, now))
		expired_zero_key_material(p);
	if (due(&p->t_persistent_keepalive, now))
		expired_persistent_keepalive(p);
}
