#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Result bookkeeping for the check targets.

--units FILE --junit FILE --label L: one line "L <pass> <fail> <skip>" where
  unit-test cases come from the runners' totals file (every KTAP runner,
  a ctest test named *_unit_tests, appends its totals there) and every other
  ctest test in the JUnit report counts as one case. A unit runner that
  failed while no case failed (a crash) counts as one failure.
--sum FILE...: add up such lines and print "N passed, N failed, N skipped".
--lines LOG...: add up the "N passed, N failed[, N skipped]" lines that end
  each log (the last such line of each) and print the sum the same way.
"""
import sys
import xml.etree.ElementTree as ET


def one(units, junit, label):
    p = f = s = 0
    have_units = False
    try:
        for line in open(units):
            parts = line.split()
            if len(parts) >= 3:
                p, f, s = p + int(parts[0]), f + int(parts[1]), s + int(parts[2])
                have_units = True
    except FileNotFoundError:
        pass
    unit_fail = f
    try:
        root = ET.parse(junit).getroot()
        for tc in root.iter("testcase"):
            name = tc.get("name", "")
            failed = tc.find("failure") is not None or tc.find("error") is not None
            skipped = tc.find("skipped") is not None
            if name.endswith("_unit_tests"):
                # A failed runner whose failure no case reports (it crashed
                # or stopped early) still fails the sum.
                if failed and (not have_units or unit_fail == 0):
                    f += 1
                continue
            if failed:
                f += 1
            elif skipped:
                s += 1
            else:
                p += 1
    except (FileNotFoundError, ET.ParseError):
        f += 1
    print(f"{label} {p} {f} {s}")


def total(files):
    p = f = s = 0
    for name in files:
        for line in open(name):
            parts = line.split()
            if len(parts) == 4:
                p, f, s = p + int(parts[1]), f + int(parts[2]), s + int(parts[3])
    print(f"{p} passed, {f} failed, {s} skipped")
    return f


def lines(logs):
    import re
    pat = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$")
    p = f = s = 0
    for name in logs:
        last = None
        try:
            for line in open(name, errors="replace"):
                m = pat.match(line.strip())
                if m:
                    last = m
        except FileNotFoundError:
            pass
        if last is None:
            f += 1  # a check that printed no result line failed
            continue
        p, f, s = p + int(last[1]), f + int(last[2]), s + int(last[3] or 0)
    print(f"{p} passed, {f} failed, {s} skipped")
    return f


def main(argv):
    if argv[:1] == ["--lines"]:
        return 1 if lines(argv[1:]) else 0
    if argv[:1] == ["--sum"]:
        return 1 if total(argv[1:]) else 0
    args = dict(zip(argv[0::2], argv[1::2]))
    one(args["--units"], args["--junit"], args["--label"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
