#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kbuild_modules.sh KDIR OUTDIR [make arguments...]
#
# Builds keel's modules against the kernel tree KDIR in OUTDIR, a mirror of
# the source tree made of symbolic links (Kbuild puts objects beside the
# sources of an external module; the mirror keeps them, per kernel, out of
# the repository, so that several kernels can be built one after another
# without rebuilding everything each time). Then checks the .ko files with
# check_module_symbols.sh.
set -e
kdir=$1 out=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$kdir/Makefile" ] || { echo "$0: no kernel build tree at $kdir" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Refresh the links: sources may have been added, moved or deleted.
find "$out" -type l -delete
(cd "$root" && find Kbuild Kconfig include lib drivers os samples scripts mk \
	-path os/linux/generated -prune -o -path os/posix -prune -o -type f \
	\( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name Kbuild -o -name Kconfig \
	   -o -name '*.sh' -o -name '*.list' -o -name 'Makefile.*' -o -name '*.mk' \) -print 2>/dev/null) |
while read -r f; do
	mkdir -p "$out/$(dirname "$f")"
	ln -s "$root/$f" "$out/$f"
done

make -C "$kdir" M="$out" "$@" modules

# A client module builds on its own against keel.ko's Module.symvers, as a
# third party's would: the sample again, in its own Kbuild run.
sample=$out/samples/keel
make -C "$kdir" M="$sample" "$@" clean >/dev/null
make -C "$kdir" M="$sample" KBUILD_EXTRA_SYMBOLS="$out/Module.symvers" "$@" modules
deps=$(modinfo -F depends "$sample/keel_sample_client.ko")
[ "$deps" = keel ] || { echo "$0: keel_sample_client.ko depends on '$deps', not keel" >&2; exit 1; }
echo "keel_sample_client.ko built on its own against keel.ko's Module.symvers (depends: $deps)"

ctors=
grep -q '^CONFIG_CONSTRUCTORS=y' "$kdir/include/config/auto.conf" && ctors=--constructors
kos=$(find "$out" -name '*.ko' | sort)
"$root/scripts/check_module_symbols.sh" $ctors $kos
echo "modules OK in $out:"
(cd "$out" && find . -name '*.ko' | sort | sed 's|^\./|  |')
