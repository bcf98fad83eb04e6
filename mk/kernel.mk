# SPDX-License-Identifier: GPL-2.0
#
# The Linux port's make targets; the top-level Makefile only needs
#
#	include mk/kernel.mk
#
# Targets:
#   modules          build keel.ko, keel_sample_client.ko (and keel_test.ko
#                    when the kernel has KUnit) against $(KDIR), checked by
#                    scripts/check_module_symbols.sh
#   modules-distro   the same against Debian's stock headers ($(KEEL_DISTRO_KDIR))
#   kernel-test      boot the test kernel(s) in QEMU with the modules: KUnit,
#                    load/unload loops, kmemleak, splat scan (run_qemu.py)
#   distro-test      boot Debian's stock kernel (linux-image-amd64) in QEMU with
#                    the modules-distro build: load, log lines, unload, taint
#   check-kernel     modules-distro + distro-test + kernel-test for every line
#                    of $(KEEL_KERNEL_LINES); ends with "N passed, N failed, N skipped"
#   modules-clean    remove the module build trees
#
# Variables:
#   KDIR                 kernel build tree for `modules` (default: the running
#                        kernel's, else Debian's headers)
#   KEEL_DISTRO_KDIR     Debian headers for `modules-distro`
#   KEEL_KERNEL_LINES    kernel lines for QEMU runs (default: 6.1 6.12)
#   KEEL_KERNEL_CACHE    where test kernels are built and kept (default
#                        /var/cache/keel-kernels; outside the repository)
#   KEEL_EXCLUDE         make patterns of sources to leave out (Kbuild)
#   KEEL_KUNIT_FILTER    glob of KUnit suites to run (default: all)
#   KEEL_LOOPS           load/unload cycles in QEMU (default 5)

KEEL_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
KEEL_KBUILD_OUT ?= $(KEEL_ROOT)/build/kernel
KEEL_DISTRO_KDIR ?= $(firstword $(wildcard /lib/modules/*-amd64/build) \
	$(wildcard /usr/src/linux-headers-*-amd64))
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) $(KEEL_DISTRO_KDIR))
KEEL_KERNEL_LINES ?= 6.1 6.12
KEEL_LOOPS ?= 5
KEEL_RUN_QEMU := python3 $(KEEL_ROOT)/tools/testing/kunit/run_qemu.py
KEEL_KSUMMARY := $(KEEL_KBUILD_OUT)/summary.txt

.PHONY: modules modules-distro kernel-test distro-test check-kernel modules-clean

# One output tree per kernel (its release string), so that builds against
# different kernels do not rebuild each other.
modules:
	$(KEEL_ROOT)/scripts/kbuild_modules.sh $(KDIR) \
		$(KEEL_KBUILD_OUT)/$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null || echo kdir)

# Debian's headers: no KUnit (keel_test.ko is skipped by Kbuild); the distro
# config has MODVERSIONS, BTF for modules and no CONFIG_CONSTRUCTORS, so this
# is where the strict checks (.init_array, long modversion names) bite.
modules-distro:
	@if [ -z "$(KEEL_DISTRO_KDIR)" ]; then \
		echo "modules-distro: no Debian headers; apt-get install linux-headers-amd64"; \
		exit 1; \
	fi
	$(KEEL_ROOT)/scripts/kbuild_modules.sh $(KEEL_DISTRO_KDIR) $(KEEL_KBUILD_OUT)/distro

distro-test:
	$(KEEL_RUN_QEMU) distro --modules $(KEEL_KBUILD_OUT)/distro --kdir $(KEEL_DISTRO_KDIR)

kernel-test:
	@rm -f $(KEEL_KSUMMARY)
	$(KEEL_RUN_QEMU) run $(addprefix --line ,$(KEEL_KERNEL_LINES)) --loops $(KEEL_LOOPS) \
		$(if $(KEEL_KUNIT_FILTER),--filter '$(KEEL_KUNIT_FILTER)') --summary $(KEEL_KSUMMARY)

# Runs everything even when a part fails, then prints the sum and fails if
# anything did. A module build failure counts as one failure.
check-kernel:
	@mkdir -p $(KEEL_KBUILD_OUT); rm -f $(KEEL_KSUMMARY); st=0; \
	t0=$$(date +%s); \
	echo "== distro build against $(KEEL_DISTRO_KDIR)"; \
	if $(MAKE) --no-print-directory -f $(KEEL_ROOT)/mk/kernel.mk modules-distro; then \
		echo "distro 1 0 0 0" >> $(KEEL_KSUMMARY); \
		echo "== Debian's stock kernel with the distro-built modules"; \
		$(KEEL_RUN_QEMU) distro --modules $(KEEL_KBUILD_OUT)/distro --kdir $(KEEL_DISTRO_KDIR) \
			--summary $(KEEL_KSUMMARY) || st=1; \
	else echo "distro 0 1 0 0" >> $(KEEL_KSUMMARY); echo "stock 0 1 0 0" >> $(KEEL_KSUMMARY); st=1; fi; \
	$(KEEL_RUN_QEMU) run $(addprefix --line ,$(KEEL_KERNEL_LINES)) --loops $(KEEL_LOOPS) \
		$(if $(KEEL_KUNIT_FILTER),--filter '$(KEEL_KUNIT_FILTER)') \
		--summary $(KEEL_KSUMMARY) || st=1; \
	echo "== check-kernel summary ($$(( $$(date +%s) - t0 )) s)"; \
	awk '{ printf "  %-8s %d passed, %d failed, %d skipped, %d problems\n", $$1, $$2, $$3, $$4, $$5; \
		p += $$2; f += $$3 + $$5; s += $$4 } \
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' $(KEEL_KSUMMARY); \
	exit $$st

modules-clean:
	rm -rf $(KEEL_KBUILD_OUT)
