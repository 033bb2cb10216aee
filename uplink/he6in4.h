/*
 * The he_6in4 uplink's parts (he6in4.c, he6in4_linux.c): 6in4 (RFC 4213)
 * to a tunnel broker such as Hurricane Electric's.
 *
 *   kernel      a `sit' link created over rtnetlink (local, remote, ttl 64)
 *   userspace   a TUN device for the inner IPv6 and a raw IPv4 socket for
 *               protocol 41, bound to the local address and connected to
 *               the server: TUN -> raw sends each IPv6 packet (the kernel
 *               prepends the IPv4 header), raw -> TUN checks the outer
 *               header (he6in4_decap) and writes the inner packet.
 *
 * Either way the interface gets the same MTU, client_ipv6/plen and, with
 * default_route, ::/0 via the server's end (the client prefix's ::1) with
 * metric HE6IN4_ROUTE_METRIC. The routed prefix is only shown in status:
 * where its addresses go (a LAN, the mesh) is for the user to route.
 */
#ifndef MANTA_UPLINK_HE6IN4_H
#define MANTA_UPLINK_HE6IN4_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "uplink/uplink.h"

#define HE6IN4_TTL 64
#define HE6IN4_ROUTE_METRIC 2048 /* after ip(8)'s and RAs' 1024: a native default wins */
/* How often the local IPv4 address is looked at again (for the broker's
 * endpoint update). */
#define HE6IN4_LOCAL_CHECK_MS 60000

/* Why a packet from the raw socket did not reach the TUN, or one from the
 * TUN did not leave. */
enum he6in4_drop {
	HE6IN4_DROP_SHORT, /* shorter than its headers say */
	HE6IN4_DROP_NOT_41, /* not IPv4 carrying protocol 41 */
	HE6IN4_DROP_SOURCE, /* outer source is not the server */
	HE6IN4_DROP_DEST, /* outer destination is not our local address */
	HE6IN4_DROP_FRAGMENT, /* outer fragments (the kernel reassembles; a leftover) */
	HE6IN4_DROP_INNER, /* the inner packet is not a sane IPv6 packet */
	HE6IN4_DROP_TUN_WRITE, /* the TUN refused it */
	HE6IN4_DROP_SEND, /* the raw socket refused an outgoing one */
	HE6IN4_DROP_COUNT
};

static inline const char *he6in4_drop_name(enum he6in4_drop d)
{
	static const char *const names[] = {
		[HE6IN4_DROP_SHORT] = "short",	       [HE6IN4_DROP_NOT_41] = "not_6in4",
		[HE6IN4_DROP_SOURCE] = "wrong_source", [HE6IN4_DROP_DEST] = "wrong_destination",
		[HE6IN4_DROP_FRAGMENT] = "fragment",   [HE6IN4_DROP_INNER] = "bad_inner",
		[HE6IN4_DROP_TUN_WRITE] = "tun_write", [HE6IN4_DROP_SEND] = "send",
	};

	return (unsigned)d < HE6IN4_DROP_COUNT ? names[d] : "?";
}

struct he6in4_counters {
	uint64_t rx_packets, rx_bytes; /* inner IPv6, broker -> us */
	uint64_t tx_packets, tx_bytes; /* inner IPv6, us -> broker */
	uint64_t drops[HE6IN4_DROP_COUNT];
	uint64_t ptb_sent; /* Packet Too Big written into the TUN */
};

struct he_update;

struct he6in4;

/* The userspace tunnel's raw socket and its poll: replaced as a whole when
 * the local address changes (the old one closes in the background). */
struct he6in4_raw {
	uv_poll_t poll;
	int fd;
	struct he6in4 *t;
};

/* The driver's state (uplink.priv), one per up(); freed when its handles
 * have closed after down(). */
struct he6in4 {
	struct uplink *u;
	char ifname[IFNAMSIZ];
	bool kernel; /* the mode in use */
	struct in_addr local, server;
	int tun_fd; /* userspace: the TUN, polled by tun_poll */
	uv_poll_t tun_poll;
	struct he6in4_raw *raw; /* userspace: the raw socket */
	uv_timer_t local_timer; /* HE6IN4_LOCAL_CHECK_MS */
	int open_handles;
	bool closing;
	struct he6in4_counters c;
	uint64_t ptb_window; /* ms (uv_now) */
	unsigned ptb_budget;
	struct he_update *update; /* NULL without he_username & co */
	uint8_t buf[65536]; /* one packet, either way */
};

/* The server's end of the tunnel: client_ipv6's prefix with ::1. */
void uplink_he6in4_server_v6(const struct uplink_config *cfg, struct in6_addr *out);

/* Checks a packet read from the raw socket (its IPv4 header included, as
 * Linux delivers it): IPv4, protocol 41, not a fragment, from server to
 * local, and an IPv6 packet inside whose payload length fits. Returns -1
 * with *why set, or the offset of the inner packet with *inner_len set. */
int he6in4_decap(const uint8_t *pkt, size_t len, struct in_addr server, struct in_addr local,
		 size_t *inner_len, enum he6in4_drop *why);
/* An IPv6 packet from the TUN worth sending: version 6, a whole header, a
 * payload length that fits. */
bool he6in4_inner_ok(const uint8_t *pkt, size_t len);

/* The platform's half (he6in4_linux.c; the darwin stub fails). */
/* Create t->ifname: a sit link (-EOPNOTSUPP when the kernel has none), or
 * the TUN and the raw socket with their polls started. */
int he6in4_os_kernel_up(struct he6in4 *t, char *err, size_t errlen);
int he6in4_os_userspace_up(struct he6in4 *t, char *err, size_t errlen);
/* MTU, address, default route on t->ifname; 0 or a negative errno. */
int he6in4_os_configure(struct he6in4 *t, char *err, size_t errlen);
/* Delete the kernel link, or close the TUN and the raw socket (their
 * handles close in the background: he6in4_handle_closed). */
void he6in4_os_down(struct he6in4 *t);
/* The local address changed to t->local: move the tunnel's end there. */
int he6in4_os_set_local(struct he6in4 *t, char *err, size_t errlen);
/* The source address the kernel would use toward server; 0 or -errno. */
int he6in4_os_route_source(struct in_addr server, struct in_addr *out);

/* Called by the platform half when one of t's handles has closed. */
void he6in4_handle_closed(struct he6in4 *t);

#endif
