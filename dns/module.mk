# Magic DNS (dns/dns.h). *_linux.c files are chosen by the Makefile's PLATFORM.
LIB_SRCS += $(wildcard dns/*.c)
