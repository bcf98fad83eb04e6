#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_module_symbols.sh [--constructors] [--symvers KERNEL_SYMVERS] MODULE.ko...
#
# Fails when a linked module carries something the kernel's module loader
# does not provide for C++:
#  - .eh_frame, .gcc_except_table (exceptions, unwind tables: -fno-exceptions
#    and -fno-asynchronous-unwind-tables were lost somewhere);
#  - .init_array / .ctors, unless --constructors (CONFIG_CONSTRUCTORS=y, set
#    by KASAN, whose asan-globals constructors live there): without it the
#    loader silently never runs them;
#  - C++ dynamic initialisation (_GLOBAL__sub_I_*,
#    __static_initialization_and_destruction_*): such a global would stay
#    unconstructed in the distro kernel; make it constinit;
#  - undefined __cxa_* (but __cxa_pure_virtual, exported by keel.ko),
#    _Unwind_*, __gxx_personality*, _ZTI* (RTTI), __dso_handle: the C++
#    runtime does not exist in the kernel;
#  - compiler-runtime helpers (check_rt_helpers.sh): libgcc is not linked
#    into the kernel either.
set -e
: "${READELF:=readelf}" "${NM:=nm}"
ctors=
if [ "$1" = --constructors ]; then
	ctors=1
	shift
fi
symvers=/dev/null
if [ "$1" = --symvers ]; then
	symvers=$2
	shift 2
fi
status=0
for ko in "$@"; do
	secs=$($READELF -SW "$ko" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p')
	for s in $secs; do
		case $s in
		.eh_frame|.rela.eh_frame|.gcc_except_table*)
			echo "$ko: error: section $s (exceptions/unwind tables)" >&2; status=1 ;;
		.init_array*|.rela.init_array*|.ctors*|.rela.ctors*)
			if [ -z "$ctors" ]; then
				echo "$ko: error: section $s: constructors never run (CONFIG_CONSTRUCTORS=n)" >&2
				status=1
			fi ;;
		esac
	done
	bad=$($NM "$ko" | awk '
		$1 == "U" && $2 ~ /^(__cxa_|_Unwind_|__gxx_personality|_ZTI|__dso_handle)/ &&
			$2 != "__cxa_pure_virtual" { print "undefined " $2 }
		NF == 3 && $3 ~ /^(_GLOBAL__sub_I_|__static_initialization_and_destruction)/ {
			print "dynamic initialisation " $3 }')
	if [ -n "$bad" ]; then
		echo "$bad" | sed "s|^|$ko: error: |" >&2
		status=1
	fi
	NM=$NM "$(dirname "$0")/check_rt_helpers.sh" --symvers "$symvers" "$ko" || status=1
done
exit $status
