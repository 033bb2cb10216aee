/*
 * Forwarding to the upstream resolvers with c-ares, on the daemon's libuv
 * loop: c-ares tells which sockets to watch (a uv_poll_t each) and when to
 * look at its timeouts (one uv_timer_t). The raw query goes upstream as the
 * client wrote it; c-ares picks its own query id, checks that the answer
 * matches the question, retries over TCP when the answer is truncated, and
 * moves on to the next upstream on SERVFAIL, REFUSED or silence.
 *
 * Upstream silence costs at most about 2 s (800 ms, then 1.6 s for the
 * second try) before the callback runs with an error: the client gets a
 * SERVFAIL well inside its own 5 s timeout instead of nothing.
 *
 * c-ares status codes are converted here; callers see 0 or a negative
 * errno. Owner: struct dns.
 */
#ifndef MANTA_DNS_FORWARD_H
#define MANTA_DNS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/util.h"

#define DNS_UPSTREAMS_MAX 3 /* glibc's MAXNS */
#define DNS_FORWARD_PENDING_MAX 4096
#define DNS_FORWARD_TIMEOUT_MS 800
#define DNS_FORWARD_TRIES 2

struct fwd_sock;

struct dns_forward {
	uv_loop_t *loop;
	void *channel; /* ares_channel */
	uv_timer_t timer;
	bool timer_open;
	struct fwd_sock *socks;
	size_t pending;
	struct sockaddr_storage upstreams[DNS_UPSTREAMS_MAX];
	size_t nupstreams;
};

/* status: 0 with the answer, or a negative errno: -ETIMEDOUT (silence),
 * -ECONNREFUSED (every upstream refused or failed), -ECANCELED (shutting
 * down; answer nobody), -ENOENT (no upstream). */
typedef void (*dns_forward_cb)(void *arg, int status, const uint8_t *answer, size_t len);

int dns_forward_init(struct dns_forward *f, uv_loop_t *loop) WARN_UNUSED;
/* Replaces the upstream list (port 53 unless the address says otherwise). */
int dns_forward_set_upstreams(struct dns_forward *f, const struct sockaddr_storage *ups,
			      size_t n) WARN_UNUSED;
/* Sends a query; cb runs exactly once, never before this returns. -EBUSY
 * when DNS_FORWARD_PENDING_MAX queries are waiting already. */
int dns_forward_send(struct dns_forward *f, const uint8_t *query, size_t len, dns_forward_cb cb,
		     void *arg) WARN_UNUSED;
/* Cancels what is pending (callbacks run with -ECANCELED) and closes the
 * handles. */
void dns_forward_close(struct dns_forward *f);

#endif
