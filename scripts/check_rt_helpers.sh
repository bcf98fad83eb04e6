#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_rt_helpers.sh OBJECT|MODULE...
#
# Fails when an object calls a compiler-runtime helper (libgcc/compiler-rt)
# that the kernel does not provide to modules, with the reason and the fix:
#  - __aarch64_*: gcc's outline atomics (arm64; -moutline-atomics is the
#    default of Debian's gcc 12): the C++ rule passes -mno-outline-atomics;
#  - __aeabi_uldivmod/__aeabi_ldivmod, __udivdi3/__divdi3/__umoddi3/__moddi3:
#    a 64-bit division on a 32-bit target: the kernel has div_u64() for it;
#  - __udivti3/__divti3/__umodti3/__modti3, __multi3: 128-bit arithmetic;
#  - __sync_*/__atomic_* calls, __gcc_personality_v0, __clear_cache and the
#    other libgcc entry points below.
# Used by the C++ object rule (scripts/Makefile.cxx), so the build stops at
# the object that introduced the call, and on every linked .ko
# (check_module_symbols.sh). The 32-bit arm kernel itself provides the
# __aeabi_ helpers for 32-bit division and 64-bit shifts: those pass.
: "${NM:=nm}"
status=0
for f in "$@"; do
	bad=$($NM -u "$f" 2>/dev/null | awk '{ print $NF }' | grep -E \
		'^(__aarch64_(cas|swp|ldadd|ldclr|ldeor|ldset)|__aeabi_(uldivmod|ldivmod|d|f|l2|ul2|i2d|ui2d)|__(u?div|u?mod)(di|ti)3$|__multi3$|__(ashl|ashr|lshr)ti3$|__sync_|__atomic_|__gcc_personality|__clear_cache$|__(pop|clz|ctz|parity)(di|ti)2$|__bswap(si|di)2$|__(float|fix)|__(add|sub|mul|div)(sf|df|tf)3$)' || true)
	[ -n "$bad" ] || continue
	for sym in $bad; do
		case $sym in
		__aarch64_*) why="gcc outline atomics; build C++ with -mno-outline-atomics" ;;
		__aeabi_uldivmod|__aeabi_ldivmod|__*divdi3|__*moddi3)
			why="64-bit division on a 32-bit target; divide in a wider port helper (the kernel: div_u64)" ;;
		__*ti3|__*ti2) why="128-bit arithmetic; the kernel has no libgcc" ;;
		__sync_*|__atomic_*) why="an atomic the target cannot inline; use a narrower type" ;;
		*) why="libgcc/compiler-rt helper (floating point or bit operation) the kernel lacks" ;;
		esac
		echo "$f: error: imports compiler-runtime helper $sym ($why)" >&2
	done
	status=1
done
exit $status
