# manta: one non-recursive Makefile. Each folder's module.mk only appends
# sources to the lists below; every rule lives here.
#
#   make deps        install the Debian packages the build and tests need
#   make             build/mantad and build/manta
#   make check       unit tests, end-to-end scenarios, short fuzz runs
#   make check-asan  the same under AddressSanitizer + UBSan
#   make demo        three nodes in network namespaces pinging each other
#   make format-check / format, install (PREFIX, DESTDIR), clean

.DEFAULT_GOAL := all
SHELL := /bin/bash

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
WERROR ?= 1
FUZZ ?=
FUZZ_SECONDS ?= 15
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifneq ($(FUZZ),)
BUILD ?= build-fuzz
CC := clang
else ifneq ($(SANITIZE),)
BUILD ?= build-san
else
BUILD ?= build
endif

PKGS := libsodium libb2 libuv libnl-3.0 libnl-route-3.0 jansson inih libsystemd
CLI_PKGS := libqrencode
TEST_PKGS := cmocka

# pkg-config runs once, when first needed: `make check` installs the packages
# (deps) before any compile rule asks for these.
lazy = $(eval $(1) := $(2))$($(1))
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS = $(call lazy,PKG_LIBS,$(shell pkg-config --libs $(PKGS)))
CLI_CFLAGS = $(call lazy,CLI_CFLAGS,$(shell pkg-config --cflags $(CLI_PKGS)))
CLI_LIBS = $(call lazy,CLI_LIBS,$(shell pkg-config --libs $(CLI_PKGS)))
TEST_CFLAGS = $(call lazy,TEST_CFLAGS,$(shell pkg-config --cflags $(TEST_PKGS)))
TEST_LIBS = $(call lazy,TEST_LIBS,$(shell pkg-config --libs $(TEST_PKGS)))

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wvla -Wimplicit-fallthrough -Wframe-larger-than=4096 -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DMANTA_VERSION='"$(VERSION)"' -I. $(WARNINGS) \
	$(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifneq ($(FUZZ),)
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
endif

LIB_SRCS :=
MANTAD_SRCS :=
CLI_SRCS :=
UNIT_TESTS :=
FUZZERS :=

include common/module.mk
include mesh/module.mk
include tun/module.mk
include daemon/module.mk
include cli/module.mk
include tests/unit/module.mk
include tests/fuzz/module.mk

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS))
MANTAD_OBJS := $(call obj,$(MANTAD_SRCS))
CLI_OBJS := $(call obj,$(CLI_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TESTS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZERS))
LIB := $(BUILD)/libmanta.a

.SECONDARY:
.PHONY: all deps check check-run check-unit check-e2e check-fuzz check-asan unit fuzz \
	demo bench format format-check install uninstall clean

all: $(BUILD)/mantad $(BUILD)/manta

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: ALL_CFLAGS += $(TEST_CFLAGS)
$(BUILD)/obj/cli/%.o: ALL_CFLAGS += $(CLI_CFLAGS)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/mantad: $(MANTAD_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/manta: $(CLI_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CLI_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

unit: $(UNIT_BINS)
fuzz: $(FUZZ_BINS)

-include $(LIB_OBJS:.o=.d) $(MANTAD_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
-include $(patsubst %,$(BUILD)/obj/tests/unit/%.d,$(notdir $(UNIT_TESTS:.c=)))

# --- packages ---------------------------------------------------------------
# Everything the build, the tests, the demo and the benchmarks use, from
# Debian 12. Quiet and quick when all of it is already there.
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev clang-format \
	libsodium-dev libb2-dev libuv1-dev libnl-3-dev libnl-route-3-dev libjansson-dev \
	libinih-dev libcmocka-dev libsystemd-dev libqrencode-dev \
	iproute2 iputils-ping nftables tcpdump python3 procps psmisc \
	wireguard-go wireguard-tools iperf3

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null; \
	fi

# --- tests ------------------------------------------------------------------
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all unit
	@$(MAKE) --no-print-directory check-unit check-e2e
	@$(MAKE) --no-print-directory FUZZ=1 check-fuzz

check-unit: unit
	@tests/unit/run.sh $(UNIT_BINS)

check-e2e: all
	@MANTA_BUILD=$(BUILD) tests/e2e/run.sh

check-fuzz: fuzz
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

check-asan: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all unit
	@$(MAKE) --no-print-directory SANITIZE=address,undefined check-unit check-e2e

demo: deps
	@$(MAKE) --no-print-directory all
	@MANTA_BUILD=$(BUILD) tests/e2e/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@MANTA_BUILD=$(BUILD) bench/throughput.sh
	@MANTA_BUILD=$(BUILD) bench/control.sh

# --- style ------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: ok"

# --- install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/mantad $(DESTDIR)$(PREFIX)/sbin/mantad
	install -m 0755 $(BUILD)/manta $(DESTDIR)$(PREFIX)/bin/manta

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/mantad $(DESTDIR)$(PREFIX)/bin/manta

clean:
	rm -rf build build-san build-fuzz
