/*
 * An uplink's health (health.c): what `manta uplink status' and /health
 * report for it.
 *
 *   - ICMPv6 echo to each target, from a non-blocking raw ICMPv6 socket
 *     bound to the interface (SO_BINDTODEVICE), one probe per target per
 *     interval; replies are matched by identifier, sequence number and
 *     source, so stray echoes, other probers' replies and late answers are
 *     never counted. A probe unanswered after the timeout is lost.
 *   - latency: the median round trip of the answered probes in the window
 *     (the last HEALTH_WINDOW probes), loss: the lost fraction there. An
 *     outage (HEALTH_DOWN_AFTER or more losses in a row) leaves the window
 *     with the first answer after it: down time is not loss.
 *   - the interface from netlink: whether it exists and is up (IFF_UP and
 *     IFF_RUNNING / carrier), rx and tx bytes.
 *   - a state: down when the interface is gone or down, or (with targets)
 *     when the last HEALTH_DOWN_AFTER probes were all lost (or every probe
 *     in the window, or none has been answered or lost yet); degraded when
 *     loss in the window is HEALTH_DEGRADED_LOSS or more; up otherwise
 *     (with no targets: up when the interface is up).
 *
 * The window and state logic are pure functions of what was recorded
 * (health_record_*), so unit tests drive them with their own clock.
 */
#ifndef MANTA_UPLINK_HEALTH_H
#define MANTA_UPLINK_HEALTH_H

#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/util.h"

#define HEALTH_TARGETS_MAX 4
#define HEALTH_WINDOW 20 /* probes */
#define HEALTH_DOWN_AFTER 3 /* consecutive losses */
#define HEALTH_DEGRADED_LOSS 0.2
#define HEALTH_DEFAULT_INTERVAL_NS 1000000000ull

enum health_state { HEALTH_DOWN, HEALTH_DEGRADED, HEALTH_UP };

static inline const char *health_state_name(enum health_state s)
{
	return s == HEALTH_UP ? "up" : s == HEALTH_DEGRADED ? "degraded" : "down";
}

struct health_config {
	struct in6_addr targets[HEALTH_TARGETS_MAX];
	size_t ntargets;
	uint64_t interval_ns; /* 0 = HEALTH_DEFAULT_INTERVAL_NS */
	uint64_t timeout_ns; /* 0 = the interval */
};

/* One probe in the window: answered with this round trip, or lost. */
struct health_sample {
	uint64_t rtt_ns;
	bool lost;
};

struct health {
	/* what was recorded (the pure part) */
	struct health_sample window[HEALTH_WINDOW];
	size_t nsamples, next; /* ring */
	unsigned consecutive_lost;
	bool link_exists, link_up;
	uint64_t rx_bytes, tx_bytes;
	uint64_t probes_sent, replies;
	uint64_t last_check; /* unix seconds of the last probe round, 0 = never */
	enum health_state state;
	/* the I/O (health.c) */
	struct health_config cfg;
	char ifname[IFNAMSIZ];
	uv_loop_t *loop;
	uv_timer_t timer;
	uv_poll_t poll;
	int fd;
	bool running;
	void *os; /* the platform's (health_linux.c): netlink socket, bound ifindex */
	uint16_t ident, seq;
	struct health_pending {
		uint16_t seq;
		uint8_t target;
		bool used;
		uint64_t sent_ns;
	} pending[HEALTH_TARGETS_MAX * 4];
	/* Called after every change of state (may be NULL). */
	void (*on_change)(struct health *h, enum health_state old, void *ctx);
	void *ctx;
};

/* Pure part: record results and recompute the state. */
void health_reset(struct health *h);
void health_record_reply(struct health *h, uint64_t rtt_ns);
void health_record_loss(struct health *h);
void health_record_link(struct health *h, bool exists, bool up, uint64_t rx, uint64_t tx);
/* Recompute h->state from what was recorded; calls on_change if it moved. */
void health_update(struct health *h);
/* Median round trip of the answered probes in the window, ns (0 = none);
 * lost fraction of the window (0 with no samples). */
uint64_t health_median_rtt(const struct health *h);
double health_loss(const struct health *h);

/* I/O: start probing ifname (which may not exist yet: then it is down until
 * it appears). The struct must stay where it is until health_stop's handles
 * have closed (after uv_run returns, at the latest). */
int health_start(struct health *h, uv_loop_t *loop, const char *ifname,
		 const struct health_config *cfg) WARN_UNUSED;
void health_stop(struct health *h);

/* {"state", "link" (up|down|missing), "latency_ms" (median, fractional;
 * null with no answer), "loss" (0..1), "rx_bytes", "tx_bytes",
 * "probes_sent", "replies", "targets", "last_check"} into obj. */
void health_json(const struct health *h, json_t *obj);

#endif
