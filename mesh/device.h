/*
 * The protocol engine: this node's static keys, its peers, the index table
 * and the cookie checker, with the two hot paths (encrypt an IP packet read
 * from the TUN, receive a datagram from the UDP socket) and the timer tick.
 * It does no I/O of its own: data packets are encrypted and decrypted in the
 * caller's buffers (which the caller then sends or writes in batches), and
 * the few datagrams the engine makes itself (handshakes, cookie replies,
 * keepalives, staged packets) go out through ops->send.
 *
 * Owner: the daemon context; device_deinit destroys every peer.
 */
#ifndef MANTA_MESH_DEVICE_H
#define MANTA_MESH_DEVICE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "mesh/cookie.h"
#include "mesh/index.h"
#include "mesh/noise.h"
#include "mesh/peer.h"

/* Protocol timers in ns; device_timers_default() gives WireGuard's. */
struct device_timers {
	uint64_t rekey_after_time;
	uint64_t reject_after_time;
	uint64_t rekey_timeout;
	uint64_t keepalive_timeout;
	uint64_t rekey_attempt_time;
	/* Path MTU (mesh/pmtu.c); 0 means the default. */
	uint64_t pmtu_probe_timeout;
	uint64_t pmtu_raise_interval;
};

enum device_under_load { DEVICE_LOAD_AUTO, DEVICE_LOAD_ALWAYS, DEVICE_LOAD_NEVER };

/* Everything dropped is counted; `manta status` shows these. */
struct device_counters {
	uint64_t rx_invalid; /* wrong type, size or inner header */
	uint64_t rx_bad_mac1; /* handshake whose mac1 does not verify */
	uint64_t rx_unknown_peer; /* initiation from a key that is no peer */
	uint64_t rx_handshake_invalid; /* failed to decrypt, replayed or flooding */
	uint64_t rx_replay; /* data counter seen before or too old */
	uint64_t rx_bad_source; /* inner source is not the sending peer's */
	uint64_t rx_auth_failed; /* data that does not authenticate */
	uint64_t rx_unknown_index; /* receiver index names no session */
	uint64_t rx_expired_key; /* data under a keypair past its lifetime */
	uint64_t cookie_sent;
	uint64_t cookie_received;
	uint64_t tx_no_route; /* no peer owns the destination */
	uint64_t tx_no_endpoint; /* the peer has no known endpoint */
	uint64_t tx_staged_dropped;
};

struct device_ops {
	/* Send one datagram at once (handshakes, cookies, keepalives). */
	void (*send)(void *ctx, const struct sockaddr_in6 *to, const uint8_t *buf, size_t len);
	/* Path MTU (mesh/pmtu.c): the MTU of the local interface that reaches
	 * `to', or 0 if unknown. Optional. */
	unsigned (*link_mtu)(void *ctx, const struct sockaddr_in6 *to);
};

struct device {
	struct noise_local local;
	struct cookie_checker cookie_checker;
	struct index_table index;
	struct peer_table peers;
	struct device_timers timers;
	enum device_under_load under_load_mode;
	uint64_t load_window_start, load_until;
	unsigned load_window_count;
	const struct device_ops *ops;
	void *ops_ctx;
	uint64_t now; /* monotonic ns, set by the caller before each batch */
	struct device_counters counters;
	bool pmtu_probing; /* send path MTU probes (mesh/pmtu.c); the daemon sets it */
	uint8_t scratch[MESSAGE_MAX_DATAGRAM + MESSAGE_PADDING_MULTIPLE];
};

enum device_tx {
	DEVICE_TX_SEND, /* buf holds a datagram for *to */
	DEVICE_TX_STAGED, /* kept until a session exists */
	DEVICE_TX_DROP,
	/* Path MTU (mesh/pmtu.c): as SEND, but the packet is larger than the
	 * peer's path and may go out only if the outer datagram may fragment. */
	DEVICE_TX_SEND_FRAG,
	/* Too big for the peer's path (IPv4 with DF, or IPv6): dropped, and
	 * *out_len is the largest inner packet that fits, for an ICMP error. */
	DEVICE_TX_TOO_BIG,
};

enum device_rx {
	DEVICE_RX_DELIVER, /* buf + MESSAGE_DATA_HEADER_LEN holds an IP packet */
	DEVICE_RX_DONE, /* consumed (handshake, keepalive) or dropped */
};

void device_timers_default(struct device_timers *t);
void device_init(struct device *dev, const uint8_t private_key[NOISE_PUBLIC_KEY_LEN],
		 const struct device_timers *timers, const struct device_ops *ops, void *ctx);
void device_deinit(struct device *dev);

/* -EEXIST for a key already present, -EADDRINUSE when its derived address is
 * another peer's, -EINVAL for our own key or a low-order key. */
int device_peer_add(struct device *dev, const uint8_t pk[NOISE_PUBLIC_KEY_LEN],
		    struct peer **out) WARN_UNUSED;
void device_peer_remove(struct device *dev, struct peer *p);
/* Move a peer to the IPv4 address of another index (a network owner chose
 * it); -EADDRINUSE if another peer has that address. */
int device_peer_set_v4_index(struct device *dev, struct peer *p, uint32_t index) WARN_UNUSED;
void device_peer_set_endpoint(struct device *dev, struct peer *p, const struct sockaddr_in6 *ep);
void device_peer_set_keepalive(struct device *dev, struct peer *p, uint16_t seconds);
struct peer *device_peer_for_destination(struct device *dev, const uint8_t *ip, size_t len);

/* Hot path out: the IP packet of ip_len bytes sits at buf +
 * MESSAGE_DATA_HEADER_LEN; buf has room for MESSAGE_MAX_DATAGRAM bytes plus
 * padding. On DEVICE_TX_SEND, *out_len and *to describe the datagram. */
enum device_tx device_encrypt(struct device *dev, uint8_t *buf, size_t ip_len, size_t *out_len,
			      const struct sockaddr_in6 **to);
/* Hot path in: one datagram from src. On DEVICE_RX_DELIVER the IP packet of
 * *ip_len bytes is at buf + MESSAGE_DATA_HEADER_LEN. */
enum device_rx device_receive(struct device *dev, const struct sockaddr_in6 *src, uint8_t *buf,
			      size_t len, size_t *ip_len);

/* Start a handshake now (unless one went out within REKEY_TIMEOUT). */
void device_peer_initiate(struct device *dev, struct peer *p);
/* Fire expired timers; call every DEVICE_TICK_NS or so. */
void device_tick(struct device *dev);

#define DEVICE_TICK_NS (NSEC_PER_SEC / 20)

#endif
