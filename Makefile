# manta: one non-recursive Makefile. Each folder's module.mk only appends
# sources to the lists below; every rule lives here.
#
#   make deps        install the Debian packages the build and tests need
#   make             build/mantad and build/manta
#   make check       unit tests, end-to-end scenarios, packaging, short fuzz runs
#   make check-asan  the same under AddressSanitizer + UBSan
#   make demo        three nodes in network namespaces pinging each other
#   make format-check / format, install / uninstall (PREFIX, DESTDIR), clean
#   make deb         the Debian package (packaging/debian), checked by lintian
#   make PLATFORM=darwin BUILD=build-darwin objs   compile for macOS's stubs

.DEFAULT_GOAL := all
SHELL := /bin/bash

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
WERROR ?= 1
FUZZ ?=
FUZZ_SECONDS ?= 15
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# linux, or darwin: which *_PLATFORM.c files build (see "platforms" below).
PLATFORM ?= linux

ifneq ($(FUZZ),)
BUILD ?= build-fuzz
CC := clang
else ifneq ($(SANITIZE),)
BUILD ?= build-san
else
BUILD ?= build
endif

PKGS := libsodium libb2 libuv libnl-3.0 libnl-route-3.0 jansson inih libsystemd
# Magic DNS: ldns for the wire format and zone files, c-ares for upstream queries.
PKGS += ldns libcares
# Uplinks: libcurl for the tunnel broker's endpoint update (uplink/he_update.c),
# compiled against but not linked: mantad opens it with dlopen when an uplink
# needs it (uplink/curl_dl.h).
DLOPEN_PKGS := libcurl
CLI_PKGS := libqrencode
TEST_PKGS := cmocka

# pkg-config runs once, when first needed: `make check` installs the packages
# (deps) before any compile rule asks for these.
lazy = $(eval $(1) := $(2))$($(1))
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,$(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS)) $(HTTP_PARSER_CFLAGS))
PKG_LIBS = $(call lazy,PKG_LIBS,$(shell pkg-config --libs $(PKGS)) $(HTTP_PARSER_LIBS))
# http-parser (the REST API): Debian's libhttp-parser-dev ships no .pc file,
# so where pkg-config does not know it, its header and -lhttp_parser come
# from the compiler's default paths.
HTTP_PARSER_CFLAGS = $(call lazy,HTTP_PARSER_CFLAGS,$(shell pkg-config --cflags http-parser 2>/dev/null))
HTTP_PARSER_LIBS = $(call lazy,HTTP_PARSER_LIBS,$(shell pkg-config --libs http-parser 2>/dev/null || echo -lhttp_parser))
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
	$(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS)
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
include firewall/module.mk
include dns/module.mk
include uplink/module.mk
include daemon/module.mk
include cli/module.mk
include tests/unit/module.mk
include tests/fuzz/module.mk

# --- platforms ----------------------------------------------------------------
# Platform code lives in NAME_linux.c and NAME_darwin.c and is chosen here,
# never with #ifdef in the sources: a build keeps its PLATFORM's files and
# drops the other's. PLATFORM=darwin also leaves out the Linux-only
# libraries and turns the Linux-only headers into errors, so that on Linux
# `make PLATFORM=darwin BUILD=build-darwin objs' shows that every object
# compiles with the darwin files and without Linux's interfaces. It cannot
# show what only a Mac can: that each glibc call used outside *_linux.c
# exists in macOS's libc (recvmmsg and sendmmsg do not, for one).
PLATFORMS := linux darwin
ifeq ($(filter $(PLATFORM),$(PLATFORMS)),)
$(error PLATFORM must be one of: $(PLATFORMS))
endif
not_platform := $(foreach p,$(filter-out $(PLATFORM),$(PLATFORMS)),%_$(p).c)
LIB_SRCS := $(filter-out $(not_platform),$(LIB_SRCS))
MANTAD_SRCS := $(filter-out $(not_platform),$(MANTAD_SRCS))
CLI_SRCS := $(filter-out $(not_platform),$(CLI_SRCS))
UNIT_TESTS := $(filter-out $(not_platform),$(UNIT_TESTS))
FUZZERS := $(filter-out $(not_platform),$(FUZZERS))
ifeq ($(PLATFORM),darwin)
PKGS := $(filter-out libnl-3.0 libnl-route-3.0 libsystemd,$(PKGS))
DARWIN_POISON := linux/if_tun.h linux/netlink.h linux/rtnetlink.h linux/if_link.h \
	linux/if_addr.h linux/capability.h linux/filter.h linux/if_packet.h linux/errqueue.h \
	linux/icmp.h linux/icmpv6.h linux/ipv6.h linux/udp.h sys/epoll.h sys/prctl.h \
	sys/capability.h sys/signalfd.h sys/timerfd.h sys/eventfd.h sys/sysinfo.h \
	systemd/sd-daemon.h systemd/sd-bus.h
ALL_CFLAGS += -I$(BUILD)/darwin-poison
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS))
MANTAD_OBJS := $(call obj,$(MANTAD_SRCS))
CLI_OBJS := $(call obj,$(CLI_SRCS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TESTS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZERS))
LIB := $(BUILD)/libmanta.a

.SECONDARY:
.PHONY: all deps check check-run check-unit check-e2e check-fuzz check-asan unit fuzz \
	demo bench format format-check install uninstall clean objs deb check-packaging \
	install-files install-user

all: $(BUILD)/mantad $(BUILD)/manta

# Every object of libmanta, mantad and manta, without linking (see
# "platforms": what `make PLATFORM=darwin objs' checks).
objs: $(LIB_OBJS) $(MANTAD_OBJS) $(CLI_OBJS)

ifeq ($(PLATFORM),darwin)
$(LIB_OBJS) $(MANTAD_OBJS) $(CLI_OBJS): | $(BUILD)/darwin-poison/.stamp
$(BUILD)/darwin-poison/.stamp: Makefile
	@for h in $(DARWIN_POISON); do \
		mkdir -p $(@D)/$$(dirname $$h); \
		printf '#error "<%s> is Linux-only: move this code into a *_linux.c file"\n' $$h \
			>$(@D)/$$h; \
	done
	@touch $@
endif

# `manta service install' writes the unit, the plist, the sysusers.d file
# and a first configuration from copies built into the CLI.
SERVICE_TEMPLATES := packaging/systemd/mantad.service.in packaging/systemd/manta.sysusers \
	packaging/launchd/net.manta.mantad.plist.in packaging/manta.conf
$(BUILD)/gen/service_templates.h: $(SERVICE_TEMPLATES) packaging/embed.sh
	@mkdir -p $(@D)
	packaging/embed.sh $(SERVICE_TEMPLATES) >$@.tmp && mv $@.tmp $@
$(BUILD)/obj/cli/cmd_service.o: $(BUILD)/gen/service_templates.h
$(BUILD)/obj/cli/cmd_service.o: ALL_CFLAGS += -I$(BUILD)/gen

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
-include $(patsubst %,$(BUILD)/obj/tests/fuzz/%.d,$(notdir $(FUZZERS:.c=)))

# --- packages ---------------------------------------------------------------
# Everything the build, the tests, the demo and the benchmarks use, from
# Debian 12. Quiet and quick when all of it is already there.
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev clang-format \
	libsodium-dev libb2-dev libuv1-dev libnl-3-dev libnl-route-3-dev libjansson-dev \
	libinih-dev libcmocka-dev libsystemd-dev libqrencode-dev \
	iproute2 iputils-ping nftables tcpdump python3 procps psmisc \
	wireguard-go wireguard-tools iperf3 \
	debhelper dpkg-dev fakeroot lintian
# The REST API's request parser; wrk for bench/api.sh.
DEB_PKGS += libhttp-parser-dev wrk
# Magic DNS: its libraries; dig, unbound (the tests' upstream, the bench's
# reference), dnsmasq (a rival on port 53), dnsperf, curl and dbus-daemon
# (the private bus of the resolved backend's unit test).
DEB_PKGS += libldns-dev libc-ares-dev dnsutils unbound dnsmasq-base dnsperf curl dbus-daemon
# Uplinks: libcurl (the broker's endpoint update); tshark decodes 6in4 in
# tests/e2e/t_uplink_6in4.sh.
DEB_PKGS += libcurl4-openssl-dev tshark

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
	@$(MAKE) --no-print-directory deps-api

# What the REST API's and MCP's tests use besides Debian's -dev packages:
# node and npm only when missing (a newer Node may be there already),
# promtool unpacked from Debian's prometheus package into .deps/ instead of
# installed (installing it would start a Prometheus server), and the MCP
# test client's npm packages (tests/e2e/mcp-client, from its lock file).
# What cannot be had is said here, and again by the test that needs it.
.PHONY: deps-api
deps-api:
	@sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "deps: installing nodejs npm"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi; \
	if ! command -v promtool >/dev/null && [ ! -x .deps/prometheus/usr/bin/promtool ]; then \
		echo "deps: unpacking promtool from Debian's prometheus package into .deps/"; \
		rm -rf .deps/prometheus .deps/prometheus_*.deb && mkdir -p .deps/prometheus && \
		{ (cd .deps && apt-get download prometheus 2>/dev/null) || \
		  ($$sudo apt-get update -qq && cd .deps && apt-get download prometheus 2>/dev/null); } && \
		dpkg-deb -x .deps/prometheus_*.deb .deps/prometheus && rm -f .deps/prometheus_*.deb || \
		echo "deps: no promtool: tests/e2e/t_api.sh cannot check /metrics"; \
	fi; \
	tests/e2e/mcp-client/install.sh || true

# --- tests ------------------------------------------------------------------
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all unit
	@$(MAKE) --no-print-directory check-unit check-e2e check-packaging
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
	@MANTA_BUILD=$(BUILD) bench/api.sh
	@MANTA_BUILD=$(BUILD) bench/dns.sh
	@MANTA_BUILD=$(BUILD) bench/pmtu.sh
	@MANTA_BUILD=$(BUILD) bench/uplink.sh
	@$(MAKE) --no-print-directory $(BUILD)/tests/test_firewall_bench
	@MANTA_BUILD=$(BUILD) bench/firewall.sh

# --- style ------------------------------------------------------------------
FORMAT_FILES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: ok"

# --- install ----------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=…] [PLATFORM=linux|darwin]: the
# binaries, the platform's service definition (a systemd unit and its
# sysusers.d file, or a launchd plist), man pages, bash completion, and a
# commented configuration unless one exists. Without DESTDIR it also creates
# the manta user and group; with DESTDIR the package's scripts do that.
# make uninstall removes the same files, and the configuration only if it
# is still the one installed; the state directory (the node key) and the
# user and group stay.
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
LAUNCHDDIR ?= /Library/LaunchDaemons
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
fill_paths = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: install-files
	@if [ -z "$(DESTDIR)" ]; then $(MAKE) --no-print-directory install-user; fi

install-files: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/manta
	install -m 0755 $(BUILD)/mantad $(DESTDIR)$(SBINDIR)/mantad
	install -m 0755 $(BUILD)/manta $(DESTDIR)$(BINDIR)/manta
	install -m 0644 packaging/man/manta.8 packaging/man/mantad.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 packaging/man/manta.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 packaging/completion/manta.bash $(DESTDIR)$(BASHCOMPDIR)/manta
	ln -sf manta $(DESTDIR)$(BASHCOMPDIR)/mantad
	[ -e $(DESTDIR)$(SYSCONFDIR)/manta/manta.conf ] || \
		install -m 0644 packaging/manta.conf $(DESTDIR)$(SYSCONFDIR)/manta/manta.conf
ifeq ($(PLATFORM),darwin)
	install -d $(DESTDIR)$(LAUNCHDDIR)
	$(fill_paths) packaging/launchd/net.manta.mantad.plist.in \
		>$(DESTDIR)$(LAUNCHDDIR)/net.manta.mantad.plist
	chmod 0644 $(DESTDIR)$(LAUNCHDDIR)/net.manta.mantad.plist
else
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(fill_paths) packaging/systemd/mantad.service.in >$(DESTDIR)$(SYSTEMDUNITDIR)/mantad.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/mantad.service
	install -m 0644 packaging/systemd/manta.sysusers $(DESTDIR)$(SYSUSERSDIR)/manta.conf
endif

# The manta user (mantad runs as it) and group (who may change things).
install-user:
ifeq ($(PLATFORM),darwin)
	@echo "install: creating the manta group is not supported yet on macOS (mantad runs as root)"
else
	@if getent passwd manta >/dev/null && getent group manta >/dev/null; then \
		echo "install: the manta user and group exist"; \
	elif command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/manta.conf; \
	else \
		getent group manta >/dev/null || groupadd --system manta; \
		useradd --system --gid manta --home-dir /var/lib/manta --no-create-home \
			--shell /usr/sbin/nologin --comment "manta mesh VPN daemon" manta; \
	fi
endif

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mantad $(DESTDIR)$(BINDIR)/manta \
		$(DESTDIR)$(MANDIR)/man8/manta.8 $(DESTDIR)$(MANDIR)/man8/mantad.8 \
		$(DESTDIR)$(MANDIR)/man5/manta.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/manta $(DESTDIR)$(BASHCOMPDIR)/mantad \
		$(DESTDIR)$(SYSTEMDUNITDIR)/mantad.service $(DESTDIR)$(SYSUSERSDIR)/manta.conf \
		$(DESTDIR)$(LAUNCHDDIR)/net.manta.mantad.plist
	@if cmp -s packaging/manta.conf $(DESTDIR)$(SYSCONFDIR)/manta/manta.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/manta/manta.conf; \
		rmdir $(DESTDIR)$(SYSCONFDIR)/manta 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/manta/manta.conf ]; then \
		echo "uninstall: kept $(SYSCONFDIR)/manta/manta.conf (changed since it was installed)"; \
	fi
	@echo "uninstall: kept the state directory (the node key) and the manta user and group"

# --- packages ---------------------------------------------------------------
# make deb: packaging/debian/ over a copy of the sources, built with
# dpkg-buildpackage -us -uc -b; the .deb and its lintian report land in
# $(BUILD)/deb/. make check-packaging builds it and tests it (tests/packaging).
deb:
	@packaging/build-deb.sh $(BUILD)/deb

check-packaging: all
	@MANTA_BUILD=$(BUILD) tests/packaging/run.sh

clean:
	rm -rf build build-san build-fuzz
