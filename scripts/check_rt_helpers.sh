#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_rt_helpers.sh [--symvers Module.symvers] OBJECT|MODULE...
#
# Fails when an object calls a compiler-runtime helper (libgcc/compiler-rt)
# that the kernel does not provide to modules, with the reason and the fix.
# With --symvers, a helper the target kernel exports is allowed (32-bit arm
# exports __aeabi_uidiv, __ashldi3, lib/clz_ctz.c's __ctzdi2, ...); without
# it every helper below is refused:
#  - __aarch64_*: gcc's outline atomics (arm64; -moutline-atomics is the
#    default of Debian's gcc 12): the C++ rule passes -mno-outline-atomics;
#  - __aeabi_uldivmod/__aeabi_ldivmod, __udivdi3/__divdi3/__umoddi3/__moddi3:
#    a 64-bit division on a 32-bit target: the kernel has div_u64() for it;
#  - __udivti3/__divti3/__umodti3/__modti3, __multi3: 128-bit arithmetic;
#  - __sync_*/__atomic_* calls, __gcc_personality_v0, __clear_cache and the
#    other libgcc entry points below.
# Used by the C++ object rule (scripts/Makefile.cxx), so the build stops at
# the object that introduced the call, and on every linked .ko
# (check_module_symbols.sh).
: "${NM:=nm}"
symvers=
if [ "${1:-}" = --symvers ]; then
	symvers=$2
	shift 2
	[ -f "$symvers" ] || symvers=
fi
status=0
for f in "$@"; do
	bad=$($NM -u "$f" 2>/dev/null | awk '{ print $NF }' | grep -E \
		'^(__aarch64_(cas|swp|ldadd|ldclr|ldeor|ldset)|__aeabi_(uldivmod|ldivmod|d|f|l2|ul2|i2d|ui2d)|__(u?div|u?mod)(di|ti)3$|__multi3$|__(ashl|ashr|lshr)ti3$|__sync_|__atomic_|__gcc_personality|__clear_cache$|__(pop|clz|ctz|parity)(di|ti)2$|__bswap(si|di)2$|__(float|fix)|__(add|sub|mul|div)(sf|df|tf)3$)' || true)
	[ -n "$bad" ] || continue
	found=
	for sym in $bad; do
		[ -n "$symvers" ] && awk -v s="$sym" '$2 == s { f = 1 } END { exit !f }' "$symvers" &&
			continue
		found=1
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
	[ -z "$found" ] || status=1
done
exit $status
