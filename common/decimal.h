/*
 * Strict decimal numbers in configuration files: digits only, no sign, no
 * white space, no leading "+" or "0x", and a limit checked as the digits
 * come, so that nothing overflows. Used by every parser that reads a count,
 * a port or a metric from text a person wrote.
 */
#ifndef MANTA_COMMON_DECIMAL_H
#define MANTA_COMMON_DECIMAL_H

#include <stdbool.h>

/* s as a number from 0 to max into *out; false (and *out untouched) for
 * an empty string, any other character, or more than max. */
bool parse_decimal(const char *s, unsigned long max, unsigned long *out);

#endif
