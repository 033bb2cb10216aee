/* Per-peer protocol timers; see the description at the top of timers.c. */
#ifndef MANTA_MESH_TIMERS_H
#define MANTA_MESH_TIMERS_H

#include "mesh/peer.h"

void timers_event_data_sent(struct peer *p);
void timers_event_data_received(struct peer *p);
void timers_event_any_authenticated_packet_sent(struct peer *p);
void timers_event_any_authenticated_packet_received(struct peer *p);
void timers_event_any_authenticated_packet_traversal(struct peer *p);
void timers_event_handshake_initiated(struct peer *p);
void timers_event_handshake_complete(struct peer *p);
void timers_event_session_derived(struct peer *p);
void timers_stop(struct peer *p);
void timers_tick_peer(struct peer *p);

#endif
