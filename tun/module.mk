# Platform code is chosen here, never with #ifdef in the sources.
LIB_SRCS += $(wildcard tun/*_linux.c) $(filter-out $(wildcard tun/*_linux.c tun/*_darwin.c),$(wildcard tun/*.c))
