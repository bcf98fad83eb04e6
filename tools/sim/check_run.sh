#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_run.sh KEEL_SIM JSONL: a short simulator run without a terminal
# (ctest's sim_short_run), then its invariants checked from the JSON
# lines (check_run.py). Every fault kind once, the host restart included;
# no timing is asserted.
set -u
sim=$1
jsonl=$2
here=$(dirname "$0")
rm -f "$jsonl"
# ThreadSanitizer builds sleep a second at exit by default, longer than the
# host gives a firmware asked to stop: the run would see it killed.
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}atexit_sleep_ms=0"
"$sim" --plain --log - --crashes 3 --host-restarts 1 --duration 6 --load light \
	--watchdog-ms 1000 --idle-ms 800 --json "$jsonl"
rc=$?
if [ $rc -ne 0 ]; then
	echo "check_run: keel-sim exited $rc"
	exit 1
fi
exec python3 "$here/check_run.py" "$jsonl"
