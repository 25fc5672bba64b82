"""Run ``lifecheck`` and print when its workers were busy and where the
CPU of each file went.

    cd /root/qemu-src/qemu-10.2.2
    python /path/to/scripts/worker_timeline.py check --no-cache -q hw/ -j2 --format json -o /tmp/hw.json

The workers are forked from this process, so the timers put around
``analysis._analyse_one`` (one file in a worker: its CPU, its gcc's CPU,
start and end) here are theirs too; each worker appends one line per file
to a log.  Around ``analysis._build`` and ``run_rules`` the main process
notes wall times.  Printed on standard error: per worker the first start,
the last end, the time busy in files and the time between them; the CPU
per file (Python, gcc); the build and the rules, in seconds from the start
of ``main``.  The interpreter's teardown is not skipped here (``cli.entry``
skips it), so the process lives longer than ``main``.
"""
from __future__ import annotations

import collections
import os
import resource
import sys
import tempfile
import time

from lifecheck import analysis, cli

LOG = os.path.join(tempfile.mkdtemp(prefix="lifecheck-timeline-"), "files.log")


def _cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


_ORIGINAL_ONE = analysis._analyse_one


def timed_one(path):
    """``analysis._analyse_one`` with a line in the log (module level: the
    process pool sends it to the workers by name)."""
    start, (py, gcc) = time.time(), _cpu()
    result = _ORIGINAL_ONE(path)
    py2, gcc2 = _cpu()
    with open(LOG, "a") as log:
        log.write(f"{os.getpid()} {start:.3f} {time.time():.3f} {py2 - py:.4f} {gcc2 - gcc:.4f}\n")
    return result


def _wrap_main(original, label, t0):
    def wrapped(*args, **kwds):
        start = time.time()
        try:
            return original(*args, **kwds)
        finally:
            print(f"{label:6s} {start - t0:7.2f} -> {time.time() - t0:7.2f} s", file=sys.stderr)
    return wrapped


def main() -> int:
    t0 = time.time()
    analysis._analyse_one = timed_one
    analysis._build = _wrap_main(analysis._build, "build", t0)
    analysis.run_rules = _wrap_main(analysis.run_rules, "rules", t0)
    try:
        return cli.main(sys.argv[1:])
    finally:
        print(f"main   ends at {time.time() - t0:7.2f} s", file=sys.stderr)
        rows = [line.split() for line in open(LOG)] if os.path.exists(LOG) else []
        per = collections.defaultdict(list)
        for pid, start, end, py, gcc in rows:
            per[pid].append((float(start) - t0, float(end) - t0, float(py), float(gcc)))
        for pid, files in sorted(per.items()):
            files.sort()
            busy = sum(e - s for s, e, _, _ in files)
            gaps = sum(max(0.0, files[i + 1][0] - files[i][1]) for i in range(len(files) - 1))
            print(f"worker {pid}: {len(files)} files, {files[0][0]:.2f} -> {files[-1][1]:.2f} s, "
                  f"busy {busy:.1f} s, between files {gaps:.1f} s", file=sys.stderr)
        if rows:
            n = len(rows)
            print(f"per file: Python {sum(float(r[3]) for r in rows) * 1000 / n:.1f} ms, "
                  f"gcc {sum(float(r[4]) for r in rows) * 1000 / n:.1f} ms CPU ({n} files)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
