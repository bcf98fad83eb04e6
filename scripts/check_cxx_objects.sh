#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fails if framework objects need load-time constructors or the C++ runtime:
# modules do not run .init_array, and no libstdc++/libsupc++ exists in the
# kernel. Checks every object (or archive member) given:
#  - sections: .init_array, .ctors, .gcc_except_table
#  - defined symbols: C++ dynamic initialisers (_GLOBAL__sub_I_*,
#    __static_initialization_and_destruction*)
#  - undefined symbols: __cxa_* (the framework defines __cxa_pure_virtual
#    itself), _Unwind_*, __gxx_personality*, typeinfo (_ZTI*/_ZTS*), std::
#    (_ZSt*, _ZNSt*, _ZNKSt*), __dynamic_cast
set -eu
[ $# -gt 0 ] || { echo "usage: $0 OBJECT|ARCHIVE..." >&2; exit 2; }
status=0
for f in "$@"; do
	secs=$(readelf -SW "$f" 2>/dev/null | grep -E '\.(init_array|ctors|gcc_except_table)([. ]|$)' || true)
	if [ -n "$secs" ]; then
		echo "$f: forbidden section(s):" >&2
		echo "$secs" >&2
		status=1
	fi
	bad_def=$(nm -A --defined-only "$f" 2>/dev/null |
		grep -E ' (_GLOBAL__sub_I_|__static_initialization_and_destruction)' || true)
	if [ -n "$bad_def" ]; then
		echo "$f: global constructor(s):" >&2
		echo "$bad_def" >&2
		status=1
	fi
	bad_undef=$(nm -A --undefined-only "$f" 2>/dev/null |
		grep -E ' U (__cxa_|_Unwind_|__gxx_personality|_ZTI|_ZTS|_ZSt|_ZNSt|_ZNKSt|__dynamic_cast)' |
		grep -v ' U __cxa_pure_virtual$' || true)
	if [ -n "$bad_undef" ]; then
		echo "$f: C++ runtime symbol(s) used:" >&2
		echo "$bad_undef" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "check_cxx_objects: $# file(s) clean"
exit $status
