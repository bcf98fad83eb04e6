# SPDX-License-Identifier: GPL-2.0
#
# keel's sources: the one description that both builds read, Kbuild (the
# Kbuild file includes this) and CMake (CMakeLists.txt parses the
# "NAME := words" lines; keep each on one line).
#
# KEEL_DIRS: the framework and the stack. In each directory D
#   D/*.cpp              code, but D/*_test.cpp: keel.ko, and libkeel hosted
#   D/*_test.cpp         tests: keel_test.ko (KUnit), and keel_tests hosted
#   D/tests/*.cpp        tests and their helpers, likewise
# Files are found by these rules, so a new file in a listed directory is
# built everywhere with no change here; so is every file of a listed
# directory that does not exist yet, once it appears. A new directory (a
# new drivers/foo/) is one word on this line.
KEEL_DIRS := lib drivers/base drivers/virtio drivers/remoteproc drivers/rpmsg

# The test API's implementation: built with the tests, not into keel.ko.
KEEL_TEST_SUPPORT := lib/test.cpp

# Sample and client modules, each built against keel.ko's exports like a
# third party's: every listed directory that has a Kbuild (using the shared
# stanza of scripts/Makefile.module) is descended into. Their tests follow
# the KEEL_DIRS rules (*_test.cpp, tests/*.cpp).
KEEL_MODULE_DIRS := samples/keel samples/rpmsg os/linux/rpmsg_char
