# Uplinks (uplink/uplink.h). Linux-only code lives in *_linux.c files,
# chosen by the Makefile's PLATFORM.
LIB_SRCS += $(wildcard uplink/*.c)
