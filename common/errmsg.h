/* Error messages for parsers: fill err (if given) and return rc, so a check
 * reads `return errmsg(err, errlen, -EBADMSG, "hostname length %zu", n);`. */
#ifndef MANTA_COMMON_ERRMSG_H
#define MANTA_COMMON_ERRMSG_H

#include <stddef.h>

__attribute__((format(printf, 4, 5))) int errmsg(char *err, size_t errlen, int rc, const char *fmt,
						 ...);

#endif
