#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build the simulator (keel-sim and its firmware, nothing
# else) and run it. Arguments go to keel-sim (make demo DEMO_ARGS="...";
# keel-sim --help lists them). The build lives in build/demo; the run's
# events are also written to build/demo/sim.jsonl.
set -eu
cd "$(dirname "$0")/../.."
build=${KEEL_DEMO_BUILD:-build/demo}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$build"
start=$(date +%s)
printf 'demo: building the simulator (%s) ... ' "$build"
if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DKEEL_SANITIZE= \
	>"$build/configure.log" 2>&1; then
	echo "failed"; cat "$build/configure.log"; exit 1
fi
if ! cmake --build "$build" -j "$jobs" --target keel-sim keel-sim-fw \
	>"$build/build.log" 2>&1; then
	echo "failed"; tail -n 40 "$build/build.log"; exit 1
fi
echo "done in $(( $(date +%s) - start )) s"
exec "$build/tools/sim/keel-sim" --json "$build/sim.jsonl" "$@"
