/*
 * Crash-safe file replacement: write a temporary file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A reader sees the
 * old contents or the new, never a truncated file.
 */
#ifndef MANTA_COMMON_ATOMICFILE_H
#define MANTA_COMMON_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/util.h"

/* Returns 0 or a negative errno. The temporary file is removed on failure. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode) WARN_UNUSED;

#endif
