# Platform code (*_linux.c, *_darwin.c) is chosen by the Makefile's PLATFORM,
# never with #ifdef in the sources.
LIB_SRCS += $(wildcard tun/*.c)
