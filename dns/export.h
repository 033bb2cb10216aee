/* Zone files for BIND or CoreDNS (export.c). */
#ifndef MANTA_DNS_EXPORT_H
#define MANTA_DNS_EXPORT_H

#include "dns/zone.h"

/* The zone NET.pi. of network n as RFC 1035 text (heap), or NULL. */
char *dns_export(const struct dns_zone *z, const struct network *n);

#endif
