/* What the engine sends on its own; see send.c. */
#ifndef MANTA_MESH_SEND_H
#define MANTA_MESH_SEND_H

#include <stdbool.h>

#include "mesh/peer.h"

/* is_retry keeps the attempt count (the retransmit timer's call). */
void send_queued_handshake_initiation(struct peer *p, bool is_retry);
void send_handshake_response(struct peer *p);
/* Send the staged packets, or a keepalive when there are none. */
void send_keepalive(struct peer *p);
/* Send the staged packets if a session allows it. */
void send_staged_packets(struct peer *p);
/* Rekey when the current keypair is old or worn (sending side). */
void send_keep_key_fresh(struct peer *p);
/* Seal the IP packet of ip_len bytes at dev->scratch + MESSAGE_DATA_HEADER_LEN
 * and send it without any of the data timers (path MTU probes and their
 * acks). False when no session allows it. */
bool send_control_packet(struct peer *p, size_t ip_len);
bool send_keypair_usable(const struct peer *p, const struct keypair *k);

#endif
