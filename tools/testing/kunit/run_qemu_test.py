#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of run_qemu.py's judge: canned excerpts of a QEMU run's log,
one good run and one mutation per way a run can go wrong. The judge must
pass the good log and fail each mutation with a message that names what
went wrong; a judge that passes everything fails here.

Run by scripts/check_hosted.sh; by hand: python3 run_qemu_test.py [-v].
Prints "judge: N passed, N failed, 0 skipped".
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_qemu as rq  # noqa: E402

CH = "virtio0.rpmsg-client-sample.-1.1024"
ECHO = "rpmsg-loopback.rpmsg-client-sample.-1.-1"


def exchange(limit=100):
    """The client sample's lines for a run that receives @limit answers."""
    out = [f"{CH}: new channel: 0x400 -> 0x400!"]
    out += [f"{CH}: incoming msg {n} (src: 0x400)" for n in range(1, limit + 1)]
    out.append(f"{CH}: goodbye!")
    return out


def good_log(kmemleak=False, limit=100, echoed=100, taint=12288):
    """A run as the stock kernel logs it (with @kmemleak, as a test kernel
    does): load, exchange, unload in reverse, one load/unload loop."""
    body = [
        "Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)",
        "Kernel command line: console=ttyS0 panic=-1 loglevel=7 rdinit=/init",
    ]
    if kmemleak:
        body.append("kmemleak: Kernel memory leak detector initialized (mem pool available: 15276)")
    body += [
        "keel-run: begin",
        "keel: loading out-of-tree module taints kernel.",
        "keel: module verification failed: signature and/or required key missing - tainting kernel",
        "keel-run: load keel_sample_client",
        "keel_sample: probed: work ran",
        "keel-run: load rpmsg_loopback",
        "virtio0: rpmsg host is online",
        "rpmsg-loopback: host session 1 up",
        "rpmsg_loopback: rpmsg-loopback up: 1 service(s) (rpmsg-client-sample), 256-entry "
        "vrings, 512-byte buffers, 288 KiB shared",
        "keel-run: load rpmsg_echo",
        f"{ECHO}: echo service at 0x400",
        "virtio0: ns: creating channel rpmsg-client-sample addr 0x400",
        "keel-run: load rpmsg_client_sample",
    ]
    body += exchange(limit)
    body += [
        "keel-run: load keel_rpmsg_char",
        "keel_rpmsg_char: /dev/rpmsg_ctrlN and /dev/rpmsgN, class and bus keel_rpmsg",
        "keel-run: unload keel_rpmsg_char",
        "keel-run: unload rpmsg_client_sample",
        f"{CH}: rpmsg sample client driver is removed",
        "keel-run: unload rpmsg_echo",
        "virtio0: ns: destroying channel rpmsg-client-sample addr 0x400",
        f"{ECHO}: echo service removed: {echoed} echoed, 0 deferred, 0 dropped",
        "keel-run: unload rpmsg_loopback",
        f"rpmsg-loopback: session 1: host received {echoed + 2}, sent {echoed}, dropped 0; "
        f"remote received {echoed}, sent {echoed + 2}, dropped 0",
        "rpmsg-loopback: host session 1 down",
        "rpmsg_loopback: removed",
        "keel-run: unload keel_sample_client",
        "keel_sample: removed",
        "keel-run: load/unload loops: 1",
    ]
    if kmemleak:
        body.append("keel-run: kmemleak scan done")
    body += [f"keel-run: tainted {taint}", "keel-run: done", "reboot: Restarting system"]
    return [f"[{7 + i / 1000:12.6f}] {b}" for i, b in enumerate(body)]


def judge(lines, kmemleak=False, taint=rq.ALLOWED_TAINT):
    return rq.judge_log(lines, rq.CLIENT_MODULES, taint, kmemleak=kmemleak)


def without(lines, text):
    return [ln for ln in lines if text not in ln]


def after(lines, anchor, *new):
    """@lines with @new inserted after the first line containing @anchor."""
    i = next(i for i, ln in enumerate(lines) if anchor in ln)
    return lines[:i + 1] + [f"[   99.000000] {n}" for n in new] + lines[i + 1:]


class JudgeTest(unittest.TestCase):
    def fails(self, lines, *words, **kw):
        """The judge fails @lines, and some message holds each of @words."""
        problems = judge(lines, **kw)
        self.assertTrue(problems, "the judge passed a bad log")
        text = "\n".join(problems)
        for w in words:
            self.assertIn(w, text)
        return problems

    def test_good_stock_run_passes(self):
        self.assertEqual(judge(good_log()), [])

    def test_good_test_kernel_run_passes(self):
        lines = good_log(kmemleak=True, taint=rq.ALLOWED_TAINT | rq.TAINT_TEST)
        self.assertEqual(judge(lines, kmemleak=True, taint=rq.ALLOWED_TAINT | rq.TAINT_TEST), [])

    def test_exchange_cut_short_fails(self):
        # The remote stops answering after 99 messages: the client never
        # reaches 100, the echo and the session counts say 99.
        lines = without(good_log(limit=99, echoed=99), "goodbye!")
        self.fails(lines, "rpmsg_client_sample: expected log line /incoming msg 100",
                   "rpmsg_client_sample: expected log line /goodbye!/",
                   "rpmsg_echo: expected log line /echo service removed: 100 echoed",
                   "rpmsg_loopback: expected log line /rpmsg-loopback: session 1")

    def test_no_answer_at_all_fails(self):
        lines = [ln for ln in good_log() if "incoming msg" not in ln and "goodbye" not in ln]
        lines = after(lines, "load rpmsg_client_sample",
                      "keel-run: FAIL: no log line /goodbye!/ after 60 s")
        # The init script's own mark names the line it waited for: it is
        # no evidence of that line.
        self.fails(lines, "init script: keel-run: FAIL: no log line /goodbye!/",
                   "expected log line /incoming msg 1 ",
                   "rpmsg_client_sample: expected log line /goodbye!/ missing")

    def test_channel_never_bound_fails(self):
        lines = without(good_log(), "new channel:")
        self.fails(lines, "rpmsg_client_sample: expected log line /new channel:")

    def test_one_message_too_many_fails(self):
        lines = after(good_log(), "incoming msg 100 ", f"{CH}: incoming msg 101 (src: 0x400)")
        self.fails(lines, "unexpected log line /incoming msg 101 /")

    def test_send_failure_fails(self):
        lines = after(good_log(), "incoming msg 50 ", f"{CH}: rpmsg_send failed: -12")
        self.fails(lines, "unexpected log line /rpmsg_send failed/")

    def test_dropped_message_fails(self):
        lines = [ln.replace("echoed, 0 deferred, 0 dropped", "echoed, 0 deferred, 1 dropped")
                 for ln in good_log()]
        self.fails(lines, "rpmsg_echo: expected log line /echo service removed")

    def test_line_outside_its_window_does_not_count(self):
        # "goodbye!" logged only after the client was unloaded is not its run.
        lines = without(good_log(), "goodbye!")
        lines = after(lines, "keel-run: unload keel_sample_client", f"{CH}: goodbye!")
        self.fails(lines, "rpmsg_client_sample: expected log line /goodbye!/")

    def test_missing_markers_fail(self):
        lines = without(good_log(), "keel-run: unload rpmsg_echo")
        self.fails(lines, "rpmsg_echo: no load/unload markers")

    def test_failed_insmod_fails(self):
        lines = after(good_log(), "load rpmsg_loopback",
                      "keel-run: FAIL: insmod /rpmsg_loopback.ko")
        self.fails(lines, "init script: keel-run: FAIL: insmod /rpmsg_loopback.ko")

    def test_module_left_loaded_fails(self):
        lines = after(good_log(), "load/unload loops", "keel-run: FAIL: module left loaded")
        self.fails(lines, "module left loaded")

    def test_unfinished_run_fails(self):
        lines = good_log()
        lines = lines[:next(i for i, ln in enumerate(lines) if "unload rpmsg_echo" in ln)]
        self.fails(lines, "the init script did not finish", "no taint report")

    def test_splats_fail(self):
        for splat, word in (
            ("WARNING: CPU: 1 PID: 77 at drivers/rpmsg/core.cpp:10 f+0x1/0x2 [keel]", "WARNING"),
            ("BUG: KASAN: slab-use-after-free in rpmsg_recv+0x10/0x20 [keel]", "KASAN"),
            ("BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
             "BUG"),
            ("WARNING: possible circular locking dependency detected", "WARNING"),
            ("general protection fault, probably for non-canonical address", "Oops/panic"),
            ("INFO: task insmod:80 blocked for more than 120 seconds.", "hang"),
            ("keel: Unknown symbol keel_rpmsg_send (err -2)", "module load"),
        ):
            with self.subTest(splat=splat):
                self.fails(after(good_log(), "incoming msg 20 ", splat), word)

    def test_unexpected_taint_fails(self):
        # D (died, 1 << 7) on top of O and E.
        self.fails(good_log(taint=12288 | 128), "kernel tainted 0x3080: flags 0x80")

    def test_test_taint_only_allowed_in_test_kernels(self):
        self.fails(good_log(taint=12288 | rq.TAINT_TEST), "flags 0x40000")

    def test_kmemleak_report_fails(self):
        lines = good_log(kmemleak=True)
        lines = after(lines, "load/unload loops",
                      "keel-run: kmemleak report:",
                      "unreferenced object 0xffff888004a3c000 (size 512):",
                      "  comm \"insmod\", pid 90, jiffies 4294672100",
                      "  backtrace:",
                      "    keel_kmalloc+0x2a/0x40 [keel]")
        self.fails(lines, "kmemleak: unreferenced object 0xffff888004a3c000", kmemleak=True)

    def test_kmemleak_background_report_fails(self):
        lines = after(good_log(kmemleak=True), "incoming msg 3 ",
                      "kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)")
        self.fails(lines, "kmemleak: kmemleak: 2 new suspected memory leaks", kmemleak=True)

    def test_kmemleak_disabled_fails(self):
        lines = after(good_log(kmemleak=True), "incoming msg 3 ",
                      "kmemleak: Kernel memory leak detector disabled")
        self.fails(lines, "kmemleak: kmemleak: Kernel memory leak detector disabled",
                   kmemleak=True)

    def test_kmemleak_scan_missing_fails(self):
        lines = without(good_log(kmemleak=True), "kmemleak scan done")
        self.fails(lines, "no kmemleak scan after the modules were unloaded", kmemleak=True)

    def test_kmemleak_scan_refused_fails(self):
        lines = after(good_log(kmemleak=True), "load/unload loops",
                      "keel-run: FAIL: kmemleak scan refused")
        self.fails(lines, "kmemleak scan refused", kmemleak=True)

    def test_init_script_loads_with_module_args(self):
        script = rq.init_script(rq.CLIENT_MODULES, 2,
                                module_args={"rpmsg_loopback": "vring_num=16"})
        loads = [ln for ln in script.splitlines() if "insmod /rpmsg_loopback.ko" in ln]
        self.assertEqual(len(loads), 3)
        for ln in loads:
            self.assertTrue(ln.endswith("rpmsg_loopback.ko vring_num=16"), ln)
        # The other modules load as before.
        self.assertIn("must insmod /rpmsg_echo.ko\n", script)

    def test_init_script_unloads_in_reverse(self):
        script = rq.init_script(rq.CLIENT_MODULES, 0)
        names = [c.name for c in rq.CLIENT_MODULES]
        unloads = [ln.split()[-1] for ln in script.splitlines()
                   if ln.startswith("must rmmod ")]
        self.assertEqual(unloads, list(reversed(names)) + ["keel"])


    def suites(self, **counts):
        return {k: {"pass": v, "fail": 0, "skip": 0} for k, v in counts.items()}

    def test_case_counts_equal_pass(self):
        got = rq.compare_case_counts(self.suites(a=2, rb=1), {"pass": 3, "fail": 0, "skip": 0},
                                     {"a": 2, "rb": 1}, None)
        self.assertEqual(got, [])

    def test_case_count_of_one_suite_differs_fails(self):
        # Equal totals, but one case moved from one suite to another.
        got = rq.compare_case_counts(self.suites(a=3, rb=1), {"pass": 4, "fail": 0, "skip": 0},
                                     {"a": 2, "rb": 2}, None)
        self.assertEqual(len(got), 2)
        self.assertIn("case count of a differs: KUnit 3, hosted 2", got)

    def test_case_counts_checked_within_the_filter(self):
        k = self.suites(rb=1, rc=4)
        t = {"pass": 5, "fail": 0, "skip": 0}
        self.assertEqual(rq.compare_case_counts(k, t, {"a": 2, "rb": 1, "rc": 4}, "r*"), [])
        got = rq.compare_case_counts(k, t, {"a": 2, "rb": 1, "rc": 5}, "r*")
        self.assertEqual(got, ["case count of rc differs: KUnit 4, hosted 5"])
        # A suite the filter selects that the kernel never ran.
        got = rq.compare_case_counts(self.suites(rb=1), {"pass": 1, "fail": 0, "skip": 0},
                                     {"a": 2, "rb": 1, "rc": 4}, "r*")
        self.assertEqual(got, ["case count of rc differs: KUnit 0, hosted 4"])


def main():
    verbosity = 2 if "-v" in sys.argv[1:] else 1
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(JudgeTest)
    res = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors)
    print(f"judge: {res.testsRun - failed} passed, {failed} failed, 0 skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
