#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds and tests the hosted port in each configuration and prints the
# summed result as "N passed, N failed, N skipped":
#   plain    gcc, -Werror; also checks objects for constructors/C++ runtime
#   asan     gcc, AddressSanitizer + UBSan + LeakSanitizer
#   tsan     clang, ThreadSanitizer, -Wthread-safety -Werror
# Unit-test cases are counted by case (the runner's totals); every other
# ctest test (multi-process tests) counts as one. The style checks
# (scripts/check_style.sh) run first and count one case each, then the
# self-test of the QEMU runs' log judge (tools/testing/kunit/run_qemu_test.py),
# one case per test. Last, the optimised build that make bench and make demo
# use (Release, -O3: warnings a -O0/-O1 build cannot see) of the programs,
# and one short trial of each benchmark (they must run, not be fast): one
# case each.
set -u
cd "$(dirname "$0")/.."
configs=${KEEL_HOSTED_CONFIGS:-"plain asan tsan"}
jobs=$(nproc 2>/dev/null || echo 2)
totals=$PWD/build/hosted-totals.txt
mkdir -p build
: >"$totals"
rc=0
echo "=== style"
scripts/check_style.sh "$totals" || rc=1
echo "=== judge (run_qemu.py's log judge)"
judge=$(python3 tools/testing/kunit/run_qemu_test.py 2>&1)
judge_rc=$?
echo "$judge" | grep -E "^(FAIL|ERROR)|^judge: "
if [ $judge_rc -ne 0 ]; then
	echo "$judge" | tail -n 40; rc=1
fi
echo "$judge" | sed -n 's/^judge: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/judge \1 \2 \3/p' \
	>>"$totals"
grep -q "^judge " "$totals" || { echo "judge 0 1 0" >>"$totals"; rc=1; }
for cfg in $configs; do
	dir=build/$cfg
	case $cfg in
	plain) args=(-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ -DKEEL_SANITIZE=) ;;
	asan) args=(-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ -DKEEL_SANITIZE=address) ;;
	tsan) args=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DKEEL_SANITIZE=thread) ;;
	*) echo "unknown config $cfg" >&2; exit 2 ;;
	esac
	start=$(date +%s)
	echo "=== hosted/$cfg: build"
	if ! cmake -S . -B "$dir" "${args[@]}" >"$dir.configure.log" 2>&1; then
		cat "$dir.configure.log"; echo "configure-$cfg 0 1 0" >>"$totals"
		rc=1; continue
	fi
	if ! cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
		tail -n 60 "$dir.build.log"
		echo "=== hosted/$cfg: BUILD FAILED"
		echo "build-$cfg 0 1 0" >>"$totals"
		rc=1; continue
	fi
	grep -h "check_cxx_objects" "$dir.build.log" || true
	echo "=== hosted/$cfg: test"
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
	export LSAN_OPTIONS=report_objects=1
	units=$dir/unit-totals.txt
	: >"$units"
	KEEL_TEST_TOTALS=$PWD/$units ctest --test-dir "$dir" --output-on-failure \
		--output-junit junit.xml -j "$jobs" >"$dir.test.log" 2>&1
	ctest_rc=$?
	grep -E "^(ok|not ok) |^# Totals|tests passed|Failed|\*\*\*" "$dir.test.log" | grep -v "^ok " || true
	[ $ctest_rc -eq 0 ] || { tail -n 80 "$dir.test.log"; rc=1; }
	python3 scripts/sum_results.py --units "$units" --junit "$dir/junit.xml" --label "hosted/$cfg" >>"$totals" || rc=1
	echo "=== hosted/$cfg: $(tail -n 1 "$totals" | cut -d' ' -f2-) ($(( $(date +%s) - start )) s)"
done
if [ -z "${KEEL_HOSTED_CONFIGS:-}" ] || [ "${KEEL_HOSTED_RELEASE:-}" = 1 ]; then
	echo "=== hosted/release: build"
	dir=build/release
	if cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DKEEL_SANITIZE= \
		>"$dir.configure.log" 2>&1 &&
		cmake --build "$dir" -j "$jobs" --target shm_bench rpmsg_bench rpmsg rpmsg-hosted \
			keel-sim keel-sim-fw >"$dir.build.log" 2>&1; then
		echo "release-build 1 0 0" >>"$totals"
		echo "=== hosted/release: benchmark smoke run"
		smoke=$dir/smoke.jsonl
		rm -f "$smoke"
		if tools/bench/run.sh "$smoke" \
			"$dir/tools/bench/shm_bench" --trials 1 --iters 100 -- \
			"$dir/tools/bench/rpmsg_bench" --trials 1 --iters 20 --msgs 64 \
			>"$dir.smoke.log" 2>&1 && [ "$(grep -c '"name"' "$smoke")" -ge 40 ]; then
			echo "bench-smoke 1 0 0" >>"$totals"
		else
			tail -n 40 "$dir.smoke.log"; echo "bench-smoke 0 1 0" >>"$totals"; rc=1
		fi
	else
		tail -n 60 "$dir.configure.log" "$dir.build.log"
		echo "=== hosted/release: BUILD FAILED"
		echo "release-build 0 1 0" >>"$totals"; rc=1
	fi
fi
python3 scripts/sum_results.py --sum "$totals"
exit $rc
