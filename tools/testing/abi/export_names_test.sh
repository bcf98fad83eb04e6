#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# export_names_test.sh CXX
#
# Adds an API function whose mangled name is too long for MODVERSIONS to a
# copy of the public headers, runs keel.ko's export generator
# (scripts/gen_exports.sh with os/linux/exports.list) on the object exactly
# as Kbuild does, and checks that
#  1. the build fails, naming the function, its length, the limit and the fix;
#  2. with KEEL_EXPORT_AS() on the declaration it passes and exports the short
#     name, with the declaration recorded for the CRC;
#  3. a changed signature under the same short name changes the CRC.
# No kernel is needed: the generator reads ELF objects, which the host
# compiler makes with the hosted include paths.
set -u
cxx=${1:-c++}
root=$(cd "$(dirname "$0")/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok $1"; fail=$((fail + 1)); }

mkdir -p "$tmp/include/keel"
# $1: the declaration's tail (before the ;), $2: extra parameter
variant() {
	cat > "$tmp/include/keel/long_api.h" <<EOT
#include <keel/device.h>
namespace keel {
/* A new API function whose mangled name exceeds 55 characters. */
Result<void> device_set_deliberately_long_name(Device &dev, const Driver &drv$2)$1;
}
EOT
	cat > "$tmp/long_api.cpp" <<EOT
#include <keel/long_api.h>
namespace keel {
Result<void> device_set_deliberately_long_name(Device &, const Driver &$2) { return ok(); }
}
EOT
	$cxx -std=gnu++20 -nostdinc++ -ffreestanding -fno-exceptions -fno-rtti -c \
		-I"$tmp/include" -I"$root/include" -I"$root/os/posix/include" \
		-o "$tmp/long_api.o" "$tmp/long_api.cpp"
}
gen() {
	sh "$root/scripts/gen_exports.sh" "$tmp" "$root/os/linux/exports.list" "$tmp/long_api.o" \
		> "$tmp/exports.c" 2> "$tmp/err"
}

echo "KTAP version 1"
echo "1..6"
variant "" ""
if gen; then
	not_ok "1 a too long export fails the build"
else
	ok "1 a too long export fails the build"
fi
sed 's/^/# /' "$tmp/err"
missing=
for want in "keel::device_set_deliberately_long_name(keel::Device&, keel::Driver const&)" \
	"_ZN4keel33device_set_deliberately_long_nameERNS_6DeviceERKNS_6DriverE: 69 characters (limit 55)" \
	"KEEL_EXPORT_AS(keel_device_set_deliberately_long_name)" \
	"os/linux/exports.list" "Documentation/cxx-in-kernel.rst"; do
	grep -qF "$want" "$tmp/err" || missing="$missing [$want]"
done
if [ -z "$missing" ]; then
	ok "2 the message names the function, its length, the limit and the fix"
else
	not_ok "2 the message names the function, its length, the limit and the fix"
	echo "# missing:$missing"
fi

variant " KEEL_EXPORT_AS(keel_device_set_long_name)" ""
if gen && grep -q "^EXPORT_SYMBOL_GPL(keel_device_set_long_name);" "$tmp/exports.c"; then
	ok "3 KEEL_EXPORT_AS() gives an importable export"
else
	not_ok "3 KEEL_EXPORT_AS() gives an importable export"
	sed 's/^/# /' "$tmp/err" "$tmp/exports.c"
fi
decl1=$(grep -F "/* Result<void> device_set_deliberately_long_name(" "$tmp/exports.c")
crc1=$(grep "^extern void keel_device_set_long_name(" "$tmp/exports.c")
if [ -n "$decl1" ] && [ -n "$crc1" ]; then
	ok "4 the declaration is recorded for the CRC"
else
	not_ok "4 the declaration is recorded for the CRC"
fi
echo "# $decl1"
echo "# $crc1"

variant " KEEL_EXPORT_AS(keel_device_set_long_name)" ", int flags"
gen || true
crc2=$(grep "^extern void keel_device_set_long_name(" "$tmp/exports.c")
echo "# $crc2"
if [ -n "$crc2" ] && [ "$crc1" != "$crc2" ]; then
	ok "5 a changed signature changes the CRC"
else
	not_ok "5 a changed signature changes the CRC"
fi

# A short name must be exported (keel_*): one outside the list is an error.
variant " KEEL_EXPORT_AS(device_set_long_name)" ""
if gen; then
	not_ok "6 a short name outside keel_* fails the build"
else
	ok "6 a short name outside keel_* fails the build"
	sed 's/^/# /' "$tmp/err"
fi
echo "# export names: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
