#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build a test kernel, boot it in QEMU with keel's modules, judge the log.

Subcommands:
  kernel   --line 6.1          build (or reuse) the cached test kernel, print its dir
  run      --line 6.1 ...      build the modules against it, make an initramfs,
                               boot, parse KTAP, scan the log for splats
  distro   --modules DIR       boot Debian's stock kernel (linux-image-amd64) with
                               the modules built against its headers in DIR: load,
                               check their log lines, unload, judge the log and taint
  distro-kdir --arch ARCH      print Debian's stock headers for ARCH (x86_64, arm64,
                               arm), unpacking a foreign architecture's into the cache
  lines                        list the kernel lines

A line is an architecture and a Debian linux-source-<version> package (see
LINES): 6.1 and 6.12 are x86_64, arm64-6.1 and arm64-6.12 are arm64 (cross
compiled, booted on QEMU's "virt" machine). Kernels are built from the
tarball, tinyconfig plus the line's fragments (configs/keel.config, then
configs/<arch>.config), out of tree (O=) in
  ${KEEL_KERNEL_CACHE:-/var/cache/keel-kernels}/[<arch>-]<package version>-<fragment hash>/
so a changed fragment or a new source package gives a new tree and an
unchanged one is reused (x86_64 trees carry no prefix). Nothing is written into the repository except the
module build products (by Kbuild) and the run directory given with --out.
"""

import argparse
import contextlib
import fcntl
import fnmatch
import gzip
import hashlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CACHE = os.environ.get("KEEL_KERNEL_CACHE", "/var/cache/keel-kernels")


class Arch:
    """How to build and boot one architecture."""

    def __init__(self, name, srcarch, cross, image, qemu, machine, console, busybox,
                 packages, slowdown=1):
        self.name = name            # ARCH= for the kernel's make
        self.srcarch = srcarch      # arch/<srcarch>/ in the source tree
        self.cross = cross          # CROSS_COMPILE prefix ("" when native)
        self.image = image          # make target, also arch/<srcarch>/boot/<image>
        self.qemu = qemu            # QEMU system emulator
        self.machine = machine      # its machine and CPU arguments
        self.console = console      # the serial console's name in the guest
        self.busybox = busybox      # Debian package of a static busybox for the guest
        self.packages = packages    # {tool: package} needed to build and boot
        self.slowdown = slowdown    # emulation cost relative to x86_64 (scales the timeout)

    def make_args(self):
        args = [f"ARCH={self.name}"]
        if self.cross:
            args.append(f"CROSS_COMPILE={self.cross}")
        return args


X86_64 = Arch("x86_64", "x86", "", "bzImage", "qemu-system-x86_64", [], "ttyS0",
              "busybox-static", {"qemu-system-x86_64": "qemu-system-x86"})
ARM64 = Arch("arm64", "arm64", "aarch64-linux-gnu-", "Image", "qemu-system-aarch64",
             ["-M", "virt,gic-version=3", "-cpu", "cortex-a57"], "ttyAMA0", "busybox-static:arm64",
             {"qemu-system-aarch64": "qemu-system-arm",
              "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
              "aarch64-linux-gnu-g++": "g++-aarch64-linux-gnu"}, slowdown=2)


class Line:
    def __init__(self, name, arch, source, fragments, cpu=None):
        self.name = name
        self.arch = arch
        self.source = source        # linux-source-<source>
        self.fragments = [os.path.join(HERE, "configs", f) for f in fragments]
        self.cpu = cpu              # overrides the architecture's -cpu

    def qemu_machine(self):
        m = list(self.arch.machine)
        if self.cpu and "-cpu" in m:
            m[m.index("-cpu") + 1] = self.cpu
        return m

    def image(self, kdir):
        return os.path.join(kdir, "arch", self.arch.srcarch, "boot", self.arch.image)


# arm64-6.1 runs on a CPU with pointer authentication (QEMU's cheap
# implementation-defined algorithm): the C++ objects' return-address signing
# (-mbranch-protection=pac-ret+leaf) is exercised, not only compiled.
LINES = {
    "6.1": Line("6.1", X86_64, "6.1", ["keel.config"]),
    "6.12": Line("6.12", X86_64, "6.12", ["keel.config"]),
    "arm64-6.1": Line("arm64-6.1", ARM64, "6.1", ["keel.config", "arm64.config"],
                      cpu="max,pauth-impdef=on"),
    "arm64-6.12": Line("arm64-6.12", ARM64, "6.12", ["keel.config", "arm64.config"]),
}


def get_line(name):
    if name not in LINES:
        sys.exit(f"unknown kernel line {name!r}; known: {', '.join(LINES)}")
    return LINES[name]

# Debian packages providing each tool the runner needs (installed on demand).
TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "flex": "flex",
    "bison": "bison",
    "bc": "bc",
    "cpio": "cpio",
    "pahole": "dwarves",
    "depmod": "kmod",
    "xz": "xz-utils",
    "gcc": "gcc",
    "g++": "g++",
    "make": "make",
}
FILES = {
    "/bin/busybox": "busybox-static",
    "/usr/include/libelf.h": "libelf-dev",
    "/usr/include/openssl/ssl.h": "libssl-dev",
}


def log(msg):
    print(f"[run_qemu] {msg}", flush=True)


class Phase:
    """Times a phase and prints it (CI wants to see where the minutes go)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.t0 = time.monotonic()
        log(f"{self.name} ...")
        return self

    def __exit__(self, *exc):
        log(f"{self.name}: {time.monotonic() - self.t0:.1f} s")
        return False


def apt_install(pkgs):
    if not pkgs:
        return
    if os.geteuid() != 0:
        sys.exit(f"missing packages {' '.join(pkgs)} and not root: install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # A mirror of some other index being out of sync must not stop the install.
    subprocess.run(["apt-get", "update"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + sorted(set(pkgs)),
                   check=True, env=env)


def ensure_tools(line):
    tools = dict(TOOLS, **line.arch.packages)
    missing = [pkg for tool, pkg in tools.items() if not shutil.which(tool)]
    missing += [pkg for path, pkg in FILES.items() if not os.path.exists(path)]
    if not os.path.exists(f"/usr/src/linux-source-{line.source}.tar.xz"):
        missing.append(f"linux-source-{line.source}")
    apt_install(missing)


def pkg_version(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                         text=True)
    if out.returncode or not out.stdout:
        sys.exit(f"{pkg} is not installed")
    return out.stdout.strip().replace("~", "_").replace(":", "_")


def foreign_arch(pkg):
    """Makes sure dpkg and apt know the architecture of @pkg (pkg:arch): apt
    lists no package of an architecture it was not told about (apt-cache
    finds nothing, apt-get download refuses)."""
    arch = pkg.split(":")[1]
    have = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True,
                          text=True).stdout.split()
    if arch not in have and arch != "all":
        if os.geteuid() != 0:
            sys.exit(f"need the {arch} architecture in dpkg for {pkg} and not root")
        subprocess.run(["dpkg", "--add-architecture", arch], check=True)
        subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)


def foreign_package(pkg):
    """Unpacks a Debian package of another architecture (pkg:arch) into the
    cache without installing it; returns the directory. Adds the architecture
    to dpkg when needed (foreign_arch())."""
    name, arch = pkg.split(":")
    foreign_arch(pkg)
    ver = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
    m = re.search(r"Candidate: (\S+)", ver)
    if not m or m.group(1) == "(none)":
        subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)
        ver = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
        m = re.search(r"Candidate: (\S+)", ver)
        if not m or m.group(1) == "(none)":
            sys.exit(f"no candidate for {pkg}")
    dest = os.path.join(CACHE, "pkg", f"{name}_{arch}_{m.group(1).replace(':', '_')}")
    if os.path.exists(os.path.join(dest, ".ok")):
        return dest
    with cache_lock(dest):
        if not os.path.exists(os.path.join(dest, ".ok")):
            unpack_package(pkg, dest)
    return dest


def unpack_package(pkg, dest):
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    subprocess.run(["apt-get", "download", "-q", pkg], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
    subprocess.run(["dpkg", "-x", deb, "root"], cwd=tmp, check=True)
    os.remove(os.path.join(tmp, deb))
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    open(os.path.join(dest, ".ok"), "w").close()


# Debian's stock kernel headers per architecture: the meta package that
# points at the current ABI's headers (the stock image of the same name
# matches them).
DISTRO_HEADERS = {
    "x86_64": "linux-headers-amd64",
    "arm64": "linux-headers-arm64:arm64",
    "arm": "linux-headers-armmp:armhf",
}


def apt_depends(pkg, pattern):
    out = subprocess.run(["apt-cache", "depends", pkg], capture_output=True, text=True).stdout
    m = re.search(r"Depends: <?(" + pattern + r")(:\w+)?>?$", out, re.M)
    if not m:
        sys.exit(f"{pkg}: no dependency matching {pattern}")
    return m.group(1)


def distro_headers(arch):
    """Debian's stock headers for @arch: the installed ones for the machine's
    own architecture, else unpacked (not installed) from the foreign
    packages, with the common part's path and the scripts/tools links (host
    binaries of the machine's linux-kbuild) made to point where they are."""
    meta = DISTRO_HEADERS[arch]
    if ":" not in meta:
        flavour = apt_depends(meta, r"linux-headers-[^\s:>]+")
        kdir = f"/usr/src/{flavour}"
        if not os.path.exists(os.path.join(kdir, "Makefile")):
            apt_install([meta])
        return kdir
    foreign = meta.split(":")[1]
    # Before the first query: on a machine that never used the architecture,
    # apt knows none of its packages.
    foreign_arch(meta)
    flavour = apt_depends(meta, r"linux-headers-[^\s:>]+")
    common = apt_depends(f"{flavour}:{foreign}", r"linux-headers-[^\s:>]+-common")
    kdir = os.path.join(foreign_package(f"{flavour}:{foreign}"), "root", "usr", "src", flavour)
    cdir = os.path.join(foreign_package(f"{common}:all"), "root", "usr", "src", common)
    kbuild = os.readlink(os.path.join(kdir, "scripts")).split("/")[-2]  # linux-kbuild-6.1
    if not os.path.isdir(f"/usr/lib/{kbuild}"):
        apt_install([kbuild])
    for d in (kdir, cdir):
        for link in ("scripts", "tools"):
            path = os.path.join(d, link)
            if os.path.islink(path) and not os.path.exists(path):
                os.remove(path)
                os.symlink(f"/usr/lib/{kbuild}/{link}", path)
    with open(os.path.join(kdir, "Makefile"), "w") as f:
        f.write(f"include {cdir}/Makefile\n")
    return kdir


def guest_busybox(line):
    pkg = line.arch.busybox
    if ":" not in pkg:
        return "/bin/busybox"
    return os.path.join(foreign_package(pkg), "root", "bin", "busybox")


@contextlib.contextmanager
def cache_lock(path):
    """Holds an exclusive flock on @path.lock: two runs (two checkouts, two
    users of one machine) never extract or build the same cache tree at once;
    the second waits, then finds the first one's result."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another run that is preparing {path}")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def source_tree(line):
    """A pristine tree extracted from the tarball, shared by every config and
    architecture of the line's source version."""
    line = line.source
    ver = pkg_version(f"linux-source-{line}")
    src = os.path.join(CACHE, "src", ver)
    if os.path.exists(os.path.join(src, "Makefile")):
        return src, ver
    with cache_lock(src):
        if not os.path.exists(os.path.join(src, "Makefile")):
            extract_source(line, ver, src)
    return src, ver


def extract_source(line, ver, src):
    with Phase(f"extract linux-source-{line} {ver}"):
        tmp = src + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run(["tar", "-C", tmp, "-xf", f"/usr/src/linux-source-{line}.tar.xz"],
                       check=True)
        os.rename(os.path.join(tmp, f"linux-source-{line}"), src)
        os.rmdir(tmp)


def fragment_options(path):
    """{symbol: value} from a fragment; 'n' for '# CONFIG_X is not set'."""
    opts = {}
    with open(path) as f:
        for ln in f:
            m = re.match(r"^(CONFIG_\w+)=(.*)$", ln.strip())
            if m:
                opts[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^# (CONFIG_\w+) is not set$", ln.strip())
            if m:
                opts[m.group(1)] = "n"
    return opts


def kconfig_symbols(src, srcarch):
    """Symbols defined by the Kconfig files an ARCH=@srcarch build reads: all
    but other architectures' arch/ directories (so that the x86-only options
    of the shared fragment are not demanded on arm64)."""
    syms = set()
    dirs = [os.path.join(src, d) for d in os.listdir(src) if d != "arch"]
    dirs += [os.path.join(src, "arch", "Kconfig"), os.path.join(src, "arch", srcarch)]
    out = subprocess.run(["grep", "-rhoE", r"^\s*(menu)?config\s+[A-Za-z0-9_]+", "--include=Kconfig*"]
                         + [d for d in dirs if os.path.exists(d)], capture_output=True, text=True)
    for ln in out.stdout.splitlines():
        syms.add("CONFIG_" + ln.split()[-1])
    return syms


def check_config(src, build, frags, srcarch):
    """Every option of the fragments the tree knows must have the asked value
    (the last fragment that sets an option wins, as in merge_config.sh)."""
    have = fragment_options(os.path.join(build, ".config"))
    known = kconfig_symbols(src, srcarch)
    wanted = {}
    for frag in frags:
        wanted.update(fragment_options(frag))
    bad = []
    for sym, want in wanted.items():
        if sym not in known:
            continue
        got = have.get(sym, "n")
        if got != want:
            bad.append(f"{sym}: wanted {want}, got {got}")
    if bad:
        sys.exit("config fragment not applied (dependency missing?):\n  " + "\n  ".join(bad))


def kernel(line, jobs):
    """Returns the build dir of the cached test kernel for @line, building it if needed."""
    ensure_tools(line)
    src, ver = source_tree(line)
    h = hashlib.sha256()
    for frag in line.fragments:
        with open(frag, "rb") as f:
            h.update(f.read())
    # x86_64 trees keep their historical name (hash of keel.config alone).
    prefix = "" if line.arch is X86_64 else f"{line.arch.name}-"
    build = os.path.join(CACHE, f"{prefix}{ver}-{h.hexdigest()[:12]}")
    stamp = os.path.join(build, ".keel-build-ok")
    if os.path.exists(stamp):
        log(f"kernel {line.name}: cached in {build}")
        return build
    with cache_lock(build):
        if os.path.exists(stamp):
            log(f"kernel {line.name}: built by the other run in {build}")
            return build
        build_kernel(line, src, build, jobs)
        open(stamp, "w").close()
    return build


def build_kernel(line, src, build, jobs):
    os.makedirs(build, exist_ok=True)
    mk = ["make", "-C", src, f"O={build}"] + line.arch.make_args()
    with Phase(f"configure kernel {line.name}"):
        subprocess.run(mk + ["tinyconfig"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([os.path.join(src, "scripts/kconfig/merge_config.sh"), "-m", "-O", build,
                        os.path.join(build, ".config")] + line.fragments, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(mk + ["olddefconfig"], check=True, stdout=subprocess.DEVNULL)
        check_config(src, build, line.fragments, line.arch.srcarch)
    with Phase(f"build kernel {line.name} (-j{jobs})"):
        with open(os.path.join(build, "build.log"), "w") as blog:
            r = subprocess.run(mk + [f"-j{jobs}", line.arch.image, "modules"], stdout=blog,
                               stderr=subprocess.STDOUT)
        if r.returncode:
            subprocess.run(["tail", "-30", os.path.join(build, "build.log")])
            sys.exit(f"kernel {line.name} build failed, see {build}/build.log")



# --- modules and initramfs ---------------------------------------------------

class Client:
    """A client module of keel.ko in the QEMU runs.

    @path: the module, relative to the build directory.
    @lines: regular expressions that must each match a line logged between
        its load and the end of its unload (its rmmod's own lines count).
    @settle: a line (a basic regular expression, grep's) the init script
        waits for, up to SETTLE_TIMEOUT s, once every client is loaded and
        before any is unloaded: work the module finishes after its load.
    @forbid: regular expressions that must match nothing in that window.
    """

    def __init__(self, path, lines, settle=None, forbid=()):
        self.path, self.lines, self.settle, self.forbid = path, lines, settle, list(forbid)

    @property
    def name(self):
        return mod_name(self.path)

    def checks(self):
        """What the judge counts for it: load, unload, each line, the forbidden lines."""
        return 2 + len(self.lines) + (1 if self.forbid else 0)


# Client modules of keel.ko, loaded in every QEMU run (the test kernels and
# Debian's stock kernel) after keel.ko, in this order, and unloaded in
# reverse order; the load/unload cycles that follow use other orders. A new
# sample or client module (its directory listed in mk/sources.mk) is one
# entry here.
CLIENT_MODULES = [
    Client("samples/keel/keel_sample_client.ko", [r"keel_sample: probed: work ran"]),
    # The whole rpmsg stack: a remote processor in the same kernel (host and
    # remote roles over DMA memory), the remote's echo service, and Linux's
    # sample client, which binds to the announced channel and exchanges 100
    # messages with it. Each side's count proves the whole exchange.
    Client("samples/rpmsg/rpmsg_loopback.ko",
           [r"rpmsg_loopback: rpmsg-loopback up: 1 service\(s\) \(rpmsg-client-sample\)",
            r"rpmsg-loopback: session 1: host received \d+, sent 100, dropped 0; "
            r"remote received 100, sent \d+, dropped 0",
            r"rpmsg_loopback: removed"]),
    Client("samples/rpmsg/rpmsg_echo.ko",
           [r"echo service at 0x[0-9a-f]+",
            r"echo service removed: 100 echoed, \d+ deferred, 0 dropped"]),
    Client("samples/rpmsg/rpmsg_client_sample.ko",
           [r"new channel: 0x[0-9a-f]+ -> 0x[0-9a-f]+!",
            r"incoming msg 1 \(src: 0x[0-9a-f]+\)",
            r"incoming msg 100 \(src: 0x[0-9a-f]+\)",
            r"goodbye!",
            r"rpmsg sample client driver is removed"],
           settle="goodbye!",
           forbid=[r"incoming msg 101 ", r"rpmsg_send failed"]),
    # The character devices of every link (here the loopback's two).
    Client("os/linux/rpmsg_char/keel_rpmsg_char.ko",
           [r"keel_rpmsg_char: /dev/\S*rpmsg_ctrlN and /dev/\S*rpmsgN, class and bus \w+"]),
]
TEST_MODULE = "keel_test.ko"
SETTLE_TIMEOUT = 60


class GuestTest:
    """A userspace program run in the guest, in a pass of its own after the
    clients' first pass: keel.ko and @modules (path, insmod arguments) are
    loaded in order, devtmpfs is mounted on /dev, the program runs with
    @args, the modules are unloaded in reverse order. The program is C
    (@source), built static for the guest's architecture.

    @lines: regular expressions that must each match a line between the
        pass's begin and end markers (the program prints to the console).
    @forbid: regular expressions that must match no kernel log line (a line
        with a timestamp) between those markers: what the kernel must not
        say while the program runs, beyond the splats every run scans for.
    """

    def __init__(self, name, source, modules, args, lines, forbid=()):
        self.name, self.source, self.modules = name, source, modules
        self.args, self.lines, self.forbid = args, lines, list(forbid)

    def checks(self):
        return 1 + len(self.lines) + (1 if self.forbid else 0)


# What the kernel must not log while a program feeds the character devices
# bad input: each case is answered with an errno, not a complaint.
QUIET_KERNEL = [r"(?i)\b(fail(s|ed|ure)?|refus(e|ed|ing)|leak(ed|s)?|corrupt(ed|ion)?|"
                r"invalid|bad|overflow|underflow|unexpected|error)\b"]
# The rpmsg loopback's crash injection (remoteproc's debugfs model): the
# remote crashes with recovery disabled, so that the program sees the nodes
# go, then is recovered.
LOOPBACK_DEBUGFS = "/sys/kernel/debug/rpmsg_loopback"
CRASH_ARGS = (f"--crash 'echo disabled > {LOOPBACK_DEBUGFS}/recovery && "
              f"echo 1 > {LOOPBACK_DEBUGFS}/crash' "
              f"--recover 'echo recover > {LOOPBACK_DEBUGFS}/recovery'")

# The rpmsg character devices as a Linux program uses them: a remote in the
# same kernel offering an echo service of its own (so that the clients'
# exact counts above stay theirs), the character devices, and a program
# that includes only <linux/rpmsg.h> and libc. The remote is removed and
# loaded again, then crashed and recovered, under the program's open files.
GUEST_TESTS = [
    GuestTest("rpmsg_char_uapi_test", "tools/testing/rpmsg/rpmsg_char_uapi_test.c",
              [("samples/rpmsg/rpmsg_loopback.ko", "services=rpmsg-uapi-echo"),
               ("samples/rpmsg/rpmsg_echo.ko", ""),
               ("os/linux/rpmsg_char/keel_rpmsg_char.ko", "")],
              "rpmsg-uapi-echo --stop 'rmmod rpmsg_loopback' "
              "--start 'insmod /rpmsg_loopback.ko services=rpmsg-uapi-echo' " + CRASH_ARGS,
              [r"rpmsg_char_uapi_test: PASS \(\d+ checks\)",
               r"rpmsg_char_uapi_test: ok \d+ new nodes rpmsg_ctrl\d+ and rpmsg\d+ echo",
               r"rpmsg_char_uapi_test: ok \d+ remote gone \(echo disabled .*crash\) under open",
               r"rpmsg_char_uapi_test: ok \d+ remote back \(echo recover ",
               r"rpmsg_loopback: rpmsg-loopback: crash injected",
               r"rpmsg_loopback: rpmsg-loopback: recovered",
               r"echo service removed: \d+ echoed, \d+ deferred, 0 dropped"],
              forbid=QUIET_KERNEL),
    # The command-line tool on the same set-up: a listing and a ping.
    GuestTest("rpmsg", "tools/rpmsg/rpmsg.c",
              [("samples/rpmsg/rpmsg_loopback.ko", "services=rpmsg-uapi-echo"),
               ("samples/rpmsg/rpmsg_echo.ko", ""),
               ("os/linux/rpmsg_char/keel_rpmsg_char.ko", "")],
              "-q -c 200 -s 128 ping rpmsg-uapi-echo -- list",
              [r"200 sent, 200 received, 0% lost, 0 bad",
               r"rtt min/avg/max/mdev = ",
               r"virtio\d+\.rpmsg-uapi-echo\.-1\.\d+ +rpmsg-uapi-echo"],
              forbid=QUIET_KERNEL),
]


# The static C library each architecture's guest programs link (Debian's package).
STATIC_LIBC = {
    "x86_64": ("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev"),
    "arm64": ("/usr/aarch64-linux-gnu/lib/libc.a", "libc6-dev-arm64-cross"),
}


def build_guest_tests(out, arch, tests):
    """Builds each test's program static for @arch into @out; their names."""
    cc = f"{arch.cross}gcc"
    libc, pkg = STATIC_LIBC[arch.name]
    if tests and not os.path.exists(libc):
        apt_install([pkg])
    names = []
    with Phase(f"build guest programs ({cc} -static)"):
        for t in tests:
            r = subprocess.run([cc, "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread",
                                "-o", os.path.join(out, t.name), os.path.join(REPO, t.source),
                                "-lm"], capture_output=True, text=True)
            if r.returncode:
                print(r.stdout + r.stderr)
                sys.exit(f"guest program {t.name} failed to build with {cc}")
            names.append(t.name)
    return names


def mod_name(path):
    return os.path.basename(path)[:-len(".ko")]


def build_modules(kdir, out, jobs, arch):
    with Phase(f"build modules against {kdir}"):
        r = subprocess.run([os.path.join(REPO, "scripts", "kbuild_modules.sh"), kdir, out,
                            f"-j{jobs}"] + arch.make_args(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT,
                           text=True)
        # Kbuild's own lines are noise here; warnings and errors are not.
        for ln in r.stdout.splitlines():
            if not re.match(r"^\s+(CC|C\+\+|LD|GEN|MODPOST|AR|BTF|CLEAN)(?=\s)|^make(\[\d+\])?: (Entering|Leaving)", ln):
                print("  " + ln)
        if r.returncode:
            sys.exit(f"module build failed ({kdir})")


INIT_HEAD = r"""#!/bin/sh
# keel's QEMU init: load, test, unload, loop, leak scan, reboot.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mark() { echo "keel-run: $*" > /dev/kmsg; }
must() { "$@" || mark "FAIL: $*"; }
# settle PATTERN SECONDS: wait until the kernel log has a line matching
# PATTERN, SECONDS by the clock (under emulation on a loaded machine one
# look at the log can take longer than the pause between two).
settle() {
	end=$(($(date +%s) + $2))
	while ! dmesg | grep -q -e "$1"; do
		[ "$(date +%s)" -ge $end ] && { mark "FAIL: no log line /$1/ after $2 s"; return; }
		sleep 0.2
	done
}
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
mark begin
"""

INIT_TAIL = r"""grep -q -E "^($MODULES) " /proc/modules && mark "FAIL: module left loaded"
if [ -e /sys/kernel/debug/kmemleak ]; then
	# Everything is unloaded: what is still allocated and unreferenced
	# leaked. kmemleak reports objects older than 5 s only, and an object
	# is reported once it stays unreferenced for two scans.
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak || mark "FAIL: kmemleak scan refused"
	echo scan > /sys/kernel/debug/kmemleak || mark "FAIL: kmemleak scan refused"
	cat /sys/kernel/debug/kmemleak > /kmemleak.txt
	if [ -s /kmemleak.txt ]; then
		mark "kmemleak report:"
		cat /kmemleak.txt > /dev/kmsg
	fi
	mark "kmemleak scan done"
fi
mark "tainted $(cat /proc/sys/kernel/tainted)"
mark done
reboot -f
"""


def cycle_orders(n, i):
    """The load order and the unload order of cycle @i of @n modules: every
    load order in turn, each with a different unload order, so that the
    cycles unload modules in orders the first pass (reverse load order)
    does not."""
    perms = list(itertools.permutations(range(n)))
    load = perms[(i * 5 + 1) % len(perms)]
    unload = perms[(i * 7 + 3) % len(perms)]
    return load, unload


def init_script(clients, loops, test_args=None, module_args=None, guest_tests=()):
    """/init: keel.ko, then (if given) the test module with @test_args, then
    each client with markers around it, a wait for the clients' settle
    lines, unload all in reverse order; then each guest test's pass; then
    @loops load/unload cycles of keel.ko and the clients, in varying
    orders. @module_args maps a client's name to the parameters of each of
    its loads."""
    names = [c.name for c in clients]
    margs = {n: f" {module_args[n]}" if module_args and module_args.get(n) else "" for n in names}
    out = [INIT_HEAD, "must insmod /keel.ko\n"]
    if test_args is not None:
        out.append(f"mark ktap-begin\nmust insmod /{TEST_MODULE} {test_args}\nmark ktap-end\n")
    for n in names:
        out.append(f'mark "load {n}"\nmust insmod /{n}.ko{margs[n]}\n')
    for c in clients:
        if c.settle:
            out.append(f"settle {shlex.quote(c.settle)} {SETTLE_TIMEOUT}\n")
    for n in reversed(names):
        out.append(f'mark "unload {n}"\nmust rmmod {n}\n')
    if test_args is not None:
        out.append(f"must rmmod {mod_name(TEST_MODULE)}\n")
    out.append("must rmmod keel\n")
    for t in guest_tests:
        out.append(f'mark "guest {t.name} begin"\nmust insmod /keel.ko\n')
        out += [f"must insmod /{mod_name(m)}.ko {a}\n" for m, a in t.modules]
        out.append("grep -q ' /dev devtmpfs' /proc/mounts || mount -t devtmpfs devtmpfs /dev\n")
        out.append(f"must /{t.name} {t.args}\n")
        out += [f"must rmmod {mod_name(m)}\n" for m, _ in reversed(t.modules)]
        out.append(f'must rmmod keel\nmark "guest {t.name} end"\n')
    for i in range(loops):
        load, unload = cycle_orders(len(names), i)
        out.append("must insmod /keel.ko\n")
        out += [f"must insmod /{names[k]}.ko{margs[names[k]]}\n" for k in load]
        out += [f"must rmmod {names[k]}\n" for k in unload]
        out.append("must rmmod keel\n")
    out.append(f'mark "load/unload loops: {loops}"\n')
    ours = ["keel", mod_name(TEST_MODULE)] + names
    out.append(INIT_TAIL.replace("$MODULES", "|".join(ours)))
    return "".join(out)


def check_client_lines(lines, clients):
    """Problems: in a client's window (from its load marker to the marker
    after its unload marker), an expected line missing or a forbidden one
    present."""
    problems = []
    body = [strip(ln) for ln in lines]
    marks = [i for i, b in enumerate(body) if "keel-run: " in b]
    for c in clients:
        try:
            first = next(i for i in marks if body[i].endswith(f"keel-run: load {c.name}"))
            last = next(i for i in marks if body[i].endswith(f"keel-run: unload {c.name}"))
        except StopIteration:
            problems.append(f"{c.name}: no load/unload markers in the log")
            continue
        end = next((i for i in marks if i > last), len(body))
        # The init script's marks are not the module's lines (a failed
        # settle names the line it waited for).
        window = [b for b in body[first:end] if "keel-run: " not in b]
        for want in c.lines:
            if not any(re.search(want, b) for b in window):
                problems.append(f"{c.name}: expected log line /{want}/ missing")
        for bad in c.forbid:
            hits = [b for b in window if re.search(bad, b)]
            if hits:
                problems.append(f"{c.name}: unexpected log line /{bad}/: {hits[0].strip()}")
    return problems


def check_guest_lines(lines, tests):
    """Problems: a guest test's pass missing, or an expected line missing in it."""
    problems = []
    body = [strip(ln) for ln in lines]
    for t in tests:
        try:
            first = next(i for i, b in enumerate(body) if b.endswith(f"keel-run: guest {t.name} begin"))
            last = next(i for i, b in enumerate(body) if b.endswith(f"keel-run: guest {t.name} end"))
        except StopIteration:
            problems.append(f"guest test {t.name}: its pass did not run to the end")
            continue
        for want in t.lines:
            if not any(re.search(want, b) for b in body[first:last]):
                problems.append(f"guest test {t.name}: expected line /{want}/ missing")
        kernel = [b for ln, b in zip(lines[first:last], body[first:last]) if TS.match(ln)]
        for bad in t.forbid:
            hits = [b for b in kernel if re.search(bad, b)]
            if hits:
                problems.append(f"guest test {t.name}: kernel said /{bad}/: {hits[0].strip()}")
    return problems


# Taint flags a module of ours may set: O (out-of-tree, 4096) and E
# (unsigned module in a kernel that checks signatures, 8192); N (KUnit ran,
# 1 << 18) in the test kernels.
ALLOWED_TAINT = (1 << 12) | (1 << 13)
TAINT_TEST = 1 << 18


def check_taint(lines, allowed=ALLOWED_TAINT):
    for ln in lines:
        m = re.search(r"keel-run: tainted (\d+)", strip(ln))
        if m:
            bad = int(m.group(1)) & ~allowed
            return [f"kernel tainted {int(m.group(1)):#x}: flags {bad:#x} not expected"] if bad else []
    return ["no taint report in the log"]


def check_kmemleak(lines):
    """Problems: no kmemleak scan after the last unload. (What a scan
    reports is a splat: scan_splats().)"""
    body = [strip(ln) for ln in lines]
    loops = [i for i, b in enumerate(body) if "keel-run: load/unload loops" in b]
    scans = [i for i, b in enumerate(body) if "keel-run: kmemleak scan done" in b]
    if not scans or (loops and scans[-1] < loops[-1]):
        return ["no kmemleak scan after the modules were unloaded"]
    return []


def judge_log(lines, clients, allowed_taint=ALLOWED_TAINT, kmemleak=False, guest_tests=()):
    """Every problem the log of a QEMU run shows: the init script did not
    finish, a splat, a client's missing or forbidden line, a guest test's
    missing pass or line, an unexpected taint, and with @kmemleak (the test
    kernels) a missing leak scan. An empty list is the only pass."""
    problems = []
    if not any("keel-run: done" in strip(ln) for ln in lines):
        problems.append("the init script did not finish (see the log)")
    problems += scan_splats(lines)
    problems += check_client_lines(lines, clients)
    problems += check_guest_lines(lines, guest_tests)
    problems += check_taint(lines, allowed_taint)
    if kmemleak:
        problems += check_kmemleak(lines)
    return problems


def make_initramfs(mod_dir, path, script, modules, busybox="/bin/busybox"):
    root = path + ".d"
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "dev", "proc", "sys", "tmp"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    # The host's busybox lists the same applets (it may not run the guest's).
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", a))
    for m in modules:
        shutil.copy(os.path.join(mod_dir, m), root)
    with open(os.path.join(root, "init"), "w") as f:
        f.write(script)
    os.chmod(os.path.join(root, "init"), 0o755)
    # Device nodes through a cpio list would need gen_init_cpio; newc from a
    # directory needs root for mknod, which CI has. devtmpfs mounts /dev anyway.
    for name, major, minor in (("console", 5, 1), ("null", 1, 3), ("kmsg", 1, 11)):
        try:
            os.mknod(os.path.join(root, "dev", name), 0o600 | 0o020000, os.makedev(major, minor))
        except PermissionError:
            pass
    files = subprocess.run(["find", "."], cwd=root, capture_output=True, text=True,
                           check=True).stdout
    cpio = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"], cwd=root,
                          input=files.encode(), capture_output=True, check=True).stdout
    with open(path, "wb") as f:
        f.write(gzip.compress(cpio, 6))
    shutil.rmtree(root)


def kvm_usable():
    try:
        with open("/proc/cpuinfo") as f:
            flags = re.search(r"^flags\s*:(.*)$", f.read(), re.M)
        return bool(flags and re.search(r"\b(vmx|svm)\b", flags.group(1))
                    and os.access("/dev/kvm", os.R_OK | os.W_OK))
    except OSError:
        return False


TEST_KERNEL_ARGS = "kasan_multi_shot kmemleak=on"
# A guard against a guest that never finishes, not a performance bound
# (hangs inside the guest are reported by its hung-task detector): a full
# 6.1 run with the guest programs took 642 s of guest time on a 2-core
# machine while three other QEMUs ran.
QEMU_TIMEOUT = 1200
# Under TCG the guest's clock is the host's wall clock while its CPUs run
# at the host's leftover speed: on a loaded machine an emulated arm64 CPU
# can spend tens of seconds in one kernel function, which the soft-lockup
# detector (20 s by default) and RCU's stall detector (21 s) report as
# lockups. They keep watching, with a longer fuse: a real lockup is still
# reported (after 120 s, 300 s), well inside the run's timeout.
TCG_KERNEL_ARGS = "watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"


def boot(image, initrd, log_path, timeout, extra_args=TEST_KERNEL_ARGS, line=None):
    arch = line.arch if line else X86_64
    native = arch is X86_64 and kvm_usable()
    accel = ["-enable-kvm", "-cpu", "host"] if native else ["-accel", "tcg"]
    if not native:
        extra_args = f"{extra_args} {TCG_KERNEL_ARGS}".strip()
    cmd = ["timeout", "--foreground", "-k", "5", str(timeout), arch.qemu,
           *(line.qemu_machine() if line else arch.machine),
           "-m", "1024", "-smp", "2", "-nographic", "-no-reboot", "-nodefaults",
           "-serial", "stdio", *accel,
           "-kernel", image, "-initrd", initrd,
           "-append", f"console={arch.console} panic=-1 loglevel=7 rdinit=/init {extra_args}"]
    with Phase(f"boot QEMU ({'KVM' if '-enable-kvm' in accel else 'TCG'})"):
        with open(log_path, "wb") as logf:
            r = subprocess.run(cmd, stdout=logf, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    if r.returncode == 124 or r.returncode == 137:
        return f"QEMU timed out after {timeout} s"
    if r.returncode:
        return f"QEMU exited with {r.returncode}"
    return None


# --- judging the log ---------------------------------------------------------

TS = re.compile(r"^\[\s*\d+\.\d+\] ?")
# Anything here fails the run even if every KUnit case passed: 6.1 KUnit does
# not fail a case on a KASAN report or a lockdep splat, and nothing fails a
# case on a leak.
SPLATS = [
    (re.compile(r"\bBUG: |kernel BUG at"), "BUG"),
    (re.compile(r"^WARNING: |\bWARNING: CPU: "), "WARNING"),
    (re.compile(r"\bOops\b|general protection fault|Kernel panic"), "Oops/panic"),
    (re.compile(r"KASAN: |BUG: KASAN"), "KASAN"),
    (re.compile(r"possible recursive locking detected|possible circular locking dependency|"
                r"inconsistent lock state|possible irq lock inversion|"
                r"lock held when returning|bad unlock balance detected|suspicious RCU usage|"
                r"held lock freed|DEBUG_LOCKS_WARN_ON|trying to register non-static key|"
                r"sleeping function called from invalid context|scheduling while atomic"),
     "lockdep/might_sleep"),
    (re.compile(r"soft lockup|hung_task|blocked for more than|rcu_.*detected stall"), "hang"),
    (re.compile(r"unreferenced object 0x|kmemleak report|new suspected memory leak|"
                r"kmemleak: .*disabled|kmemleak: .*pool empty"), "kmemleak"),
    (re.compile(r"keel-run: FAIL"), "init script"),
    (re.compile(r"Unknown symbol|disagrees about version|too long symbol"), "module load"),
]
# Lines that match a pattern above but are not reports.
BENIGN = re.compile(r"Kernel command line|kmemleak: Kernel memory leak detector initialized|"
                    r"Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000")


def strip(line):
    return TS.sub("", line.rstrip("\r\n"), count=1)


def scan_splats(lines):
    """First line of each report (a splat's own follow-up lines are not counted twice)."""
    found, seen = [], set()
    for ln in lines:
        body = strip(ln)
        if BENIGN.search(body):
            continue
        for rx, what in SPLATS:
            if rx.search(body):
                msg = f"{what}: {body.strip()}"
                if msg not in seen:
                    seen.add(msg)
                    found.append(msg)
                break
    return found


def extract_ktap(lines):
    """The module's KTAP, between the init script's markers, timestamps removed."""
    out, inside = [], False
    for ln in lines:
        body = strip(ln)
        if "keel-run: ktap-begin" in body:
            inside = True
            continue
        if "keel-run: ktap-end" in body:
            break
        if inside:
            out.append(body)
    return out


RESULT = re.compile(r"^( *)(ok|not ok) (\d+) ([^#]*?)\s*(#\s*(SKIP|TODO).*)?$")


def parse_ktap(ktap):
    """Counts leaf results as the hosted runner does: one per parameter of a
    parameterised case, one per plain case. Returns (suites, totals, failures)."""
    suites = {}
    totals = {"pass": 0, "fail": 0, "skip": 0}
    failures = []
    pending = []  # parameter results of the case being reported
    counts = {"pass": 0, "fail": 0, "skip": 0}

    def kind(ok, directive):
        if directive == "SKIP":
            return "skip"
        return "pass" if ok == "ok" else "fail"

    for ln in ktap:
        m = RESULT.match(ln)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        k = kind(m.group(2), m.group(6))
        name = m.group(4).strip()
        if depth >= 2:
            pending.append((k, name))
        elif depth == 1:
            leaves = pending or [(k, name)]
            for lk, lname in leaves:
                counts[lk] += 1
                if lk == "fail":
                    failures.append(f"{name}" + (f" [{lname}]" if pending else ""))
            pending = []
        else:
            suites[name] = dict(counts, ok=(k != "fail"))
            for key in totals:
                totals[key] += counts[key]
            counts = {"pass": 0, "fail": 0, "skip": 0}
    return suites, totals, failures


def expected_suites(lines):
    names = []
    for ln in lines:
        m = re.search(r"keel_test: suite (\S+)", strip(ln))
        if m:
            names.append(m.group(1))
    return names


def kunit_py_parse(src, ktap):
    tool = os.path.join(src, "tools", "testing", "kunit", "kunit.py")
    if not os.path.exists(tool) or not ktap:
        return None
    r = subprocess.run([sys.executable, tool, "parse"], input="\n".join(ktap) + "\n",
                       capture_output=True, text=True, cwd=os.path.dirname(tool))
    tail = [ln for ln in r.stdout.splitlines() if ln.strip()][-1:]
    return r.returncode, (tail[0] if tail else "")


def hosted_counts():
    exe = os.environ.get("KEEL_HOSTED_TESTS", os.path.join(REPO, "build", "plain", "keel_tests"))
    if not os.access(exe, os.X_OK):
        return None
    r = subprocess.run([exe, "--list"], capture_output=True, text=True)
    if r.returncode:
        return None
    counts = {}
    for ln in r.stdout.splitlines():
        parts = ln.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def compare_case_counts(suites, totals, hosted, glob):
    """The KUnit cases of each suite against the hosted runner's (the same
    source, so the same number), limited to the suites the filter glob
    selects. Prints the totals; returns the problems."""
    ncases = totals["pass"] + totals["fail"] + totals["skip"]
    if hosted is None:
        print(f"  case count: KUnit {ncases} (no hosted runner to compare with)")
        return []
    if glob:
        hosted = {k: v for k, v in hosted.items() if fnmatch.fnmatchcase(k, glob)}
    problems = []
    for name in sorted(set(hosted) | set(suites)):
        res = suites.get(name)
        nk = res["pass"] + res["fail"] + res["skip"] if res else 0
        if nk != hosted.get(name, 0):
            problems.append(f"case count of {name} differs: KUnit {nk}, "
                            f"hosted {hosted.get(name, 0)}")
    nh = sum(hosted.values())
    sel = f" (suites matching '{glob}')" if glob else ""
    print(f"  case count{sel}: KUnit {ncases}, hosted {nh}")
    return problems


def run(args):
    t0 = time.monotonic()
    line = get_line(args.line)
    kdir = args.kernel_dir or kernel(line, args.jobs)
    src, _ = source_tree(line)
    out = os.path.abspath(args.out or os.path.join(REPO, "build", "kernel", line.name))
    build_modules(kdir, out, args.jobs, line.arch)
    os.makedirs(out, exist_ok=True)
    problems = []
    # keel_test.ko is a client of keel.ko like any other.
    test_ko = os.path.join(out, TEST_MODULE)
    deps = subprocess.run(["modinfo", "-F", "depends", test_ko], capture_output=True,
                          text=True).stdout.strip()
    print(f"  {TEST_MODULE}: {os.path.getsize(test_ko)} bytes, depends: {deps or '(nothing)'}; "
          f"keel.ko: {os.path.getsize(os.path.join(out, 'keel.ko'))} bytes")
    if deps != "keel":
        problems.append(f"{TEST_MODULE} depends on '{deps}', not on keel")
    initrd = os.path.join(out, "initramfs.cpio.gz")
    programs = build_guest_tests(out, line.arch, GUEST_TESTS)
    with Phase("initramfs"):
        make_initramfs(out, initrd,
                       init_script(CLIENT_MODULES, args.loops,
                                   f"filter='{args.filter}'" if args.filter else "",
                                   args.module_args, GUEST_TESTS),
                       ["keel.ko", TEST_MODULE] + [c.path for c in CLIENT_MODULES] + programs,
                       guest_busybox(line))
    log_path = os.path.join(out, "qemu.log")
    timeout = args.timeout or QEMU_TIMEOUT * line.arch.slowdown
    err = boot(line.image(kdir), initrd, log_path, timeout, line=line)
    if err:
        problems.append(err)
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    if shutil.which("c++filt"):
        with open(log_path, "rb") as f, open(log_path + ".demangled", "wb") as g:
            subprocess.run(["c++filt"], stdin=f, stdout=g)
    # KUnit taints the kernel (N) when tests run.
    problems += judge_log(lines, CLIENT_MODULES, ALLOWED_TAINT | TAINT_TEST, kmemleak=True,
                          guest_tests=GUEST_TESTS)

    ktap = extract_ktap(lines)
    with open(os.path.join(out, "keel_test.ktap"), "w") as f:
        f.write("\n".join(ktap) + "\n")
    suites, totals, failures = parse_ktap(ktap)
    want = expected_suites(lines)
    listed = []
    list_file = os.path.join(out, "os", "linux", "generated", "test_suites.txt")
    if os.path.exists(list_file):
        with open(list_file) as f:
            listed = [ln.split() for ln in f if ln.strip()]
    if len(want) != len(listed) and not args.filter:
        problems.append(f"the module announced {len(want)} suites, the build found {len(listed)}")
    missing = [s for s in want if s not in suites]
    if missing:
        problems.append("suites without a result: " + ", ".join(missing))
    for fl in failures:
        problems.append(f"KUnit case failed: {fl}")
    for name, res in suites.items():
        if not res["ok"] and not any(fl.startswith(name) for fl in failures):
            pass

    print(f"== Linux {args.line}: KUnit per suite")
    for name, res in suites.items():
        print(f"  {'ok    ' if res['ok'] else 'FAILED'} {name}: {res['pass']} passed, "
              f"{res['fail']} failed, {res['skip']} skipped")
    kp = kunit_py_parse(src, ktap)
    if kp:
        print(f"  kunit.py parse (exit {kp[0]}): {kp[1]}")
        if kp[0] and not failures:
            problems.append("kunit.py parse failed on the KTAP output")
    problems += compare_case_counts(suites, totals, hosted_counts(), args.filter)
    if any("keel-run: kmemleak scan done" in ln for ln in lines):
        leaks = sum(1 for ln in lines if "unreferenced object 0x" in ln)
        print(f"  kmemleak scan after the last unload: {leaks} unreferenced objects")
    for p in problems:
        print(f"  PROBLEM: {p}")
    print(f"  log: {log_path} (and .demangled)")
    # Failed cases are counted as failed cases; everything else is a problem.
    others = [p for p in problems if not p.startswith("KUnit case failed")]
    print(f"Linux {args.line}: {totals['pass']} passed, {totals['fail']} failed, "
          f"{totals['skip']} skipped; {len(others)} other problems; "
          f"{time.monotonic() - t0:.0f} s")
    return totals, others


# --- Debian's stock kernel ---------------------------------------------------

def stock_image(kdir):
    """Debian's kernel image of the release whose headers are @kdir, installed
    when missing (linux-image-amd64, the image that goes with
    linux-headers-amd64; else that very release's package). Booting needs
    only the image file: nothing is changed on the machine's boot setup."""
    # Debian's headers say the upstream version in kernel.release; the
    # package's release (6.1.0-57-amd64) is UTS_RELEASE.
    with open(os.path.join(kdir, "include", "generated", "utsrelease.h")) as f:
        release = re.search(r'UTS_RELEASE "([^"]+)"', f.read()).group(1)
    image = f"/boot/vmlinuz-{release}"
    for pkg in ("linux-image-amd64", f"linux-image-{release}"):
        if os.path.exists(image):
            break
        apt_install([pkg])
    if not os.path.exists(image):
        sys.exit(f"no kernel image {image} (the headers' release {release})")
    return image, release


def distro(args):
    """Boots Debian's stock kernel with keel.ko and the client modules built
    against its headers: they load, print their lines, unload; nothing in the
    log but the expected out-of-tree/unsigned taint."""
    t0 = time.monotonic()
    for tool, pkg in (("qemu-system-x86_64", "qemu-system-x86"), ("cpio", "cpio")):
        if not shutil.which(tool):
            apt_install([pkg])
    if not os.path.exists("/bin/busybox"):
        apt_install(["busybox-static"])
    image, release = stock_image(args.kdir)
    out = os.path.abspath(args.modules)
    modules = ["keel.ko"] + [c.path for c in CLIENT_MODULES]
    missing = [m for m in modules if not os.path.exists(os.path.join(out, m))]
    if missing:
        sys.exit(f"modules not built in {out}: {', '.join(missing)} (make modules-distro)")
    initrd = os.path.join(out, "initramfs-stock.cpio.gz")
    # Debian's x86_64 kernel has no rpmsg of its own: the guest tests see Linux's names.
    programs = build_guest_tests(out, X86_64, GUEST_TESTS)
    with Phase("initramfs"):
        make_initramfs(out, initrd,
                       init_script(CLIENT_MODULES, args.loops, module_args=args.module_args,
                                   guest_tests=GUEST_TESTS),
                       modules + programs)
    log_path = os.path.join(out, "qemu-stock.log")
    problems = []
    err = boot(image, initrd, log_path, args.timeout, extra_args="")
    if err:
        problems.append(err)
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    problems += judge_log(lines, CLIENT_MODULES, guest_tests=GUEST_TESTS)
    # What was checked: the run, keel.ko, each client's load, lines and
    # unload, each guest test's pass and lines, the splat scan, the taint.
    checks = 3 + 1 + sum(c.checks() for c in CLIENT_MODULES) + \
        sum(t.checks() for t in GUEST_TESTS)
    for ln in lines:
        body = strip(ln)
        if re.search(r"keel-run: (load|unload|tainted|load/unload|FAIL|guest)|keel_sample:|"
                     r"rpmsg_char_uapi_test: (PASS|FAIL)|keel_rpmsg_char:|"
                     r"rpmsg_loopback|rpmsg-loopback: session|echo service|incoming msg 100 |"
                     r"goodbye!|taints kernel", body):
            print(f"  | {body}")
    for p in problems:
        print(f"  PROBLEM: {p}")
    print(f"  log: {log_path}")
    passed = max(0, checks - len(problems))
    print(f"Debian {release}: {passed} passed, {len(problems)} failed, 0 skipped; "
          f"{time.monotonic() - t0:.0f} s")
    if args.summary:
        with open(args.summary, "a") as f:
            f.write(f"stock {passed} {len(problems)} 0 0\n")
    sys.exit(1 if problems else 0)


def parse_module_args(specs):
    """{module: parameters} from "module=parameters" arguments."""
    known = {c.name for c in CLIENT_MODULES}
    out = {}
    for spec in specs:
        name, sep, params = spec.partition("=")
        if not sep or name not in known:
            sys.exit(f"--module-args {spec!r}: want MODULE=PARAMS, MODULE one of "
                     f"{', '.join(sorted(known))}")
        out[name] = params
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kernel", help="build or reuse the test kernel")
    k.add_argument("--line", required=True)
    k.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    r = sub.add_parser("run", help="build modules, boot, judge")
    r.add_argument("--line", action="append", required=True,
                   help="kernel line (see the lines subcommand); repeatable")
    r.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    r.add_argument("--out", help="run directory (default build/kernel/<line>)")
    r.add_argument("--loops", type=int, default=5, help="load/unload cycles")
    r.add_argument("--timeout", type=int,
                   help=f"QEMU timeout, s (default {QEMU_TIMEOUT}, times the emulation cost of "
                        "the line's architecture)")
    r.add_argument("--kernel-dir", help="use this built kernel tree instead of the cache's")
    r.add_argument("--filter", help="run only the suites matching this glob")
    r.add_argument("--summary", help="append 'passed failed skipped problems' per line here")
    d = sub.add_parser("distro", help="boot Debian's stock kernel with the distro-built modules")
    d.add_argument("--modules", required=True, help="module build dir (make modules-distro)")
    d.add_argument("--kdir", required=True, help="the Debian headers the modules were built against")
    d.add_argument("--loops", type=int, default=2, help="load/unload cycles")
    # A guard, as for the test kernels: a run whose exchange never completes
    # waits SETTLE_TIMEOUT for it, on an emulated CPU that shares a loaded
    # machine (seen: 300 s were not enough for that).
    d.add_argument("--timeout", type=int, default=600, help="QEMU timeout, s")
    d.add_argument("--summary", help="append 'stock passed failed skipped problems' here")
    for p in (r, d):
        p.add_argument("--module-args", action="append", default=[], metavar="MODULE=PARAMS",
                       help="parameters of a client module's loads, e.g. "
                       "rpmsg_loopback='vring_num=16'; repeatable")
    sub.add_parser("lines", help="list the kernel lines")
    dk = sub.add_parser("distro-kdir", help="print Debian's stock headers dir for an architecture")
    dk.add_argument("--arch", default="x86_64", choices=sorted(DISTRO_HEADERS))
    args = ap.parse_args()
    if args.cmd in ("run", "distro"):
        args.module_args = parse_module_args(args.module_args)
    if args.cmd == "distro":
        distro(args)
        return
    if args.cmd == "lines":
        for name, ln in LINES.items():
            print(f"{name}: {ln.arch.name}, linux-source-{ln.source}, "
                  f"{' + '.join(os.path.basename(f) for f in ln.fragments)}")
        return
    if args.cmd == "distro-kdir":
        print(distro_headers(args.arch))
        return
    if args.cmd == "kernel":
        print(kernel(get_line(args.line), args.jobs))
        return
    lines = args.line
    bad = 0
    for line in lines:
        args.line = line
        try:
            totals, problems = run(args)
        except SystemExit as e:
            # A build failure of one line still counts, and the others still run.
            print(f"Linux {line}: {e}")
            totals, problems = {"pass": 0, "fail": 0, "skip": 0}, [str(e)]
        bad += totals["fail"] + len(problems)
        if args.summary:
            with open(args.summary, "a") as f:
                f.write(f"{line} {totals['pass']} {totals['fail']} {totals['skip']} "
                        f"{len(problems)}\n")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
