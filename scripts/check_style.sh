#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_style.sh [--fix]: the tree's style checks, each one case of the
# hosted check's totals ("style <pass> <fail> 0" appended to $1 when given):
#  - clang-format: every tracked C and C++ source is formatted as
#    .clang-format says (Debian 12's clang-format 14; other versions format
#    differently, so the check insists on 14). --fix reformats instead.
#  - kernel-doc: every public declaration of include/ has a kernel-doc
#    block, and the kernel's own scripts/kernel-doc (-none -Wall, run on C
#    views of the C++ headers) warns about none (scripts/kdoc_cxx.py;
#    Documentation/cxx-in-kernel.rst, "kernel-doc"). Nothing to --fix.
set -u
cd "$(dirname "$0")/.."
totals=
fix=
for a in "$@"; do
	case $a in
	--fix) fix=1 ;;
	*) totals=$a ;;
	esac
done
pass=0 fail=0

cf=$(command -v clang-format-14 || true)
if [ -z "$cf" ]; then
	echo "style: clang-format-14 missing (scripts/install-deps.sh hosted installs it)" >&2
	fail=$((fail + 1))
else
	files=$(git ls-files '*.c' '*.cpp' '*.h')
	if [ -n "$fix" ]; then
		# shellcheck disable=SC2086
		$cf -i $files
	fi
	# shellcheck disable=SC2086
	out=$($cf --dry-run --Werror $files 2>&1)
	if [ -n "$out" ]; then
		echo "$out" | grep -E "^[^ ].*(warning|error):" | head -n 40
		n=$(echo "$out" | grep -cE "(warning|error):")
		echo "style: clang-format: $n lines differ from .clang-format" \
			"(scripts/check_style.sh --fix reformats)"
		fail=$((fail + 1))
	else
		echo "style: clang-format: $(echo "$files" | wc -l) files formatted"
		pass=$((pass + 1))
	fi
fi

headers=$(git ls-files 'include/*.h' | wc -l)
out=$(python3 scripts/kdoc_cxx.py check 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "style: kernel-doc: $headers headers, no warnings"
	pass=$((pass + 1))
else
	echo "$out" | head -n 40
	n=$(echo "$out" | grep -c ": warning: ")
	echo "style: kernel-doc: $n warnings (scripts/kdoc_cxx.py check lists them)"
	fail=$((fail + 1))
fi

echo "style: $pass passed, $fail failed, 0 skipped"
[ -z "$totals" ] || echo "style $pass $fail 0" >>"$totals"
[ "$fail" -eq 0 ]
