#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run.sh OUT.jsonl BINARY [ARGS...] [-- BINARY [ARGS...]]...
#
# Runs already-built benchmark binaries (it builds nothing), each with
# "--jsonl OUT.jsonl" appended to its arguments, so that each appends
# {"name":..,"value":..,"unit":..} lines to OUT.jsonl and prints its table.
# Benchmarks never assert times; a binary that fails is reported and the
# script exits nonzero after running the rest.
#
#   tools/bench/run.sh build/bench.jsonl build/plain/tools/bench/shm_bench --trials 7
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 OUT.jsonl BINARY [ARGS...] [-- BINARY [ARGS...]]..." >&2
	exit 2
fi
out=$1
shift
mkdir -p "$(dirname "$out")"
touch "$out"
rc=0
while [ $# -gt 0 ]; do
	bin=$1
	shift
	args=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		args="$args $1"
		shift
	done
	[ $# -gt 0 ] && shift
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin: not built" >&2
		rc=1
		continue
	fi
	echo "=== $(basename "$bin")$args"
	# shellcheck disable=SC2086
	if ! "$bin" $args --jsonl "$out"; then
		echo "run.sh: $(basename "$bin") failed" >&2
		rc=1
	fi
done
exit $rc
