#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Installs the Debian 12 packages a target needs, only when one is missing.
#   scripts/install-deps.sh hosted|kernel|all
set -eu
# perl, linux-source-6.12 and xz-utils (to unpack it): the style check runs
# the kernel's scripts/kernel-doc.
hosted="build-essential cmake g++ clang clang-format-14 libclang-rt-14-dev python3 valgrind binutils
	perl linux-source-6.12 xz-utils"
kernel="linux-source-6.1 linux-source-6.12 linux-headers-amd64 linux-image-amd64 qemu-system-x86 busybox-static
	gcc-aarch64-linux-gnu g++-aarch64-linux-gnu gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf
	qemu-system-arm
	flex bison bc libelf-dev libssl-dev cpio kmod dwarves rsync xz-utils python3"
case "${1:-all}" in
hosted) pkgs=$hosted ;;
kernel) pkgs=$kernel ;;
all) pkgs="$hosted $kernel" ;;
*) echo "usage: $0 hosted|kernel|all" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
