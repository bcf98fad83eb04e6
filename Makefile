# SPDX-License-Identifier: GPL-2.0
#
# User entry points. Kbuild (make -C $KDIR M=$PWD) reads ./Kbuild, not this
# file; this Makefile forwards kernel targets to mk/kernel.mk.
#
#   make check          every test: hosted (plain, ASan+UBSan, TSan) and kernel (KUnit in QEMU)
#   make check-hosted   hosted tests only
#   make check-kernel   kernel modules, KUnit in QEMU on 6.1, 6.12 and arm64-6.1,
#                       distro-headers builds (x86_64, arm64, arm), Debian's stock kernel
#                       loading them
#   make bench          benchmarks; figures printed and written to build/bench.jsonl
#                       (instruction counts of the rpmsg paths too, with valgrind)
#   make demo           the main job (see README)
#   make modules        kernel modules against $(KDIR) (default: the running kernel's headers)
#
# Every check target ends with the line "N passed, N failed, N skipped".

ifneq ($(KERNELRELEASE),)
# Invoked by Kbuild by mistake (it reads Kbuild first): nothing to do here.
else

SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD := build

.PHONY: all check check-hosted check-kernel bench demo modules deps deps-hosted deps-kernel clean

all: hosted

deps-hosted:
	@scripts/install-deps.sh hosted

deps-kernel:
	@scripts/install-deps.sh kernel

deps: deps-hosted deps-kernel

hosted: deps-hosted
	cmake -S . -B $(BUILD)/plain -DKEEL_SANITIZE= >/dev/null
	cmake --build $(BUILD)/plain -j $(JOBS)

check-hosted: deps-hosted
	@scripts/check_hosted.sh

# The kernel port's targets (modules, modules-distro, kernel-test,
# check-kernel) live in mk/kernel.mk; here they get their dependencies.
include mk/kernel.mk
check-kernel modules modules-distro kernel-test distro-test: deps-kernel

# Both halves always run; the last line sums them. The kernel half compares
# its KUnit case counts with the hosted runner's (build/plain/keel_tests).
check: deps-hosted deps-kernel
	@rm -f $(BUILD)/check-*.log; mkdir -p $(BUILD); rc=0; \
	start=$$(date +%s); \
	$(MAKE) --no-print-directory check-hosted 2>&1 | tee $(BUILD)/check-hosted.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "=== check-hosted: $$(( $$(date +%s) - start )) s"; start=$$(date +%s); \
	$(MAKE) --no-print-directory check-kernel 2>&1 | tee $(BUILD)/check-kernel.log; \
	[ $${PIPESTATUS[0]} -eq 0 ] || rc=1; \
	echo "=== check-kernel: $$(( $$(date +%s) - start )) s"; \
	python3 scripts/sum_results.py --lines $(BUILD)/check-hosted.log $(BUILD)/check-kernel.log || rc=1; \
	exit $$rc

bench: deps-hosted
	cmake -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DKEEL_SANITIZE= >/dev/null
	cmake --build $(BUILD)/bench -j $(JOBS)
	@rm -f $(BUILD)/bench.jsonl
	tools/bench/run.sh $(BUILD)/bench.jsonl \
		$(BUILD)/bench/tools/bench/shm_bench --trials 7 --iters 2000 -- \
		$(BUILD)/bench/tools/bench/rpmsg_bench --trials 7 --iters 2000
	tools/bench/instr.sh $(BUILD)/bench.jsonl $(BUILD)/bench/tools/bench/rpmsg_bench
	@echo "bench: figures in $(BUILD)/bench.jsonl"

demo: deps-hosted
	@if [ -x tools/sim/demo.sh ]; then tools/sim/demo.sh; \
	else echo "demo: the simulator is not available yet; 'make check' runs every test"; fi

clean:
	rm -rf $(BUILD)

endif
