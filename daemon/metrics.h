/*
 * Prometheus text exposition (format 0.0.4) of the `status' object, for
 * GET /metrics. Built from status rather than from the daemon's structs so
 * that it is one more view of the registry, like the CLI's, and can be
 * tested without a daemon. Each family has HELP and TYPE lines; counters
 * end in _total; label values and help text are escaped as the format
 * says. Every integer in status.counters and status.gossip appears, those
 * with a known meaning under their own name (drops as
 * manta_packets_dropped_total{reason=…}), any other as
 * manta_<name>_total or manta_gossip_<name>_total, so a counter added to
 * status later shows up without touching this file. The same goes for
 * status.dns.counters (manta_dns_<name>_total); status.firewall gives its
 * drops and passes by reason and its flow table.
 */
#ifndef MANTA_DAEMON_METRICS_H
#define MANTA_DAEMON_METRICS_H

#include <jansson.h>
#include <stddef.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The text (heap, NUL-terminated, *len bytes without the NUL), or NULL when
 * out of memory. Fields missing from status are left out. */
char *metrics_render(json_t *status, size_t *len);

#endif
