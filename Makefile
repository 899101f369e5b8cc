# SPDX-License-Identifier: GPL-2.0
#
#   make            build rsunion.ko against KDIR (default: the cached test kernel)
#   make demo       boot the test kernel, load the module, mount and show a union
#   make check      build everything and run the selftests in one guest boot
#                   (and a short budget of the differential tester)
#   make fuzz       the differential tester against overlayfs, as long as
#                   asked: SEEDS=N STEPS=N FIRST=N FUZZ="--profile links"
#                   (failing sequences are kept in build/fuzz/)
#   make stress     concurrent processes on one mount, checked: STRESS="args"
#   make bench      time rsunion against overlayfs and the bare filesystem in one
#                   guest boot: BENCH="--quick" (results in build/bench/)
#   make check-debug  make check on the debug test kernel (KASAN, kmemleak, UBSAN,
#                   debug objects), then a leak scan, rmmod and the whole kernel log
#   make kernel     build (or find in the cache) the test kernel
#   make selftests  build the selftest binaries
#   make tools      build tools/rsunion-mount, the mount program for
#                   containers/storage (podman, buildah, CRI-O)
#   make install    install rsunion-mount as $(DESTDIR)/usr/local/sbin/rsunion-mount
#   make rustfmt    format src/ (make check refuses unformatted code)
#   make clean
#
# Every target that needs a tool installs it first (scripts/bootstrap).

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Evaluated when used, after bootstrap: it asks the installed rustc.
TOOLCHAIN = $(shell bash -c '. $(TOP)/scripts/common.sh && kmake_vars')

# Looked up (and built if missing) once, and only by targets that use it.
ifeq ($(origin KDIR), undefined)
KDIR = $(eval KDIR := $(shell $(TOP)/scripts/kernel)/build)$(KDIR)
endif

.PHONY: all bootstrap module kernel demo check check-debug fuzz stress bench selftests tools install clean rustfmt rustfmt-check

all: module

kernel:
	@$(TOP)/scripts/kernel >/dev/null

bootstrap:
	@$(TOP)/scripts/bootstrap

module: bootstrap
	$(MAKE) -C $(KDIR) M=$(TOP) $(TOOLCHAIN) modules

selftests:
	$(MAKE) -C $(TOP)/selftests KDIR=$(KDIR)

tools: $(TOP)/tools/rsunion-mount

$(TOP)/tools/rsunion-mount: $(TOP)/tools/rsunion-mount.c | bootstrap
	$(CC) -O2 -g -Wall -Werror -o $@ $<

install: tools
	install -D -m 0755 $(TOP)/tools/rsunion-mount $(DESTDIR)/usr/local/sbin/rsunion-mount

demo: module tools
	$(TOP)/scripts/vm $(TOP)/scripts/demo

check: rustfmt-check module selftests tools
	$(TOP)/scripts/vm $(TOP)/selftests/run $(TOP)/rsunion.ko

SEEDS ?= 200
STEPS ?= 500
FIRST ?= 1
fuzz: module
	RSUNION_VM_TIMEOUT=$${RSUNION_VM_TIMEOUT:-86400} $(TOP)/scripts/vm $(TOP)/scripts/difftest \
		--ko $(TOP)/rsunion.ko --jobs 2 --seeds $(SEEDS) --steps $(STEPS) --first-seed $(FIRST) $(FUZZ)

# It builds the debug kernel, its own module and the selftests itself.
check-debug:
	$(TOP)/scripts/check-debug

STRESS ?= --seconds 60
stress: module
	$(TOP)/scripts/vm bash -c 'insmod $(TOP)/rsunion.ko && $(TOP)/scripts/stress $(STRESS)'

# Never fails on a time: only when something breaks. Not part of make check.
# On its own kernel (no lockdep) and, under TCG, an instruction clock: see
# scripts/bench-vm.
BENCH ?=
bench: bootstrap
	$(TOP)/scripts/bench-vm $(BENCH)

# The crate root pulls in every module; formatting follows rustfmt's
# defaults for edition 2021, as the kernel's .rustfmt.toml does.
rustfmt: bootstrap
	/usr/bin/rustfmt --edition 2021 $(TOP)/src/rsunion_main.rs

rustfmt-check: bootstrap
	@/usr/bin/rustfmt --edition 2021 --check $(TOP)/src/rsunion_main.rs >/dev/null || \
		{ echo "rsunion: src/ is not rustfmt-formatted: run 'make rustfmt'" >&2; exit 1; }

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(TOP) $(TOOLCHAIN) clean; fi
	$(MAKE) -C $(TOP)/selftests clean
	rm -f $(TOP)/tools/rsunion-mount
	rm -rf $(TOP)/gen
