#!/usr/bin/env python3
"""Time lifecheck over a QEMU tree, against ``gcc -E`` alone, in one run.

    python scripts/benchmark.py --root /root/qemu-src/qemu-10.2.2 hw/

Steps, all over the same files with the same parallelism (-j, default: the
number of CPUs):

1. gcc -E alone: lifecheck's own Preprocessor (same arguments, per-target
   retry and stubs) run from a thread pool, nothing else.  The floor for
   any approach that preprocesses.
2. lifecheck cold: a fresh, empty cache folder.
3. lifecheck warm: the same command again, nothing changed.
4. lifecheck warm, one file changed, as a pre-commit hook runs it
   (``lifecheck check FILE``).
5. the same single file with nothing changed.

With ``--against REV --pairs N``, the cold run of a snapshot of REV (``git
archive``: its lifecheck/ and rules/) and of this checkout are then run N
more times each, alternated (REV first in odd pairs, this checkout first
in even ones, so a machine that speeds up or slows down through the hour
favours neither), each with an empty cache, and the pairs are summed up:
per pair the difference, then the median of the pairs and the difference
of the sums.  On a shared machine a single pair moves by about +-10%;
a bound such as "cold time grows by at most 10%" is judged on these.

The QEMU tree is never modified: the runs use a copy of it made of hard
links (no data copied), and step 4 replaces the edited file's link in the
copy by a real copy with one comment line appended.  The cache folder and
the copy are temporary and removed at the end.

Measured per step: wall time; CPU time (user+system) of the whole process
tree, from getrusage(RUSAGE_CHILDREN); peak memory of the whole process
tree, the largest sum of RSS over lifecheck and all its descendants,
sampled from /proc every 50 ms; and the largest RSS of a single process
(getrusage ru_maxrss).  The machine load (uptime) before and after is
printed, since timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lifecheck.analysis import collect_files  # noqa: E402
from lifecheck.frontend.preprocess import PreprocessError, Preprocessor  # noqa: E402
from lifecheck.frontend.tree import QemuTree  # noqa: E402

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children_map() -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().decode("ascii", "replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _tree_rss(pid: int) -> int:
    """Sum of RSS (bytes) over ``pid`` and all its descendants."""
    kids = _children_map()
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(kids.get(p, ()))
    return total


class Measured:
    def __init__(self, wall: float, cpu: float, peak_tree: int, max_single: int, rc: int, stderr: str):
        self.wall, self.cpu, self.peak_tree, self.max_single = wall, cpu, peak_tree, max_single
        self.rc, self.stderr = rc, stderr


def measure(cmd: List[str], env: Dict[str, str], cwd: Path) -> Measured:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            if os.path.isdir("/proc"):
                peak[0] = max(peak[0], _tree_rss(proc.pid))
            stop.wait(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss (KiB on Linux) of children only grows: the largest so far
    return Measured(wall, cpu, peak[0], after.ru_maxrss * 1024, proc.returncode,
                    err.decode("utf-8", "replace"))


def gcc_floor(tree: QemuTree, files: List[Path], jobs: int, stub_dir: Path) -> Tuple[float, float, int]:
    """Wall and CPU time of preprocessing every file the way lifecheck does,
    and how many files failed."""
    pre = Preprocessor(tree, stub_dir)
    failed = [0]

    def one(path: Path) -> None:
        try:
            pre.run(path)
        except PreprocessError:
            failed[0] += 1
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, files))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), failed[0]


def hardlink_copy(src: Path, dst: Path) -> str:
    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
        return "hard links"
    except OSError:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)
        return "a full copy (hard links not possible)"


def uptime() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return "load average " + " ".join(fh.read().split()[:3])
    except OSError:
        return "load average unknown"


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", default=["hw"], help="paths inside the tree (default: hw)")
    ap.add_argument("--root", required=True, help="the QEMU tree")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--edit", default=None,
                    help="file (relative to the root) changed for the single-file step "
                         "(default: hw/misc/edu.c if checked, else the first file)")
    ap.add_argument("--against", default=None, metavar="REV",
                    help="also compare cold runs with a snapshot of this git revision (see --pairs)")
    ap.add_argument("--pairs", type=int, default=3,
                    help="with --against: alternated pairs of cold runs (default: 3)")
    ap.add_argument("--lifecheck", default=None,
                    help="command to run lifecheck (default: this Python with -m lifecheck, from a "
                         "snapshot of this checkout taken at the start)")
    args = ap.parse_args(argv)
    if args.against:
        # checked before the long runs, not after them
        try:
            subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", args.against + "^{commit}"],
                           capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            print(f"--against {args.against}: not a revision of the repository at {REPO}", file=sys.stderr)
            return 2
        if args.pairs < 1:
            print("--pairs must be at least 1", file=sys.stderr)
            return 2

    src_root = Path(args.root).resolve()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = uptime()
    work = Path(tempfile.mkdtemp(prefix="lifecheck-bench-"))
    try:
        tree_copy = work / "tree"
        how = hardlink_copy(src_root, tree_copy)
        tree = QemuTree.open(tree_copy)
        fileset = collect_files(tree, [tree_copy / p for p in args.paths])
        files = fileset.files
        rels = [tree.relative(f) for f in files]
        if not files:
            print("no .c files under the given paths", file=sys.stderr)
            return 2
        edit = args.edit or ("hw/misc/edu.c" if "hw/misc/edu.c" in rels else rels[0])

        print(f"# lifecheck benchmark: {len(files)} files of {src_root} ({' '.join(args.paths)}), "
              f"-j {args.jobs}", flush=True)
        gcc_wall, gcc_cpu, gcc_failed = gcc_floor(tree, files, args.jobs, work / "gcc-stubs")
        print(f"gcc -E alone: {gcc_wall:.1f} s", flush=True)

        cache_dir = work / "cache"
        # run a snapshot of the code: editing the checkout during a long
        # benchmark must not change the tool hash between cold and warm
        src = work / "src"
        shutil.copytree(REPO / "lifecheck", src / "lifecheck",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "rules", src / "rules")
        env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache_dir), PYTHONPATH=str(src))
        base = args.lifecheck.split() if args.lifecheck else [sys.executable, "-m", "lifecheck"]
        whole = base + ["check", "--root", str(tree_copy), "-j", str(args.jobs), "--stats", "-q",
                        *[str(tree_copy / p) for p in args.paths]]
        rows = []
        cold = measure(whole, env, tree_copy)
        print(f"cold: {cold.wall:.1f} s", flush=True)
        warm = measure(whole, env, tree_copy)
        print(f"warm: {warm.wall:.1f} s", flush=True)
        # one file changed: replace its hard link by an edited copy
        target = tree_copy / edit
        text = target.read_bytes()
        target.unlink()
        target.write_bytes(text + b"\n/* edited by lifecheck's benchmark */\n")
        single = base + ["check", "--root", str(tree_copy), "-j", str(args.jobs), "-q", str(target)]
        changed = measure(single, env, tree_copy)
        unchanged = measure(single, env, tree_copy)
        m = re.search(r"(\d+) files, (\d+) function definitions found, (\d+) recovered \(([\d.]+)%\)",
                      cold.stderr)
        recovery = f"{m.group(3)}/{m.group(2)} functions ({m.group(4)}%)" if m else "not reported"
        for name, r in (("lifecheck cold (empty cache)", cold), ("lifecheck warm, nothing changed", warm),
                        (f"`lifecheck check {edit}`, file changed, cache warm", changed),
                        (f"`lifecheck check {edit}`, nothing changed", unchanged)):
            rows.append((name, r))
            if r.rc not in (0, 1):
                print(f"warning: {name} exited {r.rc}: {r.stderr.strip()[-500:]}", file=sys.stderr)
        load_after = uptime()

        print()
        print(f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}: "
              f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{_gcc_version()}; {load_before} before, {load_after} after.")
        print(f"Tree: {src_root} (copied with {how}); {len(files)} files; -j {args.jobs}.")
        print(f"Recovery (cold run's --stats): {recovery}.")
        steps = re.findall(r"(\w+) ([\d.]+) s \(CPU ([\d.]+) s\)",
                           next((line for line in cold.stderr.splitlines() if "lifecheck: time:" in line), ""))
        if steps:
            # the steps of the cold run, as its --stats gives them: the rule
            # phase alone, without the parsing whose time the machine's
            # load moves most
            print("Cold run by step (its --stats), wall (CPU): "
                  + ", ".join(f"{name} {wall} s ({cpu} s)" for name, wall, cpu in steps) + ".")
        print()
        print("| step | wall | CPU (user+sys, whole tree) | peak RSS, process tree | largest single process | wall / gcc -E |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| gcc -E alone ({gcc_failed} files failed) | {gcc_wall:.1f} s | {gcc_cpu:.1f} s | | | 1.00 |")
        for name, r in rows:
            print(f"| {name} | {r.wall:.2f} s | {r.cpu:.1f} s | {_mb(r.peak_tree)} | {_mb(r.max_single)} "
                  f"| {r.wall / gcc_wall:.2f} |")
        print()
        print("(largest single process: ru_maxrss of all children so far, so it never goes down "
              "from one row to the next)")
        if args.against:
            other = work / "src-against"
            snapshot(args.against, other)
            other_env = dict(os.environ, PYTHONPATH=str(other))
            runs = []
            for i in range(args.pairs):
                pair = {}
                order = [("against", other_env), ("this", env)]
                for label, run_env in (order if i % 2 == 0 else order[::-1]):
                    run_env = dict(run_env, LIFECHECK_CACHE_DIR=str(work / f"cache-{label}-{i}"))
                    got = measure(whole, run_env, tree_copy)
                    if got.rc not in (0, 1):
                        print(f"warning: {label} exited {got.rc}: {got.stderr.strip()[-500:]}", file=sys.stderr)
                    pair[label] = (got.wall, got.cpu)
                    print(f"pair {i + 1}, {args.against if label == 'against' else 'this checkout'}: "
                          f"{got.wall:.1f} s", flush=True)
                runs.append((pair["against"], pair["this"]))
            print()
            print(f"Cold runs of {args.against} and of this checkout, {args.pairs} alternated pairs:")
            print()
            print(compare_pairs(runs, args.against))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def snapshot(rev: str, dst: Path) -> None:
    """lifecheck/ and rules/ of git revision ``rev`` of this repository,
    written under ``dst`` (``git archive``)."""
    dst.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "lifecheck", "rules"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dst)], input=archive, check=True)


def _pct(new: float, old: float) -> float:
    return (new / old - 1) * 100 if old else 0.0


def compare_pairs(runs: List[Tuple[Tuple[float, float], Tuple[float, float]]], label: str) -> str:
    """A Markdown table of pairs of cold runs ((wall, CPU) of ``label``,
    (wall, CPU) of this checkout), with the median of the per-pair
    differences and the difference of the sums."""
    lines = [f"| pair | {label}: wall / CPU | this checkout: wall / CPU | wall | CPU |",
             "|---:|---:|---:|---:|---:|"]
    walls, cpus = [], []
    for i, ((ow, oc), (nw, nc)) in enumerate(runs, 1):
        walls.append(_pct(nw, ow))
        cpus.append(_pct(nc, oc))
        lines.append(f"| {i} | {ow:.1f} s / {oc:.1f} s | {nw:.1f} s / {nc:.1f} s "
                     f"| {walls[-1]:+.1f}% | {cpus[-1]:+.1f}% |")
    sums = [sum(r[k][j] for r in runs) for k in (0, 1) for j in (0, 1)]
    lines.append("")
    lines.append(f"Median of the pairs: wall {statistics.median(walls):+.1f}%, CPU {statistics.median(cpus):+.1f}%; "
                 f"sums: wall {_pct(sums[2], sums[0]):+.1f}%, CPU {_pct(sums[3], sums[1]):+.1f}%.")
    return "\n".join(lines)


def _gcc_version() -> str:
    try:
        out = subprocess.run(["gcc", "--version"], capture_output=True, text=True, timeout=30).stdout
        return out.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "gcc unknown"


if __name__ == "__main__":
    sys.exit(main())
