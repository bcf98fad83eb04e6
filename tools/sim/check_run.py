#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check_run.py JSONL: the invariants of a simulator run, from its JSON lines.

What must hold whatever the machine's speed: every fault was played and
recovered (a crash: detected, devices removed, remote restarted, services
announced and drivers probed again, in that order; a host restart: the
same remote process re-attached in a new session); traffic flowed after
each; no message was corrupt, reordered or lost without a crash; sends
failed only because the remote was gone; every probe had its remove;
nothing leaked; the run's own checks passed. No timing is asserted.
"""
import json
import sys


def main(path):
    recs = [json.loads(line) for line in open(path)]
    by = {}
    for r in recs:
        by.setdefault(r["type"], []).append(r)
    errors = []

    def expect(cond, what):
        if not cond:
            errors.append(what)

    cfg = by["config"][0]
    summ = by["summary"][0]
    recoveries = by.get("recovery", [])
    expect(summ["pass"], "the run's summary says it failed")
    expect(summ["crashes"] == cfg["crashes"], "crashes caused %d, planned %d" % (summ["crashes"], cfg["crashes"]))
    expect(summ["recoveries"] == summ["crashes"], "%d of %d crashes recovered" % (summ["recoveries"], summ["crashes"]))
    expect(summ["host_restarts"] == cfg["host_restarts"], "host restarts %d, planned %d" % (summ["host_restarts"], cfg["host_restarts"]))
    expect(summ["reattached"] == summ["host_restarts"], "%d of %d host restarts re-attached" % (summ["reattached"], summ["host_restarts"]))
    expect(summ["bad"] == 0, "%d bad messages" % summ["bad"])
    expect(summ["failed_other"] == 0, "%d sends failed other than fast" % summ["failed_other"])
    expect(summ["probes"] == summ["removes"], "probes %d, removes %d" % (summ["probes"], summ["removes"]))
    expect(summ["live_allocs"] in (0, -1), "%d framework allocations leaked" % summ["live_allocs"])
    expect(summ["warnings"] == 0, "%d framework warnings" % summ["warnings"])
    expect(summ["fw_exit_status"] == 0, "firmware exit status %#x" % summ["fw_exit_status"])
    expect(summ["received"] > 0, "no traffic")
    expect(len(recoveries) == cfg["crashes"] + cfg["host_restarts"], "%d recovery records" % len(recoveries))
    kinds = set()
    for r in recoveries:
        kinds.add(r["kind"])
        name = "fault %d (%s)" % (r["index"], r["kind"])
        expect(r["ok"], name + ": not recovered")
        expect(r["traffic_after"], name + ": no traffic on every channel after it")
        expect(r["announced"] >= 3 and r["probed"] >= 3, name + ": %d announced, %d probed" % (r["announced"], r["probed"]))
        if r["kind"] == "host-restart":
            steps = ["detected_ms", "host_down_ms", "host_up_ms", "announced_ms", "probed_ms"]
            expect(r["pid_before"] == r["pid_after"] and r["pid_before"] > 0, name + ": the remote did not live through it")
            expect(r["session_after"] > r["session_before"], name + ": no new host session")
        else:
            steps = ["detected_ms", "removed_ms", "started_ms", "announced_ms", "probed_ms"]
            # The core's recovery ends when the devices are added again, before the
            # announcements and probes that follow from it.
            expect(r["done_ms"] is not None and r["started_ms"] is not None
                   and r["started_ms"] <= r["done_ms"], name + ": no recovery done after the restart")
        t = [r[s] for s in steps]
        expect(None not in t, name + ": missing steps %s" % [s for s in steps if r[s] is None])
        if None not in t:
            expect(t == sorted(t), name + ": steps out of order %s" % t)
    if cfg["crashes"] >= 3:
        expect({"kill", "panic", "hang"} <= kinds, "not every crash kind played: %s" % sorted(kinds))
    for c in by.get("check", []):
        expect(c["ok"], "check %s: %s" % (c["name"], c["detail"]))
    crashes = [e for e in by.get("event", []) if e.get("rproc") and e.get("reason")]
    expect(len(crashes) >= cfg["crashes"], "%d crash reports for %d crashes" % (len(crashes), cfg["crashes"]))
    expect(len(by.get("sample", [])) > 0, "no samples")
    for e in errors:
        print("check_run: FAILED: " + e)
    if not errors:
        print("check_run: ok: %d crashes recovered, %d host restarts re-attached, %d messages"
              % (summ["recoveries"], summ["reattached"], summ["received"]))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
