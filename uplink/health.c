/*
 * An uplink's health, the platform-neutral part (health.h): the window of
 * probe results, the state, the JSON, and the echo requests and replies
 * (health_echo.h). The sockets, the timer and netlink are in
 * health_linux.c.
 *
 * The window is a ring of the last HEALTH_WINDOW probes, answered (with
 * their round trip) or lost. The state is recomputed from it and from the
 * link by health_update, which calls on_change when it moved:
 *
 *   down      the interface is missing or not up (IFF_UP and IFF_RUNNING);
 *             with targets: the last HEALTH_DOWN_AFTER probes were lost, or
 *             every probe in the window was, or there is none yet (an
 *             uplink is not up before one probe has come back)
 *   degraded  HEALTH_DEGRADED_LOSS or more of the window lost
 *   up        otherwise; with no targets, whenever the interface is up
 *
 * An outage is not loss: the first answer after HEALTH_DOWN_AFTER or more
 * losses in a row takes that run out of the window, so an uplink whose far
 * end comes back is up again at once rather than degraded for a window.
 */
#include "uplink/health.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "uplink/health_echo.h"

static const uint8_t echo_payload[HEALTH_ECHO_LEN - HEALTH_ECHO_HDR_LEN] = "mantahc";

void health_reset(struct health *h)
{
	/* Only what was recorded: the configuration, the handles and the
	 * callback stay. */
	memset(h->window, 0, sizeof(h->window));
	h->nsamples = h->next = 0;
	h->consecutive_lost = 0;
	h->link_exists = h->link_up = false;
	h->rx_bytes = h->tx_bytes = 0;
	h->probes_sent = h->replies = 0;
	h->last_check = 0;
	h->state = HEALTH_DOWN;
	memset(h->pending, 0, sizeof(h->pending));
}

static void record(struct health *h, bool lost, uint64_t rtt_ns)
{
	h->window[h->next] = (struct health_sample){ .rtt_ns = lost ? 0 : rtt_ns, .lost = lost };
	h->next = (h->next + 1) % HEALTH_WINDOW;
	if (h->nsamples < HEALTH_WINDOW)
		h->nsamples++;
	h->consecutive_lost = lost ? h->consecutive_lost + 1 : 0;
}

/* Take the last n samples out of the window. */
static void unrecord(struct health *h, size_t n)
{
	n = MIN(n, h->nsamples);
	for (size_t i = 0; i < n; i++) {
		h->next = (h->next + HEALTH_WINDOW - 1) % HEALTH_WINDOW;
		h->window[h->next] = (struct health_sample){ 0 };
	}
	h->nsamples -= n;
}

void health_record_reply(struct health *h, uint64_t rtt_ns)
{
	/* The first answer after an outage (a run of HEALTH_DOWN_AFTER losses
	 * or more, the uplink down) takes that run out of the window: it was
	 * down time, already reported as such, not loss on the path that has
	 * come back, which would otherwise show degraded until the run slid
	 * out of the window. */
	if (h->consecutive_lost >= HEALTH_DOWN_AFTER)
		unrecord(h, h->consecutive_lost);
	h->replies++;
	record(h, false, rtt_ns);
}

void health_record_loss(struct health *h)
{
	record(h, true, 0);
}

void health_record_link(struct health *h, bool exists, bool up, uint64_t rx, uint64_t tx)
{
	h->link_exists = exists;
	h->link_up = exists && up;
	/* A missing link keeps its last counters: they are what it carried. */
	if (exists) {
		h->rx_bytes = rx;
		h->tx_bytes = tx;
	}
}

/* The i-th sample of the window, oldest first: the last nsamples before
 * next (after an outage was taken out they need not start at 0). */
static const struct health_sample *sample(const struct health *h, size_t i)
{
	return &h->window[(h->next + HEALTH_WINDOW - h->nsamples + i) % HEALTH_WINDOW];
}

static size_t lost_in_window(const struct health *h)
{
	size_t lost = 0;

	for (size_t i = 0; i < h->nsamples; i++)
		lost += sample(h, i)->lost;
	return lost;
}

static enum health_state compute(const struct health *h)
{
	if (!h->link_exists || !h->link_up)
		return HEALTH_DOWN;
	if (h->cfg.ntargets == 0)
		return HEALTH_UP;
	if (h->nsamples == 0 || h->consecutive_lost >= HEALTH_DOWN_AFTER ||
	    lost_in_window(h) == h->nsamples)
		return HEALTH_DOWN;
	if (health_loss(h) >= HEALTH_DEGRADED_LOSS)
		return HEALTH_DEGRADED;
	return HEALTH_UP;
}

void health_update(struct health *h)
{
	enum health_state old = h->state, now = compute(h);

	if (now == old)
		return;
	h->state = now;
	if (h->on_change)
		h->on_change(h, old, h->ctx);
}

double health_loss(const struct health *h)
{
	if (h->nsamples == 0)
		return 0;
	return (double)lost_in_window(h) / (double)h->nsamples;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t health_median_rtt(const struct health *h)
{
	uint64_t rtt[HEALTH_WINDOW];
	size_t n = 0;

	for (size_t i = 0; i < h->nsamples; i++)
		if (!sample(h, i)->lost)
			rtt[n++] = sample(h, i)->rtt_ns;
	if (n == 0)
		return 0;
	qsort(rtt, n, sizeof(rtt[0]), cmp_u64);
	if (n % 2)
		return rtt[n / 2];
	/* Even: the mean of the two middle ones (without overflow). */
	return rtt[n / 2 - 1] + (rtt[n / 2] - rtt[n / 2 - 1]) / 2;
}

static const char *link_name(const struct health *h)
{
	return !h->link_exists ? "missing" : h->link_up ? "up" : "down";
}

void health_json(const struct health *h, json_t *obj)
{
	uint64_t median = health_median_rtt(h);
	json_t *targets = json_array();
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < h->cfg.ntargets; i++)
		if (inet_ntop(AF_INET6, &h->cfg.targets[i], text, sizeof(text)))
			json_array_append_new(targets, json_string(text));
	json_object_set_new(obj, "state", json_string(health_state_name(h->state)));
	json_object_set_new(obj, "link", json_string(link_name(h)));
	json_object_set_new(obj, "latency_ms",
			    median ? json_real((double)median / 1e6) : json_null());
	json_object_set_new(obj, "loss", json_real(health_loss(h)));
	json_object_set_new(obj, "rx_bytes", json_integer((json_int_t)h->rx_bytes));
	json_object_set_new(obj, "tx_bytes", json_integer((json_int_t)h->tx_bytes));
	json_object_set_new(obj, "probes_sent", json_integer((json_int_t)h->probes_sent));
	json_object_set_new(obj, "replies", json_integer((json_int_t)h->replies));
	json_object_set_new(obj, "targets", targets);
	json_object_set_new(obj, "last_check", json_integer((json_int_t)h->last_check));
}

/* --- echo requests and replies (health_echo.h) -------------------------- */

uint64_t health_interval_ns(const struct health *h)
{
	return h->cfg.interval_ns ? h->cfg.interval_ns : HEALTH_DEFAULT_INTERVAL_NS;
}

uint64_t health_timeout_ns(const struct health *h)
{
	return h->cfg.timeout_ns ? h->cfg.timeout_ns : health_interval_ns(h);
}

static struct health_pending *slot_for(struct health *h)
{
	struct health_pending *oldest = &h->pending[0];

	for (size_t i = 0; i < ARRAY_SIZE(h->pending); i++) {
		if (!h->pending[i].used)
			return &h->pending[i];
		if (h->pending[i].sent_ns < oldest->sent_ns)
			oldest = &h->pending[i];
	}
	/* All taken (a timeout of several intervals): the oldest is lost. */
	oldest->used = false;
	health_record_loss(h);
	return oldest;
}

uint16_t health_echo_build(struct health *h, uint8_t target, uint64_t now_ns,
			   uint8_t buf[HEALTH_ECHO_LEN])
{
	struct health_pending *p = slot_for(h);
	uint16_t seq = h->seq++;

	*p = (struct health_pending){
		.seq = seq, .target = target, .used = true, .sent_ns = now_ns
	};
	h->probes_sent++;
	buf[0] = HEALTH_ECHO_REQUEST;
	buf[1] = 0;
	put_be16(buf + 2, 0); /* the kernel's */
	put_be16(buf + 4, h->ident);
	put_be16(buf + 6, seq);
	memcpy(buf + HEALTH_ECHO_HDR_LEN, echo_payload, sizeof(echo_payload));
	return seq;
}

void health_echo_unsent(struct health *h, uint16_t seq)
{
	for (size_t i = 0; i < ARRAY_SIZE(h->pending); i++) {
		struct health_pending *p = &h->pending[i];

		if (p->used && p->seq == seq) {
			p->used = false;
			health_record_loss(h);
			return;
		}
	}
}

bool health_echo_parse(const uint8_t *buf, size_t len, uint16_t *ident, uint16_t *seq)
{
	if (len < HEALTH_ECHO_HDR_LEN || buf[0] != HEALTH_ECHO_REPLY || buf[1] != 0)
		return false;
	*ident = get_be16(buf + 4);
	*seq = get_be16(buf + 6);
	return true;
}

bool health_echo_reply(struct health *h, const uint8_t *buf, size_t len,
		       const struct in6_addr *from, uint64_t rx_ns)
{
	uint16_t ident, seq;

	if (!health_echo_parse(buf, len, &ident, &seq) || ident != h->ident)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(h->pending); i++) {
		struct health_pending *p = &h->pending[i];
		uint64_t rtt;

		if (!p->used || p->seq != seq || p->target >= h->cfg.ntargets ||
		    memcmp(&h->cfg.targets[p->target], from, sizeof(*from)) != 0)
			continue;
		p->used = false;
		/* 1 ns at least: 0 means "no answer" to health_median_rtt. */
		rtt = rx_ns > p->sent_ns ? rx_ns - p->sent_ns : 1;
		if (rtt > health_timeout_ns(h))
			health_record_loss(h);
		else
			health_record_reply(h, rtt);
		return true;
	}
	return false;
}

void health_echo_expire(struct health *h, uint64_t now_ns, uint64_t slack_ns)
{
	uint64_t timeout = health_timeout_ns(h);

	for (size_t i = 0; i < ARRAY_SIZE(h->pending); i++) {
		struct health_pending *p = &h->pending[i];

		if (p->used && now_ns + slack_ns >= p->sent_ns + timeout) {
			p->used = false;
			health_record_loss(h);
		}
	}
}

void health_echo_clear(struct health *h)
{
	memset(h->pending, 0, sizeof(h->pending));
}
